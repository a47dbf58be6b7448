import { InvalidExpressionError, nextOccurrence, parseScheduleExpression } from '@qunfa/local';
import { describe, expect, it } from 'vitest';

// How the local scheduler reads EventBridge schedule expressions (the integration tests drive
// the same code through the API; these pin the edges).

const ms = (iso: string): number => Date.parse(iso);
const next = (
  expression: string,
  timeZone: string,
  after: string,
  window: { start?: string; end?: string } = {},
) => {
  const value = nextOccurrence({
    parsed: parseScheduleExpression(expression, timeZone),
    after: ms(after),
    origin: ms(after),
    startDate: window.start === undefined ? undefined : ms(window.start),
    endDate: window.end === undefined ? undefined : ms(window.end),
  });
  return value === undefined ? undefined : new Date(value).toISOString();
};

describe('parseScheduleExpression', () => {
  it('reads at() as wall-clock time in the schedule time zone', () => {
    expect(parseScheduleExpression('at(2025-03-10T09:30:00)', 'Asia/Shanghai')).toEqual({
      kind: 'at',
      at: ms('2025-03-10T01:30:00Z'),
    });
  });

  it.each([
    ['at(2025-02-30T09:30:00)', 'UTC', 'no such date'],
    ['at(2025-03-10 09:30:00)', 'UTC', 'use at(yyyy-mm-ddThh:mm:ss)'],
    ['cron(0 9 * * * *)', 'UTC', 'exactly one of day-of-month and day-of-week must be "?"'],
    ['cron(0 9 ? * ? *)', 'UTC', 'exactly one of day-of-month and day-of-week must be "?"'],
    ['cron(0 9 ? * 1/2 *)', 'UTC', 'day-of-week takes no "/"'],
    ['cron(0 9 * * ?)', 'UTC', 'six fields'],
    ['cron(0 25 * * ? *)', 'UTC', 'Invalid Schedule Expression'],
    ['rate(1 minutes)', 'UTC', '"1 minute"'],
    ['rate(5 minute)', 'UTC', '"1 minute"'],
    ['cron(0 9 * * ? *)', 'Mars/Base', 'Invalid ScheduleExpressionTimezone'],
  ])('refuses %s in %s', (expression, timeZone, reason) => {
    expect(() => parseScheduleExpression(expression, timeZone)).toThrow(InvalidExpressionError);
    expect(() => parseScheduleExpression(expression, timeZone)).toThrow(reason);
  });
});

describe('nextOccurrence', () => {
  it('reads EventBridge weekdays 1–7 as SUN–SAT', () => {
    // Saturday 8 March 2025 → the next 2 (Monday) is the 10th.
    expect(next('cron(0 10 ? * 2 *)', 'UTC', '2025-03-08T00:00:00Z')).toBe('2025-03-10T10:00:00.000Z');
    expect(next('cron(0 10 ? * 1 *)', 'UTC', '2025-03-08T00:00:00Z')).toBe('2025-03-09T10:00:00.000Z');
  });

  it('reads start/step as EventBridge writes steps', () => {
    expect(next('cron(0/15 * * * ? *)', 'UTC', '2025-03-08T00:01:00Z')).toBe('2025-03-08T00:15:00.000Z');
  });

  it('keeps within StartDate and EndDate', () => {
    expect(next('cron(0 9 * * ? *)', 'UTC', '2025-03-01T00:00:00Z', { start: '2025-03-05T00:00:00Z' })).toBe(
      '2025-03-05T09:00:00.000Z',
    );
    expect(
      next('cron(0 9 * * ? *)', 'UTC', '2025-03-01T09:00:00Z', { end: '2025-03-02T09:00:00Z' }),
    ).toBeUndefined();
  });

  it('steps rate() from its origin', () => {
    expect(next('rate(5 minutes)', 'UTC', '2025-03-01T00:00:00Z')).toBe('2025-03-01T00:05:00.000Z');
  });

  it('has no occurrence after a one-time instant', () => {
    expect(next('at(2025-03-01T00:00:00)', 'UTC', '2025-03-01T00:00:00Z')).toBeUndefined();
  });
});
