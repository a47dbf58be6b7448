import { randomBytes } from 'node:crypto';
import {
  DynamoMemberStore,
  DynamoMessageActivityStore,
  DynamoMessageStore,
  DynamoOptOutStore,
  DynamoReplyStore,
  DynamoRunCounters,
  DynamoTenantStore,
  replyRuleStore,
} from '@qunfa/aws';
import {
  type CallbackBatchMessage,
  type CallbackEvent,
  type InboundReply,
  type Member,
  phoneHash,
  processCallbackBatch,
  type ReceiptDeps,
  replyRulesId,
  type Tenant,
  tenantSettings,
} from '@qunfa/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRateLimiter, RecordingProvider } from '../support/fakes/memory-sending-stores';
import { type LocalDynamo, startLocalDynamo } from '../support/local';

// The receipt processor against DynamoDB Local: the conditional moves, the delivered-parts
// list, the run counters and final counts, the member's phone status, the opt-out item the
// sender reads and the reply claims are DynamoDB's own. The provider is a recording fake.

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

const at = '2026-11-23T02:00:00.000Z';
let phonePrefix = 10;

interface Scenario {
  tenantId: string;
  campaignId: string;
  runId: string;
  members: Member[];
  deps: ReceiptDeps;
  provider: RecordingProvider;
  messages: DynamoMessageStore;
  activity: DynamoMessageActivityStore;
  counters: DynamoRunCounters;
  optOuts: DynamoOptOutStore;
  memberStore: DynamoMemberStore;
  callback(events: CallbackEvent[]): CallbackBatchMessage;
}

/** A tenant with `size` members, each sent one message of the run (`parts` parts, pm-<i>). */
async function scenario({
  size = 3,
  parts = 1,
  unknown = [] as number[],
  consent = 'granted' as 'granted' | 'unknown',
} = {}): Promise<Scenario> {
  const client = dynamo.documentClient;
  const tables = dynamo.tableNames;
  const tenantId = `t-${randomBytes(4).toString('hex')}`;
  const tenant: Tenant = { tenantId, createdAt: at, ...tenantSettings.parse({ name: '好又多' }) };
  await new DynamoTenantStore({ client, tableName: tables.tenants }).createTenant(tenant);
  const prefix = phonePrefix++;
  const members = Array.from(
    { length: size },
    (_, i): Member => ({
      memberId: `M${i}`,
      phone: `+86139${prefix}${String(i).padStart(4, '0')}`,
      phoneStatus: 'valid',
      tags: [],
      consent: { status: consent, at: '2026-01-01T00:00:00.000Z' },
      createdAt: at,
      updatedAt: at,
    }),
  );
  const memberStore = new DynamoMemberStore({ client, tableName: tables.members });
  await memberStore.put(
    tenantId,
    members.map((member) => ({ member, expectedUpdatedAt: null })),
  );
  const messages = new DynamoMessageStore({ client, tableName: tables.messages });
  const campaignId = 'c1';
  const runId = `r${randomBytes(3).toString('hex')}`;
  await messages.create(
    tenantId,
    { campaignId, runId },
    members.map((m, i) => ({
      memberId: m.memberId,
      state: 'pending' as const,
      variantId: i % 2 ? 'B' : 'A',
    })),
    new Date(at),
  );
  for (const [i, member] of members.entries()) {
    await messages.claim(tenantId, runId, member.memberId, { token: 'tok', now: new Date(at) });
    if (unknown.includes(i)) {
      await messages.move(tenantId, runId, member.memberId, { event: 'leaseLost', now: new Date(at) });
      continue;
    }
    await messages.move(tenantId, runId, member.memberId, {
      event: 'accepted',
      token: 'tok',
      now: new Date(at),
      set: { providerMessageId: `pm-${i}`, parts, costMicros: 45_000 * parts },
    });
  }
  const counters = new DynamoRunCounters({ client, tableName: tables.metrics });
  const optOuts = new DynamoOptOutStore({ client, tableName: tables.suppressions });
  const provider = new RecordingProvider();
  const activity = new DynamoMessageActivityStore({ client, tableName: tables.messages });
  const rules = replyRuleStore({ client, tableName: tables.campaigns });
  const deps: ReceiptDeps = {
    records: messages,
    members: memberStore,
    optOuts,
    counters,
    activity,
    replies: new DynamoReplyStore({ client, tableName: tables.messages }),
    replyRules: { get: (t) => rules.get(t, replyRulesId) },
    tenants: new DynamoTenantStore({ client, tableName: tables.tenants }),
    providerFor: () => provider,
    rateLimiter: new MemoryRateLimiter(),
    now: () => new Date('2026-11-23T02:05:00.000Z'),
    sleep: async () => undefined,
    log: () => undefined,
  };
  return {
    tenantId,
    campaignId,
    runId,
    members,
    deps,
    provider,
    messages,
    activity,
    counters,
    optOuts,
    memberStore,
    callback: (events) => ({
      type: 'callback.batch',
      tenantId,
      provider: 'simulator',
      account: tenantId,
      receivedAt: '2026-11-23T02:04:00.000Z',
      events,
    }),
  };
}

const receipt = (
  fields: Partial<Extract<CallbackEvent, { kind: 'receipt' }>> & { providerMessageId: string },
) => ({ kind: 'receipt', status: 'delivered', at: '2026-11-23T02:01:00.000Z', ...fields }) as const;

describe('processCallbackBatch (DynamoDB Local)', () => {
  describe('receipts', () => {
    it('settles records found by reference or provider message id, and counts each move once', async () => {
      const s = await scenario({ size: 3 });
      const events = [
        receipt({ providerMessageId: 'pm-0', reference: `${s.runId}:M0` }),
        receipt({ providerMessageId: 'pm-1', status: 'failed', reason: 'unreachable', code: 'UNDELIV' }),
        receipt({ providerMessageId: 'pm-2', status: 'expired', code: 'EXPIRED' }),
      ];

      const report = await processCallbackBatch(s.deps, s.callback(events));
      // The provider retries the whole callback, in another order, with a stale `sent` report.
      const again = await processCallbackBatch(
        s.deps,
        s.callback([...events.reverse(), receipt({ providerMessageId: 'pm-0', status: 'sent' })]),
      );

      expect(report).toMatchObject({ receipts: 3, moved: 3, unmatched: 0 });
      expect(again).toMatchObject({ receipts: 4, moved: 0, unchanged: 4 });
      expect(await s.messages.get(s.tenantId, s.runId, 'M0')).toMatchObject({ state: 'delivered' });
      expect(await s.messages.get(s.tenantId, s.runId, 'M1')).toMatchObject({
        state: 'failed',
        reason: 'unreachable',
        receiptCode: 'UNDELIV',
      });
      expect(await s.messages.get(s.tenantId, s.runId, 'M2')).toMatchObject({ state: 'expired' });
      const tally = await s.counters.read(s.tenantId, s.campaignId, s.runId, { consistent: true });
      expect(tally.total).toMatchObject({ delivered: 1, undelivered: 2 });
      expect(tally.byVariant.A).toMatchObject({ delivered: 1, undelivered: 1 });
      expect(tally.byVariant.B).toMatchObject({ delivered: 0, undelivered: 1 });
      // The delivered message is on its member's activity, for conversions; the others are not.
      expect(await s.activity.recent(s.tenantId, 'M0', { limit: 5 })).toEqual([
        expect.objectContaining({ runId: s.runId, variantId: 'A', deliveredAt: '2026-11-23T02:01:00.000Z' }),
      ]);
      expect(await s.activity.recent(s.tenantId, 'M1', { limit: 5 })).toEqual([]);
    });

    it('delivers a multipart message only when every part is in, and fails it for any failed part', async () => {
      const s = await scenario({ size: 2, parts: 2 });
      const part = (i: number, n: number, status: 'delivered' | 'failed' = 'delivered') =>
        receipt({ providerMessageId: `pm-${i}`, reference: `${s.runId}:M${i}`, status, part: n, parts: 2 });

      await processCallbackBatch(s.deps, s.callback([part(0, 2), part(1, 1)]));
      expect(await s.messages.get(s.tenantId, s.runId, 'M1')).toMatchObject({
        state: 'sent',
        deliveredParts: [1],
      });
      await processCallbackBatch(
        s.deps,
        s.callback([part(0, 2), part(0, 1), { ...part(1, 2, 'failed'), reason: 'unreachable' }]),
      );

      expect(await s.messages.get(s.tenantId, s.runId, 'M0')).toMatchObject({ state: 'delivered' });
      expect(await s.messages.get(s.tenantId, s.runId, 'M1')).toMatchObject({ state: 'failed' });
      const tally = await s.counters.read(s.tenantId, s.campaignId, s.runId, { consistent: true });
      expect(tally.total).toMatchObject({ delivered: 1, undelivered: 1 });
    });

    it('counts the last part once when its receipts race', async () => {
      const s = await scenario({ size: 1, parts: 3 });
      const part = (n: number) =>
        receipt({ providerMessageId: 'pm-0', reference: `${s.runId}:M0`, part: n, parts: 3 });
      await Promise.all([
        processCallbackBatch(s.deps, s.callback([part(1), part(2), part(3)])),
        processCallbackBatch(s.deps, s.callback([part(3), part(2), part(1)])),
        processCallbackBatch(s.deps, s.callback([part(2), part(3), part(1)])),
      ]);
      expect(await s.messages.get(s.tenantId, s.runId, 'M0')).toMatchObject({ state: 'delivered' });
      const tally = await s.counters.read(s.tenantId, s.campaignId, s.runId, { consistent: true });
      expect(tally.total.delivered).toBe(1);
    });

    it('settles an ambiguous send recorded unknown, in the counters and in the final counts', async () => {
      const s = await scenario({ size: 2, unknown: [0, 1] });
      await s.counters.add(s.tenantId, s.campaignId, s.runId, { targeted: 2, unknown: 2 });
      await s.counters.finalize(s.tenantId, s.campaignId, s.runId, { targeted: 2, unknown: 2 });

      await processCallbackBatch(
        s.deps,
        s.callback([
          receipt({ providerMessageId: 'x-0', reference: `${s.runId}:M0` }),
          receipt({
            providerMessageId: 'x-1',
            reference: `${s.runId}:M1`,
            status: 'failed',
            reason: 'blocked',
          }),
        ]),
      );

      expect(await s.messages.get(s.tenantId, s.runId, 'M0')).toMatchObject({ state: 'delivered' });
      expect(await s.messages.get(s.tenantId, s.runId, 'M1')).toMatchObject({
        state: 'failed',
        reason: 'blocked',
      });
      const tally = await s.counters.read(s.tenantId, s.campaignId, s.runId, { consistent: true });
      expect(tally.total).toMatchObject({ targeted: 2, unknown: 0, sent: 1, failed: 1, delivered: 1 });
    });

    it('marks the phone invalid on an invalid-number result, so the next run suppresses it', async () => {
      const s = await scenario({ size: 2 });
      await processCallbackBatch(
        s.deps,
        s.callback([
          receipt({
            providerMessageId: 'pm-0',
            reference: `${s.runId}:M0`,
            status: 'failed',
            reason: 'invalid_number',
          }),
          receipt({
            providerMessageId: 'pm-1',
            reference: `${s.runId}:M1`,
            status: 'failed',
            reason: 'unreachable',
          }),
        ]),
      );
      expect(await s.memberStore.get(s.tenantId, 'M0')).toMatchObject({ phoneStatus: 'invalid' });
      expect(await s.memberStore.get(s.tenantId, 'M1')).toMatchObject({ phoneStatus: 'valid' });
    });

    it('records a carrier opt-out as an opt-out the sender sees', async () => {
      const s = await scenario({ size: 1 });
      const [member] = s.members;
      await processCallbackBatch(
        s.deps,
        s.callback([
          receipt({
            providerMessageId: 'pm-0',
            reference: `${s.runId}:M0`,
            status: 'failed',
            reason: 'carrier_opt_out',
          }),
        ]),
      );
      const hash = phoneHash({ tenantId: s.tenantId, phone: member?.phone ?? '' });
      expect(await s.optOuts.get(s.tenantId, hash)).toMatchObject({ source: 'carrier' });
    });

    it('leaves receipts for messages it does not know alone', async () => {
      const s = await scenario({ size: 1 });
      const report = await processCallbackBatch(
        s.deps,
        s.callback([receipt({ providerMessageId: 'nobody' })]),
      );
      expect(report).toMatchObject({ unmatched: 1, moved: 0 });
    });
  });

  describe('replies', () => {
    const reply = (
      phone: string,
      text: string,
      replyId: string,
      extra: { reference?: string; inReplyTo?: string } = {},
    ): InboundReply => ({ kind: 'reply', phone, text, replyId, at: '2026-11-23T02:03:00.000Z', ...extra });

    it('confirms an opt-out, records it where the sender reads it, and counts it under the run', async () => {
      const s = await scenario({ size: 2 });
      const phone = s.members[1]?.phone ?? '';
      const event = reply(phone, ' ＴＤ ', 'rp-1', { reference: `${s.runId}:M1` });

      await processCallbackBatch(s.deps, s.callback([event]));
      const again = await processCallbackBatch(s.deps, s.callback([event]));

      expect(again).toMatchObject({ replies: 0, duplicateReplies: 1 });
      expect(s.provider.accepted).toHaveLength(1);
      expect(s.provider.accepted[0]).toMatchObject({ phone, text: expect.stringContaining('退订') });
      const hash = phoneHash({ tenantId: s.tenantId, phone });
      // The sender's own check before each provider call: strongly consistent, by phone hash.
      expect(await s.optOuts.optedOut(s.tenantId, [hash], { consistent: true })).toEqual(new Set([hash]));
      expect(await s.optOuts.get(s.tenantId, hash)).toMatchObject({ source: 'sms' });
      const tally = await s.counters.read(s.tenantId, s.campaignId, s.runId, { consistent: true });
      expect(tally.total).toMatchObject({ replies: 1, optOuts: 1 });
      expect(tally.byVariant.B).toMatchObject({ replies: 1, optOuts: 1 });
    });

    it('does not opt out a reply that only contains a keyword', async () => {
      const s = await scenario({ size: 1 });
      const phone = s.members[0]?.phone ?? '';
      await processCallbackBatch(
        s.deps,
        s.callback([reply(phone, "don't stop", 'rp-2', { inReplyTo: `${s.runId}:M0` })]),
      );
      expect(await s.optOuts.get(s.tenantId, phoneHash({ tenantId: s.tenantId, phone }))).toBeUndefined();
      expect(s.provider.accepted).toHaveLength(0);
      const tally = await s.counters.read(s.tenantId, s.campaignId, s.runId, { consistent: true });
      expect(tally.total).toMatchObject({ replies: 1, optOuts: 0 });
    });

    it('opts back in only with consent recorded after the opt-out', async () => {
      const withConsent = await scenario({ size: 1 });
      const phone = withConsent.members[0]?.phone ?? '';
      const hash = phoneHash({ tenantId: withConsent.tenantId, phone });
      await withConsent.optOuts.add(withConsent.tenantId, {
        phoneHash: hash,
        phone,
        source: 'sms',
        at: '2025-06-01T00:00:00.000Z',
      });
      await processCallbackBatch(withConsent.deps, withConsent.callback([reply(phone, 'start', 'rp-3')]));
      expect(await withConsent.optOuts.get(withConsent.tenantId, hash)).toBeUndefined();

      const without = await scenario({ size: 1 });
      const phone2 = without.members[0]?.phone ?? '';
      const hash2 = phoneHash({ tenantId: without.tenantId, phone: phone2 });
      // The member's consent (1 January) predates this opt-out.
      await without.optOuts.add(without.tenantId, {
        phoneHash: hash2,
        phone: phone2,
        source: 'sms',
        at: '2026-06-01T00:00:00.000Z',
      });
      await processCallbackBatch(without.deps, without.callback([reply(phone2, '订阅', 'rp-4')]));
      expect(await without.optOuts.get(without.tenantId, hash2)).toBeDefined();
      expect(without.provider.accepted[0]?.phone).toBe(phone2);
    });

    it("answers a tenant's keyword with its auto-reply, and HELP with the help text", async () => {
      const s = await scenario({ size: 1 });
      const phone = s.members[0]?.phone ?? '';
      await replyRuleStore({ client: dynamo.documentClient, tableName: dynamo.tableNames.campaigns }).create(
        s.tenantId,
        replyRulesId,
        {
          rules: [{ keywords: ['退货'], reply: '退货政策 https://s.example.cn/r' }],
          helpText: '好又多会员短信，回复TD退订',
          createdAt: at,
          updatedAt: at,
        },
      );
      await processCallbackBatch(
        s.deps,
        s.callback([reply(phone, '退货', 'rp-5'), reply(phone, 'Help', 'rp-6')]),
      );
      expect(s.provider.accepted.map((sms) => ('text' in sms ? sms.text : ''))).toEqual([
        '退货政策 https://s.example.cn/r',
        '好又多会员短信，回复TD退订',
      ]);
    });
  });
});
