import { csvField } from '../optouts/use-cases';
import { fromMicros } from '../templates/pricing';
import type { Campaign } from './campaign';
import { type HourCounts, type RunCounts, type RunTally, runSuppressionReasons } from './counters';
import type { CampaignRun } from './runs';
import { type ProportionTest, twoProportionTest } from './stats';

// A campaign run's report (issue 6, item 7), built from its counters alone (campaigns/
// counters.ts), never from its message records: a run of a million members reads as one
// BatchGetItem. Per run and per variant: where every targeted member ended, what they did
// next, the rates with their denominators, the timeline per hour, the holdout's lift and
// the A/B comparison.

/**
 * Where a group's targeted members stand, and what came of the messages. The terms add up:
 * targeted = suppressed + delivered + failed + unknown + awaitingReceipt + remaining, with
 * failed = failedAtSending + undelivered and sent = delivered + undelivered + awaitingReceipt.
 * Money is in the tenant's currency, as micros and as a decimal string.
 */
export interface ReportCounts {
  readonly targeted: number;
  readonly suppressed: { readonly total: number; readonly byReason: Readonly<Record<string, number>> };
  /** Accepted by the provider (whatever receipts said since). */
  readonly sent: number;
  readonly delivered: number;
  readonly failed: {
    readonly total: number;
    /** Refused by the provider, or given up, before it accepted. */
    readonly atSending: number;
    /** Accepted, then reported failed or expired by a receipt. */
    readonly undelivered: number;
    /** Both kinds by reason; failures counted without a reason are under `unspecified`. */
    readonly byReason: Readonly<Record<string, number>>;
  };
  /** Ambiguous sends (a timeout after the request left): never resent, maybe delivered. */
  readonly unknown: number;
  /** Sent, and no receipt yet. */
  readonly awaitingReceipt: number;
  /** Not dealt with yet (a run still sending). */
  readonly remaining: number;
  readonly clicks: { readonly total: number; readonly unique: number };
  readonly replies: number;
  readonly optOuts: number;
  readonly conversions: number;
  readonly revenue: string;
  readonly revenueMicros: number;
  readonly cost: string;
  readonly costMicros: number;
  readonly rates: ReportRates;
}

/**
 * The rates, each a fraction (0.25 = 25 %), null when its denominator is 0 (never NaN):
 * - delivery = delivered ÷ sent;
 * - click = uniqueClicks ÷ reached, reply = replies ÷ reached, optOut = optOuts ÷ reached,
 *   conversion = conversions ÷ reached, where reached (`reachedBase`) is `delivered` once
 *   the provider sends receipts (any delivered or undelivered counted), else `sent` (a
 *   provider or account without receipts would make every rate null).
 * Replies, opt-outs and conversions are counts of events, so their rates can exceed 1.
 */
export interface ReportRates {
  readonly reachedBase: 'delivered' | 'sent';
  readonly delivery: number | null;
  readonly click: number | null;
  readonly reply: number | null;
  readonly optOut: number | null;
  readonly conversion: number | null;
}

/**
 * Conversion rate of the members sent to against the holdout's. Conversions are attributed
 * to a message a member clicked or was delivered (engagement/conversions.ts); a holdout
 * member gets no message, so nothing attributes their conversions to the run, and the lift
 * can only be computed when the caller counts them (`holdoutConversions`). Otherwise `lift`
 * is null and `reason` says why.
 */
export interface HoldoutLift {
  /** Members held back (suppressed as `holdout`). */
  readonly members: number;
  readonly conversions: number | null;
  /** conversions ÷ members of the holdout. */
  readonly conversionRate: number | null;
  /** conversions ÷ sent of the members messaged (the same base as the holdout's: everyone chosen). */
  readonly sentConversionRate: number | null;
  readonly lift: {
    /** sentConversionRate − holdout conversionRate. */
    readonly absolute: number;
    /** The same, relative to the holdout's rate; null when the holdout's rate is 0. */
    readonly relative: number | null;
    readonly test: ProportionTest;
  } | null;
  readonly reason?: string;
}

/** One variant against the control (the first variant), on click rate and conversion rate. */
export interface VariantComparison {
  readonly variantId: string;
  readonly control: string;
  readonly click: RateComparison;
  readonly conversion: RateComparison;
}

export interface RateComparison {
  readonly rate: number | null;
  readonly controlRate: number | null;
  /** rate − controlRate. */
  readonly difference: number | null;
  readonly test: ProportionTest;
}

export interface RunReport {
  readonly campaignId: string;
  readonly campaignName: string;
  readonly runId: string;
  readonly state: CampaignRun['state'];
  readonly scheduledAt: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly total: ReportCounts;
  readonly byVariant: Readonly<Record<string, ReportCounts>>;
  /** Per hour (UTC), oldest first: messages sent, delivered and links clicked in that hour. */
  readonly timeline: readonly HourCounts[];
  readonly holdout: HoldoutLift;
  /** Each variant after the first against the first; empty for a single-template campaign. */
  readonly comparisons: readonly VariantComparison[];
}

/** numerator ÷ denominator, null (not NaN or ∞) when there is nothing to divide by. */
export function rateOf(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

function reachedOf(counts: RunCounts): { base: 'delivered' | 'sent'; reached: number } {
  const receipts = counts.delivered + counts.undelivered > 0;
  return receipts ? { base: 'delivered', reached: counts.delivered } : { base: 'sent', reached: counts.sent };
}

function failuresByReason(counts: RunCounts): Record<string, number> {
  const byReason = new Map<string, number>();
  for (const source of [counts.failedByReason, counts.undeliveredByReason]) {
    for (const [reason, n] of Object.entries(source)) byReason.set(reason, (byReason.get(reason) ?? 0) + n);
  }
  const explained = [...byReason.values()].reduce((sum, n) => sum + n, 0);
  const unspecified = counts.failed + counts.undelivered - explained;
  if (unspecified > 0) byReason.set('unspecified', unspecified);
  return Object.fromEntries([...byReason].sort(([a], [b]) => a.localeCompare(b)));
}

/** A group's report counts from its counters. */
export function reportCounts(counts: RunCounts): ReportCounts {
  const { base, reached } = reachedOf(counts);
  const awaitingReceipt = Math.max(0, counts.sent - counts.delivered - counts.undelivered);
  const remaining = Math.max(
    0,
    counts.targeted - counts.suppressed.total - counts.sent - counts.failed - counts.unknown,
  );
  return {
    targeted: counts.targeted,
    suppressed: counts.suppressed,
    sent: counts.sent,
    delivered: counts.delivered,
    failed: {
      total: counts.failed + counts.undelivered,
      atSending: counts.failed,
      undelivered: counts.undelivered,
      byReason: failuresByReason(counts),
    },
    unknown: counts.unknown,
    awaitingReceipt,
    remaining,
    clicks: { total: counts.clicks, unique: counts.uniqueClicks },
    replies: counts.replies,
    optOuts: counts.optOuts,
    conversions: counts.conversions,
    revenue: fromMicros(counts.revenueMicros),
    revenueMicros: counts.revenueMicros,
    cost: fromMicros(counts.spentMicros),
    costMicros: counts.spentMicros,
    rates: {
      reachedBase: base,
      delivery: rateOf(counts.delivered, counts.sent),
      click: rateOf(counts.uniqueClicks, reached),
      reply: rateOf(counts.replies, reached),
      optOut: rateOf(counts.optOuts, reached),
      conversion: rateOf(counts.conversions, reached),
    },
  };
}

function holdoutLift({
  counts,
  holdoutConversions,
}: {
  counts: RunCounts;
  holdoutConversions: number | undefined;
}): HoldoutLift {
  const members = counts.suppressed.byReason.holdout ?? 0;
  const sentConversionRate = rateOf(counts.conversions, counts.sent);
  const without = (reason: string): HoldoutLift => ({
    members,
    conversions: holdoutConversions ?? null,
    conversionRate: holdoutConversions === undefined ? null : rateOf(holdoutConversions, members),
    sentConversionRate,
    lift: null,
    reason,
  });
  if (members === 0) return without('the run has no holdout');
  if (holdoutConversions === undefined) {
    return without(
      'conversions of holdout members are not attributed to the run (they get no message to attribute them to)',
    );
  }
  const conversionRate = rateOf(holdoutConversions, members);
  if (sentConversionRate === null || conversionRate === null) return without('nothing was sent');
  return {
    members,
    conversions: holdoutConversions,
    conversionRate,
    sentConversionRate,
    lift: {
      absolute: sentConversionRate - conversionRate,
      relative: conversionRate > 0 ? (sentConversionRate - conversionRate) / conversionRate : null,
      test: twoProportionTest({
        a: { successes: holdoutConversions, trials: members },
        b: { successes: counts.conversions, trials: counts.sent },
      }),
    },
  };
}

function compareRates({
  control,
  variant,
  successes,
}: {
  control: RunCounts;
  variant: RunCounts;
  successes: (counts: RunCounts) => number;
}): RateComparison {
  // Both sides on the same base: delivered when either has receipts, else sent.
  const receipts = control.delivered + control.undelivered + variant.delivered + variant.undelivered > 0;
  const trials = (counts: RunCounts): number => (receipts ? counts.delivered : counts.sent);
  const rate = rateOf(successes(variant), trials(variant));
  const controlRate = rateOf(successes(control), trials(control));
  return {
    rate,
    controlRate,
    difference: rate === null || controlRate === null ? null : rate - controlRate,
    test: twoProportionTest({
      a: { successes: successes(control), trials: trials(control) },
      b: { successes: successes(variant), trials: trials(variant) },
    }),
  };
}

/**
 * The report of one run from its tally. `holdoutConversions`: conversions of the run's
 * holdout members, when something counts them (nothing does yet: see HoldoutLift).
 */
export function buildRunReport({
  campaign,
  run,
  tally,
  holdoutConversions,
}: {
  campaign: Pick<Campaign, 'campaignId' | 'name'>;
  run: Pick<CampaignRun, 'runId' | 'state' | 'scheduledAt' | 'startedAt' | 'endedAt'>;
  tally: RunTally;
  holdoutConversions?: number;
}): RunReport {
  const variants = Object.entries(tally.byVariant);
  const [first] = variants;
  const comparisons: VariantComparison[] =
    first === undefined
      ? []
      : variants.slice(1).map(([variantId, counts]) => ({
          variantId,
          control: first[0],
          click: compareRates({ control: first[1], variant: counts, successes: (c) => c.uniqueClicks }),
          conversion: compareRates({ control: first[1], variant: counts, successes: (c) => c.conversions }),
        }));
  return {
    campaignId: campaign.campaignId,
    campaignName: campaign.name,
    runId: run.runId,
    state: run.state,
    scheduledAt: run.scheduledAt,
    ...(run.startedAt === undefined ? {} : { startedAt: run.startedAt }),
    ...(run.endedAt === undefined ? {} : { endedAt: run.endedAt }),
    total: reportCounts(tally.total),
    byVariant: Object.fromEntries(variants.map(([variantId, counts]) => [variantId, reportCounts(counts)])),
    timeline: tally.hourly ?? [],
    holdout: holdoutLift({ counts: tally.total, holdoutConversions }),
    comparisons,
  };
}

// ── CSV ───────────────────────────────────────────────────────────────────────────────

const csvColumns = [
  'campaign_id',
  'campaign_name',
  'run_id',
  'variant',
  'targeted',
  'suppressed',
  ...runSuppressionReasons.map((reason) => `suppressed_${reason}`),
  'sent',
  'delivered',
  'failed',
  'failed_at_sending',
  'undelivered',
  'failed_by_reason',
  'unknown',
  'awaiting_receipt',
  'remaining',
  'clicks',
  'unique_clicks',
  'replies',
  'opt_outs',
  'conversions',
  'revenue',
  'cost',
  'delivery_rate',
  'click_rate',
  'reply_rate',
  'opt_out_rate',
  'conversion_rate',
] as const;

const rateCell = (rate: number | null): string => (rate === null ? '' : rate.toFixed(4));

function csvRow(report: RunReport, variant: string, counts: ReportCounts): string {
  const cells = [
    report.campaignId,
    report.campaignName,
    report.runId,
    variant,
    counts.targeted,
    counts.suppressed.total,
    ...runSuppressionReasons.map((reason) => counts.suppressed.byReason[reason] ?? 0),
    counts.sent,
    counts.delivered,
    counts.failed.total,
    counts.failed.atSending,
    counts.failed.undelivered,
    // One cell, so the columns stay the same whatever the reasons: `invalid_phone=3; unreachable=2`.
    Object.entries(counts.failed.byReason)
      .map(([reason, n]) => `${reason}=${n}`)
      .join('; '),
    counts.unknown,
    counts.awaitingReceipt,
    counts.remaining,
    counts.clicks.total,
    counts.clicks.unique,
    counts.replies,
    counts.optOuts,
    counts.conversions,
    counts.revenue,
    counts.cost,
    rateCell(counts.rates.delivery),
    rateCell(counts.rates.click),
    rateCell(counts.rates.reply),
    rateCell(counts.rates.optOut),
    rateCell(counts.rates.conversion),
  ];
  // Reasons outside the fixed columns (cancelled, duplicate_phone) are only in `suppressed`.
  return cells.map((cell) => csvField(String(cell))).join(',');
}

/**
 * Reports as CSV: one row per run (variant `all`) and one per variant of it, the columns of
 * csvColumns. UTF-8 with a BOM, so Excel reads a Chinese campaign name right; CRLF line ends;
 * every cell through csvField (quoted when it holds a comma, quote or line break, and a
 * leading `=`, `+`, `-` or `@` defused).
 */
export function reportCsv(reports: readonly RunReport[]): string {
  const lines = [`\uFEFF${csvColumns.join(',')}`];
  for (const report of reports) {
    lines.push(csvRow(report, 'all', report.total));
    for (const [variantId, counts] of Object.entries(report.byVariant)) {
      lines.push(csvRow(report, variantId, counts));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
