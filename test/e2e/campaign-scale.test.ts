import type { Member } from '@qunfa/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  campaignAction,
  createCampaign,
  expectVariantsAddUp,
  recordOptOuts,
  runRecords,
  saveTemplate,
  seedMembers,
  simulatorReceived,
  waitForRun,
} from '../support/sending';
import { startTestStack, type TestStack } from '../support/stack';

// Invariants 1, 2 and 3 (ARCHITECTURE.md) at the size of a real store's campaign: 10,000
// members on the local stack, every path of the pipeline at its production settings (the
// segmenter's shards and checkpoints, concurrent senders sharing one rate limit), checked
// against what the simulator says each phone received. On two busy cores a provider answer
// may come back after the sender's timeout: such a send is recorded unknown and never sent
// again (receipts settle it: test/e2e/campaign-engagement.test.ts), so an eligible member
// ends sent or unknown, and received exactly one SMS either way.

let env: TestStack;

beforeAll(async () => {
  env = await startTestStack({ name: 'scale', simulator: { seed: 10, receipts: { enabled: false } } });
});

afterAll(() => env?.stop());

const size = 10_000;
const allDay = { start: '00:00', end: '24:00' } as const;
/** No marketing consent: every tenth member. */
const noConsent = (i: number): boolean => i % 10 === 0;
/** Opted out by SMS: every 25th of the others. */
const optedOut = (i: number): boolean => !noConsent(i) && i % 25 === 1;
/** A number a receipt once found invalid: every 50th of the others. */
const invalidPhone = (i: number): boolean => !noConsent(i) && !optedOut(i) && i % 50 === 7;
/** Staff, outside the audience altogether. */
const staff = (i: number): boolean => i % 100 === 99;

const phoneOf = (i: number): string => `+8613${String(500_000_000 + i).slice(-9)}`;
const memberIdOf = (i: number): string => `M${String(i).padStart(5, '0')}`;

function member(i: number, at: string): Member {
  return {
    memberId: memberIdOf(i),
    phone: phoneOf(i),
    phoneStatus: invalidPhone(i) ? 'invalid' : 'valid',
    name: `会员${i}`,
    tier: i % 5 === 0 ? '金卡' : '银卡',
    tags: staff(i) ? ['staff'] : ['vip'],
    points: i % 1_000,
    consent: noConsent(i) ? { status: 'unknown' } : { status: 'granted', at, source: 'import' },
    createdAt: at,
    updatedAt: at,
  };
}

describe('a 10,000-member campaign on the local stack', () => {
  it('sends exactly one SMS per eligible member and none to the others, with counts that add up per run and per variant', async () => {
    // Prepare: 10,000 members (staff, no consent, opted out, invalid numbers among them), an
    // A/B campaign with a 5% holdout.
    const indexes = Array.from({ length: size }, (_, i) => i);
    const at = new Date().toISOString();
    await seedMembers(
      env,
      indexes.map((i) => member(i, at)),
    );
    await recordOptOuts(env, indexes.filter(optedOut).map(phoneOf), 'sms');
    expect((await env.api('PATCH', '/tenant', { sendWindow: allDay })).status).toBe(200);
    const templates = [
      await saveTemplate(env, {
        name: '周年庆 A',
        body: '{{name|default:"会员"}}，周年庆全场8折，{{points|number}}积分可抵现',
      }),
      await saveTemplate(env, { name: '周年庆 B', body: '周年庆到店礼！{{name|default:"会员"}}凭短信领取' }),
    ];
    const campaignId = await createCampaign(env, {
      name: '周年庆',
      audience: { definition: { not: { tags: { any: ['staff'] } } } },
      content: {
        variants: [
          { variantId: 'A', templateId: templates[0], percent: 50 },
          { variantId: 'B', templateId: templates[1], percent: 50 },
        ],
      },
      holdoutPercent: 5,
      sendWindow: allDay,
    });

    // Act: schedule it, and wait for its run to complete.
    await campaignAction(env, campaignId, 'schedule');
    const run = await waitForRun(env, campaignId, { timeoutMs: 480_000 });
    expect(run?.state).toBe('completed');

    // Assess: each audience member's record against what the simulator received.
    const audience = indexes.filter((i) => !staff(i));
    const records = await runRecords(env, run?.runId ?? '');
    expect(records.size).toBe(audience.length);
    const got = await simulatorReceived(env);
    expect(got.duplicateReferences).toEqual([]);
    const expected = (i: number): string => {
      if (noConsent(i)) return 'suppressed:no_consent';
      if (optedOut(i)) return 'suppressed:opted_out';
      if (invalidPhone(i)) return 'suppressed:invalid_phone';
      return 'sent or holdout';
    };
    const wrong = audience.filter((i) => {
      const record = records.get(memberIdOf(i));
      const received = got.byPhone[phoneOf(i)] ?? 0;
      const want = expected(i);
      if (want !== 'sent or holdout') return `${record?.state}:${record?.reason}` !== want || received !== 0;
      if (record?.state === 'suppressed') return record.reason !== 'holdout' || received !== 0;
      return (record?.state !== 'sent' && record?.state !== 'unknown') || received !== 1;
    });
    expect({
      wrong: wrong.length,
      first: wrong.slice(0, 5).map((i) => ({ i, record: records.get(memberIdOf(i)) })),
    }).toEqual({ wrong: 0, first: [] });
    expect(indexes.filter(staff).every((i) => got.byPhone[phoneOf(i)] === undefined)).toBe(true);

    // The holdout is about 5% of the eligible members, and was sent nothing.
    const eligible = audience.filter((i) => expected(i) === 'sent or holdout');
    const heldOut = eligible.filter((i) => records.get(memberIdOf(i))?.reason === 'holdout').length;
    expect(heldOut / eligible.length).toBeGreaterThan(0.03);
    expect(heldOut / eligible.length).toBeLessThan(0.07);
    expect(got.total).toBe(eligible.length - heldOut);

    // The run's counts: equal to the records' and adding up to the audience, per variant too.
    const count = (state: string, reason?: string): number =>
      [...records.values()].filter(
        (record) => record.state === state && (reason === undefined || record.reason === reason),
      ).length;
    expect(run).toMatchObject({
      state: 'completed',
      targeted: audience.length,
      sent: count('sent'),
      failed: 0,
      unknown: count('unknown'),
      remaining: 0,
      suppressed: {
        total: count('suppressed'),
        byReason: {
          no_consent: count('suppressed', 'no_consent'),
          opted_out: count('suppressed', 'opted_out'),
          invalid_phone: count('suppressed', 'invalid_phone'),
          holdout: heldOut,
        },
      },
    });
    expect(Object.keys(run?.byVariant ?? {}).sort()).toEqual(['A', 'B']);
    expectVariantsAddUp(run);
    expect(count('sent') + count('unknown')).toBe(eligible.length - heldOut);
    const sentByVariant = Object.values(run?.byVariant ?? {}).map(
      (variant) => variant.sent + variant.unknown,
    );
    expect(sentByVariant.reduce((sum, sent) => sum + sent, 0)).toBe(eligible.length - heldOut);
    // A 50/50 split of thousands lands near the middle.
    for (const sent of sentByVariant) expect(sent / (eligible.length - heldOut)).toBeGreaterThan(0.45);
  }, 600_000);
});
