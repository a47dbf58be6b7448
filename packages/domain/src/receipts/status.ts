import { failureKeyOf, failureReasonKey, runCounterKeyOf } from '../campaigns/counters';
import type { MessageEvent, MessageRecord, MessageState } from '../messages/record';
import { outcomeOfRecord } from '../messages/sender-decisions';
import type { DeliveryReceipt } from './events';

// What a delivery receipt does to a message record (messages/record.ts holds the states and
// the legal moves). Receipts arrive late, twice and out of order, and a multipart message
// reports per part, so a receipt only ever settles a record still waiting for one (`sent`,
// or `unknown` after an ambiguous send), and a terminal state is never downgraded:
// - `sent` (the carrier took it) is an intermediate report: it changes nothing;
// - `failed` or `expired`, of the message or of any one part, settles the message so at once:
//   a later "delivered" of another part never hides it;
// - `delivered` of a whole message settles it delivered; of one part of several, it adds the
//   part to the record's delivered parts, and the message is delivered only once every part
//   is in (a failure of a part still to come fails it then).

/** The states a receipt may still settle. */
export const awaitingReceipt: ReadonlySet<MessageState> = new Set(['sent', 'unknown']);

export type ReceiptDecision =
  /** Nothing to change: why, for the logs. */
  | { readonly kind: 'ignore'; readonly why: 'intermediate' | 'settled' | 'not_sent' | 'part_known' }
  /** One part of a multipart message delivered: add it; the message waits for the others. */
  | { readonly kind: 'part'; readonly part: number; readonly parts: number }
  /** Settle the message. */
  | {
      readonly kind: 'settle';
      readonly event: Extract<MessageEvent, 'delivered' | 'undeliverable' | 'expired'>;
      readonly reason?: string;
    };

/** How many parts a receipt says its message has: its own count, else one. */
export function receiptParts(receipt: Pick<DeliveryReceipt, 'part' | 'parts'>): number {
  return Math.max(receipt.parts ?? 1, receipt.part ?? 1);
}

/** What a receipt does to a record as it stands. */
export function receiptDecision({
  record,
  receipt,
}: {
  record: Pick<MessageRecord, 'state' | 'deliveredParts'>;
  receipt: Pick<DeliveryReceipt, 'status' | 'reason' | 'part' | 'parts'>;
}): ReceiptDecision {
  if (receipt.status === 'sent') return { kind: 'ignore', why: 'intermediate' };
  if (!awaitingReceipt.has(record.state)) {
    return { kind: 'ignore', why: terminalStates.has(record.state) ? 'settled' : 'not_sent' };
  }
  if (receipt.status === 'failed') {
    return { kind: 'settle', event: 'undeliverable', reason: receipt.reason ?? 'unknown' };
  }
  if (receipt.status === 'expired') return { kind: 'settle', event: 'expired', reason: 'expired' };
  const parts = receiptParts(receipt);
  if (parts === 1) return { kind: 'settle', event: 'delivered' };
  const part = receipt.part ?? 1;
  if (record.deliveredParts?.includes(part)) {
    // Every part in and still not settled: the writer that added the last part died before
    // its move; whoever hears of a part next makes it.
    return allPartsDelivered({ delivered: record.deliveredParts, parts })
      ? { kind: 'settle', event: 'delivered' }
      : { kind: 'ignore', why: 'part_known' };
  }
  return { kind: 'part', part, parts };
}

const terminalStates: ReadonlySet<MessageState> = new Set([
  'delivered',
  'failed',
  'expired',
  'unknown',
  'suppressed',
]);

/** Whether every part of a message of `parts` parts is among `delivered`. */
export function allPartsDelivered({
  delivered,
  parts,
}: {
  delivered: readonly number[];
  parts: number;
}): boolean {
  const seen = new Set(delivered);
  for (let part = 1; part <= parts; part++) if (!seen.has(part)) return false;
  return true;
}

/**
 * The counter increments of one record's move by a receipt (campaigns/counters.ts), in the
 * total and under its variant. The counters the final recount holds move as the recount
 * would read the record before and after (outcomeOfRecord: an `unknown` the receipt settles
 * delivered or expired becomes `sent`; one it reports failed, without cost, `failed`), so the
 * live counters and the final counts agree. Then one receipt counter: `delivered`, or
 * `undelivered` for a message the provider accepted and then could not deliver. A test send's
 * record counts nowhere.
 */
export function receiptMoveDeltas({
  before,
  after,
}: {
  before: Pick<MessageRecord, 'state' | 'reason' | 'costMicros' | 'variantId' | 'test'>;
  after: Pick<MessageRecord, 'state' | 'reason' | 'costMicros'>;
}): Record<string, number> {
  const deltas: Record<string, number> = {};
  if (before.test === true) return deltas;
  const add = (key: string, by: number): void => {
    deltas[key] = (deltas[key] ?? 0) + by;
  };
  const was = outcomeOfRecord(before);
  const is = outcomeOfRecord(after);
  const undelivered = (after.state === 'failed' || after.state === 'expired') && is?.counter === 'sent';
  const reason = failureReasonKey(after.reason ?? (after.state === 'expired' ? 'expired' : undefined));
  for (const variantId of before.variantId === undefined ? [undefined] : [undefined, before.variantId]) {
    const from = was && runCounterKeyOf({ variantId, ...was });
    const to = is && runCounterKeyOf({ variantId, ...is });
    if (from !== undefined && to !== undefined && from !== to) {
      add(from, -1);
      add(to, 1);
      // As the final recount reads it: a failure under its reason too (campaigns/counters.ts).
      if (is?.counter === 'failed') add(failureKeyOf({ variantId, kind: 'failed', reason }), 1);
    }
    if (after.state === 'delivered') add(runCounterKeyOf({ variantId, counter: 'delivered' }), 1);
    else if (undelivered) {
      add(runCounterKeyOf({ variantId, counter: 'undelivered' }), 1);
      add(failureKeyOf({ variantId, kind: 'undelivered', reason }), 1);
    }
  }
  return deltas;
}

/** Adds increments per run, so an invocation writes each run's counters once. */
export class RunDeltaBatch {
  readonly #runs = new Map<string, { campaignId: string; runId: string; deltas: Map<string, number> }>();

  add({ campaignId, runId }: { campaignId: string; runId: string }, deltas: Record<string, number>): void {
    const key = `${campaignId}\u0000${runId}`;
    const entry = this.#runs.get(key) ?? { campaignId, runId, deltas: new Map<string, number>() };
    this.#runs.set(key, entry);
    for (const [name, by] of Object.entries(deltas)) {
      entry.deltas.set(name, (entry.deltas.get(name) ?? 0) + by);
    }
  }

  /** Each run with its non-zero increments, and empties the batch. */
  drain(): { campaignId: string; runId: string; deltas: Record<string, number> }[] {
    const drained = [...this.#runs.values()]
      .map(({ campaignId, runId, deltas }) => ({
        campaignId,
        runId,
        deltas: Object.fromEntries([...deltas].filter(([, by]) => by !== 0)),
      }))
      .filter(({ deltas }) => Object.keys(deltas).length > 0);
    this.#runs.clear();
    return drained;
  }
}
