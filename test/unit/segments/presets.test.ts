import {
  expandPreset,
  expandPresets,
  type PresetNode,
  parseSegmentDefinition,
  presetNames,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { aMember, matches } from './support';

// The customer types merchants ask for, with their default thresholds, and what each expands to.

const now = '2025-03-10T04:00:00Z'; // noon in Shanghai
const daysAgo = (days: number): string => new Date(Date.parse(now) - days * 86_400_000).toISOString();
const preset = (input: unknown): PresetNode => {
  const parsed = parseSegmentDefinition({ input });
  if (!('preset' in parsed)) throw new Error('not a preset');
  return parsed;
};

describe('presets', () => {
  it('are new members, active, at risk, lapsed and high value', () => {
    expect(presetNames).toEqual(['newMembers', 'active', 'atRisk', 'lapsed', 'highValue']);
  });

  describe('newMembers', () => {
    it('joined within 30 days by default', () => {
      expect(matches({ preset: 'newMembers' }, aMember({ joinedAt: daysAgo(30) }), { now })).toBe(true);
      expect(matches({ preset: 'newMembers' }, aMember({ joinedAt: daysAgo(31) }), { now })).toBe(false);
    });

    it('takes its own window', () => {
      const lastWeek = { preset: 'newMembers', params: { withinDays: 7 } };
      expect(matches(lastWeek, aMember({ joinedAt: daysAgo(8) }), { now })).toBe(false);
    });
  });

  describe('active', () => {
    it('bought within 30 days by default', () => {
      expect(matches({ preset: 'active' }, aMember({ lastPurchaseAt: daysAgo(30) }), { now })).toBe(true);
      expect(matches({ preset: 'active' }, aMember({ lastPurchaseAt: daysAgo(31) }), { now })).toBe(false);
      expect(matches({ preset: 'active' }, aMember(), { now })).toBe(false);
    });
  });

  describe('atRisk', () => {
    it.each<[number, boolean]>([
      [60, false],
      [61, true],
      [180, true],
      [181, false],
    ])('last purchase %i days ago → %s', (days, expected) => {
      expect(matches({ preset: 'atRisk' }, aMember({ lastPurchaseAt: daysAgo(days) }), { now })).toBe(
        expected,
      );
    });

    it('expands to a days-ago range', () => {
      expect(expandPreset({ node: preset({ preset: 'atRisk', params: { moreThanDays: 45 } }) })).toEqual({
        lastPurchaseAt: { daysAgoBetween: [46, 180] },
      });
    });
  });

  describe('lapsed', () => {
    it.each<[string, Parameters<typeof aMember>[0], boolean]>([
      ['bought 181 days ago', { lastPurchaseAt: daysAgo(181) }, true],
      ['bought 180 days ago', { lastPurchaseAt: daysAgo(180) }, false],
      ['never bought, joined 200 days ago', { joinedAt: daysAgo(200) }, true],
      ['never bought, joined 20 days ago', { joinedAt: daysAgo(20) }, false],
      ['bought recently, joined long ago', { joinedAt: daysAgo(900), lastPurchaseAt: daysAgo(3) }, false],
      ['no dates at all', {}, false],
    ])('%s → %s', (_, fields, expected) => {
      expect(matches({ preset: 'lapsed' }, aMember(fields), { now })).toBe(expected);
    });

    it('never overlaps at risk, which ends where lapsed begins', () => {
      for (const days of [59, 60, 61, 179, 180, 181, 182]) {
        const member = aMember({ lastPurchaseAt: daysAgo(days) });
        const both =
          matches({ preset: 'atRisk' }, member, { now }) && matches({ preset: 'lapsed' }, member, { now });
        expect(both).toBe(false);
      }
    });
  });

  describe('highValue', () => {
    it('spent 5000 or bought 10 times by default', () => {
      expect(matches({ preset: 'highValue' }, aMember({ totalSpend: 5000 }))).toBe(true);
      expect(matches({ preset: 'highValue' }, aMember({ totalSpend: 4999.99, purchaseCount: 9 }))).toBe(
        false,
      );
      expect(matches({ preset: 'highValue' }, aMember({ purchaseCount: 10 }))).toBe(true);
    });

    it('leaves out a criterion set to null', () => {
      const spendOnly = { preset: 'highValue', params: { minTotalSpend: 8000, minPurchaseCount: null } };
      expect(matches(spendOnly, aMember({ purchaseCount: 500 }))).toBe(false);
      expect(expandPreset({ node: preset(spendOnly) })).toEqual({ totalSpend: { gte: 8000 } });
    });
  });

  it('combine with other conditions', () => {
    const vipAtRisk = { and: [{ preset: 'atRisk' }, { tags: { any: ['vip'] } }] };
    expect(matches(vipAtRisk, aMember({ tags: ['vip'], lastPurchaseAt: daysAgo(100) }), { now })).toBe(true);
    expect(matches(vipAtRisk, aMember({ tags: [], lastPurchaseAt: daysAgo(100) }), { now })).toBe(false);
  });

  it('expandPresets shows what a definition means without presets', () => {
    const definition = parseSegmentDefinition({
      input: { not: { or: [{ preset: 'active' }, { has: 'tier' }] } },
    });
    expect(expandPresets({ definition })).toEqual({
      not: { or: [{ lastPurchaseAt: { withinLastDays: 30 } }, { has: 'tier' }] },
    });
  });
});
