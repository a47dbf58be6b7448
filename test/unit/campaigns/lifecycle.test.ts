import {
  type Campaign,
  type CampaignAction,
  type CampaignState,
  ConflictError,
  campaignActions,
  campaignStates,
  transition,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

const now = new Date('2026-11-23T08:00:00Z');

function campaignIn(state: CampaignState, overrides: Partial<Campaign> = {}): Campaign {
  return {
    campaignId: 'cmp_000000000001',
    name: '双11',
    category: 'marketing',
    audience: { segmentId: 'seg_1' },
    content: { templateId: 'tpl_000000000001' },
    schedule: { kind: 'at', at: '2026-11-24T01:30:00Z' },
    sendWindow: { start: '09:00', end: '20:00', outside: 'hold' },
    holdoutPercent: 0,
    state,
    ...(state === 'paused' ? { pausedFrom: 'running' as const } : {}),
    createdAt: '2026-11-20T00:00:00.000Z',
    updatedAt: '2026-11-20T00:00:00.000Z',
    ...overrides,
  };
}

// The lifecycle written out on its own, as the issue states it; the code's table must agree.
const allowed: Record<CampaignState, Partial<Record<CampaignAction, CampaignState>>> = {
  draft: { schedule: 'scheduled' },
  scheduled: {
    schedule: 'scheduled',
    start: 'running',
    pause: 'paused',
    fail: 'failed',
    cancel: 'cancelled',
  },
  running: { pause: 'paused', complete: 'completed', fail: 'failed', cancel: 'cancelled' },
  paused: { resume: 'running', complete: 'completed', fail: 'failed', cancel: 'cancelled' },
  completed: { retry: 'scheduled' },
  cancelled: {},
  failed: { retry: 'scheduled' },
};

describe('transition', () => {
  describe('the table', () => {
    for (const state of campaignStates) {
      for (const action of campaignActions) {
        const target = allowed[state][action];
        if (target === undefined) {
          it(`refuses ${action} when ${state} with 409 naming both, changing nothing`, () => {
            const campaign = campaignIn(state);
            const before = structuredClone(campaign);

            const attempt = () => transition({ campaign, action, now });

            expect(attempt).toThrow(ConflictError);
            expect(attempt).toThrow(`is ${state}: it cannot ${action}`);
            expect(campaign).toEqual(before);
          });
        } else {
          it(`moves ${state} to ${target} on ${action}`, () => {
            const campaign = campaignIn(state);

            const next = transition({ campaign, action, now });

            expect(next.state).toBe(target);
            expect(next.updatedAt).toBe(now.toISOString());
            expect(campaign.state).toBe(state);
          });
        }
      }
    }
  });

  it('pauses with the state to resume into, and resumes into it', () => {
    const scheduled = transition({ campaign: campaignIn('scheduled'), action: 'pause', now });
    const running = transition({ campaign: campaignIn('running'), action: 'pause', now });

    expect(scheduled).toMatchObject({ state: 'paused', pausedFrom: 'scheduled' });
    expect(running).toMatchObject({ state: 'paused', pausedFrom: 'running' });
    expect(transition({ campaign: scheduled, action: 'resume', now })).not.toHaveProperty('pausedFrom');
    expect(transition({ campaign: scheduled, action: 'resume', now }).state).toBe('scheduled');
  });

  it('returns a recurring campaign to scheduled when its run completes, and keeps a paused one paused', () => {
    const cron = { schedule: { kind: 'cron' as const, expression: '30 9 * * *', timeZone: 'Asia/Shanghai' } };

    const completed = transition({ campaign: campaignIn('running', cron), action: 'complete', now });
    const pausedCompleted = transition({ campaign: campaignIn('paused', cron), action: 'complete', now });

    expect(completed.state).toBe('scheduled');
    expect(pausedCompleted).toMatchObject({ state: 'paused', pausedFrom: 'scheduled' });
  });

  it('records why a campaign failed', () => {
    const failed = transition({
      campaign: campaignIn('scheduled'),
      action: 'fail',
      now,
      failure: 'start_missed',
    });

    expect(failed.failure).toEqual({ reason: 'start_missed', at: now.toISOString() });
  });

  it('gives each version its own stamp when the clock has not moved', () => {
    const campaign = campaignIn('draft', { updatedAt: now.toISOString() });

    expect(transition({ campaign, action: 'schedule', now }).updatedAt).toBe('2026-11-23T08:00:00.001Z');
  });
});
