import { BatchWriteCommand, DynamoMemberStore, DynamoOptOutStore, DynamoRecordStore } from '@qunfa/aws';
import {
  compileSegment,
  type Member,
  memberShard,
  memberShards,
  parseSegmentDefinition,
  phoneHash,
  previewSegment,
  type SavedSegment,
  segmentFields,
  tenantSettings,
} from '@qunfa/domain';
import * as z from 'zod';
import { startLocalDynamo } from '../test/support/local';
import { type BenchResult, round1 } from './support';

// Segments: (1) a five-condition definition compiled once and evaluated over in-memory
// members, per second of this thread's CPU; (2) POST /segments/preview's work on DynamoDB
// Local (every shard read, predicate, opt-out look-ups, sample) against the ceiling of simply
// reading every shard of the same tenant, measured in the same run.

const now = new Date('2026-11-23T04:00:00Z');
const tags = ['vip', 'new', 'staff', 'coffee', 'tea', '双11', '茶'];

function member(i: number): Member {
  const daysAgo = (days: number) =>
    new Date(now.getTime() - days * 86_400_000 - (i % 86_400) * 1000).toISOString();
  return {
    memberId: `m${String(i).padStart(7, '0')}`,
    phone: `+86138${String(i).padStart(8, '0')}`,
    phoneStatus: 'valid',
    tags: [tags[i % 7] ?? 'vip', tags[(i * 3) % 7] ?? 'tea'],
    consent: { status: i % 5 ? 'granted' : 'unknown' },
    tier: ['gold', 'silver', 'bronze'][i % 3] ?? 'gold',
    store: `S${i % 40}`,
    points: i % 3000,
    totalSpend: (i * 7) % 9000,
    purchaseCount: i % 30,
    lastPurchaseAt: daysAgo(i % 400),
    joinedAt: daysAgo(400 + (i % 1000)),
    birthday: { month: (i % 12) + 1, day: (i % 28) + 1 },
    ...(i % 10 === 0 ? { timeZone: 'America/New_York' } : {}),
    attributes: { city: i % 2 ? '上海' : '杭州' },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

const compound = parseSegmentDefinition({
  input: {
    and: [
      { tags: { any: ['vip', 'coffee'] } },
      { tier: { in: ['gold', 'silver'] } },
      { points: { gte: 100 } },
      { not: { tags: { any: ['staff'] } } },
      { or: [{ lastPurchaseAt: { moreThanDaysAgo: 60 } }, { birthday: { withinNextDays: 7 } }] },
    ],
  },
});

function evaluationRate(): { membersPerSec: number; matched: number } {
  const members = Array.from({ length: 300_000 }, (_, i) => member(i));
  const predicate = compileSegment({ definition: compound, now, tenantTimeZone: 'Asia/Shanghai' });
  let best = Number.POSITIVE_INFINITY;
  let matched = 0;
  for (let run = 0; run < 5; run++) {
    const start = process.threadCpuUsage();
    matched = 0;
    for (const m of members) if (predicate(m)) matched++;
    const used = process.threadCpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  return { membersPerSec: Math.round(members.length / best), matched };
}

export async function segments(): Promise<BenchResult> {
  const rate = evaluationRate();
  const count = Number(process.env.BENCH_PREVIEW_MEMBERS ?? 30_000);
  const dynamo = await startLocalDynamo();
  try {
    const client = dynamo.documentClient;
    const tenantId = 'bench';
    const store = new DynamoMemberStore({ client, tableName: dynamo.tableNames.members });
    // Loaded straight into the table (the import path has its own bench).
    for (let start = 0; start < count; start += 25 * 8) {
      await Promise.all(
        Array.from({ length: 8 }, async (_, k) => {
          const from = start + k * 25;
          const items = Array.from({ length: Math.max(0, Math.min(25, count - from)) }, (_, j) => {
            const { tags: memberTags, ...rest } = member(from + j);
            return {
              PutRequest: {
                Item: {
                  pk: `${tenantId}#M#${String(memberShard(rest.memberId)).padStart(2, '0')}`,
                  sk: `M#${rest.memberId}`,
                  gsi1pk: `${tenantId}#PH#${phoneHash({ tenantId, phone: rest.phone })}`,
                  gsi1sk: rest.memberId,
                  ...rest,
                  tags: new Set(memberTags),
                },
              },
            };
          });
          if (items.length > 0)
            await client.send(
              new BatchWriteCommand({ RequestItems: { [dynamo.tableNames.members]: items } }),
            );
        }),
      );
    }

    const scanStarted = performance.now();
    let scanned = 0;
    await Promise.all(
      memberShards.map(async (shard) => {
        for await (const page of store.scanShard(tenantId, shard)) scanned += page.length;
      }),
    );
    const scanMs = performance.now() - scanStarted;

    const tenant = { tenantId, createdAt: now.toISOString(), ...tenantSettings.parse({ name: 'Bench' }) };
    const previewStarted = performance.now();
    const preview = await previewSegment(
      {
        members: store,
        optOuts: new DynamoOptOutStore({ client, tableName: dynamo.tableNames.suppressions }),
        segments: new DynamoRecordStore<SavedSegment>({
          client,
          tableName: dynamo.tableNames.campaigns,
          kind: 'SEGMENT',
          schema: segmentFields.extend({
            segmentId: z.string(),
            createdAt: z.string(),
            updatedAt: z.string(),
          }),
          label: 'Segment',
        }),
        random: () => new Uint8Array(32),
        now: () => new Date(),
      },
      { tenant, definition: compound, category: 'marketing', sampleSize: 10, budgetMs: 60_000 },
    );
    const previewMs = performance.now() - previewStarted;
    if (scanned !== count || preview.scanned !== count)
      throw new Error(`read ${scanned}/${preview.scanned} of ${count}`);

    const figures = {
      evaluatedMembersPerSec: rate.membersPerSec,
      previewMembers: count,
      previewMatching: preview.matching,
      previewMs: Math.round(previewMs),
      scanAllShardsMs: Math.round(scanMs),
      previewMembersPerSec: Math.round(count / (previewMs / 1000)),
      ratioToScan: round1(scanMs / previewMs),
    };
    console.table([figures]);
    return {
      name: 'segments',
      figures,
      targets: { evaluatedMembersPerSec: { min: 2_000_000 }, ratioToScan: { min: 0.5 } },
    };
  } finally {
    await dynamo.stop();
  }
}
