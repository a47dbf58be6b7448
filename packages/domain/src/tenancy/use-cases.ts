import { ConflictError, NotFoundError, UnauthorizedError } from '../shared/errors';
import type { RandomBytes } from '../shared/ids';
import {
  formatApiKey,
  generateApiKey,
  hashSecret,
  parseApiKey,
  type StoredApiKey,
  secretMatches,
} from './api-keys';
import type { Role } from './roles';
import type { TenantStore } from './store';
import type { Tenant, TenantSettings } from './tenant';

/** Who is calling: the tenant every read and write of the request is confined to. */
export interface Principal {
  readonly tenantId: string;
  readonly keyId: string;
  readonly role: Role;
}

export interface TenancyDeps {
  readonly store: TenantStore;
  readonly random: RandomBytes;
  readonly now: () => Date;
}

/**
 * Resolves `Authorization: Bearer <key>` to a principal. Every failure (no header, wrong
 * scheme, malformed key, unknown or revoked key, wrong secret) is the same 401, so a caller
 * learns nothing about which tenants or key ids exist.
 */
export async function authenticate({
  store,
  authorization,
}: {
  store: TenantStore;
  authorization: string | undefined;
}): Promise<Principal> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const parsed = match?.[1] ? parseApiKey(match[1]) : undefined;
  if (!parsed) throw new UnauthorizedError();
  const stored = await store.getApiKey(parsed.tenantId, parsed.keyId);
  if (
    !stored ||
    stored.revokedAt ||
    !secretMatches({ secret: parsed.secret, secretHash: stored.secretHash })
  ) {
    throw new UnauthorizedError('The API key is not valid or has been revoked.');
  }
  return { tenantId: stored.tenantId, keyId: stored.keyId, role: stored.role };
}

export interface IssuedApiKey {
  readonly key: Omit<StoredApiKey, 'secretHash'>;
  /** The plaintext key: shown once, never stored. */
  readonly apiKey: string;
}

export async function issueApiKey(
  deps: TenancyDeps,
  { tenantId, role, name }: { tenantId: string; role: Role; name: string },
): Promise<IssuedApiKey> {
  const parsed = generateApiKey({ tenantId, random: deps.random });
  return storeKey(deps, { parsed, role, name });
}

async function storeKey(
  deps: TenancyDeps,
  { parsed, role, name }: { parsed: ReturnType<typeof generateApiKey>; role: Role; name: string },
): Promise<IssuedApiKey> {
  const stored: StoredApiKey = {
    tenantId: parsed.tenantId,
    keyId: parsed.keyId,
    name,
    role,
    secretHash: hashSecret(parsed.secret),
    createdAt: deps.now().toISOString(),
  };
  await deps.store.putApiKey(stored);
  const { secretHash: _hidden, ...key } = stored;
  return { key, apiKey: formatApiKey(parsed) };
}

export async function createTenant(
  deps: TenancyDeps,
  {
    tenantId,
    settings,
    adminKeyName = 'first admin key',
  }: { tenantId: string; settings: TenantSettings; adminKeyName?: string },
): Promise<{ tenant: Tenant; admin: IssuedApiKey }> {
  const tenant: Tenant = { tenantId, ...settings, createdAt: deps.now().toISOString() };
  await deps.store.createTenant(tenant);
  const admin = await issueApiKey(deps, { tenantId, role: 'admin', name: adminKeyName });
  return { tenant, admin };
}

/**
 * Revokes a key of the caller's tenant. The last active admin key cannot be revoked: a
 * tenant without one could never issue keys again.
 */
export async function revokeApiKey(
  deps: TenancyDeps,
  { tenantId, keyId }: { tenantId: string; keyId: string },
): Promise<void> {
  const keys = await deps.store.listApiKeys(tenantId);
  const target = keys.find((key) => key.keyId === keyId);
  if (!target) throw new NotFoundError(`No API key ${keyId}.`);
  if (target.revokedAt) return;
  const otherAdmins = keys.filter((key) => key.role === 'admin' && !key.revokedAt && key.keyId !== keyId);
  if (target.role === 'admin' && otherAdmins.length === 0) {
    throw new ConflictError('This is the last active admin key; issue another admin key before revoking it.');
  }
  await deps.store.revokeApiKey(tenantId, keyId, deps.now().toISOString());
}

export type BootstrapResult =
  | { readonly created: false }
  | { readonly created: true; readonly tenantId: string; readonly apiKey: string; readonly preset: boolean };

/**
 * The local stack's first start: with a preset key (QUNFA_ADMIN_KEY) make sure its tenant
 * and key exist; otherwise create a `demo` tenant and a random admin key when no tenant
 * exists yet. Running it again changes nothing.
 */
export async function ensureFirstTenant(
  deps: TenancyDeps,
  { presetKey, settings }: { presetKey?: string; settings: TenantSettings },
): Promise<BootstrapResult> {
  if (presetKey !== undefined) {
    const parsed = parseApiKey(presetKey);
    if (!parsed) {
      throw new Error(
        'QUNFA_ADMIN_KEY must look like qf_<tenant>_<12 letters or digits>_<32 letters or digits>.',
      );
    }
    const existing = await deps.store.getApiKey(parsed.tenantId, parsed.keyId);
    if (existing) return { created: false };
    if (!(await deps.store.getTenant(parsed.tenantId))) {
      await deps.store.createTenant({
        tenantId: parsed.tenantId,
        ...settings,
        createdAt: deps.now().toISOString(),
      });
    }
    const issued = await storeKey(deps, { parsed, role: 'admin', name: 'preset admin key' });
    return { created: true, tenantId: parsed.tenantId, apiKey: issued.apiKey, preset: true };
  }
  if (await deps.store.hasAnyTenant()) return { created: false };
  const { tenant, admin } = await createTenant(deps, { tenantId: 'demo', settings });
  return { created: true, tenantId: tenant.tenantId, apiKey: admin.apiKey, preset: false };
}
