import { GetQueueUrlCommand, QueueDoesNotExist, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

// How a fired schedule reaches its target: EventBridge Scheduler's SQS target takes the
// queue's ARN; the local stack finds its URL with GetQueueUrl on the configured SQS endpoint
// and sends the Input as the message body, as the service does.

export interface SqsTargetOptions {
  readonly endpoint: string;
  readonly region: string;
}

export interface SqsDelivery {
  readonly arn: string;
  readonly body: string;
  readonly messageGroupId?: string | undefined;
}

export interface SqsTarget {
  /** Sends one message; resolves to the SQS MessageId. */
  send(delivery: SqsDelivery): Promise<string>;
  close(): void;
}

export class UnsupportedTargetError extends Error {
  constructor(arn: string) {
    super(
      `Target ${arn} is not an SQS queue ARN (arn:aws:sqs:region:account:name); the local scheduler sends to SQS only.`,
    );
    this.name = 'UnsupportedTargetError';
  }
}

export interface QueueArn {
  readonly region: string;
  readonly accountId: string;
  readonly name: string;
}

export function parseQueueArn(arn: string): QueueArn | undefined {
  const match = /^arn:aws[\w-]*:sqs:([\w-]+):(\d{12}):([\w-]{1,80}(?:\.fifo)?)$/.exec(arn);
  if (!match) return undefined;
  const [, region = '', accountId = '', name = ''] = match;
  return { region, accountId, name };
}

export function createSqsTarget({ endpoint, region }: SqsTargetOptions): SqsTarget {
  const clients = new Map<string, SQSClient>();
  const urls = new Map<string, string>();
  // One client per region: the emulator answers GetQueueUrl for the region the request is signed for.
  const clientFor = (queueRegion: string): SQSClient => {
    let client = clients.get(queueRegion);
    if (!client) {
      client = new SQSClient({
        endpoint,
        region: queueRegion || region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 2,
      });
      clients.set(queueRegion, client);
    }
    return client;
  };
  return {
    async send({ arn, body, messageGroupId }) {
      const queue = parseQueueArn(arn);
      if (!queue) throw new UnsupportedTargetError(arn);
      const client = clientFor(queue.region);
      let url = urls.get(arn);
      if (!url) {
        const found = await client.send(
          new GetQueueUrlCommand({ QueueName: queue.name, QueueOwnerAWSAccountId: queue.accountId }),
        );
        if (!found.QueueUrl) throw new Error(`GetQueueUrl gave no URL for ${arn}.`);
        url = found.QueueUrl;
        urls.set(arn, url);
      }
      try {
        const sent = await client.send(
          new SendMessageCommand({
            QueueUrl: url,
            MessageBody: body,
            ...(messageGroupId ? { MessageGroupId: messageGroupId } : {}),
          }),
        );
        return sent.MessageId ?? '';
      } catch (error) {
        // The queue may have been deleted and created again under a new URL.
        if (error instanceof QueueDoesNotExist) urls.delete(arn);
        throw error;
      }
    },
    close() {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  };
}
