import { isLeapYear } from '../members/member';
import { instantToWallTime, isTimeZone, wallTimeToInstant } from '../shared/time-zones';

// Calendar days in IANA zones for the compiler. A day is a number: days since 1970-01-01 on
// the zone's wall clock. Everything a condition needs (today, the instant a day starts) is
// computed once per zone and cached, so evaluating a member compares numbers only.

export const dayMs = 86_400_000;
const hourMs = 3_600_000;

/** The calendar day of an ISO date `YYYY-MM-DD`. */
export function dayOfIsoDate(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / dayMs;
}

/** `YYYY-MM-DD` of a calendar day (years 0–9999). */
export function isoDateOfDay(day: number): string {
  return new Date(day * dayMs).toISOString().slice(0, 10);
}

/** The calendar day, in `timeZone`, of an instant. */
export function localDay(instant: number, timeZone: string): number {
  return Math.floor(instantToWallTime(instant, timeZone) / dayMs);
}

/** What the compiler reads about one zone: today, and when a given day begins there. */
export class ZoneCalendar {
  readonly timeZone: string;
  readonly today: number;
  /** 1–12. */
  readonly month: number;
  private readonly starts = new Map<number, number>();

  constructor({ timeZone, now }: { timeZone: string; now: number }) {
    this.timeZone = timeZone;
    this.today = localDay(now, timeZone);
    this.month = new Date(this.today * dayMs).getUTCMonth() + 1;
  }

  /** The first instant of `day` in this zone (daylight saving included). */
  startOf(day: number): number {
    let start = this.starts.get(day);
    if (start === undefined) {
      start = startOfLocalDay(day, this.timeZone);
      this.starts.set(day, start);
    }
    return start;
  }
}

function startOfLocalDay(day: number, timeZone: string): number {
  const midnight = day * dayMs;
  const guess = wallTimeToInstant(midnight, timeZone);
  if (localDay(guess, timeZone) === day && localDay(guess - 1000, timeZone) < day) return guess;
  // A few zones move their clocks at midnight (America/Santiago, Asia/Beirut …): midnight is
  // skipped or repeated, so search the whole seconds around it for the first one of the day.
  // Offsets lie within −12 h … +14 h, so the day starts within (midnight − 15 h, midnight + 13 h].
  let before = midnight - 15 * hourMs;
  let from = midnight + 13 * hourMs;
  while (from - before > 1000) {
    const middle = before + Math.floor((from - before) / 2000) * 1000;
    if (localDay(middle, timeZone) >= day) from = middle;
    else before = middle;
  }
  return from;
}

/**
 * Hands each member the calendar of their zone: the tenant's, unless the member has a zone of
 * their own. A zone the runtime does not know falls back to the tenant's, so one bad record
 * cannot abort an audience.
 */
export class Calendars {
  readonly tenant: ZoneCalendar;
  private readonly now: number;
  private readonly zones = new Map<string, ZoneCalendar>();

  constructor({ tenantTimeZone, now }: { tenantTimeZone: string; now: number }) {
    this.now = now;
    this.tenant = new ZoneCalendar({ timeZone: tenantTimeZone, now });
  }

  of(timeZone: string | undefined): ZoneCalendar {
    if (timeZone === undefined || timeZone === this.tenant.timeZone) return this.tenant;
    let calendar = this.zones.get(timeZone);
    if (calendar === undefined) {
      calendar = isTimeZone(timeZone) ? new ZoneCalendar({ timeZone, now: this.now }) : this.tenant;
      this.zones.set(timeZone, calendar);
    }
    return calendar;
  }

  /**
   * A value derived from a zone's calendar, computed once per zone: the tenant's eagerly (most
   * members have no zone of their own), others when a member first needs them.
   */
  perZone<T>(derive: (calendar: ZoneCalendar) => T): (timeZone: string | undefined) => T {
    const tenantValue = derive(this.tenant);
    const values = new Map<string, T>();
    return (timeZone) => {
      if (timeZone === undefined || timeZone === this.tenant.timeZone) return tenantValue;
      let value = values.get(timeZone);
      if (value === undefined) {
        value = derive(this.of(timeZone));
        values.set(timeZone, value);
      }
      return value;
    };
  }
}

/** Month × 100 + day: how birthdays are compared. */
export function birthdayKey(month: number, day: number): number {
  return month * 100 + day;
}

/**
 * The birthdays celebrated on days `from` … `to`. A 29 February birthday is celebrated on
 * 28 February in a year without a 29 February, so that day also celebrates 29 February.
 */
export function birthdaysCelebrated(from: number, to: number): Set<number> {
  const keys = new Set<number>();
  for (let day = from; day <= to; day++) {
    const date = new Date(day * dayMs);
    const month = date.getUTCMonth() + 1;
    const dayOfMonth = date.getUTCDate();
    keys.add(birthdayKey(month, dayOfMonth));
    if (month === 2 && dayOfMonth === 28 && !isLeapYear(date.getUTCFullYear())) keys.add(birthdayKey(2, 29));
  }
  return keys;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  return (
    era * 146_097 +
    yearOfEra * 365 +
    Math.floor(yearOfEra / 4) -
    Math.floor(yearOfEra / 100) +
    dayOfYear -
    719_468
  );
}

function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * `Date.parse` for the ISO forms members are stored with (`2024-01-05T10:00:00.000Z`,
 * `2024-01-05T18:00:00+08:00`), at a fifth of its cost: the compiler parses one timestamp per
 * member and condition. Anything else goes to `Date.parse`, so the answer is always the same.
 */
export function parseInstant(text: string): number {
  const length = text.length;
  if (
    length >= 17 &&
    text.charCodeAt(4) === 45 &&
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 84 &&
    text.charCodeAt(13) === 58
  ) {
    const year = digitsAt(text, 0, 4);
    const month = digitsAt(text, 5, 2);
    const day = digitsAt(text, 8, 2);
    const hour = digitsAt(text, 11, 2);
    const minute = digitsAt(text, 14, 2);
    let second = 0;
    let millis = 0;
    let i = 16;
    if (text.charCodeAt(i) === 58) {
      second = digitsAt(text, 17, 2);
      i = 19;
      if (text.charCodeAt(i) === 46) {
        i += 1;
        const start = i;
        // Date.parse keeps milliseconds and drops finer digits.
        for (let digit = text.charCodeAt(i) - 48; digit >= 0 && digit <= 9; digit = text.charCodeAt(i) - 48) {
          if (i - start < 3) millis += digit * 10 ** (2 - (i - start));
          i += 1;
        }
        if (i === start) return Date.parse(text);
      }
    }
    const sign = text.charCodeAt(i);
    let offset = Number.NaN;
    if (sign === 90 && i + 1 === length) offset = 0;
    else if ((sign === 43 || sign === 45) && i + 6 === length && text.charCodeAt(i + 3) === 58) {
      const hours = digitsAt(text, i + 1, 2);
      const minutes = digitsAt(text, i + 4, 2);
      if (hours <= 23 && minutes <= 59) offset = (sign === 45 ? -1 : 1) * (hours * 60 + minutes) * 60_000;
    }
    if (
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 31 &&
      hour <= 23 &&
      minute <= 59 &&
      second <= 59 &&
      !Number.isNaN(year + offset)
    ) {
      return (
        daysFromCivil(year, month, day) * dayMs +
        hour * 3_600_000 +
        minute * 60_000 +
        second * 1000 +
        millis -
        offset
      );
    }
  }
  return Date.parse(text);
}
