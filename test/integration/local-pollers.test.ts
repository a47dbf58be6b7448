import { createServer, type Server } from 'node:http';
import { GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createLogger, type QueuePoller, repoRoot, type SqsHandler, startQueuePoller } from '@qunfa/local';
import type { QueueConsumer } from '@qunfa/resources';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalQueues, localRegion, startLocalQueues } from '../support/local';

// The pollers stand in for Lambda's SQS event source mapping; these specifications hold them
// to its documented behaviour against the real SQS emulator.
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html

let sqs: LocalQueues;
const running: QueuePoller[] = [];

beforeAll(async () => {
  sqs = await startLocalQueues();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((poller) => poller.stop()));
});
afterAll(() => sqs.stop());

type Queue = Awaited<ReturnType<LocalQueues['createQueue']>>;

function poll({
  queue,
  consumer,
  handler,
  timeoutSeconds = 5,
  source,
}: {
  queue: Queue;
  consumer: Partial<Pick<QueueConsumer, 'batchSize' | 'maxBatchingWindowSeconds' | 'maxConcurrency'>>;
  handler: SqsHandler;
  timeoutSeconds?: number;
  source?: { entry: string; rootDir: string };
}): QueuePoller {
  const poller = startQueuePoller({
    ...(source ? { source } : {}),
    client: sqs.client,
    region: localRegion,
    queue,
    consumer: { batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 2, ...consumer },
    fn: { name: 'qunfa-test-consumer', timeoutSeconds, memoryMb: 128 },
    handler,
    // Short polling lets each test's poller stop at once; the stack long-polls.
    idleWaitSeconds: 0,
    logger: createLogger({ component: 'test', level: 'ERROR' }),
  });
  running.push(poller);
  return poller;
}

async function send(queue: Queue, bodies: readonly string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: bodies
          .slice(start, start + 10)
          .map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
  }
}

async function depth(url: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

/** A loopback HTTP server that answers "ok" and records the path of every request. */
async function recordingServer(): Promise<{ calls: string[]; base: string; server: Server }> {
  const calls: string[] = [];
  const server = createServer((request, response) => {
    calls.push(request.url ?? '');
    response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    calls,
    base: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    server,
  };
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const range = (count: number, prefix = 'm'): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('startQueuePoller', () => {
  describe('batching', () => {
    it('gathers up to batchSize records across several ReceiveMessage calls within the window', async () => {
      const queue = await sqs.createQueue();
      await send(queue, range(25));
      const sizes: number[] = [];

      poll({
        queue,
        consumer: { batchSize: 25, maxBatchingWindowSeconds: 2 },
        handler: async (event) => {
          sizes.push(event.Records.length);
        },
      });
      await eventually(() => sizes.reduce((sum, size) => sum + size, 0) === 25);

      expect(sizes).toEqual([25]);
    });

    it('never puts more than batchSize records in one event', async () => {
      const queue = await sqs.createQueue();
      await send(queue, range(12));
      const sizes: number[] = [];

      poll({
        queue,
        consumer: { batchSize: 5, maxBatchingWindowSeconds: 1, maxConcurrency: 2 },
        handler: async (event) => {
          sizes.push(event.Records.length);
        },
      });
      await eventually(() => sizes.reduce((sum, size) => sum + size, 0) === 12);

      expect(Math.max(...sizes)).toBe(5);
      expect(sizes.toSorted()).toEqual([2, 5, 5]);
    });

    it('invokes with a partial batch once the batching window has passed', async () => {
      const queue = await sqs.createQueue();
      const invocations: { size: number; at: number }[] = [];
      poll({
        queue,
        consumer: { batchSize: 10, maxBatchingWindowSeconds: 1 },
        handler: async (event) => {
          invocations.push({ size: event.Records.length, at: Date.now() });
        },
      });

      const sentAt = Date.now();
      await send(queue, range(3, 'early'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await send(queue, range(2, 'late'));
      await eventually(() => invocations.length > 0);

      expect(invocations[0]?.size).toBe(5);
      expect(invocations[0]?.at ?? 0).toBeGreaterThanOrEqual(sentAt + 900);
    });

    it('invokes with what one receive returns when the window is 0', async () => {
      const queue = await sqs.createQueue();
      await send(queue, range(3));
      const sizes: number[] = [];

      poll({
        queue,
        consumer: { batchSize: 1, maxBatchingWindowSeconds: 0 },
        handler: async (event) => {
          sizes.push(event.Records.length);
        },
      });
      await eventually(() => sizes.length === 3);

      expect(sizes).toEqual([1, 1, 1]);
    });
  });

  describe('the event', () => {
    it('is the SQS event Lambda builds, and the context has the function timeout', async () => {
      const queue = await sqs.createQueue();
      await sqs.client.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: '{"hello":"world"}',
          MessageAttributes: {
            tenant: { DataType: 'String', StringValue: 't-1' },
            blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
          },
        }),
      );
      let seen: { event: SQSEvent; context: Context; remaining: number } | undefined;

      poll({
        queue,
        consumer: { batchSize: 1 },
        timeoutSeconds: 7,
        handler: async (event, context) => {
          seen = { event, context, remaining: context.getRemainingTimeInMillis() };
        },
      });
      await eventually(() => seen !== undefined);

      const record = seen?.event.Records[0];
      expect(seen?.event.Records).toHaveLength(1);
      expect(record).toMatchObject({
        messageId: expect.any(String),
        receiptHandle: expect.any(String),
        body: '{"hello":"world"}',
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: expect.stringMatching(/^\d+$/),
          SenderId: expect.any(String),
          ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
        },
        messageAttributes: {
          tenant: { stringValue: 't-1', dataType: 'String', stringListValues: [], binaryListValues: [] },
          blob: { binaryValue: 'AQID', dataType: 'Binary' },
        },
        md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
        md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
        eventSource: 'aws:sqs',
        eventSourceARN: queue.arn,
        awsRegion: localRegion,
      });
      expect(seen?.context).toMatchObject({
        functionName: 'qunfa-test-consumer',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:qunfa-test-consumer',
        memoryLimitInMB: '128',
        awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        logGroupName: '/aws/lambda/qunfa-test-consumer',
      });
      expect(seen?.remaining).toBeGreaterThan(6_000);
      expect(seen?.remaining).toBeLessThanOrEqual(7_000);
    });
  });

  describe('outcomes', () => {
    it('deletes the whole batch when the handler succeeds', async () => {
      const queue = await sqs.createQueue();
      await send(queue, range(4));
      const poller = poll({
        queue,
        consumer: { batchSize: 4, maxBatchingWindowSeconds: 1 },
        handler: async () => undefined,
      });

      await eventually(() => poller.stats().recordsDeleted === 4);

      expect(await depth(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    });

    it('redelivers only the records listed in batchItemFailures', async () => {
      const queue = await sqs.createQueue({ visibilityTimeoutSeconds: 1 });
      await send(queue, ['a', 'b', 'c']);
      const deliveries: { body: string; receiveCount: string }[] = [];

      const poller = poll({
        queue,
        consumer: { batchSize: 3 },
        handler: async (event) => {
          deliveries.push(
            ...event.Records.map((record) => ({
              body: record.body,
              receiveCount: record.attributes.ApproximateReceiveCount,
            })),
          );
          const failed = event.Records.filter(
            (r) => r.body === 'b' && r.attributes.ApproximateReceiveCount === '1',
          );
          return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
        },
      });
      await eventually(() => poller.stats().recordsDeleted === 3);

      expect(deliveries.filter((d) => d.body === 'a')).toEqual([{ body: 'a', receiveCount: '1' }]);
      expect(deliveries.filter((d) => d.body === 'c')).toEqual([{ body: 'c', receiveCount: '1' }]);
      expect(deliveries.filter((d) => d.body === 'b')).toEqual([
        { body: 'b', receiveCount: '1' },
        { body: 'b', receiveCount: '2' },
      ]);
      expect(poller.stats().recordsRetried).toBe(1);
    });

    it('retries the whole batch when batchItemFailures names a record not in the batch', async () => {
      const queue = await sqs.createQueue({ visibilityTimeoutSeconds: 1 });
      await send(queue, ['a', 'b']);
      const receiveCounts: string[] = [];

      const poller = poll({
        queue,
        consumer: { batchSize: 2 },
        handler: async (event) => {
          receiveCounts.push(...event.Records.map((record) => record.attributes.ApproximateReceiveCount));
          const first = event.Records[0]?.attributes.ApproximateReceiveCount === '1';
          return { batchItemFailures: first ? [{ itemIdentifier: 'not-in-this-batch' }] : [] };
        },
      });
      await eventually(() => poller.stats().recordsDeleted === 2);

      expect(receiveCounts).toEqual(['1', '1', '2', '2']);
    });

    it("moves a throwing handler's records to the DLQ after maxReceiveCount", async () => {
      const queue = await sqs.createQueue({ visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
      await send(queue, ['poison']);
      let attempts = 0;

      const poller = poll({
        queue,
        consumer: { batchSize: 1 },
        handler: async () => {
          attempts += 1;
          throw new Error('the handler always fails');
        },
      });
      await eventually(async () => (await depth(queue.deadLetter.url)).visible === 1, 15_000);

      expect(attempts).toBe(2);
      expect(poller.stats()).toMatchObject({ failedInvocations: 2, recordsDeleted: 0, recordsRetried: 2 });
      expect(await depth(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    });

    it('treats an invocation that outlives the function timeout as failed and deletes nothing', async () => {
      const queue = await sqs.createQueue({ visibilityTimeoutSeconds: 1 });
      await send(queue, ['slow']);
      const receiveCounts: string[] = [];

      const poller = poll({
        queue,
        consumer: { batchSize: 1 },
        timeoutSeconds: 0.2,
        handler: async (event) => {
          const count = event.Records[0]?.attributes.ApproximateReceiveCount ?? '';
          receiveCounts.push(count);
          if (count === '1') await new Promise((resolve) => setTimeout(resolve, 600));
        },
      });
      await eventually(() => poller.stats().recordsDeleted === 1);

      expect(receiveCounts).toEqual(['1', '2']);
      expect(poller.stats()).toMatchObject({ timedOutInvocations: 1, failedInvocations: 1 });
    });
  });

  describe('concurrency', () => {
    it('never runs more than maxConcurrency invocations at once', async () => {
      const queue = await sqs.createQueue();
      await send(queue, range(12));
      let now = 0;
      let peak = 0;
      let handled = 0;

      poll({
        queue,
        consumer: { batchSize: 1, maxConcurrency: 3 },
        handler: async () => {
          now += 1;
          peak = Math.max(peak, now);
          await new Promise((resolve) => setTimeout(resolve, 150));
          now -= 1;
          handled += 1;
        },
      });
      await eventually(() => handled === 12);

      expect(peak).toBe(3);
    });
  });

  describe('faults (test-only)', () => {
    it('hands a duplicated batch to two invocations at once, with the same records', async () => {
      const queue = await sqs.createQueue();
      await send(queue, ['twice']);
      const seen: { messageId: string; receiptHandle: string }[] = [];

      const poller = poll({
        queue,
        consumer: { batchSize: 1 },
        handler: async (event) => {
          for (const { messageId, receiptHandle } of event.Records) seen.push({ messageId, receiptHandle });
          await new Promise((resolve) => setTimeout(resolve, 200));
        },
      });
      poller.injectFaults({ duplicateRate: 1 });
      await eventually(() => poller.stats().invocations === 2 && poller.stats().inFlight === 0);

      expect(seen).toHaveLength(2);
      expect(seen[1]).toEqual(seen[0]);
      expect(poller.stats()).toMatchObject({ duplicatedBatches: 1, peakInFlight: 2 });
      expect(await depth(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    });

    it('kills the doomed invocation right after its n-th answer, and SQS delivers its records again', async () => {
      const { calls, base, server } = await recordingServer();
      const url = `${base}/hit`;
      try {
        // Longer than a child process takes to start on a busy machine: no redelivery before the kill.
        const queue = await sqs.createQueue({ visibilityTimeoutSeconds: 10 });
        await send(queue, [url]);

        // The doomed invocation runs the entry's handler, which calls the URL three times per
        // record, and dies after the second answer; the redelivery runs in this process.
        const redelivered: string[] = [];
        const poller = poll({
          queue,
          consumer: { batchSize: 1 },
          timeoutSeconds: 30,
          handler: async (event) => {
            for (const record of event.Records) redelivered.push(record.body);
          },
          source: { entry: 'test/support/handlers/calls-in-turn.ts', rootDir: repoRoot },
        });
        poller.injectFaults({ kill: { invocation: 1, afterAnswers: { urlPrefix: url, count: 2 } } });
        await eventually(() => poller.stats().killedInvocations === 1, 20_000);

        expect(calls).toEqual(['/hit?call=1', '/hit?call=2']);
        expect(poller.stats()).toMatchObject({ failedInvocations: 1, recordsDeleted: 0 });
        expect(await depth(queue.url)).toEqual({ visible: 0, inFlight: 1 });
        await eventually(() => poller.stats().recordsDeleted === 1, 30_000);
        expect(redelivered).toEqual([url]);
        expect(calls).toHaveLength(2);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
    it('passes the doom on when the doomed invocation ends before its n-th answer, and kills only once', async () => {
      const { calls, base, server } = await recordingServer();
      try {
        // Longer than a child process takes to start on a busy machine: no redelivery before the kill.
        const queue = await sqs.createQueue({ visibilityTimeoutSeconds: 10 });
        const redelivered: string[] = [];
        const poller = poll({
          queue,
          consumer: { batchSize: 1 },
          timeoutSeconds: 30,
          handler: async (event) => {
            for (const record of event.Records) redelivered.push(record.body);
          },
          source: { entry: 'test/support/handlers/calls-in-turn.ts', rootDir: repoRoot },
        });
        poller.injectFaults({
          kill: { invocation: 1, afterAnswers: { urlPrefix: `${base}/hit`, count: 2 } },
        });

        // The first invocation's calls are not counted: it ends well, and the next one is doomed.
        await send(queue, [`${base}/miss`]);
        await eventually(() => poller.stats().recordsDeleted === 1, 20_000);
        expect(poller.stats()).toMatchObject({ invocations: 1, killedInvocations: 0 });
        await send(queue, [`${base}/hit`]);
        await eventually(() => poller.stats().killedInvocations === 1, 20_000);
        await eventually(() => poller.stats().recordsDeleted === 2, 30_000);

        expect(calls).toEqual(['/miss?call=1', '/miss?call=2', '/miss?call=3', '/hit?call=1', '/hit?call=2']);
        expect(redelivered).toEqual([`${base}/hit`]);
        expect(poller.stats()).toMatchObject({ invocations: 3, killedInvocations: 1 });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe('stop', () => {
    it('lets a running invocation finish and settles its records before resolving', async () => {
      const queue = await sqs.createQueue();
      await send(queue, ['in-progress']);
      let started = false;
      let finished = false;

      const poller = poll({
        queue,
        consumer: { batchSize: 1 },
        handler: async () => {
          started = true;
          await new Promise((resolve) => setTimeout(resolve, 400));
          finished = true;
        },
      });
      await eventually(() => started);
      await poller.stop();

      expect(finished).toBe(true);
      expect(poller.stats()).toMatchObject({ running: false, inFlight: 0, recordsDeleted: 1 });
      expect(await depth(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    });
  });
});
