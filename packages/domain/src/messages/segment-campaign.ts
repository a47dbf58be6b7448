import { type CampaignDeps, recordStart } from '../campaigns/use-cases';
import type { StartMessage } from '../queues/messages';
import { nextVersion } from '../shared/records';
import type { TenantStore } from '../tenancy/store';
import type { VariantSplit } from './assignment';
import { type SegmenterDeps, type SegmentRunInput, segmentRun } from './segmenter';

// The start queue's work: a start message becomes a run (or is recognized as a duplicate,
// or recorded as missed), and the run's audience is recorded and enqueued. An invocation that
// runs out of time says so, and the caller puts the same start message back on the queue:
// the duplicate it makes continues the run where its checkpoints stand.

export interface CampaignSegmenterDeps extends SegmenterDeps {
  readonly campaign: Pick<CampaignDeps, 'campaigns' | 'runs' | 'scheduler' | 'segments'>;
  readonly tenants: Pick<TenantStore, 'getTenant'>;
}

export type SegmentCampaignOutcome =
  | { readonly outcome: 'segmented'; readonly runId: string; readonly created: number }
  | { readonly outcome: 'continue'; readonly runId: string; readonly created: number }
  | { readonly outcome: 'missed' | 'ignored' | 'stopped'; readonly reason: string };

export async function segmentCampaignRun(
  deps: CampaignSegmenterDeps,
  {
    message,
    toleranceSeconds,
    deadline,
  }: { message: StartMessage; toleranceSeconds: number; deadline: Date },
): Promise<SegmentCampaignOutcome> {
  const decision = await recordStart({ ...deps.campaign, now: deps.now }, { message, toleranceSeconds });
  if (decision.outcome === 'ignored') return { outcome: 'ignored', reason: decision.reason };
  if (decision.outcome === 'missed')
    return { outcome: 'missed', reason: decision.run.missedReason ?? 'late' };
  if (decision.run.state !== 'starting') {
    return { outcome: 'ignored', reason: `the run is already ${decision.run.state}` };
  }
  const { tenantId, campaignId } = message;
  const run = decision.run;
  const campaign = await deps.campaign.campaigns.get(tenantId, campaignId);
  if (campaign?.state !== 'running') {
    // Paused or cancelled while its audience was being recorded: stop here. Resume puts a
    // start back (a duplicate of this fire), which continues from the checkpoints.
    return { outcome: 'stopped', reason: `the campaign is ${campaign?.state ?? 'gone'}` };
  }
  const tenant = await deps.tenants.getTenant(tenantId);
  if (!tenant) return { outcome: 'ignored', reason: 'the tenant no longer exists' };

  let audience: SegmentRunInput['audience'];
  // A retry (POST retry-failed) targets the failed members of the run it names, not the audience.
  if (campaign.retry !== undefined) audience = { failedOf: campaign.retry.ofRunId };
  else if ('memberIds' in campaign.audience) audience = { memberIds: campaign.audience.memberIds };
  else if ('definition' in campaign.audience) audience = { definition: campaign.audience.definition };
  else {
    const segment = await deps.campaign.segments.get(tenantId, campaign.audience.segmentId);
    if (!segment)
      return { outcome: 'ignored', reason: `segment ${campaign.audience.segmentId} no longer exists` };
    audience = { definition: segment.definition };
  }
  const variants: VariantSplit[] =
    'variants' in campaign.content
      ? campaign.content.variants.map(({ variantId, percent }) => ({ variantId, percent }))
      : [{ variantId: 'A', percent: 100 }];

  const result = await segmentRun(deps, {
    tenant,
    campaignId,
    runId: run.runId,
    category: campaign.category,
    audience,
    holdoutPercent: campaign.holdoutPercent,
    variants,
    deadline,
  });
  if (!result.complete) return { outcome: 'continue', runId: run.runId, created: result.created };
  // The audience is recorded and enqueued: the run is now the sender's.
  const current = await deps.campaign.runs.get(tenantId, campaignId, run.runId);
  if (current?.state === 'starting') {
    await deps.campaign.runs.replace(
      tenantId,
      {
        ...current,
        state: 'running',
        updatedAt: nextVersion({ now: deps.now(), previous: current.updatedAt }),
      },
      current.updatedAt,
    );
  }
  return { outcome: 'segmented', runId: run.runId, created: result.created };
}
