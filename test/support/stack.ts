import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '@qunfa/local';
import * as z from 'zod';

// The whole local stack for an end-to-end test: free ports, a scratch data folder, the first
// tenant's admin key, and a client for the HTTP API. Start one per test file in beforeAll.

export interface TestStack {
  readonly stack: LocalStack;
  readonly tenantId: string;
  /** Calls the API with the first tenant's admin key; a body that is not bytes is sent as JSON. */
  api(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Stops every component and removes the data folder. */
  stop(): Promise<void>;
}

export async function startTestStack({
  name,
  simulator,
  movableClock = false,
}: {
  name: string;
  simulator?: LocalStackOptions['simulator'];
  /** Replace the process's `Date` with one the test moves forward (`stack.clock`; see @qunfa/local clock.ts). */
  movableClock?: boolean;
}): Promise<TestStack> {
  const dataDir = await mkdtemp(join(tmpdir(), `qunfa-${name}-`));
  const stack = await startLocalStack({
    dataDir,
    ports: { api: 0, dynamodb: 0, sqs: 0, scheduler: 0, simulator: 0 },
    logLevel: 'WARN',
    // DynamoDB Local in memory: a test's data lives as long as its stack, and on this disk
    // SQLite's writes are what a 10,000-member run would wait on.
    persist: false,
    movableClock,
    ...(simulator ? { simulator } : {}),
  });
  if (!stack.firstTenant.created) throw new Error('a fresh data folder must create the first tenant');
  const { apiKey, tenantId } = stack.firstTenant;
  return {
    stack,
    tenantId,
    async api(method, path, body, contentType = 'application/json') {
      const response = await fetch(new URL(path, stack.apiUrl), {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(body === undefined ? {} : { 'content-type': contentType }),
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) }),
      });
      return {
        status: response.status,
        body: z.looseObject({}).parse(await response.json().catch(() => ({}))),
      };
    },
    async stop() {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
