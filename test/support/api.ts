import { randomBytes } from 'node:crypto';
import { type ApiHandler, createApiHandler } from '@qunfa/api';
import { createLogger } from '@qunfa/aws';
import {
  createTenant,
  type MemberJobMessage,
  type RunMessageDeps,
  type SenderProvider,
  type TenancyDeps,
  type TenantStore,
  tenantSettings,
} from '@qunfa/domain';
import { memoryStores, type TestStores } from './fakes/memory-member-store';
import { MemoryScheduler } from './fakes/memory-scheduler';
import { MemoryMessageStore, MemoryRateLimiter, RecordingProvider } from './fakes/memory-sending-stores';
import { MemoryTenantStore } from './fakes/memory-tenant-store';

/**
 * The API handler over test stores, with the import queue captured instead of sent, schedules
 * kept in memory and test sends going to `provider` (a RecordingProvider unless given).
 */
export function testApi({
  stores = memoryStores(),
  scheduler = new MemoryScheduler(),
  provider = new RecordingProvider(),
  tenancy = {
    store: new MemoryTenantStore(),
    random: (n) => randomBytes(n),
    now: () => new Date('2026-11-23T08:00:00Z'),
  },
  runMessages,
}: {
  stores?: TestStores;
  scheduler?: MemoryScheduler;
  provider?: SenderProvider;
  tenancy?: TenancyDeps;
  /** GET /campaigns/{id}/messages: absent unless given. */
  runMessages?: RunMessageDeps;
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
    ...(runMessages === undefined ? {} : { runMessages }),
    testSends: {
      campaigns: stores.campaigns,
      templates: stores.templates,
      members: stores.members,
      optOuts: stores.optOuts,
      messages: stores.messages ?? new MemoryMessageStore(),
      rateLimiter: stores.rateLimiter ?? new MemoryRateLimiter(),
      providerFor: () => provider,
      random: stores.random,
      now: stores.now,
      sleep: async () => undefined,
    },
    logger: createLogger({ service: 'test', level: 'SILENT' }),
  });
  return { api, stores, scheduler, tenants: tenancy.store, enqueued };
}

export interface TestKeys {
  readonly admin: string;
  readonly marketer: string;
  readonly viewer: string;
  /** The admin key of another tenant, for isolation checks. */
  readonly other: string;
}

/**
 * Two tenants for an API specification: `acme-…` (the one under test, name "Acme Tea") with an
 * admin, a marketer and a viewer key, and `globex-…` whose admin key must never reach Acme's data.
 */
export async function createTestTenants({
  tenancy,
  call,
}: {
  tenancy: TenancyDeps;
  call: (
    method: string,
    path: string,
    key: string,
    body?: unknown,
  ) => Promise<{ body: Record<string, unknown> }>;
}): Promise<{ tenantId: string; keys: TestKeys }> {
  const tenantId = `acme-${randomBytes(4).toString('hex')}`;
  const acme = await createTenant(tenancy, {
    tenantId,
    settings: tenantSettings.parse({ name: 'Acme Tea' }),
  });
  const other = await createTenant(tenancy, {
    tenantId: `globex-${randomBytes(4).toString('hex')}`,
    settings: tenantSettings.parse({ name: 'Globex' }),
  });
  const issue = async (role: 'marketer' | 'viewer') =>
    String((await call('POST', '/keys', acme.admin.apiKey, { name: role, role })).body.apiKey);
  return {
    tenantId,
    keys: {
      admin: acme.admin.apiKey,
      marketer: await issue('marketer'),
      viewer: await issue('viewer'),
      other: other.admin.apiKey,
    },
  };
}
