import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  campaignAction,
  campaignProgress,
  createCampaign,
  fastForward,
  phoneOf,
  pollUntil,
  putMembers,
  runRecords,
  saveTemplate,
  simulatorReceived,
  waitForRun,
  waitForSenderIdle,
} from '../support/sending';
import { startTestStack, type TestStack } from '../support/stack';

// Pause, resume and cancel in the middle of a run on the local stack, checked against what
// the SMS simulator says each phone received. Campaigns are throttled to 8 messages a second
// so that a run is observably under way when it is paused or cancelled. A paused campaign's
// batches come back every minute (the sender's pausedRecheckMs) and a claim lives six
// minutes: the process clock is moved forward instead of waiting.

let env: TestStack;
let templateId: string;

beforeAll(async () => {
  env = await startTestStack({
    name: 'control',
    simulator: { seed: 7, receipts: { enabled: false } },
    movableClock: true,
  });
  expect((await env.api('PATCH', '/tenant', { sendWindow: allDay })).status).toBe(200);
  templateId = await saveTemplate(env, { name: '周年庆', body: '{{name|default:"会员"}}，周年庆满200减30' });
});

afterAll(() => env?.stop());

const allDay = { start: '00:00', end: '24:00' } as const;
const size = 100;
/**
 * What may still go out after a pause or cancel: the sender reads the campaign's state again
 * before each provider call when its read is over a second old (stateRecheckMs), so about a
 * throttled second's worth (8), and the calls already in the provider's hands.
 */
const inFlightAllowance = 12;

/** 100 members tagged `prefix`, and a throttled campaign to them, started. */
async function startThrottledCampaign({ prefix, block }: { prefix: string; block: number }) {
  const members = Array.from({ length: size }, (_, i) => ({
    memberId: `${prefix}${String(i).padStart(3, '0')}`,
    phone: phoneOf(i, block),
    tags: [prefix],
  }));
  await putMembers(env, members);
  const campaignId = await createCampaign(env, {
    name: `周年庆 ${prefix}`,
    audience: { definition: { tags: { any: [prefix] } } },
    content: { templateId },
    sendWindow: allDay,
    throttle: { messagesPerSecond: 8 },
  });
  await campaignAction(env, campaignId, 'schedule');
  const phones = members.map((member) => member.phone);
  return { members, phones, campaignId };
}

/** How many of `phones` received a message, and whether any received two. */
async function received(phones: readonly string[]): Promise<{ phones: number; most: number }> {
  const { byPhone } = await simulatorReceived(env);
  const counts = phones.map((phone) => byPhone[phone] ?? 0);
  return { phones: counts.filter((count) => count > 0).length, most: Math.max(0, ...counts) };
}

/** The run's records by state (and reason). */
async function recordStates(runId: string): Promise<Record<string, number>> {
  const states: Record<string, number> = {};
  for (const record of (await runRecords(env, runId)).values()) {
    const key = record.reason ? `${record.state}:${record.reason}` : record.state;
    states[key] = (states[key] ?? 0) + 1;
  }
  return states;
}

describe('controlling a campaign in the middle of its run', () => {
  it('stops sending while paused, and sends the rest once after resume', async () => {
    // Prepare: a run under way.
    const { phones, campaignId } = await startThrottledCampaign({ prefix: 'PAU', block: 60 });
    await pollUntil(
      () => received(phones),
      (now) => now.phones >= 15,
    );

    // Act 1: pause, and let what was in flight finish.
    await campaignAction(env, campaignId, 'pause');
    const atPause = await received(phones);
    await waitForSenderIdle(env);
    const paused = await received(phones);
    const { run } = await campaignProgress(env, campaignId);
    const runId = run?.runId ?? '';

    // Assess 1: beyond what was in flight, the run stopped; its other members are pending,
    // none claimed.
    expect(paused.phones - atPause.phones).toBeLessThanOrEqual(inFlightAllowance);
    expect(await recordStates(runId)).toEqual({ sent: paused.phones, pending: size - paused.phones });

    // Act 2: a minute later the paused batches come back, and go back again.
    await fastForward(env, 61_000);

    // Assess 2: nothing more was sent while paused.
    expect(await received(phones)).toEqual(paused);
    expect((await campaignProgress(env, campaignId)).state).toBe('paused');
    expect(await recordStates(runId)).toEqual({ sent: paused.phones, pending: size - paused.phones });

    // Act 3: resume; the batches come back within a minute and the rest is sent.
    await campaignAction(env, campaignId, 'resume');
    await fastForward(env, 61_000);
    const completed = await waitForRun(env, campaignId);

    // Assess 3: everybody got exactly one message, and the counts add up.
    expect(await received(phones)).toEqual({ phones: size, most: 1 });
    expect((await simulatorReceived(env)).duplicateReferences).toEqual([]);
    expect(completed).toMatchObject({
      state: 'completed',
      targeted: size,
      sent: size,
      failed: 0,
      unknown: 0,
      remaining: 0,
    });
    expect(await recordStates(runId)).toEqual({ sent: size });
  });

  it('sends nothing more once cancelled, and ends the rest of the run as cancelled', async () => {
    // Prepare: a run under way.
    const { phones, campaignId } = await startThrottledCampaign({ prefix: 'CNL', block: 70 });
    await pollUntil(
      () => received(phones),
      (now) => now.phones >= 15,
    );

    // Act: cancel; let what was in flight finish, then let any delayed batch and any lease
    // run out.
    await campaignAction(env, campaignId, 'cancel');
    const atCancel = await received(phones);
    await waitForSenderIdle(env);
    const settled = await received(phones);
    await fastForward(env, 61_000);
    await fastForward(env, 361_000);

    // Assess: beyond what was in flight, nothing was sent after the cancel, not even later;
    // every member not sent is suppressed as cancelled; the run ended cancelled and its
    // counts add up.
    expect(settled.phones - atCancel.phones).toBeLessThanOrEqual(inFlightAllowance);
    expect(await received(phones)).toEqual({ phones: settled.phones, most: 1 });
    const { state, run } = await campaignProgress(env, campaignId);
    expect(state).toBe('cancelled');
    expect(run).toMatchObject({
      state: 'cancelled',
      targeted: size,
      sent: settled.phones,
      remaining: 0,
      suppressed: {
        total: size - settled.phones,
        byReason: expect.objectContaining({ cancelled: size - settled.phones }),
      },
    });
    expect(await recordStates(run?.runId ?? '')).toEqual({
      sent: settled.phones,
      'suppressed:cancelled': size - settled.phones,
    });
  });
});
