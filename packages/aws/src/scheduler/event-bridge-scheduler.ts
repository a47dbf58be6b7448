import {
  isTimeZone,
  type ScheduleRequest,
  type SchedulerPort,
  type ScheduleSpec,
  type ScheduleSummary,
  scheduleSpec,
  ValidationError,
  wallTimeToInstant,
} from '@qunfa/domain';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ResourceNotFoundException,
  type RetryPolicy,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '../wire/scheduler';
import { fromEventBridgeCron, toEventBridgeCron, UnsupportedScheduleError } from './cron';

export interface EventBridgeSchedulerOptions {
  readonly client: SchedulerClient;
  /** The schedule group (resources: scheduleGroup.name), from SCHEDULE_GROUP. */
  readonly groupName: string;
  /** The role EventBridge Scheduler assumes to send to the target, from SCHEDULER_ROLE_ARN. */
  readonly roleArn: string;
  /** The start queue's ARN, from SCHEDULE_TARGET_ARN. */
  readonly targetArn: string;
  readonly retryPolicy?: RetryPolicy;
}

/**
 * EventBridge's defaults, written down: keep retrying a failed SendMessage for a day. A start
 * that arrives late is judged by its consumer against the scheduled time (and marked missed
 * there); a start dropped after a short retry window would leave the campaign silently unstarted.
 */
export const defaultRetryPolicy: RetryPolicy = {
  MaximumEventAgeInSeconds: 86_400,
  MaximumRetryAttempts: 185,
};

/** What EventBridge Scheduler's CreateSchedule/UpdateSchedule need to say "when". */
export interface EventBridgeWhen {
  readonly scheduleExpression: string;
  readonly timeZone: string;
  readonly actionAfterCompletion: 'DELETE' | 'NONE';
}

const namePattern = /^[0-9a-zA-Z\-_.]{1,64}$/;

/**
 * A one-time spec becomes `at(yyyy-mm-ddThh:mm:ss)` in UTC (deleted once it has fired); a
 * cron spec becomes EventBridge's six-field cron read in the spec's IANA time zone.
 */
export function toEventBridgeWhen(spec: ScheduleSpec): EventBridgeWhen {
  if (spec.kind === 'at') {
    const instant = Date.parse(spec.at);
    if (Number.isNaN(instant))
      throw new UnsupportedScheduleError(`"${spec.at}" is not an instant.`, 'spec.at');
    // at() has whole seconds: round up, so the schedule never fires before the instant asked for.
    const seconds = new Date(Math.ceil(instant / 1000) * 1000).toISOString().slice(0, 19);
    return { scheduleExpression: `at(${seconds})`, timeZone: 'UTC', actionAfterCompletion: 'DELETE' };
  }
  if (!isTimeZone(spec.timeZone)) {
    throw new UnsupportedScheduleError(`"${spec.timeZone}" is not an IANA time zone.`, 'spec.timeZone');
  }
  return {
    scheduleExpression: toEventBridgeCron(spec.expression),
    timeZone: spec.timeZone,
    actionAfterCompletion: 'NONE',
  };
}

/** The inverse of {@link toEventBridgeWhen}; `at` comes back as a UTC ISO instant. */
export function fromEventBridgeWhen({
  scheduleExpression,
  timeZone,
}: {
  scheduleExpression: string;
  timeZone: string;
}): ScheduleSpec {
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(scheduleExpression.trim());
  if (at) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number);
    const wall = Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1, hour ?? 0, minute ?? 0, second ?? 0);
    return { kind: 'at', at: new Date(wallTimeToInstant(wall, timeZone)).toISOString() };
  }
  if (scheduleExpression.trim().startsWith('cron(')) {
    return { kind: 'cron', expression: fromEventBridgeCron(scheduleExpression), timeZone };
  }
  throw new UnsupportedScheduleError(`"${scheduleExpression}" is neither at(...) nor cron(...).`);
}

/**
 * The SchedulerPort on EventBridge Scheduler: one schedule per name in qunfa's schedule group,
 * each sending its payload as the body of one message to the start queue when it fires.
 * Locally the same class talks to the local stack's Scheduler API (AWS_ENDPOINT_URL_SCHEDULER).
 */
export class EventBridgeScheduler implements SchedulerPort {
  readonly #client: SchedulerClient;
  readonly #groupName: string;
  readonly #roleArn: string;
  readonly #targetArn: string;
  readonly #retryPolicy: RetryPolicy;

  constructor({
    client,
    groupName,
    roleArn,
    targetArn,
    retryPolicy = defaultRetryPolicy,
  }: EventBridgeSchedulerOptions) {
    this.#client = client;
    this.#groupName = groupName;
    this.#roleArn = roleArn;
    this.#targetArn = targetArn;
    this.#retryPolicy = retryPolicy;
  }

  /** CreateSchedule, or UpdateSchedule when the name is taken: create-or-replace, idempotent. */
  async put(request: ScheduleRequest): Promise<void> {
    const input = this.#scheduleInput(request);
    try {
      await this.#client.send(new CreateScheduleCommand(input));
      return;
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
    }
    try {
      await this.#client.send(new UpdateScheduleCommand(input));
    } catch (error) {
      // A one-time schedule can fire and delete itself between the two calls: create it anew.
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await this.#client.send(new CreateScheduleCommand(input));
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.#client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.#groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  async get(name: string): Promise<ScheduleSummary | undefined> {
    let output: GetScheduleCommandOutput;
    try {
      output = await this.#client.send(new GetScheduleCommand({ Name: name, GroupName: this.#groupName }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
    const spec = fromEventBridgeWhen({
      scheduleExpression: output.ScheduleExpression ?? '',
      timeZone: output.ScheduleExpressionTimezone ?? 'UTC',
    });
    return { name: output.Name ?? name, spec, payload: parsePayload(output.Target?.Input) };
  }

  #scheduleInput({ name, spec, payload }: ScheduleRequest): CreateScheduleCommandInput {
    if (!namePattern.test(name)) {
      throw new ValidationError([{ path: 'name', message: 'Use 1–64 of the characters 0-9 a-z A-Z - _ .' }]);
    }
    const parsed = scheduleSpec.safeParse(spec);
    if (!parsed.success) {
      throw new ValidationError(
        parsed.error.issues.map((issue) => ({
          path: ['spec', ...issue.path].join('.'),
          message: issue.message,
        })),
      );
    }
    const body = JSON.stringify(payload);
    if (body === undefined)
      throw new ValidationError([{ path: 'payload', message: 'The payload must be JSON.' }]);
    const when = toEventBridgeWhen(parsed.data);
    return {
      Name: name,
      GroupName: this.#groupName,
      ScheduleExpression: when.scheduleExpression,
      ScheduleExpressionTimezone: when.timeZone,
      ActionAfterCompletion: when.actionAfterCompletion,
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: this.#targetArn, RoleArn: this.#roleArn, Input: body, RetryPolicy: this.#retryPolicy },
    };
  }
}

function parsePayload(input: string | undefined): unknown {
  if (input === undefined) return undefined;
  try {
    const payload: unknown = JSON.parse(input);
    return payload;
  } catch {
    return input;
  }
}
