import { describe, expect, it } from 'vitest';
import { dayOfIsoDate, ZoneCalendar } from '../../../packages/domain/src/segments/calendar';
import { aMember, matches } from './support';

// Relative and absolute dates, read on the member's wall clock (the tenant's when the member
// has none). "Days ago" counts calendar days: yesterday at 23:59 was 1 day ago.

// 2025-03-10 12:00 in Shanghai (the tenant's zone in these specs).
const now = '2025-03-10T04:00:00Z';

describe('compileSegment: dates', () => {
  describe('last purchase more than 60 days ago', () => {
    const definition = { lastPurchaseAt: { moreThanDaysAgo: 60 } };

    it.each<[string, string, boolean]>([
      ['2025-01-08T15:59:59Z', 'the 8 January, 61 days ago, at 23:59:59 in Shanghai', true],
      ['2025-01-08T16:00:00Z', 'the 9 January, 60 days ago, at 00:00 in Shanghai', false],
      ['2025-01-09T00:00:00+08:00', 'the same instant written with an offset', false],
      ['2025-01-08T23:59:59.999+08:00', 'the last millisecond of the 8th', true],
      ['2024-06-01T00:00:00.000Z', 'last year', true],
    ])('%s (%s) → %s', (lastPurchaseAt, _, expected) => {
      expect(matches(definition, aMember({ lastPurchaseAt }), { now })).toBe(expected);
    });

    it('a member who never bought does not match (and its negation does)', () => {
      expect(matches(definition, aMember(), { now })).toBe(false);
      expect(matches({ not: definition }, aMember(), { now })).toBe(true);
    });
  });

  describe('joined within 30 days', () => {
    const definition = { joinedAt: { withinLastDays: 30 } };

    it.each<[string, boolean]>([
      ['2025-02-07T16:00:00Z', true], // 8 February 00:00 in Shanghai: 30 days ago
      ['2025-02-07T15:59:59Z', false], // 7 February 23:59:59: 31 days ago
      ['2025-03-10T03:59:00Z', true], // today
    ])('%s → %s', (joinedAt, expected) => {
      expect(matches(definition, aMember({ joinedAt }), { now })).toBe(expected);
    });
  });

  it('first purchase between 60 and 90 days ago', () => {
    const definition = { firstPurchaseAt: { daysAgoBetween: [60, 90] } };
    expect(matches(definition, aMember({ firstPurchaseAt: '2025-01-09T10:00:00+08:00' }), { now })).toBe(
      true,
    );
    expect(matches(definition, aMember({ firstPurchaseAt: '2024-12-10T10:00:00+08:00' }), { now })).toBe(
      true,
    );
    expect(matches(definition, aMember({ firstPurchaseAt: '2024-12-09T10:00:00+08:00' }), { now })).toBe(
      false,
    );
    expect(matches(definition, aMember({ firstPurchaseAt: '2025-01-10T10:00:00+08:00' }), { now })).toBe(
      false,
    );
  });

  describe('absolute dates compare the day in the member’s zone', () => {
    // 31 December 2024 at 20:00 UTC is already 1 January 2025 in Shanghai.
    const member = aMember({ joinedAt: '2024-12-31T20:00:00Z' });

    it.each<[unknown, boolean]>([
      [{ on: '2025-01-01' }, true],
      [{ before: '2025-01-01' }, false],
      [{ after: '2024-12-31' }, true],
      [{ after: '2025-01-01' }, false],
      [{ between: ['2025-01-01', '2025-01-31'] }, true],
      [{ between: ['2024-12-01', '2024-12-31'] }, false],
    ])('%j → %s', (joinedAt, expected) => {
      expect(matches({ joinedAt }, member, { now })).toBe(expected);
    });

    it('and in UTC for a tenant there', () => {
      expect(matches({ joinedAt: { on: '2024-12-31' } }, member, { now, tenantTimeZone: 'UTC' })).toBe(true);
    });
  });

  describe('the day boundary is the member’s own', () => {
    // At 04:00 UTC on 10 March it is noon in Shanghai but 21:00 on 9 March in Los Angeles.
    const purchase = '2025-03-09T10:00:00Z'; // 18:00 on the 9th in Shanghai, 03:00 on the 9th in LA
    const today = { lastPurchaseAt: { withinLastDays: 0 } };

    it('a member in Los Angeles bought today', () => {
      const member = aMember({ lastPurchaseAt: purchase, timeZone: 'America/Los_Angeles' });
      expect(matches(today, member, { now })).toBe(true);
    });

    it('a member in the tenant’s zone bought yesterday', () => {
      expect(matches(today, aMember({ lastPurchaseAt: purchase }), { now })).toBe(false);
      expect(matches(today, aMember({ lastPurchaseAt: purchase, timeZone: 'Asia/Shanghai' }), { now })).toBe(
        false,
      );
    });

    it('a zone the runtime does not know reads as the tenant’s', () => {
      const member = aMember({ lastPurchaseAt: purchase, timeZone: 'Mars/Olympus_Mons' });
      expect(matches(today, member, { now })).toBe(false);
    });

    it('counts the day clocks spring forward as one day', () => {
      // New York moved to daylight time on 9 March 2025: that day had 23 hours.
      const noonInNewYork = '2025-03-10T16:00:00Z';
      const yesterday = { lastPurchaseAt: { withinLastDays: 1 } };
      const at = (lastPurchaseAt: string) => aMember({ lastPurchaseAt, timeZone: 'America/New_York' });
      expect(matches(yesterday, at('2025-03-09T05:00:00Z'), { now: noonInNewYork })).toBe(true); // 9th 00:00 EST
      expect(matches(yesterday, at('2025-03-09T04:59:59Z'), { now: noonInNewYork })).toBe(false); // 8th 23:59:59
    });

    it('ends the day clocks spring forward after 23 hours', () => {
      // 00:30 on 10 March in New York (EDT) is 23.5 hours after 9 March began (EST).
      const member = aMember({ lastPurchaseAt: '2025-03-10T04:30:00Z', timeZone: 'America/New_York' });
      expect(matches({ lastPurchaseAt: { on: '2025-03-09' } }, member, { now })).toBe(false);
      expect(matches({ lastPurchaseAt: { on: '2025-03-10' } }, member, { now })).toBe(true);
    });
  });

  describe('ZoneCalendar.startOf', () => {
    it('finds the first instant of a day whose midnight is skipped', () => {
      // Santiago moved from 00:00 to 01:00 on 8 September 2024: the day began at 01:00 (−03).
      const calendar = new ZoneCalendar({
        timeZone: 'America/Santiago',
        now: Date.parse('2024-09-08T12:00:00Z'),
      });
      expect(new Date(calendar.startOf(dayOfIsoDate('2024-09-08'))).toISOString()).toBe(
        '2024-09-08T04:00:00.000Z',
      );
    });

    it('finds the first instant of a day whose midnight is repeated', () => {
      // Santiago moved from 00:00 back to 23:00 on 6 April 2025: the 6th began at the second 00:00 (−04).
      const calendar = new ZoneCalendar({
        timeZone: 'America/Santiago',
        now: Date.parse('2025-04-06T12:00:00Z'),
      });
      expect(new Date(calendar.startOf(dayOfIsoDate('2025-04-06'))).toISOString()).toBe(
        '2025-04-06T04:00:00.000Z',
      );
    });
  });
});

describe('compileSegment: birthdays', () => {
  const born = (month: number, day: number, fields = {}) => aMember({ birthday: { month, day }, ...fields });
  const soon = (days: number) => ({ birthday: { withinNextDays: days } });

  describe('within the next 7 days, on 28 December', () => {
    const at = { now: '2024-12-28T02:00:00Z' }; // 10:00 in Shanghai

    it.each<[number, number, boolean]>([
      [12, 27, false], // yesterday: next celebrated in a year
      [12, 28, true], // today
      [12, 31, true],
      [1, 1, true], // across the year boundary
      [1, 4, true], // today + 7
      [1, 5, false], // today + 8
    ])('%i/%i → %s', (month, day, expected) => {
      expect(matches(soon(7), born(month, day), at)).toBe(expected);
    });

    it('withinNextDays 0 is today only', () => {
      expect(matches(soon(0), born(12, 28), at)).toBe(true);
      expect(matches(soon(0), born(12, 29), at)).toBe(false);
    });
  });

  describe('29 February', () => {
    const leapling = born(2, 29);

    it('is celebrated on 28 February in a year without a 29 February', () => {
      expect(matches(soon(0), leapling, { now: '2025-02-28T04:00:00Z' })).toBe(true);
      expect(matches(soon(1), leapling, { now: '2025-02-27T04:00:00Z' })).toBe(true);
      expect(matches(soon(0), leapling, { now: '2025-02-27T04:00:00Z' })).toBe(false);
      expect(matches(soon(0), leapling, { now: '2025-03-01T04:00:00Z' })).toBe(false);
    });

    it('is celebrated on 29 February in a leap year, not the day before', () => {
      expect(matches(soon(0), leapling, { now: '2024-02-28T04:00:00Z' })).toBe(false);
      expect(matches(soon(1), leapling, { now: '2024-02-28T04:00:00Z' })).toBe(true);
      expect(matches(soon(0), leapling, { now: '2024-02-29T04:00:00Z' })).toBe(true);
    });

    it('leaves 28 February birthdays on 28 February', () => {
      expect(matches(soon(0), born(2, 28), { now: '2025-02-28T04:00:00Z' })).toBe(true);
      expect(matches(soon(0), born(2, 28), { now: '2024-02-29T04:00:00Z' })).toBe(false);
    });

    it('follows the calendar of the year the window reaches', () => {
      // From 31 December: + 59 days is 28 February 2025 (no 29th) but 28 February 2028 (a 29th follows).
      expect(matches(soon(59), leapling, { now: '2024-12-31T04:00:00Z' })).toBe(true);
      expect(matches(soon(58), leapling, { now: '2024-12-31T04:00:00Z' })).toBe(false);
      expect(matches(soon(59), leapling, { now: '2027-12-31T04:00:00Z' })).toBe(false);
      expect(matches(soon(60), leapling, { now: '2027-12-31T04:00:00Z' })).toBe(true);
    });

    it('is in February for "this month"', () => {
      expect(matches({ birthday: { thisMonth: true } }, leapling, { now: '2025-02-10T04:00:00Z' })).toBe(
        true,
      );
    });
  });

  describe('this month', () => {
    // 1 April 00:30 in Shanghai, still 31 March 17:30 in London.
    const at = { now: '2025-03-31T16:30:00Z' };
    const thisMonth = { birthday: { thisMonth: true } };

    it('is the month on the member’s wall clock', () => {
      expect(matches(thisMonth, born(4, 20), at)).toBe(true);
      expect(matches(thisMonth, born(3, 20), at)).toBe(false);
      expect(matches(thisMonth, born(3, 20, { timeZone: 'Europe/London' }), at)).toBe(true);
    });
  });

  it('matches a list of months', () => {
    const winter = { birthday: { months: [12, 1, 2] } };
    expect(matches(winter, born(1, 15))).toBe(true);
    expect(matches(winter, born(3, 1))).toBe(false);
  });

  it('today is the member’s today', () => {
    // 20:00 UTC on 10 March: 04:00 on the 11th in Shanghai, 16:00 on the 10th in New York.
    const at = { now: '2025-03-10T20:00:00Z' };
    expect(matches(soon(0), born(3, 10), at)).toBe(false);
    expect(matches(soon(0), born(3, 10, { timeZone: 'America/New_York' }), at)).toBe(true);
  });

  it('a member without a birthday matches no birthday condition', () => {
    expect(matches(soon(366), aMember())).toBe(false);
    expect(matches({ birthday: { months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] } }, aMember())).toBe(false);
  });

  it('a year-long window matches every birthday', () => {
    expect(matches(soon(365), born(3, 9), { now })).toBe(true);
  });
});
