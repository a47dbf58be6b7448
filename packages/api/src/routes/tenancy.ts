import {
  issueApiKey,
  patchTenant,
  revokeApiKey,
  role,
  type StoredApiKey,
  type TenancyDeps,
  tenantSettingsPatch,
} from '@qunfa/domain';
import { defineRoute, type Route } from '@qunfa/http';
import * as z from 'zod';
import { requireTenant } from './tenant';

const keyIdParams = z.object({ keyId: z.string().regex(/^[0-9A-Za-z]{12}$/, '12 letters or digits') });
const newKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role,
});

function publicKey({ secretHash: _hidden, tenantId: _tenant, ...key }: StoredApiKey) {
  return key;
}

/** Who am I, my tenant's settings, and the tenant's API keys. */
export function tenancyRoutes(deps: TenancyDeps): Route[] {
  const tenantOf = (tenantId: string) => requireTenant(deps.store, tenantId);
  return [
    defineRoute({
      method: 'GET',
      path: '/me',
      summary: "The calling key's tenant and role.",
      role: 'viewer',
      handle: async ({ principal }) => {
        const tenant = await tenantOf(principal.tenantId);
        return {
          status: 200,
          body: {
            tenantId: tenant.tenantId,
            tenantName: tenant.name,
            role: principal.role,
            keyId: principal.keyId,
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tenant',
      summary:
        "The tenant's settings: name, time zone, default phone region, locale, SMS signature, banned words, provider and part prices.",
      role: 'viewer',
      handle: async ({ principal }) => ({ status: 200, body: await tenantOf(principal.tenantId) }),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/tenant',
      summary:
        "Changes the tenant's settings given (name, time zone, region, locale, SMS signature, banned words, provider, part prices); null removes the signature or the part prices.",
      role: 'admin',
      body: tenantSettingsPatch,
      handle: async ({ principal, body }) => {
        const updated = patchTenant({ tenant: await tenantOf(principal.tenantId), patch: body });
        await deps.store.updateTenant(updated);
        return { status: 200, body: updated };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/keys',
      summary: "The tenant's API keys (never their secrets).",
      role: 'admin',
      handle: async ({ principal }) => ({
        status: 200,
        body: { items: (await deps.store.listApiKeys(principal.tenantId)).map(publicKey) },
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/keys',
      summary: 'Issues an API key; the response is the only time the key is shown.',
      role: 'admin',
      body: newKeyBody,
      handle: async ({ principal, body }) => {
        const issued = await issueApiKey(deps, {
          tenantId: principal.tenantId,
          role: body.role,
          name: body.name,
        });
        const { tenantId: _tenant, ...key } = issued.key;
        return { status: 201, body: { ...key, apiKey: issued.apiKey } };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/keys/{keyId}',
      summary: 'Revokes an API key of the tenant.',
      role: 'admin',
      params: keyIdParams,
      handle: async ({ principal, params }) => {
        await revokeApiKey(deps, { tenantId: principal.tenantId, keyId: params.keyId });
        return { status: 204 };
      },
    }),
  ];
}
