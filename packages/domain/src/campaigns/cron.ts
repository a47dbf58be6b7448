import * as z from 'zod';

// The five-field cron of a recurring campaign (minute hour day-of-month month day-of-week,
// 0 or 7 = Sunday), checked when the campaign is saved so a bad expression is a 400 on
// `body.schedule.expression`, not a failure when it is scheduled. It accepts what both
// schedulers can say: EventBridge Scheduler cannot fire on "this day of the month OR this
// weekday", so one of the two day fields must be `*`; and a step needs a range or `*`
// (`0-59/15`, `*/15`), as the EventBridge adapter (packages/aws/src/scheduler/cron.ts) requires.

interface Field {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly names: readonly string[];
  /** Added to a name's index: months are 1-based, weekdays 0-based. */
  readonly nameBase: number;
}

const fields: readonly Field[] = [
  { label: 'minute', min: 0, max: 59, names: [], nameBase: 0 },
  { label: 'hour', min: 0, max: 23, names: [], nameBase: 0 },
  { label: 'day-of-month', min: 1, max: 31, names: [], nameBase: 0 },
  {
    label: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
    nameBase: 1,
  },
  {
    label: 'day-of-week',
    min: 0,
    max: 7,
    names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
    nameBase: 0,
  },
];

const itemPattern = /^(\*|[0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?(?:\/(\d+))?$/;

function fieldValue(token: string, field: Field): number | undefined {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    return value >= field.min && value <= field.max ? value : undefined;
  }
  const index = field.names.indexOf(token.toUpperCase());
  return index >= 0 ? index + field.nameBase : undefined;
}

/** The first problem of one field, or undefined when it is valid. */
function fieldProblem(text: string, field: Field): string | undefined {
  for (const raw of text.split(',')) {
    const [, start, end, step] = itemPattern.exec(raw) ?? [];
    if (start === undefined || (start === '*' && end !== undefined)) {
      return `"${raw}" in the ${field.label} field is not a value, a range, a list or a step`;
    }
    if (start !== '*' && end === undefined && step !== undefined) {
      return `write "${start}-${field.max}/${step}" instead of "${raw}" in the ${field.label} field`;
    }
    if (step !== undefined && (Number(step) < 1 || Number(step) > field.max)) {
      return `step ${step} in the ${field.label} field must be between 1 and ${field.max}`;
    }
    const first = start === '*' ? field.min : fieldValue(start, field);
    if (first === undefined)
      return `"${start}" is not valid in the ${field.label} field (${field.min}–${field.max})`;
    if (end === undefined) continue;
    const last = fieldValue(end, field);
    if (last === undefined)
      return `"${end}" is not valid in the ${field.label} field (${field.min}–${field.max})`;
    if (first > last) return `the range ${start}-${end} in the ${field.label} field runs backwards`;
  }
  return undefined;
}

/** Problems of a five-field expression, each a sentence; empty when it is valid. */
export function cronProblems(expression: string): string[] {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) return ['five space-separated fields: minute hour day-of-month month day-of-week'];
  const problems = parts.flatMap((part, i) => {
    const field = fields[i];
    const problem = field ? fieldProblem(part, field) : undefined;
    return problem === undefined ? [] : [problem];
  });
  const [, , dayOfMonth, , dayOfWeek] = parts;
  if (dayOfMonth !== '*' && dayOfWeek !== '*') {
    problems.push('restrict day-of-month or day-of-week, not both: set the other to "*"');
  }
  return problems;
}

/** `30 9 * * *`: every day at 09:30 in the schedule's time zone. */
export const cronExpression = z
  .string()
  .trim()
  .superRefine((expression, ctx) => {
    for (const message of cronProblems(expression)) ctx.addIssue({ code: 'custom', message });
  });
