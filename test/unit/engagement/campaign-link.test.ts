import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestTenants, testApi } from '../../support/api';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryTenantStore } from '../../support/fakes/memory-tenant-store';

// A campaign whose template has {{link}} names where the link sends: an http(s) URL, on the
// content or on each variant; without one it is refused with the path to give it at.

async function setUp() {
  const tenancy = {
    store: new MemoryTenantStore(),
    random: (n: number) => randomBytes(n),
    now: () => new Date(),
  };
  const { api } = testApi({ tenancy });
  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const result = await api(
      httpEvent({ method, path, headers: { authorization: `Bearer ${key}` }, body }),
      lambdaContext('api'),
    );
    return {
      status: result.statusCode ?? 0,
      body: (result.body ? JSON.parse(result.body) : {}) as Record<string, unknown>,
    };
  };
  const { keys } = await createTestTenants({ tenancy, call });
  const template = await call('POST', '/templates', keys.marketer, {
    name: '回访',
    category: 'marketing',
    body: '{{name|default:"会员"}}您好，邀请您参与满意度回访：{{link}}',
  });
  expect(template.status).toBe(201);
  const templateId = String(template.body.templateId);
  const campaign = (content: Record<string, unknown>) => ({
    name: '回访',
    category: 'marketing',
    audience: { memberIds: ['m1'] },
    content,
    schedule: { kind: 'now' },
  });
  const paths = (body: Record<string, unknown>) =>
    ((body.problems ?? []) as { path: string }[]).map((problem) => problem.path);
  return { call, key: keys.marketer, templateId, campaign, paths };
}

describe('campaign short-link destinations', () => {
  it('refuses a template with {{link}} and no URL, naming the path', async () => {
    const { call, key, templateId, campaign, paths } = await setUp();

    const single = await call('POST', '/campaigns', key, campaign({ templateId }));
    const variants = await call(
      'POST',
      '/campaigns',
      key,
      campaign({
        variants: [
          { variantId: 'A', templateId, percent: 50, link: 'https://shop.acme.cn/a' },
          { variantId: 'B', templateId, percent: 50 },
        ],
      }),
    );

    expect(single.status).toBe(400);
    expect(paths(single.body)).toEqual(['body.content.link']);
    expect(variants.status).toBe(400);
    expect(paths(variants.body)).toEqual(['body.content.variants.1.link']);
  });

  it('refuses a javascript: URL and one with credentials', async () => {
    const { call, key, templateId, campaign, paths } = await setUp();

    const script = await call(
      'POST',
      '/campaigns',
      key,
      campaign({ templateId, link: 'javascript:alert(1)' }),
    );
    const creds = await call(
      'POST',
      '/campaigns',
      key,
      campaign({ templateId, link: 'https://a:b@acme.cn/' }),
    );

    expect(script.status).toBe(400);
    expect(paths(script.body)).toContain('body.content.link');
    expect(creds.status).toBe(400);
    expect(paths(creds.body)).toContain('body.content.link');
  });

  it('accepts the campaign with its https URL and keeps it', async () => {
    const { call, key, templateId, campaign } = await setUp();

    const created = await call(
      'POST',
      '/campaigns',
      key,
      campaign({ templateId, link: 'https://shop.acme.cn/survey' }),
    );

    expect(created.status).toBe(201);
    expect(created.body.content).toEqual({ templateId, link: 'https://shop.acme.cn/survey' });
  });
});
