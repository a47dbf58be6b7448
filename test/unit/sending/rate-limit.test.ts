import {
  type RateLimitPlan,
  RateLimitPlanError,
  rateLimitPlan,
  rateRetryAfterMs,
  rateWindow,
  shardOrder,
  splitBudget,
} from '@qunfa/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// The pure half of the rate limiter: how a provider account's rate becomes shard budgets,
// which shards a taker tries, and how long a refused taker waits.

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** A random source that replays `values` in turn. */
const replay = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

describe('RateLimit', () => {
  describe('rateLimitPlan', () => {
    it('splits 5,000 parts/s over 20 shards of 250, so no shard key takes more than 250 writes/s', () => {
      const plan = rateLimitPlan({ partsPerSecond: 5000 });

      expect(plan.budget).toBe(5000);
      expect(plan.shardBudgets).toEqual(Array.from({ length: 20 }, () => 250));
    });

    it('keeps a single shard at 50 parts/s', () => {
      expect(rateLimitPlan({ partsPerSecond: 50 }).shardBudgets).toEqual([50]);
    });

    it('spreads an uneven rate so the shards add up to exactly the budget', () => {
      const plan = rateLimitPlan({ partsPerSecond: 1234 });

      expect(plan.shardBudgets).toEqual([247, 247, 247, 247, 246]);
      expect(sum(plan.shardBudgets)).toBe(1234);
    });

    it('gives a shorter window a proportional budget', () => {
      expect(rateLimitPlan({ partsPerSecond: 1000, windowMs: 250 }).budget).toBe(250);
    });

    it('uses fewer shards rather than ones too small for the longest message', () => {
      const plan = rateLimitPlan({ partsPerSecond: 100, maxPartsPerShardPerSecond: 10, maxPartsPerTake: 25 });

      expect(plan.shardBudgets).toEqual([25, 25, 25, 25]);
    });

    it('refuses a rate whose window cannot hold the longest message', () => {
      expect(() => rateLimitPlan({ partsPerSecond: 5 })).toThrow(RateLimitPlanError);
      expect(() => rateLimitPlan({ partsPerSecond: 0 })).toThrow(RateLimitPlanError);
    });

    it('never gives the shards more than the window budget, for any rate', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 10, max: 20_000 }),
          fc.integer({ min: 1, max: 500 }),
          (partsPerSecond, perShard) => {
            const plan = rateLimitPlan({ partsPerSecond, maxPartsPerShardPerSecond: perShard });
            expect(sum(plan.shardBudgets)).toBe(plan.budget);
            expect(plan.budget).toBeLessThanOrEqual(partsPerSecond);
            expect(Math.min(...plan.shardBudgets)).toBeGreaterThanOrEqual(10);
          },
        ),
      );
    });
  });

  describe('splitBudget', () => {
    it('differs by at most one part between shards', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 100_000 }),
          fc.integer({ min: 1, max: 64 }),
          (budget, shardCount) => {
            const shards = splitBudget({ budget, shardCount });
            expect(sum(shards)).toBe(budget);
            expect(Math.max(...shards) - Math.min(...shards)).toBeLessThanOrEqual(1);
          },
        ),
      );
    });
  });

  describe('shardOrder', () => {
    const plan: RateLimitPlan = {
      partsPerSecond: 40,
      windowMs: 1000,
      budget: 40,
      shardBudgets: [12, 12, 8, 8],
    };

    it('tries distinct shards, in an order drawn from the random source', () => {
      expect(shardOrder({ plan, parts: 1, tries: 3, random: replay(0.99, 0, 0) })).toEqual([3, 1, 2]);
      expect(shardOrder({ plan, parts: 1, tries: 3, random: replay(0, 0, 0) })).toEqual([0, 1, 2]);
    });

    it('skips shards too small for the parts asked', () => {
      expect(shardOrder({ plan, parts: 10, tries: 3, random: replay(0.5) }).sort()).toEqual([0, 1]);
      expect(shardOrder({ plan, parts: 13, tries: 3, random: replay(0.5) })).toEqual([]);
    });

    it('never repeats a shard, whatever the random source returns', () => {
      fc.assert(
        fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1 }), (draws) => {
          const order = shardOrder({ plan, parts: 1, tries: 4, random: replay(...draws) });
          expect(new Set(order).size).toBe(4);
        }),
      );
    });
  });

  describe('rateWindow and rateRetryAfterMs', () => {
    it('numbers fixed windows from the epoch', () => {
      expect(rateWindow({ now: 1_700_000_000_250, windowMs: 1000 })).toEqual({
        index: 1_700_000_000,
        endsAt: 1_700_000_001_000,
      });
    });

    it('waits for the next window plus up to a tenth of a window of jitter', () => {
      const now = 1_700_000_000_250;

      expect(rateRetryAfterMs({ now, windowMs: 1000, random: () => 0 })).toBe(750);
      expect(rateRetryAfterMs({ now, windowMs: 1000, random: () => 0.999 })).toBe(849);
    });
  });

  describe('the limiter as a whole (an atomic counter per shard, as DynamoDB keeps it)', () => {
    it('never grants a window more than its budget, however many takers race', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 400 }),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1 }),
          (takes, draws) => {
            const plan = rateLimitPlan({ partsPerSecond: 300, maxPartsPerShardPerSecond: 50 });
            const counts = plan.shardBudgets.map(() => 0);
            const random = replay(...draws);
            let granted = 0;
            for (const parts of takes) {
              for (const shard of shardOrder({ plan, parts, tries: 3, random })) {
                const budget = plan.shardBudgets[shard] ?? 0;
                // The adapter's condition: attribute_not_exists(parts) OR parts <= budget - :parts.
                if ((counts[shard] ?? 0) <= budget - parts) {
                  counts[shard] = (counts[shard] ?? 0) + parts;
                  granted += parts;
                  break;
                }
              }
            }
            expect(granted).toBeLessThanOrEqual(plan.budget);
            counts.forEach((count, shard) => {
              expect(count).toBeLessThanOrEqual(plan.shardBudgets[shard] ?? 0);
            });
          },
        ),
      );
    });
  });
});
