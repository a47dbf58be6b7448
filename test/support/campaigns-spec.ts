import { randomBytes } from 'node:crypto';
import type { ApiHandler } from '@qunfa/api';
import {
  type CampaignDeps,
  campaignScheduleName,
  finishRun,
  phoneHash,
  recordStart,
  type StartMessage,
} from '@qunfa/domain';
import { scheduleGroup } from '@qunfa/resources';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTestTenants, testApi } from './api';
import { httpEvent, lambdaContext } from './events';
import type { TestStores } from './fakes/memory-member-store';
import { MemoryScheduler } from './fakes/memory-scheduler';
import { RecordingProvider } from './fakes/memory-sending-stores';
import { MemoryTenantStore } from './fakes/memory-tenant-store';

// The campaigns specification of the HTTP API: drafts validated (every problem named, every
// reference checked), the lifecycle (every illegal move 409 and nothing changed), schedules
// through the Scheduler port (one per campaign, the start message's shape), runs started by
// the scheduler's fires (duplicates idempotent, late starts missed) and the progress GET
// answers. It runs against in-memory stores (unit) and DynamoDB Local (integration).

interface Call {
  status: number;
  body: Record<string, unknown>;
}

type Json = Record<string, unknown>;

interface Problem {
  path: string;
  message: string;
}

/** The clock every store and use case of one test reads; tests move it. */
export interface TestClock {
  now(): Date;
  set(at: string | number): void;
  advance(ms: number): void;
}

function testClock(start: string): TestClock {
  let current = Date.parse(start);
  return {
    now: () => new Date(current),
    set: (at) => {
      current = typeof at === 'number' ? at : Date.parse(at);
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

const t0 = '2026-11-23T08:00:00.000Z';
const minute = 60_000;

const promotion = {
  name: '双11会员日',
  category: 'marketing',
  body: '双11会员日全场8折！{{name|default:"会员"}}您好，凭券码{{couponCode}}到店再减20元。',
  variables: [{ name: 'couponCode', example: 'S11' }],
};
const greeting = {
  name: '生日',
  category: 'marketing',
  body: '生日快乐！{{name|default:"会员"}}，本月到店享双倍积分。',
};
const shipped = {
  name: '发货',
  category: 'notification',
  body: '您的订单{{orderNo}}已发货。',
  variables: [{ name: 'orderNo' }],
};

export function describeCampaignsApi(
  title: string,
  makeDeps: (now: () => Date) => Promise<TestStores>,
): void {
  describe(title, () => {
    let api: ApiHandler;
    let deps: TestStores;
    let scheduler: MemoryScheduler;
    let provider: RecordingProvider;
    let clock: TestClock;
    let tenantId: string;
    let keys: { admin: string; marketer: string; viewer: string; other: string };
    let templates: { promotion: string; greeting: string; shipped: string };
    let segmentId: string;

    const call = async (method: string, path: string, key: string, body?: unknown): Promise<Call> => {
      const result = await api(
        httpEvent({ method, path, headers: { authorization: `Bearer ${key}` }, body }),
        lambdaContext('api'),
      );
      return { status: result.statusCode ?? 0, body: result.body ? JSON.parse(result.body) : {} };
    };
    const problems = (answer: Call): Problem[] => (answer.body.problems ?? []) as Problem[];
    const paths = (answer: Call): string[] => problems(answer).map((p) => p.path);
    const campaignDeps = (): CampaignDeps => ({ ...deps, scheduler });
    const draft = (overrides: Json = {}): Json => ({
      name: '双11会员日',
      category: 'marketing',
      audience: { segmentId },
      content: { templateId: templates.promotion, values: { couponCode: 'S11-2026' } },
      schedule: { kind: 'now' },
      ...overrides,
    });
    const create = async (overrides: Json = {}): Promise<string> => {
      const answer = await call('POST', '/campaigns', keys.marketer, draft(overrides));
      expect(answer.status).toBe(201);
      return String(answer.body.campaignId);
    };
    const get = async (id: string): Promise<Json> =>
      (await call('GET', `/campaigns/${id}`, keys.viewer)).body;
    const act = (id: string, action: string, key = keys.marketer) =>
      call('POST', `/campaigns/${id}/${action}`, key);
    const nameOf = (id: string): string => campaignScheduleName({ tenantId, campaignId: id });
    const handleStart = (message: StartMessage) =>
      recordStart(campaignDeps(), { message, toleranceSeconds: scheduleGroup.missedStartToleranceSeconds });
    const runsOf = async (id: string): Promise<Json[]> =>
      (await call('GET', `/campaigns/${id}/runs`, keys.viewer)).body.items as Json[];

    beforeEach(async () => {
      clock = testClock(t0);
      deps = await makeDeps(() => clock.now());
      scheduler = new MemoryScheduler();
      provider = new RecordingProvider();
      const tenancy = {
        store: new MemoryTenantStore(),
        random: (n: number) => randomBytes(n),
        now: () => clock.now(),
      };
      api = testApi({ stores: deps, scheduler, provider, tenancy }).api;
      ({ tenantId, keys } = await createTestTenants({ tenancy, call }));
      const save = async (body: Json): Promise<string> => {
        const answer = await call('POST', '/templates', keys.marketer, body);
        expect(answer.status).toBe(201);
        return String(answer.body.templateId);
      };
      templates = {
        promotion: await save(promotion),
        greeting: await save(greeting),
        shipped: await save(shipped),
      };
      const segment = await call('POST', '/segments', keys.marketer, {
        name: 'VIP',
        definition: { tags: { any: ['vip'] } },
      });
      segmentId = String(segment.body.segmentId);
    });

    describe('POST /campaigns', () => {
      it("saves a draft with the tenant's send window, no holdout, and answers it", async () => {
        const saved = await call('POST', '/campaigns', keys.marketer, draft());

        expect(saved.status).toBe(201);
        expect(saved.body).toEqual({
          ...draft(),
          campaignId: expect.stringMatching(/^cmp_[0-9A-Za-z]{12}$/),
          state: 'draft',
          sendWindow: { start: '09:00', end: '20:00', outside: 'hold' },
          holdoutPercent: 0,
          createdAt: t0,
          updatedAt: t0,
        });
        expect(await get(String(saved.body.campaignId))).toEqual(saved.body);
      });

      it('saves A/B variants, a cron schedule, throttle, holdout, budget and a drop window as given', async () => {
        await call('PATCH', '/tenant', keys.admin, { sendWindow: { start: '10:00', end: '21:00' } });
        const body = draft({
          content: {
            variants: [
              {
                variantId: 'A',
                templateId: templates.promotion,
                values: { couponCode: 'A-10' },
                percent: 50,
              },
              { variantId: 'B', templateId: templates.greeting, percent: 50 },
            ],
          },
          audience: { memberIds: ['M1', 'M2', 'M1'] },
          schedule: { kind: 'cron', expression: '30 9 * * *', timeZone: 'Asia/Shanghai' },
          sendWindow: { outside: 'drop' },
          throttle: { messagesPerSecond: 50 },
          holdoutPercent: 10,
          budget: { amount: '500.00', currency: 'CNY' },
        });

        const saved = await call('POST', '/campaigns', keys.marketer, body);

        expect(saved.status).toBe(201);
        expect(saved.body).toMatchObject({
          ...body,
          audience: { memberIds: ['M1', 'M2'] },
          sendWindow: { start: '10:00', end: '21:00', outside: 'drop' },
        });
      });

      it('refuses every bad field in one 400, naming each, and saves nothing', async () => {
        const attempt = await call('POST', '/campaigns', keys.marketer, {
          name: ' ',
          category: 'promo',
          audience: {},
          content: { templateId: 'tpl_x' },
          schedule: { kind: 'cron', expression: '61 9 * * *', timeZone: 'Mars/Olympus' },
          sendWindow: { start: '9am' },
          throttle: { messagesPerSecond: 0 },
          holdoutPercent: 60,
          budget: { amount: '-5', currency: 'yuan' },
          colour: 'red',
        });

        expect(attempt.status).toBe(400);
        expect(paths(attempt)).toEqual([
          'body.name',
          'body.category',
          'body.audience.segmentId',
          'body.content.templateId',
          'body.schedule.expression',
          'body.schedule.timeZone',
          'body.sendWindow.start',
          'body.throttle.messagesPerSecond',
          'body.holdoutPercent',
          'body.budget.amount',
          'body.budget.currency',
          'body.colour',
        ]);
        expect((await call('GET', '/campaigns', keys.viewer)).body.items).toEqual([]);
      });

      it('refuses A/B variants whose percents do not add up to 100', async () => {
        const attempt = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({
            content: {
              variants: [
                { variantId: 'A', templateId: templates.greeting, percent: 60 },
                { variantId: 'B', templateId: templates.greeting, percent: 30 },
              ],
            },
          }),
        );

        expect(attempt.status).toBe(400);
        expect(problems(attempt)).toEqual([
          {
            path: 'body.content.variants',
            message: "the variants' percents add up to 90; they must add up to 100",
          },
        ]);
      });

      it('refuses one variant (of 100%), six variants, a repeated variant id and values beside variants', async () => {
        const variant = (variantId: string, percent: number) => ({
          variantId,
          templateId: templates.greeting,
          percent,
        });

        const one = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({ content: { variants: [variant('A', 100)] } }),
        );
        const six = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({ content: { variants: ['A', 'B', 'C', 'D', 'E', 'A'].map((id) => variant(id, 10)) } }),
        );
        const repeated = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({ content: { variants: [variant('A', 50), variant('A', 50)], values: { couponCode: 'x' } } }),
        );

        expect(paths(one)).toEqual(['body.content.variants.0.percent', 'body.content.variants']);
        expect(paths(six)).toEqual(['body.content.variants']);
        expect(paths(repeated)).toEqual(['body.content.values', 'body.content.variants.1.variantId']);
      });

      it('refuses unknown templates and segments with 400 at their paths', async () => {
        const attempt = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({
            audience: { segmentId: 'seg_000000000000' },
            content: {
              variants: [
                { variantId: 'A', templateId: templates.greeting, percent: 50 },
                { variantId: 'B', templateId: 'tpl_000000000000', percent: 50 },
              ],
            },
          }),
        );

        expect(attempt.status).toBe(400);
        expect(problems(attempt)).toEqual([
          { path: 'body.audience.segmentId', message: 'no segment seg_000000000000' },
          { path: 'body.content.variants.1.templateId', message: 'no template tpl_000000000000' },
        ]);
        expect((await call('GET', '/campaigns', keys.viewer)).body.items).toEqual([]);
      });

      it("refuses a template of another category and values that do not fit the template's variables", async () => {
        const notification = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({ content: { templateId: templates.shipped, values: { orderNo: 'A1' } } }),
        );
        const values = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({ content: { templateId: templates.promotion, values: { coupon: 'S11' } } }),
        );

        expect(problems(notification)).toEqual([
          {
            path: 'body.content.templateId',
            message: `template ${templates.shipped} is a notification template; this campaign is marketing`,
          },
        ]);
        expect(paths(values)).toEqual(['body.content.values.coupon', 'body.content.values.couponCode']);
      });

      it('refuses a one-time start that has passed, and more than 10,000 member ids', async () => {
        const past = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({ schedule: { kind: 'at', at: '2026-11-23T07:59:00Z' } }),
        );
        const many = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({ audience: { memberIds: Array.from({ length: 10_001 }, (_, i) => `M${i}`) } }),
        );

        expect(paths(past)).toEqual(['body.schedule.at']);
        expect(paths(many)).toEqual(['body.audience.memberIds']);
      });

      it('refuses a cron expression EventBridge cannot say, and a window that ends when it starts', async () => {
        const both = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({
            schedule: { kind: 'cron', expression: '0 9 1 * 1', timeZone: 'Asia/Shanghai' },
            sendWindow: { start: '20:00' },
          }),
        );

        expect(problems(both)).toEqual([
          {
            path: 'body.schedule.expression',
            message: 'restrict day-of-month or day-of-week, not both: set the other to "*"',
          },
        ]);
        const window = await call(
          'POST',
          '/campaigns',
          keys.marketer,
          draft({ sendWindow: { start: '20:00' } }),
        );
        expect(paths(window)).toEqual(['body.sendWindow.end']);
      });

      it('refuses a viewer with 403', async () => {
        expect((await call('POST', '/campaigns', keys.viewer, draft())).status).toBe(403);
      });
    });

    describe('GET, PATCH and DELETE /campaigns/{id}', () => {
      it('changes a draft: given fields replace, a partial window keeps its other hours, null removes', async () => {
        const id = await create({ throttle: { messagesPerSecond: 20 }, sendWindow: { start: '10:00' } });
        clock.advance(minute);

        const patched = await call('PATCH', `/campaigns/${id}`, keys.marketer, {
          name: '双11（改）',
          sendWindow: { outside: 'drop' },
          throttle: null,
        });

        expect(patched.status).toBe(200);
        expect(patched.body).toMatchObject({
          name: '双11（改）',
          sendWindow: { start: '10:00', end: '20:00', outside: 'drop' },
          updatedAt: '2026-11-23T08:01:00.000Z',
        });
        expect(patched.body).not.toHaveProperty('throttle');
        expect(await get(id)).toEqual(patched.body);
      });

      it('checks the references of a change, and refuses an edit of a stale copy with 409', async () => {
        const id = await create();
        const stale = String((await get(id)).updatedAt);
        clock.advance(minute);
        await call('PATCH', `/campaigns/${id}`, keys.marketer, { name: 'first edit' });

        const late = await call(
          'PATCH',
          `/campaigns/${id}?expectedUpdatedAt=${encodeURIComponent(stale)}`,
          keys.marketer,
          { name: 'second edit' },
        );
        const unknown = await call('PATCH', `/campaigns/${id}`, keys.marketer, {
          content: { templateId: 'tpl_000000000000' },
        });

        expect(late.status).toBe(409);
        expect(paths(unknown)).toEqual(['body.content.templateId']);
        expect((await get(id)).name).toBe('first edit');
      });

      it('refuses to change or delete a campaign once scheduled (409), changing nothing', async () => {
        const id = await create();
        await act(id, 'schedule');
        const before = await get(id);

        const patched = await call('PATCH', `/campaigns/${id}`, keys.marketer, { name: 'too late' });
        const deleted = await call('DELETE', `/campaigns/${id}`, keys.marketer);

        expect(patched.status).toBe(409);
        expect(patched.body.message).toMatch(/is scheduled: only a draft can be changed/);
        expect(deleted.status).toBe(409);
        expect(await get(id)).toEqual(before);
      });

      it('deletes a draft: 204, then 404', async () => {
        const id = await create();

        const deleted = await call('DELETE', `/campaigns/${id}`, keys.marketer);

        expect(deleted.status).toBe(204);
        expect((await call('GET', `/campaigns/${id}`, keys.viewer)).status).toBe(404);
        expect((await call('DELETE', `/campaigns/${id}`, keys.marketer)).status).toBe(404);
      });

      it('pages through the campaigns', async () => {
        const ids = [await create({ name: 'a' }), await create({ name: 'b' }), await create({ name: 'c' })];

        const first = await call('GET', '/campaigns?limit=2', keys.viewer);
        const second = await call(
          'GET',
          `/campaigns?limit=2&cursor=${encodeURIComponent(String(first.body.cursor))}`,
          keys.viewer,
        );

        const listed = [...(first.body.items as Json[]), ...(second.body.items as Json[])];
        expect(listed.map((c) => c.campaignId).sort()).toEqual(ids.sort());
        expect(second.body).not.toHaveProperty('cursor');
      });

      it("never shows, changes, schedules or deletes another tenant's campaign", async () => {
        const id = await create();

        const answers = [
          await call('GET', `/campaigns/${id}`, keys.other),
          await call('PATCH', `/campaigns/${id}`, keys.other, { name: 'taken' }),
          await act(id, 'schedule', keys.other),
          await call('DELETE', `/campaigns/${id}`, keys.other),
        ];

        expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 404]);
        expect(scheduler.schedules.size).toBe(0);
        expect((await get(id)).state).toBe('draft');
      });
    });

    describe('POST /campaigns/{id}/schedule', () => {
      it('schedules "now" as one one-time schedule a few seconds ahead carrying the start message', async () => {
        const id = await create();

        const scheduled = await act(id, 'schedule');

        expect(scheduled.status).toBe(200);
        expect(scheduled.body).toMatchObject({ state: 'scheduled', startAt: t0 });
        expect([...scheduler.schedules.values()]).toEqual([
          {
            name: `${tenantId}-${id}`,
            spec: { kind: 'at', at: '2026-11-23T08:00:05.000Z' },
            payload: { type: 'campaign.start', tenantId, campaignId: id, scheduledAt: t0 },
          },
        ]);
      });

      it('schedules "at" as one one-time schedule at that instant', async () => {
        const id = await create({ schedule: { kind: 'at', at: '2026-11-25T09:30:00+08:00' } });

        await act(id, 'schedule');

        expect([...scheduler.schedules.values()]).toEqual([
          {
            name: nameOf(id),
            spec: { kind: 'at', at: '2026-11-25T01:30:00.000Z' },
            payload: {
              type: 'campaign.start',
              tenantId,
              campaignId: id,
              scheduledAt: '2026-11-25T09:30:00+08:00',
            },
          },
        ]);
      });

      it("schedules a cron in its time zone, each fire carrying the occurrence's time", async () => {
        const id = await create({
          schedule: { kind: 'cron', expression: '30 9 * * *', timeZone: 'Asia/Shanghai' },
        });

        await act(id, 'schedule');
        const fired = scheduler.fire(nameOf(id), '2026-11-24T01:30:00Z');

        expect([...scheduler.schedules.values()]).toEqual([
          {
            name: nameOf(id),
            spec: { kind: 'cron', expression: '30 9 * * *', timeZone: 'Asia/Shanghai' },
            payload: {
              type: 'campaign.start',
              tenantId,
              campaignId: id,
              scheduledAt: '<aws.scheduler.scheduled-time>',
            },
          },
        ]);
        expect(fired).toEqual({
          type: 'campaign.start',
          tenantId,
          campaignId: id,
          scheduledAt: '2026-11-24T01:30:00Z',
        });
      });

      it('keeps one schedule when scheduled twice, with the same start', async () => {
        const id = await create();
        await act(id, 'schedule');
        const first = scheduler.schedules.get(nameOf(id));
        clock.advance(2_000);

        const again = await act(id, 'schedule');

        expect(again.status).toBe(200);
        expect(scheduler.schedules.size).toBe(1);
        expect(scheduler.schedules.get(nameOf(id))?.payload).toEqual(first?.payload);
      });

      it('refuses to schedule a campaign whose template was deleted since, and leaves it a draft', async () => {
        const id = await create();
        await call('DELETE', `/templates/${templates.promotion}`, keys.marketer);

        const attempt = await act(id, 'schedule');

        expect(attempt.status).toBe(400);
        expect(paths(attempt)).toEqual(['campaign.content.templateId']);
        expect((await get(id)).state).toBe('draft');
        expect(scheduler.schedules.size).toBe(0);
      });
    });

    describe('pause, resume and cancel', () => {
      it('cancels: the schedule is deleted and a second cancel is 409', async () => {
        const id = await create();
        await act(id, 'schedule');

        const cancelled = await act(id, 'cancel');
        const again = await act(id, 'cancel');

        expect(cancelled.body.state).toBe('cancelled');
        expect(scheduler.schedules.size).toBe(0);
        expect(again.status).toBe(409);
        expect(again.body.message).toMatch(/is cancelled: it cannot cancel/);
      });

      it('pauses a scheduled campaign (no schedule while paused) and resumes it (the same start again)', async () => {
        const id = await create({
          schedule: { kind: 'cron', expression: '0 10 * * 1', timeZone: 'Asia/Shanghai' },
        });
        await act(id, 'schedule');
        const scheduled = scheduler.schedules.get(nameOf(id));

        const paused = await act(id, 'pause');
        const whilePaused = scheduler.schedules.size;
        const resumed = await act(id, 'resume');

        expect(paused.body).toMatchObject({ state: 'paused', pausedFrom: 'scheduled' });
        expect(whilePaused).toBe(0);
        expect(resumed.body.state).toBe('scheduled');
        expect(resumed.body).not.toHaveProperty('pausedFrom');
        expect(scheduler.schedules.get(nameOf(id))).toEqual(scheduled);
      });

      it('answers every illegal move with 409 naming the state and the action, changing nothing', async () => {
        const id = await create();
        const before = await get(id);

        const answers = await Promise.all(['pause', 'resume', 'cancel'].map((action) => act(id, action)));

        expect(answers.map((a) => a.status)).toEqual([409, 409, 409]);
        expect(answers.map((a) => a.body.message)).toEqual([
          expect.stringContaining('is draft: it cannot pause'),
          expect.stringContaining('is draft: it cannot resume'),
          expect.stringContaining('is draft: it cannot cancel'),
        ]);
        expect(await get(id)).toEqual(before);
        expect(scheduler.calls).toEqual([]);
      });

      it('refuses the moves to a viewer with 403', async () => {
        const id = await create();
        expect((await act(id, 'schedule', keys.viewer)).status).toBe(403);
      });
    });

    describe('runs', () => {
      it('starts one run for a fire, and none for the same start message again', async () => {
        const id = await create();
        await act(id, 'schedule');
        const message = scheduler.fire(nameOf(id));
        clock.advance(5_000);

        const first = await handleStart(message);
        const second = await handleStart(message);

        expect(first.outcome).toBe('start');
        expect(second.outcome).toBe('duplicate');
        expect(await runsOf(id)).toEqual([
          expect.objectContaining({
            campaignId: id,
            runId: 'run_20261123T080000000Z',
            scheduledAt: t0,
            startedAt: '2026-11-23T08:00:05.000Z',
            state: 'starting',
          }),
        ]);
        expect((await get(id)).state).toBe('running');
      });

      it('records a start later than the tolerance as missed, never fires it, and fails a one-time campaign', async () => {
        const id = await create({ schedule: { kind: 'at', at: '2026-11-23T09:00:00Z' } });
        await act(id, 'schedule');
        const message = scheduler.fire(nameOf(id));
        clock.set(
          Date.parse('2026-11-23T09:00:00Z') + (scheduleGroup.missedStartToleranceSeconds + 1) * 1000,
        );

        const decision = await handleStart(message);
        const read = await get(id);

        expect(decision.outcome).toBe('missed');
        expect(read).toMatchObject({
          state: 'failed',
          failure: { reason: 'start_missed' },
          latestRun: { runId: 'run_20261123T090000000Z', state: 'missed', missedReason: 'late', targeted: 0 },
        });
        expect(await runsOf(id)).toHaveLength(1);
      });

      it('starts a new run for each fire of a recurring campaign, which waits scheduled between runs', async () => {
        const id = await create({
          schedule: { kind: 'cron', expression: '30 9 * * *', timeZone: 'Asia/Shanghai' },
        });
        await act(id, 'schedule');
        clock.set('2026-11-24T01:30:02Z');
        const first = await handleStart(scheduler.fire(nameOf(id), '2026-11-24T01:30:00Z'));
        const overlap = await handleStart(scheduler.fire(nameOf(id), '2026-11-24T01:31:00Z'));
        if (first.outcome !== 'start') throw new Error(`expected a start, got ${first.outcome}`);
        await finishRun(campaignDeps(), {
          tenantId,
          campaignId: id,
          runId: first.run.runId,
          state: 'completed',
        });
        const between = await get(id);
        clock.set('2026-11-25T01:30:01Z');
        const second = await handleStart(scheduler.fire(nameOf(id), '2026-11-25T01:30:00Z'));

        expect(overlap).toMatchObject({ outcome: 'missed', run: { missedReason: 'overlap' } });
        expect(between.state).toBe('scheduled');
        expect(second.outcome).toBe('start');
        expect((await runsOf(id)).map((run) => [run.runId, run.state])).toEqual([
          ['run_20261125T013000000Z', 'starting'],
          ['run_20261124T013100000Z', 'missed'],
          ['run_20261124T013000000Z', 'completed'],
        ]);
        expect(scheduler.schedules.size).toBe(1);
      });

      it('ignores a start for a paused campaign, and starts it from the schedule its resume puts back', async () => {
        const id = await create();
        await act(id, 'schedule');
        const inFlight = scheduler.fire(nameOf(id));
        await act(id, 'pause');

        const ignored = await handleStart(inFlight);
        clock.advance(minute);
        await act(id, 'resume');
        const resumedStart = scheduler.fire(nameOf(id));
        const started = await handleStart(resumedStart);

        expect(ignored.outcome).toBe('ignored');
        expect(resumedStart.scheduledAt).toBe(t0);
        expect(started.outcome).toBe('start');
        expect((await get(id)).state).toBe('running');
      });

      it('pauses, resumes and cancels a running campaign, ending its run cancelled', async () => {
        const id = await create();
        await act(id, 'schedule');
        await handleStart(scheduler.fire(nameOf(id)));

        const paused = await act(id, 'pause');
        clock.advance(minute);
        const resumed = await act(id, 'resume');
        const cancelled = await act(id, 'cancel');

        expect(paused.body).toMatchObject({ state: 'paused', pausedFrom: 'running' });
        expect(resumed.body.state).toBe('running');
        expect(cancelled.body.state).toBe('cancelled');
        const [run] = await runsOf(id);
        expect(run).toMatchObject({
          state: 'cancelled',
          pauses: [{ from: t0, to: '2026-11-23T08:01:00.000Z' }],
        });
      });
    });

    describe('POST /campaigns/{id}/test-send', () => {
      const abContent = () => ({
        variants: [
          {
            variantId: 'A',
            templateId: templates.promotion,
            values: { couponCode: 'S11-2026' },
            percent: 50,
          },
          { variantId: 'B', templateId: templates.greeting, percent: 50 },
        ],
      });
      const testSend = (id: string, body: Json, key = keys.marketer) =>
        call('POST', `/campaigns/${id}/test-send`, key, body);
      const resultsOf = (answer: Call): Json[] => answer.body.results as Json[];
      const recordOf = async (answer: Call, recordId: string) =>
        deps.messages?.get(tenantId, String(answer.body.testSendId), recordId);

      it('sends each variant to each number at once and answers status, provider id, parts and text', async () => {
        const id = await create({ content: abContent() });
        const before = await get(id);

        const answer = await testSend(id, { phones: ['138 0013 8000', '+86 139-0013-9000'] });

        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({
          testSendId: expect.stringMatching(/^test_20261123T080000000Z_[0-9A-Za-z]{6}$/),
          campaignId: id,
          provider: 'simulator',
        });
        expect(resultsOf(answer)).toEqual([
          expect.objectContaining({ phone: '+8613800138000', variantId: 'A', status: 'sent' }),
          expect.objectContaining({ phone: '+8613800138000', variantId: 'B', status: 'sent' }),
          expect.objectContaining({ phone: '+8613900139000', variantId: 'A', status: 'sent' }),
          expect.objectContaining({ phone: '+8613900139000', variantId: 'B', status: 'sent' }),
        ]);
        const [first] = resultsOf(answer);
        expect(first).toMatchObject({
          providerMessageId: expect.stringMatching(/^rec-/),
          parts: 1,
          text: '【Acme Tea】双11会员日全场8折！王小明您好，凭券码S11-2026到店再减20元。拒收请回复R',
        });
        expect(Object.fromEntries(provider.byPhone())).toEqual({ '+8613800138000': 2, '+8613900139000': 2 });
        // Recorded where receipts look, marked test, under the reference the provider was given.
        expect(await recordOf(answer, 'phone1.A')).toMatchObject({
          campaignId: id,
          variantId: 'A',
          state: 'sent',
          test: true,
          providerMessageId: first?.providerMessageId,
          parts: 1,
        });
        expect(provider.accepted.map((sms) => sms.reference)).toContain(`${answer.body.testSendId}:phone1.A`);
        // Nothing about the campaign changed: no state, no run.
        expect(await get(id)).toEqual(before);
        expect(await runsOf(id)).toEqual([]);
      });

      it('sends only the chosen variant, filled from a member and sample values', async () => {
        const id = await create({ content: abContent() });
        const member = await call('PUT', '/members/M1', keys.marketer, {
          phone: '13700137000',
          name: '李雷',
        });
        expect(member.status).toBe(201);

        const answer = await testSend(id, {
          phones: ['13800138000'],
          variantId: 'A',
          memberId: 'M1',
          values: { couponCode: 'TEST-1' },
        });

        expect(answer.status).toBe(200);
        expect(resultsOf(answer)).toEqual([
          expect.objectContaining({
            phone: '+8613800138000',
            variantId: 'A',
            status: 'sent',
            text: expect.stringContaining('李雷您好，凭券码TEST-1到店'),
          }),
        ]);
        // The member's own number is not where a test goes.
        expect(provider.byPhone().get('+8613700137000')).toBeUndefined();
      });

      it('refuses bad and repeated numbers with one 400 naming each entry, and sends nothing', async () => {
        const id = await create();

        const answer = await testSend(id, {
          phones: ['138 0013 8000', '12345', 'call me', '+8613800138000'],
        });

        expect(answer.status).toBe(400);
        expect(problems(answer)).toEqual([
          { path: 'body.phones.1', message: expect.stringContaining('"12345" is not a mobile number') },
          { path: 'body.phones.2', message: expect.stringContaining('not_a_number') },
          { path: 'body.phones.3', message: 'the same number as body.phones.0' },
        ]);
        expect(provider.accepted).toEqual([]);
      });

      it('refuses no numbers, more than 20, an unknown variant, member or variable, each at its path', async () => {
        const ab = await create({ content: abContent() });
        const single = await create();
        const many = Array.from({ length: 21 }, (_, i) => `1380013${String(8000 + i)}`);

        const none = await testSend(single, { phones: [] });
        const tooMany = await testSend(single, { phones: many });
        const unknown = await testSend(ab, {
          phones: ['13800138000'],
          variantId: 'C',
          memberId: 'NOPE',
          values: { nope: 1 },
        });
        const variantOfSingle = await testSend(single, { phones: ['13800138000'], variantId: 'A' });
        const wrongType = await testSend(single, {
          phones: ['13800138000'],
          values: { couponCode: { x: 1 } },
        });

        expect(paths(none)).toEqual(['body.phones']);
        expect(paths(tooMany)).toEqual(['body.phones']);
        expect(unknown.status).toBe(400);
        expect(paths(unknown)).toEqual(['body.variantId', 'body.memberId', 'body.values.nope']);
        expect(paths(variantOfSingle)).toEqual(['body.variantId']);
        expect(paths(wrongType)).toEqual(['body.values.couponCode']);
        expect(provider.accepted).toEqual([]);
      });

      it('answers an opted-out number opted_out and sends it nothing', async () => {
        const id = await create();
        await deps.optOuts.add(tenantId, {
          phoneHash: phoneHash({ tenantId, phone: '+8613800138000' }),
          source: 'sms',
          at: t0,
        });

        const answer = await testSend(id, { phones: ['13800138000', '13900139000'] });

        expect(answer.status).toBe(200);
        expect(resultsOf(answer)).toEqual([
          { phone: '+8613800138000', status: 'opted_out' },
          expect.objectContaining({ phone: '+8613900139000', status: 'sent' }),
        ]);
        expect([...provider.byPhone().keys()]).toEqual(['+8613900139000']);
        expect(await recordOf(answer, 'phone1')).toMatchObject({
          state: 'suppressed',
          reason: 'opted_out',
          test: true,
        });
      });

      it('answers a number the provider refuses failed, with the reason, and records it', async () => {
        const id = await create();
        provider.answers.set('+8613900139000', { outcome: 'permanent', code: 'invalid_number' });

        const answer = await testSend(id, { phones: ['13800138000', '13900139000'] });

        expect(resultsOf(answer).map((result) => [result.status, result.reason])).toEqual([
          ['sent', undefined],
          ['failed', 'invalid_phone:invalid_number'],
        ]);
        expect(await recordOf(answer, 'phone2')).toMatchObject({
          state: 'failed',
          reason: 'invalid_phone:invalid_number',
        });
      });

      it('sends for a scheduled or running campaign, counting nothing in its run; not once it has ended', async () => {
        const id = await create();
        await act(id, 'schedule');
        const scheduled = await testSend(id, { phones: ['13800138000'] });
        const started = await handleStart(scheduler.fire(nameOf(id)));
        if (started.outcome !== 'start') throw new Error(`expected a start, got ${started.outcome}`);
        const running = await testSend(id, { phones: ['13800138000'] });
        const tally = await deps.runCounters.read(tenantId, id, started.run.runId);
        await act(id, 'cancel');
        const cancelled = await testSend(id, { phones: ['13800138000'] });

        expect([scheduled.status, running.status, cancelled.status]).toEqual([200, 200, 409]);
        expect(tally.total).toMatchObject({ targeted: 0, sent: 0, spentMicros: 0 });
        expect(tally.firstAt).toBeUndefined();
        expect(String(cancelled.body.message)).toContain('is cancelled');
        expect(provider.accepted).toHaveLength(2);
      });

      it("refuses outside the campaign's send window with 409 naming when it opens, sending nothing", async () => {
        const id = await create();
        clock.set('2026-11-23T13:30:00.000Z'); // 21:30 in Shanghai

        const answer = await testSend(id, { phones: ['13800138000'] });

        expect(answer.status).toBe(409);
        expect(String(answer.body.message)).toContain('2026-11-24T01:00:00.000Z');
        expect(provider.accepted).toEqual([]);
      });

      it("refuses a viewer with 403 and another tenant's key with 404", async () => {
        const id = await create();

        const viewer = await testSend(id, { phones: ['13800138000'] }, keys.viewer);
        const other = await testSend(id, { phones: ['13800138000'] }, keys.other);

        expect([viewer.status, other.status]).toEqual([403, 404]);
        expect(provider.accepted).toEqual([]);
      });
    });

    describe('progress', () => {
      it("answers the latest run's counters, remaining, rate, ETA and spend against the budget", async () => {
        const id = await create({
          content: {
            variants: [
              { variantId: 'A', templateId: templates.greeting, percent: 50 },
              { variantId: 'B', templateId: templates.greeting, percent: 50 },
            ],
          },
          budget: { amount: '50', currency: 'CNY' },
        });
        await act(id, 'schedule');
        const started = await handleStart(scheduler.fire(nameOf(id)));
        if (started.outcome !== 'start') throw new Error(`expected a start, got ${started.outcome}`);
        const runId = started.run.runId;
        // The segmenter's page, then the sender's batches over 100 seconds.
        await deps.runCounters.add(tenantId, id, runId, {
          targeted: 1_000,
          queued: 900,
          'suppressed.opted_out': 40,
          'suppressed.holdout': 60,
          'variant.A.queued': 450,
          'variant.B.queued': 450,
        });
        clock.advance(100_000);
        await deps.runCounters.add(tenantId, id, runId, {
          sent: 380,
          failed: 15,
          unknown: 5,
          'suppressed.capped': 20,
          'suppressed.over_budget': 7,
          'variant.A.sent': 190,
          spentMicros: 17_100_000,
          'variant.A.spentMicros': 8_550_000,
        });
        clock.advance(10_000);
        await deps.runCounters.add(tenantId, id, runId, { delivered: 300, undelivered: 10 });

        const read = await get(id);

        expect(read.latestRun).toEqual({
          runId,
          state: 'starting',
          scheduledAt: t0,
          startedAt: t0,
          targeted: 1_000,
          suppressed: {
            total: 127,
            byReason: {
              opted_out: 40,
              no_consent: 0,
              invalid_phone: 0,
              holdout: 60,
              missing_variable: 0,
              capped: 20,
              quiet_hours: 0,
              over_budget: 7,
            },
          },
          queued: 900,
          sent: 380,
          delivered: 300,
          failed: 25,
          unknown: 5,
          remaining: 473,
          spentMicros: 17_100_000,
          // 400 dealt with (sent + failed + unknown) over the 110 s between the first and latest batch.
          ratePerSecond: 3.6,
          etaSeconds: 132,
          etaAt: '2026-11-23T08:04:02.000Z',
          budget: {
            currency: 'CNY',
            cap: '50.00',
            capMicros: 50_000_000,
            spent: '17.10',
            spentMicros: 17_100_000,
          },
          byVariant: {
            A: expect.objectContaining({ queued: 450, sent: 190, spentMicros: 8_550_000 }),
            B: expect.objectContaining({ queued: 450, sent: 0, spentMicros: 0 }),
          },
        });
      });

      it('answers the final counts once the run has them, not the shorter sum of its batches', async () => {
        const id = await create();
        await act(id, 'schedule');
        const started = await handleStart(scheduler.fire(nameOf(id)));
        if (started.outcome !== 'start') throw new Error(`expected a start, got ${started.outcome}`);
        const runId = started.run.runId;
        // One batch's add lost: the records say 10 sent, the shards 7.
        await deps.runCounters.add(tenantId, id, runId, {
          targeted: 10,
          queued: 10,
          sent: 7,
          spentMicros: 315_000,
        });
        await deps.runCounters.finalize(tenantId, id, runId, {
          targeted: 10,
          sent: 10,
          spentMicros: 450_000,
        });

        const read = await get(id);

        expect(read.latestRun).toMatchObject({
          targeted: 10,
          queued: 10,
          sent: 10,
          remaining: 0,
          spentMicros: 450_000,
        });
      });

      it('shows no budget for a campaign without one, and the spend all the same', async () => {
        const id = await create();
        await act(id, 'schedule');
        const started = await handleStart(scheduler.fire(nameOf(id)));
        if (started.outcome !== 'start') throw new Error(`expected a start, got ${started.outcome}`);
        await deps.runCounters.add(tenantId, id, started.run.runId, {
          targeted: 3,
          sent: 3,
          spentMicros: 135_000,
        });

        const read = await get(id);

        expect(read.latestRun).toMatchObject({ sent: 3, spentMicros: 135_000 });
        expect(read.latestRun).not.toHaveProperty('budget');
      });
    });
  });
}
