import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  campaignAction,
  campaignProgress,
  configureSimulator,
  createCampaign,
  expectVariantsAddUp,
  fastForward,
  phoneOf,
  pollUntil,
  putMembers,
  runRecords,
  saveTemplate,
  simulatorCallCounts,
  simulatorReceived,
} from '../support/sending';
import { startTestStack, type TestStack } from '../support/stack';

// Invariants 1 and 2 (ARCHITECTURE.md) under faults, on the local stack: a provider that
// fails 5% of its calls (503), holds 1% of its answers past the client's timeout after
// accepting the message, and throttles above 20 parts a second in bursts of 3; SQS that
// delivers 30% of the send queue's batches twice at once; and a sender killed in the middle
// of a batch, right after its fourth provider call answered (a child process SIGKILLed: the
// outcomes it recorded before are never counted by it, its claims outlive it and its batch
// comes back after the visibility timeout, which the movable clock fast-forwards). Checked
// against what the simulator says each phone received: no phone gets the run's message
// twice, and every member ends in exactly one terminal state, with a reason, the completed
// run's counts equal to its records and adding up to the audience, per variant too.

let env: TestStack;

beforeAll(async () => {
  env = await startTestStack({
    name: 'chaos',
    simulator: { seed: 30, receipts: { enabled: false } },
    movableClock: true,
  });
});

afterAll(() => env?.stop());

const size = 150;
const allDay = { start: '00:00', end: '24:00' } as const;
/** No marketing consent: every tenth member. */
const noConsent = (i: number): boolean => i % 10 === 0;

describe('a campaign sent through faults', () => {
  it('sends no member twice and loses none when the provider fails, SQS repeats itself and a sender dies', async () => {
    // Prepare: 150 members, an A/B campaign, a faulty provider and a faulty event source.
    const indexes = Array.from({ length: size }, (_, i) => i);
    const members = indexes.map((i) => ({
      memberId: `K${String(i).padStart(3, '0')}`,
      phone: phoneOf(i, 80),
      consent: noConsent(i) ? ('unknown' as const) : ('granted' as const),
    }));
    await putMembers(env, members);
    expect((await env.api('PATCH', '/tenant', { sendWindow: allDay })).status).toBe(200);
    const templates = [
      await saveTemplate(env, { name: '春节 A', body: '{{name|default:"会员"}}，春节会员日全场8折' }),
      await saveTemplate(env, { name: '春节 B', body: '春节快乐！{{name|default:"会员"}}，积分翻倍' }),
    ];
    const campaignId = await createCampaign(env, {
      name: '春节会员日',
      audience: { definition: { not: { tags: { any: ['staff'] } } } },
      content: {
        variants: [
          { variantId: 'A', templateId: templates[0], percent: 50 },
          { variantId: 'B', templateId: templates[1], percent: 50 },
        ],
      },
      sendWindow: allDay,
    });
    await configureSimulator(env, {
      failureRate: 0.05,
      timeoutRate: 0.01,
      // Longer than the sender's provider timeout (5 s): the message is accepted, the answer lost.
      hangMs: 8_000,
      latencyMs: 10,
      latencyJitterMs: 40,
      rateLimit: { partsPerSecond: 20, burstParts: 3 },
    });
    const sender = env.stack.components.pollers.pollers.send;
    sender.injectFaults({
      duplicateRate: 0.3,
      seed: 11,
      kill: {
        invocation: 1,
        afterAnswers: { urlPrefix: `${env.stack.components.simulator.url}/v1/messages`, count: 4 },
      },
    });

    // Act: the run goes through the faults; then, with the sender idle, the clock passes the
    // dead sender's lease and its batch's visibility timeout, and the batch comes back with
    // whatever was put back to wait (throttled members, duplicates that met a claim).
    await campaignAction(env, campaignId, 'schedule');
    const started = await pollUntil(
      () => campaignProgress(env, campaignId),
      ({ run }) => run?.state === 'running',
    );
    const runId = started.run?.runId ?? '';
    await pollUntil(
      async () => sender.stats().killedInvocations,
      (killed) => killed > 0,
    );
    await fastForward(env, 361_000);
    let { run } = await campaignProgress(env, campaignId);
    for (let round = 0; round < 12 && run?.state !== 'completed'; round++) {
      // Members throttled again come back within a minute, and a run whose last records
      // settled on a redelivery is ended by a delayed probe (up to five minutes): bring them on.
      await fastForward(env, 31_000);
      ({ run } = await campaignProgress(env, campaignId));
    }

    // Assess: the faults happened.
    const stats = sender.stats();
    expect(stats.killedInvocations).toBe(1);
    expect(stats.duplicatedBatches).toBeGreaterThan(0);
    const calls = await simulatorCallCounts(env);
    expect(calls.unavailable).toBeGreaterThan(0);
    expect(calls.throttled).toBeGreaterThan(0);
    expect(calls.held).toBeGreaterThan(0);

    // No duplicates: no phone got the run's message twice.
    const got = await simulatorReceived(env);
    expect(got.duplicateReferences).toEqual([]);
    expect(Object.entries(got.byPhone).filter(([, count]) => count > 1)).toEqual([]);

    // No losses: every member in exactly one terminal state, with a reason where it was not
    // sent, and what the simulator received agrees with the records.
    const records = await runRecords(env, runId);
    expect(records.size).toBe(size);
    const outcomes = members.map(({ memberId, phone }, i) => {
      const record = records.get(memberId);
      const received = got.byPhone[phone] ?? 0;
      return { i, state: record?.state, reason: record?.reason, received };
    });
    const wrong = outcomes.filter(({ i, state, reason, received }) => {
      if (noConsent(i)) return !(state === 'suppressed' && reason === 'no_consent' && received === 0);
      if (state === 'sent') return received !== 1;
      if (state === 'failed') return reason === undefined || received !== 0;
      if (state === 'unknown') return reason === undefined || received > 1;
      return true;
    });
    expect(wrong).toEqual([]);
    const count = (state: string): number => outcomes.filter((outcome) => outcome.state === state).length;
    const unknownReceived = outcomes.filter(
      ({ state, received }) => state === 'unknown' && received === 1,
    ).length;
    expect(got.total).toBe(count('sent') + unknownReceived);
    // The dead sender's claims: given up as unknown, never sent again.
    expect(outcomes.some(({ reason }) => reason === 'lease_lost')).toBe(true);

    // The run completed, its counts equal to the records' and adding up to the audience.
    expect(run).toMatchObject({
      state: 'completed',
      targeted: size,
      sent: count('sent'),
      failed: count('failed'),
      unknown: count('unknown'),
      remaining: 0,
      suppressed: {
        total: indexes.filter(noConsent).length,
        byReason: expect.objectContaining({ no_consent: indexes.filter(noConsent).length }),
      },
    });
    expect(Object.keys(run?.byVariant ?? {}).sort()).toEqual(['A', 'B']);
    expectVariantsAddUp(run);
  });
});
