import * as z from 'zod';
import { compileSegment } from '../segments/compile';
import { type SegmentDefinition, segmentDefinition } from '../segments/definition';
import { NotFoundError } from '../shared/errors';
import { type RandomBytes, randomBase62 } from '../shared/ids';
import type { RecordStore } from '../shared/records';
import { nextVersion } from '../shared/records';
import type { TenantStore } from '../tenancy/store';
import { resolveAudience } from './audience';
import { tag } from './member';
import type { MemberStore } from './store';
import { tagMembers } from './use-cases';

// Tagging every member of a segment can touch millions of members: it runs as a job on the
// import queue (the importer function), one UpdateItem per member, with progress written as it
// goes. A list of up to 1,000 member ids is tagged within the request instead (tagMembers).

export const tagChange = {
  add: z.array(tag).max(20).default([]),
  remove: z.array(tag).max(20).default([]),
};

export const tagJob = z.object({
  jobId: z.string(),
  add: z.array(z.string()),
  remove: z.array(z.string()),
  segmentId: z.string().exactOptional(),
  definition: segmentDefinition,
  state: z.enum(['queued', 'running', 'completed', 'failed']),
  /** Members the segment matched so far, and those whose tags were changed. */
  matched: z.number().int().min(0),
  updated: z.number().int().min(0),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().exactOptional(),
  expiresAt: z.number().exactOptional(),
  error: z.string().exactOptional(),
});
export type TagJob = z.infer<typeof tagJob>;

export interface TagJobDeps {
  readonly tagJobs: RecordStore<TagJob>;
  readonly enqueueTagJob: (message: { tenantId: string; jobId: string }) => Promise<void>;
  readonly random: RandomBytes;
  readonly now: () => Date;
}

const retentionSeconds = 7 * 86_400;

export async function createTagJob(
  deps: TagJobDeps,
  {
    tenantId,
    add,
    remove,
    definition,
    segmentId,
  }: { tenantId: string; add: string[]; remove: string[]; definition: SegmentDefinition; segmentId?: string },
): Promise<TagJob> {
  const now = deps.now();
  const job: TagJob = {
    jobId: `tag_${randomBase62({ random: deps.random, length: 12 })}`,
    add,
    remove,
    ...(segmentId === undefined ? {} : { segmentId }),
    definition,
    state: 'queued',
    matched: 0,
    updated: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + retentionSeconds,
  };
  await deps.tagJobs.create(tenantId, job.jobId, job);
  await deps.enqueueTagJob({ tenantId, jobId: job.jobId });
  return job;
}

export async function getTagJob(
  deps: Pick<TagJobDeps, 'tagJobs'>,
  { tenantId, jobId }: { tenantId: string; jobId: string },
): Promise<TagJob> {
  const job = await deps.tagJobs.get(tenantId, jobId);
  if (!job) throw new NotFoundError(`No tag job ${jobId}.`);
  return job;
}

export interface TagJobRunnerDeps {
  readonly tagJobs: RecordStore<TagJob>;
  readonly members: MemberStore;
  readonly tenants: Pick<TenantStore, 'getTenant'>;
  readonly now: () => Date;
  readonly progressEveryMs?: number;
}

/**
 * Tags every member the job's segment matches (evaluated once, when the job starts). Running
 * it again is harmless: adding a tag a member has, or removing one it lacks, changes nothing.
 */
export async function runTagJob(
  deps: TagJobRunnerDeps,
  { tenantId, jobId }: { tenantId: string; jobId: string },
): Promise<'completed' | 'skipped'> {
  const job = await deps.tagJobs.get(tenantId, jobId);
  if (!job || job.state === 'completed' || job.state === 'failed') return 'skipped';
  const tenant = await deps.tenants.getTenant(tenantId);
  if (!tenant) return 'skipped';
  let current = job;
  const save = async (next: Omit<TagJob, 'updatedAt'>): Promise<void> => {
    const written: TagJob = {
      ...next,
      updatedAt: nextVersion({ now: deps.now(), previous: current.updatedAt }),
    };
    await deps.tagJobs.replace(tenantId, jobId, written, current.updatedAt);
    current = written;
  };
  await save({ ...job, state: 'running', matched: 0, updated: 0 });
  const predicate = compileSegment({
    definition: job.definition,
    now: deps.now(),
    tenantTimeZone: tenant.timeZone,
  });
  const at = deps.now().toISOString();
  let matched = 0;
  let updated = 0;
  let lastProgress = deps.now().getTime();
  for await (const { members } of resolveAudience({ store: deps.members, tenantId, predicate })) {
    matched += members.length;
    const tagged = await tagMembers(
      { members: deps.members, now: () => new Date(at) },
      { tenantId, memberIds: members.map((member) => member.memberId), add: job.add, remove: job.remove },
    );
    updated += tagged.updated;
    if (deps.now().getTime() - lastProgress >= (deps.progressEveryMs ?? 2_000)) {
      lastProgress = deps.now().getTime();
      await save({ ...current, matched, updated });
    }
  }
  await save({ ...current, state: 'completed', matched, updated, finishedAt: deps.now().toISOString() });
  return 'completed';
}
