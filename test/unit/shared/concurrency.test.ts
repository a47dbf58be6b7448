import { coalesced, forEachConcurrently, inChunks, mapWithConcurrency } from '@qunfa/domain';
import { describe, expect, it, vi } from 'vitest';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('forEachConcurrently', () => {
  it('never runs more than the limit at once, and works on every item', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];

    await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      seen.push(item);
      running--;
    });

    expect(peak).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('takes no further item once `until` holds', async () => {
    const seen: number[] = [];

    await forEachConcurrently([1, 2, 3, 4, 5], 1, async (item) => void seen.push(item), {
      until: () => seen.length >= 2,
    });

    expect(seen).toEqual([1, 2]);
  });

  it('with settleAll, works on every item before throwing the first failure', async () => {
    const seen: number[] = [];

    const run = forEachConcurrently(
      [1, 2, 3],
      1,
      async (item) => {
        seen.push(item);
        if (item !== 3) throw new Error(`item ${item}`);
      },
      { settleAll: true },
    );

    await expect(run).rejects.toThrow('item 1');
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('mapWithConcurrency and inChunks', () => {
  it('keep the order of the items', async () => {
    expect(await mapWithConcurrency([3, 1, 2], 2, async (n) => n * 10)).toEqual([30, 10, 20]);
    expect(inChunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe('coalesced', () => {
  it('answers concurrent requests from one call, and those made during it from the next', async () => {
    const calls: string[][] = [];
    const gates: (() => void)[] = [];
    const look = coalesced(async (keys: readonly string[]) => {
      calls.push([...keys]);
      await new Promise<void>((resolve) => gates.push(resolve));
      return new Set(keys);
    });

    const first = [look('a'), look('b'), look('c')];
    await Promise.resolve();
    const during = [look('d'), look('e')];
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    expect(calls).toEqual([['a', 'b', 'c']]);
    gates[0]?.();
    expect((await Promise.all(first)).every((answer) => answer.has('a') && !answer.has('d'))).toBe(true);
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    expect(calls).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    gates[1]?.();
    expect((await Promise.all(during)).every((answer) => answer.has('e'))).toBe(true);
  });

  it('puts no more in one call than fits, and fails only the requests of a failed call', async () => {
    const sizes: number[] = [];
    const take = coalesced(
      async (parts: readonly number[]) => {
        const total = parts.reduce((sum, n) => sum + n, 0);
        sizes.push(total);
        if (total === 7) throw new Error('refused');
        return total;
      },
      { fits: (group, next) => group.reduce((sum, n) => sum + n, next) <= 10 },
    );

    const answers = await Promise.allSettled([take(4), take(5), take(3), take(4), take(9)]);

    expect(sizes).toEqual([9, 7, 9]);
    expect(answers.map((answer) => answer.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
  });
});
