import {
  type ScheduleRequest,
  type SchedulerPort,
  type ScheduleSummary,
  type StartMessage,
  scheduledTimePlaceholder,
  startMessage,
  ValidationError,
} from '@qunfa/domain';

/**
 * In-memory SchedulerPort for unit tests: keeps the schedules by name (create-or-replace, as
 * EventBridge's adapter does), records every call, and fires a schedule on demand the way
 * EventBridge Scheduler does: the occurrence's time replaces `<aws.scheduler.scheduled-time>`
 * in the payload, and a one-time schedule is deleted once it has fired.
 */
export class MemoryScheduler implements SchedulerPort {
  readonly schedules = new Map<string, ScheduleSummary>();
  readonly calls: ({ op: 'put'; request: ScheduleRequest } | { op: 'delete'; name: string })[] = [];

  async put(request: ScheduleRequest): Promise<void> {
    if (!/^[0-9a-zA-Z\-_.]{1,64}$/.test(request.name)) {
      throw new ValidationError([{ path: 'name', message: 'Use 1–64 of the characters 0-9 a-z A-Z - _ .' }]);
    }
    this.calls.push({ op: 'put', request });
    this.schedules.set(request.name, { name: request.name, spec: request.spec, payload: request.payload });
  }

  async delete(name: string): Promise<void> {
    this.calls.push({ op: 'delete', name });
    this.schedules.delete(name);
  }

  async get(name: string): Promise<ScheduleSummary | undefined> {
    return this.schedules.get(name);
  }

  /**
   * The start message the schedule `name` sends when it fires at `at` (default: its own
   * instant for a one-time schedule; required for a cron one).
   */
  fire(name: string, at?: string): StartMessage {
    const schedule = this.schedules.get(name);
    if (!schedule) throw new Error(`No schedule ${name}.`);
    const occurrence = at ?? (schedule.spec.kind === 'at' ? schedule.spec.at : undefined);
    if (occurrence === undefined) throw new Error(`Say when the cron schedule ${name} fires.`);
    const body = JSON.stringify(schedule.payload).replaceAll(
      scheduledTimePlaceholder,
      `${new Date(occurrence).toISOString().slice(0, 19)}Z`,
    );
    if (schedule.spec.kind === 'at') this.schedules.delete(name);
    return startMessage.parse(JSON.parse(body));
  }
}
