import { randomBytes } from 'node:crypto';
import {
  campaignStore,
  createLogger as createQunfaLogger,
  createSenderHandler,
  DynamoFrequencyCapStore,
  DynamoMemberStore,
  DynamoMessageStore,
  DynamoOptOutStore,
  DynamoRunCounters,
  DynamoRunStore,
  DynamoTenantStore,
  SqsClient,
  senderDeps,
  templateStore,
} from '@qunfa/aws';
import {
  type Campaign,
  type CampaignRun,
  type CampaignSendWindow,
  capDay,
  getCampaignWithProgress,
  type Member,
  type MessageRecord,
  phoneHash,
  runIdFor,
  type SavedTemplate,
  type SendBatchMessage,
  type SenderDeps,
  type SendMessage,
  segmentRun,
  startSendSession,
  type Tenant,
  tenantSettings,
} from '@qunfa/domain';
import { createLogger, type ProviderSimulator, startProviderSimulator } from '@qunfa/local';
import { createSimulatorProvider } from '@qunfa/providers';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { lambdaContext, loadEvent } from '../support/events';
import { type LocalDynamo, localCredentials, localRegion, startLocalDynamo } from '../support/local';

// The sender on DynamoDB Local and the provider simulator (started in this process): the
// segmenter records a run's audience and hands over its send.batch messages, the sender works
// them, and the simulator's own record (GET /admin/messages/counts) says what each phone
// received. Every test ends with the run's counters adding up to its audience.

let dynamo: LocalDynamo;
let simulator: ProviderSimulator;

beforeAll(async () => {
  [dynamo, simulator] = await Promise.all([
    startLocalDynamo(),
    startProviderSimulator({
      config: { seed: 11, rateLimit: { partsPerSecond: null }, receipts: { enabled: false } },
      logger: createLogger({ component: 'simulator', level: 'SILENT' }),
    }),
  ]);
});

afterAll(async () => {
  await simulator?.stop();
  await dynamo?.stop();
});

afterEach(() => {
  simulator.reset();
  simulator.configure({
    failureRate: 0,
    timeoutRate: 0,
    rateLimit: { partsPerSecond: null, burstParts: null },
    numbers: { invalid: [], unreachable: [], expired: [], partFailure: [] },
  });
});

// ── a clock that runs from a chosen wall time (in the future: DynamoDB Local applies TTL at once) ──

const hour = 3_600_000;
/** Tomorrow 02:00 UTC: 10:00 in Shanghai, inside the default 09:00–20:00 window. */
const tomorrow = (Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000;
const shanghai10 = tomorrow + 2 * hour;
const shanghai21 = tomorrow + 13 * hour;

function clockAt(start: number) {
  const realStart = Date.now();
  let offset = 0;
  return {
    now: () => new Date(start + offset + (Date.now() - realStart)),
    advance: (ms: number) => {
      offset += ms;
    },
  };
}

// ── a tenant, its members, a campaign and a run the segmenter has recorded ──

const counts = z.object({
  total: z.number(),
  phones: z.number(),
  byPhone: z.record(z.string(), z.number()),
  duplicateReferences: z.array(z.string()),
});

/** What the simulator accepted, from its admin API. */
async function received(): Promise<z.infer<typeof counts>> {
  const response = await fetch(`${simulator.url}/admin/messages/counts`);
  return counts.parse(await response.json());
}

interface MemberSpec {
  readonly consent?: 'granted' | 'unknown';
  readonly phoneStatus?: 'valid' | 'invalid';
  readonly name?: string | null;
  readonly timeZone?: string;
}

let phonePrefix = 1000;

interface Scenario {
  readonly tenant: Tenant;
  readonly campaign: Campaign;
  readonly run: CampaignRun;
  readonly members: readonly Member[];
  readonly sends: readonly SendMessage[];
  readonly clock: ReturnType<typeof clockAt>;
  readonly deps: SenderDeps;
}

async function scenario({
  size,
  spec = () => ({}),
  sendWindow = { start: '09:00', end: '20:00', outside: 'hold' },
  at = shanghai10,
  variants = [{ variantId: 'A', percent: 100 }],
  body = '{{name|default:"会员"}}您好，双11全场8折',
  optedOutAtSegmentation = [],
  budget,
}: {
  size: number;
  spec?: (i: number) => MemberSpec;
  sendWindow?: CampaignSendWindow;
  at?: number;
  variants?: { variantId: 'A' | 'B'; percent: number }[];
  body?: string;
  optedOutAtSegmentation?: readonly number[];
  /** A budget cap in CNY; the tenant then pays 0.045 CNY a part on the simulator. */
  budget?: string;
}): Promise<Scenario> {
  const client = dynamo.documentClient;
  const tables = dynamo.tableNames;
  const clock = clockAt(at);
  const tenantId = `t-${randomBytes(4).toString('hex')}`;
  const created = clock.now().toISOString();
  const tenant: Tenant = {
    tenantId,
    createdAt: created,
    ...tenantSettings.parse({
      name: '好又多',
      signature: '好又多',
      ...(budget === undefined
        ? {}
        : { partPrices: { simulator: { currency: 'CNY', pricePerPart: '0.045' } } }),
    }),
  };
  await new DynamoTenantStore({ client, tableName: tables.tenants }).createTenant(tenant);

  const prefix = phonePrefix++;
  const members = Array.from({ length: size }, (_, i): Member => {
    const { consent = 'granted', phoneStatus = 'valid', name = `会员${i}`, timeZone } = spec(i);
    return {
      memberId: `M${String(i).padStart(4, '0')}`,
      phone: `+86139${prefix}${String(i).padStart(4, '0')}`,
      phoneStatus,
      tags: [],
      consent: { status: consent },
      ...(name === null ? {} : { name }),
      ...(timeZone === undefined ? {} : { timeZone }),
      createdAt: created,
      updatedAt: created,
    };
  });
  const memberStore = new DynamoMemberStore({ client, tableName: tables.members });
  await memberStore.put(
    tenantId,
    members.map((member) => ({ member, expectedUpdatedAt: null })),
  );
  const optOuts = new DynamoOptOutStore({ client, tableName: tables.suppressions });
  for (const i of optedOutAtSegmentation) {
    const phone = members[i]?.phone ?? '';
    await optOuts.add(tenantId, { phoneHash: phoneHash({ tenantId, phone }), source: 'sms', at: created });
  }

  const templates = templateStore({ client, tableName: tables.campaigns });
  const templateIds: string[] = [];
  for (const variant of variants) {
    const template: SavedTemplate = {
      templateId: `tpl_${randomBytes(6).toString('hex')}`,
      name: `双11 ${variant.variantId}`,
      category: 'marketing',
      body: `${variant.variantId === 'B' ? '【B】' : ''}${body}`,
      variables: [],
      locale: 'zh-CN',
      createdAt: created,
      updatedAt: created,
    };
    await templates.create(tenantId, template.templateId, template);
    templateIds.push(template.templateId);
  }
  const campaign: Campaign = {
    campaignId: `cmp_${randomBytes(6).toString('hex')}`,
    name: '双11会员日',
    category: 'marketing',
    audience: { memberIds: members.map((member) => member.memberId) },
    content:
      variants.length === 1
        ? { templateId: templateIds[0] ?? '' }
        : {
            variants: variants.map((variant, i) => ({
              variantId: variant.variantId,
              templateId: templateIds[i] ?? '',
              percent: variant.percent,
            })),
          },
    schedule: { kind: 'now' },
    sendWindow,
    holdoutPercent: 0,
    ...(budget === undefined ? {} : { budget: { amount: budget, currency: 'CNY' } }),
    state: 'running',
    createdAt: created,
    updatedAt: created,
  };
  await campaignStore({ client, tableName: tables.campaigns }).create(
    tenantId,
    campaign.campaignId,
    campaign,
  );
  const run: CampaignRun = {
    campaignId: campaign.campaignId,
    runId: runIdFor(created),
    scheduledAt: created,
    receivedAt: created,
    startedAt: created,
    state: 'running',
    pauses: [],
    createdAt: created,
    updatedAt: created,
  };
  await new DynamoRunStore({ client, tableName: tables.campaigns }).create(tenantId, run);

  const sends: SendMessage[] = [];
  const messages = new DynamoMessageStore({ client, tableName: tables.messages });
  const counters = new DynamoRunCounters({ client, tableName: tables.metrics });
  await segmentRun(
    {
      members: memberStore,
      optOuts,
      messages,
      counters,
      enqueueSends: async (batch) => {
        sends.push(...batch);
      },
      now: clock.now,
    },
    {
      tenant,
      campaignId: campaign.campaignId,
      runId: run.runId,
      category: 'marketing',
      audience: { memberIds: members.map((member) => member.memberId) },
      holdoutPercent: 0,
      variants,
      deadline: new Date(clock.now().getTime() + 60_000),
    },
  );
  const deps: SenderDeps = {
    ...senderDeps({
      client,
      sqs: new SqsClient({
        region: localRegion,
        endpoint: 'http://127.0.0.1:9',
        credentials: localCredentials,
      }),
      config: { table: (id) => tables[id], queueUrl: () => 'http://127.0.0.1:9/000000000000/unused' },
      env: { PROVIDER_SIMULATOR_URL: simulator.url },
    }),
    now: clock.now,
  };
  return { tenant, campaign, run, members, sends, clock, deps };
}

// ── delivering send.batch messages the way the queue would ──

interface Delivered {
  readonly requeued: { message: SendBatchMessage; delaySeconds: number }[];
  readonly errors: unknown[];
}

/** One invocation: these messages, then the session's close (counts, completion). */
async function invoke(
  deps: SenderDeps,
  messages: readonly SendBatchMessage[],
  { receiveCount = 1 }: { receiveCount?: number } = {},
): Promise<Delivered> {
  const requeued: Delivered['requeued'] = [];
  const errors: unknown[] = [];
  const session = startSendSession(
    {
      ...deps,
      requeue: async (batch) => {
        requeued.push(...batch);
      },
    },
    { deadline: new Date(deps.now().getTime() + 45_000) },
  );
  for (const message of messages) {
    try {
      await session.process(message, { receiveCount });
    } catch (error) {
      errors.push(error);
    }
  }
  await session.close();
  return { requeued, errors };
}

/**
 * One invocation killed after its batches' moves and before its close: every outcome is on
 * the records, no count was added. `close` is that invocation's counts, added late, if it
 * was only slow.
 */
async function invokeUntilClose(
  deps: SenderDeps,
  messages: readonly SendBatchMessage[],
): Promise<{ errors: unknown[]; close: () => Promise<unknown> }> {
  const errors: unknown[] = [];
  const session = startSendSession(
    { ...deps, requeue: async () => undefined },
    { deadline: new Date(deps.now().getTime() + 45_000) },
  );
  for (const message of messages) {
    try {
      await session.process(message);
    } catch (error) {
      errors.push(error);
    }
  }
  return { errors, close: () => session.close() };
}

/** Invocations until nothing is put back, waiting (really) for short delays between rounds. */
async function drain(
  deps: SenderDeps,
  messages: readonly SendBatchMessage[],
  { rounds = 30 }: { rounds?: number } = {},
): Promise<{ requeues: number; probes: number }> {
  let queue = [...messages];
  let requeues = 0;
  let probes = 0;
  for (let round = 0; round < rounds && queue.length > 0; round++) {
    const { requeued, errors } = await invoke(deps, queue);
    expect(errors).toEqual([]);
    const work = requeued.filter(({ message }) => !message.probe);
    probes += requeued.length - work.length;
    requeues += work.length;
    const longest = Math.max(0, ...work.map(({ delaySeconds }) => delaySeconds));
    if (longest > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(longest, 2) * 1_000));
    queue = work.map(({ message }) => message);
  }
  expect(queue).toEqual([]);
  return { requeues, probes };
}

async function records(s: Scenario): Promise<MessageRecord[]> {
  const all: MessageRecord[] = [];
  for await (const page of s.deps.messages.scan(s.tenant.tenantId, s.run.runId)) all.push(...page);
  return all.sort((a, b) => a.memberId.localeCompare(b.memberId));
}

async function tally(s: Scenario) {
  return s.deps.counters.read(s.tenant.tenantId, s.campaign.campaignId, s.run.runId);
}

/** Invariant 2: every targeted member in exactly one end state, in total and per variant. */
async function expectCountsAddUp(s: Scenario): Promise<void> {
  const { total, byVariant } = await tally(s);
  expect(total.targeted).toBe(s.members.length);
  for (const counts of [total, ...Object.values(byVariant)]) {
    expect(counts.suppressed.total + counts.sent + counts.failed + counts.unknown).toBe(counts.targeted);
  }
  const open = (await records(s)).filter((r) => r.state === 'pending' || r.state === 'claimed');
  expect(open).toEqual([]);
}

/** The records counted the way the counters count them: outcome per state (none is accepted then failed here). */
async function recordCounts(s: Scenario): Promise<Record<string, number>> {
  const counted: Record<string, number> = {};
  for (const record of await records(s)) {
    const key = record.state === 'suppressed' ? `suppressed.${record.reason}` : record.state;
    counted[key] = (counted[key] ?? 0) + 1;
  }
  return counted;
}

/** GET /campaigns/{id}'s latest run: what a merchant sees. */
async function progress(s: Scenario) {
  const read = await getCampaignWithProgress(
    { campaigns: s.deps.campaigns, runs: s.deps.runs, runCounters: s.deps.counters, now: s.clock.now },
    { tenantId: s.tenant.tenantId, campaignId: s.campaign.campaignId },
  );
  return 'latestRun' in read ? read.latestRun : undefined;
}

async function runState(s: Scenario): Promise<string | undefined> {
  return (await s.deps.runs.get(s.tenant.tenantId, s.campaign.campaignId, s.run.runId))?.state;
}

const phonesOf = (s: Scenario, indexes: readonly number[]): string[] =>
  indexes.map((i) => s.members[i]?.phone ?? '');

describe('the sender', () => {
  it('sends exactly one message per pending member, none to the suppressed, and completes the run', async () => {
    const s = await scenario({
      size: 40,
      spec: (i) => ({
        consent: i % 10 === 0 ? 'unknown' : 'granted',
        phoneStatus: i === 7 ? 'invalid' : 'valid',
      }),
      optedOutAtSegmentation: [3],
      variants: [
        { variantId: 'A', percent: 50 },
        { variantId: 'B', percent: 50 },
      ],
    });
    const suppressed = [0, 10, 20, 30, 7, 3];

    await drain(s.deps, s.sends);

    const got = await received();
    expect(got.total).toBe(40 - suppressed.length);
    expect(Object.values(got.byPhone).every((n) => n === 1)).toBe(true);
    expect(got.duplicateReferences).toEqual([]);
    for (const phone of phonesOf(s, suppressed)) expect(got.byPhone[phone]).toBeUndefined();
    const sent = (await records(s)).filter((r) => r.state === 'sent');
    expect(sent).toHaveLength(34);
    expect(sent[0]).toMatchObject({
      providerMessageId: expect.stringMatching(/^sim-/),
      parts: 1,
      costMicros: 0,
    });
    const { total, byVariant } = await tally(s);
    expect(total).toMatchObject({ sent: 34, failed: 0, unknown: 0 });
    expect(Object.keys(byVariant).sort()).toEqual(['A', 'B']);
    await expectCountsAddUp(s);
    expect(await runState(s)).toBe('completed');
    expect((await s.deps.campaigns.get(s.tenant.tenantId, s.campaign.campaignId))?.state).toBe('completed');
  });

  it('starts nothing after its deadline: what it could not start comes back, and is sent once', async () => {
    const s = await scenario({ size: 40 });
    // A store so slow that the invocation's deadline (45 s) passes with its first claim.
    const slow: SenderDeps = {
      ...s.deps,
      messages: new Proxy(s.deps.messages, {
        get(store, name) {
          if (name === 'claim') {
            return async (...args: Parameters<SenderDeps['messages']['claim']>) => {
              const result = await store.claim(...args);
              s.clock.advance(50_000);
              return result;
            };
          }
          const value: unknown = Reflect.get(store, name);
          return typeof value === 'function' ? value.bind(store) : value;
        },
      }),
    };

    const first = await invoke(slow, s.sends);

    // Nothing was sent; every member is pending again and on its way back; no claim waits out a lease.
    expect(first.errors).toEqual([]);
    expect((await received()).total).toBe(0);
    const back = first.requeued
      .filter(({ message }) => !message.probe)
      .flatMap(({ message }) => message.memberIds);
    expect(back.sort()).toEqual(s.members.map(({ memberId }) => memberId).sort());
    expect((await records(s)).map(({ state }) => state)).toEqual(s.members.map(() => 'pending'));

    // The next invocations send each member once.
    await drain(
      s.deps,
      first.requeued.filter(({ message }) => !message.probe).map(({ message }) => message),
    );
    const got = await received();
    expect(got.total).toBe(40);
    expect(got.duplicateReferences).toEqual([]);
    await expectCountsAddUp(s);
  });

  it('sends once per member when the same batch is delivered twice at once and again later', async () => {
    const s = await scenario({ size: 60 });

    const [first, second] = await Promise.all([invoke(s.deps, s.sends), invoke(s.deps, s.sends)]);
    const again = await invoke(s.deps, s.sends, { receiveCount: 2 });
    // What each put back (members the other held at that moment) comes back after the lease.
    s.clock.advance(400_000);
    await drain(
      s.deps,
      [...first.requeued, ...second.requeued, ...again.requeued].map(({ message }) => message),
    );

    const got = await received();
    expect(got.total).toBe(60);
    expect(got.phones).toBe(60);
    expect(got.duplicateReferences).toEqual([]);
    expect([...first.errors, ...second.errors, ...again.errors]).toEqual([]);
    await expectCountsAddUp(s);
    expect((await tally(s)).total.sent).toBe(60);
    expect(await runState(s)).toBe('completed');
  });

  it('sends nothing to a member who opted out after the audience was recorded', async () => {
    const s = await scenario({ size: 10 });
    const optOuts = new DynamoOptOutStore({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.suppressions,
    });
    const phone = s.members[4]?.phone ?? '';
    await optOuts.add(s.tenant.tenantId, {
      phoneHash: phoneHash({ tenantId: s.tenant.tenantId, phone }),
      source: 'sms',
      at: s.clock.now().toISOString(),
    });

    await drain(s.deps, s.sends);

    const got = await received();
    expect(got.byPhone[phone]).toBeUndefined();
    expect(got.total).toBe(9);
    expect((await records(s)).find((r) => r.memberId === 'M0004')).toMatchObject({
      state: 'suppressed',
      reason: 'opted_out',
    });
    expect((await tally(s)).total.suppressed.byReason.opted_out).toBe(1);
    await expectCountsAddUp(s);
  });

  it('sends nothing to a member over the frequency cap, and counts them capped', async () => {
    const s = await scenario({ size: 10 });
    const caps = new DynamoFrequencyCapStore({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.suppressions,
    });
    const phone = s.members[2]?.phone ?? '';
    // Another campaign reached this member today: the daily cap (1) is spent.
    await caps.claim({
      tenantId: s.tenant.tenantId,
      memberKey: phoneHash({ tenantId: s.tenant.tenantId, phone }),
      claimId: 'run_other#M0002',
      now: s.clock.now(),
      caps: { windows: s.tenant.frequencyCaps, dailyMax: s.tenant.dailyMax },
      day: capDay({ now: s.clock.now(), timeZone: s.tenant.timeZone }),
    });

    await drain(s.deps, s.sends);

    const got = await received();
    expect(got.byPhone[phone]).toBeUndefined();
    expect(got.total).toBe(9);
    expect((await tally(s)).total.suppressed.byReason.capped).toBe(1);
    await expectCountsAddUp(s);
  });

  it('suppresses a member whose message cannot be filled as missing_variable', async () => {
    const s = await scenario({
      size: 5,
      body: '{{name}}您好，双11全场8折',
      spec: (i) => (i === 1 ? { name: null } : {}),
    });

    await drain(s.deps, s.sends);

    expect((await received()).total).toBe(4);
    expect((await tally(s)).total.suppressed.byReason.missing_variable).toBe(1);
    await expectCountsAddUp(s);
  });

  it('sends no more than the budget holds, the rest suppressed over_budget, with two senders at once', async () => {
    // 40 one-part messages at 0.045 CNY; 0.90 CNY holds 20.
    const s = await scenario({ size: 40, budget: '0.90' });
    const [send] = s.sends;
    if (!send) throw new Error('the segmenter enqueued nothing');
    const ids = s.sends.flatMap((message) => message.memberIds);
    const batchOf = (memberIds: string[]): SendBatchMessage => ({ ...send, memberIds });

    const [first, second] = await Promise.all([
      invoke(s.deps, [batchOf(ids.slice(0, 20))]),
      invoke(s.deps, [batchOf(ids.slice(20))]),
    ]);
    await drain(
      s.deps,
      [...first.requeued, ...second.requeued].map(({ message }) => message),
    );
    expect([...first.errors, ...second.errors]).toEqual([]);

    const got = await received();
    expect(got.total).toBe(20);
    expect(got.duplicateReferences).toEqual([]);
    const { total } = await tally(s);
    expect(total).toMatchObject({ sent: 20, spentMicros: 900_000 });
    expect(total.suppressed.byReason.over_budget).toBe(20);
    expect(await s.deps.budget.reserved(s.tenant.tenantId, s.campaign.campaignId, s.run.runId)).toBe(900_000);
    await expectCountsAddUp(s);
  });

  it('works a Lambda SQS event: one counter add per run for the invocation, a malformed record reported', async () => {
    const s = await scenario({ size: 30 });
    const adds: string[] = [];
    const requeued: unknown[] = [];
    const handler = createSenderHandler({
      deps: {
        ...s.deps,
        counters: {
          add: async (tenantId, campaignId, runId, deltas) => {
            adds.push(runId);
            await s.deps.counters.add(tenantId, campaignId, runId, deltas);
          },
          read: (...args) => s.deps.counters.read(...args),
          finalize: (...args) => s.deps.counters.finalize(...args),
        },
        requeue: async (messages) => {
          requeued.push(...messages);
        },
      },
      logger: createQunfaLogger({ service: 'sender-test', level: 'SILENT' }),
    });
    const [template] = loadEvent<SQSEvent>('sqs', 'two-records').Records;
    if (!template) throw new Error('the SQS fixture has no record');
    const recordOf = (body: string, i: number): SQSRecord => ({ ...template, messageId: `m-${i}`, body });
    const batches = s.sends.slice(0, 4);
    const event: SQSEvent = {
      Records: [
        ...batches.map((batch, i) => recordOf(JSON.stringify(batch), i)),
        recordOf('{"type":"send.batch"}', 9),
      ],
    };

    const result = await handler(event, {
      ...lambdaContext('sender'),
      getRemainingTimeInMillis: () => 60_000,
    });

    const members = batches.flatMap((batch) => batch.memberIds);
    const got = await received();
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-9' }] });
    expect(adds).toEqual([s.run.runId]);
    expect(got.total).toBe(members.length);
    expect(requeued).toEqual([]);
    expect((await tally(s)).total.sent).toBe(members.length);
  });

  describe('quiet hours', () => {
    it('holds members outside the window, unclaimed, and sends them once it opens', async () => {
      const s = await scenario({
        size: 6,
        at: shanghai21,
        // 21:00 in Shanghai is 13:00 in London: that member's window is open.
        spec: (i) => (i === 5 ? { timeZone: 'Europe/London' } : {}),
      });

      const night = await invoke(s.deps, s.sends);

      expect((await received()).total).toBe(1);
      expect(night.requeued.map(({ delaySeconds }) => delaySeconds)).toEqual(night.requeued.map(() => 900));
      expect(night.requeued.flatMap(({ message }) => message.memberIds).sort()).toEqual([
        'M0000',
        'M0001',
        'M0002',
        'M0003',
        'M0004',
      ]);
      expect((await records(s)).filter((r) => r.state === 'pending')).toHaveLength(5);
      expect(await runState(s)).toBe('running');

      // The chain: back after 15 minutes, still night, back again; then the morning.
      s.clock.advance(900_000);
      const later = await invoke(
        s.deps,
        night.requeued.map(({ message }) => message),
      );
      expect(later.requeued.map(({ delaySeconds }) => delaySeconds)).toEqual(later.requeued.map(() => 900));
      expect((await received()).total).toBe(1);
      s.clock.advance(12 * hour);
      await drain(
        s.deps,
        later.requeued.map(({ message }) => message),
      );

      const got = await received();
      expect(got.total).toBe(6);
      expect(got.duplicateReferences).toEqual([]);
      await expectCountsAddUp(s);
      expect(await runState(s)).toBe('completed');
    });

    it('drops members outside the window when the campaign says drop, counted as quiet_hours', async () => {
      const s = await scenario({
        size: 6,
        at: shanghai21,
        sendWindow: { start: '09:00', end: '20:00', outside: 'drop' },
      });

      await drain(s.deps, s.sends);

      expect((await received()).total).toBe(0);
      expect((await tally(s)).total.suppressed.byReason.quiet_hours).toBe(6);
      await expectCountsAddUp(s);
      expect(await runState(s)).toBe('completed');
    });
  });

  describe('provider answers', () => {
    it('requeues throttled messages, never failing them, until every member has one', async () => {
      const s = await scenario({ size: 30 });
      // A burst of 3: the sender's 25 concurrent calls exceed it however slow the machine.
      simulator.configure({ rateLimit: { partsPerSecond: 10, burstParts: 3 } });

      const { requeues } = await drain(s.deps, s.sends);

      const got = await received();
      expect(requeues).toBeGreaterThan(0);
      expect(got.total).toBe(30);
      expect(got.phones).toBe(30);
      expect((await tally(s)).total).toMatchObject({ sent: 30, failed: 0, unknown: 0 });
      await expectCountsAddUp(s);
    });

    it('records a timed-out send as unknown and never sends it again', async () => {
      const s = await scenario({ size: 20 });
      simulator.configure({ seed: 5, timeoutRate: 0.3, hangMs: 1_500 });
      const fastTimeout: SenderDeps = {
        ...s.deps,
        providerFor: (tenant) =>
          createSimulatorProvider({ baseUrl: simulator.url, account: tenant.tenantId, timeoutMs: 300 }),
      };

      await drain(fastTimeout, s.sends);
      simulator.configure({ timeoutRate: 0 });
      // The batch again, as a redelivery: the timed-out members are settled, not resent.
      await invoke(fastTimeout, s.sends, { receiveCount: 2 });

      const unknown = (await records(s)).filter((r) => r.state === 'unknown');
      const got = await received();
      expect(unknown.length).toBeGreaterThan(0);
      expect(unknown[0]?.reason).toBe('no_answer_after_send:timeout');
      expect(got.total).toBe(20);
      expect(got.duplicateReferences).toEqual([]);
      expect((await tally(s)).total).toMatchObject({ sent: 20 - unknown.length, unknown: unknown.length });
      await expectCountsAddUp(s);
    });

    it('fails a refused number with its reason, and counts it failed', async () => {
      const s = await scenario({ size: 5 });
      simulator.configure({ numbers: { invalid: phonesOf(s, [1]) } });

      await drain(s.deps, s.sends);

      expect((await received()).total).toBe(4);
      expect((await records(s)).find((r) => r.memberId === 'M0001')).toMatchObject({
        state: 'failed',
        reason: 'invalid_phone:invalid_number',
      });
      expect((await tally(s)).total.failed).toBe(1);
      await expectCountsAddUp(s);
    });
  });

  describe('a sender killed in the middle of a batch', () => {
    it('after its claim, before the provider call: the redelivery sends the member once', async () => {
      const s = await scenario({ size: 12 });
      const victim = s.members[3]?.phone ?? '';
      const victimKey = phoneHash({ tenantId: s.tenant.tenantId, phone: victim });
      let killed = false;
      // The frequency-cap claim comes after the record's claim and before the provider call.
      const dying: SenderDeps = {
        ...s.deps,
        caps: {
          claim: async (input) => {
            if (!killed && input.memberKey === victimKey) {
              killed = true;
              throw new Error('killed before the provider call');
            }
            return s.deps.caps.claim(input);
          },
          release: (token) => s.deps.caps.release(token),
        },
      };

      const first = await invoke(dying, s.sends);
      expect(first.errors).toHaveLength(1);
      expect((await received()).byPhone[victim]).toBeUndefined();
      expect((await records(s)).find((r) => r.memberId === 'M0003')?.state).toBe('pending');
      const redelivered = await invoke(s.deps, s.sends, { receiveCount: 2 });
      expect(redelivered.errors).toEqual([]);

      const got = await received();
      expect(got.total).toBe(12);
      expect(got.byPhone[victim]).toBe(1);
      expect(got.duplicateReferences).toEqual([]);
      await expectCountsAddUp(s);
      expect((await tally(s)).total.sent).toBe(12);
      expect(await runState(s)).toBe('completed');
    });

    it('after the provider call, before the outcome is recorded: the member ends unknown, sent once', async () => {
      const s = await scenario({ size: 12 });
      const real = s.deps.messages;
      let killed = false;
      const dying: SenderDeps = {
        ...s.deps,
        messages: {
          create: (...args) => real.create(...args),
          get: (...args) => real.get(...args),
          claim: (...args) => real.claim(...args),
          scan: (...args) => real.scan(...args),
          scanShard: (...args) => real.scanShard(...args),
          shardsDone: (...args) => real.shardsDone(...args),
          markShardDone: (...args) => real.markShardDone(...args),
          move: async (tenantId, runId, memberId, move) => {
            if (!killed && memberId === 'M0005' && move.event === 'accepted') {
              killed = true;
              throw new Error('killed after the provider call');
            }
            return real.move(tenantId, runId, memberId, move);
          },
        },
      };

      const first = await invoke(dying, s.sends);
      expect(first.errors).toHaveLength(1);
      const redelivered = await invoke(s.deps, s.sends, { receiveCount: 2 });
      // Its claim is too young to judge: put back until the lease is over.
      expect(redelivered.requeued.filter(({ message }) => !message.probe)).toEqual([
        expect.objectContaining({ message: expect.objectContaining({ memberIds: ['M0005'] }) }),
      ]);
      s.clock.advance(400_000);
      await drain(
        s.deps,
        redelivered.requeued.map(({ message }) => message),
      );

      const got = await received();
      expect(got.total).toBe(12);
      expect(got.byPhone[s.members[5]?.phone ?? '']).toBe(1);
      expect((await records(s)).find((r) => r.memberId === 'M0005')).toMatchObject({
        state: 'unknown',
        reason: 'lease_lost',
      });
      expect((await tally(s)).total).toMatchObject({ sent: 11, unknown: 1 });
      await expectCountsAddUp(s);
      expect(await runState(s)).toBe('completed');
    });

    it('after recording outcomes, before adding its counts: the run completes with counts equal to its records', async () => {
      // Prepare: 40 members over several batches, two of them refused by the provider.
      const s = await scenario({
        size: 40,
        spec: (i) => (i % 10 === 0 ? { consent: 'unknown' } : {}),
        variants: [
          { variantId: 'A', percent: 50 },
          { variantId: 'B', percent: 50 },
        ],
      });
      simulator.configure({ numbers: { invalid: phonesOf(s, [3, 17]) } });
      const half = Math.ceil(s.sends.length / 2);
      expect(half).toBeGreaterThan(1);
      const dying = s.sends.slice(0, half);

      // Act: the first half worked by an invocation that dies before its close, the rest by
      // one that ends well; the dead one's batches come back, as SQS redelivers them.
      const killed = await invokeUntilClose(s.deps, dying);
      const rest = await invoke(s.deps, s.sends.slice(half));
      const shortBefore = (await tally(s)).total;
      const redelivered = await invoke(s.deps, dying, { receiveCount: 2 });

      // Assess: the dead invocation's outcomes were never counted, yet the run's counts are its records'.
      expect([...killed.errors, ...rest.errors, ...redelivered.errors]).toEqual([]);
      expect((await received()).total).toBe(34);
      expect(shortBefore.sent).toBeLessThan(34);
      expect(await runState(s)).toBe('completed');
      const counted = await recordCounts(s);
      expect(counted).toEqual({ sent: 34, failed: 2, 'suppressed.no_consent': 4 });
      const { total } = await tally(s);
      expect(total).toMatchObject({ targeted: 40, sent: 34, failed: 2, unknown: 0 });
      expect(total.suppressed.byReason.no_consent).toBe(4);
      await expectCountsAddUp(s);
      expect(await progress(s)).toMatchObject({
        state: 'completed',
        targeted: 40,
        sent: 34,
        failed: 2,
        remaining: 0,
        suppressed: expect.objectContaining({ total: 4 }),
      });
    });

    it('an invocation adding its counts after the run completed changes nothing, nor do two completing it at once', async () => {
      const s = await scenario({ size: 12 });
      const slow = await invokeUntilClose(s.deps, s.sends);

      // Act: two redeliveries end the run at once while the first invocation has not added its
      // counts; then it does.
      await Promise.all([
        invoke(s.deps, s.sends, { receiveCount: 2 }),
        invoke(s.deps, s.sends, { receiveCount: 2 }),
      ]);
      const atCompletion = (await tally(s)).total;
      await slow.close();

      expect(slow.errors).toEqual([]);
      expect(await runState(s)).toBe('completed');
      expect(atCompletion).toMatchObject({ targeted: 12, sent: 12 });
      expect((await tally(s)).total).toMatchObject({ targeted: 12, sent: 12, failed: 0, unknown: 0 });
      await expectCountsAddUp(s);
      expect(await progress(s)).toMatchObject({ state: 'completed', sent: 12, remaining: 0 });
    });
  });
});
