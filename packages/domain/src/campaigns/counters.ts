import * as z from 'zod';
import { type VariantId, variantIds } from './campaign';

// The counters of a campaign run: how many members were targeted, suppressed (by reason),
// queued and sent, and how their messages ended. The segmenter and the sender add to them
// once per batch (never once per message), through the RunCounters port; the DynamoDB adapter
// spreads each run's counters over shards so no key takes every batch's write.
//
// Each member is counted once in each stage it reaches:
// - `targeted`: in the run's audience (segmenter);
// - `suppressed.<reason>`: gets no message (segmenter: opted_out, no_consent, invalid_phone,
//   holdout; sender at claim time: opted_out, no_consent, capped, quiet_hours (a `drop`
//   window), missing_variable);
// - `queued`: handed to the send queue (segmenter);
// - exactly one outcome of the provider call (sender): `sent` (accepted), `failed` (refused,
//   or retries exhausted, never accepted) or `unknown` (an ambiguous timeout);
// - later, from receipts: `delivered`, or `undelivered` for a message accepted then reported
//   failed. A receipt that settles an `unknown` adds `unknown: -1` and `sent: +1` first.
// So `remaining` (still to be sent) is targeted − suppressed − sent − failed − unknown, and at
// the end targeted = suppressed + delivered + failed + undelivered + unknown + awaiting receipt.

export const runSuppressionReasons = [
  'opted_out',
  'no_consent',
  'invalid_phone',
  'holdout',
  'missing_variable',
  'capped',
  'quiet_hours',
] as const;
export type RunSuppressionReason = (typeof runSuppressionReasons)[number];

export const runCounterNames = [
  'targeted',
  'queued',
  'sent',
  'failed',
  'unknown',
  'delivered',
  'undelivered',
] as const;
export type RunCounterName = (typeof runCounterNames)[number];

export interface RunCounts {
  readonly targeted: number;
  readonly queued: number;
  readonly sent: number;
  readonly failed: number;
  readonly unknown: number;
  readonly delivered: number;
  readonly undelivered: number;
  readonly suppressed: Readonly<Record<RunSuppressionReason, number>>;
}

const increment = z.number().int().min(-1_000_000_000).max(1_000_000_000);

/**
 * One batch's increments for one variant (absent: members in no variant: a campaign with one
 * template, or held out before a variant was assigned). Negative only to move a member
 * between outcomes (see above).
 */
export const runDelta = z.strictObject({
  variantId: z.enum(variantIds).exactOptional(),
  counts: z.partialRecord(z.enum(runCounterNames), increment).exactOptional(),
  suppressed: z.partialRecord(z.enum(runSuppressionReasons), increment).exactOptional(),
});
export type RunDelta = z.output<typeof runDelta>;

/** What the counters of a run say, summed over their shards. */
export interface RunTally {
  /** Every member of the run, in a variant or not. */
  readonly total: RunCounts;
  readonly byVariant: Readonly<Partial<Record<VariantId, RunCounts>>>;
  /** When the first and the latest batch were counted (absent before any). */
  readonly firstAt?: string;
  readonly lastAt?: string;
}

/**
 * The counters of campaign runs. `add` is called once per batch with the batch's increments
 * aggregated; concurrent adds never lose one. `read` sums every shard.
 */
export interface RunCounters {
  add(tenantId: string, campaignId: string, runId: string, deltas: readonly RunDelta[]): Promise<void>;
  read(tenantId: string, campaignId: string, runId: string): Promise<RunTally>;
}

export function zeroCounts(): RunCounts {
  return {
    targeted: 0,
    queued: 0,
    sent: 0,
    failed: 0,
    unknown: 0,
    delivered: 0,
    undelivered: 0,
    suppressed: {
      opted_out: 0,
      no_consent: 0,
      invalid_phone: 0,
      holdout: 0,
      missing_variable: 0,
      capped: 0,
      quiet_hours: 0,
    },
  };
}

/**
 * The key of each counter in a flat map (`sent`, `suppressed.capped`, with `A:` before a
 * variant's): how adapters store them as attributes and how a shard's values are read back.
 */
export function counterKey({
  variantId,
  counter,
}: {
  variantId?: VariantId | undefined;
  counter: CounterKey;
}): string {
  return variantId === undefined ? counter : `${variantId}:${counter}`;
}

/** The increments of `deltas` as a flat map of counter keys (zeros and repeats merged). */
export function flattenDeltas(deltas: readonly RunDelta[]): Map<string, number> {
  const flat = new Map<string, number>();
  const add = (key: string, by: number | undefined): void => {
    if (by === undefined || by === 0) return;
    const next = (flat.get(key) ?? 0) + by;
    if (next === 0) flat.delete(key);
    else flat.set(key, next);
  };
  for (const delta of deltas) {
    for (const counter of runCounterNames) {
      add(counterKey({ variantId: delta.variantId, counter }), delta.counts?.[counter]);
    }
    for (const reason of runSuppressionReasons) {
      add(counterKey({ variantId: delta.variantId, counter: `suppressed.${reason}` }), delta.suppressed?.[reason]);
    }
  }
  return flat;
}

/** Sums flat counter maps (one per shard) back into a tally; unknown keys are ignored. */
export function tallyOf({
  shards,
  firstAt,
  lastAt,
}: {
  shards: readonly ReadonlyMap<string, number>[];
  firstAt?: string | undefined;
  lastAt?: string | undefined;
}): RunTally {
  const total = mutableCounts();
  const byVariant = new Map<VariantId, MutableCounts>();
  const counters: { key: CounterKey; add: (counts: MutableCounts, value: number) => void }[] = [
    ...runCounterNames.map((name) => ({
      key: name,
      add: (counts: MutableCounts, value: number) => {
        counts[name] += value;
      },
    })),
    ...runSuppressionReasons.map((reason) => ({
      key: `suppressed.${reason}` as const,
      add: (counts: MutableCounts, value: number) => {
        counts.suppressed[reason] += value;
      },
    })),
  ];
  for (const shard of shards) {
    for (const variantId of [undefined, ...variantIds]) {
      for (const { key, add } of counters) {
        const value = shard.get(counterKey({ variantId, counter: key }));
        if (value === undefined) continue;
        add(total, value);
        if (variantId === undefined) continue;
        const counts = byVariant.get(variantId) ?? mutableCounts();
        byVariant.set(variantId, counts);
        add(counts, value);
      }
    }
  }
  return {
    total,
    byVariant: Object.fromEntries(byVariant),
    ...(firstAt === undefined ? {} : { firstAt }),
    ...(lastAt === undefined ? {} : { lastAt }),
  };
}

type CounterKey = RunCounterName | `suppressed.${RunSuppressionReason}`;

type MutableCounts = { -readonly [K in RunCounterName]: number } & {
  suppressed: Record<RunSuppressionReason, number>;
};

function mutableCounts(): MutableCounts {
  const zero = zeroCounts();
  return { ...zero, suppressed: { ...zero.suppressed } };
}

export function suppressedTotal(counts: RunCounts): number {
  return runSuppressionReasons.reduce((sum, reason) => sum + counts.suppressed[reason], 0);
}
