import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { countingRules, maskPhone, measureMessage } from '@qunfa/domain';
import {
  contentKeyOfWire,
  defaultSimulatorAccount,
  e164Phone,
  type SimulatorBatchResult,
  type SimulatorReply,
  type SimulatorSendMessage,
  simulatorAccount,
  simulatorAccountHeader,
  simulatorBatchRequest,
  simulatorMaxBatch,
  simulatorSendMessage,
} from '@qunfa/providers';
import * as z from 'zod';
import { isAddressInUse, PortInUseError } from '../errors';
import { createLogger, type LocalLogger } from '../log';
import { listenOnLoopback } from '../ports';
import { type CallbackResult, type CallbackStats, createCallbackDispatcher } from './callbacks';
import {
  applyConfigPatch,
  defaultSimulatorConfig,
  type SimulatorConfig,
  type SimulatorConfigPatch,
  simulatorConfigPatch,
} from './config';
import {
  createMessageLog,
  type MessageCounts,
  type MessageFate,
  type MessageFilter,
  type SimulatedMessage,
} from './message-log';
import { seededRandom } from './random';
import { createPartsLimiter } from './rate-limiter';

// The SMS provider simulator: reached over HTTP like a real provider, so the adapter under
// test makes real requests and meets real timeouts. It throttles above its rate in parts per
// second, answers late, fails and hangs at the configured rates with seeded randomness,
// treats listed numbers as invalid, unreachable or expiring, records every message it
// accepted (what each phone really received), and sends signed receipts and replies to the
// callback URL. The wire protocol is @qunfa/providers simulator/protocol.ts; the admin
// endpoints are listed in docs/local-fidelity.md.

export interface ProviderSimulatorOptions {
  /** 0 (default): a free port. */
  readonly port?: number;
  /** Over the defaults (defaultSimulatorConfig); the seed and secret are random unless given. */
  readonly config?: SimulatorConfigPatch;
  /** Timestamps and the rate limit's clock (a test may stop time); delays use real time. */
  readonly now?: () => Date;
  /** Where callbacks are sent from (tests may observe them). */
  readonly fetch?: typeof globalThis.fetch;
  readonly logger?: LocalLogger;
}

export interface ProviderSimulatorHealth {
  readonly ok: boolean;
  /** Messages accepted since the last reset. */
  readonly messages: number;
  readonly pendingReceipts: number;
}

/**
 * How the simulator answered its send calls since the last reset (GET /admin/calls), so a
 * fault test can show that its faults happened.
 */
export interface CallCounts {
  readonly calls: number;
  /** Calls refused with 503 unavailable (failureRate): nothing was accepted. */
  readonly unavailable: number;
  /** Calls refused with 429 throttled (rateLimit): nothing was accepted. */
  readonly throttled: number;
  /** Calls whose messages were accepted but whose answer was held past the client's timeout (timeoutRate). */
  readonly held: number;
  /** Single sends refused for good (an invalid number, an unknown template). */
  readonly rejected: number;
}

export interface ReplyInput {
  readonly phone: string;
  readonly text: string;
  /** Default: the account of the last message sent to the phone, else `default`. */
  readonly account?: string;
}

export interface ProviderSimulator {
  readonly url: string;
  config(): SimulatorConfig;
  /** Applies a patch, as PUT /admin/config does; throws a ZodError for an invalid one. */
  configure(patch: SimulatorConfigPatch): SimulatorConfig;
  /** What it accepted and still keeps, oldest first. */
  messages(filter?: MessageFilter): readonly SimulatedMessage[];
  counts(): MessageCounts;
  calls(): CallCounts;
  /** Forgets every message, count and pending receipt (DELETE /admin/messages). */
  reset(): void;
  /** Sends every pending receipt now and waits for the callbacks to settle. */
  flushReceipts(): Promise<CallbackStats>;
  callbackStats(): CallbackStats;
  /** A person answers by SMS: a signed inbound-reply callback. */
  reply(input: ReplyInput): Promise<CallbackResult>;
  health(): ProviderSimulatorHealth;
  stop(): Promise<void>;
}

const maxBodyBytes = 2 * 1024 * 1024;

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

const replyRequest = z.strictObject({
  phone: e164Phone,
  text: z.string().min(1).max(1_000),
  account: simulatorAccount.exactOptional(),
});

const clickRequest = z
  .strictObject({
    messageId: z.string().min(1).exactOptional(),
    phone: e164Phone.exactOptional(),
    url: z.url({ protocol: /^https?$/ }).exactOptional(),
    userAgent: z.string().min(1).max(500).exactOptional(),
  })
  .refine((click) => click.messageId !== undefined || click.phone !== undefined || click.url !== undefined, {
    message: 'give messageId, phone or url',
  });

const messagesQuery = z.object({
  phone: e164Phone.optional(),
  reference: z.string().min(1).optional(),
  account: simulatorAccount.optional(),
  limit: z.coerce.number().int().min(1).max(100_000).optional(),
});

/** A handset's browser, for the links the simulator taps. */
const handsetUserAgent =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

export async function startProviderSimulator({
  port = 0,
  config: initial = {},
  now = () => new Date(),
  fetch = globalThis.fetch,
  logger = createLogger({ component: 'simulator' }),
}: ProviderSimulatorOptions = {}): Promise<ProviderSimulator> {
  let config = applyConfigPatch(
    defaultSimulatorConfig({ seed: randomInt(0, 2 ** 31), secret: randomBytes(24).toString('hex') }),
    simulatorConfigPatch.parse(initial),
  );
  let sendRandom = seededRandom(config.seed);
  // A second stream for receipts, so their draws never shift which sends fail.
  let receiptRandom = seededRandom(config.seed ^ 0x9e37_79b9);
  const limiter = createPartsLimiter({ ...config.rateLimit, now: () => now().getTime() });
  const log = createMessageLog({ maxMessages: config.maxMessages });
  const dispatcher = createCallbackDispatcher({
    config: () => config,
    random: () => receiptRandom(),
    now,
    fetch,
    logger,
  });
  const stopping = new AbortController();
  let listening = false;
  // The number lists as sets: a send looks each of its numbers up in all four.
  const numberSets = (from: SimulatorConfig) => ({
    invalid: new Set(from.numbers.invalid),
    unreachable: new Set(from.numbers.unreachable),
    expired: new Set(from.numbers.expired),
    partFailure: new Set(from.numbers.partFailure),
  });
  let numbers = numberSets(config);
  const emptyCalls = (): { -readonly [K in keyof CallCounts]: number } => ({
    calls: 0,
    unavailable: 0,
    throttled: 0,
    held: 0,
    rejected: 0,
  });
  let calls = emptyCalls();

  const configure = (patch: SimulatorConfigPatch): SimulatorConfig => {
    const next = applyConfigPatch(config, simulatorConfigPatch.parse(patch));
    if (patch.seed !== undefined) {
      sendRandom = seededRandom(next.seed);
      receiptRandom = seededRandom(next.seed ^ 0x9e37_79b9);
    }
    if (patch.rateLimit !== undefined) limiter.configure(next.rateLimit);
    log.setLimit(next.maxMessages);
    config = next;
    numbers = numberSets(next);
    return config;
  };

  const fateOf = (phone: string): MessageFate => {
    if (numbers.unreachable.has(phone)) return 'unreachable';
    if (numbers.expired.has(phone)) return 'expired';
    if (numbers.partFailure.has(phone)) return 'partFailure';
    return 'delivered';
  };

  type Prepared =
    | {
        readonly ok: true;
        readonly message: SimulatorSendMessage;
        readonly text: string;
        readonly parts: number;
      }
    | {
        readonly ok: false;
        readonly message: SimulatorSendMessage;
        readonly code: string;
        readonly reason: string;
      };

  const prepare = (message: SimulatorSendMessage): Prepared => {
    if (numbers.invalid.has(message.to)) {
      return {
        ok: false,
        message,
        code: 'invalid_number',
        reason: `${maskPhone(message.to)} is not a valid number.`,
      };
    }
    let text = message.text ?? '';
    if (message.template) {
      const body = config.templates[message.template.code];
      if (body === undefined) {
        return {
          ok: false,
          message,
          code: 'template_not_found',
          reason: `No approved template ${message.template.code}; register it in the simulator's config (templates).`,
        };
      }
      text = `【${message.signature ?? ''}】${renderTemplate(body, message.template.params)}`;
    }
    const { parts } = measureMessage({ text, rule: countingRules.simulator });
    return { ok: true, message, text, parts };
  };

  const accept = (account: string, prepared: Extract<Prepared, { ok: true }>): SimulatedMessage => {
    const { message, text, parts } = prepared;
    const { encoding } = measureMessage({ text, rule: countingRules.simulator });
    const record: SimulatedMessage = {
      messageId: `sim-${randomUUID()}`,
      account,
      to: message.to,
      text,
      ...(message.template ? { template: message.template } : {}),
      ...(message.signature === undefined ? {} : { signature: message.signature }),
      ...(message.reference === undefined ? {} : { reference: message.reference }),
      parts,
      encoding,
      acceptedAt: now().toISOString(),
      fate: fateOf(message.to),
    };
    log.add(record);
    dispatcher.scheduleReceipts(record);
    logger.debug('message accepted', { messageId: record.messageId, to: maskPhone(record.to), parts });
    return record;
  };

  /**
   * One send call, single or batch. Every call draws the same three numbers in the same order
   * (failure, timeout, latency), so a seed gives the same sequence of outcomes whatever the
   * messages were.
   */
  const sendCall = async ({
    account,
    messages,
    single,
  }: {
    account: string;
    messages: readonly SimulatorSendMessage[];
    single: boolean;
  }): Promise<Answer> => {
    calls.calls += 1;
    const failureDraw = sendRandom();
    const timeoutDraw = sendRandom();
    const latencyDraw = sendRandom();
    const latency = config.latencyMs + latencyDraw * config.latencyJitterMs;
    if (latency > 0) await sleep(latency, undefined, { signal: stopping.signal });

    if (failureDraw < config.failureRate) {
      calls.unavailable += 1;
      return error(503, 'unavailable', 'The simulator is failing this request, as configured (failureRate).');
    }
    const prepared = messages.map(prepare);
    const first = prepared[0];
    if (single && first && !first.ok) {
      calls.rejected += 1;
      return error(400, first.code, first.reason);
    }

    const parts = prepared.reduce((sum, item) => sum + (item.ok ? item.parts : 0), 0);
    if (parts > 0) {
      const taken = limiter.take(parts);
      if (!taken.ok) {
        calls.throttled += 1;
        return {
          status: 429,
          headers: { 'retry-after': String(Math.ceil(taken.retryAfterMs / 1000)) },
          body: {
            code: 'throttled',
            message: `Over the rate limit of ${config.rateLimit.partsPerSecond} parts per second.`,
            retryAfterMs: taken.retryAfterMs,
          },
        };
      }
    }
    const results: SimulatorBatchResult[] = prepared.map((item) => {
      const reference = item.message.reference === undefined ? {} : { reference: item.message.reference };
      if (!item.ok)
        return {
          status: 'rejected',
          to: item.message.to,
          ...reference,
          code: item.code,
          message: item.reason,
        };
      const record = accept(account, item);
      return {
        status: 'accepted',
        to: record.to,
        ...reference,
        messageId: record.messageId,
        parts: record.parts,
      };
    });

    if (timeoutDraw < config.timeoutRate) {
      // Accepted and recorded, but the answer comes after the client has given up.
      calls.held += 1;
      logger.debug('holding the answer to simulate a timeout', { hangMs: config.hangMs });
      await sleep(config.hangMs, undefined, { signal: stopping.signal });
    }
    const [result] = results;
    if (single && result?.status === 'accepted') {
      return {
        status: 202,
        body: {
          messageId: result.messageId,
          parts: result.parts,
          ...(result.reference ? { reference: result.reference } : {}),
        },
      };
    }
    return { status: 200, body: { results } };
  };

  const accountOf = (request: IncomingMessage): z.ZodSafeParseResult<string> => {
    const header = request.headers[simulatorAccountHeader];
    return simulatorAccount.safeParse(typeof header === 'string' ? header : defaultSimulatorAccount);
  };

  const click = async (input: z.infer<typeof clickRequest>): Promise<Answer> => {
    const message =
      input.messageId !== undefined
        ? log.get(input.messageId)
        : input.phone !== undefined
          ? log.lastTo({ phone: input.phone })
          : undefined;
    const url = input.url ?? (message ? /https?:\/\/[^\s]+/.exec(message.text)?.[0] : undefined);
    if (url === undefined) {
      return error(404, 'no_link', 'No link to tap: the message has none, or no such message is kept.');
    }
    const response = await fetch(url, {
      method: 'GET',
      redirect: 'manual',
      headers: { 'user-agent': input.userAgent ?? handsetUserAgent },
      signal: AbortSignal.timeout(config.callbacks.timeoutMs),
    }).catch((cause: unknown) => cause);
    if (!(response instanceof Response)) {
      return error(502, 'link_unreachable', `Tapping ${url} failed: ${String(response)}`);
    }
    await response.body?.cancel();
    return {
      status: 200,
      body: {
        url,
        status: response.status,
        location: response.headers.get('location'),
        messageId: message?.messageId,
      },
    };
  };

  const handle = async (request: IncomingMessage): Promise<Answer> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    const route = `${method} ${url.pathname}`;
    switch (url.pathname) {
      case '/health':
        return method === 'GET' ? { status: 200, body: health() } : methodNotAllowed(method, ['GET']);
      case '/v1/messages':
      case '/v1/messages/batch': {
        if (method !== 'POST') return methodNotAllowed(method, ['POST']);
        const account = accountOf(request);
        if (!account.success) return invalid(account.error, ['headers', simulatorAccountHeader]);
        const json = await readJson(request);
        if (!json.ok) return error(400, 'invalid_json', json.message);
        if (url.pathname === '/v1/messages') {
          const parsed = simulatorSendMessage.safeParse(json.value);
          if (!parsed.success) return invalid(parsed.error, ['body']);
          return sendCall({ account: account.data, messages: [parsed.data], single: true });
        }
        const parsed = simulatorBatchRequest.safeParse(json.value);
        if (!parsed.success) return invalid(parsed.error, ['body']);
        const { messages } = parsed.data;
        const identical = new Set(messages.map(contentKeyOfWire)).size === 1;
        const limit = identical ? simulatorMaxBatch.identical : simulatorMaxBatch.personalized;
        if (messages.length > limit) {
          return error(
            400,
            'batch_too_large',
            `${messages.length} ${identical ? 'identical' : 'personalized'} messages; at most ${limit} per call.`,
          );
        }
        return sendCall({ account: account.data, messages, single: false });
      }
      case '/admin/config': {
        if (method === 'GET') return { status: 200, body: config };
        if (method !== 'PUT') return methodNotAllowed(method, ['GET', 'PUT']);
        const json = await readJson(request);
        if (!json.ok) return error(400, 'invalid_json', json.message);
        const patch = simulatorConfigPatch.safeParse(json.value);
        if (!patch.success) return invalid(patch.error, ['body']);
        try {
          return { status: 200, body: configure(patch.data) };
        } catch (cause) {
          if (cause instanceof z.ZodError) return invalid(cause, ['body']);
          throw cause;
        }
      }
      case '/admin/messages': {
        if (method === 'DELETE') {
          reset();
          return { status: 204 };
        }
        if (method !== 'GET') return methodNotAllowed(method, ['GET', 'DELETE']);
        const query = messagesQuery.safeParse(Object.fromEntries(url.searchParams));
        if (!query.success) return invalid(query.error, ['query']);
        const { phone, reference, account, limit } = query.data;
        const found = log.find({
          ...(phone === undefined ? {} : { phone }),
          ...(reference === undefined ? {} : { reference }),
          ...(account === undefined ? {} : { account }),
          ...(limit === undefined ? {} : { limit }),
        });
        // The count for a phone survives the bound on kept records.
        const count =
          phone !== undefined && reference === undefined && account === undefined
            ? log.countFor(phone)
            : found.total;
        return { status: 200, body: { count, messages: found.messages } };
      }
      case '/admin/messages/counts':
        return method === 'GET' ? { status: 200, body: log.counts() } : methodNotAllowed(method, ['GET']);
      case '/admin/calls':
        return method === 'GET' ? { status: 200, body: calls } : methodNotAllowed(method, ['GET']);
      case '/admin/receipts':
        return method === 'GET'
          ? { status: 200, body: dispatcher.stats() }
          : methodNotAllowed(method, ['GET']);
      case '/admin/receipts/flush':
        return method === 'POST'
          ? { status: 200, body: await dispatcher.flush() }
          : methodNotAllowed(method, ['POST']);
      case '/admin/replies': {
        if (method !== 'POST') return methodNotAllowed(method, ['POST']);
        const json = await readJson(request);
        if (!json.ok) return error(400, 'invalid_json', json.message);
        const parsed = replyRequest.safeParse(json.value);
        if (!parsed.success) return invalid(parsed.error, ['body']);
        if (config.callbacks.url === null) {
          return error(
            409,
            'no_callback_url',
            'Set callbacks.url (PUT /admin/config) before sending replies.',
          );
        }
        const callback = await reply(parsed.data);
        return { status: 200, body: callback };
      }
      case '/admin/clicks': {
        if (method !== 'POST') return methodNotAllowed(method, ['POST']);
        const json = await readJson(request);
        if (!json.ok) return error(400, 'invalid_json', json.message);
        const parsed = clickRequest.safeParse(json.value);
        if (!parsed.success) return invalid(parsed.error, ['body']);
        return click(parsed.data);
      }
    }
    const id = /^\/v1\/messages\/([^/]+)$/.exec(url.pathname)?.[1];
    if (id !== undefined) {
      if (method !== 'GET') return methodNotAllowed(method, ['GET']);
      const message = log.get(decodeURIComponent(id));
      return message ? { status: 200, body: message } : error(404, 'not_found', `No message ${id}.`);
    }
    return error(404, 'not_found', `No route ${route}.`);
  };

  const reply = async ({ phone, text, account }: ReplyInput): Promise<CallbackResult> => {
    const last = log.lastTo({ phone, ...(account === undefined ? {} : { account }) });
    const to = account ?? last?.account ?? defaultSimulatorAccount;
    const inbound: SimulatorReply = {
      replyId: `reply-${randomUUID()}`,
      phone,
      text,
      receivedAt: now().toISOString(),
      ...(last ? { inReplyTo: last.messageId } : {}),
      ...(last?.reference === undefined ? {} : { reference: last.reference }),
    };
    return dispatcher.sendReplies(to, [inbound]);
  };

  const reset = (): void => {
    log.reset();
    calls = emptyCalls();
    dispatcher.reset();
  };

  const health = (): ProviderSimulatorHealth => ({
    ok: listening,
    messages: log.total(),
    pendingReceipts: dispatcher.stats().pending,
  });

  const server = createServer((request, response) => {
    handle(request)
      .then((answer) => send(response, answer))
      .catch((cause: unknown) => {
        if (stopping.signal.aborted) return;
        logger.error('simulator request failed', { error: cause });
        send(response, error(500, 'internal', 'The simulator failed; see its log.'));
      });
  });
  try {
    await listenOnLoopback(server, port);
  } catch (cause) {
    if (isAddressInUse(cause)) throw new PortInUseError({ port, component: 'simulator' });
    throw cause;
  }
  listening = true;
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;

  return {
    url,
    config: () => config,
    configure,
    messages: (filter = {}) => log.find({ limit: Number.MAX_SAFE_INTEGER, ...filter }).messages,
    counts: () => log.counts(),
    calls: () => ({ ...calls }),
    reset,
    flushReceipts: () => dispatcher.flush(),
    callbackStats: () => dispatcher.stats(),
    reply: (input) => reply(replyRequest.parse(input)),
    health,
    async stop() {
      listening = false;
      stopping.abort();
      await dispatcher.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** `${name}` by name (Aliyun), `{1}` by position (Tencent Cloud). */
function renderTemplate(body: string, params: Readonly<Record<string, string>>): string {
  const values = Object.values(params);
  return body
    .replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => params[name] ?? '')
    .replace(/\{(\d{1,2})\}/g, (_, index: string) => values[Number(index) - 1] ?? '');
}

function error(status: number, code: string, message: string): Answer {
  return { status, body: { code, message } };
}

function invalid(cause: z.ZodError, prefix: readonly PropertyKey[]): Answer {
  return {
    status: 400,
    body: {
      code: 'invalid_request',
      message: 'The request is not valid.',
      problems: cause.issues.map((issue) => ({
        path: [...prefix, ...issue.path].map(String).join('.'),
        message: issue.message,
      })),
    },
  };
}

function methodNotAllowed(method: string, allowed: readonly string[]): Answer {
  return {
    status: 405,
    headers: { allow: allowed.join(', ') },
    body: { code: 'method_not_allowed', message: `${method} is not allowed; use ${allowed.join(', ')}.` },
  };
}

async function readJson(
  request: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBodyBytes) return { ok: false, message: `The body is larger than ${maxBodyBytes} bytes.` };
    chunks.push(buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return { ok: true, value };
  } catch {
    return { ok: false, message: 'The body is not JSON.' };
  }
}

function send(response: ServerResponse, { status, body, headers = {} }: Answer): void {
  // A client that gave up (a simulated timeout) has closed its socket: nothing to answer.
  if (response.headersSent || response.destroyed) return;
  if (body === undefined) {
    response.writeHead(status, headers);
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
