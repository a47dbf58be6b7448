import { runCounterKeyOf } from '../campaigns/counters';
import type { MessageCategory } from '../compliance/suppression';
import { resolveAudience } from '../members/audience';
import { memberShard, memberShards, phoneHash } from '../members/identity';
import type { Member } from '../members/member';
import type { MemberStore, OptOutStore } from '../members/store';
import type { SendMessage } from '../queues/messages';
import { compileSegment } from '../segments/compile';
import type { SegmentDefinition } from '../segments/definition';
import { forEachConcurrently } from '../shared/concurrency';
import type { Tenant } from '../tenancy/tenant';
import { planMessages, type VariantSplit } from './assignment';
import type { MessageStore } from './record';

// The segmenter's work for one run (ARCHITECTURE.md, "The flow of one campaign"): resolve the
// audience shard by shard, record every member as pending or suppressed (with the reason),
// and put the pending ones on the send queue in batches. A shard is checkpointed once all of
// its records exist and are enqueued, so a run stopped half-way (a timeout, a crash) resumes
// at the shards not done and creates nothing twice. A shard interrupted between creating its
// records and finishing is done again: its records already exist (created once), and its
// pending members are enqueued again, which the sender's claim makes harmless; not enqueuing
// them could leave them pending forever.

export const membersPerSendMessage = 100;

export interface RunCountersPort {
  /** Adds to a run's counters, aggregated for a whole page (never one write per member). */
  add(
    tenantId: string,
    campaignId: string,
    runId: string,
    deltas: Readonly<Record<string, number>>,
  ): Promise<void>;
}

export interface SegmenterDeps {
  readonly members: Pick<MemberStore, 'scanShard' | 'getMany'>;
  readonly optOuts: Pick<OptOutStore, 'all'>;
  readonly messages: MessageStore;
  readonly counters: RunCountersPort;
  readonly enqueueSends: (messages: readonly SendMessage[]) => Promise<void>;
  readonly now: () => Date;
}

export interface SegmentRunInput {
  readonly tenant: Tenant;
  readonly campaignId: string;
  readonly runId: string;
  readonly category: MessageCategory;
  readonly audience:
    | { readonly definition: SegmentDefinition }
    | { readonly memberIds: readonly string[] }
    /** A retry: the members whose message failed in that run of the campaign. */
    | { readonly failedOf: string };
  readonly holdoutPercent: number;
  readonly variants: readonly VariantSplit[];
  /** Stop starting new shards after this instant (the Lambda's remaining time, less a margin). */
  readonly deadline: Date;
  readonly parallelism?: number;
}

export interface SegmentRunResult {
  /** True when every shard is done: the audience is fully recorded and enqueued. */
  readonly complete: boolean;
  readonly shardsDone: number;
  readonly created: number;
  readonly enqueued: number;
}

export async function segmentRun(deps: SegmenterDeps, input: SegmentRunInput): Promise<SegmentRunResult> {
  const { tenant, campaignId, runId } = input;
  const tenantId = tenant.tenantId;
  const done = await deps.messages.shardsDone(tenantId, runId);
  // Opt-outs are loaded once per invocation: the sender checks again before each message.
  const optedOut = new Set<string>();
  if (input.category === 'marketing') {
    for await (const page of deps.optOuts.all(tenantId)) for (const o of page) optedOut.add(o.phoneHash);
  }
  const isOptedOut = (member: Member): boolean => optedOut.has(phoneHash({ tenantId, phone: member.phone }));
  const pages = audiencePages(deps, input);

  let created = 0;
  let enqueued = 0;
  const shards = memberShards.filter((shard) => !done.has(shard));
  const recordShard = async (shard: number): Promise<void> => {
    for await (const members of pages(shard)) {
      const plan = planMessages({
        members,
        seed: campaignId,
        category: input.category,
        holdoutPercent: input.holdoutPercent,
        variants: input.variants,
        isOptedOut,
      });
      const written = await deps.messages.create(tenantId, { campaignId, runId }, plan.records, deps.now());
      created += written.created.length;
      // Counters count each record once: only what this call created.
      const createdNow = new Set(written.created);
      const deltas: Record<string, number> = {};
      for (const record of plan.records) {
        if (!createdNow.has(record.memberId)) continue;
        const counted =
          record.state === 'pending'
            ? ({ counter: 'queued' } as const)
            : ({ counter: 'suppressed', reason: record.reason } as const);
        for (const variantId of record.variantId === undefined
          ? [undefined]
          : [undefined, record.variantId]) {
          for (const key of [
            runCounterKeyOf({ variantId, counter: 'targeted' }),
            runCounterKeyOf({ variantId, ...counted }),
          ]) {
            deltas[key] = (deltas[key] ?? 0) + 1;
          }
        }
      }
      if (Object.keys(deltas).length > 0) await deps.counters.add(tenantId, campaignId, runId, deltas);
      const batches: SendMessage[] = [];
      for (let i = 0; i < plan.pending.length; i += membersPerSendMessage) {
        batches.push({
          type: 'send.batch',
          tenantId,
          campaignId,
          runId,
          memberIds: plan.pending.slice(i, i + membersPerSendMessage),
        });
      }
      if (batches.length > 0) await deps.enqueueSends(batches);
      enqueued += plan.pending.length;
    }
    await deps.messages.markShardDone(tenantId, runId, shard);
    done.add(shard);
  };
  await forEachConcurrently(shards, input.parallelism ?? 4, recordShard, {
    until: () => deps.now() >= input.deadline,
  });
  return { complete: done.size === memberShards.length, shardsDone: done.size, created, enqueued };
}

/** The audience of one shard, page by page: a segment's matches, or the listed members in it. */
function audiencePages(
  deps: SegmenterDeps,
  input: SegmentRunInput,
): (shard: number) => AsyncIterable<Member[]> {
  const tenantId = input.tenant.tenantId;
  if ('memberIds' in input.audience) {
    const byShard = new Map<number, string[]>();
    for (const id of new Set(input.audience.memberIds)) {
      const shard = memberShard(id);
      byShard.set(shard, [...(byShard.get(shard) ?? []), id]);
    }
    return async function* (shard) {
      const ids = byShard.get(shard) ?? [];
      for (let i = 0; i < ids.length; i += 500) {
        const found = await deps.members.getMany(tenantId, ids.slice(i, i + 500));
        // A listed member who no longer exists is not in the audience (nobody to record).
        if (found.size > 0) yield [...found.values()];
      }
    };
  }
  if ('failedOf' in input.audience) {
    const sourceRunId = input.audience.failedOf;
    return async function* (shard) {
      for await (const records of deps.messages.scanShard(tenantId, sourceRunId, shard)) {
        const ids = records
          .filter(
            (record) =>
              record.state === 'failed' && record.campaignId === input.campaignId && record.test !== true,
          )
          .map((record) => record.memberId);
        if (ids.length === 0) continue;
        // A member erased since is not in the audience (nobody to record).
        const found = await deps.members.getMany(tenantId, ids);
        if (found.size > 0) yield [...found.values()];
      }
    };
  }
  const predicate = compileSegment({
    definition: input.audience.definition,
    now: deps.now(),
    tenantTimeZone: input.tenant.timeZone,
  });
  return async function* (shard) {
    for await (const { members } of resolveAudience({
      store: deps.members,
      tenantId,
      predicate,
      shards: [shard],
      parallelism: 1,
    })) {
      yield members;
    }
  };
}
