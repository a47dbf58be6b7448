import { MemoryTenantStore } from '../../support/fakes/memory-tenant-store';
import { describeTenancyApi } from '../../support/tenancy-spec';

describeTenancyApi('HTTP API tenancy (in-memory store)', async () => new MemoryTenantStore());
