import type { StartMessage } from '../queues/messages';
import type { SchedulerPort } from '../scheduling/scheduler';
import type { SavedSegment } from '../segments/saved-segment';
import { ConflictError, NotFoundError, type Problem, ValidationError } from '../shared/errors';
import { type RandomBytes, randomBase62 } from '../shared/ids';
import { problemsOf } from '../shared/problems';
import type { RecordPage, RecordStore } from '../shared/records';
import { nextVersion } from '../shared/records';
import { templateUsesLink, validateSendValues } from '../templates/template';
import type { SavedTemplate } from '../templates/use-cases';
import type { Tenant } from '../tenancy/tenant';
import {
  type Campaign,
  type CampaignInput,
  type CampaignPatch,
  type CampaignSendWindow,
  campaignSendWindow,
  contentTemplates,
  isRecurring,
  resolveSendWindow,
  type SendWindowInput,
} from './campaign';
import type { RunCounters } from './counters';
import { transition } from './lifecycle';
import {
  type CampaignRun,
  endRun,
  isActiveRun,
  markPause,
  type RunProgress,
  type RunStore,
  runIdFor,
  runProgress,
  type StartDecision,
  startRun,
} from './runs';
import { campaignScheduleName, campaignScheduleRequest, oneTimeStartAt } from './schedule';

// Campaigns behind the HTTP API (create, change while draft, schedule, pause, resume,
// cancel, read with the latest run's progress) and the start of a run, which the segmenter
// calls for each start message.

export interface CampaignDeps {
  readonly campaigns: RecordStore<Campaign>;
  readonly runs: RunStore;
  readonly runCounters: RunCounters;
  /** References are checked against saved templates and segments. */
  readonly templates: RecordStore<SavedTemplate>;
  readonly segments: RecordStore<SavedSegment>;
  readonly scheduler: SchedulerPort;
  readonly random: RandomBytes;
  readonly now: () => Date;
}

/** A campaign and the progress of its latest run (absent before the first start). */
export interface CampaignWithProgress extends Campaign {
  readonly latestRun?: RunProgress;
}

type ReferencedFields = Pick<Campaign, 'category' | 'audience' | 'content' | 'schedule'>;

/**
 * What the campaign refers to, checked against the stores: the segment exists, every
 * template exists and is of the campaign's category (a marketing template must not go out as
 * a notification, past consent and opt-outs), and the values fill each template's variables.
 * With `future`, a one-time `at` must still be ahead. Every problem at its path under `root`.
 */
async function referenceProblems(
  deps: Pick<CampaignDeps, 'templates' | 'segments'>,
  {
    tenantId,
    fields,
    root,
    now,
  }: { tenantId: string; fields: ReferencedFields; root: string; now?: Date | undefined },
): Promise<Problem[]> {
  const problems: Problem[] = [];
  if ('segmentId' in fields.audience) {
    const { segmentId } = fields.audience;
    if (!(await deps.segments.get(tenantId, segmentId))) {
      problems.push({ path: `${root}.audience.segmentId`, message: `no segment ${segmentId}` });
    }
  }
  for (const { templateId, values, link, path } of contentTemplates(fields.content)) {
    const at = [root, 'content', ...(path === '' ? [] : [path])].join('.');
    const template = await deps.templates.get(tenantId, templateId);
    if (!template) {
      problems.push({ path: `${at}.templateId`, message: `no template ${templateId}` });
      continue;
    }
    if (template.category !== fields.category) {
      problems.push({
        path: `${at}.templateId`,
        message: `template ${templateId} is a ${template.category} template; this campaign is ${fields.category}`,
      });
      continue;
    }
    if (link === undefined && templateUsesLink(template)) {
      problems.push({
        path: `${at}.link`,
        message: `template ${templateId} has {{link}}: give the https URL each message's short link sends to`,
      });
    }
    try {
      validateSendValues({ template, values, root: `${at}.values` });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (now !== undefined && fields.schedule.kind === 'at' && Date.parse(fields.schedule.at) <= now.getTime()) {
    problems.push({
      path: `${root}.schedule.at`,
      message: `${fields.schedule.at} has passed; give a later instant or {"kind": "now"}`,
    });
  }
  return problems;
}

async function checkReferences(
  deps: Pick<CampaignDeps, 'templates' | 'segments'>,
  input: { tenantId: string; fields: ReferencedFields; root: string; now?: Date | undefined },
): Promise<void> {
  const problems = await referenceProblems(deps, input);
  if (problems.length > 0) throw new ValidationError(problems, 'The campaign refers to what cannot be sent.');
}

/** The campaign's send window (hours given, else `fallback`'s) or a 400 at `body.sendWindow`. */
function windowOf({
  given,
  fallback,
}: {
  given: SendWindowInput | undefined;
  fallback: CampaignSendWindow | Tenant['sendWindow'];
}): CampaignSendWindow {
  const window = resolveSendWindow({ given, fallback });
  const checked = campaignSendWindow.safeParse(window);
  if (!checked.success) throw new ValidationError(problemsOf(checked.error, 'body.sendWindow'));
  return window;
}

/**
 * Saves a draft: 1. checks the references (segment, templates, values; 400 naming each);
 * 2. fills the send window (hours not given are the tenant's; held outside by default);
 * 3. stores it under a new id.
 */
export async function createCampaign(
  deps: Pick<CampaignDeps, 'campaigns' | 'templates' | 'segments' | 'random' | 'now'>,
  { tenant, input }: { tenant: Pick<Tenant, 'tenantId' | 'sendWindow'>; input: CampaignInput },
): Promise<Campaign> {
  const now = deps.now();
  const tenantId = tenant.tenantId;
  const { sendWindow, ...fields } = input;
  const window = windowOf({ given: sendWindow, fallback: tenant.sendWindow });
  await checkReferences(deps, { tenantId, fields, root: 'body', now });
  const at = now.toISOString();
  const saved: Campaign = {
    ...fields,
    sendWindow: window,
    campaignId: `cmp_${randomBase62({ random: deps.random, length: 12 })}`,
    state: 'draft',
    createdAt: at,
    updatedAt: at,
  };
  await deps.campaigns.create(tenantId, saved.campaignId, saved);
  return saved;
}

export async function getCampaign(
  deps: Pick<CampaignDeps, 'campaigns'>,
  { tenantId, campaignId }: { tenantId: string; campaignId: string },
): Promise<Campaign> {
  const found = await deps.campaigns.get(tenantId, campaignId);
  if (!found) throw new NotFoundError(`No campaign ${campaignId}.`);
  return found;
}

/** The latest run of a campaign, if it has one. */
async function latestRun(
  deps: Pick<CampaignDeps, 'runs'>,
  { tenantId, campaignId }: { tenantId: string; campaignId: string },
): Promise<CampaignRun | undefined> {
  return (await deps.runs.list(tenantId, campaignId, { limit: 1 })).items[0];
}

/** The campaign with its latest run's progress (counters summed, rate and ETA computed). */
export async function getCampaignWithProgress(
  deps: Pick<CampaignDeps, 'campaigns' | 'runs' | 'runCounters' | 'now'>,
  { tenantId, campaignId }: { tenantId: string; campaignId: string },
): Promise<CampaignWithProgress> {
  const campaign = await getCampaign(deps, { tenantId, campaignId });
  const run = await latestRun(deps, { tenantId, campaignId });
  if (!run) return campaign;
  // Strongly consistent: a run seen completed shows its final counts, written before it ended.
  const tally = await deps.runCounters.read(tenantId, campaignId, run.runId, { consistent: true });
  return {
    ...campaign,
    latestRun: runProgress({
      run,
      tally,
      now: deps.now(),
      ...(campaign.budget === undefined ? {} : { budget: campaign.budget }),
    }),
  };
}

/** A campaign's runs, newest first. */
export async function listCampaignRuns(
  deps: Pick<CampaignDeps, 'campaigns' | 'runs'>,
  {
    tenantId,
    campaignId,
    limit,
    cursor,
  }: { tenantId: string; campaignId: string; limit: number; cursor?: string },
): Promise<RecordPage<CampaignRun>> {
  await getCampaign(deps, { tenantId, campaignId });
  return deps.runs.list(tenantId, campaignId, { limit, ...(cursor === undefined ? {} : { cursor }) });
}

function draftOnly(campaign: Campaign, doing: string): void {
  if (campaign.state === 'draft') return;
  throw new ConflictError(
    `Campaign ${campaign.campaignId} is ${campaign.state}: only a draft can be ${doing}${
      campaign.state === 'scheduled' || campaign.state === 'paused' ? '; cancel it and create another' : ''
    }.`,
  );
}

/**
 * Changes a draft: what the patch gives replaces the field (`null` removes throttle or
 * budget), the result's references are checked as at creation, and the write is conditional
 * on the version read (`expectedUpdatedAt` also refuses an edit of a stale copy). 409 once
 * the campaign is scheduled.
 */
export async function updateCampaign(
  deps: Pick<CampaignDeps, 'campaigns' | 'templates' | 'segments' | 'now'>,
  {
    tenantId,
    campaignId,
    patch,
    expectedUpdatedAt,
  }: { tenantId: string; campaignId: string; patch: CampaignPatch; expectedUpdatedAt?: string },
): Promise<Campaign> {
  const current = await getCampaign(deps, { tenantId, campaignId });
  if (expectedUpdatedAt !== undefined && expectedUpdatedAt !== current.updatedAt) {
    throw new ConflictError(
      `Campaign ${campaignId} was changed at ${current.updatedAt}; read it again and retry.`,
    );
  }
  draftOnly(current, 'changed');
  const { throttle, budget, sendWindow, ...given } = patch;
  const { throttle: currentThrottle, budget: currentBudget, ...kept } = current;
  const nextThrottle = throttle === null ? undefined : (throttle ?? currentThrottle);
  const nextBudget = budget === null ? undefined : (budget ?? currentBudget);
  const now = deps.now();
  const next: Campaign = {
    ...kept,
    ...given,
    sendWindow: windowOf({ given: sendWindow, fallback: current.sendWindow }),
    ...(nextThrottle === undefined ? {} : { throttle: nextThrottle }),
    ...(nextBudget === undefined ? {} : { budget: nextBudget }),
    updatedAt: nextVersion({ now, previous: current.updatedAt }),
  };
  await checkReferences(deps, { tenantId, fields: next, root: 'body', now });
  await deps.campaigns.replace(tenantId, campaignId, next, current.updatedAt);
  return next;
}

/** Deletes a draft (409 otherwise: a campaign that was scheduled keeps its record and runs). */
export async function deleteCampaign(
  deps: Pick<CampaignDeps, 'campaigns'>,
  { tenantId, campaignId }: { tenantId: string; campaignId: string },
): Promise<void> {
  const current = await getCampaign(deps, { tenantId, campaignId });
  draftOnly(current, 'deleted');
  if (!(await deps.campaigns.delete(tenantId, campaignId)))
    throw new NotFoundError(`No campaign ${campaignId}.`);
}

/**
 * Schedules a draft: 1. the move must be allowed (a scheduled campaign may be scheduled
 * again: the same schedule is re-created); 2. the references are checked again (a template
 * may have been deleted since) and a one-time `at` must be ahead; 3. the schedule is put
 * under the campaign's one name; 4. the campaign is stored as scheduled. The schedule comes
 * first so a scheduled campaign always has one; if the campaign changed meanwhile, the
 * schedule of a campaign left in draft is removed again and the answer is 409.
 */
export async function scheduleCampaign(
  deps: CampaignDeps,
  { tenantId, campaignId }: { tenantId: string; campaignId: string },
): Promise<Campaign> {
  const now = deps.now();
  const current = await getCampaign(deps, { tenantId, campaignId });
  const moved = transition({ campaign: current, action: 'schedule', now });
  await checkReferences(deps, {
    tenantId,
    fields: current,
    root: 'campaign',
    now: current.state === 'draft' ? now : undefined,
  });
  const startAt = current.startAt ?? oneTimeStartAt({ campaign: current, now });
  const next: Campaign = { ...moved, ...(startAt === undefined ? {} : { startAt }) };
  await storeScheduled(deps, { tenantId, campaign: next, previousVersion: current.updatedAt, now });
  return next;
}

/**
 * Puts the campaign's schedule, then stores it scheduled. A campaign changed meanwhile is not
 * stored (409); unless another request scheduled it, the schedule just put is deleted again.
 * Returns the schedule put.
 */
export async function storeScheduled(
  deps: Pick<CampaignDeps, 'campaigns' | 'scheduler'>,
  {
    tenantId,
    campaign,
    previousVersion,
    now,
  }: { tenantId: string; campaign: Campaign; previousVersion: string; now: Date },
): Promise<ReturnType<typeof campaignScheduleRequest>> {
  const { campaignId } = campaign;
  const request = campaignScheduleRequest({ tenantId, campaign, now });
  await deps.scheduler.put(request);
  try {
    await deps.campaigns.replace(tenantId, campaignId, campaign, previousVersion);
  } catch (error) {
    if (error instanceof ConflictError) {
      const stored = await deps.campaigns.get(tenantId, campaignId);
      if (stored?.state !== 'scheduled')
        await deps.scheduler.delete(campaignScheduleName({ tenantId, campaignId }));
    }
    throw error;
  }
  return request;
}

/**
 * Pauses a scheduled or running campaign. The campaign is stored first, so a start that
 * arrives from then on is ignored; then its schedule is deleted (nothing fires while paused)
 * and, when a run is going, the pause is noted on it (the rate leaves paused time out). The
 * sender stops claiming messages of a paused campaign.
 */
export async function pauseCampaign(
  deps: CampaignDeps,
  { tenantId, campaignId }: { tenantId: string; campaignId: string },
): Promise<Campaign> {
  const now = deps.now();
  const current = await getCampaign(deps, { tenantId, campaignId });
  const next = transition({ campaign: current, action: 'pause', now });
  await deps.campaigns.replace(tenantId, campaignId, next, current.updatedAt);
  await deps.scheduler.delete(campaignScheduleName({ tenantId, campaignId }));
  if (current.state === 'running') await notePause(deps, { tenantId, campaignId, now, paused: true });
  return next;
}

/**
 * Resumes a paused campaign into the state it was paused from. A recurring campaign, or one
 * paused before its start, gets its schedule back first (a one-time start now past is put a
 * few seconds ahead with its original `scheduledAt`, and is judged late, not fired late, if
 * the pause outlasted the tolerance).
 */
export async function resumeCampaign(
  deps: CampaignDeps,
  { tenantId, campaignId }: { tenantId: string; campaignId: string },
): Promise<Campaign> {
  const now = deps.now();
  const current = await getCampaign(deps, { tenantId, campaignId });
  const next = transition({ campaign: current, action: 'resume', now });
  if (isRecurring(current) || current.pausedFrom === 'scheduled') {
    await deps.scheduler.put(campaignScheduleRequest({ tenantId, campaign: next, now }));
  }
  await deps.campaigns.replace(tenantId, campaignId, next, current.updatedAt);
  if (current.pausedFrom === 'running') await notePause(deps, { tenantId, campaignId, now, paused: false });
  return next;
}

/** Cancels a scheduled, running or paused campaign: its schedule is deleted and a going run ends cancelled. */
export async function cancelCampaign(
  deps: CampaignDeps,
  { tenantId, campaignId }: { tenantId: string; campaignId: string },
): Promise<Campaign> {
  const now = deps.now();
  const current = await getCampaign(deps, { tenantId, campaignId });
  const next = transition({ campaign: current, action: 'cancel', now });
  await deps.campaigns.replace(tenantId, campaignId, next, current.updatedAt);
  await deps.scheduler.delete(campaignScheduleName({ tenantId, campaignId }));
  const run = await latestRun(deps, { tenantId, campaignId });
  if (run && isActiveRun(run)) {
    await deps.runs.replace(tenantId, endRun({ run, state: 'cancelled', now }), run.updatedAt);
  }
  return next;
}

async function notePause(
  deps: Pick<CampaignDeps, 'runs'>,
  { tenantId, campaignId, now, paused }: { tenantId: string; campaignId: string; now: Date; paused: boolean },
): Promise<void> {
  const run = await latestRun(deps, { tenantId, campaignId });
  if (!run || !isActiveRun(run)) return;
  const next = markPause({ run, now, paused });
  if (next !== run) await deps.runs.replace(tenantId, next, run.updatedAt);
}

/**
 * Handles one start message (the segmenter calls it first): decides with startRun, then
 * 1. stores the run, conditionally: a second message for the same fire finds it taken and
 *    is a duplicate;
 * 2. stores the campaign's move (running, or failed for a one-time start missed), retried on a
 *    concurrent change; if a pause or cancel won the race, the new run is withdrawn and the
 *    start ignored, as if it had arrived after;
 * 3. deletes a one-time schedule (EventBridge deletes it after firing too; this is for the
 *    schedulers that do not).
 * A duplicate whose run is `starting` while the campaign still says `scheduled` (a crash
 * between 1 and 2) completes step 2, so a redelivered message repairs the start.
 */
export async function recordStart(
  deps: Pick<CampaignDeps, 'campaigns' | 'runs' | 'scheduler' | 'now'>,
  { message, toleranceSeconds }: { message: StartMessage; toleranceSeconds: number },
): Promise<StartDecision> {
  const { tenantId, campaignId } = message;
  const now = deps.now();
  const campaign = await deps.campaigns.get(tenantId, campaignId);
  if (!campaign) return { outcome: 'ignored', reason: 'the campaign does not exist' };
  const id = runIdFor(message.scheduledAt);
  const existingRun = await deps.runs.get(tenantId, campaignId, id);
  const decision = startRun({ campaign, message, now, toleranceSeconds, existingRun });

  if (decision.outcome === 'duplicate') {
    if (decision.run.state === 'starting' && campaign.state === 'scheduled') {
      await moveCampaign(deps, { tenantId, campaignId, now, action: 'start' });
    }
    return decision;
  }
  if (decision.outcome === 'ignored') return decision;

  try {
    await deps.runs.create(tenantId, decision.run);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const run = await deps.runs.get(tenantId, campaignId, id);
    if (run) return { outcome: 'duplicate', run };
    throw error;
  }
  if (decision.campaign) {
    const action = decision.outcome === 'start' ? 'start' : 'fail';
    const moved = await moveCampaign(deps, { tenantId, campaignId, now, action, expected: campaign });
    if (!moved && decision.outcome === 'start') {
      await deps.runs.delete(tenantId, campaignId, id);
      return { outcome: 'ignored', reason: 'the campaign was paused or cancelled as it started' };
    }
  }
  if (!isRecurring(campaign)) await deps.scheduler.delete(campaignScheduleName({ tenantId, campaignId }));
  return decision;
}

/**
 * Applies `action` to the stored campaign while it is still `scheduled`, re-reading it on a
 * concurrent change (a few times). False when the campaign is no longer scheduled.
 */
async function moveCampaign(
  deps: Pick<CampaignDeps, 'campaigns'>,
  {
    tenantId,
    campaignId,
    now,
    action,
    expected,
  }: { tenantId: string; campaignId: string; now: Date; action: 'start' | 'fail'; expected?: Campaign },
): Promise<boolean> {
  let current = expected ?? (await deps.campaigns.get(tenantId, campaignId));
  for (let attempt = 0; attempt < 5 && current?.state === 'scheduled'; attempt++) {
    const next = transition({
      campaign: current,
      action,
      now,
      ...(action === 'fail' ? { failure: 'start_missed' } : {}),
    });
    try {
      await deps.campaigns.replace(tenantId, campaignId, next, current.updatedAt);
      return true;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      current = await deps.campaigns.get(tenantId, campaignId);
    }
  }
  return false;
}

/**
 * Ends a run (the sender calls it when no message record is pending or claimed): the run is
 * stored completed or failed, and a running campaign completes (a recurring one returns to
 * `scheduled` for its next fire) or fails. Ending a run that already ended changes nothing.
 */
export async function finishRun(
  deps: Pick<CampaignDeps, 'campaigns' | 'runs' | 'now'>,
  {
    tenantId,
    campaignId,
    runId,
    state,
    failure,
  }: { tenantId: string; campaignId: string; runId: string; state: 'completed' | 'failed'; failure?: string },
): Promise<{ campaign: Campaign; run: CampaignRun }> {
  const now = deps.now();
  const run = await deps.runs.get(tenantId, campaignId, runId);
  if (!run) throw new NotFoundError(`Campaign ${campaignId} has no run ${runId}.`);
  const campaign = await getCampaign(deps, { tenantId, campaignId });
  if (!isActiveRun(run)) return { campaign, run };
  const ended = endRun({ run, state, now, ...(failure === undefined ? {} : { failure }) });
  await deps.runs.replace(tenantId, ended, run.updatedAt);
  if (campaign.state !== 'running' && campaign.state !== 'paused') return { campaign, run: ended };
  const next = transition({
    campaign,
    action: state === 'completed' ? 'complete' : 'fail',
    now,
    ...(failure === undefined ? {} : { failure }),
  });
  await deps.campaigns.replace(tenantId, campaignId, next, campaign.updatedAt);
  return { campaign: next, run: ended };
}
