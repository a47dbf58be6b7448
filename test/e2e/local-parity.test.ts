import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createSqsClient, type LocalStack, startLocalStack } from '@qunfa/local';
import { type FunctionId, functionIds, queueIds, tableIds } from '@qunfa/resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { synth } from '../infra/support';
import {
  describeTemplate,
  type KeyDescription,
  type QueueDescription,
  type TableDescription,
  type TemplateDescription,
} from '../support/cdk-model';

// The resource model is read twice: by the CDK stacks and by the local stack. This test reads
// back what each really made (the synthesized templates; DescribeTable, GetQueueAttributes and
// the running pollers) and fails on any difference, so the two cannot drift.

let dataDir: string;
let stack: LocalStack;
let sqs: SQSClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'qunfa-parity-'));
  stack = await startLocalStack({
    dataDir,
    ports: { api: 0, dynamodb: 0, sqs: 0, scheduler: 0, simulator: 0 },
    logLevel: 'WARN',
    // The model's concurrency, uncapped: the cap `npm start` puts on it by the machine's
    // cores (docs/local-fidelity.md) is checked in test/e2e/local-stack.test.ts.
    pollerConcurrency: Number.POSITIVE_INFINITY,
  });
  sqs = createSqsClient({ endpoint: stack.components.sqs.endpoint, region: 'us-east-1' });
});

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function describeLocalTable(tableName: string): Promise<TableDescription> {
  const client = stack.components.dynamodb.client;
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const typeOf = (name: string): KeyDescription['type'] => {
    const type = Table?.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
    return z.enum(['S', 'N']).parse(type);
  };
  const keys = (schema: KeySchemaElement[] = []): Pick<TableDescription, 'partitionKey' | 'sortKey'> => {
    const hash = z.string().parse(schema.find((k) => k.KeyType === 'HASH')?.AttributeName);
    const range = schema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
    return {
      partitionKey: { name: hash, type: typeOf(hash) },
      ...(range ? { sortKey: { name: range, type: typeOf(range) } } : {}),
    };
  };
  const ttl =
    TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED' ? TimeToLiveDescription.AttributeName : undefined;
  return {
    ...keys(Table?.KeySchema),
    indexes: (Table?.GlobalSecondaryIndexes ?? [])
      .map((index) => ({
        name: z.string().parse(index.IndexName),
        ...keys(index.KeySchema),
        projection: index.Projection?.ProjectionType === 'ALL' ? ('all' as const) : ('keys' as const),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    ...(ttl ? { ttl } : {}),
  };
}

async function queueAttributes(url: string): Promise<Record<string, string>> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
  );
  return Attributes ?? {};
}

const redrivePolicy = z.object({ deadLetterTargetArn: z.string(), maxReceiveCount: z.coerce.number() });

async function describeLocalQueue(id: (typeof queueIds)[number]): Promise<QueueDescription> {
  const queue = stack.queues[id];
  const attributes = await queueAttributes(queue.url);
  const dlq = await queueAttributes(queue.deadLetter.url);
  const redrive = redrivePolicy.parse(JSON.parse(z.string().parse(attributes.RedrivePolicy)));
  expect(redrive.deadLetterTargetArn).toBe(queue.deadLetter.arn);
  const poller = stack.components.pollers.pollers[id].stats();
  const functionId = functionIds.find((fn): fn is FunctionId => poller.functionName.endsWith(`-${fn}`));
  return {
    visibilityTimeoutSeconds: Number(attributes.VisibilityTimeout),
    retentionSeconds: Number(attributes.MessageRetentionPeriod),
    maxReceiveCount: redrive.maxReceiveCount,
    dlqRetentionSeconds: Number(dlq.MessageRetentionPeriod),
    consumer: {
      functionId: z.enum(functionIds).parse(functionId),
      batchSize: poller.batchSize,
      maxBatchingWindowSeconds: poller.maxBatchingWindowSeconds,
      maxConcurrency: poller.maxConcurrency,
    },
  };
}

describe('the local stack and the CDK stacks', () => {
  let cdk: TemplateDescription;
  beforeAll(() => {
    const { statefulJson, statelessJson } = synth('dev');
    cdk = describeTemplate(statefulJson, statelessJson);
  });

  it.each(tableIds)('create the %s table alike: keys, indexes, projections and TTL', async (id) => {
    expect(await describeLocalTable(stack.tables[id])).toEqual(cdk.tables[id]);
  });

  it.each(queueIds)(
    'create the %s queue alike: visibility, retention, DLQ, receives and its consumer',
    async (id) => {
      expect(await describeLocalQueue(id)).toEqual(cdk.queues[id]);
    },
  );
});
