import { randomUUID } from 'node:crypto';
import { DynamoMemberStore, DynamoMessageStore, DynamoOptOutStore } from '@qunfa/aws';
import {
  type Member,
  parseSegmentDefinition,
  phoneHash,
  type SegmenterDeps,
  type SendMessage,
  segmentRun,
  type Tenant,
  tenantSettings,
} from '@qunfa/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../support/local';

// The segmenter on DynamoDB Local: every targeted member recorded exactly once (pending or
// suppressed with its reason), every pending member enqueued, counters that add up to the
// audience, however the run is interrupted and resumed.

let dynamo: LocalDynamo;
const now = new Date('2026-11-23T02:00:00Z');
const size = 400;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

function member(i: number): Member {
  return {
    memberId: `M${String(i).padStart(4, '0')}`,
    phone: `+86139${String(i).padStart(8, '0')}`,
    phoneStatus: i % 50 === 0 ? 'invalid' : 'valid',
    tags: i % 2 ? ['vip'] : [],
    consent: { status: i % 10 === 0 ? 'unknown' : 'granted' },
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

async function tenantWithMembers(): Promise<{
  tenant: Tenant;
  deps: Omit<SegmenterDeps, 'counters' | 'enqueueSends'>;
}> {
  const tenantId = `t-${randomUUID().slice(0, 8)}`;
  const client = dynamo.documentClient;
  const members = new DynamoMemberStore({ client, tableName: dynamo.tableNames.members });
  const optOuts = new DynamoOptOutStore({ client, tableName: dynamo.tableNames.suppressions });
  await members.put(
    tenantId,
    Array.from({ length: size }, (_, i) => ({ member: member(i), expectedUpdatedAt: null })),
  );
  for (const i of [1, 3, 5]) {
    await optOuts.add(tenantId, {
      phoneHash: phoneHash({ tenantId, phone: member(i).phone }),
      source: 'sms',
      at: now.toISOString(),
    });
  }
  const tenant: Tenant = {
    tenantId,
    createdAt: now.toISOString(),
    ...tenantSettings.parse({ name: 'Acme' }),
  };
  return {
    tenant,
    deps: {
      members,
      optOuts,
      messages: new DynamoMessageStore({ client, tableName: dynamo.tableNames.messages }),
      now: () => now,
    },
  };
}

function recorders() {
  const counters = new Map<string, number>();
  const sends: SendMessage[] = [];
  return {
    counters,
    sends,
    ports: {
      counters: {
        add: async (_t: string, _c: string, _r: string, deltas: Readonly<Record<string, number>>) => {
          for (const [key, value] of Object.entries(deltas))
            counters.set(key, (counters.get(key) ?? 0) + value);
        },
      },
      enqueueSends: async (messages: readonly SendMessage[]) => {
        sends.push(...messages);
      },
    },
  };
}

const everyone = parseSegmentDefinition({ input: { not: { tags: { any: ['nobody'] } } } });
const variants = [
  { variantId: 'A', percent: 50 },
  { variantId: 'B', percent: 50 },
];

describe('segmentRun', () => {
  it('records every member once, enqueues the eligible and counts what adds up to the audience', async () => {
    const { tenant, deps } = await tenantWithMembers();
    const { counters, sends, ports } = recorders();

    const result = await segmentRun(
      { ...deps, ...ports },
      {
        tenant,
        campaignId: 'cmp_1',
        runId: 'run_1',
        category: 'marketing',
        audience: { definition: everyone },
        holdoutPercent: 10,
        variants,
        deadline: new Date(now.getTime() + 60_000),
      },
    );

    const records = [];
    for await (const page of deps.messages.scan(tenant.tenantId, 'run_1')) records.push(...page);
    const enqueued = sends.flatMap((s) => s.memberIds);
    const pending = records.filter((r) => r.state === 'pending').map((r) => r.memberId);
    expect(result).toMatchObject({ complete: true, created: size });
    expect(new Set(records.map((r) => r.memberId)).size).toBe(size);
    expect(enqueued.sort()).toEqual(pending.sort());
    expect(counters.get('targeted')).toBe(size);
    const suppressed = [...counters]
      .filter(([k]) => k.startsWith('suppressed.'))
      .reduce((a, [, v]) => a + v, 0);
    expect((counters.get('queued') ?? 0) + suppressed).toBe(size);
    expect(counters.get('suppressed.opted_out')).toBe(3);
    expect(counters.get('suppressed.no_consent')).toBe(size / 10);
    expect(counters.get('suppressed.holdout')).toBeGreaterThan(0);
    expect(sends.every((s) => s.memberIds.length <= 100)).toBe(true);
  });

  it('resumes an interrupted run without recording or counting anyone twice', async () => {
    const { tenant, deps } = await tenantWithMembers();
    const { counters, sends, ports } = recorders();
    const input = {
      tenant,
      campaignId: 'cmp_2',
      runId: 'run_2',
      category: 'marketing' as const,
      audience: { definition: everyone },
      holdoutPercent: 0,
      variants,
    };
    // The first invocation runs out of time after a few shards.
    let ticks = 0;
    const first = await segmentRun(
      { ...deps, ...ports, now: () => new Date(now.getTime() + ticks++ * 1_000) },
      { ...input, deadline: new Date(now.getTime() + 5_000), parallelism: 1 },
    );
    const second = await segmentRun(
      { ...deps, ...ports },
      { ...input, deadline: new Date(now.getTime() + 60_000) },
    );
    const third = await segmentRun(
      { ...deps, ...ports },
      { ...input, deadline: new Date(now.getTime() + 60_000) },
    );

    expect(first.complete).toBe(false);
    expect(second.complete).toBe(true);
    expect(first.created + second.created).toBe(size);
    expect(third).toMatchObject({ complete: true, created: 0, enqueued: 0 });
    expect(counters.get('targeted')).toBe(size);
    const pending = new Set<string>();
    for await (const page of deps.messages.scan(tenant.tenantId, 'run_2'))
      for (const r of page) if (r.state === 'pending') pending.add(r.memberId);
    expect(new Set(sends.flatMap((s) => s.memberIds))).toEqual(pending);
  });

  it('takes a list of member ids, skipping ids that no longer exist', async () => {
    const { tenant, deps } = await tenantWithMembers();
    const { counters, sends, ports } = recorders();

    await segmentRun(
      { ...deps, ...ports },
      {
        tenant,
        campaignId: 'cmp_3',
        runId: 'run_3',
        category: 'notification',
        audience: { memberIds: ['M0002', 'M0004', 'M0050', 'nobody'] },
        holdoutPercent: 0,
        variants: [{ variantId: 'A', percent: 100 }],
        deadline: new Date(now.getTime() + 60_000),
      },
    );

    expect(counters.get('targeted')).toBe(3);
    expect(counters.get('suppressed.invalid_phone')).toBe(1);
    expect(sends.flatMap((s) => s.memberIds).sort()).toEqual(['M0002', 'M0004']);
  });
});
