import {
  buildRunReport,
  erf,
  erfc,
  normalCdf,
  reportCsv,
  tallyOf,
  twoProportionTest,
  withHourlyCounts,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

const campaign = { campaignId: 'cmp_AAAAAAAAAAAA', name: '双11会员日, 全场8折' };
const run = {
  runId: 'run_20261123T020000000Z',
  state: 'completed' as const,
  scheduledAt: '2026-11-23T02:00:00.000Z',
  startedAt: '2026-11-23T02:00:01.000Z',
  endedAt: '2026-11-23T03:10:00.000Z',
};
const tallyFrom = (counts: Record<string, number>) => tallyOf({ shards: [new Map(Object.entries(counts))] });

describe('normal distribution', () => {
  it('gives erf and erfc at known points', () => {
    expect(erfc(0)).toBeCloseTo(1, 6);
    expect(erf(1)).toBeCloseTo(0.8427007929, 7);
    expect(erf(-1)).toBeCloseTo(-0.8427007929, 7);
    expect(erfc(2)).toBeCloseTo(0.004677734981, 9);
  });

  it('keeps the leading digits of a tiny tail', () => {
    const tail = erfc(5);

    expect(Math.abs(tail - 1.5374597944e-12) / 1.5374597944e-12).toBeLessThan(1e-6);
  });

  it('gives the standard normal CDF', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1.959964)).toBeCloseTo(0.025, 6);
    expect(normalCdf(1)).toBeCloseTo(0.8413447461, 7);
  });
});

describe('twoProportionTest', () => {
  it('finds 250/1000 against 200/1000 significant: z ≈ 2.68, p ≈ 0.0074', () => {
    const test = twoProportionTest({
      a: { successes: 200, trials: 1000 },
      b: { successes: 250, trials: 1000 },
    });

    expect(test.z).toBeCloseTo(2.6774, 3);
    expect(test.pValue).toBeCloseTo(0.00742, 4);
    expect(test.significant).toBe(true);
  });

  it('is negative when the second group does worse, with the same p', () => {
    const test = twoProportionTest({
      a: { successes: 250, trials: 1000 },
      b: { successes: 200, trials: 1000 },
    });

    expect(test.z).toBeCloseTo(-2.6774, 3);
    expect(test.pValue).toBeCloseTo(0.00742, 4);
  });

  it('finds 110/1000 against 100/1000 not significant (z ≈ 0.73, p ≈ 0.47)', () => {
    const test = twoProportionTest({
      a: { successes: 100, trials: 1000 },
      b: { successes: 110, trials: 1000 },
    });

    expect(test.z).toBeCloseTo(0.7294, 3);
    expect(test.pValue).toBeCloseTo(0.4658, 3);
    expect(test.significant).toBe(false);
  });

  it('runs no test, with a reason, for an empty group, no successes at all or more successes than trials', () => {
    const empty = twoProportionTest({ a: { successes: 0, trials: 0 }, b: { successes: 1, trials: 10 } });
    const none = twoProportionTest({ a: { successes: 0, trials: 10 }, b: { successes: 0, trials: 10 } });
    const over = twoProportionTest({ a: { successes: 12, trials: 10 }, b: { successes: 1, trials: 10 } });

    for (const test of [empty, none, over]) {
      expect(test).toMatchObject({ z: null, pValue: null, significant: false });
      expect('reason' in test && test.reason.length > 0).toBe(true);
    }
  });
});

describe('buildRunReport', () => {
  // 1,000 targeted: 100 suppressed (60 opted out, 40 holdout), 860 sent (800 delivered, 20
  // undelivered, 40 awaiting a receipt), 30 failed at sending, 10 unknown.
  const counts = {
    targeted: 1000,
    'suppressed.opted_out': 60,
    'suppressed.holdout': 40,
    sent: 860,
    failed: 30,
    'failed.invalid_phone': 25,
    unknown: 10,
    delivered: 800,
    undelivered: 20,
    'undelivered.unreachable': 12,
    'undelivered.expired': 8,
    spentMicros: 38_700_000,
    clicks: 130,
    uniqueClicks: 100,
    replies: 16,
    optOuts: 4,
    conversions: 40,
    revenueMicros: 5_999_000_000,
    'variant.A.targeted': 500,
    'variant.A.sent': 430,
    'variant.A.delivered': 400,
    'variant.A.uniqueClicks': 80,
    'variant.A.conversions': 15,
    'variant.B.targeted': 500,
    'variant.B.sent': 430,
    'variant.B.delivered': 400,
    'variant.B.uniqueClicks': 20,
    'variant.B.conversions': 25,
  };

  it('says where every targeted member ended, and the terms add up', () => {
    const report = buildRunReport({ campaign, run, tally: tallyFrom(counts) });
    const { total } = report;

    expect(total).toMatchObject({
      targeted: 1000,
      sent: 860,
      delivered: 800,
      unknown: 10,
      awaitingReceipt: 40,
      remaining: 0,
      clicks: { total: 130, unique: 100 },
      replies: 16,
      optOuts: 4,
      conversions: 40,
      revenue: '5999.00',
      cost: '38.70',
    });
    expect(total.suppressed.total).toBe(100);
    expect(total.suppressed.byReason).toMatchObject({ opted_out: 60, holdout: 40 });
    expect(total.failed).toEqual({
      total: 50,
      atSending: 30,
      undelivered: 20,
      byReason: { expired: 8, invalid_phone: 25, unreachable: 12, unspecified: 5 },
    });
    expect(
      total.suppressed.total +
        total.delivered +
        total.failed.total +
        total.unknown +
        total.awaitingReceipt +
        total.remaining,
    ).toBe(total.targeted);
  });

  it('gives each rate over its stated denominator', () => {
    const { rates } = buildRunReport({ campaign, run, tally: tallyFrom(counts) }).total;

    expect(rates.reachedBase).toBe('delivered');
    expect(rates.delivery).toBeCloseTo(800 / 860, 10);
    expect(rates.click).toBeCloseTo(100 / 800, 10);
    expect(rates.reply).toBeCloseTo(16 / 800, 10);
    expect(rates.optOut).toBeCloseTo(4 / 800, 10);
    expect(rates.conversion).toBeCloseTo(40 / 800, 10);
  });

  it('takes sent as the base when the provider sends no receipts', () => {
    const { rates } = buildRunReport({
      campaign,
      run,
      tally: tallyFrom({ targeted: 10, sent: 10, uniqueClicks: 2 }),
    }).total;

    expect(rates).toMatchObject({ reachedBase: 'sent', click: 0.2, delivery: 0 });
  });

  it('gives null, never NaN, for a rate with nothing to divide by', () => {
    const report = buildRunReport({
      campaign,
      run,
      tally: tallyFrom({ targeted: 5, 'suppressed.capped': 5 }),
    });

    expect(report.total.rates).toEqual({
      reachedBase: 'sent',
      delivery: null,
      click: null,
      reply: null,
      optOut: null,
      conversion: null,
    });
    expect(JSON.stringify(report)).not.toContain('NaN');
  });

  it('compares each variant with the first on click and conversion rate', () => {
    const report = buildRunReport({ campaign, run, tally: tallyFrom(counts) });

    expect(Object.keys(report.byVariant)).toEqual(['A', 'B']);
    expect(report.comparisons).toHaveLength(1);
    const [b] = report.comparisons;
    expect(b).toMatchObject({ variantId: 'B', control: 'A' });
    expect(b?.click.rate).toBeCloseTo(0.05, 10);
    expect(b?.click.controlRate).toBeCloseTo(0.2, 10);
    expect(b?.click.test.z).toBeLessThan(0);
    expect(b?.click.test.significant).toBe(true);
    // 25/400 against 15/400: pooled 0.05, z = 0.025 / √(0.05 · 0.95 · 2/400) ≈ 1.62, p ≈ 0.10.
    expect(b?.conversion.test.z).toBeCloseTo(1.6222, 3);
    expect(b?.conversion.test.pValue).toBeCloseTo(0.1048, 3);
    expect(b?.conversion.test.significant).toBe(false);
  });

  it('has no comparison for a campaign of one template', () => {
    const report = buildRunReport({ campaign, run, tally: tallyFrom({ targeted: 1, sent: 1 }) });

    expect(report.comparisons).toEqual([]);
  });

  it('says why there is no holdout lift when holdout conversions are not counted', () => {
    const report = buildRunReport({ campaign, run, tally: tallyFrom(counts) });

    expect(report.holdout).toMatchObject({ members: 40, conversions: null, lift: null });
    expect(report.holdout.reason).toContain('not attributed');
  });

  it('computes the lift of the members sent to over the holdout when its conversions are given', () => {
    const report = buildRunReport({ campaign, run, tally: tallyFrom(counts), holdoutConversions: 1 });

    expect(report.holdout.conversionRate).toBeCloseTo(1 / 40, 10);
    expect(report.holdout.sentConversionRate).toBeCloseTo(40 / 860, 10);
    expect(report.holdout.lift?.absolute).toBeCloseTo(40 / 860 - 1 / 40, 10);
    expect(report.holdout.lift?.relative).toBeCloseTo((40 / 860 - 1 / 40) / (1 / 40), 10);
    expect(report.holdout.lift?.test.z).not.toBeNull();
  });

  it('has no lift without a holdout', () => {
    const report = buildRunReport({ campaign, run, tally: tallyFrom({ targeted: 1, sent: 1 }) });

    expect(report.holdout).toMatchObject({ members: 0, lift: null, reason: 'the run has no holdout' });
  });

  it('lays out the timeline hour by hour from the hour buckets the counters add', () => {
    const first = withHourlyCounts({
      deltas: { sent: 100, queued: 5 },
      at: new Date('2026-11-23T02:59:59Z'),
    });
    const second = withHourlyCounts({
      deltas: { sent: 50, delivered: 120, clicks: 7, 'variant.A.sent': 50 },
      at: new Date('2026-11-23T03:00:00Z'),
    });
    const tally = tallyOf({ shards: [new Map(Object.entries(first)), new Map(Object.entries(second))] });

    const report = buildRunReport({ campaign, run, tally });

    expect(first).toEqual({ sent: 100, queued: 5, 'hour.2026112302.sent': 100 });
    expect(report.timeline).toEqual([
      { hour: '2026-11-23T02:00:00.000Z', sent: 100, delivered: 0, clicks: 0 },
      { hour: '2026-11-23T03:00:00.000Z', sent: 50, delivered: 120, clicks: 7 },
    ]);
    expect(report.total.sent).toBe(150);
  });
});

describe('reportCsv', () => {
  it('writes a BOM, the header and one row per run and per variant, Chinese and commas quoted', () => {
    const report = buildRunReport({
      campaign,
      run,
      tally: tallyFrom({
        targeted: 2,
        sent: 2,
        delivered: 1,
        undelivered: 1,
        'undelivered.unreachable': 1,
        'variant.A.targeted': 1,
        'variant.A.sent': 1,
      }),
    });

    const csv = reportCsv([report]);
    const lines = csv.split('\r\n');

    expect(csv.startsWith('\uFEFFcampaign_id,campaign_name,run_id,variant,targeted,')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(lines).toHaveLength(4); // header, all, A, and the empty string after the last CRLF
    const header = (lines[0] ?? '').replace('\uFEFF', '').split(',');
    const row = lines[1] ?? '';
    expect(row.startsWith('cmp_AAAAAAAAAAAA,"双11会员日, 全场8折",run_20261123T020000000Z,all,2,')).toBe(
      true,
    );
    // The name's comma is inside its quotes: the row has exactly the header's columns.
    const cells = row.replace('"双11会员日, 全场8折"', 'NAME').split(',');
    expect(cells).toHaveLength(header.length);
    const cell = (name: string) => cells[header.indexOf(name)];
    expect(cell('delivery_rate')).toBe('0.5000');
    expect(cell('failed_by_reason')).toBe('unreachable=1');
    expect(cell('conversion_rate')).toBe('0.0000');
    const variantCells = (lines[2] ?? '').replace('"双11会员日, 全场8折"', 'NAME').split(',');
    expect(variantCells[header.indexOf('variant')]).toBe('A');
    expect(variantCells[header.indexOf('delivery_rate')]).toBe('0.0000');
  });

  it('leaves a rate with no denominator empty and defuses a name that starts like a formula', () => {
    const csv = reportCsv([
      buildRunReport({
        campaign: { ...campaign, name: '=HYPERLINK("x")' },
        run,
        tally: tallyFrom({ targeted: 1, 'suppressed.capped': 1 }),
      }),
    ]);
    const row = csv.split('\r\n')[1] ?? '';

    expect(row).toContain(`"'=HYPERLINK(""x"")"`);
    expect(row.endsWith(',,,,,')).toBe(true);
  });
});
