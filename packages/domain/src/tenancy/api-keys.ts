import { createHash, timingSafeEqual } from 'node:crypto';
import { type RandomBytes, randomBase62 } from '../shared/ids';
import type { Role } from './roles';
import { tenantId as tenantIdSchema } from './tenant';

// A key reads `qf_<tenant>_<keyId>_<secret>`. Carrying the tenant and key id lets the
// authorizer fetch exactly one item (keyed by tenant, like every item) instead of scanning
// an index of hashes; only the SHA-256 of the secret is stored. The secret has 190 bits of
// entropy, so a fast hash is enough: there is nothing to brute-force.

const keyPattern = /^qf_([a-z0-9][a-z0-9-]{1,38}[a-z0-9])_([0-9A-Za-z]{12})_([0-9A-Za-z]{32})$/;

export interface ParsedApiKey {
  readonly tenantId: string;
  readonly keyId: string;
  readonly secret: string;
}

export interface StoredApiKey {
  readonly tenantId: string;
  readonly keyId: string;
  readonly name: string;
  readonly role: Role;
  readonly secretHash: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}

export function parseApiKey(key: string): ParsedApiKey | undefined {
  const match = keyPattern.exec(key);
  if (!match) return undefined;
  const [, tenantId, keyId, secret] = match;
  if (!tenantId || !keyId || !secret) return undefined;
  return { tenantId, keyId, secret };
}

export function formatApiKey({ tenantId, keyId, secret }: ParsedApiKey): string {
  return `qf_${tenantId}_${keyId}_${secret}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches({ secret, secretHash }: { secret: string; secretHash: string }): boolean {
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(secretHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

export function generateApiKey({
  tenantId,
  random,
}: {
  tenantId: string;
  random: RandomBytes;
}): ParsedApiKey {
  tenantIdSchema.parse(tenantId);
  return {
    tenantId,
    keyId: randomBase62({ random, length: 12 }),
    secret: randomBase62({ random, length: 32 }),
  };
}
