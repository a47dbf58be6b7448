import type * as z from 'zod';
import { SendMessageBatchCommand, SendMessageCommand, SqsClient } from '../wire/sqs';

/** One SQS client per cold start; the endpoint comes from AWS_ENDPOINT_URL_SQS on the local stack. */
export function createSqsClient(): SqsClient {
  return new SqsClient();
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
  client: SqsClient;
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
  client: SqsClient;
  queueUrl: string;
  schema: z.ZodType<T>;
}): (messages: readonly T[]) => Promise<void> {
  return async (messages) => {
    const bodies = messages.map((message) => ({ MessageBody: JSON.stringify(schema.parse(message)) }));
    await sendInBatches({ client, queueUrl, bodies });
  };
}

/**
 * As queueBatchSender, each message after its own delay (SQS DelaySeconds, 0–900 s): for a
 * consumer that puts work back to be looked at later (the sender's holds and retries).
 */
export function queueDelayedBatchSender<T>({
  client,
  queueUrl,
  schema,
}: {
  client: SqsClient;
  queueUrl: string;
  schema: z.ZodType<T>;
}): (messages: readonly { message: T; delaySeconds: number }[]) => Promise<void> {
  return async (messages) => {
    const bodies = messages.map(({ message, delaySeconds }) => {
      if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900) {
        throw new RangeError(`SQS delays a message by 0 to 900 whole seconds, not ${delaySeconds}.`);
      }
      return { MessageBody: JSON.stringify(schema.parse(message)), DelaySeconds: delaySeconds };
    });
    await sendInBatches({ client, queueUrl, bodies });
  };
}

async function sendInBatches({
  client,
  queueUrl,
  bodies,
}: {
  client: SqsClient;
  queueUrl: string;
  bodies: readonly { MessageBody: string; DelaySeconds?: number }[];
}): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    let entries = bodies.slice(start, start + 10).map((body, i) => ({ Id: String(i), ...body }));
    for (let attempt = 0; entries.length > 0; attempt++) {
      if (attempt === 4) throw new Error(`SQS refused ${entries.length} messages four times.`);
      const { Failed } = await client.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
      );
      const failed = new Set((Failed ?? []).map((entry) => entry.Id));
      entries = entries.filter((entry) => failed.has(entry.Id));
    }
  }
}
