import { type PartPriceOverrides, partPriceFor, type SmsProviderId, toMicros } from '../templates/pricing';
import type { Campaign } from './campaign';

// A campaign's budget cap, held per run: before the provider is called, the sender reserves
// each message's cost (its parts at the tenant's price, integer millionths) on one counter
// per run with a conditional atomic add that refuses to pass the cap, so however many
// senders race, a run never reserves more than its cap. What a message does not use is given
// back: a send that did not happen (capped, throttled, refused) returns all of it, an
// accepted one whose provider counted other parts than we did is corrected by the
// difference. A message that does not fit is suppressed `over_budget` and never sent.
//
// A reservation lost with a sender killed between its reserve and its give-back stays
// reserved: the run may then spend a little less than its cap, never more.

/**
 * The budget counters of campaign runs (one per run). Only runs whose campaign has a budget
 * take writes: one `reserve` and at most one `adjust` per send batch, never one per message.
 */
export interface RunBudgetStore {
  /**
   * Reserves `costs` (micros, one per message) against `capMicros`: their total in one
   * conditional add when it fits; else as many of them as fit (see fitInBudget), again in one
   * conditional add, re-read and retried when another sender got in between. Answers, in the
   * order of `costs`, which were reserved. The run's reservations never pass `capMicros`.
   */
  reserve(
    tenantId: string,
    campaignId: string,
    runId: string,
    reservation: { capMicros: number; costs: readonly number[] },
  ): Promise<boolean[]>;
  /**
   * Adds `byMicros` (negative: gives back what was reserved and not spent) unconditionally.
   * A give-back is always within what was reserved; a positive correction (a provider that
   * billed more parts than counted) is the one way past the cap, by that difference.
   */
  adjust(tenantId: string, campaignId: string, runId: string, byMicros: number): Promise<void>;
  /** What the run holds reserved now (0 before its first reservation). */
  reserved(tenantId: string, campaignId: string, runId: string): Promise<number>;
}

/**
 * Which of `costs` fit in `availableMicros`: as many as fit, cheapest first (so the most
 * messages go), answered in the order of `costs`. Zero costs always fit.
 */
export function fitInBudget({
  availableMicros,
  costs,
}: {
  availableMicros: number;
  costs: readonly number[];
}): boolean[] {
  const fits = costs.map(() => false);
  let left = availableMicros;
  const cheapestFirst = costs.map((cost, index) => ({ cost, index })).sort((a, b) => a.cost - b.cost);
  for (const { cost, index } of cheapestFirst) {
    if (cost === 0) {
      fits[index] = true;
      continue;
    }
    if (cost > left) break;
    left -= cost;
    fits[index] = true;
  }
  return fits;
}

/**
 * The budget is in a currency the tenant's provider does not bill in: a message's cost cannot
 * be weighed against it. The sender fails the batch untouched (it retries and reaches the
 * DLQ, to be redriven once the tenant's part price or the campaign is put right), as it does
 * for a provider that is not configured.
 */
export class BudgetCurrencyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetCurrencyError';
  }
}

/**
 * The cap of a campaign's budget in micros, in the currency `provider` bills the tenant in;
 * throws BudgetCurrencyError when the two currencies differ.
 */
export function budgetCapMicros({
  budget,
  provider,
  overrides,
}: {
  budget: NonNullable<Campaign['budget']>;
  provider: SmsProviderId;
  overrides?: PartPriceOverrides | undefined;
}): number {
  const price = partPriceFor(overrides === undefined ? { provider } : { provider, overrides });
  if (price.currency !== budget.currency) {
    throw new BudgetCurrencyError(
      `The budget is in ${budget.currency} but ${provider} bills this tenant in ${price.currency}.`,
    );
  }
  return toMicros(budget.amount);
}
