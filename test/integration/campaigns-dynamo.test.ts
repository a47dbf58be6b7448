import { randomBytes } from 'node:crypto';
import {
  campaignDeps,
  DynamoImportPartStore,
  DynamoMessageStore,
  DynamoRecordStore,
  DynamoRunCounters,
  DynamoRunStore,
  GetCommand,
  memberDeps,
  plannedRateLimiter,
  runCounterShards,
} from '@qunfa/aws';
import { type CampaignRun, ConflictError, importJob, tagJob } from '@qunfa/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCampaignsApi } from '../support/campaigns-spec';
import { MemoryScheduler } from '../support/fakes/memory-scheduler';
import { type LocalDynamo, startLocalDynamo } from '../support/local';

// The campaigns specification against DynamoDB Local: campaigns and runs in the campaigns
// table (kinds CAMPAIGN and RUN, runs listed newest first by sort-key prefix), conditional
// writes, the run counters sharded over ten keys of the metrics table, and test sends'
// records in the messages table (their tokens from the shared rate limiter).

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

describeCampaignsApi('HTTP API campaigns (DynamoDB Local)', async (now) => {
  const client = dynamo.documentClient;
  const tableName = dynamo.tableNames.campaigns;
  const config = { table: (id: keyof LocalDynamo['tableNames']) => dynamo.tableNames[id] };
  const { scheduler: _scheduler, ...campaigns } = campaignDeps({
    client,
    config: { ...config, functionId: 'api' },
    scheduler: new MemoryScheduler(),
  });
  return {
    ...memberDeps({ client, config }),
    ...campaigns,
    runCounters: new DynamoRunCounters({ client, tableName: dynamo.tableNames.metrics, now }),
    imports: new DynamoRecordStore({ client, tableName, kind: 'IMPORT', schema: importJob, label: 'Import' }),
    parts: new DynamoImportPartStore({ client, tableName }),
    tagJobs: new DynamoRecordStore({ client, tableName, kind: 'TAGJOB', schema: tagJob, label: 'Tag job' }),
    messages: new DynamoMessageStore({ client, tableName: dynamo.tableNames.messages }),
    rateLimiter: plannedRateLimiter({ client, tableName: dynamo.tableNames.metrics }),
    now,
  };
});

describe('DynamoRunCounters', () => {
  const ids = () => ({ tenantId: `acme-${randomBytes(4).toString('hex')}`, campaignId: 'cmp_000000000001' });

  it('sums the shards on read, each add landing on one shard', async () => {
    // Prepare: every add pinned to the next shard.
    let next = 0;
    let clock = Date.parse('2026-11-23T08:00:00Z');
    const counters = new DynamoRunCounters({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.metrics,
      shard: () => next++ % runCounterShards,
      now: () => new Date(clock),
    });
    const { tenantId, campaignId } = ids();

    // Act: twelve batches over ten shards, a minute apart.
    for (let i = 0; i < 12; i++) {
      await counters.add(tenantId, campaignId, 'run_1', {
        sent: 10,
        'suppressed.capped': 1,
        'variant.A.sent': 4,
        'variant.B.sent': 6,
      });
      clock += 60_000;
    }
    const tally = await counters.read(tenantId, campaignId, 'run_1');

    // Assess
    expect(tally.total).toMatchObject({ sent: 120, suppressed: expect.objectContaining({ total: 12 }) });
    expect(tally.total.suppressed.byReason.capped).toBe(12);
    expect(tally.byVariant.A?.sent).toBe(48);
    expect(tally.byVariant.B?.sent).toBe(72);
    expect(tally.firstAt).toBe('2026-11-23T08:00:00.000Z');
    expect(tally.lastAt).toBe('2026-11-23T08:11:00.000Z');
    const shard0 = await dynamo.documentClient.send(
      new GetCommand({
        TableName: dynamo.tableNames.metrics,
        Key: { pk: `${tenantId}#RUN#${campaignId}#run_1#0`, sk: 'COUNTS' },
      }),
    );
    expect(shard0.Item).toMatchObject({ sent: 20, 'variant.A.sent': 8 });
  });

  it('loses no increment among concurrent adds', async () => {
    const counters = new DynamoRunCounters({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.metrics,
    });
    const { tenantId, campaignId } = ids();

    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        counters.add(tenantId, campaignId, 'run_2', { queued: 100, sent: i % 2 }),
      ),
    );
    const tally = await counters.read(tenantId, campaignId, 'run_2');

    expect(tally.total.queued).toBe(6_000);
    expect(tally.total.sent).toBe(30);
  });

  it('reads zeros for a run never counted, and refuses a counter no reader knows', async () => {
    const counters = new DynamoRunCounters({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.metrics,
    });
    const { tenantId, campaignId } = ids();

    const tally = await counters.read(tenantId, campaignId, 'run_3');
    const bad = counters.add(tenantId, campaignId, 'run_3', { 'sent; DROP': 1 });

    expect(tally.total.targeted).toBe(0);
    expect(tally.total.suppressed.total).toBe(0);
    expect(tally.byVariant).toEqual({});
    expect(tally).not.toHaveProperty('firstAt');
    await expect(bad).rejects.toThrow(/a counter/);
  });

  it('keeps tenants and runs apart', async () => {
    const counters = new DynamoRunCounters({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.metrics,
    });
    const one = ids();
    const two = ids();

    await counters.add(one.tenantId, one.campaignId, 'run_4', { targeted: 5 });
    await counters.add(two.tenantId, two.campaignId, 'run_4', { targeted: 7 });
    await counters.add(one.tenantId, one.campaignId, 'run_5', { targeted: 11 });

    expect((await counters.read(one.tenantId, one.campaignId, 'run_4')).total.targeted).toBe(5);
    expect((await counters.read(two.tenantId, two.campaignId, 'run_4')).total.targeted).toBe(7);
  });

  describe('final counts', () => {
    it('take the place of the shards for the counters records settle, the others still summed', async () => {
      // Prepare: the shards short by two sent (an add lost), with receipts' and the segmenter's own.
      let clock = Date.parse('2026-11-23T08:00:00Z');
      const counters = new DynamoRunCounters({
        client: dynamo.documentClient,
        tableName: dynamo.tableNames.metrics,
        now: () => new Date(clock),
      });
      const { tenantId, campaignId } = ids();
      await counters.add(tenantId, campaignId, 'run_6', {
        targeted: 10,
        queued: 9,
        'suppressed.no_consent': 1,
        'variant.A.targeted': 10,
        'variant.A.queued': 9,
      });
      clock += 60_000;
      await counters.add(tenantId, campaignId, 'run_6', { sent: 6, 'variant.A.sent': 6, delivered: 4 });
      clock += 60_000;

      // Act
      const wrote = await counters.finalize(tenantId, campaignId, 'run_6', {
        targeted: 10,
        sent: 8,
        unknown: 1,
        'suppressed.no_consent': 1,
        failed: 0,
        'variant.A.targeted': 10,
        'variant.A.sent': 8,
        'variant.A.unknown': 1,
      });
      const tally = await counters.read(tenantId, campaignId, 'run_6', { consistent: true });

      // Assess
      expect(wrote).toBe(true);
      expect(tally.total).toMatchObject({
        targeted: 10,
        queued: 9,
        sent: 8,
        failed: 0,
        unknown: 1,
        delivered: 4,
      });
      expect(tally.total.suppressed.total).toBe(1);
      expect(tally.byVariant.A).toMatchObject({ targeted: 10, queued: 9, sent: 8, unknown: 1 });
      // The rate's span is the batches', not the recount's.
      expect(tally.firstAt).toBe('2026-11-23T08:00:00.000Z');
      expect(tally.lastAt).toBe('2026-11-23T08:01:00.000Z');
    });

    it('are written once: a second finalize and a late add change nothing they hold', async () => {
      const counters = new DynamoRunCounters({
        client: dynamo.documentClient,
        tableName: dynamo.tableNames.metrics,
      });
      const { tenantId, campaignId } = ids();
      await counters.add(tenantId, campaignId, 'run_7', { targeted: 5, queued: 5 });

      const [one, two] = await Promise.all([
        counters.finalize(tenantId, campaignId, 'run_7', { targeted: 5, sent: 5 }),
        counters.finalize(tenantId, campaignId, 'run_7', { targeted: 5, sent: 5 }),
      ]);
      const third = await counters.finalize(tenantId, campaignId, 'run_7', {
        targeted: 5,
        sent: 4,
        failed: 1,
      });
      await counters.add(tenantId, campaignId, 'run_7', { sent: 5, delivered: 5 });
      const tally = await counters.read(tenantId, campaignId, 'run_7');

      expect([one, two].sort()).toEqual([false, true]);
      expect(third).toBe(false);
      expect(tally.total).toMatchObject({ targeted: 5, queued: 5, sent: 5, failed: 0, delivered: 5 });
    });

    it('refuse a counter records do not settle, or a negative count, writing nothing', async () => {
      const counters = new DynamoRunCounters({
        client: dynamo.documentClient,
        tableName: dynamo.tableNames.metrics,
      });
      const { tenantId, campaignId } = ids();
      await counters.add(tenantId, campaignId, 'run_8', { targeted: 3, queued: 3, sent: 3 });

      const queued = counters.finalize(tenantId, campaignId, 'run_8', { targeted: 3, queued: 3 });
      const negative = counters.finalize(tenantId, campaignId, 'run_8', { targeted: 3, sent: -1 });

      await expect(queued).rejects.toThrow(/records settle/);
      await expect(negative).rejects.toThrow();
      expect((await counters.read(tenantId, campaignId, 'run_8')).total).toMatchObject({
        queued: 3,
        sent: 3,
      });
    });
  });
});

describe('DynamoRunStore', () => {
  const run = (campaignId: string, runId: string): CampaignRun => ({
    campaignId,
    runId,
    scheduledAt: '2026-11-23T08:00:00.000Z',
    receivedAt: '2026-11-23T08:00:01.000Z',
    state: 'starting',
    pauses: [],
    createdAt: '2026-11-23T08:00:01.000Z',
    updatedAt: '2026-11-23T08:00:01.000Z',
  });

  it("lists one campaign's runs newest first, a page at a time, and refuses a second run of a fire", async () => {
    const runs = new DynamoRunStore({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.campaigns,
    });
    const tenantId = `acme-${randomBytes(4).toString('hex')}`;
    const days = ['20261121', '20261122', '20261123'];
    for (const day of days) await runs.create(tenantId, run('cmp_000000000001', `run_${day}T013000000Z`));
    await runs.create(tenantId, run('cmp_000000000002', 'run_20261124T013000000Z'));

    const first = await runs.list(tenantId, 'cmp_000000000001', { limit: 2 });
    const second = await runs.list(tenantId, 'cmp_000000000001', { limit: 2, cursor: first.cursor ?? '' });
    const twice = runs.create(tenantId, run('cmp_000000000001', 'run_20261123T013000000Z'));

    expect([...first.items, ...second.items].map((r) => r.runId)).toEqual([
      'run_20261123T013000000Z',
      'run_20261122T013000000Z',
      'run_20261121T013000000Z',
    ]);
    expect(second).not.toHaveProperty('cursor');
    await expect(twice).rejects.toBeInstanceOf(ConflictError);
  });

  it("refuses another campaign's cursor", async () => {
    const runs = new DynamoRunStore({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.campaigns,
    });
    const cursor = Buffer.from('cmp_000000000002#run_20261124T013000000Z').toString('base64url');

    await expect(runs.list('acme', 'cmp_000000000001', { limit: 2, cursor })).rejects.toMatchObject({
      problems: [{ path: 'query.cursor', message: 'not a cursor this API returned' }],
    });
  });
});
