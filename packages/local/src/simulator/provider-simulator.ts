import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { maskPhone } from '@qunfa/domain';
import * as z from 'zod';
import { isAddressInUse, PortInUseError } from '../errors';
import { createLogger, type LocalLogger } from '../log';
import { listenOnLoopback } from '../ports';
import { type Encoding, estimateParts } from './parts';

// The SMS provider simulator: reached over HTTP like a real provider, so the provider adapter
// under test makes real requests. For now it accepts and remembers messages; rate limits,
// latency, failures, receipts and replies come with the campaign work.

export interface ProviderSimulatorOptions {
  /** 0 (default): a free port. */
  readonly port?: number;
  /** How many messages it remembers; the oldest are forgotten first. Default 10,000. */
  readonly maxMessages?: number;
  readonly now?: () => Date;
  readonly logger?: LocalLogger;
}

export interface ReceivedMessage {
  readonly messageId: string;
  readonly to: string;
  readonly body: string;
  readonly reference?: string;
  readonly parts: number;
  readonly encoding: Encoding;
  readonly receivedAt: string;
}

export interface ProviderSimulatorHealth {
  readonly ok: boolean;
  readonly messages: number;
}

export interface ProviderSimulator {
  readonly url: string;
  /** What it received, oldest first (at most maxMessages). */
  messages(): readonly ReceivedMessage[];
  health(): ProviderSimulatorHealth;
  stop(): Promise<void>;
}

/** What a client sends to POST /v1/messages. */
export const sendMessageRequest = z.object({
  to: z.string().regex(/^\+[1-9]\d{7,14}$/, 'an E.164 number: + and 8 to 15 digits'),
  body: z.string().min(1, 'must not be empty').max(1_600, 'at most 1,600 characters'),
  reference: z.string().min(1).max(128).optional(),
});

const maxBodyBytes = 64 * 1024;

export async function startProviderSimulator({
  port = 0,
  maxMessages = 10_000,
  now = () => new Date(),
  logger = createLogger({ component: 'simulator' }),
}: ProviderSimulatorOptions = {}): Promise<ProviderSimulator> {
  const received = new Map<string, ReceivedMessage>();
  let listening = false;

  const accept = (request: z.infer<typeof sendMessageRequest>): ReceivedMessage => {
    const { parts, encoding } = estimateParts(request.body);
    const message: ReceivedMessage = {
      messageId: `sim-${randomUUID()}`,
      to: request.to,
      body: request.body,
      ...(request.reference === undefined ? {} : { reference: request.reference }),
      parts,
      encoding,
      receivedAt: now().toISOString(),
    };
    received.set(message.messageId, message);
    // Maps iterate in insertion order: the first key is the oldest message.
    for (const oldest of received.keys()) {
      if (received.size <= maxMessages) break;
      received.delete(oldest);
    }
    logger.debug('message accepted', { messageId: message.messageId, to: maskPhone(message.to), parts });
    return message;
  };

  const handle = async (request: IncomingMessage): Promise<{ status: number; body: unknown }> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    if (url.pathname === '/health') {
      return method === 'GET' ? { status: 200, body: health() } : methodNotAllowed(method, ['GET']);
    }
    if (url.pathname === '/v1/messages') {
      if (method !== 'POST') return methodNotAllowed(method, ['POST']);
      const json = await readJson(request);
      if (!json.ok) return { status: 400, body: { code: 'invalid_json', message: json.message } };
      const parsed = sendMessageRequest.safeParse(json.value);
      if (!parsed.success) {
        return {
          status: 400,
          body: {
            code: 'validation_failed',
            message: 'The message is not valid.',
            problems: parsed.error.issues.map((issue) => ({
              path: ['body', ...issue.path].join('.'),
              message: issue.message,
            })),
          },
        };
      }
      const message = accept(parsed.data);
      return { status: 202, body: { messageId: message.messageId, parts: message.parts } };
    }
    const id = /^\/v1\/messages\/([^/]+)$/.exec(url.pathname)?.[1];
    if (id !== undefined) {
      if (method !== 'GET') return methodNotAllowed(method, ['GET']);
      const message = received.get(decodeURIComponent(id));
      return message
        ? { status: 200, body: message }
        : { status: 404, body: { code: 'not_found', message: `No message ${id}.` } };
    }
    return { status: 404, body: { code: 'not_found', message: `No route ${method} ${url.pathname}.` } };
  };

  const health = (): ProviderSimulatorHealth => ({ ok: listening, messages: received.size });

  const server = createServer((request, response) => {
    handle(request)
      .then(({ status, body }) => send(response, status, body))
      .catch((error: unknown) => {
        logger.error('simulator request failed', { error });
        send(response, 500, { code: 'internal', message: 'The simulator failed; see its log.' });
      });
  });
  try {
    await listenOnLoopback(server, port);
  } catch (error) {
    if (isAddressInUse(error)) throw new PortInUseError({ port, component: 'simulator' });
    throw error;
  }
  listening = true;
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;

  return {
    url,
    messages: () => [...received.values()],
    health,
    stop: () =>
      new Promise<void>((resolve) => {
        listening = false;
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function methodNotAllowed(method: string, allowed: readonly string[]): { status: number; body: unknown } {
  return {
    status: 405,
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

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
