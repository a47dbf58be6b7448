import { rememberedTenants } from '@qunfa/aws';
import { type Tenant, tenantSettings } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

// The callbacks function's tenant look-up: a burst of callbacks for one account reads the
// tenant once a minute, and an account not found is looked up again at the next callback.

const tenant: Tenant = {
  tenantId: 'acme',
  createdAt: '2026-11-23T00:00:00.000Z',
  ...tenantSettings.parse({ name: '好又多' }),
};

function counting(found: Tenant | undefined) {
  const reads: string[] = [];
  return {
    reads,
    store: {
      getTenant: async (tenantId: string) => {
        reads.push(tenantId);
        return found;
      },
    },
  };
}

describe('rememberedTenants', () => {
  it('reads a tenant once for a burst, and again once the minute is over', async () => {
    let now = 0;
    const { reads, store } = counting(tenant);
    const tenants = rememberedTenants(store, { ttlMs: 60_000, now: () => now });

    const burst = await Promise.all([tenants.getTenant('acme'), tenants.getTenant('acme')]);
    now = 59_000;
    await tenants.getTenant('acme');
    now = 61_000;
    await tenants.getTenant('acme');

    expect(burst).toEqual([tenant, tenant]);
    expect(reads).toEqual(['acme', 'acme']);
  });

  it('does not remember an account it did not find', async () => {
    const { reads, store } = counting(undefined);
    const tenants = rememberedTenants(store, { now: () => 0 });

    expect(await tenants.getTenant('ghost')).toBeUndefined();
    expect(await tenants.getTenant('ghost')).toBeUndefined();
    expect(reads).toEqual(['ghost', 'ghost']);
  });
});
