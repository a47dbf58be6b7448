import { forEachConcurrently, inChunks, mapWithConcurrency } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

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
