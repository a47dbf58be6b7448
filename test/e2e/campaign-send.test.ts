import { createDocumentClient, DynamoOptOutStore } from '@qunfa/aws';
import { phoneHash } from '@qunfa/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { startTestStack, type TestStack } from '../support/stack';

// A campaign sent end to end on the local stack: the API schedules it, the local scheduler
// fires it onto the start queue, the segmenter records the audience and feeds the send
// queue, the sender (invoked by the send queue's poller, five records at a time, up to 50 at
// once) claims, checks and sends each member through the provider simulator, and the run
// completes. What each phone received is read from the simulator's own record.

let env: TestStack;

beforeAll(async () => {
  env = await startTestStack({ name: 'send', simulator: { seed: 3, receipts: { enabled: false } } });
});

afterAll(() => env?.stop());

const api: TestStack['api'] = (...args) => env.api(...args);

const counts = z.object({
  total: z.number(),
  phones: z.number(),
  byPhone: z.record(z.string(), z.number()),
  duplicateReferences: z.array(z.string()),
});

const progressCounts = z.looseObject({
  targeted: z.number(),
  queued: z.number(),
  sent: z.number(),
  failed: z.number(),
  unknown: z.number(),
  remaining: z.number(),
  suppressed: z.object({ total: z.number(), byReason: z.record(z.string(), z.number()) }),
});
const latestRun = progressCounts.extend({
  state: z.string(),
  byVariant: z.record(z.string(), progressCounts),
});

const size = 300;
const phoneOf = (i: number): string => `+86137${String(100_000_000 + i).slice(1)}`;
/** No marketing consent: every tenth member. Opted out by SMS: every 25th of the others. */
const noConsent = (i: number): boolean => i % 10 === 0;
const optedOut = (i: number): boolean => !noConsent(i) && i % 25 === 1;

describe('sending a campaign on the local stack', () => {
  it('sends exactly one SMS per eligible member, none to the others, and completes with counts that add up', async () => {
    // Prepare: 300 members, some without consent, some opted out, and an A/B test.
    const indexes = Array.from({ length: size }, (_, i) => i);
    for (let start = 0; start < size; start += 25) {
      const puts = await Promise.all(
        indexes.slice(start, start + 25).map((i) =>
          api('PUT', `/members/S${String(i).padStart(4, '0')}`, {
            phone: phoneOf(i),
            name: `会员${i}`,
            consent: { status: noConsent(i) ? 'unknown' : 'granted' },
          }),
        ),
      );
      expect(puts.map(({ status }) => status)).toEqual(puts.map(() => 201));
    }
    const client = createDocumentClient({
      endpoint: env.stack.components.dynamodb.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const optOuts = new DynamoOptOutStore({ client, tableName: env.stack.tables.suppressions });
    for (const i of indexes.filter(optedOut)) {
      await optOuts.add(env.tenantId, {
        phoneHash: phoneHash({ tenantId: env.tenantId, phone: phoneOf(i) }),
        source: 'sms',
        at: new Date().toISOString(),
      });
    }
    // Whatever the hour the test runs at: the tenant's hours bound every marketing send.
    const allDay = { start: '00:00', end: '24:00' };
    expect((await api('PATCH', '/tenant', { sendWindow: allDay })).status).toBe(200);
    const templates = [];
    for (const body of [
      '双11全场8折，{{name|default:"会员"}}专享',
      '{{name|default:"会员"}}，双11会员日满300减50',
    ]) {
      const template = await api('POST', '/templates', {
        name: `双11 ${templates.length}`,
        category: 'marketing',
        body,
      });
      expect(template.status).toBe(201);
      templates.push(String(template.body.templateId));
    }
    const created = await api('POST', '/campaigns', {
      name: '双11会员日',
      category: 'marketing',
      audience: { definition: { not: { tags: { any: ['staff'] } } } },
      content: {
        variants: [
          { variantId: 'A', templateId: templates[0], percent: 50 },
          { variantId: 'B', templateId: templates[1], percent: 50 },
        ],
      },
      schedule: { kind: 'now' },
      sendWindow: allDay,
    });
    expect(created.status).toBe(201);
    const campaignId = String(created.body.campaignId);

    // Act: schedule it, and wait for its run to complete.
    expect((await api('POST', `/campaigns/${campaignId}/schedule`)).status).toBe(200);
    let run: z.infer<typeof latestRun> | undefined;
    const until = Date.now() + 45_000;
    while (Date.now() < until && run?.state !== 'completed') {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const { body } = await api('GET', `/campaigns/${campaignId}`);
      run = body.latestRun === undefined ? undefined : latestRun.parse(body.latestRun);
    }

    // Assess: the simulator's record, then the run's counts.
    const eligible = indexes.filter((i) => !noConsent(i) && !optedOut(i));
    const response = await fetch(`${env.stack.components.simulator.url}/admin/messages/counts`);
    const got = counts.parse(await response.json());
    expect(run?.state).toBe('completed');
    expect(got.total).toBe(eligible.length);
    expect(got.duplicateReferences).toEqual([]);
    expect(eligible.every((i) => got.byPhone[phoneOf(i)] === 1)).toBe(true);
    expect(
      indexes.filter((i) => !eligible.includes(i)).some((i) => got.byPhone[phoneOf(i)] !== undefined),
    ).toBe(false);
    expect(run).toMatchObject({
      targeted: size,
      sent: eligible.length,
      failed: 0,
      unknown: 0,
      remaining: 0,
      suppressed: {
        total: size - eligible.length,
        byReason: expect.objectContaining({
          no_consent: indexes.filter(noConsent).length,
          opted_out: indexes.filter(optedOut).length,
        }),
      },
    });
    const variants = Object.values(run?.byVariant ?? {});
    expect(Object.keys(run?.byVariant ?? {}).sort()).toEqual(['A', 'B']);
    for (const variant of variants) {
      expect(variant.targeted).toBeGreaterThan(0);
      expect(variant.suppressed.total + variant.sent + variant.failed + variant.unknown).toBe(
        variant.targeted,
      );
    }
    expect(variants.reduce((sum, variant) => sum + variant.sent, 0)).toBe(eligible.length);
    expect((await api('GET', `/campaigns/${campaignId}`)).body.state).toBe('completed');
  });
});
