import * as z from 'zod';
import type { CountingRule } from './encoding';

// What a message costs: the providers, how each counts parts, and the default price of a part.
// One source of truth for these facts; a tenant overrides the price of any provider with the
// rate of its own contract.
//
// Amounts are decimal strings with at most 6 decimals ("0.045") and are computed in integer
// millionths of the currency unit, so a total over a million messages has no binary drift.

export const smsProviderIds = ['aliyun', 'tencent', 'aws', 'twilio', 'simulator'] as const;
export const smsProviderId = z.enum(smsProviderIds);
export type SmsProviderId = z.infer<typeof smsProviderId>;

/** How each provider counts parts (see encoding.ts): the mainland rule for the Chinese providers. */
export const countingRules: Record<SmsProviderId, CountingRule> = {
  aliyun: 'china',
  tencent: 'china',
  aws: 'standard',
  twilio: 'standard',
  simulator: 'standard',
};

export const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code such as CNY');
export const decimalAmount = z
  .string()
  .regex(/^\d{1,9}(?:\.\d{1,6})?$/, 'a decimal amount with at most 6 decimals, e.g. "0.045"');

export interface PartPrice {
  readonly currency: string;
  /** Per billed part, as a decimal string. */
  readonly pricePerPart: string;
  /** Where the figure comes from. */
  readonly source: string;
}

/**
 * Defaults for a tenant that has not entered its contract rate. List prices, pay as you go,
 * checked 2025; they change, so merchants see them as estimates and override them.
 */
export const defaultPartPrices: Record<SmsProviderId, PartPrice> = {
  aliyun: {
    currency: 'CNY',
    pricePerPart: '0.045',
    source: 'Aliyun SMS, mainland China, pay-as-you-go list price (0.045 元/条); packages are cheaper',
  },
  tencent: {
    currency: 'CNY',
    pricePerPart: '0.045',
    source: 'Tencent Cloud SMS, mainland China, smallest package (1万条 450 元, 0.045 元/条)',
  },
  aws: {
    currency: 'USD',
    pricePerPart: '0.00581',
    source: 'AWS End User Messaging SMS, United States, base price per part without carrier fees (default)',
  },
  twilio: {
    currency: 'USD',
    pricePerPart: '0.0083',
    source: 'Twilio Programmable Messaging, United States long code, per segment without carrier fees',
  },
  simulator: { currency: 'CNY', pricePerPart: '0', source: 'the local simulator sends nothing' },
};

export const partPriceOverride = z.strictObject({ currency: currencyCode, pricePerPart: decimalAmount });
/** A tenant's contract rates, per provider; any provider left out takes the default. */
export const partPriceOverrides = z.partialRecord(smsProviderId, partPriceOverride);
export type PartPriceOverrides = z.infer<typeof partPriceOverrides>;

const micro = 1_000_000;

/** `"0.045"` → 45000 millionths. */
export function toMicros(amount: string): number {
  const [whole = '0', fraction = ''] = amount.split('.');
  return Number(whole) * micro + Number(fraction.padEnd(6, '0').slice(0, 6));
}

/** 45000 millionths → `"0.045"`; at least `minDecimals` decimals, trailing zeros dropped beyond. */
export function fromMicros(micros: number, { minDecimals = 2 }: { minDecimals?: number } = {}): string {
  const sign = micros < 0 ? '-' : '';
  const absolute = Math.abs(micros);
  const whole = Math.floor(absolute / micro);
  let fraction = String(absolute % micro).padStart(6, '0');
  while (fraction.length > minDecimals && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

export interface ResolvedPartPrice {
  readonly provider: SmsProviderId;
  readonly currency: string;
  readonly pricePerPart: string;
  readonly origin: 'default' | 'tenant';
}

/** The price of one part with `provider`: the tenant's rate if it set one, else the default. */
export function partPriceFor({
  provider,
  overrides = {},
}: {
  provider: SmsProviderId;
  overrides?: PartPriceOverrides;
}): ResolvedPartPrice {
  const tenant = overrides[provider];
  if (tenant)
    return { provider, currency: tenant.currency, pricePerPart: tenant.pricePerPart, origin: 'tenant' };
  const fallback = defaultPartPrices[provider];
  return { provider, currency: fallback.currency, pricePerPart: fallback.pricePerPart, origin: 'default' };
}

export interface CostEstimate extends ResolvedPartPrice {
  readonly parts: number;
  /** The total in millionths of the currency unit (exact). */
  readonly totalMicros: number;
  /** The total as a decimal string, e.g. "45.00". */
  readonly total: string;
}

/** The cost of `parts` billed parts with `provider`. */
export function estimateCost({
  provider,
  parts,
  overrides,
}: {
  provider: SmsProviderId;
  parts: number;
  overrides?: PartPriceOverrides;
}): CostEstimate {
  const price = partPriceFor(overrides ? { provider, overrides } : { provider });
  const totalMicros = parts * toMicros(price.pricePerPart);
  if (!Number.isSafeInteger(totalMicros))
    throw new RangeError(`cost of ${parts} parts is too large to compute`);
  return { ...price, parts, totalMicros, total: fromMicros(totalMicros) };
}
