import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as z from 'zod';

// What the local scheduler keeps between runs, as one JSON file. Written whole to a temporary
// file and renamed over the old one, so a crash mid-write leaves the previous state, never half.

export const retryPolicy = z.object({
  MaximumEventAgeInSeconds: z.number().int().min(60).max(86_400).optional(),
  MaximumRetryAttempts: z.number().int().min(0).max(185).optional(),
});

/** Scheduler's Target shape; fields the local stack does not act on are kept and echoed back. */
export const target = z.looseObject({
  Arn: z.string().min(1).max(1600),
  RoleArn: z.string().min(1).max(1600),
  Input: z.string().min(1).optional(),
  RetryPolicy: retryPolicy.optional(),
  DeadLetterConfig: z.object({ Arn: z.string().min(1).optional() }).optional(),
  SqsParameters: z.object({ MessageGroupId: z.string().min(1).optional() }).optional(),
});
export type Target = z.infer<typeof target>;

export const flexibleTimeWindow = z.object({
  Mode: z.enum(['OFF', 'FLEXIBLE']),
  MaximumWindowInMinutes: z.number().int().min(1).max(1440).optional(),
});

export const storedSchedule = z.object({
  name: z.string(),
  groupName: z.string(),
  arn: z.string(),
  expression: z.string(),
  timeZone: z.string(),
  state: z.enum(['ENABLED', 'DISABLED']),
  actionAfterCompletion: z.enum(['NONE', 'DELETE']),
  flexibleTimeWindow,
  target,
  description: z.string().optional(),
  kmsKeyArn: z.string().optional(),
  /** Epoch milliseconds. */
  startDate: z.number().optional(),
  endDate: z.number().optional(),
  clientToken: z.string().optional(),
  creationDate: z.number(),
  lastModificationDate: z.number(),
  /** Epoch ms of the next occurrence still to fire; null once there is none. */
  nextFireAt: z.number().nullable(),
});
export type StoredSchedule = z.infer<typeof storedSchedule>;

/** Occurrences that came due while the stack was down (or asleep) and were not fired late. */
export const missedStart = z.object({
  groupName: z.string(),
  name: z.string(),
  expression: z.string(),
  /** The first missed occurrence, ISO 8601. */
  scheduledFor: z.string(),
  /** The last one, when several occurrences of a recurring schedule were missed in a row. */
  lastScheduledFor: z.string(),
  occurrences: z.number().int().positive(),
  detectedAt: z.string(),
});
export type MissedStart = z.infer<typeof missedStart>;

export const schedulerState = z.object({
  version: z.literal(1),
  schedules: z.array(storedSchedule),
  missed: z.array(missedStart),
});
export type SchedulerState = z.infer<typeof schedulerState>;

export class StateFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateFileError';
  }
}

/** The saved state, or an empty one when the file does not exist yet. */
export async function loadState(file: string): Promise<SchedulerState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
      return { version: 1, schedules: [], missed: [] };
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StateFileError(`The scheduler state file ${file} is not JSON; fix or delete it.`, {
      cause: error,
    });
  }
  const parsed = schedulerState.safeParse(json);
  // Refuse rather than start empty: silently dropping schedules is the one thing not to do.
  if (!parsed.success) {
    throw new StateFileError(
      `The scheduler state file ${file} is not valid: ${z.prettifyError(parsed.error)}. Fix or delete it.`,
    );
  }
  return parsed.data;
}

export async function saveState(file: string, state: SchedulerState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
