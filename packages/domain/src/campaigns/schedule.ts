import type { StartMessage } from '../queues/messages';
import type { ScheduleRequest } from '../scheduling/scheduler';
import type { Campaign } from './campaign';

// How a campaign's schedule becomes a schedule of the Scheduler port, whose every fire is one
// `campaign.start` message on the start queue.
//
// - The name is `<tenant>-<campaignId>` (at most 40 + 1 + 16 characters of the 64 allowed):
//   scheduling again replaces the one schedule, never adds a second, and cancelling knows
//   what to delete without a look-up.
// - `now` is a one-time schedule `startDelaySeconds` ahead rather than a message sent straight
//   to the start queue: every start then takes the same path, a cancel in the meantime
//   deletes it like any other, and the API needs no start-queue client. EventBridge deletes a
//   one-time schedule after it fires (ActionAfterCompletion DELETE; so does the local one).
// - One-time starts carry their own `scheduledAt` (the instant asked for, fixed when the
//   campaign was scheduled), so a start re-created on resume after its time is judged late
//   against the merchant's instant, not the schedule's. A cron start carries the scheduler's
//   `<aws.scheduler.scheduled-time>`, which EventBridge (and the local scheduler) replaces
//   with the occurrence's time.

/** How far ahead a `now` start (or a one-time start resumed after its time) is scheduled. */
export const startDelaySeconds = 5;

/** EventBridge Scheduler's context attribute for the occurrence's scheduled time. */
export const scheduledTimePlaceholder = '<aws.scheduler.scheduled-time>';

export function campaignScheduleName({
  tenantId,
  campaignId,
}: {
  tenantId: string;
  campaignId: string;
}): string {
  return `${tenantId}-${campaignId}`;
}

/**
 * The instant a one-time campaign is due when scheduled at `now` (`at` as given, `now` as
 * the moment of the request); undefined for a recurring campaign.
 */
export function oneTimeStartAt({
  campaign,
  now,
}: {
  campaign: Pick<Campaign, 'schedule'>;
  now: Date;
}): string | undefined {
  if (campaign.schedule.kind === 'cron') return undefined;
  return campaign.schedule.kind === 'at' ? campaign.schedule.at : now.toISOString();
}

/** The start message of a one-time fire; a cron fire's `scheduledAt` is the placeholder. */
function startPayload({
  tenantId,
  campaignId,
  scheduledAt,
}: {
  tenantId: string;
  campaignId: string;
  scheduledAt: string;
}): StartMessage {
  return { type: 'campaign.start', tenantId, campaignId, scheduledAt };
}

/**
 * The schedule that starts `campaign`. A one-time start fires at its `startAt`, or
 * `startDelaySeconds` from now when that has passed (a `now` campaign, or one resumed late),
 * rounded up to the whole second EventBridge's at() takes.
 */
export function campaignScheduleRequest({
  tenantId,
  campaign,
  now,
}: {
  tenantId: string;
  campaign: Pick<Campaign, 'campaignId' | 'schedule' | 'startAt'>;
  now: Date;
}): ScheduleRequest {
  const name = campaignScheduleName({ tenantId, campaignId: campaign.campaignId });
  const { schedule } = campaign;
  if (schedule.kind === 'cron') {
    return {
      name,
      spec: { kind: 'cron', expression: schedule.expression, timeZone: schedule.timeZone },
      payload: {
        type: 'campaign.start',
        tenantId,
        campaignId: campaign.campaignId,
        scheduledAt: scheduledTimePlaceholder,
      },
    };
  }
  const startAt = campaign.startAt ?? oneTimeStartAt({ campaign, now }) ?? now.toISOString();
  const earliest = now.getTime() + startDelaySeconds * 1000;
  const fireAt = Math.ceil(Math.max(Date.parse(startAt), earliest) / 1000) * 1000;
  return {
    name,
    spec: { kind: 'at', at: new Date(fireAt).toISOString() },
    payload: startPayload({ tenantId, campaignId: campaign.campaignId, scheduledAt: startAt }),
  };
}
