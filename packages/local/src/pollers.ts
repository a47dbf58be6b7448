import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { functions, type QueueConsumer, type QueueId, queueIds, queues } from '@qunfa/resources';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import type { ComponentHealth } from './health';
import { invokeKillable, type KillAfter } from './killable';
import {
  FunctionTimeoutError,
  invokeHandler,
  type LambdaHandler,
  type LocalFunction,
  loadHandler,
} from './lambda';
import { createLogger, type LocalLogger } from './log';
import { localFunctionName } from './names';
import { repoRoot } from './paths';
import { recordOf, recordOfAsync } from './records';
import { seededRandom } from './simulator/random';
import type { LocalQueueAddress } from './sqs';
import { sleep } from './timers';

// Queue pollers that invoke the queue handlers the way a Lambda SQS event source mapping
// does: batches of up to BatchSize gathered within MaximumBatchingWindowInSeconds, at most
// MaximumConcurrency invocations at once, partial batch responses (ReportBatchItemFailures),
// and no deletion on error or timeout, so SQS redelivers after the visibility timeout and
// moves a record to the DLQ after maxReceiveCount.
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html

/** A queue handler; its result is read as a partial batch response (SQSBatchResponse). */
export type SqsHandler = LambdaHandler<SQSEvent, unknown>;

export interface PollerStats {
  readonly queue: string;
  readonly functionName: string;
  readonly memoryMb: number;
  readonly running: boolean;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly maxConcurrency: number;
  /** Invocations running now, and the most there ever were at once. */
  readonly inFlight: number;
  readonly peakInFlight: number;
  readonly invocations: number;
  readonly failedInvocations: number;
  readonly timedOutInvocations: number;
  readonly recordsReceived: number;
  readonly recordsDeleted: number;
  /** Records left on the queue for redelivery (listed failures, or a failed invocation). */
  readonly recordsRetried: number;
  readonly receiveErrors: number;
  readonly consecutiveReceiveErrors: number;
  /** Faults (injectFaults): batches also handed to a second invocation, invocations killed. */
  readonly duplicatedBatches: number;
  readonly killedInvocations: number;
  /** Wall time spent in the handler, summed over invocations: what Lambda bills as duration. */
  readonly handlerMs: number;
  readonly lastInvocationAt?: string;
  readonly lastError?: { readonly message: string; readonly at: string };
}

/**
 * Test-only faults of the event source mapping, for the invariant tests (docs/local-fidelity.md,
 * "Faults"). Neither happens in a poller that was not given them.
 */
export interface PollerFaults {
  /**
   * Share of batches also handed, at the same moment, to a second invocation with the very
   * same records (message ids, receipt handles): SQS's at-least-once delivery, which fauxqs
   * does not produce by itself. 0 (default) to 1.
   */
  readonly duplicateRate?: number;
  /** Seeds the duplicate draws (default 1). */
  readonly seed?: number;
  /**
   * Kills the `invocation`-th invocation from now (1: the next one) in the middle of its
   * work: it runs in a child process that dies at once after its `afterAnswers.count`-th HTTP
   * answer from a URL starting with `afterAnswers.urlPrefix` (see killable.ts). Its records
   * are not deleted, so SQS delivers them again after the visibility timeout. A doomed
   * invocation that ends before that many answers (its batch was small, or throttled) passes
   * the doom on to the next one: exactly one invocation is killed, whatever the batches.
   */
  readonly kill?: { readonly invocation: number; readonly afterAnswers: KillAfter };
}

export interface QueuePoller {
  stats(): PollerStats;
  /** Replaces the poller's faults (test-only; see PollerFaults). */
  injectFaults(faults: PollerFaults): void;
  /** Stops receiving, lets every running invocation finish and settle its records. */
  stop(): Promise<void>;
}

export interface QueuePollerOptions {
  client: SQSClient;
  region: string;
  queue: Pick<LocalQueueAddress, 'url' | 'arn'> & { readonly name?: string };
  consumer: Pick<QueueConsumer, 'batchSize' | 'maxBatchingWindowSeconds' | 'maxConcurrency'>;
  fn: LocalFunction;
  handler: SqsHandler;
  /** Where the handler comes from, for an invocation run in a child process (faults.kill). */
  source?: { readonly entry: string; readonly rootDir: string };
  /**
   * Long-poll wait of an idle ReceiveMessage, whole seconds. Lambda waits 20 s; 1 s here so
   * that stop() returns promptly (a receive is never aborted: aborting one that already took
   * messages would hide them for a whole visibility timeout). 0 short-polls every 20 ms.
   */
  idleWaitSeconds?: number;
  logger?: LocalLogger;
}

/** SQS hands out at most 10 messages per ReceiveMessage. */
const receiveLimit = 10;

export function startQueuePoller({
  client,
  region,
  queue,
  consumer,
  fn,
  handler,
  source,
  idleWaitSeconds = 1,
  logger = createLogger({ component: 'poller' }).child(queue.name ?? fn.name),
}: QueuePollerOptions): QueuePoller {
  const { batchSize, maxBatchingWindowSeconds, maxConcurrency } = consumer;
  let running = true;
  let inFlight = 0;
  const counters = {
    peakInFlight: 0,
    invocations: 0,
    failedInvocations: 0,
    timedOutInvocations: 0,
    recordsReceived: 0,
    recordsDeleted: 0,
    recordsRetried: 0,
    receiveErrors: 0,
    consecutiveReceiveErrors: 0,
    duplicatedBatches: 0,
    killedInvocations: 0,
    handlerMs: 0,
  };
  let faults: PollerFaults = {};
  let faultRandom = seededRandom(1);
  /** Invocations to start until the one faults.kill names (duplicates not counted). */
  let untilKill: number | undefined;
  let lastInvocationAt: Date | undefined;
  let lastError: { message: string; at: Date } | undefined;
  const invocations = new Set<Promise<void>>();
  const slotWaiters: (() => void)[] = [];

  const noteError = (message: string): void => {
    lastError = { message, at: new Date() };
  };

  /** Resolves once fewer than maxConcurrency invocations run, or the poller stops. */
  const freeSlot = async (): Promise<void> => {
    while (running && inFlight >= maxConcurrency) {
      await new Promise<void>((resolve) => slotWaiters.push(resolve));
    }
  };
  const wakeSlotWaiters = (): void => {
    for (const wake of slotWaiters.splice(0)) wake();
  };

  const receive = async (max: number, waitSeconds: number): Promise<Message[]> => {
    try {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      counters.consecutiveReceiveErrors = 0;
      counters.recordsReceived += Messages.length;
      return Messages;
    } catch (error) {
      counters.receiveErrors += 1;
      counters.consecutiveReceiveErrors += 1;
      const message = error instanceof Error ? error.message : String(error);
      noteError(`ReceiveMessage failed: ${message}`);
      logger.warn('ReceiveMessage failed; backing off', { error: message });
      await sleep(Math.min(5_000, 100 * 2 ** Math.min(counters.consecutiveReceiveErrors, 6)));
      return [];
    }
  };

  /**
   * One batch: long-poll until the first record, then keep receiving until batchSize records
   * are gathered or the batching window (from the first record) has passed. Window 0 means
   * "invoke with what one receive returned", as Lambda does.
   */
  const gather = async (): Promise<Message[]> => {
    const records: Message[] = [];
    // A record whose visibility timeout ran out while the window was open comes back with a
    // new receipt handle; only the newest handle can delete it, and it is one record.
    const add = (messages: readonly Message[]): void => {
      for (const message of messages) {
        const index = records.findIndex((record) => record.MessageId === message.MessageId);
        if (index === -1) records.push(message);
        else records[index] = message;
      }
    };
    let windowEnds: number | undefined;
    while (records.length < batchSize) {
      const want = Math.min(receiveLimit, batchSize - records.length);
      if (windowEnds === undefined) {
        if (!running) break;
        const first = await receive(want, idleWaitSeconds);
        if (first.length === 0) {
          // Short polling (tests): pause a little instead of spinning.
          if (idleWaitSeconds === 0) await sleep(20);
          break;
        }
        add(first);
        if (maxBatchingWindowSeconds === 0) break;
        windowEnds = Date.now() + maxBatchingWindowSeconds * 1000;
        continue;
      }
      const remaining = windowEnds - Date.now();
      if (remaining <= 0) break;
      // WaitTimeSeconds is whole seconds: long-poll for the whole seconds left, then poll
      // briefly until the window closes.
      const more = await receive(want, Math.min(20, Math.floor(remaining / 1000)));
      add(more);
      if (more.length === 0 && remaining < 1000) await sleep(Math.min(50, remaining));
    }
    return records;
  };

  const deleteRecords = async (messages: readonly Message[]): Promise<void> => {
    for (let start = 0; start < messages.length; start += receiveLimit) {
      const chunk = messages.slice(start, start + receiveLimit);
      try {
        const { Failed = [] } = await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue.url,
            Entries: chunk.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle,
            })),
          }),
        );
        counters.recordsDeleted += chunk.length - Failed.length;
        counters.recordsRetried += Failed.length;
        if (Failed.length > 0) {
          noteError(`DeleteMessageBatch failed for ${Failed.length} record(s)`);
          logger.warn('some records could not be deleted and will be delivered again', { failed: Failed });
        }
      } catch (error) {
        counters.recordsRetried += chunk.length;
        const message = error instanceof Error ? error.message : String(error);
        noteError(`DeleteMessageBatch failed: ${message}`);
        logger.warn('DeleteMessageBatch failed; the records will be delivered again', { error: message });
      }
    }
  };

  /** The handler's result, run in this process or, when it is doomed (faults.kill), in a child. */
  const run = async (event: SQSEvent, doomed: boolean): Promise<{ result: unknown } | { killed: true }> => {
    const kill = faults.kill;
    if (!doomed || !kill) return invokeHandler({ handler, event, fn, region });
    if (!source) throw new Error(`${fn.name}: a killed invocation needs the handler's entry.`);
    const outcome = await invokeKillable({ ...source, event, fn, region, killAfter: kill.afterAnswers });
    if (outcome.killed) return { killed: true };
    if ('error' in outcome) throw new Error(outcome.error);
    return { result: outcome.result };
  };

  const invoke = async (messages: readonly Message[], doomed: boolean): Promise<void> => {
    counters.invocations += 1;
    lastInvocationAt = new Date();
    const event: SQSEvent = {
      Records: messages.map((message) => toSqsRecord({ message, queueArn: queue.arn, region })),
    };
    let failedIds: ReadonlySet<string> | 'all';
    const started = performance.now();
    try {
      const armed = faults;
      const ran = await run(event, doomed).finally(() => {
        counters.handlerMs += performance.now() - started;
      });
      // Survived its doom: the next invocation carries it (unless the faults were replaced).
      if (doomed && !('killed' in ran) && faults === armed) untilKill = 1;
      if ('killed' in ran) {
        // Killed mid-flight: like a crash, nothing is deleted and every record comes back.
        counters.killedInvocations += 1;
        counters.failedInvocations += 1;
        counters.recordsRetried += messages.length;
        noteError(`${fn.name} was killed (faults.kill)`);
        logger.warn(`${fn.name} was killed; its ${messages.length} record(s) will be delivered again`);
        return;
      }
      const { result } = ran;
      failedIds = batchItemFailures({ result, messageIds: event.Records.map((record) => record.messageId) });
      if (failedIds === 'all') {
        noteError('invalid batchItemFailures: the whole batch is retried');
        logger.warn('the handler returned an invalid batch response; every record will be retried', {
          result,
        });
      }
    } catch (error) {
      failedIds = 'all';
      counters.failedInvocations += 1;
      if (error instanceof FunctionTimeoutError) counters.timedOutInvocations += 1;
      const message = error instanceof Error ? error.message : String(error);
      noteError(message);
      logger.warn(`${fn.name} failed; its ${messages.length} record(s) will be delivered again`, { error });
    }
    const succeeded =
      failedIds === 'all' ? [] : messages.filter((message) => !failedIds.has(message.MessageId ?? ''));
    counters.recordsRetried += messages.length - succeeded.length;
    await deleteRecords(succeeded);
  };

  const loop = (async () => {
    while (running) {
      await freeSlot();
      if (!running) break;
      const batch = await gather();
      // A batch gathered while stop() was called is still invoked: its records are already
      // invisible, and abandoning them would delay them by a whole visibility timeout.
      if (batch.length === 0) continue;
      // The doomed invocation is not duplicated: its copy would do its work while it starts.
      const doomed = untilKill !== undefined && --untilKill === 0;
      if (doomed) untilKill = undefined;
      const copies = !doomed && (faults.duplicateRate ?? 0) > faultRandom() ? 2 : 1;
      if (copies === 2) counters.duplicatedBatches += 1;
      for (let copy = 0; copy < copies; copy++) {
        inFlight += 1;
        counters.peakInFlight = Math.max(counters.peakInFlight, inFlight);
        const invocation = invoke(batch, doomed).finally(() => {
          inFlight -= 1;
          invocations.delete(invocation);
          wakeSlotWaiters();
        });
        invocations.add(invocation);
      }
    }
  })();

  let stopped: Promise<void> | undefined;
  return {
    stats: () => ({
      queue: queue.name ?? queue.arn,
      functionName: fn.name,
      memoryMb: fn.memoryMb,
      running,
      batchSize,
      maxBatchingWindowSeconds,
      maxConcurrency,
      inFlight,
      ...counters,
      ...(lastInvocationAt ? { lastInvocationAt: lastInvocationAt.toISOString() } : {}),
      ...(lastError ? { lastError: { message: lastError.message, at: lastError.at.toISOString() } } : {}),
    }),
    injectFaults(next) {
      const rate = next.duplicateRate ?? 0;
      if (!(rate >= 0 && rate <= 1)) throw new RangeError('duplicateRate is a share, from 0 to 1.');
      if (next.kill && !(Number.isInteger(next.kill.invocation) && next.kill.invocation >= 1)) {
        throw new RangeError('kill.invocation counts invocations from 1.');
      }
      faults = next;
      faultRandom = seededRandom(next.seed ?? 1);
      untilKill = next.kill?.invocation;
    },
    stop() {
      stopped ??= (async () => {
        running = false;
        wakeSlotWaiters();
        await loop;
        await Promise.allSettled([...invocations]);
      })();
      return stopped;
    },
  };
}

/** The SQS record Lambda builds from a received message. */
export function toSqsRecord({
  message,
  queueArn,
  region,
}: {
  message: Message;
  queueArn: string;
  region: string;
}): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '',
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
      ...(attributes.AWSTraceHeader ? { AWSTraceHeader: attributes.AWSTraceHeader } : {}),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId
        ? { MessageDeduplicationId: attributes.MessageDeduplicationId }
        : {}),
    },
    messageAttributes: toRecordAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** SQS API attributes (StringValue, BinaryValue bytes) become Lambda's (stringValue, base64). */
function toRecordAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    result[name] = {
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined
        ? {}
        : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((bytes) => Buffer.from(bytes).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return result;
}

const batchResponse = z.object({
  batchItemFailures: z.array(z.object({ itemIdentifier: z.string().min(1) })).nullish(),
});

/**
 * Lambda's reading of a partial batch response: nothing, null or an empty list is full
 * success; a listed identifier that is empty, null or not in the batch fails the whole batch.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
export function batchItemFailures({
  result,
  messageIds,
}: {
  result: unknown;
  messageIds: readonly string[];
}): ReadonlySet<string> | 'all' {
  if (result === undefined || result === null || typeof result !== 'object') return new Set();
  const parsed = batchResponse.safeParse(result);
  if (!parsed.success) return 'all';
  const failures = parsed.data.batchItemFailures ?? [];
  const known = new Set(messageIds);
  if (failures.some(({ itemIdentifier }) => !known.has(itemIdentifier))) return 'all';
  return new Set(failures.map(({ itemIdentifier }) => itemIdentifier));
}

export interface QueuePollers {
  readonly pollers: Readonly<Record<QueueId, QueuePoller>>;
  stats(): PollerStats[];
  health(): ComponentHealth;
  stop(): Promise<void>;
}

/**
 * One poller per model queue, invoking its consumer function (resources: queue.consumer)
 * with the consumer's batch size, window and maximum concurrency and the function's timeout.
 * Handlers are imported here, so the environment must be set before.
 */
export async function startQueuePollers({
  client,
  region,
  stage,
  queues: addresses,
  rootDir,
  idleWaitSeconds,
  maxConcurrency = Number.POSITIVE_INFINITY,
  logger = createLogger({ component: 'pollers' }),
}: {
  client: SQSClient;
  region: string;
  stage: string;
  queues: Readonly<Record<QueueId, LocalQueueAddress>>;
  rootDir?: string;
  idleWaitSeconds?: number;
  /** A ceiling on every consumer's maximum concurrency (the stack's pollerConcurrency). */
  maxConcurrency?: number;
  logger?: LocalLogger;
}): Promise<QueuePollers> {
  const consumerOf = (id: QueueId) => functions[queues[id].consumer.functionId];
  const handlers = await recordOfAsync(queueIds, (id) =>
    loadHandler<SQSEvent, unknown>({ entry: consumerOf(id).entry, ...(rootDir ? { rootDir } : {}) }),
  );
  const pollers = recordOf(queueIds, (id) =>
    startQueuePoller({
      client,
      region,
      queue: addresses[id],
      consumer: {
        ...queues[id].consumer,
        maxConcurrency: Math.min(queues[id].consumer.maxConcurrency, maxConcurrency),
      },
      fn: {
        name: localFunctionName({ stage, id: consumerOf(id).id }),
        timeoutSeconds: consumerOf(id).timeoutSeconds,
        memoryMb: consumerOf(id).memoryMb,
      },
      handler: handlers[id],
      source: { entry: consumerOf(id).entry, rootDir: rootDir ?? repoRoot },
      ...(idleWaitSeconds === undefined ? {} : { idleWaitSeconds }),
      logger: logger.child(id),
    }),
  );
  const stats = (): PollerStats[] => queueIds.map((id) => pollers[id].stats());
  return {
    pollers,
    stats,
    health() {
      const all = stats();
      // Red when a poller stopped or cannot reach SQS; failing handlers are the handlers' news.
      const ok = all.every((poller) => poller.running && poller.consecutiveReceiveErrors < 3);
      return { ok, detail: all };
    },
    async stop() {
      await Promise.all(queueIds.map((id) => pollers[id].stop()));
    },
  };
}
