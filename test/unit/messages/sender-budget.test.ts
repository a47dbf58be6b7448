import { randomBytes } from 'node:crypto';
import {
  BudgetCurrencyError,
  type Campaign,
  type CampaignRun,
  claimFrequencyCap,
  getCampaignWithProgress,
  type Member,
  phoneHash,
  runIdFor,
  type SavedTemplate,
  type SendBatchMessage,
  type SenderDeps,
  startSendSession,
  type Tenant,
  tenantSettings,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { MemoryRunCounters, MemoryRunStore } from '../../support/fakes/memory-campaign-stores';
import {
  MemoryMemberStore,
  MemoryOptOutStore,
  MemoryRecordStore,
} from '../../support/fakes/memory-member-store';
import {
  MemoryCapStore,
  MemoryMessageStore,
  MemoryRateLimiter,
  MemoryRunBudget,
  RecordingProvider,
} from '../../support/fakes/memory-sending-stores';
import { MemoryTenantStore } from '../../support/fakes/memory-tenant-store';

// The sender holding a campaign's budget cap (packages/domain/src/messages/sender.ts, step 6)
// on the in-memory ports: what does not fit is suppressed over_budget and never sent, each
// batch reserves once and gives back once, a run without a budget takes no reservation, and
// the spend shows in the campaign's progress. The budget counter's own races run on DynamoDB
// Local in test/integration/budget-dynamo.test.ts.

/** 10:00 in Shanghai, inside the default send window. */
const now = new Date('2026-11-24T02:00:00.000Z');
const part = 45_000;

interface World {
  readonly deps: SenderDeps;
  readonly tenant: Tenant;
  readonly campaign: Campaign;
  readonly run: CampaignRun;
  readonly members: readonly Member[];
  readonly messages: MemoryMessageStore;
  readonly budget: MemoryRunBudget;
  readonly counters: MemoryRunCounters;
  readonly caps: MemoryCapStore;
  readonly provider: RecordingProvider;
  readonly requeued: SendBatchMessage[];
}

async function world({
  size,
  budget,
  price = { currency: 'CNY', pricePerPart: '0.045' },
}: {
  size: number;
  budget?: Campaign['budget'];
  price?: { currency: string; pricePerPart: string };
}): Promise<World> {
  const at = now.toISOString();
  const tenant: Tenant = {
    tenantId: `t-${randomBytes(4).toString('hex')}`,
    createdAt: at,
    ...tenantSettings.parse({ name: '好又多', signature: '好又多', partPrices: { simulator: price } }),
  };
  const tenants = new MemoryTenantStore();
  await tenants.createTenant(tenant);
  const members = Array.from(
    { length: size },
    (_, i): Member => ({
      memberId: `M${String(i).padStart(2, '0')}`,
      phone: `+86139001390${String(i).padStart(2, '0')}`,
      phoneStatus: 'valid',
      tags: [],
      consent: { status: 'granted' },
      name: `会员${i}`,
      createdAt: at,
      updatedAt: at,
    }),
  );
  const memberStore = new MemoryMemberStore();
  await memberStore.put(
    tenant.tenantId,
    members.map((member) => ({ member, expectedUpdatedAt: null })),
  );
  const templates = new MemoryRecordStore<SavedTemplate>();
  const template: SavedTemplate = {
    templateId: 'tpl_000000000001',
    name: '双11',
    category: 'marketing',
    body: '{{name|default:"会员"}}您好，双11全场8折',
    variables: [],
    locale: 'zh-CN',
    createdAt: at,
    updatedAt: at,
  };
  await templates.create(tenant.tenantId, template.templateId, template);
  const campaign: Campaign = {
    campaignId: 'cmp_000000000001',
    name: '双11会员日',
    category: 'marketing',
    audience: { memberIds: members.map((member) => member.memberId) },
    content: { templateId: template.templateId },
    schedule: { kind: 'now' },
    sendWindow: { start: '09:00', end: '20:00', outside: 'hold' },
    holdoutPercent: 0,
    ...(budget === undefined ? {} : { budget }),
    state: 'running',
    createdAt: at,
    updatedAt: at,
  };
  const campaigns = new MemoryRecordStore<Campaign>();
  await campaigns.create(tenant.tenantId, campaign.campaignId, campaign);
  const run: CampaignRun = {
    campaignId: campaign.campaignId,
    runId: runIdFor(at),
    scheduledAt: at,
    receivedAt: at,
    startedAt: at,
    state: 'running',
    pauses: [],
    createdAt: at,
    updatedAt: at,
  };
  const runs = new MemoryRunStore();
  await runs.create(tenant.tenantId, run);
  const messages = new MemoryMessageStore();
  await messages.create(
    tenant.tenantId,
    { campaignId: campaign.campaignId, runId: run.runId },
    members.map((member) => ({ memberId: member.memberId, state: 'pending' as const })),
    now,
  );
  const counters = new MemoryRunCounters(() => now);
  await counters.add(tenant.tenantId, campaign.campaignId, run.runId, { targeted: size, queued: size });
  const budgetStore = new MemoryRunBudget();
  const caps = new MemoryCapStore();
  const provider = new RecordingProvider();
  const requeued: SendBatchMessage[] = [];
  let token = 0;
  const deps: SenderDeps = {
    messages,
    members: memberStore,
    optOuts: new MemoryOptOutStore(),
    tenants,
    campaigns,
    runs,
    counters,
    templates,
    caps,
    rateLimiter: new MemoryRateLimiter(),
    budget: budgetStore,
    providerFor: () => provider,
    requeue: async (batch) => {
      requeued.push(...batch.map(({ message }) => message));
    },
    now: () => now,
    random: () => 0.5,
    newToken: () => `token-${++token}`,
    sleep: async () => undefined,
  };
  return {
    deps,
    tenant,
    campaign,
    run,
    members,
    messages,
    budget: budgetStore,
    counters,
    caps,
    provider,
    requeued,
  };
}

/** One invocation of the sender over these batches of member ids. */
async function invoke(w: World, batches: readonly (readonly number[])[]): Promise<void> {
  const session = startSendSession(w.deps, { deadline: new Date(now.getTime() + 45_000) });
  for (const batch of batches) {
    await session.process({
      type: 'send.batch',
      tenantId: w.tenant.tenantId,
      campaignId: w.campaign.campaignId,
      runId: w.run.runId,
      memberIds: batch.map((i) => w.members[i]?.memberId ?? ''),
    });
  }
  await session.close();
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

const statesOf = (w: World): Record<string, number> => {
  const states: Record<string, number> = {};
  for (const record of w.messages.ofRun(w.tenant.tenantId, w.run.runId)) {
    const key = record.reason === undefined ? record.state : `${record.state}:${record.reason}`;
    states[key] = (states[key] ?? 0) + 1;
  }
  return states;
};

describe('the sender under a budget cap', () => {
  it('sends what the budget holds and suppresses the rest over_budget, never sending them', async () => {
    // 10 one-part messages at 0.045 CNY; the budget holds 6.
    const w = await world({ size: 10, budget: { amount: '0.27', currency: 'CNY' } });

    await invoke(w, [range(0, 10)]);

    expect(w.provider.accepted).toHaveLength(6);
    expect(statesOf(w)).toEqual({ sent: 6, 'suppressed:over_budget': 4 });
    expect(await w.budget.reserved(w.tenant.tenantId, w.campaign.campaignId, w.run.runId)).toBe(6 * part);
    // The whole batch did not fit (one refused add), so as many as fit were reserved at once.
    expect(w.budget.writes.map(({ kind, micros }) => [kind, micros])).toEqual([
      ['refused', 10 * part],
      ['reserve', 6 * part],
    ]);
    const tally = await w.counters.read(w.tenant.tenantId, w.campaign.campaignId, w.run.runId);
    expect(tally.total).toMatchObject({ sent: 6, spentMicros: 6 * part });
    expect(tally.total.suppressed.byReason.over_budget).toBe(4);
    // Every member in exactly one end state, and the run complete.
    expect(tally.total.sent + tally.total.suppressed.total).toBe(10);
    expect((await w.deps.runs.get(w.tenant.tenantId, w.campaign.campaignId, w.run.runId))?.state).toBe(
      'completed',
    );
  });

  it('shows the spend against the cap in the progress', async () => {
    const w = await world({ size: 4, budget: { amount: '1', currency: 'CNY' } });

    await invoke(w, [range(0, 4)]);
    const read = await getCampaignWithProgress(
      { campaigns: w.deps.campaigns, runs: w.deps.runs, runCounters: w.counters, now: () => now },
      { tenantId: w.tenant.tenantId, campaignId: w.campaign.campaignId },
    );

    expect(read.latestRun?.budget).toEqual({
      currency: 'CNY',
      cap: '1.00',
      capMicros: 1_000_000,
      spent: '0.18',
      spentMicros: 4 * part,
    });
  });

  it('reserves once per batch, never once per message', async () => {
    const w = await world({ size: 15, budget: { amount: '100', currency: 'CNY' } });

    await invoke(w, [range(0, 5), range(5, 10), range(10, 15)]);

    expect(w.provider.accepted).toHaveLength(15);
    expect(w.budget.writes).toEqual([
      { kind: 'reserve', runId: w.run.runId, micros: 5 * part },
      { kind: 'reserve', runId: w.run.runId, micros: 5 * part },
      { kind: 'reserve', runId: w.run.runId, micros: 5 * part },
    ]);
  });

  it('takes no reservation for a campaign without a budget, and counts the spend all the same', async () => {
    const w = await world({ size: 5 });

    await invoke(w, [range(0, 5)]);

    expect(w.provider.accepted).toHaveLength(5);
    expect(w.budget.writes).toEqual([]);
    const tally = await w.counters.read(w.tenant.tenantId, w.campaign.campaignId, w.run.runId);
    expect(tally.total.spentMicros).toBe(5 * part);
  });

  it('gives back in one write what a batch reserved and did not send: capped, refused, throttled', async () => {
    const w = await world({ size: 5, budget: { amount: '100', currency: 'CNY' } });
    const [capped, refused, throttled] = [w.members[0], w.members[1], w.members[2]];
    if (!capped || !refused || !throttled) throw new Error('five members expected');
    // The capped member had today's one marketing message from another campaign.
    await claimFrequencyCap({
      store: w.caps,
      tenantId: w.tenant.tenantId,
      memberKey: phoneHash({ tenantId: w.tenant.tenantId, phone: capped.phone }),
      claimId: 'run_other#M00',
      category: 'marketing',
      now,
      caps: { windows: w.tenant.frequencyCaps, dailyMax: w.tenant.dailyMax },
      timeZone: w.tenant.timeZone,
    });
    w.provider.answers.set(refused.phone, { outcome: 'permanent', code: 'invalid_number' });
    w.provider.answers.set(throttled.phone, { outcome: 'throttled', code: 'Throttling' });

    await invoke(w, [range(0, 5)]);

    expect(statesOf(w)).toEqual({
      sent: 2,
      'suppressed:capped': 1,
      'failed:invalid_phone:invalid_number': 1,
      pending: 1,
    });
    expect(w.requeued.flatMap((message) => message.memberIds)).toContain(throttled.memberId);
    expect(w.budget.writes.map(({ kind, micros }) => [kind, micros])).toEqual([
      ['reserve', 5 * part],
      ['adjust', -3 * part],
    ]);
    expect(await w.budget.reserved(w.tenant.tenantId, w.campaign.campaignId, w.run.runId)).toBe(2 * part);
  });

  it('corrects the reservation when the provider bills more parts than it was reserved for', async () => {
    const w = await world({ size: 2, budget: { amount: '100', currency: 'CNY' } });
    w.provider.billedParts = 2;

    await invoke(w, [range(0, 2)]);

    expect(w.budget.writes.map(({ kind, micros }) => [kind, micros])).toEqual([
      ['reserve', 2 * part],
      ['adjust', 2 * part],
    ]);
    expect(w.messages.ofRun(w.tenant.tenantId, w.run.runId).map((record) => record.costMicros)).toEqual([
      2 * part,
      2 * part,
    ]);
    const tally = await w.counters.read(w.tenant.tenantId, w.campaign.campaignId, w.run.runId);
    expect(tally.total.spentMicros).toBe(4 * part);
  });

  it('never sends past the cap when two invocations work the run at once', async () => {
    const w = await world({ size: 20, budget: { amount: '0.315', currency: 'CNY' } });

    await Promise.all([invoke(w, [range(0, 10)]), invoke(w, [range(10, 20)])]);

    expect(w.provider.accepted).toHaveLength(7);
    expect(statesOf(w)).toEqual({ sent: 7, 'suppressed:over_budget': 13 });
    expect(new Set(w.provider.accepted.map((sms) => sms.phone)).size).toBe(7);
  });

  it('fails a batch untouched when the budget is in another currency than the provider bills', async () => {
    const w = await world({ size: 3, budget: { amount: '10', currency: 'USD' } });

    const session = startSendSession(w.deps, { deadline: new Date(now.getTime() + 45_000) });
    const processing = session.process({
      type: 'send.batch',
      tenantId: w.tenant.tenantId,
      campaignId: w.campaign.campaignId,
      runId: w.run.runId,
      memberIds: w.members.map((member) => member.memberId),
    });

    await expect(processing).rejects.toBeInstanceOf(BudgetCurrencyError);
    expect(statesOf(w)).toEqual({ pending: 3 });
    expect(w.provider.accepted).toEqual([]);
  });
});
