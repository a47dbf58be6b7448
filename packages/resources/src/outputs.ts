// The names under which a deployed stage publishes its endpoints (CloudFormation outputs of
// the CDK stacks), so the admin CLI finds the API, tables and queues of `qunfa-<stage>-*`.

import type { QueueId, TableId } from './index';

const capitalized = (id: string): string => id.charAt(0).toUpperCase() + id.slice(1);

export const stackOutputs = {
  /** Stack names per stage: tables live in the stateful stack, everything else in the stateless one. */
  stackName: (stage: string, kind: 'stateful' | 'stateless'): string => `qunfa-${stage}-${kind}`,
  apiUrl: 'ApiUrl',
  tableName: (id: TableId): string => `TableName${capitalized(id)}`,
  queueUrl: (id: QueueId): string => `QueueUrl${capitalized(id)}`,
} as const;
