import type { StoredApiKey } from './api-keys';
import type { Tenant } from './tenant';

/** Persistence of tenants and their keys; DynamoDB behind it on AWS and on the local stack. */
export interface TenantStore {
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  /** Creates the tenant; throws ConflictError when the id is taken. */
  createTenant(tenant: Tenant): Promise<void>;
  updateTenant(tenant: Tenant): Promise<void>;
  /** True when at least one tenant exists (used once, when the local stack first starts). */
  hasAnyTenant(): Promise<boolean>;
  getApiKey(tenantId: string, keyId: string): Promise<StoredApiKey | undefined>;
  putApiKey(key: StoredApiKey): Promise<void>;
  listApiKeys(tenantId: string): Promise<StoredApiKey[]>;
  /** Marks the key revoked; throws NotFoundError when the tenant has no such key. */
  revokeApiKey(tenantId: string, keyId: string, revokedAt: string): Promise<void>;
}
