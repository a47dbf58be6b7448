import { createHash, randomBytes } from 'node:crypto';
import {
  authenticate,
  ConflictError,
  createTenant,
  ensureFirstTenant,
  formatApiKey,
  issueApiKey,
  NotFoundError,
  parseApiKey,
  revokeApiKey,
  type TenancyDeps,
  tenantSettings,
  UnauthorizedError,
} from '@qunfa/domain';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryTenantStore } from '../../support/fakes/memory-tenant-store';

const settings = tenantSettings.parse({ name: 'Acme Tea' });
const created = new Date('2026-11-23T08:00:00Z');

let store: MemoryTenantStore;
let deps: TenancyDeps;
let clock: Date;

beforeEach(() => {
  store = new MemoryTenantStore();
  clock = created;
  deps = { store, random: (size) => randomBytes(size), now: () => clock };
});

function secretOf(apiKey: string): string {
  const parsed = parseApiKey(apiKey);
  if (!parsed) throw new Error(`not an API key: ${apiKey}`);
  return parsed.secret;
}

/** The same key with one character of its secret changed. */
function withTamperedSecret(apiKey: string): string {
  const last = apiKey.at(-1) === 'a' ? 'b' : 'a';
  return `${apiKey.slice(0, -1)}${last}`;
}

async function refusal(attempt: Promise<unknown>): Promise<UnauthorizedError> {
  const error = await attempt.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(UnauthorizedError);
  if (!(error instanceof UnauthorizedError)) throw new Error('expected an UnauthorizedError');
  return error;
}

describe('createTenant', () => {
  it('stores the tenant and issues its first admin key', async () => {
    const { tenant, admin } = await createTenant(deps, { tenantId: 'acme', settings });

    expect(tenant).toEqual({ tenantId: 'acme', ...settings, createdAt: '2026-11-23T08:00:00.000Z' });
    expect(await store.getTenant('acme')).toEqual(tenant);
    expect(admin.key).toMatchObject({ tenantId: 'acme', role: 'admin', name: 'first admin key' });
    expect(admin.apiKey).toMatch(/^qf_acme_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}$/);
    expect(parseApiKey(admin.apiKey)).toMatchObject({ tenantId: 'acme', keyId: admin.key.keyId });
  });

  it('stores only the SHA-256 of the secret, never the secret or the key', async () => {
    const { admin } = await createTenant(deps, { tenantId: 'acme', settings });
    const secret = secretOf(admin.apiKey);

    const stored = await store.getApiKey('acme', admin.key.keyId);

    expect(stored?.secretHash).toBe(createHash('sha256').update(secret).digest('hex'));
    const everything = JSON.stringify([...store.keys.values(), ...store.tenants.values()]);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(admin.apiKey);
  });

  it('does not hand the hash back with the issued key', async () => {
    const { admin } = await createTenant(deps, { tenantId: 'acme', settings });

    expect(admin.key).not.toHaveProperty('secretHash');
  });

  it('refuses a tenant id that is taken', async () => {
    await createTenant(deps, { tenantId: 'acme', settings });

    await expect(createTenant(deps, { tenantId: 'acme', settings })).rejects.toBeInstanceOf(ConflictError);
    expect((await store.listApiKeys('acme')).length).toBe(1);
  });
});

describe('issueApiKey', () => {
  it('issues a key with the asked role and name that authenticates as it', async () => {
    await createTenant(deps, { tenantId: 'acme', settings });

    const issued = await issueApiKey(deps, { tenantId: 'acme', role: 'marketer', name: 'POS' });

    expect(issued.key).toMatchObject({ tenantId: 'acme', role: 'marketer', name: 'POS' });
    expect(await authenticate({ store, authorization: `Bearer ${issued.apiKey}` })).toEqual({
      tenantId: 'acme',
      keyId: issued.key.keyId,
      role: 'marketer',
    });
  });

  it('issues a different key id and secret each time', async () => {
    const first = await issueApiKey(deps, { tenantId: 'acme', role: 'viewer', name: 'a' });

    const second = await issueApiKey(deps, { tenantId: 'acme', role: 'viewer', name: 'b' });

    expect(second.key.keyId).not.toBe(first.key.keyId);
    expect(secretOf(second.apiKey)).not.toBe(secretOf(first.apiKey));
  });
});

describe('authenticate', () => {
  let acme: { apiKey: string; keyId: string };

  beforeEach(async () => {
    const { admin } = await createTenant(deps, { tenantId: 'acme', settings });
    acme = { apiKey: admin.apiKey, keyId: admin.key.keyId };
    await createTenant(deps, { tenantId: 'globex', settings: tenantSettings.parse({ name: 'Globex' }) });
  });

  it('resolves a bearer key to its tenant, key id and role', async () => {
    const principal = await authenticate({ store, authorization: `Bearer ${acme.apiKey}` });

    expect(principal).toEqual({ tenantId: 'acme', keyId: acme.keyId, role: 'admin' });
  });

  it('reads the scheme in any case and tolerates trailing spaces', async () => {
    const principal = await authenticate({ store, authorization: `bearer   ${acme.apiKey}  ` });

    expect(principal.tenantId).toBe('acme');
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['the key without a scheme', 'KEY'],
    ['a malformed key', 'Bearer qf_acme_short_secret'],
  ])('refuses %s', async (_case, authorization) => {
    const header = authorization?.replace('KEY', acme.apiKey);

    await refusal(authenticate({ store, authorization: header }));
  });

  it('refuses a key whose secret was changed', async () => {
    await refusal(authenticate({ store, authorization: `Bearer ${withTamperedSecret(acme.apiKey)}` }));
  });

  it('refuses a key whose key id was changed', async () => {
    const parsed = parseApiKey(acme.apiKey);
    if (!parsed) throw new Error('unparsable key');
    const keyId = `${parsed.keyId.slice(0, -1)}${parsed.keyId.endsWith('a') ? 'b' : 'a'}`;

    await refusal(authenticate({ store, authorization: `Bearer ${formatApiKey({ ...parsed, keyId })}` }));
  });

  it('refuses a key moved to another tenant, even one holding a key with the same id', async () => {
    const parsed = parseApiKey(acme.apiKey);
    if (!parsed) throw new Error('unparsable key');
    await store.putApiKey({
      tenantId: 'globex',
      keyId: parsed.keyId,
      name: 'twin',
      role: 'admin',
      secretHash: createHash('sha256').update('another secret').digest('hex'),
      createdAt: created.toISOString(),
    });

    for (const tenantId of ['globex', 'nobody']) {
      const moved = formatApiKey({ ...parsed, tenantId });

      await refusal(authenticate({ store, authorization: `Bearer ${moved}` }));
    }
  });

  it('gives an unknown tenant, an unknown key id and a wrong secret the same answer', async () => {
    const parsed = parseApiKey(acme.apiKey);
    if (!parsed) throw new Error('unparsable key');
    const attempts = [
      formatApiKey({ ...parsed, tenantId: 'nobody' }),
      formatApiKey({ ...parsed, keyId: 'ZZZZZZZZZZZZ' }),
      withTamperedSecret(acme.apiKey),
    ];

    const messages = await Promise.all(
      attempts.map(
        async (key) => (await refusal(authenticate({ store, authorization: `Bearer ${key}` }))).message,
      ),
    );

    expect(new Set(messages).size).toBe(1);
  });
});

describe('revokeApiKey', () => {
  let admin: { apiKey: string; keyId: string };

  beforeEach(async () => {
    const tenant = await createTenant(deps, { tenantId: 'acme', settings });
    admin = { apiKey: tenant.admin.apiKey, keyId: tenant.admin.key.keyId };
  });

  it('stops a revoked key from authenticating and records when it was revoked', async () => {
    const marketer = await issueApiKey(deps, { tenantId: 'acme', role: 'marketer', name: 'POS' });
    clock = new Date('2026-11-24T10:00:00Z');

    await revokeApiKey(deps, { tenantId: 'acme', keyId: marketer.key.keyId });

    await refusal(authenticate({ store, authorization: `Bearer ${marketer.apiKey}` }));
    expect((await store.getApiKey('acme', marketer.key.keyId))?.revokedAt).toBe('2026-11-24T10:00:00.000Z');
    expect((await authenticate({ store, authorization: `Bearer ${admin.apiKey}` })).keyId).toBe(admin.keyId);
  });

  it('refuses to revoke the last active admin key, which keeps working', async () => {
    await issueApiKey(deps, { tenantId: 'acme', role: 'marketer', name: 'POS' });

    await expect(revokeApiKey(deps, { tenantId: 'acme', keyId: admin.keyId })).rejects.toBeInstanceOf(
      ConflictError,
    );

    expect((await store.getApiKey('acme', admin.keyId))?.revokedAt).toBeUndefined();
    expect((await authenticate({ store, authorization: `Bearer ${admin.apiKey}` })).role).toBe('admin');
  });

  it('revokes an admin key while another admin key is active', async () => {
    const second = await issueApiKey(deps, { tenantId: 'acme', role: 'admin', name: 'second admin' });

    await revokeApiKey(deps, { tenantId: 'acme', keyId: admin.keyId });

    await refusal(authenticate({ store, authorization: `Bearer ${admin.apiKey}` }));
    expect((await authenticate({ store, authorization: `Bearer ${second.apiKey}` })).role).toBe('admin');
  });

  it('does not count a revoked admin key as the other admin', async () => {
    const second = await issueApiKey(deps, { tenantId: 'acme', role: 'admin', name: 'second admin' });
    await revokeApiKey(deps, { tenantId: 'acme', keyId: second.key.keyId });

    await expect(revokeApiKey(deps, { tenantId: 'acme', keyId: admin.keyId })).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('changes nothing when the key is already revoked', async () => {
    const viewer = await issueApiKey(deps, { tenantId: 'acme', role: 'viewer', name: 'BI' });
    await revokeApiKey(deps, { tenantId: 'acme', keyId: viewer.key.keyId });
    clock = new Date('2026-12-01T00:00:00Z');

    await revokeApiKey(deps, { tenantId: 'acme', keyId: viewer.key.keyId });

    expect((await store.getApiKey('acme', viewer.key.keyId))?.revokedAt).toBe('2026-11-23T08:00:00.000Z');
  });

  it('answers an unknown key id with NotFoundError', async () => {
    await expect(revokeApiKey(deps, { tenantId: 'acme', keyId: 'ZZZZZZZZZZZZ' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("answers another tenant's key id with NotFoundError and leaves that key working", async () => {
    await createTenant(deps, { tenantId: 'globex', settings });
    const globexViewer = await issueApiKey(deps, { tenantId: 'globex', role: 'viewer', name: 'BI' });

    await expect(
      revokeApiKey(deps, { tenantId: 'acme', keyId: globexViewer.key.keyId }),
    ).rejects.toBeInstanceOf(NotFoundError);

    expect((await authenticate({ store, authorization: `Bearer ${globexViewer.apiKey}` })).tenantId).toBe(
      'globex',
    );
  });
});

describe('ensureFirstTenant', () => {
  const presetKey = formatApiKey({
    tenantId: 'local',
    keyId: 'LocalAdmin01',
    secret: 'abcdefghijklmnopqrstuvwxyz012345',
  });

  it('creates a demo tenant with a random admin key when no tenant exists', async () => {
    const result = await ensureFirstTenant(deps, { settings });

    expect(result).toMatchObject({ created: true, tenantId: 'demo', preset: false });
    if (!result.created) throw new Error('expected a tenant');
    expect((await authenticate({ store, authorization: `Bearer ${result.apiKey}` })).role).toBe('admin');
  });

  it('creates nothing when a tenant exists', async () => {
    await createTenant(deps, { tenantId: 'acme', settings });

    const result = await ensureFirstTenant(deps, { settings });

    expect(result).toEqual({ created: false });
    expect(await store.getTenant('demo')).toBeUndefined();
  });

  it('creates the tenant and the admin key of a preset key, once', async () => {
    const first = await ensureFirstTenant(deps, { presetKey, settings });

    const second = await ensureFirstTenant(deps, { presetKey, settings });

    expect(first).toEqual({ created: true, tenantId: 'local', apiKey: presetKey, preset: true });
    expect(second).toEqual({ created: false });
    expect(await authenticate({ store, authorization: `Bearer ${presetKey}` })).toEqual({
      tenantId: 'local',
      keyId: 'LocalAdmin01',
      role: 'admin',
    });
    expect(await store.listApiKeys('local')).toHaveLength(1);
  });

  it('adds a preset key to its existing tenant without recreating it', async () => {
    const { tenant } = await createTenant(deps, { tenantId: 'local', settings });
    clock = new Date('2026-12-01T00:00:00Z');

    await ensureFirstTenant(deps, { presetKey, settings });

    expect(await store.getTenant('local')).toEqual(tenant);
    expect(await store.listApiKeys('local')).toHaveLength(2);
  });

  it('refuses a malformed preset key, naming QUNFA_ADMIN_KEY', async () => {
    await expect(ensureFirstTenant(deps, { presetKey: 'qf_local_short', settings })).rejects.toThrow(
      'QUNFA_ADMIN_KEY',
    );
    expect(await store.hasAnyTenant()).toBe(false);
  });
});
