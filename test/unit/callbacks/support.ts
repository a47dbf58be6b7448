import { readFileSync } from 'node:fs';
import type { CallbackKind, CallbackRequest } from '@qunfa/providers';

// Provider callbacks copied from each provider's documentation (test/events/<provider>/) and
// a builder for the request the callback endpoint hands a reader.

export function callbackFixture(provider: string, name: string): string {
  return readFileSync(new URL(`../../events/${provider}/${name}.json`, import.meta.url), 'utf8');
}

/** The fixture as JSON; the test may change it before sending. */
export function callbackJson(provider: string, name: string): unknown {
  return JSON.parse(callbackFixture(provider, name));
}

export function callbackRequest(
  overrides: Partial<CallbackRequest> & { kind?: CallbackKind },
): CallbackRequest {
  return {
    provider: 'aliyun',
    account: 't-7Hk2',
    kind: undefined,
    url: 'https://api.example.com/callbacks/aliyun/t-7Hk2/receipts',
    headers: { 'content-type': 'application/json' },
    query: {},
    body: Buffer.alloc(0),
    ...overrides,
  };
}
