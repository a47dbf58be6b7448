import { randomBytes } from 'node:crypto';
import type { ApiHandler } from '@qunfa/api';
import { createTenant, type TenancyDeps, type TenantStore, tenantSettings } from '@qunfa/domain';
import { beforeEach, describe, expect, it } from 'vitest';
import { testApi } from './api';
import { httpEvent, lambdaContext } from './events';

// The tenancy and authorization specification of the HTTP API. It runs twice: against an
// in-memory store (unit) and against DynamoDB Local (integration), so both must agree.

interface Call {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, unknown>;
}

export function describeTenancyApi(title: string, makeStore: () => Promise<TenantStore>): void {
  describe(title, () => {
    let api: ApiHandler;
    let deps: TenancyDeps;
    let acme: { admin: string; marketer: string; viewer: string };
    let globex: { admin: string; adminKeyId: string };

    const call = async (method: string, path: string, key?: string, body?: unknown): Promise<Call> => {
      const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
      const result = await api(httpEvent({ method, path, headers, body }), lambdaContext('api'));
      return {
        status: result.statusCode ?? 0,
        body: result.body ? JSON.parse(result.body) : {},
        headers: result.headers ?? {},
      };
    };

    beforeEach(async () => {
      deps = {
        store: await makeStore(),
        random: (n) => randomBytes(n),
        now: () => new Date('2026-11-23T08:00:00Z'),
      };
      api = testApi({ tenancy: deps }).api;
      const settings = tenantSettings.parse({ name: 'Acme Tea' });
      const suffix = randomBytes(4).toString('hex');
      const a = await createTenant(deps, { tenantId: `acme-${suffix}`, settings });
      const issue = async (role: 'marketer' | 'viewer') =>
        (await call('POST', '/keys', a.admin.apiKey, { name: role, role })).body.apiKey as string;
      acme = { admin: a.admin.apiKey, marketer: await issue('marketer'), viewer: await issue('viewer') };
      const g = await createTenant(deps, {
        tenantId: `globex-${suffix}`,
        settings: tenantSettings.parse({ name: 'Globex' }),
      });
      globex = { admin: g.admin.apiKey, adminKeyId: g.admin.key.keyId };
    });

    describe('authentication', () => {
      it('answers GET /me with the key tenant and role', async () => {
        const me = await call('GET', '/me', acme.marketer);
        expect(me.status).toBe(200);
        expect(me.body).toMatchObject({ tenantName: 'Acme Tea', role: 'marketer' });
        expect(me.body.tenantId).toMatch(/^acme-/);
      });

      it('refuses a request without a key with 401 and a WWW-Authenticate header', async () => {
        const me = await call('GET', '/me');
        expect(me.status).toBe(401);
        expect(me.body).toMatchObject({ code: 'unauthorized' });
        expect(me.body.requestId).toEqual(expect.any(String));
        expect(me.headers['www-authenticate']).toBe('Bearer');
      });

      it('refuses a malformed, unknown or tampered key with 401', async () => {
        const tampered = `${acme.admin.slice(0, -1)}${acme.admin.endsWith('a') ? 'b' : 'a'}`;
        for (const key of ['nonsense', tampered, acme.admin.replace(/^qf_acme/, 'qf_nobody')]) {
          expect((await call('GET', '/me', key)).status).toBe(401);
        }
      });

      it('refuses a revoked key with 401', async () => {
        const issued = await call('POST', '/keys', acme.admin, { name: 'temp', role: 'viewer' });
        expect((await call('DELETE', `/keys/${issued.body.keyId}`, acme.admin)).status).toBe(204);
        expect((await call('GET', '/me', issued.body.apiKey as string)).status).toBe(401);
      });
    });

    describe('authorization', () => {
      it('refuses a viewer or a marketer an admin route with 403', async () => {
        for (const key of [acme.viewer, acme.marketer]) {
          const attempt = await call('POST', '/keys', key, { name: 'sneaky', role: 'admin' });
          expect(attempt.status).toBe(403);
          expect(attempt.body).toMatchObject({ code: 'forbidden' });
        }
        expect(
          (await deps.store.listApiKeys((await call('GET', '/me', acme.admin)).body.tenantId as string))
            .length,
        ).toBe(3);
      });

      it("answers another tenant's key with 404 and changes nothing", async () => {
        const attempt = await call('DELETE', `/keys/${globex.adminKeyId}`, acme.admin);
        expect(attempt.status).toBe(404);
        expect((await call('GET', '/me', globex.admin)).status).toBe(200);
      });

      it("lists only the caller's own tenant keys, without secrets", async () => {
        const list = await call('GET', '/keys', acme.admin);
        const items = list.body.items as Record<string, unknown>[];
        expect(items).toHaveLength(3);
        expect(items.map((k) => k.keyId)).not.toContain(globex.adminKeyId);
        for (const item of items) expect(Object.keys(item)).not.toContain('secretHash');
      });

      it('keeps the last active admin key', async () => {
        const me = await call('GET', '/me', acme.admin);
        const attempt = await call('DELETE', `/keys/${me.body.keyId}`, acme.admin);
        expect(attempt.status).toBe(409);
        expect((await call('GET', '/me', acme.admin)).status).toBe(200);
      });
    });

    describe('bad input', () => {
      it('lists every problem with its path and changes nothing', async () => {
        const before = await call('GET', '/keys', acme.admin);
        const attempt = await call('POST', '/keys', acme.admin, { name: '', role: 'owner', extra: 1 });
        expect(attempt.status).toBe(400);
        expect(attempt.body.code).toBe('validation_failed');
        const paths = (attempt.body.problems as { path: string }[]).map((p) => p.path).sort();
        expect(paths).toEqual(['body.extra', 'body.name', 'body.role']);
        expect((await call('GET', '/keys', acme.admin)).body.items).toEqual(before.body.items);
      });

      it('answers malformed JSON with 400, not 500', async () => {
        const result = await api(
          httpEvent({
            method: 'POST',
            path: '/keys',
            headers: { authorization: `Bearer ${acme.admin}`, 'content-type': 'application/json' },
            body: '{"name": ',
          }),
          lambdaContext('api'),
        );
        expect(result.statusCode).toBe(400);
        expect(JSON.parse(result.body ?? '{}')).toMatchObject({ code: 'validation_failed' });
      });

      it('answers an unknown route with 404 and a wrong method with 405', async () => {
        expect((await call('GET', '/nowhere', acme.admin)).status).toBe(404);
        const wrong = await call('PUT', '/me', acme.admin);
        expect(wrong.status).toBe(405);
        expect(wrong.headers.allow).toBe('GET');
      });
    });
  });
}
