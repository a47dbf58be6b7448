import { createServer, type Server } from 'node:net';
import { exchange, httpStatusFailure, networkFailure, parseRetryAfter } from '@qunfa/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The line between "never sent" (safe to send again) and "sent, no answer" (ambiguous), drawn
// with real sockets.

let silent: Server;
let silentPort = 0;
let closedPort = 0;

beforeAll(async () => {
  // Accepts connections and reads requests, but never answers.
  silent = createServer((socket) => socket.on('data', () => undefined));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address();
  silentPort = typeof address === 'object' && address ? address.port : 0;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const probeAddress = probe.address();
  closedPort = typeof probeAddress === 'object' && probeAddress ? probeAddress.port : 0;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(() => new Promise<void>((resolve) => silent.close(() => resolve())));

describe('exchange', () => {
  it('says not-sent when the connection is refused: retryable', async () => {
    const result = await exchange({
      fetch: globalThis.fetch,
      url: `http://127.0.0.1:${closedPort}/`,
      init: { method: 'POST', body: '{}' },
      timeoutMs: 2_000,
    });

    expect(result).toMatchObject({ kind: 'not-sent', code: 'econnrefused' });
    expect(result.kind !== 'answered' && networkFailure(result).outcome).toBe('retryable');
  });

  it('says no-answer when the request left and nothing came back in time: ambiguous', async () => {
    const result = await exchange({
      fetch: globalThis.fetch,
      url: `http://127.0.0.1:${silentPort}/`,
      init: { method: 'POST', body: '{}' },
      timeoutMs: 200,
    });

    expect(result).toMatchObject({ kind: 'no-answer', code: 'timeout' });
    expect(result.kind !== 'answered' && networkFailure(result).outcome).toBe('ambiguous');
  });
});

describe('httpStatusFailure', () => {
  it.each([
    [429, 'throttled'],
    [502, 'retryable'],
    [503, 'retryable'],
    [500, 'ambiguous'],
    [504, 'ambiguous'],
    [400, 'permanent'],
    [401, 'permanent'],
  ] as const)('maps HTTP %i to %s', (status, outcome) => {
    expect(httpStatusFailure({ status }).outcome).toBe(outcome);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = new Date('2025-01-01T00:00:00Z');

    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
