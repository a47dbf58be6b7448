import * as z from 'zod';
import type { CampaignSendWindow } from '../campaigns/campaign';
import {
  failureKeyOf,
  failureReasonKey,
  type RunCounterName,
  type RunCounts,
  runCounterKeyOf,
} from '../campaigns/counters';
import { type SendWindow, sendWindowCheck } from '../compliance/quiet-hours';
import type { MessageCategory } from '../compliance/suppression';
import { sendMessage } from '../queues/messages';
import { maxQueueDelayMs } from '../sending/backoff';
import {
  classifyProviderAnswer,
  type PermanentReason,
  type ProviderOutcome,
} from '../sending/provider-outcome';
import type { CountingRule } from '../templates/encoding';
import type { SmsProviderId } from '../templates/pricing';
import type { MessageRecord } from './record';

// The sender's decisions that need no store: what a send-queue message may carry, whether a
// send falls in its window, where a record stands when a batch meets it, what a provider's
// answer means, how requeued members are grouped and how a batch's counts are gathered.
// sender.ts runs them against the stores.

// ── the send queue's messages, as the sender reads and writes them ───────────────────────

/** Provider calls a message has had: retried faults and throttling answers, counted apart. */
export const sendTries = z.strictObject({
  attempts: z.number().int().min(0).max(1_000),
  throttles: z.number().int().min(0).max(1_000_000),
});

/**
 * A `send.batch` (the segmenter's) with what only the sender adds when it puts members back:
 * the tries of a retried or throttled send (so backoff keeps growing and retries end), and
 * `probe`, a message sent only to look again whether its run is done (see sender.ts,
 * completion). Both optional, so every segmenter message is one.
 */
export const sendBatchMessage = sendMessage.extend({
  tries: sendTries.exactOptional(),
  probe: z.literal(true).exactOptional(),
});
export type SendBatchMessage = z.infer<typeof sendBatchMessage>;

// ── the provider port, as the sender sees it ─────────────────────────────────────────────

/** One SMS as handed to a provider (@qunfa/providers SmsMessage has the same shape). */
export type OutgoingSms =
  | { readonly reference: string; readonly phone: string; readonly text: string; readonly signature?: string }
  | {
      readonly reference: string;
      readonly phone: string;
      readonly signature: string;
      readonly template: { readonly code: string; readonly params: { name: string; value: string }[] };
    };

/** A provider's answer for one message (@qunfa/providers SendOutcome has the same shape). */
export type SmsSendOutcome =
  | {
      readonly reference: string;
      readonly outcome: 'accepted';
      readonly providerMessageId: string;
      readonly parts?: number;
    }
  | {
      readonly reference: string;
      readonly outcome: 'throttled' | 'retryable' | 'permanent' | 'ambiguous';
      readonly code: string;
      readonly reason: string;
      readonly scope: 'message' | 'batch' | 'account';
      readonly retryAfterMs?: number;
    };

/**
 * The SMS provider port of the sender. Every adapter of @qunfa/providers (SmsProvider)
 * satisfies it; the domain cannot import them (they import the domain).
 */
export interface SenderProvider {
  readonly id: SmsProviderId;
  readonly capabilities: {
    readonly content: readonly ('text' | 'template')[];
    readonly countingRule: CountingRule;
    /** Whether its receipts carry our reference (else they are matched by its message id). */
    readonly echoesReference: boolean;
  };
  /** One outcome per message, in order; never throws for what the provider or network did. */
  send(batch: readonly OutgoingSms[]): Promise<readonly SmsSendOutcome[]>;
}

/** Codes of @qunfa/providers for a request that could not leave (nothing was sent). */
const networkCode =
  /^(econnrefused|enotfound|eai_again|ehostunreach|enetunreach|eaddrnotavail|und_err_connect_timeout|err_invalid_url|cert_has_expired|depth_zero_self_signed_cert|unable_to_verify_leaf_signature|err_tls_cert_altname_invalid)$/;

/** Simulator and transport codes; provider codes are read by classifyProviderAnswer. */
const knownPermanentCodes: Readonly<Record<string, PermanentReason>> = {
  invalid_number: 'invalid_phone',
  template_not_found: 'template_rejected',
  batch_too_large: 'bad_request',
  invalid_request: 'bad_request',
  http_401: 'not_authorized',
  http_403: 'not_authorized',
};

/** Why a provider refused a message for good, in the merchant's words. */
export function permanentReasonOf({
  provider,
  code,
}: {
  provider: SmsProviderId;
  code: string;
}): PermanentReason {
  const known = knownPermanentCodes[code];
  if (known) return known;
  const classified = classifyProviderAnswer({ kind: 'response', provider, httpStatus: 400, code });
  return classified.kind === 'permanent' ? classified.reason : 'provider_rejected';
}

/** A provider's answer as the retry policy (nextSendStep) reads it. */
export function providerOutcomeOf({
  provider,
  answer,
}: {
  provider: SmsProviderId;
  answer: SmsSendOutcome;
}): ProviderOutcome {
  if (answer.outcome === 'accepted') return { kind: 'accepted', messageId: answer.providerMessageId };
  const { code } = answer;
  switch (answer.outcome) {
    case 'throttled':
      return {
        kind: 'throttled',
        reason: 'rate_limited',
        code,
        ...(answer.retryAfterMs === undefined ? {} : { retryAfterMs: answer.retryAfterMs }),
      };
    case 'retryable':
      return { kind: 'retryable', reason: networkCode.test(code) ? 'network_error' : 'provider_error', code };
    case 'permanent':
      return { kind: 'permanent', reason: permanentReasonOf({ provider, code }), code };
    case 'ambiguous':
      return {
        kind: 'ambiguous',
        reason:
          code === 'timeout' || code === 'connection_lost' ? 'no_answer_after_send' : 'provider_timeout',
        code,
      };
  }
}

/** The reason a record keeps: the merchant's word and, when there is one, the provider's code. */
export function recordReason({ reason, code }: { reason: string; code?: string | undefined }): string {
  return code === undefined || code === '' ? reason : `${reason}:${code}`;
}

// ── references ───────────────────────────────────────────────────────────────────────────

const plainMemberId = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Our id of a message, echoed back in receipts: `<runId>:<memberId>`. Member ids may hold `@`,
 * which providers do not take in a reference: such an id is written base64url after `#`.
 */
export function messageReferenceOf({ runId, memberId }: { runId: string; memberId: string }): string {
  return plainMemberId.test(memberId)
    ? `${runId}:${memberId}`
    : `${runId}#${Buffer.from(memberId, 'utf8').toString('base64url')}`;
}

/** The run and member a reference names, or undefined when it is not one of ours. */
export function parseMessageReference(reference: string): { runId: string; memberId: string } | undefined {
  const plain = /^([^:#]+):(.+)$/.exec(reference);
  if (plain?.[1] !== undefined && plain[2] !== undefined) return { runId: plain[1], memberId: plain[2] };
  const encoded = /^([^:#]+)#([A-Za-z0-9_-]+)$/.exec(reference);
  if (encoded?.[1] === undefined || encoded[2] === undefined) return undefined;
  return { runId: encoded[1], memberId: Buffer.from(encoded[2], 'base64url').toString('utf8') };
}

// ── quiet hours ──────────────────────────────────────────────────────────────────────────

export type WindowDecision =
  | { readonly kind: 'open' }
  | { readonly kind: 'hold'; readonly opensAt: Date }
  | { readonly kind: 'drop' };

/** How many times a window is looked up before it is judged never to open (disjoint hours). */
const windowSearchSteps = 16;

/**
 * Whether a message may leave now on the recipient's wall clock (`timeZone`: theirs, else the
 * tenant's). It must be inside the campaign's hours and, for marketing, inside the tenant's
 * too (ARCHITECTURE.md invariant 4: a tenant that narrows its window after a campaign was
 * created is still obeyed). Outside: `hold` until both are open (the campaign's `outside`
 * says hold) or `drop`. Hours that never overlap are dropped: a hold would never end.
 */
export function sendWindowDecision({
  now,
  campaignWindow,
  tenantWindow,
  category,
  timeZone,
}: {
  now: Date;
  campaignWindow: CampaignSendWindow;
  tenantWindow: SendWindow;
  category: MessageCategory;
  timeZone: string;
}): WindowDecision {
  const windows: SendWindow[] = [{ start: campaignWindow.start, end: campaignWindow.end }];
  if (category === 'marketing') windows.push(tenantWindow);
  let at = now;
  for (let step = 0; step < windowSearchSteps; step++) {
    let opensAt: string | undefined;
    for (const window of windows) {
      const check = sendWindowCheck({ now: at, window, timeZone });
      if (!check.open) {
        opensAt = check.opensAt;
        break;
      }
    }
    if (opensAt === undefined) return at === now ? { kind: 'open' } : { kind: 'hold', opensAt: at };
    if (campaignWindow.outside === 'drop') return { kind: 'drop' };
    at = new Date(opensAt);
  }
  return { kind: 'drop' };
}

// ── where a record stands ────────────────────────────────────────────────────────────────

export type RecordStanding =
  | { readonly kind: 'pending' }
  /** Claimed by a sender that may still be working on it: look again once its lease is over. */
  | { readonly kind: 'leased'; readonly waitMs: number }
  /** Claimed longer ago than any sender lives: its claimant died, perhaps after the provider call. */
  | { readonly kind: 'lease_expired' }
  /** Sent, failed, unknown or suppressed: nothing left for the sender to do. */
  | { readonly kind: 'settled' }
  | { readonly kind: 'missing' };

/**
 * Where a record met by a batch stands. A claim lives at most `leaseMs` (the send queue's
 * visibility timeout, longer than the sender can run), so an older claim has no living
 * claimant: it may have reached the provider, so it is never resent but given up as unknown.
 */
export function recordStanding({
  record,
  now,
  leaseMs,
}: {
  record: MessageRecord | undefined;
  now: Date;
  leaseMs: number;
}): RecordStanding {
  if (!record) return { kind: 'missing' };
  if (record.state === 'pending') return { kind: 'pending' };
  if (record.state !== 'claimed') return { kind: 'settled' };
  const claimedAt = record.claimedAt === undefined ? Number.NaN : Date.parse(record.claimedAt);
  const age = now.getTime() - claimedAt;
  if (Number.isNaN(age) || age >= leaseMs) return { kind: 'lease_expired' };
  return { kind: 'leased', waitMs: leaseMs - age };
}

// ── requeueing ───────────────────────────────────────────────────────────────────────────

export const maxQueueDelaySeconds = maxQueueDelayMs / 1000;

/**
 * A wait as an SQS DelaySeconds: whole seconds, rounded up, at most 15 minutes; longer waits
 * come back after 15 minutes and are judged again (a hold through the night hops 44 times).
 * Above ten seconds it is rounded up to 5 s, above a minute to 30 s, so members put back for
 * nearby instants share one message.
 */
export function queueDelaySeconds(ms: number): number {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  const bucket = seconds <= 10 ? 1 : seconds <= 60 ? 5 : 30;
  return Math.min(maxQueueDelaySeconds, Math.ceil(seconds / bucket) * bucket);
}

/** A member to put back on the send queue, after `delayMs`, with its tries so far. */
export interface Requeue {
  readonly memberId: string;
  readonly delayMs: number;
  readonly tries?: z.infer<typeof sendTries> | undefined;
}

export const membersPerRequeue = 100;

/** Requeued members grouped into send-queue messages: one per delay and tries, ≤ 100 members each. */
export function requeueMessages({
  base,
  requeues,
}: {
  base: Pick<SendBatchMessage, 'tenantId' | 'campaignId' | 'runId'>;
  requeues: readonly Requeue[];
}): { message: SendBatchMessage; delaySeconds: number }[] {
  const groups = new Map<string, { delaySeconds: number; tries: Requeue['tries']; memberIds: string[] }>();
  for (const requeue of requeues) {
    const delaySeconds = queueDelaySeconds(requeue.delayMs);
    const key = JSON.stringify([delaySeconds, requeue.tries ?? null]);
    const group = groups.get(key) ?? { delaySeconds, tries: requeue.tries, memberIds: [] };
    if (!group.memberIds.includes(requeue.memberId)) group.memberIds.push(requeue.memberId);
    groups.set(key, group);
  }
  const messages: { message: SendBatchMessage; delaySeconds: number }[] = [];
  for (const { delaySeconds, tries, memberIds } of groups.values()) {
    for (let i = 0; i < memberIds.length; i += membersPerRequeue) {
      messages.push({
        delaySeconds,
        message: {
          type: 'send.batch',
          tenantId: base.tenantId,
          campaignId: base.campaignId,
          runId: base.runId,
          memberIds: memberIds.slice(i, i + membersPerRequeue),
          ...(tries === undefined ? {} : { tries }),
        },
      });
    }
  }
  return messages;
}

// ── counting ─────────────────────────────────────────────────────────────────────────────

export type SendCounter =
  | { readonly counter: 'sent' | 'unknown' }
  /** With the record's reason, also counted under `failed.<reason>` (failureReasonKey). */
  | { readonly counter: 'failed'; readonly reason?: string | undefined }
  | { readonly counter: 'suppressed'; readonly reason: string };

export interface RunRef {
  readonly tenantId: string;
  readonly campaignId: string;
  readonly runId: string;
}

/**
 * The counter increments of one invocation, per run: each settled record counted once in
 * the total and once under its variant, added with one RunCounters.add per run.
 */
export class SendTally {
  readonly #runs = new Map<string, { run: RunRef; deltas: Map<string, number> }>();

  count({ run, variantId, ...counted }: { run: RunRef; variantId?: string | undefined } & SendCounter): void {
    const reason = counted.counter === 'suppressed' ? counted.reason : undefined;
    this.#add({ run, variantId, counter: counted.counter, reason, by: 1 });
    if (counted.counter === 'failed' && counted.reason !== undefined) {
      this.#add({ run, variantId, counter: 'failed', reason: failureReasonKey(counted.reason), by: 1 });
    }
  }

  /** What an accepted message cost, added to the run's `spentMicros` (total and variant). */
  spend({ run, variantId, micros }: { run: RunRef; variantId?: string | undefined; micros: number }): void {
    if (micros !== 0) this.#add({ run, variantId, counter: 'spentMicros', reason: undefined, by: micros });
  }

  #add({
    run,
    variantId,
    counter,
    reason,
    by,
  }: {
    run: RunRef;
    variantId: string | undefined;
    counter: RunCounterName | 'suppressed';
    reason: string | undefined;
    by: number;
  }): void {
    const key = `${run.tenantId}\u0000${run.campaignId}\u0000${run.runId}`;
    const entry = this.#runs.get(key) ?? { run, deltas: new Map<string, number>() };
    this.#runs.set(key, entry);
    for (const variant of variantId === undefined ? [undefined] : [undefined, variantId]) {
      const counterKey =
        counter === 'failed' && reason !== undefined
          ? failureKeyOf({ variantId: variant, kind: 'failed', reason })
          : runCounterKeyOf({ variantId: variant, counter, reason });
      entry.deltas.set(counterKey, (entry.deltas.get(counterKey) ?? 0) + by);
    }
  }

  /** Each run counted, with its increments (and takes them out, so they are added once). */
  drain(): { run: RunRef; deltas: Record<string, number> }[] {
    const drained = [...this.#runs.values()].map(({ run, deltas }) => ({
      run,
      deltas: Object.fromEntries(deltas),
    }));
    this.#runs.clear();
    return drained;
  }
}

/**
 * A run's final counts (RunCounters.finalize), counted from its records once none is pending
 * or claimed: each record once in `targeted` and once under its outcome (outcomeOfRecord), in
 * the total and under its variant, with what the accepted messages cost in `spentMicros`.
 */
export class RunRecount {
  readonly #counts = new Map<string, number>();

  /** Counts a settled record; false for one still pending or claimed (nothing counted). */
  add(record: MessageRecord): boolean {
    const outcome = outcomeOfRecord(record);
    if (!outcome) return false;
    // A test send's record belongs to no run's counters (they have run ids of their own).
    if (record.test === true) return true;
    for (const variantId of record.variantId === undefined ? [undefined] : [undefined, record.variantId]) {
      this.#add(runCounterKeyOf({ variantId, counter: 'targeted' }), 1);
      this.#add(runCounterKeyOf({ variantId, ...outcome }), 1);
      if (outcome.counter === 'failed') {
        this.#add(failureKeyOf({ variantId, kind: 'failed', reason: failureReasonKey(record.reason) }), 1);
      }
      if (record.costMicros !== undefined) {
        this.#add(runCounterKeyOf({ variantId, counter: 'spentMicros' }), record.costMicros);
      }
    }
    return true;
  }

  /** The counts, zeros left out. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.#counts].filter(([, n]) => n !== 0));
  }

  #add(key: string, by: number): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + by);
  }
}

/**
 * The outcome a settled record is counted under, as its moves were counted (campaigns/
 * counters.ts): suppressed with its reason; `sent` for a message the provider accepted (the
 * accepted move gives it its cost), whatever receipts made of it since, and for an `unknown`
 * a receipt settled (delivered or expired); else `failed` or `unknown`. Undefined while the
 * record is pending or claimed. (An `unknown` a receipt then reports failed, with no cost, reads
 * as `failed`: receipts, not applied yet, must count that move the same way.)
 */
export function outcomeOfRecord(
  record: Pick<MessageRecord, 'state' | 'reason' | 'costMicros'>,
):
  | { counter: 'sent' | 'failed' | 'unknown' }
  | { counter: 'suppressed'; reason: string | undefined }
  | undefined {
  switch (record.state) {
    case 'pending':
    case 'claimed':
      return undefined;
    case 'suppressed':
      return { counter: 'suppressed', reason: record.reason };
    case 'sent':
    case 'delivered':
    case 'expired':
      return { counter: 'sent' };
    case 'failed':
    case 'unknown':
      return { counter: record.costMicros === undefined ? record.state : 'sent' };
  }
}

/**
 * How far counters read were from a recount: recounted − read for each counter of the total
 * the recount holds (zeros left out). Adds still on their way when the counters were read
 * show here too; what stays after they land is what was lost.
 */
export function recountCorrection({
  read,
  recount,
}: {
  read: RunCounts;
  recount: RunCounts;
}): Record<string, number> {
  const correction: Record<string, number> = {};
  const note = (key: string, by: number): void => {
    if (by !== 0) correction[key] = by;
  };
  for (const name of ['targeted', 'sent', 'failed', 'unknown', 'spentMicros'] as const) {
    note(name, recount[name] - read[name]);
  }
  const reasons = new Set([
    ...Object.keys(read.suppressed.byReason),
    ...Object.keys(recount.suppressed.byReason),
  ]);
  for (const reason of reasons) {
    note(
      `suppressed.${reason}`,
      (recount.suppressed.byReason[reason] ?? 0) - (read.suppressed.byReason[reason] ?? 0),
    );
  }
  return correction;
}

/**
 * Members of a run the sender has still to settle, by its counters: targeted − suppressed −
 * sent − failed − unknown (the segmenter counts targeted and its suppressions, the sender the
 * rest). Zero when every record is settled, if no increment was lost or doubled; completion
 * checks the records themselves before it ends the run.
 */
export function remainingToSettle(counts: RunCounts): number {
  return counts.targeted - counts.suppressed.total - counts.sent - counts.failed - counts.unknown;
}
