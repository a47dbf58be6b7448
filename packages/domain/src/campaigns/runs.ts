import * as z from 'zod';
import type { StartMessage } from '../queues/messages';
import type { RecordPage } from '../shared/records';
import { nextVersion } from '../shared/records';
import { fromMicros, toMicros } from '../templates/pricing';
import { type Campaign, campaignId, isRecurring } from './campaign';
import type { RunCounts, RunTally } from './counters';
import { transition } from './lifecycle';

// A run is one fire of a campaign: the one start of a one-time campaign, or one occurrence of
// a recurring one. Runs are keyed by campaign and scheduled time, so a start message that
// arrives twice (SQS redelivery, a scheduler retry) finds its run and starts nothing twice.

export const runStates = ['starting', 'running', 'completed', 'cancelled', 'failed', 'missed'] as const;
export type RunState = (typeof runStates)[number];

/**
 * Why a run was missed: `late`, its start arrived more than the tolerance after the scheduled
 * time (the stack was down, the queue backed up); `overlap`, the previous run of a recurring
 * campaign was still going when this one was due.
 */
export const missedReasons = ['late', 'overlap'] as const;
export type MissedReason = (typeof missedReasons)[number];

export const runId = z
  .string()
  .regex(/^run_\d{8}T\d{9}Z$/, 'run_ and the scheduled time, e.g. run_20261123T093000000Z');

const instant = z.iso.datetime({ offset: true });

/** A run as stored (campaigns table, kind RUN, id `<campaignId>#<runId>`). */
export const campaignRun = z.strictObject({
  campaignId,
  runId,
  /** The instant the run was due (the start message's `scheduledAt`). */
  scheduledAt: instant,
  /** When its start message was accepted. */
  receivedAt: instant,
  /** When it started (absent for a missed run). */
  startedAt: instant.exactOptional(),
  state: z.enum(runStates),
  missedReason: z.enum(missedReasons).exactOptional(),
  endedAt: instant.exactOptional(),
  failure: z.string().min(1).exactOptional(),
  /** The campaign's pauses while this run was going (for the active time behind the rate). */
  pauses: z.array(z.strictObject({ from: instant, to: instant.exactOptional() })).max(100),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type CampaignRun = z.output<typeof campaignRun>;

/** The runs of campaigns, newest first within a campaign. */
export interface RunStore {
  get(tenantId: string, campaignId: string, runId: string): Promise<CampaignRun | undefined>;
  /** Newest first (run ids sort by scheduled time). */
  list(
    tenantId: string,
    campaignId: string,
    options: { limit: number; cursor?: string },
  ): Promise<RecordPage<CampaignRun>>;
  /** Throws ConflictError when the campaign already has a run of that id. */
  create(tenantId: string, run: CampaignRun): Promise<void>;
  /** Throws ConflictError when the stored run's updatedAt is not `expectedUpdatedAt`. */
  replace(tenantId: string, run: CampaignRun, expectedUpdatedAt: string): Promise<void>;
  delete(tenantId: string, campaignId: string, runId: string): Promise<boolean>;
}

/** The run id of a fire: `run_` and the scheduled instant in UTC to the millisecond, so ids sort by time. */
export function runIdFor(scheduledAt: string): string {
  return `run_${new Date(scheduledAt).toISOString().replace(/[-:.]/g, '')}`;
}

export function isActiveRun(run: Pick<CampaignRun, 'state'>): boolean {
  return run.state === 'starting' || run.state === 'running';
}

export type StartDecision =
  /** A new run: store `run`, then the campaign as `campaign` (now running). */
  | { readonly outcome: 'start'; readonly run: CampaignRun; readonly campaign: Campaign }
  /** Recorded and shown, never fired late: store `run`; a one-time campaign fails (`campaign`). */
  | { readonly outcome: 'missed'; readonly run: CampaignRun; readonly campaign?: Campaign }
  /** This fire already has its run: nothing to do (the caller may continue an active one). */
  | { readonly outcome: 'duplicate'; readonly run: CampaignRun }
  /** The campaign is not waiting for a start (paused, cancelled, ended, a draft): nothing is recorded. */
  | { readonly outcome: 'ignored'; readonly reason: string };

/**
 * What a start message does to its campaign, decided in this order:
 * 1. the fire already has a run (`existingRun`) → duplicate, nothing changes;
 * 2. the campaign is neither scheduled nor running (paused, cancelled, ended, draft) →
 *    ignored, nothing recorded (a paused one-time campaign is re-scheduled on resume with
 *    the same `scheduledAt`, which must then still find no run);
 * 3. a recurring campaign still running its previous run → a run recorded `missed` (overlap);
 * 4. now − scheduledAt > tolerance → a run recorded `missed` (late); a one-time campaign,
 *    which has no later fire, fails with `start_missed`;
 * 5. else → a run `starting`, and the campaign `running`.
 */
export function startRun({
  campaign,
  message,
  now,
  toleranceSeconds,
  existingRun,
}: {
  campaign: Campaign;
  message: Pick<StartMessage, 'scheduledAt'>;
  now: Date;
  toleranceSeconds: number;
  existingRun?: CampaignRun | undefined;
}): StartDecision {
  if (existingRun) return { outcome: 'duplicate', run: existingRun };
  if (campaign.state !== 'scheduled' && campaign.state !== 'running') {
    return { outcome: 'ignored', reason: `the campaign is ${campaign.state}` };
  }
  const at = now.toISOString();
  const base = {
    campaignId: campaign.campaignId,
    runId: runIdFor(message.scheduledAt),
    scheduledAt: message.scheduledAt,
    receivedAt: at,
    pauses: [],
    createdAt: at,
    updatedAt: at,
  };
  if (campaign.state === 'running') {
    return { outcome: 'missed', run: { ...base, state: 'missed', missedReason: 'overlap', endedAt: at } };
  }
  const lateMs = now.getTime() - Date.parse(message.scheduledAt);
  if (lateMs > toleranceSeconds * 1000) {
    const run: CampaignRun = { ...base, state: 'missed', missedReason: 'late', endedAt: at };
    if (isRecurring(campaign)) return { outcome: 'missed', run };
    return {
      outcome: 'missed',
      run,
      campaign: transition({ campaign, action: 'fail', now, failure: 'start_missed' }),
    };
  }
  return {
    outcome: 'start',
    run: { ...base, state: 'starting', startedAt: at },
    campaign: transition({ campaign, action: 'start', now }),
  };
}

/** The run with a pause opened (campaign paused) or closed (resumed) at `now`. */
export function markPause({
  run,
  now,
  paused,
}: {
  run: CampaignRun;
  now: Date;
  paused: boolean;
}): CampaignRun {
  const at = now.toISOString();
  if (paused === isPaused(run)) return run;
  const pauses = paused
    ? [...run.pauses, { from: at }]
    : run.pauses.map((pause, i) => (i === run.pauses.length - 1 ? { ...pause, to: at } : pause));
  // Bounded: a run paused a hundred times keeps its first 99 pauses and the latest.
  const bounded = pauses.length > 100 ? [...pauses.slice(0, 99), ...pauses.slice(-1)] : pauses;
  return { ...run, pauses: bounded, updatedAt: nextVersion({ now, previous: run.updatedAt }) };
}

function isPaused(run: Pick<CampaignRun, 'pauses'>): boolean {
  const latest = run.pauses.at(-1);
  return latest !== undefined && latest.to === undefined;
}

/** The run ended (completed, failed or cancelled) at `now`, with any open pause closed. */
export function endRun({
  run,
  state,
  now,
  failure,
}: {
  run: CampaignRun;
  state: 'completed' | 'failed' | 'cancelled';
  now: Date;
  failure?: string;
}): CampaignRun {
  const closed = markPause({ run, now, paused: false });
  return {
    ...closed,
    state,
    endedAt: now.toISOString(),
    ...(failure === undefined ? {} : { failure }),
    updatedAt: nextVersion({ now, previous: run.updatedAt }),
  };
}

// ── progress ──────────────────────────────────────────────────────────────────────────

export interface ProgressCounts {
  readonly targeted: number;
  readonly suppressed: RunCounts['suppressed'];
  readonly queued: number;
  readonly sent: number;
  readonly delivered: number;
  /** Refused or given up at sending, plus accepted and then reported failed. */
  readonly failed: number;
  readonly unknown: number;
  /** Still to be sent: targeted − suppressed − sent − failed at sending − unknown. */
  readonly remaining: number;
  /** What the accepted messages cost, in millionths of the tenant's currency. */
  readonly spentMicros: number;
}

/** What a run has spent against its campaign's budget cap (a campaign with a budget only). */
export interface BudgetProgress {
  readonly currency: string;
  /** The cap and the cost of the accepted messages, as decimal amounts ("500.00") and in micros. */
  readonly cap: string;
  readonly capMicros: number;
  readonly spent: string;
  readonly spentMicros: number;
}

export interface RunProgress extends ProgressCounts {
  readonly runId: string;
  readonly state: RunState;
  readonly scheduledAt: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly missedReason?: MissedReason;
  /** Messages per second while sending (see runProgress); 0 when the run is not sending. */
  readonly ratePerSecond: number;
  /** When the remaining members will have been sent at that rate; absent when unknown. */
  readonly etaSeconds?: number;
  readonly etaAt?: string;
  readonly budget?: BudgetProgress;
  readonly byVariant: Readonly<Record<string, ProgressCounts>>;
}

/** A run with no batch counted for this long is stalled: no current rate, no ETA. */
export const stalledAfterSeconds = 60;

function progressCounts(counts: RunCounts): ProgressCounts {
  const suppressed = counts.suppressed.total;
  return {
    targeted: counts.targeted,
    suppressed: counts.suppressed,
    queued: counts.queued,
    sent: counts.sent,
    delivered: counts.delivered,
    failed: counts.failed + counts.undelivered,
    unknown: counts.unknown,
    remaining: Math.max(0, counts.targeted - suppressed - counts.sent - counts.failed - counts.unknown),
    spentMicros: counts.spentMicros,
  };
}

/** Milliseconds of [from, to] not covered by a pause. */
function activeMs({ from, to, pauses }: { from: number; to: number; pauses: CampaignRun['pauses'] }): number {
  const paused = pauses.reduce((sum, pause) => {
    const start = Math.max(from, Date.parse(pause.from));
    const end = Math.min(to, pause.to === undefined ? to : Date.parse(pause.to));
    return sum + Math.max(0, end - start);
  }, 0);
  return to - from - paused;
}

/**
 * The progress of a run from its counters at `now`.
 *
 * - Rate: messages the sender has dealt with (sent + failed + unknown) divided by the time it
 *   has been sending: from the first counted batch to the latest, less the pauses in between.
 *   Counters are added per batch, so the rate is the average over the run's sending time, the
 *   steady rate the limiter and throttle hold it to, not a noisy instant reading. It is 0 when
 *   the run is not active (starting or running) or is paused, has counted fewer than two batches' time, or has counted
 *   nothing for `stalledAfterSeconds` (paused, drained, or held by the send window).
 * - ETA: remaining ÷ rate, from now; absent while the rate is 0. It covers the members
 *   targeted so far: while the segmenter is still resolving the audience it grows.
 */
export function runProgress({
  run,
  tally,
  now,
  budget,
}: {
  run: CampaignRun;
  tally: RunTally;
  now: Date;
  /** The campaign's budget cap: progress then shows what the run spent against it. */
  budget?: Campaign['budget'];
}): RunProgress {
  const counts = progressCounts(tally.total);
  const dispatched = tally.total.sent + tally.total.failed + tally.total.unknown;
  const first = tally.firstAt === undefined ? undefined : Date.parse(tally.firstAt);
  const last = tally.lastAt === undefined ? undefined : Date.parse(tally.lastAt);
  const sendingMs =
    first === undefined || last === undefined ? 0 : activeMs({ from: first, to: last, pauses: run.pauses });
  const stalled = last === undefined || now.getTime() - last > stalledAfterSeconds * 1000;
  const ratePerSecond =
    isActiveRun(run) && !isPaused(run) && !stalled && sendingMs >= 1000 && dispatched > 0
      ? Math.round((dispatched / (sendingMs / 1000)) * 10) / 10
      : 0;
  const etaSeconds = ratePerSecond > 0 ? Math.ceil(counts.remaining / ratePerSecond) : undefined;
  return {
    runId: run.runId,
    state: run.state,
    scheduledAt: run.scheduledAt,
    ...(run.startedAt === undefined ? {} : { startedAt: run.startedAt }),
    ...(run.endedAt === undefined ? {} : { endedAt: run.endedAt }),
    ...(run.missedReason === undefined ? {} : { missedReason: run.missedReason }),
    ...counts,
    ratePerSecond,
    ...(etaSeconds === undefined
      ? {}
      : { etaSeconds, etaAt: new Date(now.getTime() + etaSeconds * 1000).toISOString() }),
    ...(budget === undefined
      ? {}
      : {
          budget: {
            currency: budget.currency,
            cap: fromMicros(toMicros(budget.amount)),
            capMicros: toMicros(budget.amount),
            spent: fromMicros(counts.spentMicros),
            spentMicros: counts.spentMicros,
          },
        }),
    byVariant: Object.fromEntries(
      Object.entries(tally.byVariant).map(([variantId, variantCounts]) => [
        variantId,
        progressCounts(variantCounts),
      ]),
    ),
  };
}
