import * as z from 'zod';

// Wall-clock arithmetic in IANA time zones with the runtime's own tz database (Intl), so no
// time-zone data is bundled. Quiet hours, birthdays, daily caps and schedules all read time here.

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const ianaTimeZone = z.string().refine(isTimeZone, 'an IANA time zone such as Asia/Shanghai');

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let cached = formatters.get(timeZone);
  if (!cached) {
    cached = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, cached);
  }
  return cached;
}

/** The wall clock of `timeZone` at `instant`, as if it were a UTC instant (milliseconds dropped). */
export function instantToWallTime(instant: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(instant));
  const part = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
}

/** Milliseconds by which `timeZone` is ahead of UTC at `instant`. */
export function offsetAt(instant: number, timeZone: string): number {
  return instantToWallTime(instant, timeZone) - Math.floor(instant / 1000) * 1000;
}

/** The instant at which the wall clock of `timeZone` shows `wall` (given as if it were UTC). */
export function wallTimeToInstant(wall: number, timeZone: string): number {
  const first = wall - offsetAt(wall, timeZone);
  return wall - offsetAt(first, timeZone);
}
