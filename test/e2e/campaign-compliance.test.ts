import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  campaignAction,
  campaignProgress,
  createCampaign,
  expectVariantsAddUp,
  fastForward,
  phoneOf,
  pollUntil,
  putMembers,
  recordOptOuts,
  runRecords,
  saveTemplate,
  simulatorMessagesTo,
  simulatorReceived,
  waitForRun,
  waitForSenderIdle,
} from '../support/sending';
import { startTestStack, type TestStack } from '../support/stack';

// The compliance invariants (ARCHITECTURE.md 3 and 4) on the local stack, checked against
// what the SMS simulator says each phone received: an opt-out recorded while a campaign is
// sending stops what has not been sent yet; two campaigns at once never take a member past
// the frequency cap; a campaign outside its send window drops, or holds its members until
// the window opens. The process clock is movable, so a hold until hours from now is seen
// through to the opening without waiting for it.

let env: TestStack;
let templateId: string;

beforeAll(async () => {
  env = await startTestStack({
    name: 'compliance',
    simulator: { seed: 5, receipts: { enabled: false } },
    movableClock: true,
  });
  // The tenant's hours never close: each test's campaign says when it may send.
  const tenant = await env.api('PATCH', '/tenant', { sendWindow: allDay });
  expect(tenant.status).toBe(200);
  templateId = await saveTemplate(env, { name: '会员日', body: '{{name|default:"会员"}}，会员日全场8折' });
});

afterAll(() => env?.stop());

const allDay = { start: '00:00', end: '24:00' } as const;

/** Members `<prefix>000…` with phones in `block`, all with marketing consent, tagged `prefix`. */
async function seed({ prefix, block, size }: { prefix: string; block: number; size: number }) {
  const members = Array.from({ length: size }, (_, i) => ({
    memberId: `${prefix}${String(i).padStart(3, '0')}`,
    phone: phoneOf(i, block),
    tags: [prefix],
  }));
  await putMembers(env, members);
  return members;
}

/** The messages the simulator accepted for each of `phones`. */
async function receivedBy(phones: readonly string[]): Promise<Map<string, number>> {
  const { byPhone } = await simulatorReceived(env);
  return new Map(phones.map((phone) => [phone, byPhone[phone] ?? 0]));
}

const sum = (counts: Map<string, number>): number => [...counts.values()].reduce((a, b) => a + b, 0);

/**
 * A send window on the tenant's wall clock (Asia/Shanghai) that opens `opensInMinutes`
 * after the next whole minute and lasts `lastsMinutes`; `opensAt` is the instant.
 */
function windowFromNow({ opensInMinutes, lastsMinutes }: { opensInMinutes: number; lastsMinutes: number }) {
  const opensAt = Math.ceil(Date.now() / 60_000) * 60_000 + opensInMinutes * 60_000;
  const wall = (at: number): string =>
    new Date(at).toLocaleTimeString('en-GB', {
      timeZone: 'Asia/Shanghai',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  return { start: wall(opensAt), end: wall(opensAt + lastsMinutes * 60_000), opensAt };
}

describe('compliance while campaigns send', () => {
  it('stops the sends not yet made once a member opts out in the middle of a run', async () => {
    // Prepare: 100 members and a campaign throttled to 8 messages a second (about 12 s).
    const members = await seed({ prefix: 'OPT', block: 20, size: 100 });
    const phones = members.map((member) => member.phone);
    const campaignId = await createCampaign(env, {
      name: '会员日 退订',
      audience: { definition: { tags: { any: ['OPT'] } } },
      content: { templateId },
      sendWindow: allDay,
      throttle: { messagesPerSecond: 8 },
    });
    await campaignAction(env, campaignId, 'schedule');
    const before = await pollUntil(
      () => receivedBy(phones),
      (counts) => sum(counts) >= 15,
    );
    expect(sum(before)).toBeGreaterThanOrEqual(15);
    expect(sum(before)).toBeLessThan(60);

    // Act: 30 members who have had nothing yet opt out, while the run goes on.
    const optingOut = phones.filter((phone) => before.get(phone) === 0).slice(-30);
    await recordOptOuts(env, optingOut);
    // What had already reached the provider when the opt-outs were in: in flight, allowed.
    const atOptOut = await receivedBy(optingOut);
    const run = await waitForRun(env, campaignId);

    // Assess: the opted-out members who had nothing then get nothing, ever, and are
    // suppressed as opted out; everybody else gets exactly one message.
    const notYetSent = optingOut.filter((phone) => atOptOut.get(phone) === 0);
    expect(notYetSent.length).toBeGreaterThan(20);
    const after = await receivedBy(phones);
    expect(notYetSent.filter((phone) => after.get(phone) !== 0)).toEqual([]);
    expect(phones.filter((phone) => !notYetSent.includes(phone) && after.get(phone) !== 1)).toEqual([]);
    expect((await simulatorReceived(env)).duplicateReferences).toEqual([]);
    expect(run).toMatchObject({
      state: 'completed',
      targeted: 100,
      sent: 100 - notYetSent.length,
      failed: 0,
      unknown: 0,
      remaining: 0,
      suppressed: {
        total: notYetSent.length,
        byReason: expect.objectContaining({ opted_out: notYetSent.length }),
      },
    });
    const records = await runRecords(env, run?.runId ?? '');
    const byPhone = new Map(members.map((member) => [member.phone, records.get(member.memberId)]));
    expect(notYetSent.map((phone) => byPhone.get(phone)?.state)).toEqual(notYetSent.map(() => 'suppressed'));
    expect(notYetSent.map((phone) => byPhone.get(phone)?.reason)).toEqual(notYetSent.map(() => 'opted_out'));
  });

  it('never lets two campaigns launched together take a member past the frequency cap', async () => {
    // Prepare: a tight cap, one marketing message per member per 7 days, and two campaigns
    // to the same 80 members.
    const caps = await env.api('PATCH', '/tenant', {
      frequencyCaps: [{ messages: 1, days: 7 }],
      dailyMax: 1,
    });
    expect(caps.status).toBe(200);
    const members = await seed({ prefix: 'CAP', block: 30, size: 80 });
    const campaignIds: string[] = [];
    for (const name of ['会员日 A', '会员日 B']) {
      campaignIds.push(
        await createCampaign(env, {
          name,
          audience: { definition: { tags: { any: ['CAP'] } } },
          content: { templateId },
          sendWindow: allDay,
        }),
      );
    }

    try {
      // Act: both scheduled at the same moment.
      await Promise.all(campaignIds.map((campaignId) => campaignAction(env, campaignId, 'schedule')));
      const runs = await Promise.all(campaignIds.map((campaignId) => waitForRun(env, campaignId)));

      // Assess: every phone received exactly the cap, one message; for each member one
      // campaign's record is sent and the other's suppressed as capped.
      const received = await receivedBy(members.map((member) => member.phone));
      expect([...received.values()].filter((count) => count !== 1)).toEqual([]);
      for (const run of runs) {
        expect(run?.state).toBe('completed');
        expect(run?.targeted).toBe(80);
        expect((run?.sent ?? 0) + (run?.suppressed.byReason.capped ?? 0)).toBe(80);
        expectVariantsAddUp(run);
      }
      expect(runs.reduce((total, run) => total + (run?.sent ?? 0), 0)).toBe(80);
      const [first, second] = await Promise.all(runs.map((run) => runRecords(env, run?.runId ?? '')));
      const outcomes = members.map(({ memberId }) => {
        const pair = [first?.get(memberId), second?.get(memberId)];
        return pair
          .map((record) => `${record?.state}${record?.reason ? `:${record.reason}` : ''}`)
          .sort()
          .join(' + ');
      });
      expect(new Set(outcomes)).toEqual(new Set(['sent + suppressed:capped']));
    } finally {
      await env.api('PATCH', '/tenant', {
        frequencyCaps: [
          { messages: 2, days: 7 },
          { messages: 4, days: 30 },
        ],
        dailyMax: 1,
      });
    }
  });

  it('drops the members of a campaign outside its send window when it says drop', async () => {
    // Prepare: a window that opens in two hours, and `drop` outside it.
    const members = await seed({ prefix: 'DRP', block: 40, size: 30 });
    const window = windowFromNow({ opensInMinutes: 120, lastsMinutes: 60 });
    const campaignId = await createCampaign(env, {
      name: '会员日 不补发',
      audience: { definition: { tags: { any: ['DRP'] } } },
      content: { templateId },
      sendWindow: { start: window.start, end: window.end, outside: 'drop' },
    });

    // Act
    await campaignAction(env, campaignId, 'schedule');
    const run = await waitForRun(env, campaignId);

    // Assess: nothing sent, everybody suppressed for quiet hours.
    expect(sum(await receivedBy(members.map((member) => member.phone)))).toBe(0);
    expect(run).toMatchObject({
      state: 'completed',
      targeted: 30,
      sent: 0,
      remaining: 0,
      suppressed: { total: 30, byReason: expect.objectContaining({ quiet_hours: 30 }) },
    });
  });

  it('holds the members of a campaign outside its send window and sends them once it opens', async () => {
    // Prepare: a window that opens in two hours, and `hold` outside it.
    const members = await seed({ prefix: 'HLD', block: 50, size: 30 });
    const phones = members.map((member) => member.phone);
    const window = windowFromNow({ opensInMinutes: 120, lastsMinutes: 60 });
    const campaignId = await createCampaign(env, {
      name: '会员日 延后',
      audience: { definition: { tags: { any: ['HLD'] } } },
      content: { templateId },
      sendWindow: { start: window.start, end: window.end, outside: 'hold' },
    });

    // Act 1: the run starts while the window is closed.
    await campaignAction(env, campaignId, 'schedule');
    const started = await pollUntil(
      () => campaignProgress(env, campaignId),
      ({ run }) => run?.state === 'running' && run.queued === 30,
    );
    const held = await waitForSenderIdle(env);

    // Assess 1: nothing sent, every member still pending, their batches back on the queue
    // (delayed, to come back when the window opens or, at most, in 15 minutes).
    expect(started.run?.queued).toBe(30);
    expect(sum(await receivedBy(phones))).toBe(0);
    expect(held.delayed).toBeGreaterThan(0);
    const runId = started.run?.runId ?? '';
    const states = async () => [...(await runRecords(env, runId)).values()].map((record) => record.state);
    expect(await states()).toEqual(members.map(() => 'pending'));

    // Act 2: a minute before the window opens, the held batches come back.
    const sender = env.stack.components.pollers.pollers.send;
    const worked = sender.stats().recordsDeleted;
    const heldAgain = await fastForward(env, window.opensAt - 60_000 - Date.now());

    // Assess 2: still closed, so still nothing sent, and held again.
    expect(sender.stats().recordsDeleted).toBeGreaterThanOrEqual(worked + held.delayed);
    expect(heldAgain.delayed).toBeGreaterThan(0);
    expect(sum(await receivedBy(phones))).toBe(0);
    expect(await states()).toEqual(members.map(() => 'pending'));

    // Act 3: the window opens (and the held members' jitter of up to 30 s passes).
    await fastForward(env, window.opensAt + 40_000 - Date.now());
    const run = await waitForRun(env, campaignId);

    // Assess 3: each member got exactly one message, none before the window opened.
    const received = await receivedBy(phones);
    expect([...received.values()].filter((count) => count !== 1)).toEqual([]);
    const acceptedAt = await Promise.all(
      phones.map(async (phone) => Date.parse((await simulatorMessagesTo(env, phone))[0]?.acceptedAt ?? '')),
    );
    expect(acceptedAt.filter((at) => !(at >= window.opensAt))).toEqual([]);
    expect(run).toMatchObject({ state: 'completed', targeted: 30, sent: 30, remaining: 0 });
  });
});
