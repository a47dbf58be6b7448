import { randomUUID } from 'node:crypto';
import { DynamoMessageStore } from '@qunfa/aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../support/local';

// The message records' conditional writes on DynamoDB Local: what makes "one message per
// member per run" hold when workers race, crash and run again.

let dynamo: LocalDynamo;
let store: DynamoMessageStore;
const tenantId = 'acme';
const now = new Date('2026-11-23T02:00:00Z');

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  store = new DynamoMessageStore({ client: dynamo.documentClient, tableName: dynamo.tableNames.messages });
});

afterAll(() => dynamo?.stop());

const newRun = () => ({ campaignId: 'cmp_1', runId: `run_${randomUUID().slice(0, 8)}` });

describe('DynamoMessageStore', () => {
  it('creates each record once, however often the segmenter runs', async () => {
    const run = newRun();
    const records = Array.from({ length: 250 }, (_, i) => ({ memberId: `M${i}`, state: 'pending' as const }));

    const first = await store.create(tenantId, run, records, now);
    const again = await store.create(tenantId, run, records, now);
    const mixed = await store.create(
      tenantId,
      run,
      [...records.slice(0, 10), { memberId: 'M-new', state: 'suppressed', reason: 'opted_out' }],
      now,
    );

    expect(first.created).toHaveLength(250);
    expect(first.existing).toBe(0);
    expect(again).toEqual({ created: [], existing: 250 });
    expect(mixed).toEqual({ created: ['M-new'], existing: 10 });
    let total = 0;
    for await (const page of store.scan(tenantId, run.runId)) total += page.length;
    expect(total).toBe(251);
  });

  it('lets exactly one of twenty concurrent claims win', async () => {
    const run = newRun();
    await store.create(tenantId, run, [{ memberId: 'M1', state: 'pending' }], now);

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.claim(tenantId, run.runId, 'M1', { token: `t${i}`, now })),
    );

    expect(results.filter((r) => r.moved)).toHaveLength(1);
    expect(results.filter((r) => !r.moved).every((r) => r.current?.state === 'claimed')).toBe(true);
  });

  it('lets only the claimant record the answer', async () => {
    const run = newRun();
    await store.create(tenantId, run, [{ memberId: 'M1', state: 'pending' }], now);
    await store.claim(tenantId, run.runId, 'M1', { token: 'mine', now });

    const stranger = await store.move(tenantId, run.runId, 'M1', { event: 'accepted', token: 'theirs', now });
    const owner = await store.move(tenantId, run.runId, 'M1', {
      event: 'accepted',
      token: 'mine',
      now,
      set: { providerMessageId: 'sim-1', parts: 2, costMicros: 90_000 },
    });

    expect(stranger.moved).toBe(false);
    expect(owner).toMatchObject({
      moved: true,
      record: { state: 'sent', providerMessageId: 'sim-1', parts: 2 },
    });
  });

  it('puts a released claim back to pending and counts the attempts', async () => {
    const run = newRun();
    await store.create(tenantId, run, [{ memberId: 'M1', state: 'pending' }], now);
    await store.claim(tenantId, run.runId, 'M1', { token: 'a', now });

    await store.move(tenantId, run.runId, 'M1', { event: 'release', token: 'a', now });
    const second = await store.claim(tenantId, run.runId, 'M1', { token: 'b', now });

    expect(second).toMatchObject({ moved: true, record: { state: 'claimed', attempts: 2, claimToken: 'b' } });
  });

  it('gives up only claims older than the lease as unknown', async () => {
    const run = newRun();
    await store.create(tenantId, run, [{ memberId: 'M1', state: 'pending' }], now);
    await store.claim(tenantId, run.runId, 'M1', { token: 'a', now });

    const early = await store.move(tenantId, run.runId, 'M1', {
      event: 'leaseLost',
      claimedBefore: now,
      now,
    });
    const late = await store.move(tenantId, run.runId, 'M1', {
      event: 'leaseLost',
      claimedBefore: new Date(now.getTime() + 60_000),
      now,
    });

    expect(early.moved).toBe(false);
    expect(late).toMatchObject({ moved: true, record: { state: 'unknown' } });
  });

  it('never downgrades a terminal state: a late failure receipt leaves delivered alone', async () => {
    const run = newRun();
    await store.create(tenantId, run, [{ memberId: 'M1', state: 'pending' }], now);
    await store.claim(tenantId, run.runId, 'M1', { token: 'a', now });
    await store.move(tenantId, run.runId, 'M1', {
      event: 'accepted',
      token: 'a',
      now,
      set: { providerMessageId: 'p' },
    });
    await store.move(tenantId, run.runId, 'M1', { event: 'delivered', now });

    const late = await store.move(tenantId, run.runId, 'M1', { event: 'undeliverable', now });

    expect(late).toMatchObject({ moved: false, current: { state: 'delivered' } });
  });
});
