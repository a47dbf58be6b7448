import { ConflictError } from '../shared/errors';
import { nextVersion } from '../shared/records';
import { type Campaign, type CampaignState, isRecurring } from './campaign';

// The campaign lifecycle, as one table (campaignMoves):
//
//   draft ─schedule─▶ scheduled ─start─▶ running ─complete─▶ completed
//                       │  ▲               │  ▲      (a recurring campaign: back to scheduled)
//                 pause │  │ resume  pause │  │ resume
//                       ▼  │               ▼  │
//                      paused             paused     (resume returns where the pause came from)
//
//   scheduled | running | paused ─cancel─▶ cancelled
//   scheduled (a one-time start missed) | running | paused ─fail─▶ failed
//   completed | failed ─retry─▶ scheduled   (a run for the last run's failed members only,
//                                            campaigns/report-use-cases.ts)
//
// A recurring campaign stays `scheduled` between runs: each fire starts a run, and
// completing the run returns the campaign to `scheduled`. Every other move is refused with a
// ConflictError (409) naming the state and the action, and nothing changes.

export const campaignActions = [
  'schedule',
  'start',
  'pause',
  'resume',
  'complete',
  'fail',
  'cancel',
  'retry',
] as const;
export type CampaignAction = (typeof campaignActions)[number];

/**
 * Where each action leads from each state it is allowed in. Two targets depend on the
 * campaign: `resume` returns to `pausedFrom`; `complete` leads to `completed`, or back to
 * `scheduled` for a recurring campaign awaiting its next fire (still `paused`, resuming into
 * `scheduled`, when it was paused). `start`, `complete` and `fail` are the system's moves (a
 * start message, the end of a run); the API offers the others.
 */
export const campaignMoves: Readonly<
  Record<CampaignAction, Partial<Record<CampaignState, CampaignState | 'paused-from' | 'next-run-or-done'>>>
> = {
  // Scheduling a scheduled campaign again re-creates the same schedule (a retried request).
  schedule: { draft: 'scheduled', scheduled: 'scheduled' },
  start: { scheduled: 'running' },
  pause: { scheduled: 'paused', running: 'paused' },
  resume: { paused: 'paused-from' },
  // A run can end while its campaign is paused (every message was claimed before the pause).
  complete: { running: 'next-run-or-done', paused: 'next-run-or-done' },
  // A one-time campaign whose start was missed fails from `scheduled`.
  fail: { scheduled: 'failed', running: 'failed', paused: 'failed' },
  cancel: { scheduled: 'cancelled', running: 'cancelled', paused: 'cancelled' },
  // An ended one-time campaign starts one more run, for its failed members (POST retry-failed).
  retry: { completed: 'scheduled', failed: 'scheduled' },
};

/** Whether `action` is allowed in `state`. */
export function canTransition({ state, action }: { state: CampaignState; action: CampaignAction }): boolean {
  return campaignMoves[action][state] !== undefined;
}

/**
 * The campaign after `action` at `now`: its new state (and `pausedFrom` while paused, the
 * `failure` of a failed one) with `updatedAt` moved on. Throws ConflictError for a move the
 * table does not allow; the campaign given is never changed.
 */
export function transition({
  campaign,
  action,
  now,
  failure,
}: {
  campaign: Campaign;
  action: CampaignAction;
  now: Date;
  /** For `fail`: why. */
  failure?: string;
}): Campaign {
  const target = campaignMoves[action][campaign.state];
  if (target === undefined) {
    const allowed = Object.entries(campaignMoves[action])
      .map(([state]) => state)
      .join(', ');
    throw new ConflictError(
      `Campaign ${campaign.campaignId} is ${campaign.state}: it cannot ${action} (only when ${allowed}).`,
    );
  }
  const { pausedFrom, failure: _failure, ...rest } = campaign;
  const at = nextVersion({ now, previous: campaign.updatedAt });
  if (target === 'paused') {
    const from = campaign.state === 'running' ? 'running' : 'scheduled';
    return { ...rest, state: 'paused', pausedFrom: from, updatedAt: at };
  }
  if (target === 'paused-from') return { ...rest, state: pausedFrom ?? 'scheduled', updatedAt: at };
  if (target === 'next-run-or-done') {
    if (!isRecurring(campaign)) return { ...rest, state: 'completed', updatedAt: at };
    // A recurring campaign paused during a run stays paused, and resumes into waiting for its next fire.
    if (campaign.state === 'paused')
      return { ...rest, state: 'paused', pausedFrom: 'scheduled', updatedAt: at };
    return { ...rest, state: 'scheduled', updatedAt: at };
  }
  if (target === 'failed') {
    return {
      ...rest,
      state: 'failed',
      failure: { reason: failure ?? 'failed', at: now.toISOString() },
      updatedAt: at,
    };
  }
  return { ...rest, state: target, updatedAt: at };
}
