import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createLogger, type ProviderSimulator, startProviderSimulator } from '@qunfa/local';
import {
  createSimulatorProvider,
  type SendOutcome,
  type SimulatorCallback,
  type SmsMessage,
  simulatorAccountSecret,
  simulatorCallback,
  simulatorCallbackHeaders,
  verifySimulatorCallback,
} from '@qunfa/providers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';

// The SMS provider simulator, spoken to over HTTP by the simulator adapter as the sender will
// speak to it, with a local HTTP server standing in for the API's callback endpoint.

const callbackSecret = 'test-callback-secret-0123456789';
const logLines: string[] = [];

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** How the receiver answers the n-th request (0-based); 200 unless told. */
  answer: (index: number, path: string) => { status: number; headers?: Record<string, string> };
  stop(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Omit<Receiver, 'url' | 'stop'> = { received, answer: () => ({ status: 200 }) };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const index = received.length;
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const { status, headers = {} } = receiver.answer(index, path);
      response.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

const json = z.looseObject({});
async function call(
  simulator: ProviderSimulator,
  path: string,
  {
    method = 'GET',
    body,
    headers = {},
  }: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${simulator.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** Every callback received so far, parsed and checked against its signature. */
function callbacksOf(receiver: Receiver): { path: string; callback: SimulatorCallback; verified: boolean }[] {
  return receiver.received.map(({ path, headers, body }) => {
    const callback = simulatorCallback.parse(JSON.parse(body));
    const timestamp = headers[simulatorCallbackHeaders.timestamp];
    const signature = headers[simulatorCallbackHeaders.signature];
    const verification = verifySimulatorCallback({
      secret: simulatorAccountSecret({ callbackSecret, account: callback.account }),
      timestamp: typeof timestamp === 'string' ? timestamp : undefined,
      signature: typeof signature === 'string' ? signature : undefined,
      body,
      now: new Date(),
    });
    return { path, callback, verified: verification.ok };
  });
}

function receiptsOf(receiver: Receiver) {
  return callbacksOf(receiver).flatMap(({ callback }) =>
    callback.type === 'receipts' ? callback.receipts : [],
  );
}

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const text = (i: number, overrides: Partial<SmsMessage> = {}): SmsMessage => ({
  reference: `run-1:m-${i}`,
  phone: `+86138${String(i).padStart(8, '0')}`,
  text: `【好又多】会员 ${i}，积分即将到期。回T退订`,
  ...overrides,
});

const count = (outcomes: readonly SendOutcome[], outcome: SendOutcome['outcome']): number =>
  outcomes.filter((o) => o.outcome === outcome).length;

/** Sends one message at a time, in order, so a seed gives the same sequence every run. */
async function sendEach(
  provider: ReturnType<typeof createSimulatorProvider>,
  messages: SmsMessage[],
): Promise<SendOutcome[]> {
  const outcomes: SendOutcome[] = [];
  for (const message of messages) outcomes.push(...(await provider.send([message])));
  return outcomes;
}

let simulator: ProviderSimulator;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  simulator = await startProviderSimulator({
    port: 0,
    config: {
      seed: 42,
      rateLimit: { partsPerSecond: null },
      receipts: { delayMs: 0 },
      callbacks: { url: `${receiver.url}/callbacks/simulator/{account}`, secret: callbackSecret },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Aliyun's template placeholders.
      templates: { SMS_154950909: '亲爱的${name}，您的积分${points}分将于月底到期。' },
    },
    logger: createLogger({ component: 'simulator', level: 'DEBUG', write: (line) => logLines.push(line) }),
  });
});
afterAll(async () => {
  await simulator.stop();
  await receiver.stop();
});
afterEach(async () => {
  await simulator.flushReceipts();
  simulator.reset();
  simulator.configure({
    seed: 42,
    failureRate: 0,
    timeoutRate: 0,
    latencyMs: 0,
    rateLimit: { partsPerSecond: null },
    numbers: { invalid: [], unreachable: [], expired: [], partFailure: [] },
    receipts: {
      enabled: true,
      delayMs: 0,
      jitterMs: 0,
      duplicateRate: 0,
      outOfOrder: false,
      attempts: 3,
      retryDelayMs: 500,
    },
    maxMessages: 200_000,
  });
  receiver.received.length = 0;
  receiver.answer = () => ({ status: 200 });
});

describe('ProviderSimulator', () => {
  describe('POST /v1/messages', () => {
    it('accepts a valid message with 202, a message id and its part count', async () => {
      const { status, json: answer } = await call(simulator, '/v1/messages', {
        method: 'POST',
        body: { to: '+8613812345678', text: 'Hello from qunfa', reference: 'run-1:m-1' },
      });

      expect(status).toBe(202);
      expect(answer).toEqual({ messageId: expect.stringMatching(/^sim-/), parts: 1, reference: 'run-1:m-1' });
    });

    it('keeps what it received, readable by id', async () => {
      const { json: answer } = await call(simulator, '/v1/messages', {
        method: 'POST',
        body: { to: '+14155550123', text: 'Your points expire soon', reference: 'r-2' },
        headers: { 'x-simulator-account': 't-1' },
      });
      const { messageId } = z.object({ messageId: z.string() }).parse(answer);

      const { status, json: message } = await call(simulator, `/v1/messages/${messageId}`);

      expect(status).toBe(200);
      expect(message).toEqual({
        messageId,
        account: 't-1',
        to: '+14155550123',
        text: 'Your points expire soon',
        reference: 'r-2',
        parts: 1,
        encoding: 'gsm7',
        acceptedAt: expect.any(String),
        fate: 'delivered',
      });
    });

    it('counts parts as providers bill them: GSM-7 160/153, UCS-2 70/67', async () => {
      const parts = async (body: string): Promise<unknown> =>
        (
          await call(simulator, '/v1/messages', {
            method: 'POST',
            body: { to: '+8613812345678', text: body },
          })
        ).json;

      await expect(parts('a'.repeat(160))).resolves.toMatchObject({ parts: 1 });
      await expect(parts('a'.repeat(161))).resolves.toMatchObject({ parts: 2 });
      await expect(parts('会'.repeat(70))).resolves.toMatchObject({ parts: 1 });
      await expect(parts('会'.repeat(140))).resolves.toMatchObject({ parts: 3 });
    });

    it('rejects an invalid message with 400 and the path and reason of every problem', async () => {
      const { status, json: answer } = await call(simulator, '/v1/messages', {
        method: 'POST',
        body: { to: '13812345678', text: '', reference: 7 },
      });

      expect(status).toBe(400);
      expect(answer).toEqual({
        code: 'invalid_request',
        message: 'The request is not valid.',
        problems: expect.arrayContaining([
          { path: 'body.to', message: 'an E.164 number: + and 8 to 15 digits' },
          { path: 'body.text', message: 'must not be empty' },
          { path: 'body.reference', message: expect.any(String) },
        ]),
      });
      expect(simulator.counts().total).toBe(0);
    });

    it('rejects a body that is not JSON', async () => {
      const { status, json: answer } = await call(simulator, '/v1/messages', {
        method: 'POST',
        body: '{"to":',
      });

      expect(status).toBe(400);
      expect(answer).toMatchObject({ code: 'invalid_json' });
    });

    it('answers 404 for a message it never received', async () => {
      expect((await call(simulator, '/v1/messages/sim-unknown')).status).toBe(404);
    });
  });

  describe('templates', () => {
    it('renders a registered template with its 【signature】 and records it', async () => {
      const provider = createSimulatorProvider({ baseUrl: simulator.url, account: 't-1' });

      const [outcome] = await provider.send([
        {
          reference: 'run-1:m-1',
          phone: '+8613812345678',
          signature: '好又多',
          template: {
            code: 'SMS_154950909',
            params: [
              { name: 'name', value: '王小明' },
              { name: 'points', value: '1200' },
            ],
          },
        },
      ]);

      expect(outcome).toMatchObject({ outcome: 'accepted', parts: 1 });
      expect(simulator.messages({ phone: '+8613812345678' })[0]?.text).toBe(
        '【好又多】亲爱的王小明，您的积分1200分将于月底到期。',
      );
    });

    it('refuses a template code it does not know: permanent, for the whole account', async () => {
      const provider = createSimulatorProvider({ baseUrl: simulator.url });

      const [outcome] = await provider.send([
        {
          reference: 'r',
          phone: '+8613812345678',
          signature: '好又多',
          template: { code: 'SMS_0', params: [] },
        },
      ]);

      expect(outcome).toMatchObject({ outcome: 'permanent', code: 'template_not_found', scope: 'account' });
    });
  });

  describe('batches', () => {
    it('answers every message of a batch, refusing only the invalid number', async () => {
      simulator.configure({ numbers: { invalid: ['+8613800000002'] } });
      const provider = createSimulatorProvider({ baseUrl: simulator.url, account: 't-1' });

      const outcomes = await provider.send([text(1), text(2), text(3)]);

      expect(outcomes).toEqual([
        expect.objectContaining({ reference: 'run-1:m-1', outcome: 'accepted' }),
        expect.objectContaining({
          reference: 'run-1:m-2',
          outcome: 'permanent',
          code: 'invalid_number',
          scope: 'message',
        }),
        expect.objectContaining({ reference: 'run-1:m-3', outcome: 'accepted' }),
      ]);
      expect(simulator.counts()).toMatchObject({ total: 2, phones: 2 });
    });

    it('takes 1,000 identical messages in one call but only 100 personalized', async () => {
      const same = Array.from({ length: 1_000 }, (_, i) => ({
        to: `+86139${String(i).padStart(8, '0')}`,
        text: 'same',
      }));
      const different = same.slice(0, 101).map((message, i) => ({ ...message, text: `for ${i}` }));

      const identical = await call(simulator, '/v1/messages/batch', {
        method: 'POST',
        body: { messages: same },
      });
      const personalized = await call(simulator, '/v1/messages/batch', {
        method: 'POST',
        body: { messages: different },
      });

      expect(identical.status).toBe(200);
      expect(simulator.counts().total).toBe(1_000);
      expect(personalized).toMatchObject({ status: 400, json: { code: 'batch_too_large' } });
    });
  });

  describe('rate limit', () => {
    let frozen: ProviderSimulator;
    beforeAll(async () => {
      // The clock stands still: the bucket never refills, so the counts are exact.
      const at = new Date('2025-06-01T02:00:00Z');
      frozen = await startProviderSimulator({
        config: { seed: 1, rateLimit: { partsPerSecond: 10, burstParts: 10 }, receipts: { enabled: false } },
        now: () => at,
        logger: createLogger({ component: 'simulator', level: 'SILENT' }),
      });
    });
    afterAll(() => frozen.stop());

    it('throttles every send above the limit, and sends nothing for a throttled call', async () => {
      const provider = createSimulatorProvider({ baseUrl: frozen.url });
      const messages = Array.from({ length: 30 }, (_, i) => text(i, { text: 'short' }));

      const outcomes = (await Promise.all(messages.map((message) => provider.send([message])))).flat();

      expect(count(outcomes, 'accepted')).toBe(10);
      expect(count(outcomes, 'throttled')).toBe(20);
      expect(outcomes.find((o) => o.outcome === 'throttled')).toMatchObject({
        code: 'throttled',
        scope: 'account',
        retryAfterMs: expect.any(Number),
      });
      expect(frozen.counts().total).toBe(10);
    });

    it('counts parts, not messages: a 3-part message takes 3 of the limit', async () => {
      frozen.reset();
      frozen.configure({ rateLimit: { partsPerSecond: 9, burstParts: 9 } });
      const provider = createSimulatorProvider({ baseUrl: frozen.url });
      const long = Array.from({ length: 4 }, (_, i) => text(i, { text: '会'.repeat(140) }));

      const outcomes = await sendEach(provider, long);

      expect(outcomes.map((o) => o.outcome)).toEqual(['accepted', 'accepted', 'accepted', 'throttled']);
    });

    it('lifts the limit at runtime through PUT /admin/config', async () => {
      const { status } = await call(frozen, '/admin/config', {
        method: 'PUT',
        body: { rateLimit: { partsPerSecond: null } },
      });
      const provider = createSimulatorProvider({ baseUrl: frozen.url });

      const outcomes = await sendEach(provider, [text(1), text(2), text(3)]);

      expect(status).toBe(200);
      expect(count(outcomes, 'accepted')).toBe(3);
    });
  });

  describe('failures and timeouts', () => {
    it('fails about the configured share of sends, retryable, with nothing recorded for them', async () => {
      simulator.configure({ failureRate: 0.25, seed: 7 });
      const provider = createSimulatorProvider({ baseUrl: simulator.url });

      const outcomes = await sendEach(
        provider,
        Array.from({ length: 400 }, (_, i) => text(i)),
      );

      const failed = count(outcomes, 'retryable');
      expect(failed / 400).toBeGreaterThan(0.18);
      expect(failed / 400).toBeLessThan(0.32);
      expect(outcomes.find((o) => o.outcome === 'retryable')).toMatchObject({ code: 'unavailable' });
      expect(simulator.counts().total).toBe(400 - failed);
    });

    it('fails the same sends again with the same seed', async () => {
      const provider = createSimulatorProvider({ baseUrl: simulator.url });
      const messages = Array.from({ length: 50 }, (_, i) => text(i));
      simulator.configure({ failureRate: 0.3, seed: 99 });
      const first = (await sendEach(provider, messages)).map((o) => o.outcome);
      simulator.reset();

      simulator.configure({ seed: 99 });
      const second = (await sendEach(provider, messages)).map((o) => o.outcome);

      expect(second).toEqual(first);
      expect(first).toContain('retryable');
    });

    it('accepts but never answers in time about the configured share: the client sees ambiguous', async () => {
      simulator.configure({ timeoutRate: 0.2, hangMs: 5_000, seed: 3 });
      const provider = createSimulatorProvider({ baseUrl: simulator.url, timeoutMs: 150 });

      const outcomes = await sendEach(
        provider,
        Array.from({ length: 60 }, (_, i) => text(i)),
      );

      const ambiguous = count(outcomes, 'ambiguous');
      expect(ambiguous).toBeGreaterThanOrEqual(5);
      expect(ambiguous).toBeLessThanOrEqual(20);
      expect(outcomes.find((o) => o.outcome === 'ambiguous')).toMatchObject({ code: 'timeout' });
      // The simulator's record is the truth: every "ambiguous" message was in fact sent.
      expect(simulator.counts().total).toBe(60);
    });

    it('answers after the configured latency, and a client that gave up earlier still had it sent', async () => {
      simulator.configure({ latencyMs: 150 });
      const provider = createSimulatorProvider({ baseUrl: simulator.url, timeoutMs: 100 });

      const [outcome] = await provider.send([text(1)]);

      expect(outcome).toMatchObject({ outcome: 'ambiguous' });
      await waitFor(() => simulator.counts().total === 1);
    });

    it('counts how it answered its calls on GET /admin/calls, until reset', async () => {
      simulator.configure({ failureRate: 0.3, timeoutRate: 0.2, hangMs: 5_000, seed: 5 });
      const provider = createSimulatorProvider({ baseUrl: simulator.url, timeoutMs: 150 });
      const outcomes = await sendEach(
        provider,
        Array.from({ length: 40 }, (_, i) => text(i)),
      );
      simulator.configure({ failureRate: 0, rateLimit: { partsPerSecond: 1, burstParts: 1 } });
      const throttled = await sendEach(provider, [text(40), text(41)]);

      const { status, json: calls } = await call(simulator, '/admin/calls');

      expect(status).toBe(200);
      expect(calls).toEqual({
        calls: 42,
        unavailable: count(outcomes, 'retryable'),
        throttled: count(throttled, 'throttled'),
        held: count([...outcomes, ...throttled], 'ambiguous'),
        rejected: 0,
      });
      expect(count(throttled, 'throttled')).toBe(1);
      simulator.reset();
      expect(simulator.calls()).toEqual({ calls: 0, unavailable: 0, throttled: 0, held: 0, rejected: 0 });
    });

    it('is retryable when nothing listens: the request never left', async () => {
      const closed = await startReceiver();
      await closed.stop();
      const provider = createSimulatorProvider({ baseUrl: closed.url });

      const [outcome] = await provider.send([text(1)]);

      expect(outcome).toMatchObject({ outcome: 'retryable', code: 'econnrefused' });
    });
  });

  describe('the record of what each phone received', () => {
    it('counts per phone and lists the messages of one phone', async () => {
      const provider = createSimulatorProvider({ baseUrl: simulator.url });
      await sendEach(provider, [text(1), text(2), text(1, { reference: 'run-2:m-1' })]);

      const forOne = await call(simulator, '/admin/messages?phone=%2B8613800000001');
      const counts = await call(simulator, '/admin/messages/counts');

      expect(forOne.json).toMatchObject({
        count: 2,
        messages: [{ reference: 'run-1:m-1' }, { reference: 'run-2:m-1' }],
      });
      expect(counts.json).toEqual({
        total: 3,
        phones: 2,
        byPhone: { '+8613800000001': 2, '+8613800000002': 1 },
        duplicateReferences: [],
      });
    });

    it('names a reference sent twice: a duplicate send', async () => {
      const provider = createSimulatorProvider({ baseUrl: simulator.url });

      await sendEach(provider, [text(1), text(1)]);

      expect(simulator.counts().duplicateReferences).toEqual(['run-1:m-1']);
    });

    it('keeps counting beyond the records it keeps in full', async () => {
      simulator.configure({ maxMessages: 3 });
      const provider = createSimulatorProvider({ baseUrl: simulator.url });

      await sendEach(
        provider,
        Array.from({ length: 5 }, (_, i) => text(1, { reference: `r-${i}`, text: `m${i}` })),
      );

      expect(simulator.messages().map((m) => m.text)).toEqual(['m2', 'm3', 'm4']);
      expect(simulator.counts().byPhone).toEqual({ '+8613800000001': 5 });
      expect((await call(simulator, '/admin/messages?phone=%2B8613800000001')).json).toMatchObject({
        count: 5,
      });
    });

    it('forgets everything on DELETE /admin/messages', async () => {
      await createSimulatorProvider({ baseUrl: simulator.url }).send([text(1)]);

      const { status } = await call(simulator, '/admin/messages', { method: 'DELETE' });

      expect(status).toBe(204);
      expect(simulator.counts()).toMatchObject({ total: 0, phones: 0 });
    });
  });

  describe('delivery receipts', () => {
    it('POSTs signed receipts to the account callback URL after the configured delay', async () => {
      simulator.configure({ receipts: { delayMs: 300 } });
      const provider = createSimulatorProvider({ baseUrl: simulator.url, account: 't-7Hk2' });

      const [outcome] = await provider.send([text(1)]);
      const sentAt = Date.now();
      await waitFor(() => receiver.received.length > 0);

      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(250);
      const [delivered] = callbacksOf(receiver);
      expect(delivered).toMatchObject({ path: '/callbacks/simulator/t-7Hk2', verified: true });
      expect(delivered?.callback).toMatchObject({
        type: 'receipts',
        account: 't-7Hk2',
        receipts: [
          {
            messageId: outcome?.outcome === 'accepted' ? outcome.providerMessageId : 'none',
            reference: 'run-1:m-1',
            phone: '+8613800000001',
            status: 'delivered',
            code: 'DELIVRD',
            part: 1,
            parts: 1,
          },
        ],
      });
    });

    it('signs each account with its own secret', async () => {
      const provider = createSimulatorProvider({ baseUrl: simulator.url, account: 'other' });
      await provider.send([text(1)]);
      await simulator.flushReceipts();

      const [received] = receiver.received;
      const signature = received?.headers[simulatorCallbackHeaders.signature];
      const timestamp = received?.headers[simulatorCallbackHeaders.timestamp];

      expect(
        verifySimulatorCallback({
          secret: simulatorAccountSecret({ callbackSecret, account: 't-7Hk2' }),
          timestamp: typeof timestamp === 'string' ? timestamp : undefined,
          signature: typeof signature === 'string' ? signature : undefined,
          body: received?.body ?? '',
          now: new Date(),
        }),
      ).toEqual({ ok: false, reason: 'forged' });
      expect(callbacksOf(receiver)[0]?.verified).toBe(true);
    });

    it('reports per part, and fails unreachable, expiring and part-failing numbers', async () => {
      simulator.configure({
        numbers: {
          unreachable: ['+8613800000002'],
          expired: ['+8613800000003'],
          partFailure: ['+8613800000004'],
        },
      });
      const provider = createSimulatorProvider({ baseUrl: simulator.url });
      const long = '会'.repeat(140);

      await sendEach(
        provider,
        [1, 2, 3, 4].map((i) => text(i, { text: long })),
      );
      await simulator.flushReceipts();

      const byPhone = (phone: string) =>
        receiptsOf(receiver)
          .filter((r) => r.phone === phone)
          .sort((a, b) => a.part - b.part)
          .map((r) => `${r.part}/${r.parts} ${r.status}`);
      expect(byPhone('+8613800000001')).toEqual(['1/3 delivered', '2/3 delivered', '3/3 delivered']);
      expect(byPhone('+8613800000002')).toEqual(['1/3 failed', '2/3 failed', '3/3 failed']);
      expect(byPhone('+8613800000003')).toEqual(['1/3 expired', '2/3 expired', '3/3 expired']);
      expect(byPhone('+8613800000004')).toEqual(['1/3 delivered', '2/3 delivered', '3/3 failed']);
    });

    it('sends receipts twice when configured, with the same receiptId', async () => {
      simulator.configure({ receipts: { duplicateRate: 1 } });
      const provider = createSimulatorProvider({ baseUrl: simulator.url });

      await sendEach(provider, [text(1), text(2)]);
      await simulator.flushReceipts();

      const ids = receiptsOf(receiver).map((r) => r.receiptId);
      expect(ids).toHaveLength(4);
      expect(new Set(ids).size).toBe(2);
    });

    it('sends receipts out of order when configured', async () => {
      simulator.configure({ receipts: { outOfOrder: true, delayMs: 20, jitterMs: 20 }, seed: 5 });
      const provider = createSimulatorProvider({ baseUrl: simulator.url });

      await sendEach(
        provider,
        Array.from({ length: 10 }, (_, i) => text(i, { text: '会'.repeat(140) })),
      );
      await simulator.flushReceipts();

      const order = receiptsOf(receiver).map((r) => `${r.phone}#${r.part}`);
      const sorted = [...order].sort();
      expect(order).toHaveLength(30);
      expect(order).not.toEqual(sorted);
      expect([...order].sort()).toEqual(sorted);
    });

    it('tries a callback again on a 5xx with a fresh callbackId, and gives up on a 4xx', async () => {
      simulator.configure({ receipts: { retryDelayMs: 10 } });
      receiver.answer = (index) => ({ status: index === 0 ? 503 : 200 });
      const provider = createSimulatorProvider({ baseUrl: simulator.url });
      await provider.send([text(1)]);
      await simulator.flushReceipts();

      const ids = callbacksOf(receiver).map(({ callback }) => callback.callbackId);
      expect(ids).toHaveLength(2);
      expect(new Set(ids).size).toBe(2);
      expect(simulator.callbackStats()).toMatchObject({ receiptsDelivered: 1, callbacksDelivered: 1 });

      receiver.received.length = 0;
      receiver.answer = () => ({ status: 401 });
      await provider.send([text(2)]);
      const stats = await simulator.flushReceipts();

      expect(receiver.received).toHaveLength(1);
      expect(stats).toMatchObject({ callbacksRefused: 1, receiptsLost: 1 });
    });
  });

  describe('replies and clicks', () => {
    it('sends a signed inbound reply, naming the last message to that phone', async () => {
      const provider = createSimulatorProvider({ baseUrl: simulator.url, account: 't-7Hk2' });
      const [sent] = await provider.send([text(1)]);
      await simulator.flushReceipts();
      receiver.received.length = 0;

      const { status, json: answer } = await call(simulator, '/admin/replies', {
        method: 'POST',
        body: { phone: '+8613800000001', text: '退订' },
      });

      expect(status).toBe(200);
      expect(answer).toMatchObject({ status: 'delivered', httpStatus: 200, attempts: 1 });
      const [reply] = callbacksOf(receiver);
      expect(reply).toMatchObject({ path: '/callbacks/simulator/t-7Hk2', verified: true });
      expect(reply?.callback).toMatchObject({
        type: 'replies',
        replies: [
          {
            phone: '+8613800000001',
            text: '退订',
            reference: 'run-1:m-1',
            inReplyTo: sent?.outcome === 'accepted' ? sent.providerMessageId : 'none',
          },
        ],
      });
    });

    it('taps the link of a message like a handset and reports where it led', async () => {
      receiver.answer = (_index, path) =>
        path.startsWith('/l/')
          ? { status: 302, headers: { location: 'https://shop.example.com/sale' } }
          : { status: 200 };
      const provider = createSimulatorProvider({ baseUrl: simulator.url });
      const [sent] = await provider.send([
        text(1, { text: `【好又多】周末特卖 ${receiver.url}/l/Ab3xYz9 回T退订` }),
      ]);
      const messageId = sent?.outcome === 'accepted' ? sent.providerMessageId : 'none';

      const { status, json: answer } = await call(simulator, '/admin/clicks', {
        method: 'POST',
        body: { messageId },
      });

      expect(status).toBe(200);
      expect(answer).toEqual({
        url: `${receiver.url}/l/Ab3xYz9`,
        status: 302,
        location: 'https://shop.example.com/sale',
        messageId,
      });
      const tap = receiver.received.find((r) => r.path === '/l/Ab3xYz9');
      expect(tap?.headers['user-agent']).toMatch(/iPhone/);
    });
  });

  describe('GET and PUT /admin/config', () => {
    it('changes only what the patch names', async () => {
      const { status, json: config } = await call(simulator, '/admin/config', {
        method: 'PUT',
        body: { failureRate: 0.1, receipts: { duplicateRate: 0.5 } },
      });

      expect(status).toBe(200);
      expect(config).toMatchObject({
        failureRate: 0.1,
        receipts: { duplicateRate: 0.5, enabled: true, delayMs: 0 },
        callbacks: { url: `${receiver.url}/callbacks/simulator/{account}` },
      });
      expect(json.parse((await call(simulator, '/admin/config')).json)).toMatchObject({ failureRate: 0.1 });
    });

    it('refuses an invalid patch with the path of every problem and changes nothing', async () => {
      const { status, json: answer } = await call(simulator, '/admin/config', {
        method: 'PUT',
        body: { failureRate: 2, numbers: { invalid: ['138'] }, bogus: true },
      });

      expect(status).toBe(400);
      expect(answer).toMatchObject({
        code: 'invalid_request',
        problems: expect.arrayContaining([
          expect.objectContaining({ path: 'body.failureRate' }),
          expect.objectContaining({ path: 'body.numbers.invalid.0' }),
          expect.objectContaining({ path: 'body' }),
        ]),
      });
      expect(simulator.config().failureRate).toBe(0);
    });
  });

  it('answers GET /health', async () => {
    const { status, json: answer } = await call(simulator, '/health');

    expect(status).toBe(200);
    expect(answer).toMatchObject({ ok: true, messages: 0, pendingReceipts: 0 });
  });

  it('never logs a whole phone number', async () => {
    await createSimulatorProvider({ baseUrl: simulator.url }).send([text(1, { phone: '+8613812345678' })]);
    const log = logLines.join('\n');

    expect(log).toContain('5678');
    expect(log).not.toContain('13812345678');
  });
});
