import { NotFoundError, type Tenant, type TenantStore } from '@qunfa/domain';

/** The caller's tenant, or a 404 when it was deleted after its key was checked. */
export async function requireTenant(
  tenants: Pick<TenantStore, 'getTenant'>,
  tenantId: string,
): Promise<Tenant> {
  const tenant = await tenants.getTenant(tenantId);
  if (!tenant) throw new NotFoundError(`Tenant ${tenantId} no longer exists.`);
  return tenant;
}
