import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
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
