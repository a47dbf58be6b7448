import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack';

// A campaign started on the local stack: the API schedules it with the local EventBridge
// Scheduler, which puts its start on the start queue; the segmenter (invoked by the queue's
// poller) records the run's audience and enqueues it for the sender.

let env: TestStack;

beforeAll(async () => {
  env = await startTestStack({ name: 'campaign' });
});

afterAll(() => env?.stop());

const api: TestStack['api'] = (...args) => env.api(...args);

const members = 60;

describe('starting a campaign on the local stack', () => {
  it('fires the schedule, records every member of the audience once and enqueues the eligible', async () => {
    for (let i = 0; i < members; i++) {
      const put = await api('PUT', `/members/E${String(i).padStart(3, '0')}`, {
        phone: `1370000${String(1000 + i)}`,
        name: `会员${i}`,
        consent: { status: i % 4 === 0 ? 'unknown' : 'granted' },
      });
      expect(put.status).toBe(201);
    }
    const template = await api('POST', '/templates', {
      name: '双11',
      category: 'marketing',
      body: '双11全场8折，{{name|default:"会员"}}专享',
    });
    expect(template.status).toBe(201);
    const created = await api('POST', '/campaigns', {
      name: '双11会员日',
      category: 'marketing',
      audience: { definition: { not: { tags: { any: ['staff'] } } } },
      content: { templateId: template.body.templateId },
      schedule: { kind: 'now' },
    });
    expect(created.status).toBe(201);
    const campaignId = String(created.body.campaignId);

    expect((await api('POST', `/campaigns/${campaignId}/schedule`)).status).toBe(200);
    let progress: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 120 && progress?.targeted !== members; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      progress = (await api('GET', `/campaigns/${campaignId}`)).body.latestRun as
        | Record<string, unknown>
        | undefined;
    }

    expect(progress).toMatchObject({
      targeted: members,
      queued: members - members / 4,
      suppressed: { total: members / 4, byReason: expect.objectContaining({ no_consent: members / 4 }) },
    });
  });
});
