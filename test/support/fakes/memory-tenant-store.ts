import {
  ConflictError,
  NotFoundError,
  type StoredApiKey,
  type Tenant,
  type TenantStore,
} from '@qunfa/domain';

/** In-memory TenantStore for domain and API unit tests; DynamoTenantStore has its own integration test. */
export class MemoryTenantStore implements TenantStore {
  readonly tenants = new Map<string, Tenant>();
  readonly keys = new Map<string, StoredApiKey>();

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    return this.tenants.get(tenantId);
  }
  async createTenant(tenant: Tenant): Promise<void> {
    if (this.tenants.has(tenant.tenantId))
      throw new ConflictError(`Tenant ${tenant.tenantId} already exists.`);
    this.tenants.set(tenant.tenantId, tenant);
  }
  async updateTenant(tenant: Tenant): Promise<void> {
    this.tenants.set(tenant.tenantId, tenant);
  }
  async hasAnyTenant(): Promise<boolean> {
    return this.tenants.size > 0;
  }
  async getApiKey(tenantId: string, keyId: string): Promise<StoredApiKey | undefined> {
    return this.keys.get(`${tenantId}/${keyId}`);
  }
  async putApiKey(key: StoredApiKey): Promise<void> {
    this.keys.set(`${key.tenantId}/${key.keyId}`, key);
  }
  async listApiKeys(tenantId: string): Promise<StoredApiKey[]> {
    return [...this.keys.values()].filter((key) => key.tenantId === tenantId);
  }
  async revokeApiKey(tenantId: string, keyId: string, revokedAt: string): Promise<void> {
    const key = this.keys.get(`${tenantId}/${keyId}`);
    if (!key) throw new NotFoundError(`No API key ${keyId}.`);
    this.keys.set(`${tenantId}/${keyId}`, { ...key, revokedAt });
  }
}
