import { randomBytes } from 'node:crypto';
import type { RunBudgetStore } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

// The specification of a run's budget counter (RunBudgetStore): a batch reserved in one
// conditional add when it fits, as many as fit when it does not, never past the cap however
// many senders reserve at once; give-backs make room again. It runs against the in-memory
// store (unit) and DynamoDB Local (integration), where the two reservers are separate
// clients racing on one item.

/** One part at the Aliyun list price (0.045 CNY), in micros. */
const part = 45_000;

export function describeRunBudgetStore(
  title: string,
  makeReservers: () => Promise<readonly [RunBudgetStore, RunBudgetStore]>,
): void {
  describe(title, () => {
    const run = () => ({
      tenantId: `acme-${randomBytes(4).toString('hex')}`,
      campaignId: 'cmp_000000000001',
      runId: 'run_20261123T080000000Z',
    });

    it('reserves a batch that fits, whole', async () => {
      const [budget] = await makeReservers();
      const { tenantId, campaignId, runId } = run();

      const fits = await budget.reserve(tenantId, campaignId, runId, {
        capMicros: 10 * part,
        costs: [part, 2 * part, part],
      });

      expect(fits).toEqual([true, true, true]);
      expect(await budget.reserved(tenantId, campaignId, runId)).toBe(4 * part);
    });

    it('reserves as many as fit, cheapest first, when the batch does not', async () => {
      const [budget] = await makeReservers();
      const { tenantId, campaignId, runId } = run();
      await budget.reserve(tenantId, campaignId, runId, { capMicros: 10 * part, costs: [6 * part] });

      // 4 parts of room: the 1- and 2-part messages fit (3), the 3-part one does not after them.
      const fits = await budget.reserve(tenantId, campaignId, runId, {
        capMicros: 10 * part,
        costs: [3 * part, part, 3 * part, 2 * part],
      });

      expect(fits).toEqual([false, true, false, true]);
      expect(await budget.reserved(tenantId, campaignId, runId)).toBe(9 * part);
    });

    it('refuses every message once the cap is reached, and lets free ones through', async () => {
      const [budget] = await makeReservers();
      const { tenantId, campaignId, runId } = run();
      await budget.reserve(tenantId, campaignId, runId, { capMicros: 3 * part, costs: [part, part, part] });

      const fits = await budget.reserve(tenantId, campaignId, runId, { capMicros: 3 * part, costs: [1, 0] });

      expect(fits).toEqual([false, true]);
      expect(await budget.reserved(tenantId, campaignId, runId)).toBe(3 * part);
    });

    it('makes room again with what is given back', async () => {
      const [budget] = await makeReservers();
      const { tenantId, campaignId, runId } = run();
      await budget.reserve(tenantId, campaignId, runId, { capMicros: 2 * part, costs: [part, part] });

      const before = await budget.reserve(tenantId, campaignId, runId, {
        capMicros: 2 * part,
        costs: [part],
      });
      await budget.adjust(tenantId, campaignId, runId, -part);
      const after = await budget.reserve(tenantId, campaignId, runId, { capMicros: 2 * part, costs: [part] });

      expect([before, after]).toEqual([[false], [true]]);
      expect(await budget.reserved(tenantId, campaignId, runId)).toBe(2 * part);
    });

    it('keeps the runs of campaigns and tenants apart', async () => {
      const [budget] = await makeReservers();
      const a = run();
      const b = run();
      await budget.reserve(a.tenantId, a.campaignId, a.runId, { capMicros: part, costs: [part] });

      const otherRun = await budget.reserve(a.tenantId, a.campaignId, 'run_20261124T080000000Z', {
        capMicros: part,
        costs: [part],
      });
      const otherTenant = await budget.reserve(b.tenantId, a.campaignId, a.runId, {
        capMicros: part,
        costs: [part],
      });

      expect([otherRun, otherTenant]).toEqual([[true], [true]]);
      expect(await budget.reserved(a.tenantId, a.campaignId, a.runId)).toBe(part);
    });

    it('never passes the cap with two reservers racing, and fills it to the last message', async () => {
      const reservers = await makeReservers();
      const { tenantId, campaignId, runId } = run();
      const capMicros = 137 * part;

      // 2 reservers × 15 batches of 10 one-part messages, all at once: 300 asked, 137 fit.
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          reservers[i % 2]?.reserve(tenantId, campaignId, runId, {
            capMicros,
            costs: Array.from({ length: 10 }, () => part),
          }),
        ),
      );

      const granted = answers.flat().filter((fit) => fit === true).length;
      expect(granted).toBe(137);
      expect(await reservers[0].reserved(tenantId, campaignId, runId)).toBe(capMicros);
    });

    it('never passes the cap with racing batches of mixed costs, and reserves exactly what it granted', async () => {
      const reservers = await makeReservers();
      const { tenantId, campaignId, runId } = run();
      const capMicros = 100 * part;
      const batches = Array.from({ length: 20 }, (_, i) =>
        Array.from({ length: 8 }, (_, j) => (1 + ((i + j) % 3)) * part),
      );

      const answers = await Promise.all(
        batches.map((costs, i) =>
          reservers[i % 2]?.reserve(tenantId, campaignId, runId, { capMicros, costs }),
        ),
      );

      const grantedMicros = batches
        .flatMap((costs, i) => costs.filter((_, j) => answers[i]?.[j] === true))
        .reduce((sum, cost) => sum + cost, 0);
      const reserved = await reservers[1].reserved(tenantId, campaignId, runId);
      expect(reserved).toBe(grantedMicros);
      expect(reserved).toBeLessThanOrEqual(capMicros);
      // Every refusal saw less room than the cheapest message it refused.
      expect(capMicros - reserved).toBeLessThan(part);
    });
  });
}
