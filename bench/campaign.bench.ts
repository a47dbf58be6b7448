import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ConsumedCapacity,
  createDocumentClient,
  DynamoMemberStore,
  type ObservedCall,
  observeAwsCalls,
  PutCommand,
} from '@qunfa/aws';
import { defaultSenderSettings, inChunks, type Member, mapWithConcurrency } from '@qunfa/domain';
import { type PollerStats, startLocalStack } from '@qunfa/local';
import { functions } from '@qunfa/resources';
import * as z from 'zod';
import { type BenchResult, round1 } from './support';

// A campaign to BENCH_CAMPAIGN_MEMBERS (100,000) members on the local stack, end to end:
// schedule → segmenter → send queue → sender → provider simulator. Every AWS call the
// functions make is counted where it is made (the wire clients' process observer, with
// DynamoDB's ReturnConsumedCapacity), the event source mappings' SQS calls from the pollers,
// the handlers' time from the pollers' invocation durations. The ceiling, measured in the
// same run, is DynamoDB Local's raw rate of conditional single-item writes at the sender's
// concurrency. docs/cost.md turns the counts into dollars; `usdPerMillion` is that sum.

const members = Number(process.env.BENCH_CAMPAIGN_MEMBERS ?? 100_000);
const readOperations = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

/** Typical AWS latencies (ms) for the Lambda duration model (docs/cost.md). */
export const latencyMs = { dynamodb: 6, sqs: 12, provider: 150 } as const;

/** AWS list prices, us-east-1, November 2026 (docs/cost.md gives the sources). */
export const prices = {
  lambdaGbSecond: 0.0000133334, // arm64
  lambdaRequest: 0.2 / 1e6,
  sqsRequest: 0.4 / 1e6, // standard queue, per 64 KB chunk
  dynamoWriteUnit: 0.625 / 1e6, // on-demand write request unit
  dynamoReadUnit: 0.125 / 1e6, // on-demand read request unit
  schedulerInvocation: 1 / 1e6,
  apiRequest: 1 / 1e6, // HTTP API
} as const;

interface Meter {
  requests: Map<string, number>;
  /** Capacity units by `<operation> <table>`. */
  units: Map<string, number>;
  readUnits: number;
  writeUnits: number;
  sqsRequests: number;
  dynamoRequests: number;
  unitsMissing: number;
  /** Reads of absent items: DynamoDB charges them (0.5 or 1 unit), DynamoDB Local reports 0. */
  absentReadUnits: number;
}

function meter(): { meter: Meter; stop: () => void } {
  const m: Meter = {
    requests: new Map(),
    units: new Map(),
    readUnits: 0,
    writeUnits: 0,
    sqsRequests: 0,
    dynamoRequests: 0,
    unitsMissing: 0,
    absentReadUnits: 0,
  };
  const observe = (call: ObservedCall): void => {
    const key = `${call.service}.${call.operation}`;
    m.requests.set(key, (m.requests.get(key) ?? 0) + call.attempts);
    if (call.service === 'sqs') m.sqsRequests += call.attempts;
    if (call.service !== 'dynamodb') return;
    m.dynamoRequests += call.attempts;
    const units = consumedUnits(call.output?.text);
    if (units === undefined) {
      m.unitsMissing++;
      return;
    }
    for (const [table, n] of units) {
      if (readOperations.has(call.operation)) m.readUnits += n;
      else m.writeUnits += n;
      const unitKey = `${call.operation} ${table}`;
      m.units.set(unitKey, (m.units.get(unitKey) ?? 0) + n);
    }
    m.absentReadUnits += absentReadUnits(call);
  };
  return { meter: m, stop: observeAwsCalls(observe, { returnConsumedCapacity: true }) };
}

/** What DynamoDB charges for the keys of a BatchGetItem that found no item. */
function absentReadUnits(call: ObservedCall): number {
  // DynamoDB Local already reports a GetItem that found nothing; a BatchGetItem's absent keys it does not.
  if (!call.body || !call.output || call.operation !== 'BatchGetItem') return 0;
  const request = JSON.parse(call.body) as {
    RequestItems?: Record<string, { Keys: unknown[]; ConsistentRead?: boolean }>;
  };
  const answer = JSON.parse(call.output.text) as { Responses?: Record<string, unknown[]> };
  let units = 0;
  for (const [table, { Keys, ConsistentRead }] of Object.entries(request.RequestItems ?? {})) {
    const absent = Keys.length - (answer.Responses?.[table]?.length ?? 0);
    units += absent * (ConsistentRead ? 1 : 0.5);
  }
  return units;
}

/** The units an answer says it consumed, by table (the stage prefix dropped). */
function consumedUnits(text: string | undefined): Map<string, number> | undefined {
  if (!text?.includes('ConsumedCapacity')) return undefined;
  const { ConsumedCapacity } = JSON.parse(text) as {
    ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[];
  };
  const list = Array.isArray(ConsumedCapacity)
    ? ConsumedCapacity
    : ConsumedCapacity
      ? [ConsumedCapacity]
      : [];
  const byTable = new Map<string, number>();
  for (const entry of list) {
    const table = (entry.TableName ?? '?').split('-').at(-1) ?? '?';
    byTable.set(table, (byTable.get(table) ?? 0) + (entry.CapacityUnits ?? 0));
  }
  return byTable;
}

function member(i: number, at: string): Member {
  return {
    memberId: `B${String(i).padStart(7, '0')}`,
    phone: `+8613${String(300_000_000 + i).slice(-9)}`,
    phoneStatus: 'valid',
    name: `会员${i}`,
    tier: i % 5 ? '银卡' : '金卡',
    tags: ['bench'],
    points: i % 1000,
    consent: { status: 'granted', at, source: 'import' },
    createdAt: at,
    updatedAt: at,
  };
}

/** Conditional single-item puts at the sender's concurrency, straight to DynamoDB Local. */
async function rawWritesPerSec(endpoint: string, tableName: string, concurrency: number): Promise<number> {
  const client = createDocumentClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const count = 6_000;
  const started = performance.now();
  await mapWithConcurrency(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: `ceiling#${i % 32}`, sk: `M#${i}`, state: 'sent', updatedAt: new Date().toISOString() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },
  );
  return count / ((performance.now() - started) / 1000);
}

export async function campaign(): Promise<BenchResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'qunfa-bench-campaign-'));
  const stack = await startLocalStack({
    dataDir,
    ports: { api: 0, dynamodb: 0, sqs: 0, scheduler: 0, simulator: 0 },
    logLevel: 'ERROR',
    // DynamoDB Local in memory: the figures are the pipeline's, not SQLite's on this disk.
    persist: false,
    simulator: { seed: 11, receipts: { enabled: false }, rateLimit: { partsPerSecond: 100_000 } },
  });
  try {
    if (!stack.firstTenant.created) throw new Error('expected a fresh local stack');
    const { apiKey, tenantId } = stack.firstTenant;
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      tries = 3,
    ): Promise<Record<string, unknown>> => {
      let response: Response;
      try {
        response = await fetch(new URL(path, stack.apiUrl), {
          method,
          headers: {
            authorization: `Bearer ${apiKey}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (error) {
        // A keep-alive connection reset under load: ask again (reads only).
        if (method !== 'GET' || tries <= 1) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
        return call(method, path, body, tries - 1);
      }
      const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (response.status >= 300)
        throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
      return json;
    };

    const senderConcurrency =
      stack.components.pollers.stats().find((stats) => stats.functionName.includes('sender'))
        ?.maxConcurrency ?? 4;
    const ceiling = await rawWritesPerSec(
      stack.components.dynamodb.endpoint,
      stack.tables.messages,
      senderConcurrency,
    );

    const seeded = performance.now();
    const store = new DynamoMemberStore({
      client: createDocumentClient({
        endpoint: stack.components.dynamodb.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      tableName: stack.tables.members,
    });
    const at = new Date().toISOString();
    for (const chunk of inChunks(
      Array.from({ length: members }, (_, i) => i),
      2_000,
    )) {
      await store.put(
        tenantId,
        chunk.map((i) => ({ member: member(i, at), expectedUpdatedAt: null })),
      );
    }
    const seedSeconds = (performance.now() - seeded) / 1000;

    await call('PATCH', '/tenant', { sendWindow: { start: '00:00', end: '24:00' } });
    const template = await call('POST', '/templates', {
      name: '会员日',
      category: 'marketing',
      body: '{{name|default:"会员"}}，会员日全场 8 折，{{points|number}} 积分可抵现',
    });
    const segment = await call('POST', '/segments', {
      name: 'bench',
      definition: { tags: { any: ['bench'] } },
    });
    const created = await call('POST', '/campaigns', {
      name: 'bench',
      category: 'marketing',
      audience: { segmentId: segment.segmentId },
      content: { templateId: template.templateId },
      schedule: { kind: 'now' },
    });
    const campaignId = String(created.campaignId);

    const before = pollerTotals(stack.components.pollers.stats());
    const { meter: counts, stop } = meter();
    const started = performance.now();
    await call('POST', `/campaigns/${campaignId}/schedule`);
    let latest: Record<string, unknown> | undefined;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const body = await call('GET', `/campaigns/${campaignId}`);
      latest = body.latestRun as Record<string, unknown> | undefined;
      if (latest?.state === 'completed' || latest?.state === 'failed') break;
      process.stdout.write(
        `\r  ${String(latest?.state ?? 'starting')} sent ${String(latest?.sent ?? 0)} of ${members}   `,
      );
    }
    const seconds = (performance.now() - started) / 1000;
    stop();
    process.stdout.write('\n');
    const after = pollerTotals(stack.components.pollers.stats());
    console.table(
      stack.components.pollers
        .stats()
        .map(
          ({
            functionName,
            invocations,
            failedInvocations,
            timedOutInvocations,
            recordsReceived,
            recordsRetried,
            handlerMs,
          }) => ({
            functionName,
            invocations,
            failedInvocations,
            timedOutInvocations,
            recordsReceived,
            recordsRetried,
            handlerMs: Math.round(handlerMs),
          }),
        ),
    );

    const simulated = (await (
      await fetch(`${stack.components.simulator.url}/admin/messages/counts`)
    ).json()) as {
      total: number;
      phones: number;
      duplicateReferences: string[];
    };
    // The invariants, from the simulator's own record and the run's final counts (recounted
    // from the records at completion): nobody twice; every member ends with an outcome (sent,
    // failed or unknown, or suppressed with a reason); every message recorded sent arrived. A
    // provider call that timed out is `unknown` (never resent), whether or not it arrived.
    const run = z
      .object({
        targeted: z.number(),
        sent: z.number(),
        failed: z.number(),
        unknown: z.number(),
        suppressed: z.object({ total: z.number(), byReason: z.record(z.string(), z.number()) }),
      })
      .parse(latest);
    const sent = simulated.total;
    const duplicates = simulated.total - simulated.phones + simulated.duplicateReferences.length;
    const lost =
      members -
      (run.sent + run.failed + run.unknown + run.suppressed.total) +
      Math.max(0, run.sent - simulated.phones);
    console.log(
      `  run: ${JSON.stringify(run)}; the simulator received ${simulated.total} for ${simulated.phones} phones`,
    );

    const invocations = after.invocations - before.invocations;
    const handlerMs = after.handlerMs - before.handlerMs;
    // The event source mappings' own SQS calls: a ReceiveMessage per batch and a
    // DeleteMessageBatch per batch handled (idle long polls are a fixed cost, not per message).
    const esmSqsRequests = 2 * invocations;
    const perMessage = (value: number) => value / Math.max(1, sent);
    const writeUnitsPerMessage = perMessage(counts.writeUnits);
    const readUnitsPerMessage = perMessage(counts.readUnits + counts.absentReadUnits);
    const sqsRequestsPerMessage = perMessage(counts.sqsRequests + esmSqsRequests);
    const handlerMsPer1000 = perMessage(handlerMs) * 1000;
    const writeRequestsPerMessage = perMessage(
      [...counts.requests]
        .filter(([key]) => key.startsWith('dynamodb.') && !readOperations.has(key.slice('dynamodb.'.length)))
        .reduce((sum, [, n]) => sum + n, 0),
    );
    const messagesPerSec = sent / seconds;
    // Lambda's billed duration cannot be read off the local stack, where one DynamoDB Local
    // on two shared cores answers 10–100× slower than DynamoDB: it is modeled from the counted
    // calls at AWS's typical latencies, each member's calls in sequence, `senderConcurrency`
    // members at a time (docs/cost.md), plus a millisecond of CPU per message.
    const modeledMsPerMessage =
      (perMessage(counts.dynamoRequests) * latencyMs.dynamodb +
        perMessage(counts.sqsRequests) * latencyMs.sqs +
        perMessage(simulated.total) * latencyMs.provider) /
        defaultSenderSettings.concurrency +
      1;
    const lambdaGbSecondsPerMessage = (modeledMsPerMessage / 1000) * (functions.sender.memoryMb / 1024);
    const usd = {
      dynamoWrites: writeUnitsPerMessage * prices.dynamoWriteUnit,
      dynamoReads: readUnitsPerMessage * prices.dynamoReadUnit,
      sqs: sqsRequestsPerMessage * prices.sqsRequest,
      lambda:
        perMessage(invocations) * prices.lambdaRequest + lambdaGbSecondsPerMessage * prices.lambdaGbSecond,
      // One schedule and a handful of API calls per campaign, spread over its messages.
      fixed: (2 * prices.schedulerInvocation + 20 * prices.apiRequest) / Math.max(1, sent),
    };
    const usdPerMillion = 1e6 * Object.values(usd).reduce((sum, value) => sum + value, 0);
    console.table(Object.entries(usd).map(([item, value]) => ({ item, usdPerMillion: round3(value * 1e6) })));

    console.table(
      [...counts.requests]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([call, n]) => ({ call, perMessage: round3(n / sent) })),
    );
    console.table(
      [...counts.units]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([call, n]) => ({ call, unitsPerMessage: round3(n / sent) })),
    );
    console.log(
      `  ${members} members seeded in ${round1(seedSeconds)} s; campaign ${String(latest?.state)} in ${round1(seconds)} s; ` +
        `${invocations} invocations; ${counts.unitsMissing} DynamoDB answers without consumed capacity`,
    );

    return {
      name: 'campaign',
      figures: {
        members,
        messagesPerSec: round1(messagesPerSec),
        writeUnitsPerMessage: round3(writeUnitsPerMessage),
        readUnitsPerMessage: round3(readUnitsPerMessage),
        sqsRequestsPerMessage: round3(sqsRequestsPerMessage),
        handlerMsPer1000: round1(handlerMsPer1000),
        modeledLambdaMsPerMessage: round3(modeledMsPerMessage),
        rawWritesPerSec: round1(ceiling),
        ratioToRawWrite: round3((messagesPerSec * writeRequestsPerMessage) / ceiling),
        usdPerMillion: round3(usdPerMillion),
        duplicates,
        lost,
        unknown: run.unknown,
      },
      targets: { usdPerMillion: { max: 3 }, duplicates: { max: 0 }, lost: { max: 0 } },
    };
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Invocations and handler time so far, over every poller. */
function pollerTotals(stats: readonly PollerStats[]): { invocations: number; handlerMs: number } {
  return {
    invocations: stats.reduce((sum, poller) => sum + poller.invocations, 0),
    handlerMs: stats.reduce((sum, poller) => sum + poller.handlerMs, 0),
  };
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;
