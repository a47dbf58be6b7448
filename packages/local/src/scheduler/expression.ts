import { isTimeZone, offsetAt, wallTimeToInstant } from '@qunfa/domain';
import { Cron } from 'croner';

// EventBridge Scheduler's schedule expressions, read the way the service reads them
// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):
// - at(yyyy-mm-ddThh:mm:ss): once, at that wall-clock time in the schedule's time zone;
// - cron(min hour dom month dow year): 1–7 = SUN–SAT, exactly one of dom/dow is `?`;
// - rate(n minutes|hours|days): every n units from StartDate (or creation).
// Daylight saving time as the service documents it: a cron time that does not exist on the
// spring-forward day is skipped, and a time that occurs twice in the fall runs once.
// This reading is independent of packages/aws (the adapter under test), on purpose; only
// the wall-clock arithmetic (@qunfa/domain time-zones) is shared.

export class InvalidExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidExpressionError';
  }
}

export type ParsedExpression =
  | { readonly kind: 'at'; readonly at: number }
  | { readonly kind: 'cron'; readonly cron: Cron; readonly timeZone: string }
  | { readonly kind: 'rate'; readonly periodMs: number };

export function parseScheduleExpression(expression: string, timeZone: string): ParsedExpression {
  if (!isTimeZone(timeZone))
    throw new InvalidExpressionError(`Invalid ScheduleExpressionTimezone: ${timeZone}.`);
  const text = expression.trim();
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(text);
  if (at) {
    const [year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0] = at.slice(1).map(Number);
    const wall = Date.UTC(year, month - 1, day, hour, minute, second);
    const check = new Date(wall);
    if (
      check.getUTCMonth() !== month - 1 ||
      check.getUTCDate() !== day ||
      hour > 23 ||
      minute > 59 ||
      second > 59
    ) {
      throw new InvalidExpressionError(`Invalid Schedule Expression ${expression}: no such date and time.`);
    }
    return { kind: 'at', at: wallTimeToInstant(wall, timeZone) };
  }
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(text);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]?.replace(/s$/, '');
    if (value < 1 || (value === 1) !== (unit === rate[2])) {
      throw new InvalidExpressionError(
        `Invalid Schedule Expression ${expression}: use "1 minute" or "n minutes".`,
      );
    }
    const unitMs = unit === 'minute' ? 60_000 : unit === 'hour' ? 3_600_000 : 86_400_000;
    return { kind: 'rate', periodMs: value * unitMs };
  }
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron) return { kind: 'cron', cron: parseCron(cron[1] ?? '', expression, timeZone), timeZone };
  throw new InvalidExpressionError(
    `Invalid Schedule Expression ${expression}: use at(yyyy-mm-ddThh:mm:ss), cron(...) or rate(...).`,
  );
}

function parseCron(inner: string, expression: string, timeZone: string): Cron {
  const fields = inner.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new InvalidExpressionError(
      `Invalid Schedule Expression ${expression}: cron takes six fields: minutes hours day-of-month month day-of-week year.`,
    );
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek, year] = fields;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new InvalidExpressionError(
      `Invalid Schedule Expression ${expression}: exactly one of day-of-month and day-of-week must be "?".`,
    );
  }
  if (/\//.test(dayOfWeek ?? '')) {
    throw new InvalidExpressionError(`Invalid Schedule Expression ${expression}: day-of-week takes no "/".`);
  }
  const star = (field = ''): string => (field === '?' ? '*' : field);
  // croner's seven-part form (second first), Quartz weekday numbering, `start/step` steps.
  const pattern = ['0', minute, hour, star(dayOfMonth), month, star(dayOfWeek), year].join(' ');
  try {
    return new Cron(pattern, {
      timezone: timeZone,
      mode: '7-part',
      alternativeWeekdays: true,
      sloppyRanges: true,
      paused: true,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidExpressionError(`Invalid Schedule Expression ${expression}: ${reason}`);
  }
}

/**
 * The first occurrence strictly after `after` (epoch ms), within [startDate, endDate) when
 * given; undefined when there is none. `origin` anchors rate() schedules without StartDate.
 */
export function nextOccurrence({
  parsed,
  after,
  origin,
  startDate,
  endDate,
}: {
  parsed: ParsedExpression;
  after: number;
  origin: number;
  startDate?: number | undefined;
  endDate?: number | undefined;
}): number | undefined {
  const from = startDate === undefined ? after : Math.max(after, startDate - 1);
  const next = (() => {
    switch (parsed.kind) {
      case 'at':
        return parsed.at > after ? parsed.at : undefined;
      case 'rate': {
        const base = startDate ?? origin;
        if (from < base) return base;
        return base + (Math.floor((from - base) / parsed.periodMs) + 1) * parsed.periodMs;
      }
      case 'cron':
        return nextCronOccurrence(parsed.cron, parsed.timeZone, from);
    }
  })();
  if (next === undefined || (endDate !== undefined && next >= endDate)) return undefined;
  return next;
}

function nextCronOccurrence(cron: Cron, timeZone: string, after: number): number | undefined {
  let cursor = new Date(after);
  // A handful of iterations at most (one per skipped DST occurrence); the bound is a guard.
  for (let i = 0; i < 1_000; i += 1) {
    const next = cron.nextRun(cursor);
    if (!next) return undefined;
    // croner moves a fixed-time job out of a DST gap (02:30 → 03:00); EventBridge skips it.
    const shiftedOutOfGap = !cron.match(next);
    if (!shiftedOutOfGap && !isSecondPass(next.getTime(), timeZone)) return next.getTime();
    cursor = next;
  }
  return undefined;
}

/** Whether the wall-clock time at `instant` was already shown once, before the clocks went back. */
function isSecondPass(instant: number, timeZone: string): boolean {
  const current = offsetAt(instant, timeZone);
  const before = offsetAt(instant - 6 * 3_600_000, timeZone);
  if (before <= current) return false;
  return offsetAt(instant - (before - current), timeZone) === before;
}
