import {
  signSimulatorCallback,
  simulatorAccountSecret,
  simulatorCallback,
  verifySimulatorCallback,
} from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import { providerFixture } from './support';

// The simulator's callbacks: their documented bodies (test/events/simulator) and the
// HMAC-SHA256 signature over timestamp + "." + body that the callback endpoint verifies.

const secret = simulatorAccountSecret({ callbackSecret: 'local-callback-secret-0123', account: 't-7Hk2' });
const now = new Date('2025-06-01T02:30:05Z');
const timestamp = Math.floor(now.getTime() / 1000);

describe('simulator callbacks', () => {
  it.each(['receipts', 'replies'])('parses the documented %s callback', (name) => {
    expect(simulatorCallback.safeParse(JSON.parse(providerFixture('simulator', name))).success).toBe(true);
  });

  it('verifies a callback signed with the account secret', () => {
    const body = providerFixture('simulator', 'receipts');
    const signature = signSimulatorCallback({ secret, timestamp, body });

    expect(verifySimulatorCallback({ secret, timestamp: String(timestamp), signature, body, now })).toEqual({
      ok: true,
      timestamp,
    });
  });

  it('refuses a changed body, another account, a stale or unsigned callback', () => {
    const body = providerFixture('simulator', 'receipts');
    const signature = signSimulatorCallback({ secret, timestamp, body });
    const other = simulatorAccountSecret({
      callbackSecret: 'local-callback-secret-0123',
      account: 't-other',
    });
    const check = (overrides: Partial<Parameters<typeof verifySimulatorCallback>[0]>) =>
      verifySimulatorCallback({ secret, timestamp: String(timestamp), signature, body, now, ...overrides });

    expect(check({ body: body.replace('delivered', 'failed') })).toEqual({ ok: false, reason: 'forged' });
    expect(check({ secret: other })).toEqual({ ok: false, reason: 'forged' });
    expect(check({ now: new Date(now.getTime() + 301_000) })).toEqual({ ok: false, reason: 'stale' });
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: 'unsigned' });
    expect(check({ timestamp: '12:00' })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('gives every account its own secret from the one callback secret', () => {
    const a = simulatorAccountSecret({ callbackSecret: 'local-callback-secret-0123', account: 'a' });
    const b = simulatorAccountSecret({ callbackSecret: 'local-callback-secret-0123', account: 'b' });

    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});
