import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { scheduleGroup } from '@qunfa/resources';
import { isAddressInUse, PortInUseError } from '../errors';
import { createLogger, type LocalLogger } from '../log';
import { localAccountId } from '../names';
import { listenOnLoopback } from '../ports';
import { sleep } from '../timers';
import { handleSchedulerRequest } from './api';
import { ScheduleBook } from './book';
import { createSqsTarget, type SqsTarget } from './sqs-target';
import { loadState, type MissedStart, type StoredSchedule, saveState } from './state';

// The local stand-in for EventBridge Scheduler: the Scheduler API on loopback (so the
// production adapter talks to it through AWS_ENDPOINT_URL_SCHEDULER), schedules kept in a JSON
// file, and a clock that fires each due occurrence by sending the target's Input to its SQS
// queue. An occurrence found more than scheduleGroup.missedStartToleranceSeconds late (the
// stack was down, or the machine asleep) is recorded as missed, never fired late.

export interface LocalSchedulerOptions {
  /** 0 (default): a free port. */
  readonly port?: number;
  /** The JSON file schedules are kept in; created when missing. */
  readonly stateFile: string;
  /** Where target queues live (the local SQS endpoint) and the region of the ARNs it mints. */
  readonly sqs: { readonly endpoint: string; readonly region: string };
  /** The clock. Tests inject one and move it forward, then call tick(). */
  readonly now?: () => Date;
  /**
   * false: no background timer; time advances only through tick() (deterministic tests).
   * Default true. With an injected clock the timer re-reads it every 200 ms.
   */
  readonly timer?: boolean;
  /** Schedule groups that exist. Default: `default` and scheduleGroup.name. */
  readonly groups?: readonly string[];
  readonly missedStartToleranceSeconds?: number;
  readonly logger?: LocalLogger;
}

export interface FiredSchedule {
  readonly groupName: string;
  readonly name: string;
  /** The occurrence, ISO 8601 (what `<aws.scheduler.scheduled-time>` became). */
  readonly scheduledFor: string;
  readonly firedAt: string;
  readonly messageId: string;
}

export interface UndeliveredInvocation {
  readonly groupName: string;
  readonly name: string;
  readonly scheduledFor: string;
  readonly failedAt: string;
  readonly attempts: number;
  readonly error: string;
}

export interface LocalSchedulerHealth {
  readonly ok: boolean;
  readonly schedules: number;
  readonly missed: number;
  readonly undelivered: number;
}

export interface LocalScheduler {
  /** http://127.0.0.1:<port>: give it to the SDK as AWS_ENDPOINT_URL_SCHEDULER. */
  readonly url: string;
  /** Missed starts, oldest first (kept in the state file, the last 1,000). */
  readonly missed: readonly MissedStart[];
  /** Occurrences whose message could not be sent after the local retries (this run only). */
  readonly undelivered: readonly UndeliveredInvocation[];
  /** Fires what is due at `now` (default: the clock) and resolves to what fired. */
  tick(now?: Date): Promise<readonly FiredSchedule[]>;
  health(): LocalSchedulerHealth;
  stop(): Promise<void>;
}

const maxMissedKept = 1_000;
const maxUndeliveredKept = 1_000;
/** Local delivery gives up sooner than the service (185 retries over a day): it reports instead. */
const maxLocalRetries = 2;
/** A bound on occurrences walked for one schedule in one tick (a minutely cron after a long sleep). */
const maxOccurrencesPerTick = 10_000;

export async function startLocalScheduler({
  port = 0,
  stateFile,
  sqs,
  now: injectedClock,
  timer = true,
  groups = ['default', scheduleGroup.name],
  missedStartToleranceSeconds = scheduleGroup.missedStartToleranceSeconds,
  logger = createLogger({ component: 'scheduler' }),
}: LocalSchedulerOptions): Promise<LocalScheduler> {
  const clock = injectedClock ?? ((): Date => new Date());
  const saved = await loadState(stateFile);
  const scheduler = new Scheduler({
    book: new ScheduleBook(
      { region: sqs.region, accountId: localAccountId, groups, now: () => clock().getTime() },
      saved.schedules,
    ),
    missed: saved.missed,
    stateFile,
    target: createSqsTarget(sqs),
    clock,
    toleranceMs: missedStartToleranceSeconds * 1000,
    logger,
  });
  // Catch up first: starts missed while the stack was down are fired (when still within the
  // tolerance) or recorded as missed before anyone can ask.
  await scheduler.tick();
  const server = createServer(
    handleSchedulerRequest({
      book: scheduler.book,
      changed: () => scheduler.changed(),
      health: () => scheduler.health(),
    }),
  );
  try {
    await listenOnLoopback(server, port);
  } catch (error) {
    scheduler.close();
    if (isAddressInUse(error)) throw new PortInUseError({ port, component: 'scheduler' });
    throw error;
  }
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  scheduler.listening = true;
  if (timer) scheduler.startTimer(injectedClock ? 200 : 1_000);
  logger.info('scheduler ready', { url, schedules: scheduler.book.size, stateFile });

  return {
    url,
    get missed() {
      return scheduler.missed;
    },
    get undelivered() {
      return scheduler.undelivered;
    },
    tick: (at) => scheduler.tick(at),
    health: () => scheduler.health(),
    async stop() {
      scheduler.listening = false;
      await Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
        scheduler.drain(),
      ]);
      scheduler.close();
    },
  };
}

interface SchedulerParts {
  readonly book: ScheduleBook;
  readonly missed: readonly MissedStart[];
  readonly stateFile: string;
  readonly target: SqsTarget;
  readonly clock: () => Date;
  readonly toleranceMs: number;
  readonly logger: LocalLogger;
}

class Scheduler {
  readonly book: ScheduleBook;
  listening = false;
  readonly #missed: MissedStart[];
  readonly #undelivered: UndeliveredInvocation[] = [];
  readonly #parts: SchedulerParts;
  /** Ticks run one at a time: an occurrence is never picked up by two of them. */
  #ticking: Promise<unknown> = Promise.resolve();
  #writing: Promise<void> = Promise.resolve();
  #persistError: unknown;
  #timer: NodeJS.Timeout | undefined;
  #timerPeriodMs = 0;
  #closed = false;

  constructor(parts: SchedulerParts) {
    this.#parts = parts;
    this.book = parts.book;
    this.#missed = [...parts.missed];
  }

  get missed(): readonly MissedStart[] {
    return [...this.#missed];
  }

  get undelivered(): readonly UndeliveredInvocation[] {
    return [...this.#undelivered];
  }

  health(): LocalSchedulerHealth {
    return {
      ok: this.listening && !this.#closed && this.#persistError === undefined,
      schedules: this.book.size,
      missed: this.#missed.length,
      undelivered: this.#undelivered.length,
    };
  }

  /** After an API change: write the state, and let the timer look at the new next time. */
  async changed(): Promise<void> {
    this.#arm();
    await this.#persist();
  }

  tick(at?: Date): Promise<readonly FiredSchedule[]> {
    const run = this.#ticking.then(() => this.#tick((at ?? this.#parts.clock()).getTime()));
    this.#ticking = run.catch(() => undefined);
    return run;
  }

  startTimer(periodMs: number): void {
    this.#timerPeriodMs = periodMs;
    this.#arm();
  }

  async drain(): Promise<void> {
    this.#timerPeriodMs = 0;
    clearTimeout(this.#timer);
    await this.#ticking;
    await this.#writing.catch(() => undefined);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#parts.target.close();
  }

  /** Sleeps until the next occurrence, but never longer than the period (the clock may be moved). */
  #arm(): void {
    if (this.#timerPeriodMs === 0 || this.#closed) return;
    clearTimeout(this.#timer);
    const now = this.#parts.clock().getTime();
    const next = Math.min(
      ...this.book
        .all()
        .filter((s) => s.state === 'ENABLED' && s.nextFireAt !== null)
        .map((s) => s.nextFireAt ?? Number.POSITIVE_INFINITY),
    );
    const delay = Math.max(0, Math.min(next - now, this.#timerPeriodMs));
    this.#timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.#parts.logger.error('scheduler tick failed', { error }))
        .finally(() => this.#arm());
    }, delay);
    this.#timer.unref();
  }

  async #tick(now: number): Promise<FiredSchedule[]> {
    const due = this.book
      .all()
      .filter((s) => s.state === 'ENABLED' && s.nextFireAt !== null && s.nextFireAt <= now)
      .sort((a, b) => (a.nextFireAt ?? 0) - (b.nextFireAt ?? 0));
    if (due.length === 0) return [];
    const fired: FiredSchedule[] = [];
    for (const schedule of due) fired.push(...(await this.#runDue(schedule, now)));
    await this.#persist();
    return fired;
  }

  /** Every occurrence of one schedule due at `now`: fired when on time, recorded when missed. */
  async #runDue(first: StoredSchedule, now: number): Promise<FiredSchedule[]> {
    const fired: FiredSchedule[] = [];
    let missed: MissedStart | undefined;
    let schedule: StoredSchedule | undefined = first;
    let walked = 0;
    while (schedule && schedule.nextFireAt !== null && schedule.nextFireAt <= now) {
      const scheduledFor: number = schedule.nextFireAt;
      if (now - scheduledFor > this.#parts.toleranceMs) {
        missed = joinMissed(missed, schedule, scheduledFor, now);
      } else {
        const result = await this.#deliver(schedule, scheduledFor, now);
        if (result) fired.push(result);
      }
      walked += 1;
      const after: number = walked === maxOccurrencesPerTick ? now - this.#parts.toleranceMs : scheduledFor;
      const nextFireAt: number | null = this.book.following(schedule, after) ?? null;
      const next: StoredSchedule | undefined =
        nextFireAt === null && schedule.actionAfterCompletion === 'DELETE'
          ? undefined
          : { ...schedule, nextFireAt };
      // Deleted or replaced through the API while the message was on its way: theirs wins.
      if (!this.book.replace(schedule, next)) break;
      schedule = next;
    }
    if (missed) this.#recordMissed(missed);
    return fired;
  }

  async #deliver(
    schedule: StoredSchedule,
    scheduledFor: number,
    now: number,
  ): Promise<FiredSchedule | undefined> {
    const { target } = schedule;
    const retries = Math.min(target.RetryPolicy?.MaximumRetryAttempts ?? maxLocalRetries, maxLocalRetries);
    const scheduledTime = `${new Date(scheduledFor).toISOString().slice(0, 19)}Z`;
    let error: unknown = new Error('The target has no Input to send.');
    let attempt = 0;
    while (target.Input !== undefined && attempt <= retries) {
      attempt += 1;
      // The service's context attributes, substituted in the Input as it does.
      const body = target.Input.replaceAll('<aws.scheduler.schedule-arn>', schedule.arn)
        .replaceAll('<aws.scheduler.scheduled-time>', scheduledTime)
        .replaceAll('<aws.scheduler.execution-id>', randomBytes(8).toString('hex'))
        .replaceAll('<aws.scheduler.attempt-number>', String(attempt));
      try {
        const messageId = await this.#parts.target.send({
          arn: target.Arn,
          body,
          messageGroupId: target.SqsParameters?.MessageGroupId,
        });
        this.#parts.logger.info('schedule fired', {
          schedule: `${schedule.groupName}/${schedule.name}`,
          scheduledFor: scheduledTime,
          messageId,
        });
        return {
          groupName: schedule.groupName,
          name: schedule.name,
          scheduledFor: new Date(scheduledFor).toISOString(),
          firedAt: new Date(now).toISOString(),
          messageId,
        };
      } catch (failure) {
        error = failure;
        if (attempt <= retries) await sleep(100 * attempt);
      }
    }
    const reason = error instanceof Error ? error.message : String(error);
    this.#undelivered.push({
      groupName: schedule.groupName,
      name: schedule.name,
      scheduledFor: new Date(scheduledFor).toISOString(),
      failedAt: new Date(now).toISOString(),
      attempts: attempt,
      error: reason,
    });
    this.#undelivered.splice(0, Math.max(0, this.#undelivered.length - maxUndeliveredKept));
    this.#parts.logger.error('schedule could not deliver its message', {
      schedule: `${schedule.groupName}/${schedule.name}`,
      scheduledFor: scheduledTime,
      target: target.Arn,
      attempts: attempt,
      error: reason,
    });
    return undefined;
  }

  #recordMissed(missed: MissedStart): void {
    this.#missed.push(missed);
    this.#missed.splice(0, Math.max(0, this.#missed.length - maxMissedKept));
    this.#parts.logger.warn('schedule missed its start; not fired late', {
      schedule: `${missed.groupName}/${missed.name}`,
      scheduledFor: missed.scheduledFor,
      occurrences: missed.occurrences,
      toleranceSeconds: this.#parts.toleranceMs / 1000,
    });
  }

  /** Writes the latest state; writes run one after another, each with everything so far. */
  #persist(): Promise<void> {
    const write = this.#writing
      .catch(() => undefined)
      .then(() =>
        saveState(this.#parts.stateFile, { version: 1, schedules: this.book.all(), missed: this.#missed }),
      )
      .then(
        () => {
          this.#persistError = undefined;
        },
        (error: unknown) => {
          this.#persistError = error;
          this.#parts.logger.error('scheduler state could not be written', {
            file: this.#parts.stateFile,
            error,
          });
          throw error;
        },
      );
    this.#writing = write;
    return write;
  }
}

function joinMissed(
  missed: MissedStart | undefined,
  schedule: StoredSchedule,
  scheduledFor: number,
  now: number,
): MissedStart {
  const at = new Date(scheduledFor).toISOString();
  if (missed) return { ...missed, lastScheduledFor: at, occurrences: missed.occurrences + 1 };
  return {
    groupName: schedule.groupName,
    name: schedule.name,
    expression: schedule.expression,
    scheduledFor: at,
    lastScheduledFor: at,
    occurrences: 1,
    detectedAt: new Date(now).toISOString(),
  };
}
