import { createCallbackHandler } from '@qunfa/api';
import { createLogger } from '@qunfa/aws';
import { type CallbackBatchMessage, type SmsProviderId, tenantSettings } from '@qunfa/domain';
import {
  type CallbackIntakeDeps,
  type CallbackReplayGuard,
  signSimulatorCallback,
  simulatorAccountSecret,
  twilioSignature,
} from '@qunfa/providers';
import { beforeEach, describe, expect, it } from 'vitest';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryTenantStore } from '../../support/fakes/memory-tenant-store';
import { callbackFixture } from './support';

// The callback endpoint (functions/callbacks) over in-memory ports: what it answers each
// provider, and that a refused callback (unsigned, forged, stale, replayed, unknown account,
// a bad item, too large) enqueues nothing.

const tenantId = 'acme-tea';
/** The simulator's documented callbacks, for this tenant's account. */
const simulatorFixture = (name: string): string =>
  callbackFixture('simulator', name).replace('t-7Hk2', tenantId);
const callbackSecret = 'local-callback-secret-0123';
const accountSecret = simulatorAccountSecret({ callbackSecret, account: tenantId });
const aliyunToken = 'aliyun-url-token-0123456789';
const twilioToken = 'twilio-auth-token-0123456789';
const now = new Date('2025-06-01T02:30:06Z');

class MemoryReplayGuard implements CallbackReplayGuard {
  readonly seen = new Set<string>();
  async claim({
    tenantId,
    provider,
    callbackId,
  }: Parameters<CallbackReplayGuard['claim']>[0]): Promise<boolean> {
    const key = `${tenantId}/${provider}/${callbackId}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
  async release({
    tenantId,
    provider,
    callbackId,
  }: Parameters<CallbackReplayGuard['release']>[0]): Promise<void> {
    this.seen.delete(`${tenantId}/${provider}/${callbackId}`);
  }
}

let enqueued: CallbackBatchMessage[];
let failEnqueue: boolean;
let handler: ReturnType<typeof createCallbackHandler>;

beforeEach(async () => {
  enqueued = [];
  failEnqueue = false;
  const tenants = new MemoryTenantStore();
  await tenants.createTenant({
    tenantId,
    createdAt: now.toISOString(),
    ...tenantSettings.parse({ name: 'Acme Tea' }),
  });
  const secrets: Record<string, string> = {
    simulator: accountSecret,
    aliyun: aliyunToken,
    tencent: aliyunToken,
    twilio: twilioToken,
  };
  const deps: CallbackIntakeDeps = {
    tenants,
    secrets: { secretFor: async ({ provider }: { provider: SmsProviderId }) => secrets[provider] },
    replays: new MemoryReplayGuard(),
    enqueue: async (message) => {
      if (failEnqueue) throw new Error('SQS is unavailable');
      enqueued.push(message);
    },
    now: () => now,
  };
  handler = createCallbackHandler({ deps, logger: createLogger({ service: 'test', level: 'SILENT' }) });
});

function simulatorPost({
  body = simulatorFixture('receipts'),
  account = tenantId,
  signedAt = new Date('2025-06-01T02:30:05Z'),
  secret = accountSecret,
  signature,
}: {
  body?: string;
  account?: string;
  signedAt?: Date;
  secret?: string;
  signature?: string | null;
} = {}) {
  const timestamp = Math.floor(signedAt.getTime() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-simulator-timestamp': String(timestamp),
  };
  if (signature !== null)
    headers['x-simulator-signature'] = signature ?? signSimulatorCallback({ secret, timestamp, body });
  return handler(
    httpEvent({ method: 'POST', path: `/callbacks/simulator/${account}`, headers, body }),
    lambdaContext(),
  );
}

const bodyOf = (result: { body?: string | undefined }): Record<string, unknown> =>
  JSON.parse(result.body ?? '{}');

describe('the callback endpoint', () => {
  describe('simulator', () => {
    it('enqueues one callback.batch for a signed callback and answers 2xx', async () => {
      const result = await simulatorPost();

      expect(result.statusCode).toBe(200);
      expect(enqueued).toHaveLength(1);
      expect(enqueued[0]).toMatchObject({
        type: 'callback.batch',
        tenantId,
        provider: 'simulator',
        account: tenantId,
        callbackId: 'cb-4f1d2c3b-8a9e-4b7c-9d0e-1f2a3b4c5d6e',
        receivedAt: now.toISOString(),
        events: [
          {
            kind: 'receipt',
            status: 'delivered',
            part: 1,
            parts: 2,
            receiptId: 'sim-0b6f1c2e-5d4a-4e3b-9c8d-7a6b5c4d3e2f#1',
          },
          { kind: 'receipt', status: 'failed', reason: 'unreachable', code: 'UNDELIV', part: 2 },
        ],
      });
    });

    it('reads replies to the same URL', async () => {
      const result = await simulatorPost({ body: simulatorFixture('replies') });

      expect(result.statusCode).toBe(200);
      expect(enqueued[0]?.events.every((event) => event.kind === 'reply')).toBe(true);
    });

    it.each([
      ['unsigned', { signature: null }],
      [
        'forged',
        { secret: simulatorAccountSecret({ callbackSecret: 'another-secret-0123456', account: tenantId }) },
      ],
      [
        'signed for another body',
        { signature: signSimulatorCallback({ secret: accountSecret, timestamp: 1748745005, body: '{}' }) },
      ],
      ['stale (over 5 minutes)', { signedAt: new Date(now.getTime() - 301_000) }],
      ['from the future (over 5 minutes)', { signedAt: new Date(now.getTime() + 301_000) }],
    ])('refuses a %s callback with 401 and enqueues nothing', async (_case, options) => {
      const result = await simulatorPost(options);

      expect(result.statusCode).toBe(401);
      expect(bodyOf(result).code).toBe('unauthorized');
      expect(enqueued).toEqual([]);
    });

    it('refuses a replay of the same signed bytes with 401, once the first was accepted', async () => {
      const first = await simulatorPost();
      const replay = await simulatorPost();

      expect([first.statusCode, replay.statusCode]).toEqual([200, 401]);
      expect(bodyOf(replay).message).toMatch(/replay/);
      expect(enqueued).toHaveLength(1);
    });

    it('answers 5xx when the enqueue fails, and takes the same bytes when they come again', async () => {
      failEnqueue = true;
      const failed = await simulatorPost();
      failEnqueue = false;
      const again = await simulatorPost();

      expect([failed.statusCode, again.statusCode]).toEqual([500, 200]);
      expect(enqueued).toHaveLength(1);
    });

    it('refuses an unknown account with 404', async () => {
      const account = 't-nobody';
      const body = simulatorFixture('receipts').replace(tenantId, account);
      const result = await simulatorPost({
        account,
        body,
        secret: simulatorAccountSecret({ callbackSecret, account }),
      });

      expect(result.statusCode).toBe(404);
      expect(enqueued).toEqual([]);
    });

    it('refuses the whole batch with 400 when one receipt is bad, naming it', async () => {
      const callback = JSON.parse(simulatorFixture('receipts'));
      callback.receipts[1].status = 'lost';
      const result = await simulatorPost({ body: JSON.stringify(callback) });

      expect(result.statusCode).toBe(400);
      expect(bodyOf(result).problems).toEqual([expect.objectContaining({ path: 'body.receipts.1.status' })]);
      expect(enqueued).toEqual([]);
    });

    it('refuses a body signed for another account than the URL', async () => {
      const body = simulatorFixture('receipts').replace(tenantId, 't-other');
      const result = await simulatorPost({ body });

      expect(result.statusCode).toBe(400);
      expect(enqueued).toEqual([]);
    });

    it('refuses a body over 256 KB with 413', async () => {
      const callback = JSON.parse(simulatorFixture('receipts'));
      callback.padding = 'x'.repeat(256 * 1024);
      const result = await simulatorPost({ body: JSON.stringify(callback) });

      expect(result.statusCode).toBe(413);
      expect(enqueued).toEqual([]);
    });
  });

  describe('Aliyun', () => {
    it('answers {"code":0} and enqueues the SmsReport', async () => {
      const result = await handler(
        httpEvent({
          method: 'POST',
          path: `/callbacks/aliyun/${tenantId}/receipts?token=${aliyunToken}`,
          headers: { 'content-type': 'application/json;charset=utf-8' },
          body: callbackFixture('aliyun', 'sms-report'),
        }),
        lambdaContext(),
      );

      expect([result.statusCode, bodyOf(result)]).toEqual([200, { code: 0, msg: '成功' }]);
      expect(enqueued[0]?.events).toHaveLength(2);
    });

    it('refuses a push without the token with 401', async () => {
      const result = await handler(
        httpEvent({
          method: 'POST',
          path: `/callbacks/aliyun/${tenantId}/replies`,
          body: callbackFixture('aliyun', 'sms-up'),
          headers: { 'content-type': 'application/json' },
        }),
        lambdaContext(),
      );

      expect(result.statusCode).toBe(401);
      expect(enqueued).toEqual([]);
    });

    it('has no bare callback path (Aliyun takes receipts and replies at their own URLs)', async () => {
      const result = await handler(
        httpEvent({ method: 'POST', path: `/callbacks/aliyun/${tenantId}?token=${aliyunToken}`, body: '[]' }),
        lambdaContext(),
      );

      expect(result.statusCode).toBe(404);
    });
  });

  describe('Tencent Cloud', () => {
    it('answers {"result":0,"errmsg":"OK"} for a reply', async () => {
      const result = await handler(
        httpEvent({
          method: 'POST',
          path: `/callbacks/tencent/${tenantId}/replies?token=${aliyunToken}`,
          headers: { 'content-type': 'application/json' },
          body: callbackFixture('tencent', 'reply-callback'),
        }),
        lambdaContext(),
      );

      expect([result.statusCode, bodyOf(result)]).toEqual([200, { result: 0, errmsg: 'OK' }]);
      expect(enqueued[0]?.events[0]).toMatchObject({ kind: 'reply', text: 'TD' });
    });
  });

  describe('Twilio', () => {
    const host = 'api.example.com';
    const post = (path: string, params: Record<string, string>, signedUrl = `https://${host}${path}`) => {
      const form = new URLSearchParams(params);
      return handler(
        httpEvent({
          method: 'POST',
          path,
          headers: {
            host,
            'x-forwarded-proto': 'https',
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': twilioSignature({ authToken: twilioToken, url: signedUrl, params: form }),
          },
          body: form.toString(),
        }),
        lambdaContext(),
      );
    };
    const inbound = JSON.parse(callbackFixture('twilio', 'incoming-message'));
    const status = JSON.parse(callbackFixture('twilio', 'status-callback'));

    it('answers an incoming message with empty TwiML and enqueues the reply', async () => {
      const result = await post(`/callbacks/twilio/${tenantId}/replies`, inbound);

      expect(result.statusCode).toBe(200);
      expect(result.headers?.['content-type']).toMatch(/^text\/xml/);
      expect(enqueued[0]?.events[0]).toMatchObject({ kind: 'reply', text: 'STOP' });
    });

    it('answers a queued status 200 and enqueues nothing', async () => {
      const result = await post(`/callbacks/twilio/${tenantId}/receipts`, {
        ...status,
        MessageStatus: 'queued',
      });

      expect([result.statusCode, result.body]).toEqual([200, undefined]);
      expect(enqueued).toEqual([]);
    });

    it('refuses a status signed for another URL', async () => {
      const result = await post(
        `/callbacks/twilio/${tenantId}/receipts`,
        status,
        `https://${host}/somewhere-else`,
      );

      expect(result.statusCode).toBe(401);
      expect(enqueued).toEqual([]);
    });
  });

  describe('routing', () => {
    it('allows POST only', async () => {
      const result = await handler(
        httpEvent({ method: 'GET', path: `/callbacks/simulator/${tenantId}` }),
        lambdaContext(),
      );

      expect([result.statusCode, result.headers?.allow]).toEqual([405, 'POST']);
    });

    it('points AWS End User Messaging to SNS with 404', async () => {
      const result = await handler(
        httpEvent({ method: 'POST', path: `/callbacks/aws/${tenantId}`, body: '{}' }),
        lambdaContext(),
      );

      expect(result.statusCode).toBe(404);
      expect(bodyOf(result).message).toMatch(/SNS/);
    });

    it('answers 404 for a provider it does not know', async () => {
      const result = await handler(
        httpEvent({ method: 'POST', path: `/callbacks/nexmo/${tenantId}`, body: '{}' }),
        lambdaContext(),
      );

      expect(result.statusCode).toBe(404);
    });
  });
});
