import { ValidationError } from '@qunfa/domain';

// The domain speaks five-field cron (minute hour day-of-month month day-of-week, 0 = Sunday);
// EventBridge Scheduler speaks its own six-field dialect, `cron(min hour dom month dow year)`,
// where one of day-of-month and day-of-week must be `?`, weekdays run 1–7 = SUN–SAT and the
// day-of-week field takes no step
// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based).
// This module translates between the two and refuses, with a reason, what one side cannot say.

/** A schedule the adapter cannot express in EventBridge's dialect (or read back from it). */
export class UnsupportedScheduleError extends ValidationError {
  constructor(message: string, path = 'spec.expression') {
    super([{ path, message }], message);
    this.name = 'UnsupportedScheduleError';
  }
}

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly names: readonly string[];
}

const months = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const weekdays = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const minute: FieldSpec = { label: 'minute', min: 0, max: 59, names: [] };
const hour: FieldSpec = { label: 'hour', min: 0, max: 23, names: [] };
const dayOfMonth: FieldSpec = { label: 'day-of-month', min: 1, max: 31, names: [] };
const month: FieldSpec = { label: 'month', min: 1, max: 12, names: months };

/** One comma-separated item of a field: `*`, `v`, `a-b`, each optionally with `/step`. */
interface Item {
  readonly start: string;
  readonly end?: string;
  readonly step?: number;
}

const itemPattern = /^(\*|[0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?(?:\/(\d+))?$/;

function parseItems(field: string, spec: FieldSpec, expression: string): Item[] {
  return field.split(',').map((raw) => {
    const match = itemPattern.exec(raw);
    const [, start, end, step] = match ?? [];
    if (!match || start === undefined || (start === '*' && end !== undefined)) {
      throw new UnsupportedScheduleError(
        `Cron expression "${expression}": "${raw}" in the ${spec.label} field is not a value, a range, a list or a step.`,
      );
    }
    if (start !== '*' && end === undefined && step !== undefined) {
      throw new UnsupportedScheduleError(
        `Cron expression "${expression}": write "${start}-${spec.max}/${step}" instead of "${raw}" in the ${spec.label} field.`,
      );
    }
    const stepValue = step === undefined ? undefined : Number(step);
    if (stepValue !== undefined && (stepValue < 1 || stepValue > spec.max)) {
      throw new UnsupportedScheduleError(
        `Cron expression "${expression}": step ${step} in the ${spec.label} field must be between 1 and ${spec.max}.`,
      );
    }
    return {
      start,
      ...(end === undefined ? {} : { end }),
      ...(stepValue === undefined ? {} : { step: stepValue }),
    };
  });
}

/** The numeric value of a number or a name, checked against the field's bounds. */
function fieldValue(token: string, spec: FieldSpec, expression: string): number {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    if (value >= spec.min && value <= spec.max) return value;
    throw new UnsupportedScheduleError(
      `Cron expression "${expression}": ${token} is outside ${spec.min}–${spec.max} in the ${spec.label} field.`,
    );
  }
  const index = spec.names.indexOf(token.toUpperCase());
  if (index >= 0) return index + (spec.names === months ? 1 : 0);
  throw new UnsupportedScheduleError(
    `Cron expression "${expression}": "${token}" is not valid in the ${spec.label} field.`,
  );
}

function isName(token: string): boolean {
  return /^[A-Za-z]+$/.test(token);
}

/** Minute, hour, day-of-month and month: the same numbering on both sides. */
function toEventBridgeField(field: string, spec: FieldSpec, expression: string): string {
  const items = parseItems(field, spec, expression).map((item) => {
    const start = item.start === '*' ? undefined : fieldValue(item.start, spec, expression);
    const end = item.end === undefined ? undefined : fieldValue(item.end, spec, expression);
    if (start !== undefined && end !== undefined && start > end) {
      throw new UnsupportedScheduleError(
        `Cron expression "${expression}": the range ${item.start}-${item.end} in the ${spec.label} field runs backwards.`,
      );
    }
    const text = (token: string): string => (isName(token) ? token.toUpperCase() : String(Number(token)));
    // EventBridge documents steps as `start/step` (`0/15`); `*/15` is translated, not trusted.
    if (item.start === '*') return item.step === undefined ? '*' : `${spec.min}/${item.step}`;
    const range = item.end === undefined ? text(item.start) : `${text(item.start)}-${text(item.end)}`;
    return item.step === undefined ? range : `${range}/${item.step}`;
  });
  return items.join(',');
}

const cronWeekday: FieldSpec = { label: 'day-of-week', min: 0, max: 7, names: weekdays };

/**
 * Day-of-week, 0–7 (0 and 7 = Sunday) to EventBridge's 1–7 = SUN–SAT. Names pass through;
 * steps, which EventBridge does not accept in this field, become the list they stand for.
 */
function toEventBridgeWeekdays(field: string, expression: string): string {
  const out: string[] = [];
  const index = (token: string): number => fieldValue(token, cronWeekday, expression) % 7;
  for (const item of parseItems(field, cronWeekday, expression)) {
    if (item.step !== undefined) {
      const first = item.start === '*' ? 0 : fieldValue(item.start, cronWeekday, expression);
      const last = item.end === undefined ? 6 : fieldValue(item.end, cronWeekday, expression);
      for (let day = first; day <= last; day += item.step) out.push(String((day % 7) + 1));
      continue;
    }
    if (item.end === undefined) {
      out.push(isName(item.start) ? item.start.toUpperCase() : String(index(item.start) + 1));
      continue;
    }
    if (isName(item.start) && isName(item.end)) {
      if (index(item.start) > index(item.end)) {
        throw new UnsupportedScheduleError(
          `Cron expression "${expression}": the range ${item.start}-${item.end} in the day-of-week field runs backwards.`,
        );
      }
      out.push(`${item.start.toUpperCase()}-${item.end.toUpperCase()}`);
      continue;
    }
    const first = fieldValue(item.start, cronWeekday, expression);
    const last = fieldValue(item.end, cronWeekday, expression);
    if (first > last) {
      throw new UnsupportedScheduleError(
        `Cron expression "${expression}": the range ${item.start}-${item.end} in the day-of-week field runs backwards.`,
      );
    }
    // 7 is Sunday again: `5-7` (FRI–SUN) becomes `6-7,1`.
    if (last === 7) {
      if (first < 7) out.push(first + 1 === 7 ? '7' : `${first + 1}-7`);
      out.push('1');
    } else {
      out.push(`${first + 1}-${last + 1}`);
    }
  }
  return [...new Set(out)].join(',');
}

function splitFields(expression: string, count: number, what: string): string[] {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== count) {
    throw new UnsupportedScheduleError(`${what} "${expression}" must have ${count} space-separated fields.`);
  }
  return fields;
}

const unrestricted = (field: string): boolean => field === '*' || field === '?';

/** `30 9 * * *` → `cron(30 9 * * ? *)`; `0 10 * * 1` → `cron(0 10 ? * 2 *)`. */
export function toEventBridgeCron(expression: string): string {
  const [min = '', hr = '', dom = '', mon = '', dow = ''] = splitFields(expression, 5, 'Cron expression');
  for (const [field, spec] of [
    [min, minute],
    [hr, hour],
    [mon, month],
  ] as const) {
    if (field === '?') {
      throw new UnsupportedScheduleError(
        `Cron expression "${expression}": "?" is not allowed in the ${spec.label} field.`,
      );
    }
  }
  if (!unrestricted(dom) && !unrestricted(dow)) {
    // Five-field cron fires when EITHER day field matches; EventBridge has no way to say so.
    throw new UnsupportedScheduleError(
      `Cron expression "${expression}" restricts both day-of-month and day-of-week; EventBridge Scheduler takes only one of them, so set the other to "*".`,
    );
  }
  const days = unrestricted(dow)
    ? { dom: unrestricted(dom) ? '*' : toEventBridgeField(dom, dayOfMonth, expression), dow: '?' }
    : { dom: '?', dow: toEventBridgeWeekdays(dow, expression) };
  const fields = [
    toEventBridgeField(min, minute, expression),
    toEventBridgeField(hr, hour, expression),
    days.dom,
    toEventBridgeField(mon, month, expression),
    days.dow,
    '*',
  ];
  return `cron(${fields.join(' ')})`;
}

/** Minute, hour, day-of-month, month back to five-field form: `0/15` → `*\/15`. */
function fromEventBridgeField(field: string, spec: FieldSpec, expression: string): string {
  if (field === '?') return '*';
  return field
    .split(',')
    .map((raw) => {
      const stepped = /^(\d+)\/(\d+)$/.exec(raw);
      if (stepped) {
        const [, start = '', step = ''] = stepped;
        return Number(start) === spec.min ? `*/${step}` : `${start}-${spec.max}/${step}`;
      }
      if (raw === '*' || /^\*\/\d+$/.test(raw)) return raw;
      // L, W and the like fail here: the five-field form has no last-day or nearest-weekday.
      try {
        return toEventBridgeField(raw, spec, expression);
      } catch {
        throw new UnsupportedScheduleError(
          `EventBridge expression "${expression}": "${raw}" in the ${spec.label} field has no five-field equivalent.`,
        );
      }
    })
    .join(',');
}

/** Day-of-week, EventBridge 1–7 = SUN–SAT back to 0–6. */
function fromEventBridgeWeekdays(field: string, expression: string): string {
  if (field === '?' || field === '*') return '*';
  const eventBridgeWeekday: FieldSpec = { label: 'day-of-week', min: 1, max: 7, names: weekdays };
  const unsupported = (raw: string): UnsupportedScheduleError =>
    new UnsupportedScheduleError(
      `EventBridge expression "${expression}": "${raw}" in the day-of-week field has no five-field equivalent.`,
    );
  const shift = (token: string, raw: string): string => {
    if (isName(token) && weekdays.includes(token.toUpperCase())) return token.toUpperCase();
    try {
      return String(fieldValue(token, eventBridgeWeekday, expression) - 1);
    } catch {
      throw unsupported(raw);
    }
  };
  return field
    .split(',')
    .map((raw) => {
      // `#` (nth weekday) and `L` (last weekday) do not match and have no five-field form.
      const [, start, end] = /^([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?$/.exec(raw) ?? [];
      if (start === undefined) throw unsupported(raw);
      return end === undefined ? shift(start, raw) : `${shift(start, raw)}-${shift(end, raw)}`;
    })
    .join(',');
}

/** `cron(30 9 * * ? *)` → `30 9 * * *`: the inverse of {@link toEventBridgeCron}. */
export function fromEventBridgeCron(scheduleExpression: string): string {
  const inner = /^cron\((.*)\)$/.exec(scheduleExpression.trim())?.[1];
  if (inner === undefined) {
    throw new UnsupportedScheduleError(`"${scheduleExpression}" is not a cron(...) expression.`);
  }
  const [min = '', hr = '', dom = '', mon = '', dow = '', year = ''] = splitFields(
    inner,
    6,
    'EventBridge cron',
  );
  if (year !== '*') {
    throw new UnsupportedScheduleError(
      `EventBridge expression "${scheduleExpression}" restricts the year, which five-field cron cannot say.`,
    );
  }
  return [
    fromEventBridgeField(min, minute, scheduleExpression),
    fromEventBridgeField(hr, hour, scheduleExpression),
    fromEventBridgeField(dom, dayOfMonth, scheduleExpression),
    fromEventBridgeField(mon, month, scheduleExpression),
    fromEventBridgeWeekdays(dow, scheduleExpression),
  ].join(' ');
}
