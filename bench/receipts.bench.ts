import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import {
  createDocumentClient,
  DynamoCallbackReplayGuard,
  DynamoMessageStore,
  DynamoTenantStore,
  SendMessageCommand,
  SqsClient,
} from '@qunfa/aws';
import { type MessageState, mapWithConcurrency } from '@qunfa/domain';
import {
  createLogger,
  loadHandler,
  localFunctionName,
  repoRoot,
  type SqsHandler,
  startLocalStack,
  startQueuePoller,
} from '@qunfa/local';
import {
  type SimulatorReceipt,
  signSimulatorCallback,
  simulatorAccountSecret,
  simulatorCallbackHeaders,
  simulatorCallbackReader,
} from '@qunfa/providers';
import { functions, queues } from '@qunfa/resources';
import { type BenchResult, median, round1 } from './support';

// Receipt ingestion on the local stack: signed simulator receipt callbacks POSTed to
// /callbacks/simulator/<tenant> (the callbacks function: verify the HMAC, read, claim the
// callbackId against replays, enqueue one message on the receipt queue), under a bounded load
// of BENCH_RECEIPTS_CONNECTIONS (10) keep-alive connections, each sending its next callback
// when the last is answered. Every callback carries 10 receipts, each naming a real message
// record: the bench first writes BENCH_RECEIPTS_RECORDS (3,000) records of one run, sent
// with a provider message id, through DynamoMessageStore (create, claim, accepted). Receipt j
// is about record j mod records; after a record's first receipt the rest are the provider's
// retries of it (duplicates).
//
//   1. Ingestion alone: the receipt queue's poller held, 200 callbacks to warm up, then
//      BENCH_RECEIPTS_CALLBACKS (2,000) measured: `acceptedPerSec`, `p50Ms`, `p99Ms`. Held,
//      because on this machine the receipts function's DynamoDB calls (~3 per receipt, 30
//      per callback) and the API's (2 per callback) share one DynamoDB Local; on AWS they do
//      not share capacity.
//   2. The consumer started again (a poller as the stack makes one) and, while it applies
//      the backlog, BENCH_RECEIPTS_WHILE_APPLYING (500) more callbacks:
//      `acceptedPerSecWhileApplying`, `p99MsWhileApplying`.
//   3. Drained: from the last accepted callback until the queue is empty and every record an
//      accepted receipt named is in the state that receipt said (`drainSeconds`); `lost`
//      counts the records that are not.
//
// The load generator runs in a worker thread (a provider is another machine; sharing the
// stack's event loop would slow both). The ceiling, measured in the same run with the same
// generator and the same bodies, is a bare node:http server on loopback that reads the body
// and answers 200 (`ratioToBareHttp`); a second is the callback's own I/O (tenant GetItem,
// conditional PutItem, SendMessage) made straight from the bench at the same concurrency
// (`callbackIoPerSec`, `ratioToCallbackIo`). After the drain, each step of the callback path is
// timed alone, one call at a time, to say where the time goes.

const records = Number(process.env.BENCH_RECEIPTS_RECORDS ?? 3_000);
const callbacks = Number(process.env.BENCH_RECEIPTS_CALLBACKS ?? 2_000);
const warmup = Number(process.env.BENCH_RECEIPTS_WARMUP ?? 200);
const busyCallbacks = Number(process.env.BENCH_RECEIPTS_WHILE_APPLYING ?? 500);
const connections = Number(process.env.BENCH_RECEIPTS_CONNECTIONS ?? 10);
const receiptsPerCallback = 10;
const campaignId = 'bench';
const runId = 'rbench';
const drainTimeoutMs = 300_000;

interface LoadRequest {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

interface LoadResult {
  readonly statuses: Int16Array;
  readonly latencies: Float64Array;
  /** Epoch ms at which each request was answered. */
  readonly doneAt: Float64Array;
  readonly seconds: number;
}

// Plain JavaScript, evaluated in the worker: node:http with a keep-alive agent of `connections`
// sockets, each loop sending its next request when the last is answered.
const loadWorkerSource = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, requests, connections } = workerData;
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const n = requests.length;
const statuses = new Int16Array(n);
const latencies = new Float64Array(n);
const doneAt = new Float64Array(n);
function post(i) {
  const r = requests[i];
  return new Promise((resolve) => {
    const started = performance.now();
    const finish = (status) => {
      const now = performance.now();
      statuses[i] = status;
      latencies[i] = now - started;
      doneAt[i] = performance.timeOrigin + now;
      resolve();
    };
    const request = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: r.path,
        agent,
        headers: { ...r.headers, 'content-length': Buffer.byteLength(r.body) },
      },
      (response) => {
        response.resume();
        response.on('end', () => finish(response.statusCode ?? 0));
        response.on('error', () => finish(0));
      },
    );
    request.on('error', () => finish(0));
    request.end(r.body);
  });
}
(async () => {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < n) await post(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  parentPort.postMessage({ statuses, latencies, doneAt, seconds });
})();
`;

/** Sends `requests` to `url` from a worker thread; answers per request and the wall time. */
function runLoad(url: string, requests: readonly LoadRequest[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(loadWorkerSource, {
      eval: true,
      workerData: { url, requests, connections },
    });
    worker.once('message', (result: LoadResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** The state record `i`'s receipts say it ends in. */
function expectedState(i: number): Extract<MessageState, 'delivered' | 'failed' | 'expired'> {
  return i % 20 === 0 ? 'failed' : i % 20 === 1 ? 'expired' : 'delivered';
}

const memberIdOf = (i: number): string => `B${String(i).padStart(7, '0')}`;

/** A bare node:http server on loopback: reads the body, answers 200 with a small JSON body. */
async function startBareServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const body = '{"accepted":10}';
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Mean and p50 (ms) of `count` sequential runs of `step`. */
async function timeStep(count: number, step: (i: number) => Promise<unknown> | unknown) {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await step(i);
    samples.push(performance.now() - started);
  }
  const mean = samples.reduce((sum, ms) => sum + ms, 0) / samples.length;
  return { meanMs: round3(mean), p50Ms: round3(median(samples)) };
}

export async function receipts(): Promise<BenchResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'qunfa-bench-receipts-'));
  const callbackSecret = randomBytes(24).toString('hex');
  const stack = await startLocalStack({
    dataDir,
    ports: { api: 0, dynamodb: 0, sqs: 0, scheduler: 0, simulator: 0 },
    logLevel: 'ERROR',
    // DynamoDB Local in memory: the figures are the pipeline's, not SQLite's on this disk.
    persist: false,
    // The bench makes the callbacks; the simulator sends none of its own.
    simulator: { seed: 11, receipts: { enabled: false }, callbacks: { secret: callbackSecret } },
  });
  const bare = await startBareServer();
  let stopPoller: () => Promise<void> = async () => undefined;
  try {
    if (!stack.firstTenant.created) throw new Error('expected a fresh local stack');
    const { tenantId } = stack.firstTenant;
    const accountSecret = simulatorAccountSecret({ callbackSecret, account: tenantId });
    const client = createDocumentClient({
      endpoint: stack.components.dynamodb.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const store = new DynamoMessageStore({ client, tableName: stack.tables.messages });

    // The records: one run's messages, each accepted by the provider as pm-<i>.
    const seeded = performance.now();
    const sentAt = new Date(Date.now() - 60_000);
    const indexes = Array.from({ length: records }, (_, i) => i);
    await store.create(
      tenantId,
      { campaignId, runId },
      indexes.map((i) => ({
        memberId: memberIdOf(i),
        state: 'pending' as const,
        variantId: i % 2 ? 'B' : 'A',
      })),
      sentAt,
    );
    await mapWithConcurrency(indexes, 16, async (i) => {
      const memberId = memberIdOf(i);
      await store.claim(tenantId, runId, memberId, { token: 'bench', now: sentAt });
      const moved = await store.move(tenantId, runId, memberId, {
        event: 'accepted',
        token: 'bench',
        now: sentAt,
        set: { providerMessageId: `pm-${i}`, parts: 1, costMicros: 45_000 },
      });
      if (!moved.moved) throw new Error(`record ${memberId} was not moved to sent`);
    });
    const seedSeconds = (performance.now() - seeded) / 1000;

    // The callbacks, signed now (a signature stays fresh 5 minutes), each with a fresh id.
    const path = `/callbacks/simulator/${encodeURIComponent(tenantId)}`;
    const doneAt = new Date(sentAt.getTime() + 5_000).toISOString();
    const submittedAt = sentAt.toISOString();
    const receiptOf = (j: number): SimulatorReceipt => {
      const i = j % records;
      const state = expectedState(i);
      return {
        receiptId: `rc-${i}`,
        messageId: `pm-${i}`,
        reference: `${runId}:${memberIdOf(i)}`,
        phone: `+8613${String(300_000_000 + i).slice(-9)}`,
        status: state,
        code: state === 'delivered' ? 'DELIVRD' : state === 'expired' ? 'EXPIRED' : 'UNDELIV',
        part: 1,
        parts: 1,
        submittedAt,
        doneAt,
      };
    };
    const callbackAt = (c: number): LoadRequest => {
      const timestamp = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({
        type: 'receipts',
        callbackId: `cb-${c}-${randomBytes(6).toString('hex')}`,
        account: tenantId,
        sentAt: new Date().toISOString(),
        receipts: Array.from({ length: receiptsPerCallback }, (_, k) =>
          receiptOf(c * receiptsPerCallback + k),
        ),
      });
      return {
        path,
        headers: {
          'content-type': 'application/json',
          [simulatorCallbackHeaders.timestamp]: String(timestamp),
          [simulatorCallbackHeaders.signature]: signSimulatorCallback({
            secret: accountSecret,
            timestamp,
            body,
          }),
        },
        body,
      };
    };
    const warmRequests = Array.from({ length: warmup }, (_, c) => callbackAt(c));
    const measuredRequests = Array.from({ length: callbacks }, (_, c) => callbackAt(warmup + c));
    const busyRequests = Array.from({ length: busyCallbacks }, (_, c) => callbackAt(warmup + callbacks + c));

    // The ceiling first, while the stack is idle: the same generator and bodies, a bare server.
    await runLoad(bare.url, warmRequests);
    const bareLoad = await runLoad(bare.url, measuredRequests);
    const bareOk = bareLoad.statuses.filter((status) => status === 200).length;
    const bareHttpPerSec = bareOk / bareLoad.seconds;
    const bareSorted = [...bareLoad.latencies].sort((a, b) => a - b);

    const tenants = new DynamoTenantStore({ client, tableName: stack.tables.tenants });
    const replays = new DynamoCallbackReplayGuard({ client, tableName: stack.tables.metrics });
    const { QueueUrl: scratchQueue } = await stack.components.sqs.client.send(
      new CreateQueueCommand({ QueueName: 'bench-receipts-profile' }),
    );
    const sqs = new SqsClient({
      endpoint: stack.components.sqs.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    // A second ceiling: the callback's own I/O and nothing else (tenant GetItem, conditional
    // PutItem, SendMessage), straight from here at the same concurrency, consumer held.
    await stack.components.pollers.pollers.receipt.stop();
    const ioCount = 2_000;
    const ioStarted = performance.now();
    await mapWithConcurrency(
      Array.from({ length: ioCount }, (_, i) => i),
      connections,
      async (i) => {
        await tenants.getTenant(tenantId);
        await replays.claim({
          tenantId,
          provider: 'simulator',
          callbackId: `ceiling-${i}`,
          expiresAt: new Date(Date.now() + 600_000),
        });
        await sqs.send(new SendMessageCommand({ QueueUrl: scratchQueue ?? '', MessageBody: '{}' }));
      },
    );
    const callbackIoPerSec = ioCount / ((performance.now() - ioStarted) / 1000);

    // Phase 1, ingestion alone: the receipt queue's poller is held (stopped), so the API's
    // DynamoDB and SQS calls do not queue behind the receipts function's on the one DynamoDB
    // Local of this machine (on AWS they are separate capacity). The callbacks wait on the queue.
    await stack.components.pollers.pollers.receipt.stop();
    const warm = await runLoad(stack.apiUrl, warmRequests);
    const load = await runLoad(stack.apiUrl, measuredRequests);

    // Phase 2: the receipt queue's consumer starts again (a poller as the stack makes it) and,
    // while it applies the backlog, more callbacks come in: the API's answers while applying.
    const fn = functions.receipts;
    const handler: SqsHandler = await loadHandler({ entry: fn.entry });
    const applyingFrom = Date.now();
    const receiptPoller = startQueuePoller({
      client: stack.components.sqs.client,
      region: 'us-east-1',
      queue: stack.queues.receipt,
      consumer: queues.receipt.consumer,
      fn: {
        name: localFunctionName({ stage: 'local', id: 'receipts' }),
        timeoutSeconds: fn.timeoutSeconds,
        memoryMb: fn.memoryMb,
      },
      handler,
      source: { entry: fn.entry, rootDir: repoRoot },
      logger: createLogger({ component: 'bench', level: 'ERROR' }),
    });
    stopPoller = () => receiptPoller.stop();
    const busy = await runLoad(stack.apiUrl, busyRequests);

    // Which callbacks were accepted, and which records their receipts named.
    const named = new Set<number>();
    let accepted = 0;
    let acceptedReceipts = 0;
    let lastAcceptedAt = 0;
    const refusedByStatus = new Map<number, number>();
    const account = (result: LoadResult, offset: number): number[] => {
      const latencies: number[] = [];
      for (let c = 0; c < result.statuses.length; c++) {
        const status = result.statuses[c] ?? 0;
        if (status !== 200) {
          refusedByStatus.set(status, (refusedByStatus.get(status) ?? 0) + 1);
          continue;
        }
        accepted++;
        acceptedReceipts += receiptsPerCallback;
        lastAcceptedAt = Math.max(lastAcceptedAt, result.doneAt[c] ?? 0);
        for (let k = 0; k < receiptsPerCallback; k++)
          named.add(((offset + c) * receiptsPerCallback + k) % records);
        latencies.push(result.latencies[c] ?? 0);
      }
      return latencies.sort((a, b) => a - b);
    };
    account(warm, 0);
    const acceptedLatencies = account(load, warmup);
    const busyLatencies = account(busy, warmup + callbacks);
    const acceptedPerSec = acceptedLatencies.length / load.seconds;
    const busyPerSec = busyLatencies.length / busy.seconds;

    // Drained: every accepted callback's queue message handled and deleted, none in flight,
    // and every record an accepted receipt named in the state its receipt said.
    const wrongRecords = async (): Promise<number> => {
      let wrong = 0;
      let seen = 0;
      for await (const page of store.scan(tenantId, runId)) {
        for (const record of page) {
          const i = Number(record.memberId.slice(1));
          if (!named.has(i)) continue;
          seen++;
          if (record.state !== expectedState(i)) wrong++;
        }
      }
      return wrong + (named.size - seen);
    };
    let lost = named.size;
    const deadline = Date.now() + drainTimeoutMs;
    let shownAt = 0;
    for (;;) {
      const stats = receiptPoller.stats();
      if (stats.recordsDeleted >= accepted && stats.inFlight === 0) {
        lost = await wrongRecords();
        if (lost === 0) break;
      }
      if (Date.now() > deadline) break;
      if (Date.now() - shownAt > 10_000) {
        shownAt = Date.now();
        console.log(`  applying: ${stats.recordsDeleted} of ${accepted} callbacks applied`);
      }
      await new Promise((resolve) => setTimeout(resolve, stats.recordsDeleted >= accepted ? 1_000 : 100));
    }
    const drainedAt = Date.now();
    const drainSeconds = (drainedAt - lastAcceptedAt) / 1000;
    const applied = receiptPoller.stats();

    // Where a callback's time goes: each step alone, one at a time, on the idle stack.
    const profileCount = 300;
    const sample = callbackAt(0);
    const sampleRequest = {
      provider: 'simulator' as const,
      account: tenantId,
      kind: undefined,
      url: `${stack.apiUrl}${path}`,
      headers: sample.headers,
      query: {},
      body: Buffer.from(sample.body, 'utf8'),
    };
    const queueBody = JSON.stringify({
      type: 'callback.batch',
      tenantId,
      events: JSON.parse(sample.body).receipts,
    });
    const profileRequests = Array.from({ length: profileCount }, (_, c) => callbackAt(1_000_000 + c));
    const post = (target: string, request: LoadRequest) =>
      fetch(new URL(request.path, target), {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      }).then((response) => response.text());
    const profile = {
      'verify HMAC + read body (CPU)': await timeStep(profileCount, () =>
        simulatorCallbackReader.read({ request: sampleRequest, secret: accountSecret, now: new Date() }),
      ),
      'tenant GetItem': await timeStep(profileCount, () => tenants.getTenant(tenantId)),
      'replay claim (conditional PutItem)': await timeStep(profileCount, (i) =>
        replays.claim({
          tenantId,
          provider: 'simulator',
          callbackId: `profile-${i}`,
          expiresAt: new Date(Date.now() + 600_000),
        }),
      ),
      'SQS SendMessage (fauxqs)': await timeStep(profileCount, () =>
        sqs.send(new SendMessageCommand({ QueueUrl: scratchQueue ?? '', MessageBody: queueBody })),
      ),
      'whole callback POST': await timeStep(profileCount, (i) =>
        post(stack.apiUrl, profileRequests[i] ?? sample),
      ),
      'bare node:http POST': await timeStep(profileCount, (i) =>
        post(bare.url, profileRequests[i] ?? sample),
      ),
    };
    console.table(Object.entries(profile).map(([step, times]) => ({ step, ...times })));

    const row = (target: string, result: LoadResult, ok: number[], perSec: number) => ({
      target,
      connections,
      requests: result.statuses.length,
      ok: ok.length,
      perSec: round1(perSec),
      p50Ms: round3(percentile(ok, 50)),
      p99Ms: round3(percentile(ok, 99)),
    });
    console.table([
      row('callbacks (receipt consumer held)', load, acceptedLatencies, acceptedPerSec),
      row('callbacks while applying', busy, busyLatencies, busyPerSec),
      row('bare node:http', bareLoad, bareSorted, bareHttpPerSec),
    ]);
    console.log(
      `  ${records} records seeded in ${round1(seedSeconds)} s; ${accepted} callbacks accepted ` +
        `(${acceptedReceipts} receipts for ${named.size} records, warm-up included), refused: ` +
        `${JSON.stringify(Object.fromEntries(refusedByStatus))}; receipts function: ` +
        `${applied.invocations} invocations, ${applied.failedInvocations} failed ` +
        `(${applied.timedOutInvocations} timed out), ${applied.recordsRetried} records retried, ` +
        `${Math.round(applied.handlerMs)} ms in the handler, applied in ${round1((drainedAt - applyingFrom) / 1000)} s` +
        (applied.lastError ? `; last error: ${applied.lastError.message}` : ''),
    );

    return {
      name: 'receipts',
      figures: {
        records,
        callbacks: load.statuses.length,
        receiptsPerCallback,
        connections,
        acceptedPerSec: round1(acceptedPerSec),
        p50Ms: round1(percentile(acceptedLatencies, 50)),
        p99Ms: round1(percentile(acceptedLatencies, 99)),
        acceptedPerSecWhileApplying: round1(busyPerSec),
        p99MsWhileApplying: round1(percentile(busyLatencies, 99)),
        refused: callbacks + warmup + busyCallbacks - accepted,
        drainSeconds: round1(drainSeconds),
        receiptsAppliedPerSec: round1(acceptedReceipts / Math.max(0.001, (drainedAt - applyingFrom) / 1000)),
        lost,
        bareHttpPerSec: round1(bareHttpPerSec),
        ratioToBareHttp: round3(acceptedPerSec / bareHttpPerSec),
        callbackIoPerSec: round1(callbackIoPerSec),
        ratioToCallbackIo: round3(acceptedPerSec / callbackIoPerSec),
      },
      targets: { acceptedPerSec: { min: 1000 }, p99Ms: { max: 50 }, lost: { max: 0 } },
    };
  } finally {
    await stopPoller();
    await bare.close();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;
