import { describe, expect, it } from 'vitest';
import { aMember, matches } from './support';

// What each kind of condition matches. Dates and birthdays have their own specification
// (dates.test.ts); the compiler is also checked against a reference evaluator (property.test.ts).

describe('compileSegment', () => {
  describe('tags', () => {
    const member = aMember({ tags: ['vip', 'coffee'] });

    it.each<[unknown, boolean]>([
      [{ any: ['vip', 'tea'] }, true],
      [{ any: ['tea'] }, false],
      [{ all: ['vip', 'coffee'] }, true],
      [{ all: ['vip', 'tea'] }, false],
      [{ none: ['staff'] }, true],
      [{ none: ['staff', 'coffee'] }, false],
      [{ any: ['vip'], none: ['coffee'] }, false],
      [{ any: ['VIP'] }, false],
    ])('%j → %s', (tags, expected) => {
      expect(matches({ tags }, member)).toBe(expected);
    });

    it('a member without tags matches only none', () => {
      expect(matches({ tags: { any: ['vip'] } }, aMember())).toBe(false);
      expect(matches({ tags: { none: ['vip'] } }, aMember())).toBe(true);
    });
  });

  describe('tier, store, gender and consent', () => {
    it('match a list with in and exclude it with notIn', () => {
      const gold = aMember({ tier: 'gold', store: 'SH-01' });
      expect(matches({ tier: { in: ['gold', 'platinum'] } }, gold)).toBe(true);
      expect(matches({ tier: { notIn: ['gold'] } }, gold)).toBe(false);
      expect(matches({ store: { in: ['SH-02'] } }, gold)).toBe(false);
      expect(matches({ store: { in: ['SH-01'], notIn: ['SH-01'] } }, gold)).toBe(false);
    });

    it('a member without a tier is in no list, so notIn matches them', () => {
      expect(matches({ tier: { in: ['gold'] } }, aMember())).toBe(false);
      expect(matches({ tier: { notIn: ['gold'] } }, aMember())).toBe(true);
    });

    it('reads a missing gender as unknown', () => {
      expect(matches({ gender: { in: ['unknown'] } }, aMember())).toBe(true);
      expect(matches({ gender: { in: ['female'] } }, aMember({ gender: 'female' }))).toBe(true);
      expect(matches({ gender: { notIn: ['female'] } }, aMember({ gender: 'male' }))).toBe(true);
    });

    it('reads the consent status', () => {
      const denied = aMember({
        consent: { status: 'denied', at: '2024-05-01T00:00:00Z', source: 'sms-reply' },
      });
      expect(matches({ consent: { in: ['granted'] } }, denied)).toBe(false);
      expect(matches({ consent: { in: ['denied', 'unknown'] } }, denied)).toBe(true);
    });
  });

  describe('numbers', () => {
    const member = aMember({ points: 100, totalSpend: 2999.5, purchaseCount: 3 });

    it.each<[unknown, boolean]>([
      [{ points: { gt: 100 } }, false],
      [{ points: { gte: 100 } }, true],
      [{ points: { lt: 100 } }, false],
      [{ points: { lte: 100 } }, true],
      [{ points: { eq: 100 } }, true],
      [{ points: { between: [100, 100] } }, true],
      [{ points: { between: [0, 99] } }, false],
      [{ points: { gte: 50, lt: 100 } }, false],
      [{ points: { gt: 99, lte: 100 } }, true],
      [{ points: { gte: 0, gt: 100 } }, false],
      [{ totalSpend: { gte: 2999.5 } }, true],
      [{ totalSpend: { gt: 2999.5 } }, false],
      [{ purchaseCount: { between: [1, 5] } }, true],
    ])('%j → %s', (definition, expected) => {
      expect(matches(definition, member)).toBe(expected);
    });

    it('reads a counter the member has no record of as zero', () => {
      expect(matches({ points: { eq: 0 } }, aMember())).toBe(true);
      expect(matches({ purchaseCount: { lt: 1 } }, aMember())).toBe(true);
      expect(matches({ totalSpend: { gt: 0 } }, aMember())).toBe(false);
    });
  });

  describe('custom attributes', () => {
    const member = aMember({
      attributes: {
        city: '上海',
        shoeSize: 42,
        hasCar: true,
        note: 'likes green tea',
        renewsOn: '2025-03-20',
      },
    });

    it.each<[unknown, boolean]>([
      [{ name: 'city', type: 'string', equals: '上海' }, true],
      [{ name: 'city', type: 'string', in: ['北京', '杭州'] }, false],
      [{ name: 'note', type: 'string', contains: 'green' }, true],
      [{ name: 'note', type: 'string', contains: 'Green' }, false],
      [{ name: 'shoeSize', type: 'number', gte: 42 }, true],
      [{ name: 'shoeSize', type: 'number', between: [36, 41] }, false],
      [{ name: 'hasCar', type: 'boolean', is: true }, true],
      [{ name: 'hasCar', type: 'boolean', is: false }, false],
      [{ name: 'renewsOn', type: 'date', withinNextDays: 10 }, true],
      [{ name: 'renewsOn', type: 'date', withinNextDays: 9 }, false],
      [{ name: 'renewsOn', type: 'date', after: '2025-03-19', before: '2025-03-21' }, true],
    ])('%j → %s', (attribute, expected) => {
      expect(matches({ attribute }, member)).toBe(expected);
    });

    it('a missing attribute, or one of another type, does not match (and its negation does)', () => {
      expect(matches({ attribute: { name: 'age', type: 'number', gte: 0 } }, member)).toBe(false);
      expect(matches({ attribute: { name: 'city', type: 'number', gte: 0 } }, member)).toBe(false);
      expect(matches({ attribute: { name: 'shoeSize', type: 'string', equals: '42' } }, member)).toBe(false);
      expect(matches({ attribute: { name: 'note', type: 'date', before: '2100-01-01' } }, member)).toBe(
        false,
      );
      expect(matches({ not: { attribute: { name: 'age', type: 'number', gte: 0 } } }, member)).toBe(true);
    });

    it('reads an attribute time with an offset as a day in the member’s zone', () => {
      // 2025-03-09 23:30 in Shanghai is 15:30 UTC: the day is the 9th, yesterday at "now".
      const late = aMember({ attributes: { visitedAt: '2025-03-09T15:30:00Z' } });
      expect(matches({ attribute: { name: 'visitedAt', type: 'date', on: '2025-03-09' } }, late)).toBe(true);
      expect(matches({ attribute: { name: 'visitedAt', type: 'date', withinLastDays: 0 } }, late)).toBe(
        false,
      );
      expect(matches({ attribute: { name: 'visitedAt', type: 'date', withinLastDays: 1 } }, late)).toBe(true);
    });

    it('reads an attribute time without an offset as the day written', () => {
      const written = aMember({ attributes: { visitedAt: '2025-03-09T23:30' } });
      expect(matches({ attribute: { name: 'visitedAt', type: 'date', on: '2025-03-09' } }, written)).toBe(
        true,
      );
    });
  });

  describe('presence', () => {
    const member = aMember({ birthday: { month: 5, day: 1 }, tags: ['vip'], attributes: { city: '上海' } });

    it.each<[unknown, boolean]>([
      [{ has: 'birthday' }, true],
      [{ missing: 'birthday' }, false],
      [{ has: 'lastPurchaseAt' }, false],
      [{ missing: 'lastPurchaseAt' }, true],
      [{ has: 'tags' }, true],
      [{ has: 'attributes.city' }, true],
      [{ has: 'attributes.shoeSize' }, false],
      [{ has: 'attributes.constructor' }, false],
    ])('%j → %s', (definition, expected) => {
      expect(matches(definition, member)).toBe(expected);
    });

    it('counts a member with no tags as missing them', () => {
      expect(matches({ missing: 'tags' }, aMember())).toBe(true);
    });
  });

  describe('and / or / not', () => {
    const vip = { tags: { any: ['vip'] } };
    const gold = { tier: { in: ['gold'] } };
    const member = aMember({ tags: ['vip'], tier: 'silver' });

    it.each<[unknown, boolean]>([
      [{ and: [vip] }, true],
      [{ and: [vip, gold] }, false],
      [{ or: [gold, vip] }, true],
      [{ or: [gold, gold, gold, gold] }, false],
      [{ and: [vip, vip, vip, { not: gold }] }, true],
      [{ not: { and: [vip, gold] } }, true],
      [{ not: { not: vip } }, true],
    ])('%j → %s', (definition, expected) => {
      expect(matches(definition, member)).toBe(expected);
    });
  });
});
