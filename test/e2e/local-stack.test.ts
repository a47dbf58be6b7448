import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { componentNames, isPortFree, type LocalStack, startLocalStack } from '@qunfa/local';
import { queueIds, queues, tableIds } from '@qunfa/resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `npm start` as a test: the whole local stack on free ports in a scratch data folder,
// green, and gone without a trace once stopped (the DynamoDB Local JVM included).

let dataDir: string;
let stack: LocalStack;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'qunfa-e2e-'));
  stack = await startLocalStack({
    dataDir,
    ports: { api: 0, dynamodb: 0, sqs: 0, scheduler: 0, simulator: 0 },
    logLevel: 'WARN',
  });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startLocalStack', () => {
  it('reports every component green on GET /health', async () => {
    const response = await fetch(new URL('/health', stack.apiUrl));
    const report: unknown = await response.json();

    expect(response.status).toBe(200);
    expect(report).toMatchObject({
      ok: true,
      components: Object.fromEntries(
        componentNames.map((name) => [name, expect.objectContaining({ ok: true })]),
      ),
    });
  });

  it('serves the HTTP API through the api handler, authenticated by the first admin key', async () => {
    if (!stack.firstTenant.created) throw new Error('a fresh data folder must create the first tenant');
    const response = await fetch(new URL('/me', stack.apiUrl), {
      headers: { authorization: `Bearer ${stack.firstTenant.apiKey}` },
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ tenantId: 'demo', role: 'admin' });
    expect(response.headers.get('apigw-requestid')).toEqual(expect.any(String));
  });

  it('refuses a request without a key with 401 and a WWW-Authenticate challenge', async () => {
    const response = await fetch(new URL('/me', stack.apiUrl));

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('caps every consumer at four invocations per core, never above the model', () => {
    const cap = 4 * availableParallelism();
    for (const id of queueIds) {
      expect(stack.components.pollers.pollers[id].stats().maxConcurrency).toBe(
        Math.min(queues[id].consumer.maxConcurrency, cap),
      );
    }
  });

  it('creates the first tenant and its admin key on a fresh data folder', () => {
    expect(stack.firstTenant).toMatchObject({ created: true, preset: false, apiKey: expect.any(String) });
  });

  it('writes stack.json with the endpoints and physical names the admin CLI needs', async () => {
    const state: unknown = JSON.parse(await readFile(join(dataDir, 'stack.json'), 'utf8'));

    expect(state).toMatchObject({
      apiUrl: stack.apiUrl,
      endpoints: {
        dynamodb: stack.components.dynamodb.endpoint,
        sqs: stack.components.sqs.endpoint,
        scheduler: stack.components.scheduler.url,
        simulator: stack.components.simulator.url,
      },
      tables: Object.fromEntries(tableIds.map((id) => [id, `qunfa-local-${id}`])),
    });
  });

  it('stops everything: the JVM is gone, every port is free, stack.json is removed', async () => {
    const jvm = stack.components.dynamodb.pid;
    const ports = [
      stack.apiUrl,
      stack.components.dynamodb.endpoint,
      stack.components.sqs.endpoint,
      stack.components.scheduler.url,
      stack.components.simulator.url,
    ].map(portOf);

    await stack.stop();

    expect(isRunning(jvm)).toBe(false);
    for (const port of ports) expect(await isPortFree(port), `port ${port}`).toBe(true);
    await expect(stat(join(dataDir, 'stack.json'))).rejects.toThrow(/ENOENT/);
  });
});
