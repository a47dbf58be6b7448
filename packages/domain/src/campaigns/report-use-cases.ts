import * as z from 'zod';
import type { MemberStore } from '../members/store';
import { type MessageRecord, messageStates } from '../messages/record';
import { maskPhone } from '../privacy/mask';
import { ConflictError, NotFoundError } from '../shared/errors';
import { type Campaign, isRecurring } from './campaign';
import { transition } from './lifecycle';
import { buildRunReport, type RunReport } from './report';
import { type CampaignRun, isActiveRun } from './runs';
import { type CampaignDeps, getCampaign, storeScheduled } from './use-cases';

// The report side of campaigns behind the HTTP API (issue 6, item 7): a run's report, its
// message records a page at a time with phones masked, and a retry of its failed members.

/** The message records of a run a page at a time, filtered (DynamoMessageStore). */
export interface RunMessagePages {
  /**
   * Records of `runId` in key order, of `state` and `variantId` when given: up to `limit`,
   * and a cursor while more may follow (a page can hold fewer when a filter is rare: each
   * request reads a bounded number of records). Throws ValidationError (`query.cursor`) for
   * a cursor it did not give.
   */
  page(
    tenantId: string,
    runId: string,
    options: {
      readonly limit: number;
      readonly cursor?: string;
      readonly state?: MessageRecord['state'];
      readonly variantId?: string;
    },
  ): Promise<{ readonly records: MessageRecord[]; readonly cursor?: string }>;
}

export interface RunMessageDeps {
  readonly messages: RunMessagePages;
  /** For the masked phone of each member (absent when the member was erased). */
  readonly members: Pick<MemberStore, 'getMany'>;
}

/** The run asked for, or the campaign's latest; 404 naming what is missing. */
async function runOf(
  deps: Pick<CampaignDeps, 'runs'>,
  { tenantId, campaign, runId }: { tenantId: string; campaign: Campaign; runId?: string | undefined },
): Promise<CampaignRun> {
  const run =
    runId === undefined
      ? (await deps.runs.list(tenantId, campaign.campaignId, { limit: 1 })).items[0]
      : await deps.runs.get(tenantId, campaign.campaignId, runId);
  if (run) return run;
  throw new NotFoundError(
    runId === undefined
      ? `Campaign ${campaign.campaignId} has no run yet.`
      : `Campaign ${campaign.campaignId} has no run ${runId}.`,
  );
}

/** A run's report (the latest run unless `runId`), from its counters. */
export async function getCampaignReport(
  deps: Pick<CampaignDeps, 'campaigns' | 'runs' | 'runCounters'>,
  { tenantId, campaignId, runId }: { tenantId: string; campaignId: string; runId?: string | undefined },
): Promise<RunReport> {
  const campaign = await getCampaign(deps, { tenantId, campaignId });
  const run = await runOf(deps, { tenantId, campaign, runId });
  // Strongly consistent: a run seen completed shows its final counts, written before it ended.
  const tally = await deps.runCounters.read(tenantId, campaignId, run.runId, { consistent: true });
  return buildRunReport({ campaign, run, tally });
}

/** What GET /campaigns/{id}/messages shows of a record: no phone but a masked one. */
export interface MessageView {
  readonly memberId: string;
  readonly maskedPhone?: string;
  readonly state: MessageRecord['state'];
  readonly reason?: string;
  readonly variantId?: string;
  readonly providerMessageId?: string;
  readonly parts?: number;
  readonly costMicros?: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When the receipt that settled it says the handset or carrier answered. */
  readonly receiptAt?: string;
}

export const messageListQuery = {
  status: z.enum(messageStates).exactOptional(),
  variant: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,20}$/, 'a variant id (A–E)')
    .exactOptional(),
  runId: z.string().min(1).max(40).exactOptional(),
};

function messageView(record: MessageRecord, phone: string | undefined): MessageView {
  return {
    memberId: record.memberId,
    ...(phone === undefined ? {} : { maskedPhone: maskPhone(phone) }),
    state: record.state,
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    ...(record.variantId === undefined ? {} : { variantId: record.variantId }),
    ...(record.providerMessageId === undefined ? {} : { providerMessageId: record.providerMessageId }),
    ...(record.parts === undefined ? {} : { parts: record.parts }),
    ...(record.costMicros === undefined ? {} : { costMicros: record.costMicros }),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.receiptAt === undefined ? {} : { receiptAt: record.receiptAt }),
  };
}

/** A run's message records (the latest run unless `runId`), a page at a time, phones masked. */
export async function listRunMessages(
  deps: Pick<CampaignDeps, 'campaigns' | 'runs'> & RunMessageDeps,
  {
    tenantId,
    campaignId,
    runId,
    state,
    variantId,
    limit,
    cursor,
  }: {
    tenantId: string;
    campaignId: string;
    runId?: string | undefined;
    state?: MessageRecord['state'] | undefined;
    variantId?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<{ runId: string; items: MessageView[]; cursor?: string }> {
  const campaign = await getCampaign(deps, { tenantId, campaignId });
  const run = await runOf(deps, { tenantId, campaign, runId });
  const page = await deps.messages.page(tenantId, run.runId, {
    limit,
    ...(cursor === undefined ? {} : { cursor }),
    ...(state === undefined ? {} : { state }),
    ...(variantId === undefined ? {} : { variantId }),
  });
  // Records are keyed by run id alone: one of another campaign's run of the same instant is not shown.
  const records = page.records.filter((record) => record.campaignId === campaignId && record.test !== true);
  const members = await deps.members.getMany(
    tenantId,
    records.map((record) => record.memberId),
    { consistent: false },
  );
  return {
    runId: run.runId,
    items: records.map((record) => messageView(record, members.get(record.memberId)?.phone)),
    ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
  };
}

/** What POST /campaigns/{id}/retry-failed answers. */
export interface RetryStarted {
  readonly campaign: Campaign;
  /** The run whose failed members are retried. */
  readonly ofRunId: string;
  /** Its failed members by its counters (the new run re-checks each one). */
  readonly failedMembers: number;
  /** When the new run's start fires. */
  readonly startsAt: string;
}

/**
 * Starts a run for the failed members of the latest run (or `runId`), through the lifecycle:
 * 1. the campaign must be one-time and ended (completed or failed: 409 while it is running,
 *    paused or scheduled, so no run is going);
 * 2. the run must have failed members: failed at sending, or undelivered and not merely
 *    expired, by its counters (409 "nothing to retry" otherwise);
 * 3. the campaign moves to `scheduled` with `retry` naming the run and a start a few seconds
 *    ahead, through the Scheduler port like any start.
 * The new run's audience is the run's records in state `failed` (segmenter), and each member
 * goes through the usual checks again: opt-out and consent when the audience is recorded;
 * opt-out, frequency caps, quiet hours and budget when the sender claims the message.
 */
export async function retryFailedMembers(
  deps: CampaignDeps,
  { tenantId, campaignId, runId }: { tenantId: string; campaignId: string; runId?: string | undefined },
): Promise<RetryStarted> {
  const now = deps.now();
  const current = await getCampaign(deps, { tenantId, campaignId });
  if (isRecurring(current)) {
    throw new ConflictError(
      `Campaign ${campaignId} is recurring: its next fire sends to its audience again; retry-failed is for one-time campaigns.`,
    );
  }
  const moved = transition({ campaign: current, action: 'retry', now });
  const run = await runOf(deps, { tenantId, campaign: current, runId });
  if (isActiveRun(run)) throw new ConflictError(`Run ${run.runId} is still ${run.state}.`);
  const { total } = await deps.runCounters.read(tenantId, campaignId, run.runId, { consistent: true });
  const failedMembers = total.failed + total.undelivered - (total.undeliveredByReason.expired ?? 0);
  if (failedMembers <= 0) {
    throw new ConflictError(`Run ${run.runId} has no failed members: there is nothing to retry.`);
  }
  const next: Campaign = {
    ...moved,
    startAt: now.toISOString(),
    retry: { ofRunId: run.runId, requestedAt: now.toISOString() },
  };
  const request = await storeScheduled(deps, {
    tenantId,
    campaign: next,
    previousVersion: current.updatedAt,
    now,
  });
  const startsAt = request.spec.kind === 'at' ? request.spec.at : now.toISOString();
  return { campaign: next, ofRunId: run.runId, failedMembers, startsAt };
}
