import * as z from 'zod';

// The counters of a campaign run: how many members were targeted, suppressed (by reason),
// queued and sent, and how their messages ended. The segmenter and the sender add to them
// once per batch (never once per message) through the RunCounters port; the DynamoDB adapter
// spreads each run's counters over shards so no key takes every batch's write.
//
// Deltas are a flat map from counter key to increment. A key is a counter, optionally under a
// variant; totals and variants are separate keys, each written by whoever counts:
//   targeted | queued | sent | failed | unknown | delivered | undelivered | spentMicros
//   suppressed.<reason>                         (opted_out, no_consent, holdout, capped, …)
//   variant.<variantId>.<counter>               (variant.A.queued)
//   variant.<variantId>.suppressed[.<reason>]   (variant.B.suppressed.capped)
//
// Each member is counted once in each stage it reaches:
// - `targeted`: in the run's audience (segmenter);
// - `suppressed.<reason>`: gets no message (segmenter: opted_out, no_consent, invalid_phone,
//   holdout; sender at claim time: opted_out, no_consent, capped, quiet_hours (a `drop`
//   window), missing_variable, over_budget (the campaign's budget cap reached), …);
// - `queued`: handed to the send queue (segmenter);
// - exactly one outcome of the provider call (sender): `sent` (accepted), `failed` (refused,
//   or retries exhausted, never accepted) or `unknown` (an ambiguous timeout);
// - later, from receipts: `delivered`, or `undelivered` for a message accepted and then
//   reported failed. A receipt that settles an `unknown` adds `unknown: -1, sent: 1` first.
// So still to be sent = targeted − suppressed − sent − failed − unknown, and once a run is
// done, targeted = suppressed + delivered + failed + undelivered + unknown + awaiting receipt.
//
// Two more come from inbound replies (receipts/process.ts, applyReply), counted under the run (and
// variant) of the message a reply answers: `replies` (every reply applied) and `optOuts`
// (replies that opted the number out). They are counts of replies, not of members.
//
// One counter is a sum, not a count of members: `spentMicros`, what the accepted messages
// cost (their parts at the tenant's price, in millionths of its currency), added by the
// sender with `sent`; progress shows it against the campaign's budget.
//
// Two breakdowns name why messages failed, beside (not instead of) the counters they break
// down: `failed.<reason>` (the sender's refusals, reasons as failureReasonKey reads them:
// invalid_phone, template_rejected, …) and `undelivered.<reason>` (receipts: invalid_number,
// unreachable, expired, …), total and under the variant. `failed` and `undelivered` stay the
// totals: a failure counted before its reason was (or with none) shows as their difference.
//
// The timeline: `hour.<YYYYMMDDHH>.<sent|delivered|clicks>` (UTC), per run and not per
// variant, added by the RunCounters adapter itself from its clock with the same write
// (withHourlyCounts), so every writer of those counters feeds it without knowing. It is
// counted as it happens and never recounted: its hours may sum to a little less than a
// completed run's final `sent`.
//
// Counters are added apart from the record writes they count, so they can fall short: an
// invocation killed after recording outcomes and before its add loses that add for good, and
// one still ending adds a moment after the last record settled. So a run completes with final
// counts: the sender that finds every record settled counts the records themselves (the scan
// that proves completion reads them all anyway), writes the result with `finalize`, and only
// then marks the run completed. Final counts are absolute, not deltas, and the first written
// stands (every writer counts the same settled records): two senders completing a run at
// once cannot correct it twice, and an add that lands after them changes nothing. They hold
// the counters records settle, `recountedCounters` (targeted, suppressed.<reason>, sent,
// failed, unknown, spentMicros, per variant too); a read takes those from them once they
// exist, and the others (queued, the segmenter's hand-over; delivered and undelivered, from
// receipts) from the shards. A receipt that moves a recounted counter after completion
// (unknown → sent) must move it in the final counts too.

export const runCounterNames = [
  'targeted',
  'queued',
  'sent',
  'failed',
  'unknown',
  'delivered',
  'undelivered',
  'spentMicros',
  'replies',
  'optOuts',
  // Engagement (engagement/links.ts, engagement/conversions.ts): clicks on the run's short
  // links (every one, and the messages clicked at least once), conversions attributed to the
  // run and their revenue in the tenant's currency, in micros.
  'clicks',
  'uniqueClicks',
  'conversions',
  'revenueMicros',
] as const;
export type RunCounterName = (typeof runCounterNames)[number];

/** The reasons every progress report lists, zero or not; other reasons appear when counted. */
export const runSuppressionReasons = [
  'opted_out',
  'no_consent',
  'invalid_phone',
  'holdout',
  'missing_variable',
  'capped',
  'quiet_hours',
  'over_budget',
] as const;
export type RunSuppressionReason = (typeof runSuppressionReasons)[number];

const keyPattern = new RegExp(
  `^(?:variant\\.([A-Za-z0-9_-]{1,20})\\.)?(?:(${runCounterNames.join('|')})|suppressed(?:\\.([a-z][a-z_]{0,39}))?)$`,
);

/** The failure breakdowns: `failed.<reason>`, `undelivered.<reason>`, optionally after variant.<id>. */
const breakdownPattern = /^(?:variant\.([A-Za-z0-9_-]{1,20})\.)?(failed|undelivered)\.([a-z][a-z_]{0,39})$/;

/** The counters the timeline follows per hour. */
export const hourlyCounterNames = ['sent', 'delivered', 'clicks'] as const;
export type HourlyCounterName = (typeof hourlyCounterNames)[number];
const hourPattern = new RegExp(`^hour\\.(\\d{10})\\.(${hourlyCounterNames.join('|')})$`);

/**
 * The breakdown key of a failure reason as records hold it (`invalid_phone:isv.MOBILE_NUMBER_ILLEGAL`,
 * `unreachable`): the merchant's reason before the provider's code, or `other` for one no
 * counter key can hold. Bounded, so counter items never grow a key per provider code.
 */
export function failureReasonKey(reason: string | undefined): string {
  const head = (reason ?? '').split(':', 1)[0] ?? '';
  return /^[a-z][a-z_]{0,39}$/.test(head) ? head : 'other';
}

/**
 * The deltas with the timeline's hour buckets added: each hourly counter present (total, not
 * variant) once more under `hour.<YYYYMMDDHH>.<counter>` for the hour of `at` (UTC). The
 * RunCounters adapters call it on every add, so one batch is still one write.
 */
export function withHourlyCounts({ deltas, at }: { deltas: RunDeltas; at: Date }): RunDeltas {
  const hour = at.toISOString().slice(0, 13).replace(/[-T]/g, '');
  const added: Record<string, number> = { ...deltas };
  for (const name of hourlyCounterNames) {
    const by = deltas[name];
    if (by !== undefined && by !== 0) added[`hour.${hour}.${name}`] = by;
  }
  return added;
}

export const runCounterKey = z
  .string()
  .refine(
    (key) => keyPattern.test(key) || breakdownPattern.test(key) || hourPattern.test(key),
    'a counter (targeted, queued, sent, …, suppressed.<reason>, failed.<reason>, undelivered.<reason>), optionally after variant.<id>, or hour.<YYYYMMDDHH>.<sent|delivered|clicks>.',
  );

/** The counters a run's records settle, recounted from them when the run completes. */
export const recountedCounters = [
  'targeted',
  'sent',
  'failed',
  'unknown',
  'spentMicros',
  'suppressed',
] as const;
const recounted: ReadonlySet<string> = new Set(recountedCounters);

/** Whether a counter key is one the final counts hold: `sent`, `variant.A.suppressed.capped`, … */
export function isRecountedKey(key: string): boolean {
  // The sender's failure reasons are recounted with `failed`; receipts' are not.
  const breakdown = breakdownPattern.exec(key);
  if (breakdown) return breakdown[2] === 'failed';
  const match = keyPattern.exec(key);
  if (!match) return false;
  const [, , counter] = match;
  // No counter name: a `suppressed` key.
  return counter === undefined || recounted.has(counter);
}

/** A completed run's counts, recounted from its records: absolute, never negative. */
export const finalRunCounts = z.record(
  runCounterKey.refine(
    isRecountedKey,
    'a counter the records settle: targeted, suppressed, sent, failed (and failed.<reason>), unknown or spentMicros.',
  ),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
);
export type FinalRunCounts = Readonly<Record<string, number>>;

/**
 * One batch's increments. Negative only to move a member between outcomes (see above). The
 * bound leaves room for `spentMicros`: an invocation's 500 messages of 10 parts at 1.00 a
 * part add 5 × 10⁹.
 */
export const runDeltas = z.record(
  runCounterKey,
  z.number().int().min(-1_000_000_000_000).max(1_000_000_000_000),
);
export type RunDeltas = Readonly<Record<string, number>>;

export interface RunCounts extends Readonly<Record<RunCounterName, number>> {
  readonly suppressed: {
    readonly total: number;
    /** Every reason of runSuppressionReasons, and any other reason counted. */
    readonly byReason: Readonly<Record<string, number>>;
  };
  /** `failed` and `undelivered` by reason (only reasons counted; they may sum to less). */
  readonly failedByReason: Readonly<Record<string, number>>;
  readonly undeliveredByReason: Readonly<Record<string, number>>;
}

/** One hour of a run's timeline (UTC). */
export interface HourCounts extends Readonly<Record<HourlyCounterName, number>> {
  /** The hour's start: `2026-11-23T09:00:00.000Z`. */
  readonly hour: string;
}

/** What the counters of a run say, summed over their shards. */
export interface RunTally {
  readonly total: RunCounts;
  readonly byVariant: Readonly<Record<string, RunCounts>>;
  /** The hours anything hourly was counted in, oldest first (absent when none). */
  readonly hourly?: readonly HourCounts[];
  /** When the first and the latest batch were counted (absent before any). */
  readonly firstAt?: string;
  readonly lastAt?: string;
}

/**
 * The counters of campaign runs. `add` is called once per batch with the batch's increments
 * aggregated; concurrent adds never lose one. `read` sums every shard, the recounted counters
 * taken from the final counts once they exist.
 */
export interface RunCounters {
  add(tenantId: string, campaignId: string, runId: string, deltas: RunDeltas): Promise<void>;
  /**
   * `consistent`: a read that sees every write finished before it, so a reader that found the
   * run completed sees its final counts.
   */
  read(
    tenantId: string,
    campaignId: string,
    runId: string,
    options?: { readonly consistent?: boolean },
  ): Promise<RunTally>;
  /**
   * Writes a completing run's final counts (zeros may be left out) unless it has some
   * already: the first write stands. True when this call wrote them.
   */
  finalize(tenantId: string, campaignId: string, runId: string, counts: FinalRunCounts): Promise<boolean>;
}

/** The key of a counter: `sent`, `suppressed.capped`, `variant.A.sent`, `variant.A.suppressed.capped`. */
export function runCounterKeyOf({
  variantId,
  counter,
  reason,
}: {
  variantId?: string | undefined;
  counter: RunCounterName | 'suppressed';
  reason?: string | undefined;
}): string {
  const name = counter === 'suppressed' && reason !== undefined ? `suppressed.${reason}` : counter;
  return variantId === undefined ? name : `variant.${variantId}.${name}`;
}

/** The key of a failure breakdown: `failed.invalid_phone`, `variant.A.undelivered.unreachable`. */
export function failureKeyOf({
  variantId,
  kind,
  reason,
}: {
  variantId?: string | undefined;
  kind: 'failed' | 'undelivered';
  /** Already a key (failureReasonKey). */
  reason: string;
}): string {
  return variantId === undefined ? `${kind}.${reason}` : `variant.${variantId}.${kind}.${reason}`;
}

/**
 * The deltas checked (400-style ValidationError paths are the adapter's to give; this throws
 * a ZodError for a key no reader would understand) with zeros and empty deltas dropped.
 */
export function cleanDeltas(deltas: RunDeltas): Map<string, number> {
  const parsed = runDeltas.parse(deltas);
  return new Map(Object.entries(parsed).filter(([, by]) => by !== 0));
}

/** Final counts checked (a ZodError for a key that is not recounted or a negative count), zeros dropped. */
export function cleanFinalCounts(counts: FinalRunCounts): Map<string, number> {
  const parsed = finalRunCounts.parse(counts);
  return new Map(Object.entries(parsed).filter(([, n]) => n !== 0));
}

interface MutableCounts {
  counters: Record<RunCounterName, number>;
  suppressed: Map<string, number>;
  unreasoned: number;
  failed: Map<string, number>;
  undelivered: Map<string, number>;
}

function emptyCounts(): MutableCounts {
  return {
    counters: {
      targeted: 0,
      queued: 0,
      sent: 0,
      failed: 0,
      unknown: 0,
      delivered: 0,
      undelivered: 0,
      spentMicros: 0,
      replies: 0,
      optOuts: 0,
      clicks: 0,
      uniqueClicks: 0,
      conversions: 0,
      revenueMicros: 0,
    },
    suppressed: new Map(runSuppressionReasons.map((reason) => [reason, 0])),
    unreasoned: 0,
    failed: new Map(),
    undelivered: new Map(),
  };
}

const sortedEntries = (counts: Map<string, number>): Record<string, number> =>
  Object.fromEntries([...counts].filter(([, n]) => n !== 0).sort(([a], [b]) => a.localeCompare(b)));

function frozen(counts: MutableCounts): RunCounts {
  const byReason = Object.fromEntries(counts.suppressed);
  const total = [...counts.suppressed.values()].reduce((sum, n) => sum + n, counts.unreasoned);
  return {
    ...counts.counters,
    suppressed: { total, byReason },
    failedByReason: sortedEntries(counts.failed),
    undeliveredByReason: sortedEntries(counts.undelivered),
  };
}

export function zeroCounts(): RunCounts {
  return frozen(emptyCounts());
}

/**
 * Sums flat counter maps (one per shard) into a tally; keys no reader knows are ignored. With
 * `final` (a completed run's final counts), the recounted counters are its, not the shards'.
 */
export function tallyOf({
  shards,
  final,
  firstAt,
  lastAt,
}: {
  shards: readonly ReadonlyMap<string, number>[];
  final?: ReadonlyMap<string, number> | undefined;
  firstAt?: string | undefined;
  lastAt?: string | undefined;
}): RunTally {
  const total = emptyCounts();
  const byVariant = new Map<string, MutableCounts>();
  const hours = new Map<string, Record<HourlyCounterName, number>>();
  const countsOf = (variantId: string | undefined): MutableCounts => {
    if (variantId === undefined) return total;
    const counts = byVariant.get(variantId) ?? emptyCounts();
    byVariant.set(variantId, counts);
    return counts;
  };
  const sources = final === undefined ? shards : [...shards, final];
  for (const shard of sources) {
    const fromShard = shard !== final;
    for (const [key, value] of shard) {
      if (final !== undefined && fromShard && isRecountedKey(key)) continue;
      const hourly = hourPattern.exec(key);
      if (hourly) {
        const [, hour = '', name] = hourly;
        const bucket = hours.get(hour) ?? { sent: 0, delivered: 0, clicks: 0 };
        const counter = hourlyCounterNames.find((known) => known === name);
        if (counter) bucket[counter] += value;
        hours.set(hour, bucket);
        continue;
      }
      const breakdown = breakdownPattern.exec(key);
      if (breakdown) {
        const [, variantId, kind, reason = ''] = breakdown;
        const byReason = countsOf(variantId)[kind === 'failed' ? 'failed' : 'undelivered'];
        byReason.set(reason, (byReason.get(reason) ?? 0) + value);
        continue;
      }
      const match = keyPattern.exec(key);
      if (!match) continue;
      const [, variantId, counter, reason] = match;
      const counts = countsOf(variantId);
      if (counter !== undefined) {
        const name = runCounterNames.find((known) => known === counter);
        if (name) counts.counters[name] += value;
      } else if (reason !== undefined) {
        counts.suppressed.set(reason, (counts.suppressed.get(reason) ?? 0) + value);
      } else {
        counts.unreasoned += value;
      }
    }
  }
  return {
    total: frozen(total),
    byVariant: Object.fromEntries(
      [...byVariant].sort(([a], [b]) => a.localeCompare(b)).map(([id, c]) => [id, frozen(c)]),
    ),
    ...(hours.size === 0
      ? {}
      : {
          hourly: [...hours]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([hour, counts]) => ({
              hour: `${hour.slice(0, 4)}-${hour.slice(4, 6)}-${hour.slice(6, 8)}T${hour.slice(8, 10)}:00:00.000Z`,
              ...counts,
            })),
        }),
    ...(firstAt === undefined ? {} : { firstAt }),
    ...(lastAt === undefined ? {} : { lastAt }),
  };
}
