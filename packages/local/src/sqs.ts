import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  type QueueAttributeName,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type QueueDefinition, type QueueId, queueIds, queues } from '@qunfa/resources';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { isAddressInUse, PortInUseError } from './errors';
import type { ComponentHealth } from './health';
import { localDeadLetterQueueName, localQueueName } from './names';
import { recordOfAsync } from './records';

// SQS emulated in-process by fauxqs, so the production SQS client code runs unchanged. The
// queues and their dead-letter queues are created from the resource model.

export interface LocalQueueAddress {
  readonly name: string;
  /** http://127.0.0.1:<port>/000000000000/<name>: resolvable, and the same origin as the endpoint. */
  readonly url: string;
  readonly arn: string;
}

export interface LocalQueue extends LocalQueueAddress {
  readonly id: QueueId;
  readonly deadLetter: LocalQueueAddress;
}

export interface LocalSqs {
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  /** A client on the emulator for the stack's own use (pollers, health, tests). */
  readonly client: SQSClient;
  readonly server: FauxqsServer;
  health(): Promise<ComponentHealth>;
  stop(): Promise<void>;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export async function startLocalSqs({
  port = 0,
  dataDir,
  region = 'us-east-1',
}: {
  /** 0: a free port. */
  port?: number | undefined;
  /** Folder for fauxqs' SQLite file; undefined keeps messages in memory. */
  dataDir?: string | undefined;
  region?: string;
} = {}): Promise<LocalSqs> {
  if (dataDir) await mkdir(resolve(dataDir), { recursive: true });
  let server: FauxqsServer;
  try {
    server = await startFauxqs({
      port,
      logger: false,
      defaultRegion: region,
      ...(dataDir ? { dataDir: resolve(dataDir) } : {}),
    });
  } catch (error) {
    if (isAddressInUse(error)) throw new PortInUseError({ port, component: 'sqs' });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = createSqsClient({ endpoint, region });
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port: server.port,
    region,
    client,
    server,
    async health() {
      try {
        // Through the real API, as the handlers reach it, not through fauxqs internals.
        const { QueueUrls = [] } = await client.send(new ListQueuesCommand({}));
        return { ok: true, url: endpoint, detail: { queues: QueueUrls.length } };
      } catch (error) {
        return { ok: false, url: endpoint, detail: error instanceof Error ? error.message : String(error) };
      }
    },
    stop() {
      stopped ??= (async () => {
        client.destroy();
        await server.stop();
      })();
      return stopped;
    },
  };
}

export function createSqsClient({ endpoint, region }: { endpoint: string; region: string }): SQSClient {
  return new SQSClient({ endpoint, region, credentials, maxAttempts: 2 });
}

/**
 * Creates a queue and its dead-letter queue (or brings existing ones, e.g. persisted from
 * an earlier run, to the definition's settings): visibility timeout, retention and the
 * redrive policy with maxReceiveCount.
 */
export async function ensureQueue({
  client,
  endpoint,
  name,
  deadLetterName,
  definition,
}: {
  client: SQSClient;
  endpoint: string;
  name: string;
  deadLetterName: string;
  definition: Pick<QueueDefinition, 'visibilityTimeoutSeconds' | 'retentionSeconds' | 'deadLetter'>;
}): Promise<LocalQueueAddress & { readonly deadLetter: LocalQueueAddress }> {
  const deadLetter = await ensureOne({
    client,
    endpoint,
    name: deadLetterName,
    attributes: { MessageRetentionPeriod: String(definition.deadLetter.retentionSeconds) },
  });
  const queue = await ensureOne({
    client,
    endpoint,
    name,
    attributes: {
      VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(definition.retentionSeconds),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: deadLetter.arn,
        maxReceiveCount: definition.deadLetter.maxReceiveCount,
      }),
    },
  });
  return { ...queue, deadLetter };
}

/** Every model queue, named `qunfa-<stage>-<id>`, with its `qunfa-<stage>-<id>-dlq`. */
export async function ensureQueues({
  client,
  endpoint,
  stage,
}: {
  client: SQSClient;
  endpoint: string;
  stage: string;
}): Promise<Record<QueueId, LocalQueue>> {
  return recordOfAsync(queueIds, async (id) => ({
    id,
    ...(await ensureQueue({
      client,
      endpoint,
      name: localQueueName({ stage, id }),
      deadLetterName: localDeadLetterQueueName({ stage, id }),
      definition: queues[id],
    })),
  }));
}

async function ensureOne({
  client,
  endpoint,
  name,
  attributes,
}: {
  client: SQSClient;
  endpoint: string;
  name: string;
  attributes: Partial<Record<QueueAttributeName, string>>;
}): Promise<LocalQueueAddress> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`CreateQueue returned no URL for ${name}.`);
  // fauxqs answers http://sqs.<region>.localhost:<port>/..., a host that does not resolve on
  // every machine; the SDK sends to the QueueUrl's host unless the client has an explicit
  // endpoint, and the handlers' clients get theirs from AWS_ENDPOINT_URL_SQS only. Same path,
  // the endpoint's origin.
  const url = new URL(new URL(QueueUrl).pathname, endpoint).toString();
  await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes returned no ARN for ${name}.`);
  return { name, url, arn };
}
