import {
  type Campaign,
  ConflictError,
  type RateTake,
  type SavedTemplate,
  type SendRateLimiter,
  type Tenant,
  type TestSendDeps,
  tenantSettings,
  testSendCampaign,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import {
  MemoryMemberStore,
  MemoryOptOutStore,
  MemoryRecordStore,
} from '../../support/fakes/memory-member-store';
import {
  MemoryMessageStore,
  MemoryRateLimiter,
  RecordingProvider,
} from '../../support/fakes/memory-sending-stores';

// Test sends (packages/domain/src/messages/test-send.ts) on the in-memory ports: the
// provider account's rate limit holds for them, the campaign's throttle does not, and every
// answer of the provider is recorded. The HTTP side, on memory and DynamoDB Local, is in
// test/support/campaigns-spec.ts.

/** 10:00 in Shanghai, inside the default send window. */
const now = new Date('2026-11-24T02:00:00.000Z');
const at = now.toISOString();
const tenant: Tenant = { tenantId: 'acme-tea', createdAt: at, ...tenantSettings.parse({ name: 'Acme Tea' }) };

async function setUp({ rateLimiter = new MemoryRateLimiter() }: { rateLimiter?: SendRateLimiter } = {}) {
  const templates = new MemoryRecordStore<SavedTemplate>();
  await templates.create(tenant.tenantId, 'tpl_000000000001', {
    templateId: 'tpl_000000000001',
    name: '生日',
    category: 'marketing',
    body: '生日快乐！{{name|default:"会员"}}，本月到店享双倍积分。',
    variables: [],
    locale: 'zh-CN',
    createdAt: at,
    updatedAt: at,
  });
  const campaigns = new MemoryRecordStore<Campaign>();
  const campaign: Campaign = {
    campaignId: 'cmp_000000000001',
    name: '生日',
    category: 'marketing',
    audience: { memberIds: ['M1'] },
    content: { templateId: 'tpl_000000000001' },
    schedule: { kind: 'now' },
    sendWindow: { start: '09:00', end: '20:00', outside: 'hold' },
    throttle: { messagesPerSecond: 1 },
    holdoutPercent: 0,
    state: 'draft',
    createdAt: at,
    updatedAt: at,
  };
  await campaigns.create(tenant.tenantId, campaign.campaignId, campaign);
  const messages = new MemoryMessageStore();
  const provider = new RecordingProvider();
  const deps: TestSendDeps = {
    campaigns,
    templates,
    members: new MemoryMemberStore(),
    optOuts: new MemoryOptOutStore(),
    messages,
    rateLimiter,
    providerFor: () => provider,
    random: () => new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
    now: () => now,
    sleep: async () => undefined,
  };
  const send = (phones: string[]) =>
    testSendCampaign(deps, { tenant, campaignId: campaign.campaignId, input: { phones } });
  return { deps, messages, provider, templates, send };
}

describe('testSendCampaign', () => {
  it("takes the provider account's tokens, in parts, and none from the campaign's throttle", async () => {
    const limiter = new MemoryRateLimiter();
    const { send } = await setUp({ rateLimiter: limiter });

    const report = await send(['13800138000', '13900139000']);

    expect(report.results.map((result) => result.status)).toEqual(['sent', 'sent']);
    expect(limiter.takes).toEqual([
      { account: 'acme-tea#simulator', parts: 1 },
      { account: 'acme-tea#simulator', parts: 1 },
    ]);
  });

  it('answers failed rate_limited, sending nothing, when no token comes in time', async () => {
    const refusing: SendRateLimiter = {
      take: async (): Promise<RateTake> => ({ granted: false, retryAfterMs: 60_000 }),
    };
    const { send, provider, messages } = await setUp({ rateLimiter: refusing });

    const report = await send(['13800138000']);

    expect(report.results).toEqual([
      expect.objectContaining({ phone: '+8613800138000', status: 'failed', reason: 'rate_limited' }),
    ]);
    expect(provider.accepted).toEqual([]);
    expect(messages.ofRun(tenant.tenantId, report.testSendId)).toEqual([
      expect.objectContaining({ memberId: 'phone1', state: 'failed', reason: 'rate_limited', test: true }),
    ]);
  });

  it('answers a send with no answer unknown, and records it so, for receipts to settle', async () => {
    const { send, provider, messages } = await setUp();
    provider.answers.set('+8613800138000', { outcome: 'ambiguous', code: 'timeout' });

    const report = await send(['13800138000']);

    expect(report.results).toEqual([
      expect.objectContaining({ status: 'unknown', reason: 'no_answer_after_send:timeout' }),
    ]);
    expect(messages.ofRun(tenant.tenantId, report.testSendId)).toEqual([
      expect.objectContaining({ state: 'unknown', test: true }),
    ]);
  });

  it('refuses with 409, recording nothing, when the provider is not configured or the template is gone', async () => {
    const unconfigured = await setUp();
    const noProvider = {
      ...unconfigured.deps,
      providerFor: () => {
        throw new Error('no credentials');
      },
    };
    const gone = await setUp();
    await gone.templates.delete(tenant.tenantId, 'tpl_000000000001');

    const input = { phones: ['13800138000'] };
    await expect(
      testSendCampaign(noProvider, { tenant, campaignId: 'cmp_000000000001', input }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(gone.send(['13800138000'])).rejects.toThrow(/template_missing/);

    expect(unconfigured.messages.records.size + gone.messages.records.size).toBe(0);
  });
});
