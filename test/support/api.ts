import { randomBytes } from 'node:crypto';
import { type ApiHandler, createApiHandler } from '@qunfa/api';
import { createLogger } from '@qunfa/aws';
import type { MemberJobMessage, TenancyDeps, TenantStore } from '@qunfa/domain';
import { memoryStores, type TestStores } from './fakes/memory-member-store';
import { MemoryScheduler } from './fakes/memory-scheduler';
import { MemoryTenantStore } from './fakes/memory-tenant-store';

/** The API handler over test stores, with the import queue captured instead of sent and schedules kept in memory. */
export function testApi({
  stores = memoryStores(),
  scheduler = new MemoryScheduler(),
  tenancy = {
    store: new MemoryTenantStore(),
    random: (n) => randomBytes(n),
    now: () => new Date('2026-11-23T08:00:00Z'),
  },
}: {
  stores?: TestStores;
  scheduler?: MemoryScheduler;
  tenancy?: TenancyDeps;
} = {}): {
  api: ApiHandler;
  stores: TestStores;
  scheduler: MemoryScheduler;
  tenants: TenantStore;
  enqueued: MemberJobMessage[];
} {
  const enqueued: MemberJobMessage[] = [];
  const api = createApiHandler({
    tenancy,
    members: stores,
    segments: stores,
    imports: {
      imports: stores.imports,
      parts: stores.parts,
      enqueue: async (message) => {
        enqueued.push({ type: 'members.import', ...message });
      },
      random: stores.random,
      now: stores.now,
    },
    tagJobs: {
      tagJobs: stores.tagJobs,
      enqueueTagJob: async (message) => {
        enqueued.push({ type: 'members.tag', ...message });
      },
      random: stores.random,
      now: stores.now,
    },
    templates: stores,
    campaigns: { ...stores, scheduler },
    logger: createLogger({ service: 'test', level: 'SILENT' }),
  });
  return { api, stores, scheduler, tenants: tenancy.store, enqueued };
}
