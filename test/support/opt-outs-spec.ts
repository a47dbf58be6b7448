import { randomBytes } from 'node:crypto';
import type { ApiHandler } from '@qunfa/api';
import { phoneHash } from '@qunfa/domain';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTestTenants, type TestKeys, testApi } from './api';
import { httpEvent, lambdaContext } from './events';
import type { TestStores } from './fakes/memory-member-store';
import { MemoryTenantStore } from './fakes/memory-tenant-store';

// The opt-out specification of the HTTP API. It runs against in-memory stores (unit) and
// against DynamoDB Local (integration), so both must agree.

type Json = Record<string, unknown>;

interface Call {
  status: number;
  headers: Record<string, string | number | boolean>;
  text: string;
  body: Json;
}

const fullPhone = /\+?86\s?1[3-9]\d{9}/;

export function describeOptOutsApi(title: string, makeDeps: () => Promise<TestStores>): void {
  describe(title, () => {
    let api: ApiHandler;
    let deps: TestStores;
    let tenantId: string;
    let keys: TestKeys;

    const call = async (method: string, path: string, key: string, body?: unknown): Promise<Call> => {
      const result = await api(
        httpEvent({ method, path, headers: { authorization: `Bearer ${key}` }, body }),
        lambdaContext('api'),
      );
      const text = result.body ?? '';
      const json = text !== '' && !result.headers?.['content-type']?.toString().startsWith('text/csv');
      return {
        status: result.statusCode ?? 0,
        headers: result.headers ?? {},
        text,
        body: json ? JSON.parse(text) : {},
      };
    };
    const path = (phone: string) => `/opt-outs/${encodeURIComponent(phone)}`;
    const optedOut = async (phone: string) => (await call('GET', path(phone), keys.viewer)).body.optedOut;
    /** An opt-out written as a reply would write it, at a fixed time. */
    const seed = (phone: string, at = '2026-01-01T00:00:00.000Z', source = 'sms') =>
      deps.optOuts.add(tenantId, { phoneHash: phoneHash({ tenantId, phone }), phone, source, at });

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

    describe('POST /opt-outs', () => {
      it('opts the number out with source api and answers 201 with the phone masked', async () => {
        const added = await call('POST', '/opt-outs', keys.marketer, {
          phone: '138 1234 5678',
          reason: '投诉',
        });

        expect(added.status).toBe(201);
        expect(added.body).toEqual({
          result: 'created',
          optOut: { maskedPhone: '+86*******5678', source: 'api', reason: '投诉', at: expect.any(String) },
        });
        expect(await optedOut('+86 138-1234-5678')).toBe(true);
        await call('PUT', '/members/M1', keys.marketer, { phone: '13812345678' });
        expect((await call('GET', '/members/M1', keys.viewer)).body.optedOut).toBe(true);
      });

      it('keeps the first time and source when the number is opted out already, and answers 200', async () => {
        await seed('+8613812345678');

        const again = await call('POST', '/opt-outs', keys.marketer, { phone: '13812345678' });

        expect(again.status).toBe(200);
        expect(again.body).toEqual({
          result: 'unchanged',
          optOut: { maskedPhone: '+86*******5678', source: 'sms', at: '2026-01-01T00:00:00.000Z' },
        });
      });

      it('answers a bad number or an unknown field with 400 naming it, and adds nothing', async () => {
        const landline = await call('POST', '/opt-outs', keys.marketer, { phone: '010 6552 9988' });
        const extra = await call('POST', '/opt-outs', keys.marketer, { phone: '13812345678', colour: 'red' });
        const missing = await call('POST', '/opt-outs', keys.marketer, { reason: 'x' });

        expect(landline.status).toBe(400);
        expect(landline.body.problems).toEqual([{ path: 'body.phone', message: expect.any(String) }]);
        expect(extra.status).toBe(400);
        expect((extra.body.problems as { path: string }[]).map((p) => p.path)).toEqual(['body.colour']);
        expect((missing.body.problems as { path: string }[]).map((p) => p.path)).toEqual(['body.phone']);
        expect((await call('GET', '/opt-outs', keys.viewer)).body.items).toEqual([]);
      });

      it('refuses a viewer with 403', async () => {
        expect((await call('POST', '/opt-outs', keys.viewer, { phone: '13812345678' })).status).toBe(403);
      });
    });

    describe('GET /opt-outs/{phone}', () => {
      it('answers whether a number in any written form is opted out', async () => {
        await seed('+8613912345678');

        const yes = await call('GET', path('１３９ １２３４ ５６７８'), keys.viewer);
        const no = await call('GET', path('13900000000'), keys.viewer);

        expect(yes.status).toBe(200);
        expect(yes.body).toEqual({
          maskedPhone: '+86*******5678',
          optedOut: true,
          optOut: { maskedPhone: '+86*******5678', source: 'sms', at: '2026-01-01T00:00:00.000Z' },
        });
        expect(no.body).toEqual({ maskedPhone: '+86*******0000', optedOut: false });
      });

      it('answers a number that is not a mobile number with 400 naming the path', async () => {
        const bad = await call('GET', path('hello'), keys.viewer);

        expect(bad.status).toBe(400);
        expect(bad.body.problems).toEqual([{ path: 'path.phone', message: expect.any(String) }]);
      });
    });

    describe('GET /opt-outs', () => {
      it('pages through every opt-out exactly once, never showing a number in full', async () => {
        const phones = Array.from({ length: 9 }, (_, i) => `+86138000${String(10_000 + i)}`);
        for (const phone of phones) await call('POST', '/opt-outs', keys.marketer, { phone });

        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await call(
            'GET',
            `/opt-outs?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
            keys.viewer,
          );
          expect(page.status).toBe(200);
          expect(page.text).not.toMatch(fullPhone);
          const items = page.body.items as Json[];
          expect(items.length).toBeLessThanOrEqual(4);
          seen.push(...items.map((item) => String(item.maskedPhone)));
          cursor = typeof page.body.cursor === 'string' ? page.body.cursor : undefined;
        } while (cursor);

        expect(seen.sort()).toEqual(phones.map((phone) => `+86*******${phone.slice(-4)}`).sort());
      });

      it('answers a made-up cursor or limit with 400 naming it', async () => {
        const bad = await call('GET', '/opt-outs?cursor=abc&limit=0', keys.viewer);

        expect(bad.status).toBe(400);
        expect((bad.body.problems as { path: string }[]).map((p) => p.path).sort()).toEqual([
          'query.cursor',
          'query.limit',
        ]);
      });

      it('keeps an opt-out when its member is erased, without the number', async () => {
        await call('PUT', '/members/E1', keys.marketer, { phone: '13712345678' });
        await call('POST', '/opt-outs', keys.marketer, { phone: '13712345678' });

        expect((await call('DELETE', '/members/E1', keys.marketer)).status).toBe(204);

        const list = await call('GET', '/opt-outs', keys.viewer);
        expect(list.body.items).toEqual([{ maskedPhone: null, source: 'api', at: expect.any(String) }]);
        expect(await optedOut('13712345678')).toBe(true);
      });
    });

    describe('DELETE /opt-outs/{phone}', () => {
      it('answers 404 for a number that is not opted out', async () => {
        const removed = await call('DELETE', path('13812345678'), keys.marketer);

        expect(removed.status).toBe(404);
      });

      it('refuses with 409 when no consent was recorded after the opt-out, and keeps it', async () => {
        await call('PUT', '/members/R1', keys.marketer, {
          phone: '13812345678',
          consent: { status: 'granted', at: '2025-06-01T00:00:00Z', source: 'pos' },
        });
        await seed('+8613812345678');

        const removed = await call('DELETE', path('13812345678'), keys.marketer);

        expect(removed.status).toBe(409);
        expect(removed.body.message).toMatch(/consent/);
        expect(removed.body.message).not.toMatch(fullPhone);
        expect(await optedOut('13812345678')).toBe(true);
      });

      it('removes the opt-out when the member consented after it', async () => {
        await seed('+8613812345678');
        await call('PUT', '/members/R2', keys.marketer, {
          phone: '13812345678',
          consent: { status: 'granted', at: '2026-02-01T00:00:00Z', source: 'pos' },
        });

        const removed = await call('DELETE', path('+86 138 1234 5678'), keys.marketer);

        expect(removed.status).toBe(204);
        expect(await optedOut('13812345678')).toBe(false);
      });

      it('records a consent given in the body on the member, then removes the opt-out', async () => {
        await call('PUT', '/members/R3', keys.marketer, { phone: '13812345678', name: '王芳' });
        await seed('+8613812345678');

        const removed = await call('DELETE', path('13812345678'), keys.marketer, {
          consent: { at: '2026-02-01T10:00:00+08:00', source: 'store-form' },
        });

        expect(removed.status).toBe(204);
        expect(await optedOut('13812345678')).toBe(false);
        expect((await call('GET', '/members/R3', keys.viewer)).body).toMatchObject({
          name: '王芳',
          consent: { status: 'granted', at: '2026-02-01T10:00:00+08:00', source: 'store-form' },
          optedOut: false,
        });
      });

      it('answers a consent older than the opt-out with 400 at body.consent.at, and keeps it', async () => {
        await call('PUT', '/members/R4', keys.marketer, { phone: '13812345678' });
        await seed('+8613812345678');

        const removed = await call('DELETE', path('13812345678'), keys.marketer, {
          consent: { at: '2025-12-31T00:00:00Z', source: 'pos' },
        });

        expect(removed.status).toBe(400);
        expect(removed.body.problems).toEqual([{ path: 'body.consent.at', message: expect.any(String) }]);
        expect(await optedOut('13812345678')).toBe(true);
        expect((await call('GET', '/members/R4', keys.viewer)).body).toMatchObject({
          consent: { status: 'unknown' },
        });
      });

      it('refuses with 409 a consent that no member could hold', async () => {
        await seed('+8613812345678');

        const removed = await call('DELETE', path('13812345678'), keys.marketer, {
          consent: { at: '2026-02-01T00:00:00Z', source: 'pos' },
        });

        expect(removed.status).toBe(409);
        expect(await optedOut('13812345678')).toBe(true);
      });

      it('refuses a viewer with 403', async () => {
        await seed('+8613812345678');

        expect((await call('DELETE', path('13812345678'), keys.viewer)).status).toBe(403);
        expect(await optedOut('13812345678')).toBe(true);
      });
    });

    describe('GET /opt-outs/export', () => {
      it('answers every opt-out as UTF-8 CSV with a BOM, masked and safe to open in Excel', async () => {
        await seed('+8613812345678');
        await call('POST', '/opt-outs', keys.marketer, {
          phone: '13912340001',
          reason: '太多短信, "别发了"',
        });

        const exported = await call('GET', '/opt-outs/export', keys.viewer);

        expect(exported.status).toBe(200);
        expect(exported.headers['content-type']).toBe('text/csv; charset=utf-8');
        expect(exported.headers['x-export-rows']).toBe('2');
        expect(exported.headers).not.toHaveProperty('x-next-cursor');
        expect(exported.text.startsWith('\uFEFFmasked_phone,source,reason,opted_out_at\r\n')).toBe(true);
        expect(exported.text).not.toMatch(fullPhone);
        const rows = exported.text.trimEnd().split('\r\n').slice(1).sort();
        expect(rows).toHaveLength(2);
        // A leading + would make Excel read the cell as a formula: it is defused with '.
        expect(rows[0]).toMatch(/^'\+86\*{7}0001,api,"太多短信, ""别发了""",2\d{3}-\d\d-\d\dT[\d:.]+Z$/);
        expect(rows[1]).toBe("'+86*******5678,sms,,2026-01-01T00:00:00.000Z");
      });
    });

    describe('tenancy', () => {
      it("never shows or changes another tenant's opt-outs", async () => {
        await seed('+8613812345678');
        await call('PUT', '/members/T1', keys.marketer, {
          phone: '13812345678',
          consent: { status: 'granted', at: '2026-02-01T00:00:00Z', source: 'pos' },
        });

        const list = await call('GET', '/opt-outs', keys.other);
        const lookup = await call('GET', path('13812345678'), keys.other);
        const exported = await call('GET', '/opt-outs/export', keys.other);
        const removed = await call('DELETE', path('13812345678'), keys.other);
        const added = await call('POST', '/opt-outs', keys.other, { phone: '13912345678' });

        expect(list.body.items).toEqual([]);
        expect(lookup.body.optedOut).toBe(false);
        expect(exported.headers['x-export-rows']).toBe('0');
        expect(removed.status).toBe(404);
        expect(added.status).toBe(201);
        expect(await optedOut('13812345678')).toBe(true);
        expect(await optedOut('13912345678')).toBe(false);
      });
    });
  });
}
