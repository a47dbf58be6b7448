import * as z from 'zod';
import {
  InvalidExpressionError,
  nextOccurrence,
  type ParsedExpression,
  parseScheduleExpression,
} from './expression';
import { parseQueueArn } from './sqs-target';
import { flexibleTimeWindow, type StoredSchedule, target } from './state';

// The schedules of the local scheduler and the operations of the Scheduler API on them, with
// the service's validation and error names. Nothing here knows HTTP or timers.

/** An error the Scheduler API answers with: its HTTP status and `x-amzn-ErrorType`. */
export class SchedulerApiError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(status: number, type: string, message: string) {
    super(message);
    this.name = type;
    this.status = status;
    this.type = type;
  }
}

export const validation = (message: string): SchedulerApiError =>
  new SchedulerApiError(400, 'ValidationException', message);
const notFound = (message: string): SchedulerApiError =>
  new SchedulerApiError(404, 'ResourceNotFoundException', message);
const conflict = (message: string): SchedulerApiError =>
  new SchedulerApiError(409, 'ConflictException', message);

export const scheduleName = z.string().regex(/^[0-9a-zA-Z\-_.]{1,64}$/);

/** CreateSchedule and UpdateSchedule bodies (the name travels in the path). Timestamps: epoch seconds. */
export const scheduleBody = z.object({
  ScheduleExpression: z.string().min(1).max(256),
  ScheduleExpressionTimezone: z.string().min(1).max(50).optional(),
  Target: target,
  FlexibleTimeWindow: flexibleTimeWindow,
  GroupName: z
    .string()
    .regex(/^[0-9a-zA-Z\-_.]{1,64}$/)
    .optional(),
  StartDate: z.number().optional(),
  EndDate: z.number().optional(),
  Description: z.string().max(512).optional(),
  State: z.enum(['ENABLED', 'DISABLED']).optional(),
  KmsKeyArn: z.string().min(1).max(2048).optional(),
  ClientToken: z.string().min(1).max(64).optional(),
  ActionAfterCompletion: z.enum(['NONE', 'DELETE']).optional(),
});
export type ScheduleBody = z.infer<typeof scheduleBody>;

export interface ListQuery {
  readonly groupName?: string | undefined;
  readonly namePrefix?: string | undefined;
  readonly state?: string | undefined;
  readonly nextToken?: string | undefined;
  readonly maxResults?: number | undefined;
}

export interface ScheduleBookOptions {
  readonly region: string;
  readonly accountId: string;
  readonly groups: readonly string[];
  readonly now: () => number;
}

const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

export class ScheduleBook {
  readonly #schedules = new Map<string, StoredSchedule>();
  readonly #parsed = new WeakMap<StoredSchedule, ParsedExpression>();
  readonly #options: ScheduleBookOptions;

  constructor(options: ScheduleBookOptions, saved: readonly StoredSchedule[] = []) {
    this.#options = options;
    for (const schedule of saved) this.#schedules.set(key(schedule.groupName, schedule.name), schedule);
  }

  get size(): number {
    return this.#schedules.size;
  }

  all(): StoredSchedule[] {
    return [...this.#schedules.values()];
  }

  find(groupName: string, name: string): StoredSchedule | undefined {
    return this.#schedules.get(key(groupName, name));
  }

  /** Replaces a schedule's record (after it fired); ignored when the schedule changed meanwhile. */
  replace(previous: StoredSchedule, next: StoredSchedule | undefined): boolean {
    const at = key(previous.groupName, previous.name);
    if (this.#schedules.get(at) !== previous) return false;
    if (next) {
      this.#schedules.set(at, next);
      this.#parsed.set(next, this.parsed(previous));
    } else {
      this.#schedules.delete(at);
    }
    return true;
  }

  parsed(schedule: StoredSchedule): ParsedExpression {
    let parsed = this.#parsed.get(schedule);
    if (!parsed) {
      parsed = parseScheduleExpression(schedule.expression, schedule.timeZone);
      this.#parsed.set(schedule, parsed);
    }
    return parsed;
  }

  /** The occurrence after `after`, for a schedule already stored (undefined: none left). */
  following(schedule: StoredSchedule, after: number): number | undefined {
    const parsed = this.parsed(schedule);
    if (parsed.kind === 'at') return undefined;
    return nextOccurrence({
      parsed,
      after,
      origin: schedule.creationDate,
      startDate: schedule.startDate,
      endDate: schedule.endDate,
    });
  }

  create(name: string, body: ScheduleBody): { ScheduleArn: string } {
    const groupName = this.#group(body.GroupName);
    const existing = this.find(groupName, name);
    if (existing) {
      // The SDK retries a call with the same ClientToken: the same create succeeds again.
      if (body.ClientToken !== undefined && existing.clientToken === body.ClientToken) {
        return { ScheduleArn: existing.arn };
      }
      throw conflict(`Schedule ${name} already exists.`);
    }
    const now = this.#options.now();
    const schedule = this.#build({ name, groupName, body, creationDate: now, now });
    this.#schedules.set(key(groupName, name), schedule);
    return { ScheduleArn: schedule.arn };
  }

  update(name: string, body: ScheduleBody): { ScheduleArn: string } {
    const groupName = this.#group(body.GroupName);
    const existing = this.find(groupName, name);
    if (!existing) throw notFound(`Schedule ${name} does not exist.`);
    // UpdateSchedule replaces every field: what the request leaves out returns to its default.
    const schedule = this.#build({
      name,
      groupName,
      body,
      creationDate: existing.creationDate,
      now: this.#options.now(),
      clientToken: existing.clientToken,
    });
    this.#schedules.set(key(groupName, name), schedule);
    return { ScheduleArn: schedule.arn };
  }

  get(name: string, groupName: string | undefined): Record<string, unknown> {
    const group = this.#group(groupName);
    const schedule = this.find(group, name);
    if (!schedule) throw notFound(`Schedule ${name} does not exist.`);
    return {
      Arn: schedule.arn,
      Name: schedule.name,
      GroupName: schedule.groupName,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: schedule.timeZone,
      State: schedule.state,
      ActionAfterCompletion: schedule.actionAfterCompletion,
      FlexibleTimeWindow: schedule.flexibleTimeWindow,
      Target: schedule.target,
      CreationDate: seconds(schedule.creationDate),
      LastModificationDate: seconds(schedule.lastModificationDate),
      ...(schedule.description === undefined ? {} : { Description: schedule.description }),
      ...(schedule.kmsKeyArn === undefined ? {} : { KmsKeyArn: schedule.kmsKeyArn }),
      ...(schedule.startDate === undefined ? {} : { StartDate: seconds(schedule.startDate) }),
      ...(schedule.endDate === undefined ? {} : { EndDate: seconds(schedule.endDate) }),
    };
  }

  delete(name: string, groupName: string | undefined): Record<string, never> {
    const group = this.#group(groupName);
    if (!this.#schedules.delete(key(group, name))) throw notFound(`Schedule ${name} does not exist.`);
    return {};
  }

  list(query: ListQuery): { Schedules: Record<string, unknown>[]; NextToken?: string } {
    if (query.groupName !== undefined) this.#group(query.groupName);
    if (query.state !== undefined && query.state !== 'ENABLED' && query.state !== 'DISABLED') {
      throw validation(`State must be ENABLED or DISABLED, not ${query.state}.`);
    }
    const maxResults = query.maxResults ?? 100;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
      throw validation('MaxResults must be an integer from 1 to 100.');
    }
    const after =
      query.nextToken === undefined ? undefined : Buffer.from(query.nextToken, 'base64url').toString();
    const matching = this.all()
      .filter((s) => query.groupName === undefined || s.groupName === query.groupName)
      .filter((s) => query.namePrefix === undefined || s.name.startsWith(query.namePrefix))
      .filter((s) => query.state === undefined || s.state === query.state)
      .sort((a, b) => compare(key(a.groupName, a.name), key(b.groupName, b.name)))
      .filter((s) => after === undefined || compare(key(s.groupName, s.name), after) > 0);
    const page = matching.slice(0, maxResults);
    const last = page.at(-1);
    return {
      Schedules: page.map((s) => ({
        Arn: s.arn,
        Name: s.name,
        GroupName: s.groupName,
        State: s.state,
        CreationDate: seconds(s.creationDate),
        LastModificationDate: seconds(s.lastModificationDate),
        Target: { Arn: s.target.Arn },
      })),
      ...(last && matching.length > page.length
        ? { NextToken: Buffer.from(key(last.groupName, last.name)).toString('base64url') }
        : {}),
    };
  }

  #group(groupName: string | undefined): string {
    const group = groupName ?? 'default';
    if (!this.#options.groups.includes(group)) throw notFound(`Schedule group ${group} does not exist.`);
    return group;
  }

  #build({
    name,
    groupName,
    body,
    creationDate,
    now,
    clientToken = body.ClientToken,
  }: {
    name: string;
    groupName: string;
    body: ScheduleBody;
    creationDate: number;
    now: number;
    clientToken?: string | undefined;
  }): StoredSchedule {
    const timeZone = body.ScheduleExpressionTimezone ?? 'UTC';
    let parsed: ParsedExpression;
    try {
      parsed = parseScheduleExpression(body.ScheduleExpression, timeZone);
    } catch (error) {
      if (error instanceof InvalidExpressionError) throw validation(error.message);
      throw error;
    }
    if (!parseQueueArn(body.Target.Arn)) {
      throw validation(
        `Target Arn ${body.Target.Arn} is not supported locally: the local scheduler sends to SQS queues only.`,
      );
    }
    if (
      body.FlexibleTimeWindow.Mode === 'FLEXIBLE' &&
      body.FlexibleTimeWindow.MaximumWindowInMinutes === undefined
    ) {
      throw validation('FlexibleTimeWindow.MaximumWindowInMinutes is required when Mode is FLEXIBLE.');
    }
    const startDate = body.StartDate === undefined ? undefined : Math.round(body.StartDate * 1000);
    const endDate = body.EndDate === undefined ? undefined : Math.round(body.EndDate * 1000);
    if (startDate !== undefined && endDate !== undefined && endDate <= startDate) {
      throw validation('EndDate must be after StartDate.');
    }
    // A one-time schedule keeps its instant even when it is already past: the tick decides
    // whether that is still on time (fire) or a missed start (record, never fire late).
    const nextFireAt =
      parsed.kind === 'at'
        ? parsed.at
        : (nextOccurrence({ parsed, after: now - 1, origin: now, startDate, endDate }) ?? null);
    const schedule: StoredSchedule = {
      name,
      groupName,
      arn: `arn:aws:scheduler:${this.#options.region}:${this.#options.accountId}:schedule/${groupName}/${name}`,
      expression: body.ScheduleExpression,
      timeZone,
      state: body.State ?? 'ENABLED',
      actionAfterCompletion: body.ActionAfterCompletion ?? 'NONE',
      flexibleTimeWindow: body.FlexibleTimeWindow,
      target: body.Target,
      ...(body.Description === undefined ? {} : { description: body.Description }),
      ...(body.KmsKeyArn === undefined ? {} : { kmsKeyArn: body.KmsKeyArn }),
      ...(startDate === undefined ? {} : { startDate }),
      ...(endDate === undefined ? {} : { endDate }),
      ...(clientToken === undefined ? {} : { clientToken }),
      creationDate,
      lastModificationDate: now,
      nextFireAt,
    };
    this.#parsed.set(schedule, parsed);
    return schedule;
  }
}

function key(groupName: string, name: string): string {
  return `${groupName}/${name}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
