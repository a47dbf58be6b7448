import {
  countingRules,
  defaultPartPrices,
  estimateCost,
  fromMicros,
  partPriceFor,
  partPriceOverrides,
  smsProviderIds,
  toMicros,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

// What a send costs: one price list per provider, overridable per tenant, computed in
// integer millionths so that totals have no floating-point drift.

describe('the default price list', () => {
  it('prices a part with every provider, in its currency, saying where the figure comes from', () => {
    for (const provider of smsProviderIds) {
      const price = defaultPartPrices[provider];
      expect(price.currency).toMatch(/^[A-Z]{3}$/);
      expect(price.pricePerPart).toMatch(/^\d+(\.\d+)?$/);
      expect(price.source.length).toBeGreaterThan(10);
    }
    expect(defaultPartPrices.aliyun).toMatchObject({ currency: 'CNY', pricePerPart: '0.045' });
    expect(defaultPartPrices.tencent).toMatchObject({ currency: 'CNY', pricePerPart: '0.045' });
    expect(defaultPartPrices.simulator.pricePerPart).toBe('0');
  });

  it('counts parts the mainland way for Aliyun and Tencent Cloud, the standard way for the others', () => {
    expect(countingRules).toEqual({
      aliyun: 'china',
      tencent: 'china',
      aws: 'standard',
      twilio: 'standard',
      simulator: 'standard',
    });
  });
});

describe('amounts', () => {
  it.each([
    ['0.045', 45_000],
    ['0.00581', 5_810],
    ['12', 12_000_000],
    ['0.000001', 1],
  ])('reads %s as %i millionths', (amount, micros) => {
    expect(toMicros(amount)).toBe(micros);
  });

  it('writes millionths with at least two decimals and no trailing zeros beyond', () => {
    expect(fromMicros(45_000_000_000)).toBe('45000.00');
    expect(fromMicros(45_000)).toBe('0.045');
    expect(fromMicros(5_810)).toBe('0.00581');
    expect(fromMicros(300_000)).toBe('0.30');
  });
});

describe('estimateCost', () => {
  it('prices a million parts with Aliyun at exactly 45,000 yuan', () => {
    expect(estimateCost({ provider: 'aliyun', parts: 1_000_000 })).toEqual({
      provider: 'aliyun',
      currency: 'CNY',
      pricePerPart: '0.045',
      origin: 'default',
      parts: 1_000_000,
      totalMicros: 45_000_000_000,
      total: '45000.00',
    });
  });

  it('adds without drift where floating point would not (3 × 0.1)', () => {
    expect(3 * 0.1).not.toBe(0.3);
    expect(
      estimateCost({
        provider: 'aliyun',
        parts: 3,
        overrides: { aliyun: { currency: 'CNY', pricePerPart: '0.1' } },
      }).total,
    ).toBe('0.30');
  });

  it("takes the tenant's contract rate over the default, provider by provider", () => {
    const overrides = partPriceOverrides.parse({ tencent: { currency: 'CNY', pricePerPart: '0.032' } });
    expect(partPriceFor({ provider: 'tencent', overrides })).toEqual({
      provider: 'tencent',
      currency: 'CNY',
      pricePerPart: '0.032',
      origin: 'tenant',
    });
    expect(partPriceFor({ provider: 'aliyun', overrides }).origin).toBe('default');
    expect(estimateCost({ provider: 'tencent', parts: 2_500_000, overrides }).total).toBe('80000.00');
  });

  it('refuses an override that is not a decimal amount in a currency', () => {
    expect(
      partPriceOverrides.safeParse({ aliyun: { currency: 'yuan', pricePerPart: '4.5e-2' } }).success,
    ).toBe(false);
    expect(partPriceOverrides.safeParse({ mobile: { currency: 'CNY', pricePerPart: '0.04' } }).success).toBe(
      false,
    );
  });
});
