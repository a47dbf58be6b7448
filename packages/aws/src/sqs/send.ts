import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type * as z from 'zod';

/** One SQS client per cold start; the endpoint comes from AWS_ENDPOINT_URL_SQS on the local stack. */
export function createSqsClient(): SQSClient {
  return new SQSClient({ maxAttempts: 3 });
}

/**
 * A typed sender for one queue: the message is checked against the queue's schema before it
 * leaves, so a consumer never receives what it cannot parse.
 */
export function queueSender<T>({
  client,
  queueUrl,
  schema,
}: {
  client: SQSClient;
  queueUrl: string;
  schema: z.ZodType<T>;
}): (message: T) => Promise<void> {
  return async (message) => {
    const body = schema.parse(message);
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
  };
}

/**
 * Sends many messages to one queue with SendMessageBatch, ten per request, checking each
 * against the schema first. Entries SQS refuses are sent again (a few times); if some still
 * fail, it throws, so the caller's batch is retried rather than a message silently dropped.
 */
export function queueBatchSender<T>({
  client,
  queueUrl,
  schema,
}: {
  client: SQSClient;
  queueUrl: string;
  schema: z.ZodType<T>;
}): (messages: readonly T[]) => Promise<void> {
  return async (messages) => {
    const bodies = messages.map((message) => JSON.stringify(schema.parse(message)));
    for (let start = 0; start < bodies.length; start += 10) {
      let entries = bodies.slice(start, start + 10).map((body, i) => ({ Id: String(i), MessageBody: body }));
      for (let attempt = 0; entries.length > 0; attempt++) {
        if (attempt === 4) throw new Error(`SQS refused ${entries.length} messages four times.`);
        const { Failed } = await client.send(
          new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
        );
        const failed = new Set((Failed ?? []).map((entry) => entry.Id));
        entries = entries.filter((entry) => failed.has(entry.Id));
      }
    }
  };
}
