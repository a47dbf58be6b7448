import middy from '@middy/core';
import { problemsOf } from '@qunfa/domain';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod';
import type { QunfaLogger } from '../logging/logger';

export type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The convention for every queue consumer: each record's body is parsed with the queue's
 * schema, processed, and reported as a batch item failure when either step fails. A failed
 * record is retried after the visibility timeout and reaches the DLQ (and its alarm) after
 * maxReceiveCount: nothing is dropped, not even a malformed message.
 */
export function createQueueHandler<T>({
  schema,
  logger,
  process,
  marginMs = 0,
}: {
  schema: z.ZodType<T>;
  logger: QunfaLogger;
  process: (message: T, record: SQSRecord) => Promise<void>;
  /**
   * Records not begun while less than this is left of the invocation's time are handed back
   * unprocessed (as batch item failures), so that the invocation ends before its timeout
   * instead of failing every record, the finished ones included. 0: every record is begun.
   */
  marginMs?: number;
}): QueueHandler {
  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const [index, record] of event.Records.entries()) {
      if (marginMs > 0 && context.getRemainingTimeInMillis() < marginMs) {
        const left = event.Records.slice(index);
        logger.info('out of time: records handed back unprocessed', { count: left.length });
        batchItemFailures.push(...left.map(({ messageId }) => ({ itemIdentifier: messageId })));
        break;
      }
      try {
        const body = parseBody(record.body);
        const parsed = schema.safeParse(body);
        if (!parsed.success) {
          logger.error('malformed queue message', {
            messageId: record.messageId,
            problems: problemsOf(parsed.error, 'body'),
          });
          batchItemFailures.push({ itemIdentifier: record.messageId });
          continue;
        }
        await process(parsed.data, record);
      } catch (error) {
        logger.error('queue message failed', {
          messageId: record.messageId,
          receiveCount: record.attributes.ApproximateReceiveCount,
          error,
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
  return middy<SQSEvent, SQSBatchResponse>()
    .before(async (request) => logger.addContext(request.context))
    .handler(handle);
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
