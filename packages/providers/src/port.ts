import type { CountingRule, SmsProviderId } from '@qunfa/domain';
import * as z from 'zod';

// The provider port: what the sender hands an SMS provider and what it gets back. Every
// adapter (Aliyun, Tencent Cloud, AWS End User Messaging SMS, Twilio, the local simulator)
// implements SmsProvider; the sender sees nothing else of them.
//
// A send never throws for what the provider or the network did: each message gets an
// outcome, because the sender's next move differs for each (ARCHITECTURE.md invariants 1
// and 5). Only a batch the provider's capabilities rule out throws: that is a bug in the
// caller, and no request leaves.

/** E.164: `+`, a country code and at most 15 digits in all. */
export const e164Phone = z.string().regex(/^\+[1-9]\d{7,14}$/, 'an E.164 number: + and 8 to 15 digits');

/** One variable of an approved template, in the provider's order (Tencent Cloud reads only the order). */
export const templateParam = z.strictObject({
  name: z.string().min(1).max(40),
  value: z.string().max(500),
});
export type TemplateParam = z.infer<typeof templateParam>;

export const templateCode = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'the template code the provider approved, e.g. SMS_123456789 or 1234567');

/** Our id for a message, echoed back by providers that can: `<runId>:<memberId>` or similar. */
export const messageReference = z
  .string()
  .regex(/^[A-Za-z0-9_.:#-]{1,128}$/, 'letters, digits and _ . : # - only, at most 128');

const messageBase = {
  reference: messageReference,
  phone: e164Phone,
};

/** A free-text message (AWS End User Messaging, Twilio, the simulator): the full SMS, signature included. */
export const textMessage = z.strictObject({
  ...messageBase,
  text: z.string().min(1, 'must not be empty').max(1_600, 'at most 1,600 characters'),
  /** The sender name the provider shows, where it has one; the text already carries the 签名. */
  signature: z.string().min(1).max(40).exactOptional(),
});

/** A pre-approved template (Aliyun, Tencent Cloud, the simulator): its code and its variables. */
export const templateMessage = z.strictObject({
  ...messageBase,
  template: z.strictObject({ code: templateCode, params: z.array(templateParam).max(30) }),
  /** The approved signature (签名), without 【】. */
  signature: z.string().min(1).max(40),
});

export const smsMessage = z.union([textMessage, templateMessage]);
export type TextMessage = z.infer<typeof textMessage>;
export type TemplateMessage = z.infer<typeof templateMessage>;
export type SmsMessage = TextMessage | TemplateMessage;

/** One provider call: 1..N messages (see ProviderCapabilities.maxBatch). */
export type SmsBatch = readonly SmsMessage[];

export const failureOutcomes = ['throttled', 'retryable', 'permanent', 'ambiguous'] as const;
export type FailureOutcome = (typeof failureOutcomes)[number];

/**
 * Who a failure concerns:
 * - `message`: this message (its number, its content);
 * - `batch`: the provider refused the whole call for a reason that may concern only some of its
 *   messages (one bad number in a SendBatchSms): send them one by one to find out;
 * - `account`: every message on this provider account would fail alike (credentials, balance,
 *   an unapproved signature or template, a daily quota): pause rather than fail a million.
 */
export const failureScopes = ['message', 'batch', 'account'] as const;
export type FailureScope = (typeof failureScopes)[number];

export interface AcceptedOutcome {
  readonly reference: string;
  readonly outcome: 'accepted';
  /** The id the provider's receipts name this message by. */
  readonly providerMessageId: string;
  /** Parts the provider counted, when it says. */
  readonly parts?: number;
}

export interface FailedOutcome {
  readonly reference: string;
  /**
   * - `throttled`: over the provider's rate; requeue with jitter, never a failure;
   * - `retryable`: not sent, and trying again later may work;
   * - `permanent`: not sent, and the same request will never work;
   * - `ambiguous`: the request left and no answer came back: the provider may have sent it, so
   *   it is not resent blindly but settled from receipts.
   */
  readonly outcome: FailureOutcome;
  /** The provider's own code (`isv.MOBILE_NUMBER_ILLEGAL`, `21610`) or ours (`timeout`, `http_503`). */
  readonly code: string;
  /** What happened, in words an operator can act on. */
  readonly reason: string;
  readonly scope: FailureScope;
  /** When the provider said how long to wait. */
  readonly retryAfterMs?: number;
}

export type SendOutcome = AcceptedOutcome | FailedOutcome;

/** A failure before it is attached to a message. */
export type Failure = Omit<FailedOutcome, 'reference'>;

export type ContentKind = 'text' | 'template';

export interface ProviderCapabilities {
  readonly provider: SmsProviderId;
  /** What a message may carry: Chinese providers send only approved templates. */
  readonly content: readonly ContentKind[];
  readonly maxBatch: {
    /** Messages per call when every one carries the same content and signature. */
    readonly identical: number;
    /** Messages per call when they differ (same template, different variables or signatures). */
    readonly personalized: number;
  };
  /** Whether receipts carry our reference for every message (else they name the provider's id only). */
  readonly echoesReference: boolean;
  /** How the provider counts and bills parts. */
  readonly countingRule: CountingRule;
}

export interface SmsProvider {
  readonly id: SmsProviderId;
  readonly capabilities: ProviderCapabilities;
  /**
   * Sends one batch and answers one outcome per message, in the batch's order. Throws
   * UnsupportedBatchError, before any request, for a batch the capabilities rule out.
   */
  send(batch: SmsBatch): Promise<readonly SendOutcome[]>;
}

/** A batch the provider cannot take: too large, mixed, or content it does not send. */
export class UnsupportedBatchError extends Error {
  readonly provider: SmsProviderId;
  constructor({ provider, problem }: { provider: SmsProviderId; problem: string }) {
    super(`${provider} cannot send this batch: ${problem}`);
    this.name = 'UnsupportedBatchError';
    this.provider = provider;
  }
}

export function isTemplateMessage(message: SmsMessage): message is TemplateMessage {
  return 'template' in message;
}

/** The same key for two messages a provider can send in one "identical" call. */
export function contentKey(message: SmsMessage): string {
  return isTemplateMessage(message)
    ? JSON.stringify(['template', message.template.code, message.template.params, message.signature])
    : JSON.stringify(['text', message.text, message.signature ?? null]);
}

/** The key of messages that may share a personalized call: one template, or free text. */
function familyKey(message: SmsMessage): string {
  return isTemplateMessage(message) ? `template:${message.template.code}` : 'text';
}

/** Whether every message of the batch carries the same content and signature. */
export function isIdentical(batch: SmsBatch): boolean {
  const [first, ...rest] = batch;
  if (!first) return false;
  const key = contentKey(first);
  return rest.every((message) => contentKey(message) === key);
}

/** Throws UnsupportedBatchError unless `capabilities` allow sending `batch` in one call. */
export function assertBatchSupported({
  capabilities,
  batch,
}: {
  capabilities: ProviderCapabilities;
  batch: SmsBatch;
}): void {
  const { provider } = capabilities;
  if (batch.length === 0) throw new UnsupportedBatchError({ provider, problem: 'the batch is empty' });
  for (const message of batch) {
    const kind: ContentKind = isTemplateMessage(message) ? 'template' : 'text';
    if (!capabilities.content.includes(kind)) {
      throw new UnsupportedBatchError({
        provider,
        problem: `it sends ${capabilities.content.join(' and ')} messages only, not ${kind}`,
      });
    }
  }
  const references = new Set(batch.map((message) => message.reference));
  if (references.size !== batch.length) {
    throw new UnsupportedBatchError({ provider, problem: 'two messages share a reference' });
  }
  const identical = isIdentical(batch);
  const limit = identical ? capabilities.maxBatch.identical : capabilities.maxBatch.personalized;
  if (batch.length > limit) {
    throw new UnsupportedBatchError({
      provider,
      problem: `${batch.length} ${identical ? 'identical' : 'personalized'} messages, at most ${limit} per call`,
    });
  }
  const [first] = batch;
  if (first && !batch.every((message) => familyKey(message) === familyKey(first))) {
    throw new UnsupportedBatchError({
      provider,
      problem: 'one call carries one template, or free text only',
    });
  }
}

/**
 * Cuts `messages` into the fewest calls the provider accepts: messages with the same content
 * go together up to the identical limit (Aliyun SendSms takes 1,000 numbers, Tencent Cloud
 * 200), the rest by template up to the personalized limit (Aliyun SendBatchSms takes 100).
 * Order is kept within a batch, not across batches.
 */
export function planBatches({
  capabilities,
  messages,
}: {
  capabilities: ProviderCapabilities;
  messages: readonly SmsMessage[];
}): SmsMessage[][] {
  const batches: SmsMessage[][] = [];
  const byContent = groupBy(messages, contentKey);
  const rest: SmsMessage[] = [];
  for (const group of byContent.values()) {
    if (group.length > 1 && capabilities.maxBatch.identical > capabilities.maxBatch.personalized) {
      batches.push(...chunk(group, capabilities.maxBatch.identical));
    } else {
      rest.push(...group);
    }
  }
  for (const family of groupBy(rest, familyKey).values()) {
    batches.push(...chunk(family, capabilities.maxBatch.personalized));
  }
  return batches;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** The same failure for every message of a batch (a call refused as a whole). */
export function failAll(batch: SmsBatch, failure: Failure): FailedOutcome[] {
  return batch.map((message) => ({ reference: message.reference, ...failure }));
}

/**
 * A failure the provider gave a whole multi-message call: a message-level cause (a bad number,
 * bad content) cannot be pinned on one message, so it concerns the batch.
 */
export function widenToBatch(failure: Failure, batchSize: number): Failure {
  return batchSize > 1 && failure.outcome === 'permanent' && failure.scope === 'message'
    ? { ...failure, scope: 'batch' }
    : failure;
}
