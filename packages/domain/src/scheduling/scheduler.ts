import * as z from 'zod';

/**
 * When a schedule fires: once at an instant, or on a five-field cron expression
 * (minute hour day-of-month month day-of-week, 0 = Sunday) read in an IANA time zone,
 * daylight saving included.
 */
export const scheduleSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('at'), at: z.iso.datetime({ offset: true }) }),
  z.object({
    kind: z.literal('cron'),
    expression: z
      .string()
      .regex(/^\S+( \S+){4}$/, 'five space-separated fields: minute hour day month weekday'),
    timeZone: z.string().min(1),
  }),
]);
export type ScheduleSpec = z.infer<typeof scheduleSpec>;

export interface ScheduleRequest {
  /** Unique within the schedule group; 1–64 of [0-9a-zA-Z-_.]. */
  readonly name: string;
  readonly spec: ScheduleSpec;
  /** JSON delivered as the body of one message to the start queue each time it fires. */
  readonly payload: unknown;
}

export interface ScheduleSummary {
  readonly name: string;
  readonly spec: ScheduleSpec;
  readonly payload: unknown;
}

/**
 * The port through which campaigns are scheduled. EventBridge Scheduler implements it on
 * AWS (packages/aws); the local stack serves the same Scheduler API on loopback.
 */
export interface SchedulerPort {
  /** Creates or replaces the schedule of that name. */
  put(request: ScheduleRequest): Promise<void>;
  /** Deletes it; deleting a schedule that does not exist is not an error. */
  delete(name: string): Promise<void>;
  get(name: string): Promise<ScheduleSummary | undefined>;
}
