import {
  type Access,
  type FunctionId,
  functionIds,
  functions,
  queueConsumedBy,
  queueIds,
  tableIds,
} from '@qunfa/resources';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  functionPermissions,
  functionRoleLogicalId,
  type Permission,
  rolePermissions,
  type Synthesized,
  synth,
} from './support';

// Least privilege, checked resource by resource: every action a function's role allows is
// one its model entry calls for (tables with their access, queues it sends to or consumes,
// the schedule group when it manages schedules), and nothing else is allowed at all.

const tableRead = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:Query',
  'dynamodb:Scan',
];
const tableWrite = [
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:DescribeTable',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
];
const queueSend = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
const queueConsume = [
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
  'sqs:ReceiveMessage',
];
const scheduleActions = [
  'scheduler:CreateSchedule',
  'scheduler:DeleteSchedule',
  'scheduler:GetSchedule',
  'scheduler:UpdateSchedule',
];

const sorted = (actions: Iterable<string>): string[] => [...new Set(actions)].sort();

function tableActions(access: Access | undefined): string[] {
  if (access === undefined) return [];
  return sorted([
    ...(access === 'read' || access === 'readWrite' ? tableRead : []),
    ...(access === 'write' || access === 'readWrite' ? tableWrite : []),
  ]);
}

/** Actions allowed on a table, counting its indexes (`table:x/index/*`) as the table. */
function actionsOnTable(permissions: Permission[], tableId: string): string[] {
  return sorted(
    permissions
      .filter((p) => p.resource === `table:${tableId}` || p.resource === `table:${tableId}/index/*`)
      .map((p) => p.action),
  );
}

function actionsOn(permissions: Permission[], resource: string): string[] {
  return sorted(permissions.filter((p) => p.resource === resource).map((p) => p.action));
}

function schedulerRoleLogicalId({ statelessJson }: Synthesized): string {
  const roles = Object.entries(statelessJson.Resources).filter(
    ([, resource]) =>
      resource.Type === 'AWS::IAM::Role' &&
      JSON.stringify(resource.Properties).includes('scheduler.amazonaws.com'),
  );
  expect(roles).toHaveLength(1);
  const [role] = roles;
  if (!role) throw new Error('no scheduler role');
  return role[0];
}

const scheduleArn = (stage: string): string =>
  `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/qunfa-${stage}/*`;

describe('function permissions', () => {
  describe.each(functionIds)('the %s function', (functionId: FunctionId) => {
    const definition = functions[functionId];
    const consumed = queueConsumedBy(functionId)?.id;

    it.each(tableIds)('has exactly its model access to the %s table', (tableId) => {
      const permissions = functionPermissions(synth('dev'), functionId);

      expect(actionsOnTable(permissions, tableId)).toEqual(tableActions(definition.tables[tableId]));
    });

    it.each(queueIds)(
      'sends to the %s queue only if the model says so, and consumes only its own queue',
      (queueId) => {
        const permissions = functionPermissions(synth('dev'), functionId);

        expect(actionsOn(permissions, `queue:${queueId}`)).toEqual(
          sorted([
            ...(definition.sendsTo.includes(queueId) ? queueSend : []),
            ...(consumed === queueId ? queueConsume : []),
          ]),
        );
        expect(actionsOn(permissions, `dlq:${queueId}`)).toEqual([]);
      },
    );

    it(definition.schedules ? 'manages schedules of its stage group only' : 'cannot touch schedules', () => {
      const permissions = functionPermissions(synth('dev'), functionId);
      const scheduling = permissions.filter((p) => p.action.startsWith('scheduler:'));

      expect(sorted(scheduling.map((p) => p.action))).toEqual(definition.schedules ? scheduleActions : []);
      for (const permission of scheduling) expect(permission.resource).toBe(scheduleArn('dev'));
    });

    it(
      definition.schedules ? 'passes the scheduler role, to the scheduler only' : 'cannot pass any role',
      () => {
        const dev = synth('dev');
        const passRole = functionPermissions(dev, functionId).filter((p) => p.action === 'iam:PassRole');

        expect(passRole).toEqual(
          definition.schedules
            ? [
                {
                  action: 'iam:PassRole',
                  resource: `resource:${schedulerRoleLogicalId(dev)}`,
                  condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
                },
              ]
            : [],
        );
      },
    );

    it('is allowed nothing beyond its tables, queues and schedules', () => {
      const dev = synth('dev');
      const schedulerRole = `resource:${schedulerRoleLogicalId(dev)}`;

      const unexpected = functionPermissions(dev, functionId).filter(
        (p) =>
          !/^table:[a-z]+(\/index\/\*)?$/.test(p.resource) &&
          !/^queue:[a-z]+$/.test(p.resource) &&
          p.resource !== scheduleArn('dev') &&
          p.resource !== schedulerRole,
      );

      expect(unexpected).toEqual([]);
    });

    it('logs through the basic execution role and no other managed policy', () => {
      const dev = synth('dev');
      const role = dev.statelessJson.Resources[functionRoleLogicalId(dev, functionId)];

      expect(role?.Type).toBe('AWS::IAM::Role');
      expect(JSON.stringify(role?.Properties?.ManagedPolicyArns)).toMatch(
        /^\[\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole"\]\]\}\]$/,
      );
    });
  });

  describe('concrete cases', () => {
    it('lets callbacks read tenants and write callback ids to metrics, nothing else in DynamoDB', () => {
      const permissions = functionPermissions(synth('dev'), 'callbacks');

      expect(actionsOnTable(permissions, 'members')).toEqual([]);
      expect(actionsOnTable(permissions, 'messages')).toEqual([]);
      expect(actionsOnTable(permissions, 'tenants')).toContain('dynamodb:GetItem');
      expect(actionsOnTable(permissions, 'tenants')).not.toContain('dynamodb:PutItem');
      expect(actionsOnTable(permissions, 'metrics')).toContain('dynamodb:PutItem');
      expect(actionsOnTable(permissions, 'metrics')).not.toContain('dynamodb:GetItem');
    });

    it('does not let receipts send to the send queue', () => {
      const permissions = functionPermissions(synth('dev'), 'receipts');

      expect(actionsOn(permissions, 'queue:send')).not.toContain('sqs:SendMessage');
      expect(permissions.filter((p) => p.action === 'sqs:SendMessage')).toEqual([]);
    });

    it('lets the sender write opt-outs and message records but only read members', () => {
      const permissions = functionPermissions(synth('dev'), 'sender');

      expect(actionsOnTable(permissions, 'suppressions')).toContain('dynamodb:PutItem');
      expect(actionsOnTable(permissions, 'messages')).toContain('dynamodb:UpdateItem');
      expect(actionsOnTable(permissions, 'members')).not.toContain('dynamodb:UpdateItem');
    });

    it('gives scheduler actions and PassRole to planner, segmenter and sender only', () => {
      const dev = synth('dev');
      const scheduling = functionIds.filter((id) =>
        functionPermissions(dev, id).some(
          (p) => p.action.startsWith('scheduler:') || p.action === 'iam:PassRole',
        ),
      );

      expect(scheduling).toEqual(['planner', 'segmenter', 'sender']);
    });
  });
});

describe('EventBridge Scheduler', () => {
  it('names the schedule group after the model and the stage', () => {
    synth('dev').stateless.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'qunfa-dev' });
    synth('prod').stateless.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'qunfa-prod' });
  });

  it('keeps the prod schedule group (and its schedules) when the stack is deleted', () => {
    synth('prod').stateless.allResources('AWS::Scheduler::ScheduleGroup', { DeletionPolicy: 'Retain' });
  });

  it('lets only the scheduler, for this account and group, assume its role', () => {
    const dev = synth('dev');
    const role = dev.statelessJson.Resources[schedulerRoleLogicalId(dev)];
    const [groupId] = Object.keys(dev.stateless.findResources('AWS::Scheduler::ScheduleGroup'));

    expect(role?.Properties?.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [groupId, 'Arn'] } },
          },
        },
      ],
    });
  });

  it('allows the scheduler role sqs:SendMessage on the start queue and nothing else', () => {
    const dev = synth('dev');

    expect(rolePermissions(dev, schedulerRoleLogicalId(dev))).toEqual([
      { action: 'sqs:SendMessage', resource: 'queue:start' },
    ]);
    const role = z
      .looseObject({ ManagedPolicyArns: z.unknown().optional() })
      .parse(dev.statelessJson.Resources[schedulerRoleLogicalId(dev)]?.Properties);
    expect(role.ManagedPolicyArns).toBeUndefined();
  });
});
