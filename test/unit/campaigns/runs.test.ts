import {
  type Campaign,
  type CampaignRun,
  markPause,
  type RunTally,
  runIdFor,
  runProgress,
  startRun,
  tallyOf,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

const tolerance = 900;

function campaignIn(state: Campaign['state'], schedule: Campaign['schedule'] = { kind: 'now' }): Campaign {
  return {
    campaignId: 'cmp_000000000001',
    name: '双11',
    category: 'marketing',
    audience: { segmentId: 'seg_1' },
    content: { templateId: 'tpl_000000000001' },
    schedule,
    sendWindow: { start: '09:00', end: '20:00', outside: 'hold' },
    holdoutPercent: 0,
    state,
    createdAt: '2026-11-20T00:00:00.000Z',
    updatedAt: '2026-11-20T00:00:00.000Z',
  };
}

const cron: Campaign['schedule'] = { kind: 'cron', expression: '30 9 * * *', timeZone: 'Asia/Shanghai' };
const message = { scheduledAt: '2026-11-23T08:00:00Z' };

describe('runIdFor', () => {
  it('names a run by its scheduled instant in UTC, whatever the offset it was written with', () => {
    expect(runIdFor('2026-11-23T16:00:00+08:00')).toBe('run_20261123T080000000Z');
    expect(runIdFor('2026-11-23T08:00:00.000Z')).toBe('run_20261123T080000000Z');
  });
});

describe('startRun', () => {
  it('starts a run on time and moves the campaign to running', () => {
    const decision = startRun({
      campaign: campaignIn('scheduled'),
      message,
      now: new Date('2026-11-23T08:00:03Z'),
      toleranceSeconds: tolerance,
    });

    expect(decision).toMatchObject({
      outcome: 'start',
      run: {
        runId: 'run_20261123T080000000Z',
        state: 'starting',
        scheduledAt: message.scheduledAt,
        startedAt: '2026-11-23T08:00:03.000Z',
      },
      campaign: { state: 'running' },
    });
  });

  it('starts a run late but within the tolerance', () => {
    const decision = startRun({
      campaign: campaignIn('scheduled'),
      message,
      now: new Date(Date.parse(message.scheduledAt) + tolerance * 1000),
      toleranceSeconds: tolerance,
    });

    expect(decision.outcome).toBe('start');
  });

  it('records a start later than the tolerance as missed and fails a one-time campaign', () => {
    const decision = startRun({
      campaign: campaignIn('scheduled'),
      message,
      now: new Date(Date.parse(message.scheduledAt) + tolerance * 1000 + 1),
      toleranceSeconds: tolerance,
    });

    expect(decision).toMatchObject({
      outcome: 'missed',
      run: { state: 'missed', missedReason: 'late' },
      campaign: { state: 'failed', failure: { reason: 'start_missed' } },
    });
    expect(decision).not.toHaveProperty('run.startedAt');
  });

  it('records a late fire of a recurring campaign as missed and leaves the campaign waiting', () => {
    const decision = startRun({
      campaign: campaignIn('scheduled', cron),
      message,
      now: new Date('2026-11-23T12:00:00Z'),
      toleranceSeconds: tolerance,
    });

    expect(decision.outcome).toBe('missed');
    expect(decision).not.toHaveProperty('campaign');
  });

  it('records a fire that arrives while the previous run is going as missed (overlap)', () => {
    const decision = startRun({
      campaign: campaignIn('running', cron),
      message,
      now: new Date('2026-11-23T08:00:01Z'),
      toleranceSeconds: tolerance,
    });

    expect(decision).toMatchObject({ outcome: 'missed', run: { missedReason: 'overlap' } });
  });

  it('does nothing for a fire that already has its run', () => {
    const first = startRun({
      campaign: campaignIn('scheduled'),
      message,
      now: new Date('2026-11-23T08:00:01Z'),
      toleranceSeconds: tolerance,
    });
    if (first.outcome !== 'start') throw new Error('expected a start');

    const again = startRun({
      campaign: first.campaign,
      message,
      now: new Date('2026-11-23T08:00:09Z'),
      toleranceSeconds: tolerance,
      existingRun: first.run,
    });

    expect(again).toEqual({ outcome: 'duplicate', run: first.run });
  });

  it('ignores a start for a campaign that is not waiting for one, recording nothing', () => {
    for (const state of ['draft', 'paused', 'cancelled', 'completed', 'failed'] as const) {
      const decision = startRun({
        campaign: campaignIn(state),
        message,
        now: new Date('2026-11-23T08:00:01Z'),
        toleranceSeconds: tolerance,
      });

      expect(decision).toEqual({ outcome: 'ignored', reason: `the campaign is ${state}` });
    }
  });
});

function runOf(overrides: Partial<CampaignRun> = {}): CampaignRun {
  return {
    campaignId: 'cmp_000000000001',
    runId: 'run_20261123T080000000Z',
    scheduledAt: '2026-11-23T08:00:00.000Z',
    receivedAt: '2026-11-23T08:00:00.000Z',
    startedAt: '2026-11-23T08:00:00.000Z',
    state: 'running',
    pauses: [],
    createdAt: '2026-11-23T08:00:00.000Z',
    updatedAt: '2026-11-23T08:00:00.000Z',
    ...overrides,
  };
}

function tally(counts: Record<string, number>, firstAt?: string, lastAt?: string): RunTally {
  return tallyOf({ shards: [new Map(Object.entries(counts))], firstAt, lastAt });
}

describe('runProgress', () => {
  const sending = tally(
    {
      targeted: 10_000,
      'suppressed.opted_out': 500,
      'suppressed.no_consent': 500,
      queued: 9_000,
      sent: 2_900,
      failed: 50,
      unknown: 50,
    },
    '2026-11-23T08:00:00.000Z',
    '2026-11-23T08:01:00.000Z',
  );

  it('computes remaining, the rate over the sending time and the ETA from now', () => {
    const progress = runProgress({ run: runOf(), tally: sending, now: new Date('2026-11-23T08:01:10Z') });

    expect(progress).toMatchObject({
      targeted: 10_000,
      suppressed: { total: 1_000 },
      queued: 9_000,
      sent: 2_900,
      failed: 50,
      unknown: 50,
      // 10,000 − 1,000 suppressed − 3,000 dealt with.
      remaining: 6_000,
      // 3,000 in the 60 s between the first and the latest batch.
      ratePerSecond: 50,
      etaSeconds: 120,
      etaAt: '2026-11-23T08:03:10.000Z',
    });
  });

  it('leaves paused time out of the rate', () => {
    const run = runOf({ pauses: [{ from: '2026-11-23T08:00:20.000Z', to: '2026-11-23T08:00:50.000Z' }] });

    const progress = runProgress({ run, tally: sending, now: new Date('2026-11-23T08:01:10Z') });

    expect(progress.ratePerSecond).toBe(100);
    expect(progress.etaSeconds).toBe(60);
  });

  it('has no rate or ETA while paused, stalled, before two batches, or once ended', () => {
    const at = new Date('2026-11-23T08:01:10Z');
    const cases = [
      runProgress({
        run: runOf({ pauses: [{ from: '2026-11-23T08:01:05.000Z' }] }),
        tally: sending,
        now: at,
      }),
      runProgress({ run: runOf(), tally: sending, now: new Date('2026-11-23T08:02:01Z') }),
      runProgress({
        run: runOf(),
        tally: tally({ targeted: 10, sent: 5 }, '2026-11-23T08:00:00.000Z', '2026-11-23T08:00:00.000Z'),
        now: at,
      }),
      runProgress({ run: runOf({ state: 'completed' }), tally: sending, now: at }),
      runProgress({ run: runOf({ state: 'starting' }), tally: tally({}), now: at }),
    ];

    for (const progress of cases) {
      expect(progress.ratePerSecond).toBe(0);
      expect(progress).not.toHaveProperty('etaSeconds');
      expect(progress).not.toHaveProperty('etaAt');
    }
  });

  it('counts a message accepted and then reported failed as failed, not as still to send', () => {
    const progress = runProgress({
      run: runOf({ state: 'completed' }),
      tally: tally({ targeted: 3, queued: 3, sent: 3, delivered: 2, undelivered: 1 }),
      now: new Date('2026-11-23T09:00:00Z'),
    });

    expect(progress).toMatchObject({ sent: 3, delivered: 2, failed: 1, remaining: 0 });
  });

  it('reports each variant on its own', () => {
    const progress = runProgress({
      run: runOf(),
      tally: tally({
        targeted: 100,
        'variant.A.queued': 45,
        'variant.A.suppressed.capped': 5,
        'variant.B.queued': 50,
        'variant.B.suppressed': 2,
      }),
      now: new Date('2026-11-23T08:00:10Z'),
    });

    expect(progress.byVariant.A).toMatchObject({ queued: 45, suppressed: { total: 5 } });
    expect(progress.byVariant.B).toMatchObject({ queued: 50, suppressed: { total: 2 } });
  });
});

describe('markPause', () => {
  it('opens a pause, closes it, and ignores a second open or close', () => {
    const run = runOf();

    const paused = markPause({ run, now: new Date('2026-11-23T08:10:00Z'), paused: true });
    const again = markPause({ run: paused, now: new Date('2026-11-23T08:11:00Z'), paused: true });
    const resumed = markPause({ run: again, now: new Date('2026-11-23T08:12:00Z'), paused: false });

    expect(again).toBe(paused);
    expect(resumed.pauses).toEqual([{ from: '2026-11-23T08:10:00.000Z', to: '2026-11-23T08:12:00.000Z' }]);
    expect(markPause({ run: resumed, now: new Date('2026-11-23T08:13:00Z'), paused: false })).toBe(resumed);
  });
});
