import { randomBytes } from 'node:crypto';
import type { ApiHandler } from '@qunfa/api';
import { phoneHash, runImport, runTagJob, type TenantStore } from '@qunfa/domain';
import iconv from 'iconv-lite';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTestTenants, testApi } from './api';
import { httpEvent, lambdaContext } from './events';
import type { TestStores } from './fakes/memory-member-store';
import { MemoryTenantStore } from './fakes/memory-tenant-store';

// The members specification of the HTTP API. It runs against in-memory stores (unit) and
// against DynamoDB Local (integration), so both must agree.

interface Call {
  status: number;
  body: Record<string, unknown>;
}

type Json = Record<string, unknown>;

export function describeMembersApi(title: string, makeDeps: () => Promise<TestStores>): void {
  describe(title, () => {
    let api: ApiHandler;
    let deps: TestStores;
    let tenantId: string;
    let tenants: TenantStore;
    let keys: { admin: string; marketer: string; viewer: string; other: string };

    const call = async (method: string, path: string, key: string, body?: unknown): Promise<Call> => {
      const result = await api(
        httpEvent({ method, path, headers: { authorization: `Bearer ${key}` }, body }),
        lambdaContext('api'),
      );
      return { status: result.statusCode ?? 0, body: result.body ? JSON.parse(result.body) : {} };
    };
    const put = (id: string, body: unknown, key = keys.marketer) => call('PUT', `/members/${id}`, key, body);

    beforeEach(async () => {
      deps = await makeDeps();
      const tenancy = {
        store: new MemoryTenantStore(),
        random: (n: number) => randomBytes(n),
        now: () => new Date('2026-11-23T08:00:00Z'),
      };
      api = testApi({ stores: deps, tenancy }).api;
      tenants = tenancy.store;
      ({ tenantId, keys } = await createTestTenants({ tenancy, call }));
    });

    describe('PUT /members/{id}', () => {
      it('creates the member with the phone in E.164 and answers 201', async () => {
        const created = await put('C001', { phone: '138 1234 5678', name: '王芳', tags: ['vip', 'tea'] });

        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({
          result: 'created',
          member: { memberId: 'C001', phone: '+8613812345678', name: '王芳', tags: ['tea', 'vip'] },
        });
        expect((await call('GET', '/members/C001', keys.viewer)).body).toMatchObject({
          phone: '+8613812345678',
          consent: { status: 'unknown' },
          optedOut: false,
        });
      });

      it('changes nothing when the same body is sent twice', async () => {
        const body = { phone: '+86 138-1234-5678', name: '王芳', points: 120 };
        const first = await put('C002', body);

        const second = await put('C002', body);

        expect(second.status).toBe(200);
        expect(second.body.result).toBe('unchanged');
        expect((second.body.member as Json).updatedAt).toBe((first.body.member as Json).updatedAt);
      });

      it('answers invalid fields with 400 listing every problem, and creates nothing', async () => {
        const attempt = await put('C003', {
          phone: '138 1234 5678',
          gender: 'x',
          points: -1,
          birthday: { month: 2, day: 30 },
          colour: 'red',
        });

        expect(attempt.status).toBe(400);
        const paths = (attempt.body.problems as { path: string }[]).map((p) => p.path).sort();
        expect(paths).toEqual(['body.birthday.day', 'body.colour', 'body.gender', 'body.points']);
        expect((await call('GET', '/members/C003', keys.viewer)).status).toBe(404);
      });

      it('refuses a landline with 400 naming the phone', async () => {
        const attempt = await put('C004', { phone: '010 6552 9988' });

        expect(attempt.status).toBe(400);
        expect(attempt.body.problems).toEqual([{ path: 'body.phone', message: expect.any(String) }]);
      });

      it('refuses a viewer with 403', async () => {
        expect((await put('C005', { phone: '13812345678' }, keys.viewer)).status).toBe(403);
      });
    });

    describe('PATCH /members/{id}', () => {
      it('changes only the fields given, and null removes a field', async () => {
        await put('P001', { phone: '13812345678', name: '李雷', tier: 'gold', points: 10 });

        const patched = await call('PATCH', '/members/P001', keys.marketer, { points: 50, tier: null });

        expect(patched.status).toBe(200);
        expect(patched.body.member).toMatchObject({ name: '李雷', points: 50 });
        expect(patched.body.member).not.toHaveProperty('tier');
      });

      it('answers 404 for a member that does not exist', async () => {
        expect((await call('PATCH', '/members/nobody', keys.marketer, { points: 1 })).status).toBe(404);
      });
    });

    describe('DELETE /members/{id}', () => {
      it('erases the member but keeps an opt-out of the number, as a hash only', async () => {
        await put('D001', { phone: '13912345678', name: '韩梅梅' });
        const hash = phoneHash({ tenantId, phone: '+8613912345678' });
        await deps.optOuts.add(tenantId, {
          phoneHash: hash,
          phone: '+8613912345678',
          source: 'sms',
          at: 'x',
        });

        expect((await call('DELETE', '/members/D001', keys.marketer)).status).toBe(204);

        expect((await call('GET', '/members/D001', keys.viewer)).status).toBe(404);
        const remaining = [];
        for await (const page of deps.optOuts.all(tenantId)) remaining.push(...page);
        expect(remaining).toEqual([{ phoneHash: hash, source: 'sms', at: 'x' }]);
        await put('D002', { phone: '+8613912345678' });
        expect((await call('GET', '/members/D002', keys.viewer)).body.optedOut).toBe(true);
      });
    });

    describe('GET /members', () => {
      it('pages through every member exactly once', async () => {
        const ids = Array.from({ length: 11 }, (_, i) => `L${String(i).padStart(3, '0')}`);
        for (const [i, id] of ids.entries()) await put(id, { phone: `1380000${String(1000 + i)}` });

        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await call(
            'GET',
            `/members?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            keys.viewer,
          );
          expect(page.status).toBe(200);
          const items = page.body.items as Json[];
          expect(items.length).toBeLessThanOrEqual(4);
          seen.push(...items.map((m) => String(m.memberId)));
          cursor = typeof page.body.cursor === 'string' ? page.body.cursor : undefined;
        } while (cursor);

        expect(seen.sort()).toEqual(ids);
      });

      it('filters by tag and tier, and finds members by any written form of their phone', async () => {
        await put('F001', { phone: '13800000001', tier: 'gold', tags: ['vip'] });
        await put('F002', { phone: '13800000002', tier: 'silver', tags: ['vip'] });
        await put('F003', { phone: '13800000003', tier: 'gold' });

        const vipGold = await call('GET', '/members?tag=vip&tier=gold', keys.viewer);
        const byPhone = await call(
          'GET',
          `/members?phone=${encodeURIComponent('+86 138-0000-0002')}`,
          keys.viewer,
        );

        expect((vipGold.body.items as Json[]).map((m) => m.memberId)).toEqual(['F001']);
        expect((byPhone.body.items as Json[]).map((m) => m.memberId)).toEqual(['F002']);
      });

      it('answers an unknown query parameter or a forged cursor with 400', async () => {
        expect((await call('GET', '/members?colour=red', keys.viewer)).status).toBe(400);
        expect((await call('GET', '/members?cursor=forged', keys.viewer)).status).toBe(400);
      });
    });

    describe('POST /members/tags', () => {
      it('adds and removes tags on many members and names those not found', async () => {
        await put('T001', { phone: '13800000011', tags: ['old'] });
        await put('T002', { phone: '13800000012' });

        const result = await call('POST', '/members/tags', keys.marketer, {
          add: ['双11'],
          remove: ['old'],
          memberIds: ['T001', 'T002', 'T404'],
        });

        expect(result.body).toEqual({ updated: 2, notFound: ['T404'] });
        expect((await call('GET', '/members/T001', keys.viewer)).body.tags).toEqual(['双11']);
        expect((await call('GET', '/members/T002', keys.viewer)).body.tags).toEqual(['双11']);
      });
    });

    describe('segments', () => {
      const vipActive = { and: [{ tags: { any: ['vip'] } }, { points: { gte: 100 } }] };

      it('saves, reads, changes, lists and deletes a segment', async () => {
        const created = await call('POST', '/segments', keys.marketer, {
          name: 'VIP',
          definition: vipActive,
        });
        const id = String(created.body.segmentId);

        const patched = await call('PATCH', `/segments/${id}`, keys.marketer, { description: '积分≥100' });
        const listed = await call('GET', '/segments', keys.viewer);
        const deleted = await call('DELETE', `/segments/${id}`, keys.marketer);

        expect(created.status).toBe(201);
        expect(patched.body).toMatchObject({ name: 'VIP', description: '积分≥100', definition: vipActive });
        expect((listed.body.items as Json[]).map((s) => s.segmentId)).toEqual([id]);
        expect(deleted.status).toBe(204);
        expect((await call('GET', `/segments/${id}`, keys.viewer)).status).toBe(404);
      });

      it('answers an invalid definition with 400 naming the faulty node, and saves nothing', async () => {
        const attempt = await call('POST', '/segments', keys.marketer, {
          name: 'broken',
          definition: { and: [{ tags: { any: ['vip'] } }, { points: { greaterThan: 5 } }] },
        });

        expect(attempt.status).toBe(400);
        expect((attempt.body.problems as { path: string }[])[0]?.path).toMatch(/^body\.definition\.and\.1/);
        expect((await call('GET', '/segments', keys.viewer)).body.items).toEqual([]);
      });

      it('previews an inline definition: matching, suppressed by reason, eligible and a masked sample', async () => {
        const granted = { status: 'granted' };
        await put('S001', { phone: '13800000101', tags: ['vip'], points: 150, consent: granted });
        await put('S002', { phone: '13800000102', tags: ['vip'], points: 300 });
        await put('S003', { phone: '13800000103', tags: ['vip'], points: 500, consent: granted });
        await put('S004', { phone: '13800000104', tags: ['vip'], points: 50, consent: granted });
        await deps.optOuts.add(tenantId, {
          phoneHash: phoneHash({ tenantId, phone: '+8613800000103' }),
          source: 'sms',
          at: '2026-11-01T00:00:00Z',
        });

        const preview = await call('POST', '/segments/preview', keys.viewer, {
          definition: vipActive,
          sampleSize: 5,
        });

        expect(preview.status).toBe(200);
        expect(preview.body).toMatchObject({
          exact: true,
          matching: 3,
          suppressed: { opted_out: 1, no_consent: 1, invalid_phone: 0 },
          eligible: 1,
        });
        const sample = preview.body.sample as Json[];
        expect(sample.map((m) => m.memberId).sort()).toEqual(['S001', 'S002', 'S003']);
        expect(JSON.stringify(sample)).not.toMatch(/13800000\d{3}/);
      });

      it('previews a saved segment by id, and refuses both or neither', async () => {
        await put('S101', {
          phone: '13800000201',
          tags: ['vip'],
          points: 120,
          consent: { status: 'granted' },
        });
        const saved = await call('POST', '/segments', keys.marketer, { name: 'VIP', definition: vipActive });

        const preview = await call('POST', '/segments/preview', keys.viewer, {
          segmentId: saved.body.segmentId,
        });
        const neither = await call('POST', '/segments/preview', keys.viewer, {});

        expect(preview.body).toMatchObject({ matching: 1, eligible: 1 });
        expect(neither.status).toBe(400);
      });
    });

    describe('imports', () => {
      const csv = [
        '会员卡号,手机号,姓名,生日,标签,积分',
        'M001,138 1234 0001,王芳,1990年1月5日,vip、茶,120',
        'M002,+86 138-1234-0002,李雷,2/29,,80',
        'M003,010 6552 9988,韩梅梅,,vip,10',
        'M004,１３８１２３４０００４,张伟,1985/12/31,新客,0',
      ].join('\r\n');

      const putPart = async (importId: string, part: number, bytes: Uint8Array) => {
        const event = httpEvent({
          method: 'PUT',
          path: `/imports/${importId}/parts/${part}`,
          headers: { authorization: `Bearer ${keys.marketer}`, 'content-type': 'text/csv' },
        });
        const result = await api(
          { ...event, body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true },
          lambdaContext('api'),
        );
        return { status: result.statusCode ?? 0, body: result.body ? JSON.parse(result.body) : {} };
      };

      /** Uploads `bytes` cut into `parts` pieces at arbitrary byte offsets, starts and runs it. */
      const importFile = async (bytes: Uint8Array, parts: number, options: Json = {}) => {
        const created = await call('POST', '/imports', keys.marketer, { format: 'csv', ...options });
        const importId = String(created.body.importId);
        const size = Math.ceil(bytes.byteLength / parts);
        for (let i = 0; i < parts; i++) {
          expect((await putPart(importId, i + 1, bytes.subarray(i * size, (i + 1) * size))).status).toBe(200);
        }
        expect((await call('POST', `/imports/${importId}/start`, keys.marketer, { parts })).status).toBe(202);
        await runImport({ ...deps, tenants }, { tenantId, importId });
        return (await call('GET', `/imports/${importId}`, keys.viewer)).body;
      };

      it('imports a file uploaded in parts cut anywhere, cleaning phones, dates and tags', async () => {
        const job = await importFile(new TextEncoder().encode(csv), 3);

        expect(job).toMatchObject({
          state: 'completed',
          report: { counts: { created: 3, updated: 0, unchanged: 0, invalid: 1, duplicate: 0 } },
        });
        expect((job.report as Json).invalidRows).toEqual([
          expect.objectContaining({ row: 4, column: '手机号', reason: 'not_mobile' }),
        ]);
        expect((await call('GET', '/members/M001', keys.viewer)).body).toMatchObject({
          phone: '+8613812340001',
          name: '王芳',
          birthday: { year: 1990, month: 1, day: 5 },
          tags: ['vip', '茶'],
          points: 120,
        });
        expect((await call('GET', '/members/M004', keys.viewer)).body.phone).toBe('+8613812340004');
        expect((await call('GET', '/members/M003', keys.viewer)).status).toBe(404);
      });

      it('changes nothing when the same file is imported again', async () => {
        const bytes = new TextEncoder().encode(csv);
        await importFile(bytes, 1);
        const before = (await call('GET', '/members/M001', keys.viewer)).body;

        const again = await importFile(bytes, 2);

        expect((again.report as Json).counts).toEqual({
          created: 0,
          updated: 0,
          unchanged: 3,
          invalid: 1,
          duplicate: 0,
        });
        expect((await call('GET', '/members/M001', keys.viewer)).body).toEqual(before);
      });

      it('reads a GB18030 file as Excel in China writes it', async () => {
        const job = await importFile(iconv.encode(csv, 'gb18030'), 2);

        expect(job).toMatchObject({ state: 'completed', report: { encoding: 'gb18030' } });
        expect((await call('GET', '/members/M002', keys.viewer)).body.name).toBe('李雷');
      });

      it('refuses a mapping to an unknown field, naming the column', async () => {
        const attempt = await call('POST', '/imports', keys.marketer, {
          mapping: { 手机号: 'phone', 爱好: 'hobby' },
        });

        expect(attempt.status).toBe(400);
        expect(attempt.body.problems).toEqual([expect.objectContaining({ path: 'body.mapping.爱好' })]);
      });

      it('refuses to start with a part missing, and to take parts once started', async () => {
        const created = await call('POST', '/imports', keys.marketer, {});
        const importId = String(created.body.importId);
        await putPart(importId, 1, new TextEncoder().encode('手机号\n13812340001\n'));

        const missing = await call('POST', `/imports/${importId}/start`, keys.marketer, { parts: 2 });
        const started = await call('POST', `/imports/${importId}/start`, keys.marketer, { parts: 1 });
        const late = await putPart(importId, 2, new TextEncoder().encode('13812340002\n'));

        expect(missing.status).toBe(400);
        expect(missing.body.problems).toEqual([{ path: 'body.parts', message: expect.stringMatching(/2/) }]);
        expect(started.body.state).toBe('queued');
        expect(late.status).toBe(409);
      });
    });

    describe('tagging a segment', () => {
      it('tags every member of a segment as a job, and reports matched and updated', async () => {
        await put('G001', { phone: '13800000301', tier: 'gold' });
        await put('G002', { phone: '13800000302', tier: 'gold', tags: ['双11'] });
        await put('G003', { phone: '13800000303', tier: 'silver' });

        const queued = await call('POST', '/members/tags', keys.marketer, {
          add: ['双11'],
          definition: { tier: { in: ['gold'] } },
        });
        const jobId = String(queued.body.jobId);
        await runTagJob({ ...deps, tenants }, { tenantId, jobId });
        const job = await call('GET', `/members/tags/${jobId}`, keys.viewer);

        expect(queued.status).toBe(202);
        expect(job.body).toMatchObject({ state: 'completed', matched: 2, updated: 2 });
        expect((await call('GET', '/members/G001', keys.viewer)).body.tags).toEqual(['双11']);
        expect((await call('GET', '/members/G003', keys.viewer)).body.tags).toEqual([]);
      });

      it('refuses a request naming both member ids and a segment', async () => {
        const attempt = await call('POST', '/members/tags', keys.marketer, {
          add: ['x'],
          memberIds: ['G001'],
          definition: { tier: { in: ['gold'] } },
        });

        expect(attempt.status).toBe(400);
        expect(attempt.body.problems).toEqual([expect.objectContaining({ path: 'body.memberIds' })]);
      });
    });

    describe('tenancy', () => {
      it("never shows or changes another tenant's member", async () => {
        await put('X001', { phone: '13800000021', name: 'mine' });

        expect((await call('GET', '/members/X001', keys.other)).status).toBe(404);
        expect((await call('DELETE', '/members/X001', keys.other)).status).toBe(404);
        expect((await call('GET', '/members', keys.other)).body.items).toEqual([]);
        expect((await call('GET', '/members/X001', keys.viewer)).body.name).toBe('mine');
      });
    });
  });
}
