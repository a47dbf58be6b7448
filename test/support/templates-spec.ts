import { randomBytes } from 'node:crypto';
import type { ApiHandler } from '@qunfa/api';
import { phoneHash, starterKeys } from '@qunfa/domain';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTestTenants, testApi } from './api';
import { httpEvent, lambdaContext } from './events';
import type { TestStores } from './fakes/memory-member-store';
import { MemoryTenantStore } from './fakes/memory-tenant-store';

// The templates specification of the HTTP API: saving (with every problem named), replacing,
// deleting, the starter catalogue and the preview over members and segments. It runs against
// in-memory stores (unit) and against DynamoDB Local (integration), so both must agree.

interface Call {
  status: number;
  body: Record<string, unknown>;
}

type Json = Record<string, unknown>;

interface Problem {
  path: string;
  message: string;
}

/** A zh-CN promotion of two SMS parts for any short name (84–86 characters with signature and opt-out). */
const promotion = {
  name: '双11会员日',
  category: 'marketing',
  body: '双11会员日全场8折！{{name|default:"会员"}}您好，本周六起到店消费满200元再送精美礼品一份，积分还可抵现金，更有新品试饮等您来品鉴，详情请咨询门店导购。',
};

export function describeTemplatesApi(title: string, makeDeps: () => Promise<TestStores>): void {
  describe(title, () => {
    let api: ApiHandler;
    let deps: TestStores;
    let tenantId: string;
    let keys: { admin: string; marketer: string; viewer: string; other: string };

    const call = async (method: string, path: string, key: string, body?: unknown): Promise<Call> => {
      const result = await api(
        httpEvent({ method, path, headers: { authorization: `Bearer ${key}` }, body }),
        lambdaContext('api'),
      );
      return { status: result.statusCode ?? 0, body: result.body ? JSON.parse(result.body) : {} };
    };
    const save = (body: unknown, key = keys.marketer) => call('POST', '/templates', key, body);
    const problems = (answer: Call): Problem[] => (answer.body.problems ?? []) as Problem[];
    const putMember = async (id: string, body: Json): Promise<void> => {
      const answer = await call('PUT', `/members/${id}`, keys.marketer, body);
      expect(answer.status).toBe(201);
    };
    const granted = { status: 'granted' };

    beforeEach(async () => {
      deps = await makeDeps();
      const tenancy = {
        store: new MemoryTenantStore(),
        random: (n: number) => randomBytes(n),
        now: () => new Date('2026-11-23T08:00:00Z'),
      };
      api = testApi({ stores: deps, tenancy }).api;
      ({ tenantId, keys } = await createTestTenants({ tenancy, call }));
    });

    describe('tenant settings', () => {
      it('defaults the new settings and keeps the others when one is patched', async () => {
        const before = await call('GET', '/tenant', keys.viewer);

        const patched = await call('PATCH', '/tenant', keys.admin, {
          timeZone: 'Asia/Hong_Kong',
          bannedWords: ['竞品'],
          provider: 'aliyun',
          partPrices: { aliyun: { currency: 'CNY', pricePerPart: '0.04' } },
        });
        const renamed = await call('PATCH', '/tenant', keys.admin, {
          name: 'Acme Tea House',
          partPrices: null,
        });

        expect(before.body).toMatchObject({ bannedWords: [], provider: 'simulator', locale: 'zh-CN' });
        expect(before.body).not.toHaveProperty('signature');
        expect(patched.status).toBe(200);
        expect(renamed.body).toMatchObject({
          name: 'Acme Tea House',
          timeZone: 'Asia/Hong_Kong',
          defaultRegion: 'CN',
          bannedWords: ['竞品'],
          provider: 'aliyun',
        });
        expect(renamed.body).not.toHaveProperty('partPrices');
      });

      it('refuses an invalid signature, provider or price with 400 naming each', async () => {
        const attempt = await call('PATCH', '/tenant', keys.admin, {
          signature: '【Acme】',
          provider: 'carrier-pigeon',
          partPrices: { aliyun: { currency: 'CNY', pricePerPart: 'cheap' } },
        });

        expect(attempt.status).toBe(400);
        expect(problems(attempt).map((p) => p.path)).toEqual([
          'body.signature',
          'body.provider',
          'body.partPrices.aliyun.pricePerPart',
        ]);
      });
    });

    describe('POST /templates', () => {
      it('saves a valid template and answers it with an id, the example message and hints', async () => {
        const saved = await save(promotion);

        expect(saved.status).toBe(201);
        expect(saved.body).toMatchObject({
          ...promotion,
          locale: 'zh-CN',
          variables: [],
          templateId: expect.stringMatching(/^tpl_[0-9A-Za-z]{12}$/),
        });
        const example = saved.body.example as { text: string; size: { parts: number } };
        expect(example.text).toMatch(/^【Acme Tea】双11会员日全场8折！/);
        expect(example.text).toMatch(/拒收请回复R$/);
        expect(example.size.parts).toBe(2);
        expect(saved.body.hints).toEqual([expect.objectContaining({ code: 'multipart', path: 'body.body' })]);
        const read = await call('GET', `/templates/${String(saved.body.templateId)}`, keys.viewer);
        expect(read.body).toEqual({
          ...promotion,
          locale: 'zh-CN',
          variables: [],
          templateId: saved.body.templateId,
          createdAt: saved.body.createdAt,
          updatedAt: saved.body.updatedAt,
        });
      });

      it('hints at a raw link and at an inbox preview without the offer', async () => {
        const saved = await save({
          name: 'Spring',
          category: 'marketing',
          locale: 'en',
          body: 'Dear member, our spring collection is here. See acme-tea.com for 20% off',
        });

        expect(saved.status).toBe(201);
        expect((saved.body.hints as { code: string }[]).map((h) => h.code).sort()).toEqual([
          'preview_without_offer',
          'raw_url',
        ]);
        expect((saved.body.example as { text: string }).text).toBe(
          '[Acme Tea] Dear member, our spring collection is here. See acme-tea.com for 20% off. Reply STOP to opt out',
        );
      });

      it('refuses an unknown variable and a banned word in one 400 naming both, and saves nothing', async () => {
        const attempt = await save({
          name: '贷款',
          category: 'marketing',
          body: '您好{{nickname}}，贷款秒批！',
        });

        expect(attempt.status).toBe(400);
        expect(problems(attempt)).toEqual([
          { path: 'body.body', message: expect.stringMatching(/^unknown variable \{\{nickname\}\}/) },
          { path: 'body.body', message: 'banned or sensitive words: 贷款' },
        ]);
        expect((await call('GET', '/templates', keys.viewer)).body.items).toEqual([]);
      });

      it("refuses the tenant's own banned words", async () => {
        await call('PATCH', '/tenant', keys.admin, { bannedWords: ['竞品'] });

        const attempt = await save({ ...promotion, body: '比竞品便宜一半！本周到店满100减20。' });

        expect(attempt.status).toBe(400);
        expect(problems(attempt)).toEqual([
          { path: 'body.body', message: 'banned or sensitive words: 竞品' },
        ]);
      });

      it('refuses a notification that carries opt-out text', async () => {
        const attempt = await save({
          name: '发货',
          category: 'notification',
          body: '您的订单{{orderNo}}已发货。拒收请回复R',
          variables: [{ name: 'orderNo' }],
        });

        expect(attempt.status).toBe(400);
        expect(problems(attempt)).toEqual([
          { path: 'body.body', message: expect.stringContaining('a notification carries no opt-out text') },
        ]);
      });

      it('refuses unknown fields and invalid values, naming each', async () => {
        const attempt = await save({
          ...promotion,
          category: 'promo',
          colour: 'red',
          variables: [{ name: 'name' }],
        });

        expect(attempt.status).toBe(400);
        expect(problems(attempt).map((p) => p.path)).toEqual([
          'body.category',
          'body.variables.0.name',
          'body.colour',
        ]);
      });

      it('refuses a viewer with 403', async () => {
        expect((await save(promotion, keys.viewer)).status).toBe(403);
      });

      it('asks for a signature when the tenant name cannot be one, and uses the one set', async () => {
        await call('PATCH', '/tenant', keys.admin, { name: 'Acme Tea Company of Greater Shanghai' });

        const refused = await save(promotion);
        await call('PATCH', '/tenant', keys.admin, { signature: '爱茶' });
        const saved = await save(promotion);

        expect(refused.status).toBe(400);
        expect(problems(refused)).toEqual([
          { path: 'tenant.signature', message: expect.stringContaining('set the SMS signature first') },
        ]);
        expect(saved.status).toBe(201);
        expect((saved.body.example as { text: string }).text).toMatch(/^【爱茶】/);
      });
    });

    describe('GET, PUT and DELETE /templates/{id}', () => {
      it('replaces a template, validated again, and keeps its creation time', async () => {
        const saved = await save(promotion);
        const id = String(saved.body.templateId);
        const changed = { ...promotion, name: '双11会员日（改）', body: '双11全场8折！到店即享。' };

        const replaced = await call('PUT', `/templates/${id}`, keys.marketer, changed);
        const invalid = await call('PUT', `/templates/${id}`, keys.marketer, {
          ...changed,
          body: '{{nickname}}',
        });

        expect(replaced.status).toBe(200);
        expect(replaced.body).toMatchObject({
          ...changed,
          templateId: id,
          createdAt: saved.body.createdAt,
          hints: [],
        });
        expect(String(replaced.body.updatedAt) > String(saved.body.updatedAt)).toBe(true);
        expect(invalid.status).toBe(400);
        expect((await call('GET', `/templates/${id}`, keys.viewer)).body).toMatchObject(changed);
      });

      it('refuses to replace a version newer than the one edited with 409', async () => {
        const saved = await save(promotion);
        const id = String(saved.body.templateId);
        const stale = String(saved.body.updatedAt);
        await call('PUT', `/templates/${id}`, keys.marketer, { ...promotion, name: 'first edit' });

        const late = await call(
          'PUT',
          `/templates/${id}?expectedUpdatedAt=${encodeURIComponent(stale)}`,
          keys.marketer,
          { ...promotion, name: 'second edit' },
        );

        expect(late.status).toBe(409);
        expect((await call('GET', `/templates/${id}`, keys.viewer)).body.name).toBe('first edit');
      });

      it('deletes a template: 204, then 404', async () => {
        const id = String((await save(promotion)).body.templateId);

        const deleted = await call('DELETE', `/templates/${id}`, keys.marketer);

        expect(deleted.status).toBe(204);
        expect((await call('GET', `/templates/${id}`, keys.viewer)).status).toBe(404);
        expect((await call('DELETE', `/templates/${id}`, keys.marketer)).status).toBe(404);
        expect((await call('PUT', `/templates/${id}`, keys.marketer, promotion)).status).toBe(404);
      });

      it('answers a malformed id with 400 naming the path parameter', async () => {
        const attempt = await call('GET', '/templates/not-an-id', keys.viewer);

        expect(attempt.status).toBe(400);
        expect(problems(attempt).map((p) => p.path)).toEqual(['path.templateId']);
      });

      it('pages through the templates', async () => {
        const ids = [];
        for (const name of ['a', 'b', 'c']) ids.push((await save({ ...promotion, name })).body.templateId);

        const first = await call('GET', '/templates?limit=2', keys.viewer);
        const second = await call(
          'GET',
          `/templates?limit=2&cursor=${encodeURIComponent(String(first.body.cursor))}`,
          keys.viewer,
        );

        const listed = [...(first.body.items as Json[]), ...(second.body.items as Json[])];
        expect(listed.map((t) => t.templateId).sort()).toEqual(ids.sort());
        expect(second.body).not.toHaveProperty('cursor');
      });
    });

    describe('tenancy', () => {
      it("never shows, changes, previews or deletes another tenant's template", async () => {
        const id = String((await save(promotion)).body.templateId);

        const read = await call('GET', `/templates/${id}`, keys.other);
        const replaced = await call('PUT', `/templates/${id}`, keys.other, { ...promotion, name: 'taken' });
        const previewed = await call('POST', `/templates/${id}/preview`, keys.other, { memberIds: ['M1'] });
        const deleted = await call('DELETE', `/templates/${id}`, keys.other);
        const listed = await call('GET', '/templates', keys.other);

        expect([read.status, replaced.status, previewed.status, deleted.status]).toEqual([
          404, 404, 404, 404,
        ]);
        expect(listed.body.items).toEqual([]);
        expect((await call('GET', `/templates/${id}`, keys.viewer)).body.name).toBe(promotion.name);
      });
    });

    describe('GET /templates/starter', () => {
      it('lists the starter templates of a locale, and each one saves as it is', async () => {
        const zh = await call('GET', '/templates/starter?locale=zh-CN', keys.viewer);
        const all = await call('GET', '/templates/starter', keys.viewer);
        const items = zh.body.items as { key: string; template: Json }[];

        expect(zh.status).toBe(200);
        expect(items.map((s) => s.key)).toEqual([...starterKeys]);
        expect(items.every((s) => s.template.locale === 'zh-CN')).toBe(true);
        expect(all.body.items).toHaveLength(2 * starterKeys.length);
        for (const starter of items) expect((await save(starter.template)).status).toBe(201);
      });

      it('refuses an unknown locale with 400', async () => {
        const attempt = await call('GET', '/templates/starter?locale=fr', keys.viewer);

        expect(attempt.status).toBe(400);
        expect(problems(attempt).map((p) => p.path)).toEqual(['query.locale']);
      });
    });

    describe('POST /templates/{id}/preview', () => {
      const preview = (id: unknown, body: unknown, key = keys.viewer) =>
        call('POST', `/templates/${String(id)}/preview`, key, body);

      it('renders for members by id: signature first, opt-out last, parts, distribution and cost', async () => {
        await call('PATCH', '/tenant', keys.admin, { provider: 'aliyun' });
        await putMember('M1', { phone: '13800000001', name: '王芳', consent: granted });
        await putMember('M2', { phone: '13800000002', name: '欧阳娜娜', consent: granted });
        await putMember('M3', { phone: '13800000003', consent: granted });
        const id = (await save(promotion)).body.templateId;

        const answer = await preview(id, { memberIds: ['M1', 'M2', 'M3', 'nobody'], sampleSize: 3 });

        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({
          templateId: id,
          provider: 'aliyun',
          exact: true,
          notFound: ['nobody'],
          audience: 3,
          rendered: 3,
          suppressed: { total: 0, byReason: [] },
          partsDistribution: [{ parts: 2, messages: 3 }],
          totalParts: 6,
          averageParts: 2,
          cost: { provider: 'aliyun', currency: 'CNY', pricePerPart: '0.045', parts: 6, total: '0.27' },
        });
        const samples = answer.body.samples as { memberId: string; phone: string; text: string }[];
        expect(samples.map((s) => s.memberId)).toEqual(['M1', 'M2', 'M3']);
        for (const sample of samples) {
          expect(sample.text).toMatch(/^【Acme Tea】/);
          expect(sample.text).toMatch(/拒收请回复R$/);
        }
        expect(samples[2]?.text).toContain('会员您好');
        expect(samples[0]?.phone).toBe('+86*******0001');
        expect(JSON.stringify(answer.body)).not.toMatch(/1380000000\d/);
      });

      it("prices with the tenant's own rate when it set one", async () => {
        await call('PATCH', '/tenant', keys.admin, {
          provider: 'tencent',
          partPrices: { tencent: { currency: 'CNY', pricePerPart: '0.035' } },
        });
        await putMember('M1', { phone: '13800000001', name: '王芳', consent: granted });
        const id = (await save(promotion)).body.templateId;

        const answer = await preview(id, { memberIds: ['M1'] });

        expect(answer.body.cost).toMatchObject({
          provider: 'tencent',
          origin: 'tenant',
          parts: 2,
          total: '0.07',
        });
      });

      it('suppresses a member without a value that has no default, naming the variable', async () => {
        await putMember('A1', { phone: '13800000011', consent: granted, attributes: { coupon: 'TEA-88' } });
        await putMember('A2', { phone: '13800000012', consent: granted });
        const id = (
          await save({
            name: '券',
            category: 'marketing',
            body: '8折券{{attributes.coupon}}已到账！{{name|default:"会员"}}，到店出示即可使用。',
          })
        ).body.templateId;

        const answer = await preview(id, { memberIds: ['A1', 'A2'] });

        expect(answer.body).toMatchObject({
          audience: 2,
          rendered: 1,
          suppressed: {
            total: 1,
            byReason: [{ reason: 'missing_variable', variable: 'attributes.coupon', count: 1 }],
          },
        });
        const samples = answer.body.samples as { text: string }[];
        expect(samples.map((s) => s.text)).toEqual([
          '【Acme Tea】8折券TEA-88已到账！会员，到店出示即可使用。拒收请回复R',
        ]);
      });

      it('previews an inline segment, suppressing opted-out, unconsented and invalid numbers', async () => {
        await putMember('S1', { phone: '13800000101', name: '甲', tags: ['vip'], consent: granted });
        await putMember('S2', { phone: '13800000102', name: '乙', tags: ['vip'], consent: granted });
        await putMember('S3', { phone: '13800000103', name: '丙', tags: ['vip'], consent: granted });
        await putMember('S4', { phone: '13800000104', name: '丁', tags: ['vip'] });
        await putMember('S5', { phone: '13800000105', name: '戊', tags: ['vip'], consent: granted });
        await putMember('S6', { phone: '13800000106', name: '己', tags: ['regular'], consent: granted });
        await deps.optOuts.add(tenantId, {
          phoneHash: phoneHash({ tenantId, phone: '+8613800000103' }),
          source: 'sms',
          at: '2026-11-01T00:00:00Z',
        });
        const s5 = await deps.members.get(tenantId, 'S5');
        if (s5) await deps.members.put(tenantId, [{ member: { ...s5, phoneStatus: 'invalid' } }]);
        const id = (await save(promotion)).body.templateId;

        const answer = await preview(id, { definition: { tags: { any: ['vip'] } }, sampleSize: 10 });

        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({
          exact: true,
          shardsRead: answer.body.shardCount,
          audience: 5,
          rendered: 2,
          suppressed: {
            total: 3,
            byReason: [
              { reason: 'opted_out', count: 1 },
              { reason: 'no_consent', count: 1 },
              { reason: 'invalid_phone', count: 1 },
            ],
          },
          partsDistribution: [{ parts: 2, messages: 2 }],
          totalParts: 4,
          cost: { provider: 'simulator', total: '0.00' },
        });
        expect((answer.body.samples as { memberId: string }[]).map((s) => s.memberId).sort()).toEqual([
          'S1',
          'S2',
        ]);
      });

      it('sends a notification to opted-out and unconsented members, without opt-out text', async () => {
        await putMember('N1', { phone: '13800000201', store: '徐汇店' });
        await deps.optOuts.add(tenantId, {
          phoneHash: phoneHash({ tenantId, phone: '+8613800000201' }),
          source: 'sms',
          at: '2026-11-01T00:00:00Z',
        });
        const id = (
          await save({
            name: '通知',
            category: 'notification',
            body: '您在{{store}}寄存的商品已到，请凭取件码领取。',
          })
        ).body.templateId;

        const answer = await preview(id, { memberIds: ['N1'] });

        expect(answer.body).toMatchObject({ rendered: 1, suppressed: { total: 0 } });
        expect((answer.body.samples as { text: string }[])[0]?.text).toBe(
          '【Acme Tea】您在徐汇店寄存的商品已到，请凭取件码领取。',
        );
      });

      it('previews a saved segment by id', async () => {
        await putMember('G1', { phone: '13800000301', tags: ['vip'], consent: granted });
        const segment = await call('POST', '/segments', keys.marketer, {
          name: 'VIP',
          definition: { tags: { any: ['vip'] } },
        });
        const id = (await save(promotion)).body.templateId;

        const answer = await preview(id, { segmentId: segment.body.segmentId });

        expect(answer.body).toMatchObject({ audience: 1, rendered: 1 });
      });

      it('checks the values of the send: examples by default, a value for each required variable', async () => {
        await putMember('V1', { phone: '13800000401', consent: granted });
        const id = (
          await save({
            name: '限时',
            category: 'marketing',
            body: '{{discount}}折限时优惠，截至{{deadline|date:"M月D日"}}！',
            variables: [
              { name: 'discount', type: 'number', example: 8.8 },
              { name: 'deadline', type: 'date' },
            ],
          })
        ).body.templateId;

        const missing = await preview(id, { memberIds: ['V1'] });
        const wrong = await preview(id, { memberIds: ['V1'], values: { deadline: 'soon', colour: 'red' } });
        const given = await preview(id, {
          memberIds: ['V1'],
          values: { discount: 7.5, deadline: '2026-12-31' },
        });

        expect(missing.status).toBe(400);
        expect(problems(missing).map((p) => p.path)).toEqual(['body.values.deadline']);
        expect(
          problems(wrong)
            .map((p) => p.path)
            .sort(),
        ).toEqual(['body.values.colour', 'body.values.deadline', 'body.values.discount']);
        expect((given.body.samples as { text: string }[])[0]?.text).toBe(
          '【Acme Tea】7.5折限时优惠，截至12月31日！拒收请回复R',
        );
      });

      it('refuses both audiences, neither, or more than 1,000 member ids', async () => {
        const id = (await save(promotion)).body.templateId;

        const both = await preview(id, { memberIds: ['M1'], definition: { tags: { any: ['vip'] } } });
        const neither = await preview(id, {});
        const tooMany = await preview(id, { memberIds: Array.from({ length: 1_001 }, (_, i) => `M${i}`) });

        expect([both.status, neither.status, tooMany.status]).toEqual([400, 400, 400]);
        expect(problems(tooMany).map((p) => p.path)).toEqual(['body.memberIds']);
      });

      it('answers 404 for a template or a saved segment that does not exist', async () => {
        const id = (await save(promotion)).body.templateId;

        expect((await preview('tpl_000000000000', { memberIds: ['M1'] })).status).toBe(404);
        expect((await preview(id, { segmentId: 'seg_nothing' })).status).toBe(404);
      });
    });
  });
}
