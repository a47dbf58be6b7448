import { createLogger, createQueueHandler } from '@qunfa/aws';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { lambdaContext, loadEvent } from '../../support/events';
import { captureLogOutput, type LogOutput } from '../logging/output';

const cnMobile = '+8613812345678';
const cnHidden = '1381234';

const reminder = z.object({
  tenantId: z.string().min(1),
  phone: z.string().regex(/^\+\d{8,15}$/),
  points: z.number().int().nonnegative(),
});
type Reminder = z.infer<typeof reminder>;

/** The AWS-documented SQS event, with one record per body and message ids m-0, m-1, … */
function sqsEvent(bodies: readonly string[]): SQSEvent {
  const documented = loadEvent<SQSEvent>('sqs', 'two-records');
  const [template] = documented.Records;
  if (!template) throw new Error('the fixture has no record');
  return {
    Records: bodies.map(
      (body, i): SQSRecord => ({
        ...template,
        messageId: `m-${i}`,
        body,
        attributes: { ...template.attributes, ApproximateReceiveCount: '3' },
      }),
    ),
  };
}

const valid = (points: number): string => JSON.stringify({ tenantId: 'acme', phone: cnMobile, points });

let output: LogOutput;

beforeEach(() => {
  output = captureLogOutput();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function handlerRecording(fail: (message: Reminder) => Error | undefined = () => undefined) {
  const processed: { message: Reminder; messageId: string }[] = [];
  const handler = createQueueHandler({
    schema: reminder,
    logger: createLogger({ service: 'test' }),
    process: async (message, record) => {
      const error = fail(message);
      if (error) throw error;
      processed.push({ message, messageId: record.messageId });
    },
  });
  return { handler, processed };
}

describe('createQueueHandler', () => {
  it('processes every record with its parsed message and reports no failure', async () => {
    const { handler, processed } = handlerRecording();

    const result = await handler(sqsEvent([valid(10), valid(20)]), lambdaContext());

    expect(result).toEqual({ batchItemFailures: [] });
    expect(processed).toEqual([
      { message: { tenantId: 'acme', phone: cnMobile, points: 10 }, messageId: 'm-0' },
      { message: { tenantId: 'acme', phone: cnMobile, points: 20 }, messageId: 'm-1' },
    ]);
  });

  it('hands back the records it has no time left to begin, and only those', async () => {
    let remainingMs = 40_000;
    const processed: number[] = [];
    const handler = createQueueHandler({
      schema: reminder,
      logger: createLogger({ service: 'test' }),
      marginMs: 15_000,
      process: async (message) => {
        processed.push(message.points);
        remainingMs -= 10_000;
      },
    });

    const result = await handler(sqsEvent([valid(1), valid(2), valid(3), valid(4)]), {
      ...lambdaContext(),
      getRemainingTimeInMillis: () => remainingMs,
    });

    // 40 s, 30 s and 20 s left: begun; 10 s left: handed back for the next invocation.
    expect(processed).toEqual([1, 2, 3]);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-3' }] });
  });

  it('hands the schema output to the processor, not the raw body', async () => {
    const received: unknown[] = [];
    const handler = createQueueHandler({
      schema: z.object({ points: z.string().transform(Number), tier: z.string().default('basic') }),
      logger: createLogger({ service: 'test' }),
      process: async (message) => {
        received.push(message);
      },
    });

    await handler(sqsEvent(['{"points":"42","extra":true}']), lambdaContext());

    expect(received).toEqual([{ points: 42, tier: 'basic' }]);
  });

  it('reports a body that is not JSON as a failure of that record only', async () => {
    const { handler, processed } = handlerRecording();

    const result = await handler(sqsEvent([valid(1), '{"tenantId": "acme",', valid(3)]), lambdaContext());

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(processed.map((p) => p.messageId)).toEqual(['m-0', 'm-2']);
  });

  it('reports the records of the documented SQS event, whose body "test" is not a message', async () => {
    const { handler, processed } = handlerRecording();
    const event = loadEvent<SQSEvent>('sqs', 'two-records');

    const result = await handler(event, lambdaContext());

    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: '059f36b4-87a3-44ab-83d2-661975830a7d' },
      { itemIdentifier: '2e1424d4-f796-459a-8184-9c92662be6da' },
    ]);
    expect(processed).toEqual([]);
  });

  it('reports a message the schema refuses as a failure of that record only', async () => {
    const { handler, processed } = handlerRecording();
    const refused = JSON.stringify({ tenantId: 'acme', phone: 'not a phone', points: -1 });

    const result = await handler(sqsEvent([refused, valid(2)]), lambdaContext());

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
    expect(processed.map((p) => p.messageId)).toEqual(['m-1']);
  });

  it('logs every problem of a refused message with its path and message id', async () => {
    const { handler } = handlerRecording();
    const refused = JSON.stringify({ tenantId: '', phone: cnMobile });

    await handler(sqsEvent([refused]), lambdaContext());

    const [line] = output.lines();
    expect(line).toMatchObject({ level: 'ERROR', message: 'malformed queue message', messageId: 'm-0' });
    const problems = (line?.problems ?? []) as { path: string }[];
    expect(problems.map((p) => p.path).sort()).toEqual(['body.points', 'body.tenantId']);
  });

  it('reports a record whose processing throws and goes on with the next records', async () => {
    const { handler, processed } = handlerRecording((message) =>
      message.points === 2 ? new Error('provider timeout') : undefined,
    );

    const result = await handler(sqsEvent([valid(1), valid(2), valid(3)]), lambdaContext());

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(processed.map((p) => p.messageId)).toEqual(['m-0', 'm-2']);
  });

  it('logs a thrown error with the message id and receive count', async () => {
    const { handler } = handlerRecording(() => new Error('provider timeout'));

    await handler(sqsEvent([valid(1)]), lambdaContext());

    expect(output.lines()).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'queue message failed',
        messageId: 'm-0',
        receiveCount: '3',
        error: expect.objectContaining({ message: 'provider timeout' }),
      }),
    ]);
  });

  it('reports every record of a batch in which all fail', async () => {
    const { handler } = handlerRecording(() => new Error('table unavailable'));

    const result = await handler(sqsEvent([valid(1), 'nonsense', valid(3)]), lambdaContext());

    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-0', 'm-1', 'm-2']);
  });

  it('answers an empty batch with no failure', async () => {
    const { handler } = handlerRecording();

    const result = await handler({ Records: [] }, lambdaContext());

    expect(result).toEqual({ batchItemFailures: [] });
  });

  it('logs with the Lambda request id and never a whole phone number', async () => {
    const { handler } = handlerRecording(
      (message) => new Error(`provider refused ${message.phone} for ${message.tenantId}`),
    );
    const context = lambdaContext('qunfa-sender');
    const refused = JSON.stringify({ tenantId: 'acme', phone: `tel ${cnMobile}`, points: 1 });

    await handler(sqsEvent([valid(1), refused, `not json ${cnMobile}`]), context);

    const lines = output.lines();
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.function_request_id).toBe(context.awsRequestId);
    expect(output.text()).not.toContain(cnHidden);
    expect(lines[0]).toMatchObject({ error: { message: 'provider refused +86*******5678 for acme' } });
  });

  // Pinned: a body that is not JSON reaches the schema as its raw text, so a queue whose
  // schema is a plain string accepts it.
  it('hands a body that is not JSON to the schema as the raw text', async () => {
    const received: string[] = [];
    const handler = createQueueHandler({
      schema: z.string(),
      logger: createLogger({ service: 'test' }),
      process: async (message) => {
        received.push(message);
      },
    });

    const result = await handler(sqsEvent(['plain text']), lambdaContext());

    expect(result).toEqual({ batchItemFailures: [] });
    expect(received).toEqual(['plain text']);
  });
});
