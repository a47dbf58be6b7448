import { BudgetCurrencyError, budgetCapMicros, fitInBudget } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { describeRunBudgetStore } from '../../support/budget-spec';
import { MemoryRunBudget } from '../../support/fakes/memory-sending-stores';

// The budget cap's decisions (packages/domain/src/campaigns/budget.ts) and the run budget
// specification on the in-memory store; test/integration/budget-dynamo.test.ts runs the same
// specification on DynamoDB Local.

describeRunBudgetStore('RunBudgetStore (in memory)', async () => {
  const budget = new MemoryRunBudget();
  return [budget, budget];
});

describe('fitInBudget', () => {
  it('fits every cost when their total fits', () => {
    expect(fitInBudget({ availableMicros: 100, costs: [40, 60] })).toEqual([true, true]);
  });

  it('fits as many as it can, cheapest first, and answers in the order given', () => {
    expect(fitInBudget({ availableMicros: 100, costs: [90, 30, 50, 20] })).toEqual([false, true, true, true]);
  });

  it('fits nothing that costs more than the room left, and free messages always', () => {
    expect(fitInBudget({ availableMicros: 10, costs: [11, 0, 20] })).toEqual([false, true, false]);
    expect(fitInBudget({ availableMicros: -5, costs: [0, 1] })).toEqual([true, false]);
  });
});

describe('budgetCapMicros', () => {
  it("gives the cap in micros when the provider bills in the budget's currency", () => {
    expect(budgetCapMicros({ budget: { amount: '500.5', currency: 'CNY' }, provider: 'aliyun' })).toBe(
      500_500_000,
    );
  });

  it("reads the tenant's own price, currency included", () => {
    expect(
      budgetCapMicros({
        budget: { amount: '20', currency: 'USD' },
        provider: 'aliyun',
        overrides: { aliyun: { currency: 'USD', pricePerPart: '0.006' } },
      }),
    ).toBe(20_000_000);
  });

  it('refuses a budget in another currency than the provider bills in', () => {
    expect(() => budgetCapMicros({ budget: { amount: '20', currency: 'USD' }, provider: 'aliyun' })).toThrow(
      BudgetCurrencyError,
    );
  });
});
