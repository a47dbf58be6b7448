import {
  type Campaign,
  campaignScheduleRequest,
  cronProblems,
  finalRunCounts,
  runDeltas,
  runSuppressionReasons,
  tallyOf,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

describe('cronProblems', () => {
  it.each([
    '30 9 * * *',
    '*/15 8-20 * * 1-5',
    '0 10 1,15 * *',
    '0 9 * JAN-MAR MON',
    '0-59/10 * * * *',
    '0 9 * * 7',
  ])('accepts %s', (expression) => {
    expect(cronProblems(expression)).toEqual([]);
  });

  it.each([
    ['30 9 * *', 'five space-separated fields: minute hour day-of-month month day-of-week'],
    ['60 9 * * *', '"60" is not valid in the minute field (0–59)'],
    ['0 24 * * *', '"24" is not valid in the hour field (0–23)'],
    ['0 9 0 * *', '"0" is not valid in the day-of-month field (1–31)'],
    ['0 9 * 13 *', '"13" is not valid in the month field (1–12)'],
    ['0 9 * * 8', '"8" is not valid in the day-of-week field (0–7)'],
    ['0 9 * * FUN', '"FUN" is not valid in the day-of-week field (0–7)'],
    ['5/15 * * * *', 'write "5-59/15" instead of "5/15" in the minute field'],
    ['0 20-8 * * *', 'the range 20-8 in the hour field runs backwards'],
    ['0 9 1 * 1', 'restrict day-of-month or day-of-week, not both: set the other to "*"'],
    ['0 9 L * *', '"L" is not valid in the day-of-month field (1–31)'],
  ])('refuses %s: %s', (expression, problem) => {
    expect(cronProblems(expression)).toEqual([problem]);
  });
});

describe('campaignScheduleRequest', () => {
  const tenantId = 'acme';
  const now = new Date('2026-11-23T08:00:00.400Z');
  const campaign = (schedule: Campaign['schedule'], startAt?: string) => ({
    campaignId: 'cmp_000000000001',
    schedule,
    ...(startAt === undefined ? {} : { startAt }),
  });

  it('puts "now" five seconds ahead, on a whole second, carrying the moment it was asked for', () => {
    const request = campaignScheduleRequest({
      tenantId,
      campaign: campaign({ kind: 'now' }, now.toISOString()),
      now,
    });

    expect(request).toEqual({
      name: 'acme-cmp_000000000001',
      spec: { kind: 'at', at: '2026-11-23T08:00:06.000Z' },
      payload: {
        type: 'campaign.start',
        tenantId,
        campaignId: 'cmp_000000000001',
        scheduledAt: '2026-11-23T08:00:00.400Z',
      },
    });
  });

  it('puts "at" at its instant', () => {
    const at = '2026-12-01T10:00:00+08:00';

    const request = campaignScheduleRequest({ tenantId, campaign: campaign({ kind: 'at', at }, at), now });

    expect(request.spec).toEqual({ kind: 'at', at: '2026-12-01T02:00:00.000Z' });
    expect(request.payload).toMatchObject({ scheduledAt: at });
  });

  it('puts a start resumed after its time a few seconds ahead, keeping the instant it was due', () => {
    const at = '2026-11-23T07:00:00.000Z';

    const request = campaignScheduleRequest({ tenantId, campaign: campaign({ kind: 'at', at }, at), now });

    expect(request.spec).toEqual({ kind: 'at', at: '2026-11-23T08:00:06.000Z' });
    expect(request.payload).toMatchObject({ scheduledAt: at });
  });

  it("puts a cron in its time zone, the scheduler's time of each fire in the message", () => {
    const request = campaignScheduleRequest({
      tenantId,
      campaign: campaign({ kind: 'cron', expression: '30 9 * * *', timeZone: 'Asia/Shanghai' }),
      now,
    });

    expect(request.spec).toEqual({ kind: 'cron', expression: '30 9 * * *', timeZone: 'Asia/Shanghai' });
    expect(request.payload).toMatchObject({ scheduledAt: '<aws.scheduler.scheduled-time>' });
  });
});

describe('run counters', () => {
  it('accepts counters, reasons and variants, and refuses a key no reader knows', () => {
    const valid = runDeltas.safeParse({
      targeted: 100,
      'suppressed.opted_out': 3,
      'variant.A.queued': 40,
      'variant.B.suppressed': 1,
      'variant.B.suppressed.quiet_hours': 2,
      unknown: -1,
    });
    const invalid = runDeltas.safeParse({ 'variant.A': 1, bounces: 2, sent: 1.5 });

    expect(valid.success).toBe(true);
    expect(invalid.error?.issues.map((issue) => issue.path.join('.'))).toEqual([
      'variant.A',
      'bounces',
      'sent',
    ]);
  });

  it('sums shards into totals and variants, every known reason listed', () => {
    const tally = tallyOf({
      shards: [
        new Map([
          ['sent', 3],
          ['suppressed.capped', 1],
          ['variant.A.sent', 3],
        ]),
        new Map([
          ['sent', 2],
          ['suppressed.duplicate_phone', 4],
          ['variant.B.sent', 2],
          ['firstAt', 9],
        ]),
      ],
    });

    expect(tally.total.sent).toBe(5);
    expect(tally.total.suppressed).toEqual({
      total: 5,
      byReason: {
        ...Object.fromEntries(runSuppressionReasons.map((reason) => [reason, 0])),
        capped: 1,
        duplicate_phone: 4,
      },
    });
    expect(Object.keys(tally.byVariant)).toEqual(['A', 'B']);
    expect(tally.byVariant.B?.sent).toBe(2);
  });

  it('takes the counters records settle from the final counts, the others from the shards', () => {
    const tally = tallyOf({
      shards: [
        new Map([
          ['targeted', 10],
          ['queued', 9],
          ['sent', 6],
          ['suppressed.no_consent', 1],
          ['variant.A.sent', 6],
          ['variant.A.queued', 9],
          ['delivered', 4],
        ]),
      ],
      final: new Map([
        ['targeted', 10],
        ['sent', 8],
        ['unknown', 1],
        ['suppressed.no_consent', 1],
        ['variant.A.sent', 8],
      ]),
    });

    expect(tally.total).toMatchObject({ targeted: 10, queued: 9, sent: 8, unknown: 1, delivered: 4 });
    expect(tally.total.suppressed.total).toBe(1);
    expect(tally.byVariant.A).toMatchObject({ sent: 8, queued: 9 });
  });

  it('accepts as final counts only the counters records settle, never negative', () => {
    const valid = finalRunCounts.safeParse({
      targeted: 10,
      'suppressed.capped': 2,
      'variant.B.sent': 3,
      spentMicros: 45_000,
    });
    const invalid = finalRunCounts.safeParse({ queued: 9, delivered: 1, sent: -1 });

    expect(valid.success).toBe(true);
    expect(invalid.error?.issues.map((issue) => issue.path.join('.'))).toEqual([
      'queued',
      'delivered',
      'sent',
    ]);
  });
});
