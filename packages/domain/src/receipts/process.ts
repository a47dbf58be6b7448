import { createHash } from 'node:crypto';
import type { RunDeltas } from '../campaigns/counters';
import { runCounterKeyOf } from '../campaigns/counters';
import { type MessageActivityStore, recordDelivered } from '../engagement/conversions';
import { phoneHash } from '../members/identity';
import type { Member } from '../members/member';
import type { MemberStore, OptOutStore } from '../members/store';
import { type MessageRecord, type MessageState, nextMessageState } from '../messages/record';
import {
  defaultProviderPartsPerSecond,
  maxPartsPerProviderTake,
  providerAccount,
  providerRateTakes,
  type SendRateLimiter,
  sendOne,
  takeRateTokens,
} from '../messages/sender';
import { parseMessageReference, type SenderProvider } from '../messages/sender-decisions';
import { maskPhone } from '../privacy/mask';
import { rateLimitPlan } from '../sending/rate-limit';
import { forEachConcurrently } from '../shared/concurrency';
import { measureMessage } from '../templates/encoding';
import type { TenantStore } from '../tenancy/store';
import type { Tenant } from '../tenancy/tenant';
import type { CallbackBatchMessage, DeliveryReceipt, InboundReply } from './events';
import { classifyReply, type ReplyIntent, type ReplyRules, replyTexts } from './keywords';
import { allPartsDelivered, RunDeltaBatch, receiptDecision, receiptMoveDeltas } from './status';

// The receipt processor: applies one verified provider callback (a batch of receipts and
// replies, receipts/events.ts) to the tenant's data.
//
// Receipts, each on its own (16 at a time):
//   1. find the message record: by our reference where the provider echoed it, else by the
//      provider's message id;
//   2. decide from the record as it stands (receipts/status.ts) and make the move with a
//      conditional write on the state read; a writer that loses re-reads and decides again,
//      so a move is made (and counted) once, whatever the duplicates and the order;
//   3. an `invalid_number` marks the member's phone invalid, a `carrier_opt_out` records an
//      opt-out (source `carrier`); both idempotent, done before the move so a retry after a
//      crash in between still does them.
// Replies, in order (a STOP then a START must end subscribed): see applyReply.
// Then the counters: one add per run for the whole callback, and where a receipt moved a
// counter the final recount holds, the same move on a completed run's final counts.

/** The message records as receipts need them. */
export interface ReceiptRecordStore {
  get(tenantId: string, runId: string, memberId: string): Promise<MessageRecord | undefined>;
  /** The record a provider message id was sent as (only indexed for providers that need it). */
  findByProviderMessageId(
    tenantId: string,
    providerMessageId: string,
  ): Promise<{ runId: string; memberId: string } | undefined>;
  /** from → to, only if the record is still in `from`; true when this call moved it. */
  settle(
    tenantId: string,
    runId: string,
    memberId: string,
    move: { from: MessageState; to: MessageState; reason?: string; code?: string; at: string; now: Date },
  ): Promise<boolean>;
  /**
   * Adds a delivered part while the record waits for receipts and does not have the part yet:
   * the record after, or undefined when refused.
   */
  addDeliveredPart(
    tenantId: string,
    runId: string,
    memberId: string,
    change: { part: number; now: Date },
  ): Promise<MessageRecord | undefined>;
}

export type ReceiptMemberStore = Pick<MemberStore, 'get' | 'getMany' | 'idsByPhone'> & {
  /** Marks the phone invalid while the member still has it; true when marked now. */
  markPhoneInvalid(
    tenantId: string,
    memberId: string,
    change: { phone?: string; at: string },
  ): Promise<boolean>;
};

export interface ReceiptCounters {
  add(tenantId: string, campaignId: string, runId: string, deltas: RunDeltas): Promise<void>;
  /** Moves a completed run's final counts; nothing before completion. */
  amendFinal(tenantId: string, campaignId: string, runId: string, deltas: RunDeltas): Promise<boolean>;
}

/** A reply as stored: never the number in clear. */
export interface StoredReply {
  readonly replyId: string;
  readonly phoneHash: string;
  readonly maskedPhone: string;
  readonly text: string;
  readonly at: string;
  readonly receivedAt: string;
  readonly provider: string;
}

export interface ReplyOutcome {
  readonly intent: ReplyIntent['kind'];
  readonly memberIds: readonly string[];
  readonly campaignId?: string;
  readonly runId?: string;
  readonly variantId?: string;
  readonly answered?: 'sent' | 'failed' | 'unsupported';
  readonly optedOut?: boolean;
  readonly optedIn?: boolean;
}

export interface ReplyStore {
  /**
   * Takes a reply to apply it: false when it was applied already, or another invocation took
   * it less than `leaseMs` ago (a provider's retry of the same reply). A reply whose applier
   * died is taken again after the lease.
   */
  claim(tenantId: string, reply: StoredReply, options: { now: Date; leaseMs: number }): Promise<boolean>;
  markApplied(tenantId: string, replyId: string, outcome: ReplyOutcome & { at: string }): Promise<void>;
}

export interface ReplyRuleStore {
  get(tenantId: string): Promise<(ReplyRules & { updatedAt: string }) | undefined>;
}

export interface ReceiptDeps {
  readonly records: ReceiptRecordStore;
  readonly members: ReceiptMemberStore;
  readonly optOuts: Pick<OptOutStore, 'addIfAbsent' | 'get' | 'remove'>;
  readonly counters: ReceiptCounters;
  /** Marks a delivered message on its member's activity, for conversion attribution. */
  readonly activity: Pick<MessageActivityStore, 'recordDelivered'>;
  readonly replies: ReplyStore;
  readonly replyRules: ReplyRuleStore;
  readonly tenants: Pick<TenantStore, 'getTenant'>;
  readonly providerFor: (tenant: Tenant) => SenderProvider;
  readonly rateLimiter: SendRateLimiter;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

export interface CallbackReport {
  readonly receipts: number;
  readonly moved: number;
  readonly unchanged: number;
  readonly unmatched: number;
  readonly replies: number;
  readonly duplicateReplies: number;
}

/** A reply taken by an invocation that died is taken again after this long. */
export const replyLeaseMs = 60_000;

/** Applies one callback of receipts and replies; counters are written once per run at the end. */
export async function processCallbackBatch(
  deps: ReceiptDeps,
  message: CallbackBatchMessage,
): Promise<CallbackReport> {
  const { tenantId } = message;
  const batch = new RunDeltaBatch();
  const finals = new RunDeltaBatch();
  const tally = { receipts: 0, moved: 0, unchanged: 0, unmatched: 0, replies: 0, duplicateReplies: 0 };
  const receipts = message.events.filter((event): event is DeliveryReceipt => event.kind === 'receipt');
  await forEachConcurrently(receipts, 16, async (receipt) => {
    tally.receipts++;
    const result = await applyReceipt(deps, { tenantId, receipt });
    if (result.kind === 'unmatched') tally.unmatched++;
    else if (result.kind === 'unchanged') tally.unchanged++;
    else if (result.kind === 'moved') {
      tally.moved++;
      batch.add(result.run, result.deltas);
      finals.add(result.run, result.deltas);
    }
  });
  for (const event of message.events) {
    if (event.kind !== 'reply') continue;
    const result = await applyReply(deps, { message, reply: event });
    if (result.kind === 'duplicate') {
      tally.duplicateReplies++;
      continue;
    }
    tally.replies++;
    if (result.run) batch.add(result.run, result.deltas);
  }
  for (const { campaignId, runId, deltas } of batch.drain()) {
    await deps.counters.add(tenantId, campaignId, runId, deltas);
  }
  for (const { campaignId, runId, deltas } of finals.drain()) {
    await deps.counters.amendFinal(tenantId, campaignId, runId, deltas);
  }
  return tally;
}

type ReceiptResult =
  | { kind: 'unmatched' | 'unchanged' }
  | { kind: 'moved'; run: { campaignId: string; runId: string }; deltas: Record<string, number> };

/** How often a receipt re-reads and decides again after losing a conditional write. */
const maxReceiptAttempts = 5;

/** The record a reference (ours) or a provider message id names, read strongly consistent. */
async function locate(
  deps: Pick<ReceiptDeps, 'records'>,
  {
    tenantId,
    reference,
    providerMessageId,
  }: { tenantId: string; reference?: string; providerMessageId?: string },
): Promise<MessageRecord | undefined> {
  const ours = reference === undefined ? undefined : parseMessageReference(reference);
  const byReference = ours && (await deps.records.get(tenantId, ours.runId, ours.memberId));
  if (byReference) return byReference;
  if (providerMessageId === undefined) return undefined;
  const key = await deps.records.findByProviderMessageId(tenantId, providerMessageId);
  return key && deps.records.get(tenantId, key.runId, key.memberId);
}

/** One receipt applied to its record (see the top of this file). */
export async function applyReceipt(
  deps: ReceiptDeps,
  { tenantId, receipt }: { tenantId: string; receipt: DeliveryReceipt },
): Promise<ReceiptResult> {
  let record = await locate(deps, {
    tenantId,
    ...(receipt.reference === undefined ? {} : { reference: receipt.reference }),
    providerMessageId: receipt.providerMessageId,
  });
  if (!record) {
    deps.log('receipt for no known message', {
      tenantId,
      providerMessageId: receipt.providerMessageId,
      status: receipt.status,
    });
    return { kind: 'unmatched' };
  }
  const { runId, memberId } = record;
  for (let attempt = 0; attempt < maxReceiptAttempts; attempt++) {
    if (attempt > 0) record = await deps.records.get(tenantId, runId, memberId);
    if (!record) return { kind: 'unmatched' };
    const decision = receiptDecision({ record, receipt });
    const now = deps.now();
    if (decision.kind === 'ignore') {
      // A retry after a crash between the side effects and the move finds the move made: the
      // side effects (idempotent) are made again, in case they were what was lost.
      if (decision.why === 'settled' && record.state === 'failed' && record.reason === receipt.reason) {
        await undeliverableEffects(deps, { tenantId, record, receipt });
      }
      if (decision.why === 'settled' && record.state === 'delivered' && receipt.status === 'delivered') {
        await deliveredEffects(deps, { tenantId, record, receipt });
      }
      return { kind: 'unchanged' };
    }
    if (decision.kind === 'part') {
      const after = await deps.records.addDeliveredPart(tenantId, runId, memberId, {
        part: decision.part,
        now,
      });
      if (!after) continue;
      if (!allPartsDelivered({ delivered: after.deliveredParts ?? [], parts: decision.parts })) {
        return { kind: 'unchanged' };
      }
      // Every part in: whoever adds the last part settles the message (or, racing another
      // last part, one of them does).
      const moved = await deps.records.settle(tenantId, runId, memberId, {
        from: after.state,
        to: 'delivered',
        ...(receipt.code === undefined ? {} : { code: receipt.code }),
        at: receipt.at,
        now,
      });
      if (!moved) continue;
      await deliveredEffects(deps, { tenantId, record: after, receipt });
      return movedResult({ before: after, to: 'delivered' });
    }
    const to = nextMessageState(record.state, decision.event);
    if (to === undefined) return { kind: 'unchanged' };
    if (decision.event === 'undeliverable') await undeliverableEffects(deps, { tenantId, record, receipt });
    const moved = await deps.records.settle(tenantId, runId, memberId, {
      from: record.state,
      to,
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
      ...(receipt.code === undefined ? {} : { code: receipt.code }),
      at: receipt.at,
      now,
    });
    if (!moved) continue;
    if (to === 'delivered') await deliveredEffects(deps, { tenantId, record, receipt });
    return movedResult({
      before: record,
      to,
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
    });
  }
  // Contention on one record this long means another invocation is applying its receipts:
  // what this one says is theirs to settle; a retry of the callback decides again.
  throw new Error(`Receipt for ${runId}/${memberId} lost ${maxReceiptAttempts} conditional writes in a row.`);
}

function movedResult({
  before,
  to,
  reason,
}: {
  before: MessageRecord;
  to: MessageState;
  reason?: string;
}): ReceiptResult {
  const after = { ...before, state: to, ...(reason === undefined ? {} : { reason }) };
  return {
    kind: 'moved',
    run: { campaignId: before.campaignId, runId: before.runId },
    deltas: receiptMoveDeltas({ before, after }),
  };
}

/**
 * A delivered message marks its member's activity, so a conversion within the delivery window
 * is attributed to it. Made after the move, and again by a duplicate of the receipt (the mark
 * keeps the first delivery time), so a crash between the two loses nothing a retry cannot mend.
 */
async function deliveredEffects(
  deps: Pick<ReceiptDeps, 'activity'>,
  { tenantId, record, receipt }: { tenantId: string; record: MessageRecord; receipt: DeliveryReceipt },
): Promise<void> {
  if (record.test === true) return;
  await recordDelivered(deps, {
    tenantId,
    memberId: record.memberId,
    campaignId: record.campaignId,
    runId: record.runId,
    ...(record.variantId === undefined ? {} : { variantId: record.variantId }),
    at: new Date(receipt.at),
  });
}

/** An invalid number marks the member's phone invalid; a carrier opt-out opts the number out. */
async function undeliverableEffects(
  deps: ReceiptDeps,
  { tenantId, record, receipt }: { tenantId: string; record: MessageRecord; receipt: DeliveryReceipt },
): Promise<void> {
  if (record.test === true) return;
  const at = deps.now().toISOString();
  if (receipt.reason === 'invalid_number') {
    await deps.members.markPhoneInvalid(tenantId, record.memberId, {
      ...(receipt.phone === undefined ? {} : { phone: receipt.phone }),
      at,
    });
  } else if (receipt.reason === 'carrier_opt_out') {
    const phone = receipt.phone ?? (await deps.members.get(tenantId, record.memberId))?.phone;
    if (phone === undefined) return;
    await deps.optOuts.addIfAbsent(tenantId, {
      phoneHash: phoneHash({ tenantId, phone }),
      phone,
      source: 'carrier',
      reason: `carrier opt-out${receipt.code === undefined ? '' : ` (${receipt.code})`}`,
      at,
    });
  }
}

// ── replies ───────────────────────────────────────────────────────────────────────────────

type ReplyResult =
  | { kind: 'duplicate' }
  | {
      kind: 'applied';
      run?: { campaignId: string; runId: string };
      deltas: Record<string, number>;
      outcome: ReplyOutcome;
    };

/**
 * One inbound reply, applied once (a provider's retry carries the same reply id):
 *   1. take the reply (a conditional write on its id) and store it, the number hashed;
 *   2. find whom and what it answers: the members with the number, and the message replied
 *      to (our reference, else the provider's message id), for the campaign's counts;
 *   3. act on its intent (receipts/keywords.ts):
 *      - opt-out: the confirmation is sent FIRST (a service message, which the opt-out it
 *        confirms must not block), then the opt-out written: the very item the sender reads,
 *        strongly consistent, before each provider call, so queued messages stop at once;
 *      - opt-in: honoured only when a member with the number recorded consent after the
 *        opt-out (the rule of removeOptOut); else answered that consent is needed;
 *      - help, or a tenant's keyword rule: answered with its text;
 *   4. count it under the run it answers (`replies`, and `optOuts`), and mark it applied.
 */
export async function applyReply(
  deps: ReceiptDeps,
  { message, reply }: { message: CallbackBatchMessage; reply: InboundReply },
): Promise<ReplyResult> {
  const { tenantId } = message;
  const hash = phoneHash({ tenantId, phone: reply.phone });
  const maskedPhone = maskPhone(reply.phone);
  const taken = await deps.replies.claim(
    tenantId,
    {
      replyId: reply.replyId,
      phoneHash: hash,
      maskedPhone,
      text: reply.text,
      at: reply.at,
      receivedAt: message.receivedAt,
      provider: message.provider,
    },
    { now: deps.now(), leaseMs: replyLeaseMs },
  );
  if (!taken) return { kind: 'duplicate' };

  const tenant = await deps.tenants.getTenant(tenantId);
  if (!tenant) throw new Error(`Tenant ${tenantId} no longer exists.`);
  const memberIds = await deps.members.idsByPhone(tenantId, reply.phone);
  const members = [...(await deps.members.getMany(tenantId, memberIds)).values()];
  const answered = await answeredRecord(deps, { tenantId, reply, memberIds });
  const rules = await deps.replyRules.get(tenantId);
  const intent = classifyReply({ text: reply.text, rules: rules?.rules ?? [] });
  const texts = replyTexts({ rules, tenantName: tenant.name, locale: tenant.locale });
  const answer = (text: string) =>
    sendServiceMessage(deps, { tenant, phone: reply.phone, text, replyId: reply.replyId });

  let outcome: ReplyOutcome = {
    intent: intent.kind,
    memberIds: members.map((member) => member.memberId).sort(),
    ...(answered
      ? {
          campaignId: answered.campaignId,
          runId: answered.runId,
          ...(answered.variantId === undefined ? {} : { variantId: answered.variantId }),
        }
      : {}),
  };
  switch (intent.kind) {
    case 'optOut': {
      const existing = await deps.optOuts.get(tenantId, hash);
      if (existing) break;
      // The confirmation leaves before the number is suppressed.
      const sent = await answer(texts.optOut);
      const added = await deps.optOuts.addIfAbsent(tenantId, {
        phoneHash: hash,
        phone: reply.phone,
        source: 'sms',
        reason: `replied ${intent.keyword}`,
        at: reply.at,
      });
      outcome = { ...outcome, answered: sent, optedOut: added };
      break;
    }
    case 'optIn': {
      const optOut = await deps.optOuts.get(tenantId, hash);
      // YES to a survey is no request to re-subscribe: only an opted-out number opts in.
      if (!optOut) break;
      if (!hasConsentAfter(members, optOut.at)) {
        outcome = { ...outcome, answered: await answer(texts.needsConsent), optedIn: false };
        break;
      }
      const removed = await deps.optOuts.remove(tenantId, hash, { ifAt: optOut.at });
      outcome = { ...outcome, optedIn: removed, ...(removed ? { answered: await answer(texts.optIn) } : {}) };
      break;
    }
    case 'help':
      outcome = { ...outcome, answered: await answer(texts.help) };
      break;
    case 'rule':
      outcome = { ...outcome, answered: await answer(intent.reply) };
      break;
    case 'none':
      break;
  }
  deps.log('reply applied', {
    tenantId,
    phone: maskedPhone,
    replyId: reply.replyId,
    intent: intent.kind,
    ...(outcome.runId === undefined ? {} : { runId: outcome.runId }),
    ...(outcome.answered === undefined ? {} : { answered: outcome.answered }),
  });
  await deps.replies.markApplied(tenantId, reply.replyId, { ...outcome, at: deps.now().toISOString() });

  const deltas: Record<string, number> = {};
  if (answered && answered.test !== true) {
    for (const variantId of answered.variantId === undefined
      ? [undefined]
      : [undefined, answered.variantId]) {
      deltas[runCounterKeyOf({ variantId, counter: 'replies' })] = 1;
      if (outcome.optedOut === true) deltas[runCounterKeyOf({ variantId, counter: 'optOuts' })] = 1;
    }
  }
  return {
    kind: 'applied',
    ...(answered ? { run: { campaignId: answered.campaignId, runId: answered.runId } } : {}),
    deltas,
    outcome,
  };
}

function hasConsentAfter(members: readonly Member[], at: string): boolean {
  return members.some(
    (member) =>
      member.consent.status === 'granted' &&
      member.consent.at !== undefined &&
      Date.parse(member.consent.at) > Date.parse(at),
  );
}

/**
 * The message a reply answers, where the provider says which (our reference, or its message
 * id), and only when it went to one of the members with the replying number.
 */
async function answeredRecord(
  deps: Pick<ReceiptDeps, 'records'>,
  { tenantId, reply, memberIds }: { tenantId: string; reply: InboundReply; memberIds: readonly string[] },
): Promise<MessageRecord | undefined> {
  const record =
    (await locate(deps, {
      tenantId,
      ...(reply.reference === undefined ? {} : { reference: reply.reference }),
      ...(reply.inReplyTo === undefined ? {} : { providerMessageId: reply.inReplyTo }),
    })) ??
    // inReplyTo may be our reference too (the contract allows either).
    (reply.inReplyTo === undefined
      ? undefined
      : await locate(deps, { tenantId, reference: reply.inReplyTo }));
  return record && (record.test === true || memberIds.includes(record.memberId)) ? record : undefined;
}

/** How long an answer waits for the provider account's rate-limit tokens. */
const answerTokenWaitMs = 10_000;

/**
 * A service message (an opt-out confirmation, an auto-reply) sent at once through the tenant's
 * provider, at the account's shared rate (invariant 5), outside any campaign: no record, no
 * counters, no opt-out check. Providers that send approved templates only cannot answer with
 * free text: `unsupported`.
 */
export async function sendServiceMessage(
  deps: Pick<ReceiptDeps, 'providerFor' | 'rateLimiter' | 'now' | 'sleep' | 'log'>,
  { tenant, phone, text, replyId }: { tenant: Tenant; phone: string; text: string; replyId: string },
): Promise<'sent' | 'failed' | 'unsupported'> {
  const provider = deps.providerFor(tenant);
  if (!provider.capabilities.content.includes('text')) return 'unsupported';
  const reference = `reply_${createHash('sha256').update(replyId).digest('hex').slice(0, 24)}:answer`;
  const account = providerAccount({ tenantId: tenant.tenantId, provider: provider.id });
  const plan = rateLimitPlan({
    partsPerSecond: defaultProviderPartsPerSecond[provider.id],
    maxPartsPerTake: maxPartsPerProviderTake,
  });
  const tokens = await takeRateTokens({
    limiter: deps.rateLimiter,
    takes: providerRateTakes({
      account,
      plan,
      parts: measureMessage({ text, rule: provider.capabilities.countingRule }).parts,
    }),
    now: deps.now,
    sleep: deps.sleep,
    deadline: new Date(deps.now().getTime() + answerTokenWaitMs),
  });
  if (!tokens.granted) return 'failed';
  const outcome = await sendOne(provider, { reference, phone, text });
  if (outcome.outcome !== 'accepted') {
    deps.log('reply answer not sent', {
      tenantId: tenant.tenantId,
      phone: maskPhone(phone),
      outcome: outcome.outcome,
      code: outcome.code,
    });
    return 'failed';
  }
  return 'sent';
}
