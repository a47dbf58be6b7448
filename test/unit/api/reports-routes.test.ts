import { randomBytes } from 'node:crypto';
import type { ApiHandler } from '@qunfa/api';
import {
  type CampaignDeps,
  campaignScheduleName,
  finishRun,
  recordStart,
  type SendMessage,
  segmentCampaignRun,
  startMessage,
} from '@qunfa/domain';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTestTenants, type TestKeys, testApi } from '../../support/api';
import { httpEvent, lambdaContext } from '../../support/events';
import { memoryStores, type TestStores } from '../../support/fakes/memory-member-store';
import { MemoryScheduler } from '../../support/fakes/memory-scheduler';
import { MemoryMessageStore } from '../../support/fakes/memory-sending-stores';
import { MemoryTenantStore } from '../../support/fakes/memory-tenant-store';

// GET /campaigns/{id}/report, GET /campaigns/{id}/messages and POST /campaigns/{id}/retry-failed
// over in-memory stores: a campaign to four members whose run ended with one delivered, one
// refused at sending, one undelivered and one suppressed (opted out).

interface Call {
  status: number;
  headers: Record<string, string | number | boolean>;
  text: string;
  body: Record<string, unknown>;
}

const t0 = '2026-11-23T02:00:00.000Z';
const phones = { M1: '13800138001', M2: '13800138002', M3: '13800138003', M4: '13800138004' };

describe('HTTP API campaign reports (in-memory stores)', () => {
  let now: number;
  let api: ApiHandler;
  let stores: TestStores;
  let messages: MemoryMessageStore;
  let scheduler: MemoryScheduler;
  let tenants: MemoryTenantStore;
  let tenantId: string;
  let keys: TestKeys;
  let campaignId: string;
  let runId: string;

  const call = async (method: string, path: string, key: string, body?: unknown): Promise<Call> => {
    const result = await api(
      httpEvent({ method, path, headers: { authorization: `Bearer ${key}` }, body }),
      lambdaContext('planner'),
    );
    const text = result.body ?? '';
    const json = (result.headers?.['content-type'] ?? '').toString().startsWith('application/json');
    return {
      status: result.statusCode ?? 0,
      headers: result.headers ?? {},
      text,
      body: json && text ? JSON.parse(text) : {},
    };
  };
  const campaignDeps = (): CampaignDeps => ({ ...stores, scheduler });
  /** The start message the scheduler holds for the campaign, fired now. */
  const fire = async (): Promise<string> => {
    const schedule = scheduler.schedules.get(campaignScheduleName({ tenantId, campaignId }));
    const message = startMessage.parse(schedule?.payload);
    const decision = await recordStart(campaignDeps(), { message, toleranceSeconds: 900 });
    if (decision.outcome !== 'start') throw new Error(`not started: ${decision.outcome}`);
    return decision.run.runId;
  };

  beforeEach(async () => {
    now = Date.parse(t0);
    stores = memoryStores(() => new Date(now));
    messages = new MemoryMessageStore();
    scheduler = new MemoryScheduler();
    tenants = new MemoryTenantStore();
    const tenancy = { store: tenants, random: (n: number) => randomBytes(n), now: () => new Date(now) };
    api = testApi({ stores, scheduler, tenancy, runMessages: { messages, members: stores.members } }).api;
    ({ tenantId, keys } = await createTestTenants({ tenancy, call }));
    for (const [id, phone] of Object.entries(phones)) {
      expect((await call('PUT', `/members/${id}`, keys.marketer, { phone })).status).toBe(201);
    }
    const template = await call('POST', '/templates', keys.marketer, {
      name: '发货',
      category: 'notification',
      body: '您的订单已发货。',
    });
    const created = await call('POST', '/campaigns', keys.marketer, {
      name: '双11会员日, 全场8折',
      category: 'notification',
      audience: { memberIds: Object.keys(phones) },
      content: { templateId: template.body.templateId },
      schedule: { kind: 'now' },
    });
    campaignId = String(created.body.campaignId);
    expect((await call('POST', `/campaigns/${campaignId}/schedule`, keys.marketer)).status).toBe(200);
    now += 5_000;
    runId = await fire();

    // The run as the segmenter, the sender and receipts leave it.
    const run = { campaignId, runId };
    const at = new Date(now);
    await messages.create(
      tenantId,
      run,
      [
        { memberId: 'M1', state: 'pending' },
        { memberId: 'M2', state: 'pending' },
        { memberId: 'M3', state: 'pending' },
        { memberId: 'M4', state: 'suppressed', reason: 'opted_out' },
      ],
      at,
    );
    for (const memberId of ['M1', 'M2', 'M3']) {
      await messages.claim(tenantId, runId, memberId, { token: 't', now: at });
    }
    const accepted = { event: 'accepted', token: 't', now: at } as const;
    await messages.move(tenantId, runId, 'M1', {
      ...accepted,
      set: { providerMessageId: 'SIM-1', parts: 1, costMicros: 45_000 },
    });
    await messages.move(tenantId, runId, 'M1', { event: 'delivered', now: at });
    await messages.move(tenantId, runId, 'M2', {
      event: 'refused',
      token: 't',
      now: at,
      set: { reason: 'invalid_phone:isv.MOBILE_NUMBER_ILLEGAL' },
    });
    await messages.move(tenantId, runId, 'M3', {
      ...accepted,
      set: { providerMessageId: 'SIM-3', parts: 1, costMicros: 45_000 },
    });
    await messages.move(tenantId, runId, 'M3', {
      event: 'undeliverable',
      now: at,
      set: { reason: 'unreachable' },
    });
    await stores.runCounters.add(tenantId, campaignId, runId, {
      targeted: 4,
      'suppressed.opted_out': 1,
      queued: 3,
      sent: 2,
      failed: 1,
      'failed.invalid_phone': 1,
      spentMicros: 90_000,
      delivered: 1,
      undelivered: 1,
      'undelivered.unreachable': 1,
    });
    await finishRun(campaignDeps(), { tenantId, campaignId, runId, state: 'completed' });
  });

  describe('GET /campaigns/{id}/report', () => {
    it("answers the latest run's counts, failures by reason and rates", async () => {
      const answer = await call('GET', `/campaigns/${campaignId}/report`, keys.viewer);

      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        campaignId,
        runId,
        state: 'completed',
        total: {
          targeted: 4,
          sent: 2,
          delivered: 1,
          unknown: 0,
          awaitingReceipt: 0,
          failed: { total: 2, atSending: 1, undelivered: 1, byReason: { invalid_phone: 1, unreachable: 1 } },
          cost: '0.09',
          rates: { reachedBase: 'delivered', delivery: 0.5, click: 0, conversion: 0 },
        },
        comparisons: [],
        holdout: { members: 0, lift: null },
      });
      expect(answer.body.timeline).toEqual([
        { hour: '2026-11-23T02:00:00.000Z', sent: 2, delivered: 1, clicks: 0 },
      ]);
    });

    it('answers CSV with a BOM for Excel when format=csv', async () => {
      const answer = await call('GET', `/campaigns/${campaignId}/report?format=csv`, keys.viewer);

      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(answer.text.startsWith('\uFEFFcampaign_id,campaign_name,')).toBe(true);
      expect(answer.text).toContain(`${campaignId},"双11会员日, 全场8折",${runId},all,4,`);
    });

    it('answers 404 for an unknown campaign or run, and 400 naming a bad parameter', async () => {
      const unknown = await call('GET', '/campaigns/cmp_000000000000/report', keys.viewer);
      const noRun = await call(
        'GET',
        `/campaigns/${campaignId}/report?runId=run_20200101T000000000Z`,
        keys.viewer,
      );
      const badFormat = await call('GET', `/campaigns/${campaignId}/report?format=xlsx`, keys.viewer);
      const other = await call('GET', `/campaigns/${campaignId}/report`, keys.other);

      expect(unknown.status).toBe(404);
      expect(noRun.status).toBe(404);
      expect(badFormat.status).toBe(400);
      expect(JSON.stringify(badFormat.body.problems)).toContain('query.format');
      // Another tenant's key finds nothing.
      expect(other.status).toBe(404);
    });
  });

  describe('GET /campaigns/{id}/messages', () => {
    it('lists the records with phones masked, never in full', async () => {
      const answer = await call('GET', `/campaigns/${campaignId}/messages`, keys.viewer);

      expect(answer.status).toBe(200);
      const items = answer.body.items as Record<string, unknown>[];
      expect(items.map((item) => [item.memberId, item.state])).toEqual([
        ['M1', 'delivered'],
        ['M2', 'failed'],
        ['M3', 'failed'],
        ['M4', 'suppressed'],
      ]);
      expect(items[0]).toMatchObject({
        maskedPhone: '+86*******8001',
        providerMessageId: 'SIM-1',
        parts: 1,
        costMicros: 45_000,
      });
      for (const phone of Object.values(phones)) expect(answer.text).not.toContain(phone);
    });

    it('filters by status and pages with the cursor it gives', async () => {
      const first = await call('GET', `/campaigns/${campaignId}/messages?status=failed&limit=1`, keys.viewer);
      const second = await call(
        'GET',
        `/campaigns/${campaignId}/messages?status=failed&limit=1&cursor=${String(first.body.cursor)}`,
        keys.viewer,
      );

      expect(first.body.items).toEqual([
        expect.objectContaining({ memberId: 'M2', reason: 'invalid_phone:isv.MOBILE_NUMBER_ILLEGAL' }),
      ]);
      expect(second.body.items).toEqual([expect.objectContaining({ memberId: 'M3', reason: 'unreachable' })]);
      expect(second.body.cursor).toBeUndefined();
    });

    it('answers 400 naming each bad parameter', async () => {
      const answer = await call(
        'GET',
        `/campaigns/${campaignId}/messages?status=lost&limit=500`,
        keys.viewer,
      );

      expect(answer.status).toBe(400);
      const paths = (answer.body.problems as { path: string }[]).map((problem) => problem.path);
      expect(paths).toEqual(expect.arrayContaining(['query.status', 'query.limit']));
    });
  });

  describe('POST /campaigns/{id}/retry-failed', () => {
    it('schedules a run whose audience is exactly the failed members', async () => {
      now += 60_000;
      const answer = await call('POST', `/campaigns/${campaignId}/retry-failed`, keys.marketer);

      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({
        ofRunId: runId,
        failedMembers: 2,
        campaign: { state: 'scheduled', retry: { ofRunId: runId } },
      });

      now += 5_000;
      const sends: SendMessage[] = [];
      const schedule = scheduler.schedules.get(campaignScheduleName({ tenantId, campaignId }));
      const segmented = await segmentCampaignRun(
        {
          members: stores.members,
          optOuts: stores.optOuts,
          messages,
          counters: stores.runCounters,
          enqueueSends: async (batch) => {
            sends.push(...batch);
          },
          campaign: campaignDeps(),
          tenants,
          now: () => new Date(now),
        },
        {
          message: startMessage.parse(schedule?.payload),
          toleranceSeconds: 900,
          deadline: new Date(now + 60_000),
        },
      );

      expect(segmented).toMatchObject({ outcome: 'segmented', created: 2 });
      expect(sends.flatMap((batch) => batch.memberIds).sort()).toEqual(['M2', 'M3']);
      const retryRunId = sends[0]?.runId ?? '';
      expect(retryRunId).not.toBe(runId);
      const report = await call('GET', `/campaigns/${campaignId}/report`, keys.viewer);
      expect(report.body).toMatchObject({ runId: retryRunId, total: { targeted: 2 } });
    });

    it('answers 409 while the campaign is running, and changes nothing', async () => {
      const campaign = await stores.campaigns.get(tenantId, campaignId);
      if (!campaign) throw new Error('no campaign');
      await stores.campaigns.replace(
        tenantId,
        campaignId,
        { ...campaign, state: 'running' },
        campaign.updatedAt,
      );

      const answer = await call('POST', `/campaigns/${campaignId}/retry-failed`, keys.marketer);

      expect(answer.status).toBe(409);
      expect(scheduler.schedules.size).toBe(0);
    });

    it('answers 409 when no member failed, and 404 for an unknown campaign', async () => {
      await call('POST', `/campaigns/${campaignId}/retry-failed`, keys.marketer);
      now += 5_000;
      const retryRun = await fire();
      await finishRun(campaignDeps(), { tenantId, campaignId, runId: retryRun, state: 'completed' });

      const nothing = await call('POST', `/campaigns/${campaignId}/retry-failed`, keys.marketer);
      const unknown = await call('POST', '/campaigns/cmp_000000000000/retry-failed', keys.marketer);
      const viewer = await call('POST', `/campaigns/${campaignId}/retry-failed`, keys.viewer);

      expect(nothing.status).toBe(409);
      expect(String(nothing.body.message)).toContain('nothing to retry');
      expect(unknown.status).toBe(404);
      expect(viewer.status).toBe(403);
    });
  });
});
