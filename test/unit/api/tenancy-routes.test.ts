import { describeTenancyApi } from '../../support/tenancy-spec';
import { MemoryTenantStore } from '../../support/fakes/memory-tenant-store';

describeTenancyApi('HTTP API tenancy (in-memory store)', async () => new MemoryTenantStore());
