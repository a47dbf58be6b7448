import {
  backoff,
  defaultSendRetryPolicy,
  maxQueueDelayMs,
  nextSendStep,
  type ProviderOutcome,
  type SendRetryPolicy,
  type SendStep,
  type SendTries,
} from '@qunfa/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Full-jitter backoff and the sender's policy after each provider answer.

const policy: SendRetryPolicy = {
  maxAttempts: 3,
  retry: { baseMs: 1000, capMs: 8000 },
  throttle: { baseMs: 200, capMs: 5000 },
};
const fresh: SendTries = { attempts: 0, throttles: 0 };

describe('backoff', () => {
  it('draws below base × 2^(attempt − 1)', () => {
    expect(backoff({ attempt: 1, baseMs: 100, capMs: 10_000, random: () => 0.999 })).toBe(99);
    expect(backoff({ attempt: 3, baseMs: 100, capMs: 10_000, random: () => 0.5 })).toBe(200);
    expect(backoff({ attempt: 3, baseMs: 100, capMs: 10_000, random: () => 0 })).toBe(0);
  });

  it('stops growing at the cap, even after a thousand attempts', () => {
    expect(backoff({ attempt: 10, baseMs: 100, capMs: 5_000, random: () => 0.5 })).toBe(2_500);
    expect(backoff({ attempt: 1_100, baseMs: 100, capMs: 5_000, random: () => 0.999 })).toBe(4_995);
  });

  it('stays within [0, min(cap, base × 2^(attempt − 1))) for any draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, baseMs, capMs, draw) => {
          const delay = backoff({ attempt, baseMs, capMs, random: () => draw });
          const ceiling = Math.min(capMs, baseMs * 2 ** (attempt - 1));
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(ceiling);
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );
  });
});

describe('nextSendStep', () => {
  const step = (outcome: ProviderOutcome, tries: SendTries = fresh, random = () => 0.5): SendStep =>
    nextSendStep({ outcome, tries, policy, random });

  it('records an accepted message with its provider id', () => {
    expect(step({ kind: 'accepted', messageId: 'sim-1' })).toEqual({
      action: 'record_accepted',
      messageId: 'sim-1',
    });
  });

  describe('throttled', () => {
    it('requeues with jitter and does not count an attempt', () => {
      expect(step({ kind: 'throttled', reason: 'rate_limited' }, { attempts: 1, throttles: 2 })).toEqual({
        action: 'requeue',
        delayMs: 400, // half of min(5000, 200 × 2²)
        tries: { attempts: 1, throttles: 3 },
      });
    });

    it('never turns into a failure, however often it happens', () => {
      let tries = fresh;
      for (let i = 0; i < 200; i++) {
        const next = step({ kind: 'throttled', reason: 'rate_limited' }, tries, () => 0.999);
        if (next.action !== 'requeue') throw new Error(`throttle ${i} gave ${next.action}`);
        expect(next.delayMs).toBeLessThan(policy.throttle.capMs);
        tries = next.tries;
      }
      expect(tries).toEqual({ attempts: 0, throttles: 200 });
    });

    it("waits at least the provider's Retry-After, and never beyond what SQS can delay", () => {
      expect(step({ kind: 'throttled', reason: 'rate_limited', retryAfterMs: 3_000 })).toMatchObject({
        delayMs: 3_000,
      });
      expect(step({ kind: 'throttled', reason: 'rate_limited', retryAfterMs: 3_600_000 })).toMatchObject({
        delayMs: maxQueueDelayMs,
      });
    });
  });

  describe('retryable', () => {
    const fault: ProviderOutcome = { kind: 'retryable', reason: 'provider_error', code: 'isp.SYSTEM_ERROR' };

    it('retries with a growing backoff until the last attempt', () => {
      const first = step(fault, fresh, () => 0.999);
      const second = step(fault, { attempts: 1, throttles: 4 }, () => 0.999);

      expect(first).toEqual({ action: 'retry', delayMs: 999, tries: { attempts: 1, throttles: 0 } });
      expect(second).toEqual({ action: 'retry', delayMs: 1998, tries: { attempts: 2, throttles: 4 } });
    });

    it('fails with the reason and the code after the last attempt, giving the cap slot back', () => {
      expect(step(fault, { attempts: 2, throttles: 0 })).toEqual({
        action: 'fail',
        reason: 'provider_error',
        code: 'isp.SYSTEM_ERROR',
        tries: { attempts: 3, throttles: 0 },
        releaseCap: true,
      });
    });
  });

  it('fails a permanent refusal at once, giving the cap slot back', () => {
    expect(step({ kind: 'permanent', reason: 'invalid_phone', code: '21211' })).toEqual({
      action: 'fail',
      reason: 'invalid_phone',
      code: '21211',
      tries: { attempts: 1, throttles: 0 },
      releaseCap: true,
    });
  });

  it('never resends an ambiguous answer: it waits for a receipt and keeps the cap slot', () => {
    expect(
      step({ kind: 'ambiguous', reason: 'no_answer_after_send' }, { attempts: 0, throttles: 0 }),
    ).toEqual({
      action: 'await_receipt',
      reason: 'no_answer_after_send',
      releaseCap: false,
    });
  });

  it('uses the default policy when given none: four attempts', () => {
    const fault: ProviderOutcome = { kind: 'retryable', reason: 'network_error' };

    expect(defaultSendRetryPolicy.maxAttempts).toBe(4);
    expect(
      nextSendStep({ outcome: fault, tries: { attempts: 2, throttles: 0 }, random: () => 0 }).action,
    ).toBe('retry');
    expect(
      nextSendStep({ outcome: fault, tries: { attempts: 3, throttles: 0 }, random: () => 0 }).action,
    ).toBe('fail');
  });
});
