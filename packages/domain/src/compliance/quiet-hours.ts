import * as z from 'zod';
import { instantToWallTime, isTimeZone, offsetAt } from '../shared/time-zones';

// Quiet hours, told the other way round: the send window, the hours of the recipient's wall
// clock in which marketing may leave (ARCHITECTURE.md invariant 4). The sender asks at claim
// time, in the member's IANA zone (else the tenant's), with the clock it is given.

const minuteMs = 60_000;
const dayMs = 86_400_000;
const dayMinutes = 24 * 60;

/** `HH:MM` on a 24-hour clock; `24:00` is allowed as an end (the window runs to midnight). */
const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a time of day as HH:MM, e.g. 09:00 or 20:30');

/**
 * The hours in which marketing may be sent, on the recipient's wall clock: from `start`
 * (included) to `end` (excluded). A window whose end is before its start crosses midnight
 * (`20:00`–`02:00` is open in the evening and the early morning). `00:00`–`24:00` is always open.
 */
export const sendWindow = z
  .strictObject({ start: clockTime, end: clockTime })
  .refine((window) => window.start !== '24:00', {
    path: ['start'],
    message: 'a window cannot start at 24:00',
  })
  .refine(
    (window) => minutesOf(window.start) !== minutesOf(window.end) % dayMinutes || window.end === '24:00',
    {
      path: ['end'],
      message: 'the window must not end when it starts; use 00:00–24:00 for all day',
    },
  );
export type SendWindow = z.infer<typeof sendWindow>;

/** The default window of a tenant: 09:00–20:00 in its (or its member's) time zone. */
export const defaultSendWindow: SendWindow = { start: '09:00', end: '20:00' };

export type SendWindowCheck = { readonly open: true } | { readonly open: false; readonly opensAt: string };

function minutesOf(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/** Whether minute-of-day `minute` lies in the window (`end` 24:00 counts as 1440). */
function inWindow(minute: number, start: number, end: number): boolean {
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/**
 * The zone a member's wall clock is read in: their own when they have one the runtime knows,
 * else the tenant's. A bad zone on one record must not stop a campaign, so it falls back.
 */
export function recipientTimeZone({
  memberTimeZone,
  tenantTimeZone,
}: {
  memberTimeZone?: string | undefined;
  tenantTimeZone: string;
}): string {
  return memberTimeZone !== undefined && isTimeZone(memberTimeZone) ? memberTimeZone : tenantTimeZone;
}

/**
 * Whether the window is open at `now` on the wall clock of `timeZone`; when it is closed, the
 * instant it next opens.
 *
 * Daylight saving, read off the wall clock as a person would:
 * - Spring forward: a start that does not exist that day (02:30 in America/New_York on the
 *   second Sunday of March) opens at the next minute that does, the first minute after the
 *   gap (03:00 EDT), not an hour later and never before the gap.
 * - Fall back: a start in the repeated hour opens at its first occurrence. Open or closed is
 *   judged by what the wall clock shows, so a window that contains the repeated hour is open
 *   through both passes of it.
 */
export function sendWindowCheck({
  now,
  window,
  timeZone,
}: {
  now: Date;
  window: SendWindow;
  timeZone: string;
}): SendWindowCheck {
  const instant = now.getTime();
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  const wall = instantToWallTime(instant, timeZone);
  const today = Math.floor(wall / dayMs);
  const minute = Math.floor((wall - today * dayMs) / minuteMs);
  if (inWindow(minute, start, end)) return { open: true };
  // Closed: before today's start (an evening window, or the morning before a day window), or
  // after today's end, when the window opens tomorrow.
  const day = minute < start ? today : today + 1;
  const opensAt = firstInstantShowing({ wall: day * dayMs + start * minuteMs, after: instant, timeZone });
  return { open: false, opensAt: new Date(opensAt).toISOString() };
}

/**
 * The first instant after `after` at which the wall clock of `timeZone` shows `wall` (a wall
 * time written as if it were UTC), or, when that wall time is skipped by a daylight-saving
 * gap, the first instant after the gap.
 */
export function firstInstantShowing({
  wall,
  after,
  timeZone,
}: {
  wall: number;
  after: number;
  timeZone: string;
}): number {
  // Each offset in force around that wall time gives one candidate instant; a candidate is
  // real when the zone's clock shows `wall` at it. Two real ones: the repeated hour of a
  // fall back. None: a spring-forward gap. (Zones change offset at most once a day or so.)
  const offsets = new Set([
    offsetAt(wall - dayMs, timeZone),
    offsetAt(wall, timeZone),
    offsetAt(wall + dayMs, timeZone),
  ]);
  const candidates = [...offsets].map((offset) => wall - offset).sort((a, b) => a - b);
  const real = candidates.filter((c) => c > after && instantToWallTime(c, timeZone) === wall);
  const first = real[0];
  if (first !== undefined) return first;
  // In a gap the clock jumps from before `wall` to after it: find the jump, to the second,
  // between the earliest and the latest candidate (the clock only rises between them).
  let low = Math.max(candidates[0] ?? wall, after);
  let high = candidates.at(-1) ?? wall;
  if (instantToWallTime(low, timeZone) >= wall) return low;
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (instantToWallTime(middle, timeZone) >= wall) high = middle;
    else low = middle;
  }
  return high;
}
