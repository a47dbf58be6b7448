import { type FunctionId, type QueueId, type TableId, tableIds } from '@qunfa/resources';
import { recordOf } from './records';

// Physical names on the local stack. The CDK lets CloudFormation name things on AWS; locally
// a fixed `qunfa-<stage>-<id>` keeps the data folder readable and the admin CLI simple.

export const localAccountId = '000000000000';

export function localTableName({ stage, id }: { stage: string; id: TableId }): string {
  return `qunfa-${stage}-${id}`;
}

export function localTableNames(stage: string): Record<TableId, string> {
  return recordOf(tableIds, (id) => localTableName({ stage, id }));
}

export function localQueueName({ stage, id }: { stage: string; id: QueueId }): string {
  return `qunfa-${stage}-${id}`;
}

export function localDeadLetterQueueName({ stage, id }: { stage: string; id: QueueId }): string {
  return `qunfa-${stage}-${id}-dlq`;
}

export function localFunctionName({ stage, id }: { stage: string; id: FunctionId | string }): string {
  return `qunfa-${stage}-${id}`;
}
