// Tags that name the resource-model id a resource was built from. CloudFormation logical ids
// are CDK's business; these tags are how tests (and an operator in the console) map a table,
// queue or function back to its entry in `@qunfa/resources`.

export const modelTag = {
  table: 'qunfa:table',
  queue: 'qunfa:queue',
  deadLetterQueue: 'qunfa:dlq',
  function: 'qunfa:function',
} as const;
