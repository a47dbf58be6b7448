import { randomBytes } from 'node:crypto';
import { type BootstrapResult, ensureFirstTenant, type TenancyDeps, tenantSettings } from '@qunfa/domain';
import { DynamoTenantStore } from './dynamo/tenant-store';
import type { DocumentClient } from './wire/dynamodb';

/** Tenancy use-case dependencies on DynamoDB, with the real clock and randomness. */
export function tenancyDeps({
  client,
  tableName,
}: {
  client: DocumentClient;
  tableName: string;
}): TenancyDeps {
  return {
    store: new DynamoTenantStore({ client, tableName }),
    random: (size) => randomBytes(size),
    now: () => new Date(),
  };
}

/** Creates the first tenant and admin key on a fresh local stack (see ensureFirstTenant). */
export async function bootstrapFirstTenant({
  client,
  tableName,
  presetKey,
  now,
}: {
  client: DocumentClient;
  tableName: string;
  presetKey?: string;
  now: Date;
}): Promise<BootstrapResult> {
  const deps = { ...tenancyDeps({ client, tableName }), now: () => now };
  return ensureFirstTenant(deps, {
    ...(presetKey ? { presetKey } : {}),
    settings: tenantSettings.parse({ name: 'Demo merchant' }),
  });
}
