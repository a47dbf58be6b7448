import type { MessageCategory, SuppressionReason } from '../compliance/suppression';
import { memberShardCount, memberShards, phoneHash } from '../members/identity';
import type { MemberStore, OptOutStore } from '../members/store';
import { forEachConcurrently } from '../shared/concurrency';
import { NotFoundError } from '../shared/errors';
import { type RandomBytes, randomBase62 } from '../shared/ids';
import type { RecordStore } from '../shared/records';
import type { Tenant } from '../tenancy/tenant';
import { compileSegment } from './compile';
import type { SegmentDefinition } from './definition';
import { type AudiencePreview, type AudienceSampleMember, previewAudience } from './preview';
import type { SavedSegment, SegmentFields, SegmentPatch } from './saved-segment';

// Saved segments and the audience preview behind the HTTP API.

export interface SegmentDeps {
  readonly segments: RecordStore<SavedSegment>;
  readonly members: MemberStore;
  readonly optOuts: OptOutStore;
  readonly random: RandomBytes;
  readonly now: () => Date;
}

export async function createSegment(
  deps: SegmentDeps,
  { tenantId, fields }: { tenantId: string; fields: SegmentFields },
): Promise<SavedSegment> {
  const at = deps.now().toISOString();
  const segment: SavedSegment = {
    ...fields,
    segmentId: `seg_${randomBase62({ random: deps.random, length: 12 })}`,
    createdAt: at,
    updatedAt: at,
  };
  await deps.segments.create(tenantId, segment.segmentId, segment);
  return segment;
}

export async function getSegment(
  deps: Pick<SegmentDeps, 'segments'>,
  { tenantId, segmentId }: { tenantId: string; segmentId: string },
): Promise<SavedSegment> {
  const segment = await deps.segments.get(tenantId, segmentId);
  if (!segment) throw new NotFoundError(`No segment ${segmentId}.`);
  return segment;
}

export async function updateSegment(
  deps: SegmentDeps,
  { tenantId, segmentId, patch }: { tenantId: string; segmentId: string; patch: SegmentPatch },
): Promise<SavedSegment> {
  const current = await getSegment(deps, { tenantId, segmentId });
  const { description: _old, ...rest } = current;
  const description = patch.description === null ? undefined : (patch.description ?? current.description);
  const next: SavedSegment = {
    ...rest,
    ...(patch.name === undefined ? {} : { name: patch.name }),
    ...(patch.definition === undefined ? {} : { definition: patch.definition }),
    ...(description === undefined ? {} : { description }),
    updatedAt: deps.now().toISOString(),
  };
  await deps.segments.replace(tenantId, segmentId, next, current.updatedAt);
  return next;
}

export async function deleteSegment(
  deps: Pick<SegmentDeps, 'segments'>,
  { tenantId, segmentId }: { tenantId: string; segmentId: string },
): Promise<void> {
  if (!(await deps.segments.delete(tenantId, segmentId))) throw new NotFoundError(`No segment ${segmentId}.`);
}

export interface SegmentPreview extends AudiencePreview {
  /**
   * False when the time budget ran out before every shard was read: the counts are then
   * extrapolated from the shards read. Members are spread evenly over shards by a hash of
   * their id, so a few shards are a fair sample of the whole.
   */
  readonly exact: boolean;
  readonly shardsRead: number;
  readonly shardCount: number;
}

/**
 * How many members a definition matches, how many would be suppressed and why, and a sample.
 * Shards are read in parallel until `budgetMs` is spent; a tenant too large to read within it
 * gets an estimate from the shards read (marked `exact: false`).
 */
export async function previewSegment(
  deps: SegmentDeps,
  {
    tenant,
    definition,
    category,
    sampleSize,
    budgetMs = 10_000,
    parallelism = 8,
  }: {
    tenant: Tenant;
    definition: SegmentDefinition;
    category: MessageCategory;
    sampleSize: number;
    budgetMs?: number;
    parallelism?: number;
  },
): Promise<SegmentPreview> {
  const started = deps.now().getTime();
  const predicate = compileSegment({ definition, now: deps.now(), tenantTimeZone: tenant.timeZone });
  const tenantId = tenant.tenantId;
  const optedOutPhones = async (phones: readonly string[]): Promise<ReadonlySet<string>> => {
    const hashes = phones.map((phone) => phoneHash({ tenantId, phone }));
    const found = await deps.optOuts.optedOut(tenantId, hashes);
    return new Set(phones.filter((_, i) => found.has(hashes[i] ?? '')));
  };

  const results: AudiencePreview[] = [];
  const readShard = async (shard: number): Promise<void> => {
    results.push(
      await previewAudience({
        members: deps.members.scanShard(tenantId, shard),
        predicate,
        optedOutPhones,
        category,
        sampleSize,
      }),
    );
  };
  // Whole shards only, so the shards read are a fair sample to extrapolate from.
  await forEachConcurrently(memberShards, parallelism, readShard, {
    until: () => results.length > 0 && deps.now().getTime() - started > budgetMs,
  });

  const exact = results.length === memberShardCount;
  const scale = exact ? 1 : memberShardCount / results.length;
  const sum = (pick: (r: AudiencePreview) => number): number =>
    Math.round(results.reduce((total, r) => total + pick(r), 0) * scale);
  const suppressed: Record<SuppressionReason, number> = {
    opted_out: sum((r) => r.suppressed.opted_out),
    no_consent: sum((r) => r.suppressed.no_consent),
    invalid_phone: sum((r) => r.suppressed.invalid_phone),
  };
  const sample: AudienceSampleMember[] = results.flatMap((r) => r.sample).slice(0, sampleSize);
  return {
    exact,
    shardsRead: results.length,
    shardCount: memberShardCount,
    scanned: sum((r) => r.scanned),
    matching: sum((r) => r.matching),
    suppressed,
    eligible: sum((r) => r.eligible),
    sample,
  };
}
