import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  campaignAction,
  createCampaign,
  expectVariantsAddUp,
  phoneOf,
  putMembers,
  recordOptOuts,
  saveTemplate,
  simulatorReceived,
  waitForRun,
} from '../support/sending';
import { startTestStack, type TestStack } from '../support/stack';

// A campaign sent end to end on the local stack: the API schedules it, the local scheduler
// fires it onto the start queue, the segmenter records the audience and feeds the send
// queue, the sender (invoked by the send queue's poller, five records at a time, up to 50 at
// once) claims, checks and sends each member through the provider simulator, and the run
// completes. What each phone received is read from the simulator's own record.

let env: TestStack;

beforeAll(async () => {
  env = await startTestStack({ name: 'send', simulator: { seed: 3, receipts: { enabled: false } } });
});

afterAll(() => env?.stop());

const size = 300;
/** No marketing consent: every tenth member. Opted out by SMS: every 25th of the others. */
const noConsent = (i: number): boolean => i % 10 === 0;
const optedOut = (i: number): boolean => !noConsent(i) && i % 25 === 1;

describe('sending a campaign on the local stack', () => {
  it('sends exactly one SMS per eligible member, none to the others, and completes with counts that add up', async () => {
    // Prepare: 300 members, some without consent, some opted out, and an A/B test.
    const indexes = Array.from({ length: size }, (_, i) => i);
    await putMembers(
      env,
      indexes.map((i) => ({
        memberId: `S${String(i).padStart(4, '0')}`,
        phone: phoneOf(i),
        consent: noConsent(i) ? 'unknown' : 'granted',
      })),
    );
    await recordOptOuts(
      env,
      indexes.filter(optedOut).map((i) => phoneOf(i)),
      'sms',
    );
    // Whatever the hour the test runs at: the tenant's hours bound every marketing send.
    const allDay = { start: '00:00', end: '24:00' };
    expect((await env.api('PATCH', '/tenant', { sendWindow: allDay })).status).toBe(200);
    const templates = [
      await saveTemplate(env, { name: '双11 0', body: '双11全场8折，{{name|default:"会员"}}专享' }),
      await saveTemplate(env, { name: '双11 1', body: '{{name|default:"会员"}}，双11会员日满300减50' }),
    ];
    const campaignId = await createCampaign(env, {
      name: '双11会员日',
      audience: { definition: { not: { tags: { any: ['staff'] } } } },
      content: {
        variants: [
          { variantId: 'A', templateId: templates[0], percent: 50 },
          { variantId: 'B', templateId: templates[1], percent: 50 },
        ],
      },
      sendWindow: allDay,
    });

    // Act: schedule it, and wait for its run to complete.
    await campaignAction(env, campaignId, 'schedule');
    const run = await waitForRun(env, campaignId);

    // Assess: the simulator's record, then the run's counts.
    const eligible = indexes.filter((i) => !noConsent(i) && !optedOut(i));
    const got = await simulatorReceived(env);
    expect(run?.state).toBe('completed');
    expect(got.total).toBe(eligible.length);
    expect(got.duplicateReferences).toEqual([]);
    expect(eligible.every((i) => got.byPhone[phoneOf(i)] === 1)).toBe(true);
    expect(
      indexes.filter((i) => !eligible.includes(i)).some((i) => got.byPhone[phoneOf(i)] !== undefined),
    ).toBe(false);
    expect(run).toMatchObject({
      targeted: size,
      sent: eligible.length,
      failed: 0,
      unknown: 0,
      remaining: 0,
      suppressed: {
        total: size - eligible.length,
        byReason: expect.objectContaining({
          no_consent: indexes.filter(noConsent).length,
          opted_out: indexes.filter(optedOut).length,
        }),
      },
    });
    expect(Object.keys(run?.byVariant ?? {}).sort()).toEqual(['A', 'B']);
    expectVariantsAddUp(run);
    const variants = Object.values(run?.byVariant ?? {});
    expect(variants.reduce((sum, variant) => sum + variant.sent, 0)).toBe(eligible.length);
    expect((await env.api('GET', `/campaigns/${campaignId}`)).body.state).toBe('completed');
  });
});
