import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  campaignStore,
  createDocumentClient,
  type DocumentClient,
  DynamoImportPartStore,
  DynamoRecordStore,
  DynamoRunCounters,
  DynamoRunStore,
  memberDeps,
  templateStore,
} from '@qunfa/aws';
import { importJob, tagJob } from '@qunfa/domain';
import {
  type DynamoDbLocal,
  ensureQueue,
  ensureQueues,
  ensureTables,
  functionEnvironment,
  type LocalQueue,
  type LocalQueueAddress,
  type LocalSqs,
  localTableNames,
  startDynamoDbLocal,
  startLocalSqs,
} from '@qunfa/local';
import type { QueueDefinition, QueueId, TableId } from '@qunfa/resources';

// The real local parts for integration tests: DynamoDB Local (in memory) with every model
// table, and the SQS emulator with every model queue. Start one of each per test file, in
// beforeAll (the JVM takes 2–4 s), and give each test its own keys or queues.
//
//   let aws: LocalAws;
//   beforeAll(async () => { aws = await startLocalAws(); });
//   afterAll(() => aws.stop());

/** Region and dummy credentials of every local client. */
export const localRegion = 'us-east-1';
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalDynamo {
  readonly dynamodb: DynamoDbLocal;
  /** The low-level client (admin calls: DescribeTable, ListTables). */
  readonly client: DynamoDBClient;
  /** A document client configured as the functions configure theirs. */
  readonly documentClient: DocumentClient;
  readonly tableNames: Readonly<Record<TableId, string>>;
  stop(): Promise<void>;
}

/** DynamoDB Local in memory on a free port, with the model's tables, GSIs and TTL. */
export async function startLocalDynamo({ stage = 'test' }: { stage?: string } = {}): Promise<LocalDynamo> {
  const dynamodb = await startDynamoDbLocal({ region: localRegion });
  try {
    const tableNames = localTableNames(stage);
    await ensureTables({ client: dynamodb.client, tableNames });
    // The functions' own client; credentials given, not from env.
    const documentClient = createDocumentClient({
      endpoint: dynamodb.endpoint,
      region: localRegion,
      credentials: localCredentials,
    });
    return {
      dynamodb,
      client: dynamodb.client,
      documentClient,
      tableNames,
      async stop() {
        await dynamodb.stop();
      },
    };
  } catch (error) {
    await dynamodb.stop();
    throw error;
  }
}

export interface LocalQueues {
  readonly sqs: LocalSqs;
  readonly client: SQSClient;
  /** The model's queues and DLQs. */
  readonly queues: Readonly<Record<QueueId, LocalQueue>>;
  /**
   * A fresh queue (and DLQ) with settings of the test's choosing, e.g. a 1 s visibility
   * timeout so redelivery happens within the test.
   */
  createQueue(
    settings?: Partial<Pick<QueueDefinition, 'visibilityTimeoutSeconds' | 'retentionSeconds'>> & {
      maxReceiveCount?: number;
    },
  ): Promise<LocalQueueAddress & { readonly deadLetter: LocalQueueAddress }>;
  stop(): Promise<void>;
}

/** The SQS emulator in this process on a free port, with the model's queues. */
export async function startLocalQueues({ stage = 'test' }: { stage?: string } = {}): Promise<LocalQueues> {
  const sqs = await startLocalSqs({ region: localRegion });
  try {
    const queues = await ensureQueues({ client: sqs.client, endpoint: sqs.endpoint, stage });
    return {
      sqs,
      client: sqs.client,
      queues,
      createQueue: ({ visibilityTimeoutSeconds = 30, retentionSeconds = 3600, maxReceiveCount = 3 } = {}) => {
        const name = `test-${randomBytes(4).toString('hex')}`;
        return ensureQueue({
          client: sqs.client,
          endpoint: sqs.endpoint,
          name,
          deadLetterName: `${name}-dlq`,
          definition: {
            visibilityTimeoutSeconds,
            retentionSeconds,
            deadLetter: { maxReceiveCount, retentionSeconds },
          },
        });
      },
      stop: () => sqs.stop(),
    };
  } catch (error) {
    await sqs.stop();
    throw error;
  }
}

export interface LocalAws extends Omit<LocalDynamo, 'stop' | 'client'>, Omit<LocalQueues, 'stop' | 'client'> {
  readonly dynamodbClient: DynamoDBClient;
  readonly sqsClient: SQSClient;
  /**
   * The environment the functions get on the local stack, for tests that import a handler:
   * apply it to process.env before the import. The scheduler and provider simulator point
   * at a closed port unless the test gives their URLs.
   */
  environment(overrides?: { schedulerUrl?: string; simulatorUrl?: string }): Record<string, string>;
  stop(): Promise<void>;
}

/** Both: DynamoDB Local with the tables and the SQS emulator with the queues. */
export async function startLocalAws({ stage = 'test' }: { stage?: string } = {}): Promise<LocalAws> {
  const [dynamo, queues] = await Promise.allSettled([
    startLocalDynamo({ stage }),
    startLocalQueues({ stage }),
  ]);
  if (dynamo.status === 'rejected' || queues.status === 'rejected') {
    if (dynamo.status === 'fulfilled') await dynamo.value.stop();
    if (queues.status === 'fulfilled') await queues.value.stop();
    throw dynamo.status === 'rejected'
      ? dynamo.reason
      : queues.status === 'rejected'
        ? queues.reason
        : undefined;
  }
  const { client: dynamodbClient, stop: stopDynamo, ...dynamoParts } = dynamo.value;
  const { client: sqsClient, stop: stopQueues, ...queueParts } = queues.value;
  return {
    ...dynamoParts,
    ...queueParts,
    dynamodbClient,
    sqsClient,
    environment: ({ schedulerUrl = 'http://127.0.0.1:9', simulatorUrl = 'http://127.0.0.1:9' } = {}) =>
      functionEnvironment({
        region: localRegion,
        stage,
        logLevel: 'WARN',
        dynamodbEndpoint: dynamoParts.dynamodb.endpoint,
        sqsEndpoint: queueParts.sqs.endpoint,
        schedulerUrl,
        simulatorUrl,
        tables: dynamoParts.tableNames,
        queues: queueParts.queues,
      }),
    async stop() {
      await Promise.all([stopDynamo(), stopQueues()]);
    },
  };
}

/** The member-data stores on DynamoDB Local, as the `api` function builds them (API specs). */
export function memberApiStores(dynamo: LocalDynamo) {
  const client = dynamo.documentClient;
  const tableName = dynamo.tableNames.campaigns;
  return {
    ...memberDeps({ client, config: { table: (id) => dynamo.tableNames[id] } }),
    imports: new DynamoRecordStore({ client, tableName, kind: 'IMPORT', schema: importJob, label: 'Import' }),
    parts: new DynamoImportPartStore({ client, tableName }),
    templates: templateStore({ client, tableName }),
    tagJobs: new DynamoRecordStore({ client, tableName, kind: 'TAGJOB', schema: tagJob, label: 'Tag job' }),
    campaigns: campaignStore({ client, tableName }),
    runs: new DynamoRunStore({ client, tableName }),
    runCounters: new DynamoRunCounters({ client, tableName: dynamo.tableNames.metrics }),
  };
}
