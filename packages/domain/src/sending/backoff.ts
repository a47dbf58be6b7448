import type { PermanentReason, ProviderOutcome } from './provider-outcome';

// What the sender does after a provider answer: record it, requeue it, retry it, fail it, or
// leave it to the receipts. Delays use "full jitter" (a uniform draw below an exponentially
// growing ceiling, as in the AWS Architecture Blog's "Exponential Backoff And Jitter"), so
// senders throttled together do not come back together.

/**
 * A delay before try number `attempt + 1`, after `attempt` (≥ 1) tries: uniform in
 * [0, min(capMs, baseMs × 2^(attempt − 1))). `random` returns a number in [0, 1).
 */
export function backoff({
  attempt,
  baseMs,
  capMs,
  random,
}: {
  attempt: number;
  baseMs: number;
  capMs: number;
  random: () => number;
}): number {
  // 2 ** 1100 is Infinity, and min() then gives the cap: no overflow to guard against.
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const draw = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(draw * ceiling);
}

export interface SendRetryPolicy {
  /** Provider calls a message gets for retryable errors before it fails; throttling does not count. */
  readonly maxAttempts: number;
  /** Backoff after a retryable error. */
  readonly retry: { readonly baseMs: number; readonly capMs: number };
  /** Backoff after a throttling answer (the provider's Retry-After, when longer, wins). */
  readonly throttle: { readonly baseMs: number; readonly capMs: number };
}

/** Four calls over about a minute for faults; throttled messages back off up to a minute. */
export const defaultSendRetryPolicy: SendRetryPolicy = {
  maxAttempts: 4,
  retry: { baseMs: 2_000, capMs: 60_000 },
  throttle: { baseMs: 500, capMs: 60_000 },
};

/** An SQS message can be delayed by at most 15 minutes. */
export const maxQueueDelayMs = 900_000;

/** How many times a message was tried: counted attempts, and throttled ones apart. */
export interface SendTries {
  /** Provider calls that ended in an answer other than throttling. */
  readonly attempts: number;
  readonly throttles: number;
}

export type SendStep =
  | { readonly action: 'record_accepted'; readonly messageId?: string }
  /**
   * Throttled: send the message to the send queue again, delayed, as a new message (not by
   * letting it reappear, which would count a receive and walk it to the DLQ). Not a failure.
   */
  | { readonly action: 'requeue'; readonly delayMs: number; readonly tries: SendTries }
  /** A transient fault: try again after `delayMs`. */
  | { readonly action: 'retry'; readonly delayMs: number; readonly tries: SendTries }
  /**
   * Failed for good; the provider never accepted it, so its frequency-cap slot is given back
   * (FrequencyCapStore.release).
   */
  | {
      readonly action: 'fail';
      readonly reason: PermanentReason | 'provider_error' | 'network_error';
      readonly code?: string;
      readonly tries: SendTries;
      readonly releaseCap: true;
    }
  /**
   * It may have been sent: never resent. The record waits for a receipt to settle it, and is
   * marked unknown if none comes. The cap slot is kept: the member may have received it.
   */
  | {
      readonly action: 'await_receipt';
      readonly reason: 'no_answer_after_send' | 'provider_timeout';
      readonly code?: string;
      readonly releaseCap: false;
    };

/** The sender's next step after `outcome`, given the tries before this answer. */
export function nextSendStep({
  outcome,
  tries,
  policy = defaultSendRetryPolicy,
  random,
}: {
  outcome: ProviderOutcome;
  tries: SendTries;
  policy?: SendRetryPolicy;
  random: () => number;
}): SendStep {
  const code = 'code' in outcome && outcome.code !== undefined ? { code: outcome.code } : {};
  switch (outcome.kind) {
    case 'accepted':
      return {
        action: 'record_accepted',
        ...(outcome.messageId === undefined ? {} : { messageId: outcome.messageId }),
      };
    case 'throttled': {
      const next = { attempts: tries.attempts, throttles: tries.throttles + 1 };
      const jittered = backoff({ attempt: next.throttles, ...policy.throttle, random });
      const delayMs = Math.min(maxQueueDelayMs, Math.max(jittered, outcome.retryAfterMs ?? 0));
      return { action: 'requeue', delayMs, tries: next };
    }
    case 'retryable': {
      const next = { attempts: tries.attempts + 1, throttles: tries.throttles };
      if (next.attempts >= policy.maxAttempts) {
        return { action: 'fail', reason: outcome.reason, ...code, tries: next, releaseCap: true };
      }
      const delayMs = Math.min(maxQueueDelayMs, backoff({ attempt: next.attempts, ...policy.retry, random }));
      return { action: 'retry', delayMs, tries: next };
    }
    case 'permanent':
      return {
        action: 'fail',
        reason: outcome.reason,
        ...code,
        tries: { attempts: tries.attempts + 1, throttles: tries.throttles },
        releaseCap: true,
      };
    case 'ambiguous':
      return { action: 'await_receipt', reason: outcome.reason, ...code, releaseCap: false };
  }
}
