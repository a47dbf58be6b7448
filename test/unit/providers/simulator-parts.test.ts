import {
  applyConfigPatch,
  createMessageLog,
  createPartsLimiter,
  defaultSimulatorConfig,
  type SimulatedMessage,
  seededRandom,
} from '@qunfa/local';
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';

// The simulator's moving parts on their own: its rate limit, its configuration, its
// randomness and its record.

describe('createPartsLimiter', () => {
  it('lets a burst through, then refills at the rate, counted in parts', () => {
    let clock = 0;
    const limiter = createPartsLimiter({ partsPerSecond: 10, burstParts: 10, now: () => clock });

    expect(limiter.take(7)).toEqual({ ok: true });
    expect(limiter.take(3)).toEqual({ ok: true });
    expect(limiter.take(1)).toEqual({ ok: false, retryAfterMs: 100 });
    clock += 300;
    expect(limiter.take(3)).toEqual({ ok: true });
    expect(limiter.take(1)).toMatchObject({ ok: false });
  });

  it('lets a call larger than the bucket go when the bucket is full, and makes the next wait', () => {
    let clock = 0;
    const limiter = createPartsLimiter({ partsPerSecond: 10, burstParts: 10, now: () => clock });

    expect(limiter.take(25)).toEqual({ ok: true });
    clock += 1_000;
    expect(limiter.take(1)).toEqual({ ok: false, retryAfterMs: 600 });
  });

  it('does not limit when the rate is null', () => {
    const limiter = createPartsLimiter({ partsPerSecond: null, burstParts: null, now: () => 0 });

    expect(Array.from({ length: 1_000 }, () => limiter.take(3).ok).every(Boolean)).toBe(true);
  });
});

describe('simulator configuration', () => {
  const base = defaultSimulatorConfig({ seed: 1, secret: 'a-secret-of-16-chars' });

  it('changes only what a patch names, merging nested settings', () => {
    const next = applyConfigPatch(base, { failureRate: 0.05, receipts: { duplicateRate: 0.1 } });

    expect(next).toEqual({ ...base, failureRate: 0.05, receipts: { ...base.receipts, duplicateRate: 0.1 } });
  });

  it('refuses a rate above 1 and a number that is not E.164', () => {
    expect(() => applyConfigPatch(base, { timeoutRate: 1.5 })).toThrow(ZodError);
    expect(() => applyConfigPatch(base, { numbers: { invalid: ['13812345678'] } })).toThrow(ZodError);
  });
});

describe('seededRandom', () => {
  it('draws the same numbers for the same seed, in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const drawsA = Array.from({ length: 1_000 }, a);

    expect(drawsA).toEqual(Array.from({ length: 1_000 }, b));
    expect(drawsA.every((n) => n >= 0 && n < 1)).toBe(true);
    expect(drawsA.filter((n) => n < 0.1).length).toBeGreaterThan(70);
    expect(drawsA.filter((n) => n < 0.1).length).toBeLessThan(130);
  });
});

describe('createMessageLog', () => {
  const message = (i: number, to: string): SimulatedMessage => ({
    messageId: `sim-${i}`,
    account: 'default',
    to,
    text: `m${i}`,
    reference: `r-${i}`,
    parts: 1,
    encoding: 'gsm7',
    acceptedAt: '2025-06-01T00:00:00.000Z',
    fate: 'delivered',
  });

  it('finds the last message to a phone among those it keeps', () => {
    const log = createMessageLog({ maxMessages: 2 });
    log.add(message(1, '+8613800000001'));
    log.add(message(2, '+8613800000002'));
    log.add(message(3, '+8613800000001'));

    expect(log.lastTo({ phone: '+8613800000001' })?.messageId).toBe('sim-3');
    expect(log.find({ phone: '+8613800000001' }).messages.map((m) => m.messageId)).toEqual(['sim-3']);
    expect(log.countFor('+8613800000001')).toBe(2);
  });
});
