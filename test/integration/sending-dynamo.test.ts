import {
  DynamoFrequencyCapStore,
  DynamoRateLimiter,
  frequencyCapKey,
  GetCommand,
  QueryCommand,
} from '@qunfa/aws';
import { capDay, type FrequencyCapClaim, type FrequencyCapRules, rateLimitPlan } from '@qunfa/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { type LocalDynamo, startLocalDynamo } from '../support/local';

// The frequency caps and the provider rate limiter against DynamoDB Local: the conditional
// writes that make them atomic are DynamoDB's own, raced by concurrent callers. The tests
// count grants; none measures speed.

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

const dayMs = 86_400_000;
const defaults: FrequencyCapRules = {
  windows: [
    { messages: 2, days: 7 },
    { messages: 4, days: 30 },
  ],
  dailyMax: 1,
};
// Tomorrow at noon in Shanghai: in the future, because DynamoDB Local deletes items whose
// TTL (`expiresAt`) has passed on the real clock, and far from a Shanghai midnight.
const start = (Math.floor(Date.now() / dayMs) + 1) * dayMs + 4 * 3_600_000;
let tenantCount = 0;
const aTenant = () => `cap-tenant-${++tenantCount}`;

const granted = (claims: readonly FrequencyCapClaim[]) => claims.filter((claim) => claim.granted).length;

describe('DynamoFrequencyCapStore', () => {
  const store = () =>
    new DynamoFrequencyCapStore({ client: dynamo.documentClient, tableName: dynamo.tableNames.suppressions });

  const claimAt = (
    caps: DynamoFrequencyCapStore,
    {
      tenantId,
      memberKey,
      claimId,
      at,
      rules = defaults,
    }: { tenantId: string; memberKey: string; claimId: string; at: number; rules?: FrequencyCapRules },
  ) => {
    const now = new Date(at);
    return caps.claim({
      tenantId,
      memberKey,
      claimId,
      now,
      caps: rules,
      day: capDay({ now, timeZone: 'Asia/Shanghai' }),
    });
  };

  it('grants 20 concurrent claimers for one member no more than 2 in 7 days', async () => {
    const caps = store();
    const tenantId = aTenant();
    const rules = { ...defaults, dailyMax: 20 }; // only the 7-day cap binds

    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        claimAt(caps, { tenantId, memberKey: 'phone-hash-1', claimId: `run-${i}#m1`, at: start + i, rules }),
      ),
    );

    expect(granted(claims)).toBe(2);
    expect(claims.filter((claim) => !claim.granted && claim.reason === 'capped')).toHaveLength(18);
  });

  it('grants 20 concurrent claimers one message a day under the default daily cap', async () => {
    const caps = store();
    const tenantId = aTenant();

    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        claimAt(caps, { tenantId, memberKey: 'phone-hash-1', claimId: `run-${i}#m1`, at: start }),
      ),
    );

    expect(granted(claims)).toBe(1);
  });

  it('never lets two campaigns racing over the same members break their caps, even with redeliveries', async () => {
    const caps = store();
    const tenantId = aTenant();
    const members = Array.from({ length: 15 }, (_, i) => `member-${i}`);
    const perMember = new Map<string, number>();

    // Campaign A and B both reach every member on days 0, 2 and 4; every claim is delivered twice.
    for (const day of [0, 2, 4]) {
      const round = members.flatMap((memberKey) =>
        ['A', 'B'].flatMap((campaign) => {
          const claim = {
            tenantId,
            memberKey,
            claimId: `${campaign}-day${day}#${memberKey}`,
            at: start + day * dayMs,
          };
          return [claimAt(caps, claim), claimAt(caps, claim)].map(async (result) => ({
            memberKey,
            claim: await result,
          }));
        }),
      );
      const distinctGrants = new Set<string>();
      for (const { memberKey, claim } of await Promise.all(round)) {
        if (claim.granted && claim.token) distinctGrants.add(`${memberKey}/${claim.token.claimId}`);
      }
      for (const grant of distinctGrants) {
        const memberKey = grant.split('/')[0] ?? '';
        perMember.set(memberKey, (perMember.get(memberKey) ?? 0) + 1);
      }
    }

    // Day 0: one each (daily cap); day 2: a second; day 4: none (2 in 7 days).
    expect([...perMember.values()]).toEqual(members.map(() => 2));
    for (const memberKey of members) {
      expect((await findCapItem(tenantId, memberKey))?.sends).toHaveLength(2);
    }
  });

  it('keeps one item per member under the tenant, expiring a day after the longest window', async () => {
    const caps = store();
    const tenantId = aTenant();
    await claimAt(caps, { tenantId, memberKey: 'phone-hash-9', claimId: 'run-1#m9', at: start });
    await claimAt(caps, { tenantId, memberKey: 'phone-hash-9', claimId: 'run-2#m9', at: start + dayMs });

    const item = await findCapItem(tenantId, 'phone-hash-9');

    expect(item).toMatchObject({
      sk: 'phone-hash-9',
      version: 2,
      expiresAt: (start + dayMs + 31 * dayMs) / 1000,
      sends: [
        { claimId: 'run-1#m9', at: start },
        { claimId: 'run-2#m9', at: start + dayMs },
      ],
    });
    expect(item?.pk).toMatch(new RegExp(`^${tenantId}#CAP#\\d{2}$`));
  });

  it("counts each tenant's members apart", async () => {
    const caps = store();
    const [first, second] = [aTenant(), aTenant()];
    await claimAt(caps, { tenantId: first, memberKey: 'shared-key', claimId: 'a#1', at: start });

    const other = await claimAt(caps, {
      tenantId: second,
      memberKey: 'shared-key',
      claimId: 'b#1',
      at: start,
    });

    expect(other.granted).toBe(true);
  });

  it('gives a released slot to the next claim, and a second release changes nothing', async () => {
    const caps = store();
    const tenantId = aTenant();
    const memberKey = 'phone-hash-2';
    const first = await claimAt(caps, { tenantId, memberKey, claimId: 'run-1#m2', at: start });
    if (!first.granted || !first.token) throw new Error('expected a slot');

    const refused = await claimAt(caps, { tenantId, memberKey, claimId: 'run-2#m2', at: start + 60_000 });
    await caps.release(first.token);
    await caps.release(first.token);
    const after = await claimAt(caps, { tenantId, memberKey, claimId: 'run-2#m2', at: start + 120_000 });

    expect(refused).toMatchObject({ granted: false, reason: 'capped', cap: { kind: 'daily' } });
    expect(after.granted).toBe(true);
    expect((await findCapItem(tenantId, memberKey))?.sends).toHaveLength(1);
  });
});

const storedCap = z.object({
  pk: z.string(),
  sk: z.string(),
  version: z.number(),
  expiresAt: z.number(),
  sends: z.array(z.object({ claimId: z.string(), at: z.number(), day: z.string() })),
});

/** The member's cap item, read by its key. */
async function findCapItem(
  tenantId: string,
  memberKey: string,
): Promise<z.infer<typeof storedCap> | undefined> {
  const { Item } = await dynamo.documentClient.send(
    new GetCommand({ TableName: dynamo.tableNames.suppressions, Key: frequencyCapKey(tenantId, memberKey) }),
  );
  return Item ? storedCap.parse(Item) : undefined;
}

describe('DynamoRateLimiter', () => {
  it('never grants 10 concurrent takers more than the rate, per window and over 3 seconds', async () => {
    // 60 parts/s over 4 shards of 15, so takers are refused by full shards and try others.
    const plan = rateLimitPlan({ partsPerSecond: 60, maxPartsPerShardPerSecond: 15 });
    const account = 'rate-tenant#simulator';
    const limiter = new DynamoRateLimiter({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.metrics,
      planFor: () => plan,
    });
    const grants: { window: number; parts: number }[] = [];
    let refusals = 0;
    const until = Date.now() + 3_000;

    await Promise.all(
      Array.from({ length: 10 }, async (_, taker) => {
        for (let n = 0; Date.now() < until; n++) {
          const parts = 1 + ((taker + n) % 3);
          const now = new Date();
          const take = await limiter.take({ account, parts, now });
          if (take.granted) grants.push({ window: Math.floor(now.getTime() / plan.windowMs), parts });
          else {
            refusals++;
            await new Promise((resolve) =>
              setTimeout(resolve, Math.max(0, Math.min(take.retryAfterMs, until - Date.now()))),
            );
          }
        }
      }),
    );

    const byWindow = new Map<number, number>();
    for (const { window, parts } of grants) byWindow.set(window, (byWindow.get(window) ?? 0) + parts);
    const total = grants.reduce((sum, grant) => sum + grant.parts, 0);
    const stored = await storedWindows(account, plan.shardBudgets.length);

    expect(plan.shardBudgets).toEqual([15, 15, 15, 15]);
    expect(refusals).toBeGreaterThan(0);
    expect(byWindow.size).toBeLessThanOrEqual(4);
    expect(total).toBeLessThanOrEqual(60 * (3 + 1));
    for (const parts of byWindow.values()) expect(parts).toBeLessThanOrEqual(plan.budget);
    // What DynamoDB holds agrees with what the takers were told: nothing granted uncounted.
    expect(stored.reduce((sum, item) => sum + item.parts, 0)).toBe(total);
    for (const item of stored) expect(item.parts).toBeLessThanOrEqual(15);
  });

  it('keeps accounts apart', async () => {
    const plan = rateLimitPlan({ partsPerSecond: 10 });
    const limiter = new DynamoRateLimiter({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.metrics,
      planFor: () => plan,
    });
    const now = new Date(start);

    const first = await limiter.take({ account: 'tenant-a#aliyun', parts: 10, now });
    const full = await limiter.take({ account: 'tenant-a#aliyun', parts: 1, now });
    const other = await limiter.take({ account: 'tenant-b#aliyun', parts: 10, now });

    expect(first).toEqual({ granted: true });
    expect(full).toMatchObject({ granted: false });
    expect(other).toEqual({ granted: true });
  });
});

const storedWindow = z.object({ pk: z.string(), sk: z.string(), parts: z.number(), expiresAt: z.number() });

async function storedWindows(account: string, shards: number): Promise<z.infer<typeof storedWindow>[]> {
  const items: z.infer<typeof storedWindow>[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const { Items } = await dynamo.documentClient.send(
      new QueryCommand({
        TableName: dynamo.tableNames.metrics,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${account}#RATE#${String(shard).padStart(2, '0')}` },
      }),
    );
    for (const item of Items ?? []) items.push(storedWindow.parse(item));
  }
  return items;
}
