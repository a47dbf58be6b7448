import {
  attributeConversion,
  type Conversion,
  type ConversionDeps,
  conversionInput,
  type MessageActivity,
  type RunDeltas,
  recordConversion,
  type Tenant,
  tenantSettings,
  ValidationError,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

const at = new Date('2026-11-23T12:00:00Z');
const hoursBefore = (hours: number): string => new Date(at.getTime() - hours * 3_600_000).toISOString();
const windows = { clickWindowHours: 120, deliveryWindowHours: 24 };

describe('attributeConversion', () => {
  it('prefers a click within 5 days to a later delivery', () => {
    const activities: MessageActivity[] = [
      { campaignId: 'c2', runId: 'run_2', variantId: 'A', deliveredAt: hoursBefore(1) },
      {
        campaignId: 'c1',
        runId: 'run_1',
        variantId: 'B',
        deliveredAt: hoursBefore(100),
        clickedAt: hoursBefore(99),
      },
    ];

    expect(attributeConversion({ activities, at, windows })).toEqual({
      campaignId: 'c1',
      runId: 'run_1',
      variantId: 'B',
      by: 'click',
      touchedAt: hoursBefore(99),
    });
  });

  it('takes the most recent click when several are in the window', () => {
    const activities: MessageActivity[] = [
      { campaignId: 'c1', runId: 'run_1', clickedAt: hoursBefore(50) },
      { campaignId: 'c2', runId: 'run_2', clickedAt: hoursBefore(3) },
      { campaignId: 'c3', runId: 'run_3', clickedAt: hoursBefore(30) },
    ];

    expect(attributeConversion({ activities, at, windows })?.campaignId).toBe('c2');
  });

  it('falls back to the most recent delivery within 24 hours when no click is in its window', () => {
    const activities: MessageActivity[] = [
      { campaignId: 'c1', runId: 'run_1', clickedAt: hoursBefore(121) },
      { campaignId: 'c2', runId: 'run_2', deliveredAt: hoursBefore(20) },
      { campaignId: 'c3', runId: 'run_3', deliveredAt: hoursBefore(5) },
    ];

    expect(attributeConversion({ activities, at, windows })).toMatchObject({
      campaignId: 'c3',
      by: 'delivery',
    });
  });

  it('attributes nothing outside both windows', () => {
    const activities: MessageActivity[] = [
      { campaignId: 'c1', runId: 'run_1', clickedAt: hoursBefore(120.01), deliveredAt: hoursBefore(121) },
      { campaignId: 'c2', runId: 'run_2', deliveredAt: hoursBefore(24.01) },
    ];

    expect(attributeConversion({ activities, at, windows })).toBeUndefined();
  });

  it('ignores a touch after the conversion', () => {
    const activities: MessageActivity[] = [
      { campaignId: 'c1', runId: 'run_1', deliveredAt: new Date(at.getTime() + 60_000).toISOString() },
    ];

    expect(attributeConversion({ activities, at, windows })).toBeUndefined();
  });

  it('follows the tenant windows', () => {
    const activities: MessageActivity[] = [
      { campaignId: 'c1', runId: 'run_1', deliveredAt: hoursBefore(30) },
    ];

    expect(
      attributeConversion({ activities, at, windows: { ...windows, deliveryWindowHours: 48 } }),
    ).toMatchObject({
      by: 'delivery',
    });
  });
});

describe('conversionInput', () => {
  it('defaults a purchase to CNY', () => {
    const parsed = conversionInput.parse({
      type: 'purchase',
      eventId: 'o-1',
      memberId: 'm1',
      amount: '88.50',
    });

    expect(parsed).toMatchObject({ currency: 'CNY', amount: '88.50' });
  });

  it('refuses a purchase without amount, a custom event without name, and neither member nor phone', () => {
    const problems = (value: unknown) =>
      conversionInput.safeParse(value).error?.issues.map((issue) => issue.path.join('.')) ?? [];

    expect(problems({ type: 'purchase', eventId: 'e', memberId: 'm1' })).toContain('amount');
    expect(problems({ type: 'custom', eventId: 'e', memberId: 'm1' })).toContain('name');
    expect(problems({ type: 'signup', eventId: 'e' })).toContain('memberId');
    expect(problems({ type: 'signup', eventId: 'e', memberId: 'm1', phone: '13800138000' })).toContain(
      'phone',
    );
    expect(problems({ type: 'refund', eventId: 'e', memberId: 'm1' })).toContain('type');
  });
});

describe('recordConversion', () => {
  const tenant: Tenant = {
    ...tenantSettings.parse({ name: 'Acme Tea' }),
    tenantId: 'acme',
    createdAt: '2026-01-01T00:00:00Z',
  };

  function fakes(activities: MessageActivity[]) {
    const stored = new Map<string, { conversion: Conversion; deltas: RunDeltas | undefined }>();
    const deps: ConversionDeps = {
      members: { idsByPhone: async () => ['m1'] },
      activity: { recent: async () => activities },
      conversions: {
        record: async ({ conversion, deltas }) => {
          const existing = stored.get(conversion.eventId);
          if (existing) return { recorded: false, existing: existing.conversion };
          stored.set(conversion.eventId, { conversion, deltas });
          return { recorded: true };
        },
      },
      now: () => at,
    };
    return { deps, stored };
  }

  it('counts a purchase on the clicked run and variant with its revenue, once per eventId', async () => {
    const { deps, stored } = fakes([
      { campaignId: 'c1', runId: 'run_1', variantId: 'B', clickedAt: hoursBefore(2) },
    ]);
    const input = conversionInput.parse({ type: 'purchase', eventId: 'o-1', memberId: 'm1', amount: '88.5' });

    const first = await recordConversion(deps, { tenant, input });
    const again = await recordConversion(deps, { tenant, input });

    expect(first.created).toBe(true);
    expect(again).toEqual({ created: false, conversion: first.conversion });
    expect(stored.get('o-1')?.deltas).toEqual({
      conversions: 1,
      revenueMicros: 88_500_000,
      'variant.B.conversions': 1,
      'variant.B.revenueMicros': 88_500_000,
    });
  });

  it('counts a purchase in another currency than the tenant’s without revenue', async () => {
    const { deps, stored } = fakes([{ campaignId: 'c1', runId: 'run_1', deliveredAt: hoursBefore(2) }]);
    const input = conversionInput.parse({
      type: 'purchase',
      eventId: 'o-2',
      memberId: 'm1',
      amount: '10',
      currency: 'USD',
    });

    const { conversion } = await recordConversion(deps, { tenant, input });

    expect(conversion.revenueCounted).toBe(false);
    expect(stored.get('o-2')?.deltas).toEqual({ conversions: 1 });
  });

  it('records an unattributed conversion without counters', async () => {
    const { deps, stored } = fakes([]);
    const input = conversionInput.parse({ type: 'signup', eventId: 's-1', phone: '138 0013 8000' });

    const { conversion } = await recordConversion(deps, { tenant, input });

    expect(conversion.attribution).toBeUndefined();
    expect(stored.get('s-1')?.deltas).toBeUndefined();
  });

  it('refuses an event in the future and a phone no member has', async () => {
    const { deps } = fakes([]);
    const future = conversionInput.parse({
      type: 'signup',
      eventId: 's-2',
      memberId: 'm1',
      at: '2026-11-24T00:00:00Z',
    });
    const nobody: ConversionDeps = { ...deps, members: { idsByPhone: async () => [] } };
    const byPhone = conversionInput.parse({ type: 'signup', eventId: 's-3', phone: '13800138000' });

    await expect(recordConversion(deps, { tenant, input: future })).rejects.toBeInstanceOf(ValidationError);
    await expect(recordConversion(nobody, { tenant, input: byPhone })).rejects.toMatchObject({
      problems: [{ path: 'body.phone' }],
    });
  });
});
