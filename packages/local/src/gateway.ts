import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { isAddressInUse, PortInUseError } from './errors';
import type { ComponentHealth, HealthReport } from './health';
import { FunctionTimeoutError, invokeHandler, type LambdaHandler, type LocalFunction } from './lambda';
import { createLogger, type LocalLogger } from './log';
import { localAccountId } from './names';
import { sleep } from './timers';

// The HTTP API on localhost: each request becomes the API Gateway HTTP API payload format 2.0
// event the Lambda integration would receive, routed per resources.httpRoutes, and the
// handler's result is mapped back the way API Gateway maps it.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html

export type HttpHandler = LambdaHandler<APIGatewayProxyEventV2, unknown>;

export interface GatewayFunction extends LocalFunction {
  readonly handler: HttpHandler;
}

export interface GatewayRoute {
  /** An HTTP API route path: `/callbacks/{proxy+}`, `/members/{id}` or `$default`. */
  readonly path: string;
  readonly functionId: string;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  health(): ComponentHealth;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  /** 0: a free port. */
  port?: number;
  routes: readonly GatewayRoute[];
  functions: Readonly<Record<string, GatewayFunction>>;
  region?: string;
  /** Answers GET /health; without it /health is routed like any other path. */
  health?: () => Promise<HealthReport>;
  /** API Gateway's HTTP API payload quota is 10 MB. */
  maxBodyBytes?: number;
  logger?: LocalLogger;
}

/** Content types HTTP APIs hand to Lambda as text; every other body (none too) is base64. */
const textMediaTypes = new Set(['application/json', 'application/xml', 'application/javascript']);

export function isTextContentType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!mediaType) return false;
  return mediaType.startsWith('text/') || textMediaTypes.has(mediaType);
}

export interface CompiledRoute {
  readonly routeKey: string;
  readonly functionId: string;
  readonly pattern: RegExp | undefined;
  /** Literal characters: API Gateway prefers the most specific route, greedy ones last. */
  readonly rank: number;
}

function compileRoute(route: GatewayRoute): CompiledRoute {
  if (route.path === '$default') {
    return { routeKey: '$default', functionId: route.functionId, pattern: undefined, rank: -Infinity };
  }
  const source = route.path
    .split('/')
    .map((segment) => {
      const variable = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(segment);
      if (!variable) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return variable[2] ? `(?<${variable[1]}>.+)` : `(?<${variable[1]}>[^/]+)`;
    })
    .join('/');
  const greedy = route.path.includes('+}');
  const literal = route.path.replace(/\{[^}]+\}/g, '').length;
  return {
    routeKey: `ANY ${route.path}`,
    functionId: route.functionId,
    pattern: new RegExp(`^${source}$`),
    rank: literal - (greedy ? 10_000 : 0),
  };
}

/** Routes in API Gateway's order of preference: most specific first, greedy paths later, $default last. */
export function compileRoutes(routes: readonly GatewayRoute[]): CompiledRoute[] {
  return routes.map(compileRoute).sort((a, b) => b.rank - a.rank);
}

export function matchRoute(
  routes: readonly CompiledRoute[],
  path: string,
): { route: CompiledRoute; pathParameters: Record<string, string> | undefined } | undefined {
  for (const route of routes) {
    if (!route.pattern) return { route, pathParameters: undefined };
    const match = route.pattern.exec(path);
    // A route without variables (`/campaigns`) matches with no groups at all.
    if (match) return { route, pathParameters: match.groups ? { ...match.groups } : undefined };
  }
  return undefined;
}

/** HTTP APIs decode the path they hand to Lambda, except `%25`, which stays encoded. */
export function decodePath(pathname: string): string {
  return pathname.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    run
      .split(/(%25)/i)
      .map((part) => {
        if (/^%25$/i.test(part)) return '%25';
        try {
          return decodeURIComponent(part);
        } catch {
          return part;
        }
      })
      .join(''),
  );
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's requestContext.time. */
function requestTime(at: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${two(at.getUTCDate())}/${months[at.getUTCMonth()]}/${at.getUTCFullYear()}:` +
    `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} +0000`
  );
}

export function buildEvent({
  request,
  body,
  route,
  pathParameters,
  requestId,
  receivedAt,
  localPort,
}: {
  request: IncomingMessage;
  body: Buffer;
  route: Pick<CompiledRoute, 'routeKey'>;
  pathParameters: Record<string, string> | undefined;
  requestId: string;
  receivedAt: Date;
  localPort: number;
}): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const rawPath = decodePath(url.pathname);
  const sourceIp = (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');

  // Duplicate headers are joined with commas; the Cookie header moves to `cookies`.
  const headers: Record<string, string> = {};
  let cookies: string[] = [];
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') {
      cookies = values.flatMap((value) => value.split(';').map((cookie) => cookie.trim())).filter(Boolean);
      continue;
    }
    headers[name] = values.join(',');
  }
  headers['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${headers['x-forwarded-for']}, ${sourceIp}`
    : sourceIp;
  headers['x-forwarded-port'] = String(localPort);
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] ??=
    `Root=1-${Math.floor(receivedAt.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

  const query = new URLSearchParams(url.search);
  const queryStringParameters: Record<string, string> = {};
  for (const key of new Set(query.keys())) queryStringParameters[key] = query.getAll(key).join(',');

  const host = headers.host ?? `localhost:${localPort}`;
  const domainName = host.replace(/:\d+$/, '');
  const text = isTextContentType(headers['content-type']);
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath,
    rawQueryString: url.search.slice(1),
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(queryStringParameters).length > 0 ? { queryStringParameters } : {}),
    requestContext: {
      accountId: localAccountId,
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: request.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: route.routeKey,
      stage: '$default',
      time: requestTime(receivedAt),
      timeEpoch: receivedAt.getTime(),
    },
    ...(pathParameters ? { pathParameters } : {}),
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
}

const structuredResult = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  cookies: z.array(z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
}

export class MalformedResultError extends Error {
  constructor(detail: string) {
    super(`The function returned a response API Gateway cannot map: ${detail}`);
    this.name = 'MalformedResultError';
  }
}

/**
 * API Gateway's reading of a format 2.0 response: an object with a statusCode is used as is
 * (cookies become set-cookie headers, a base64 body is decoded); anything else is a 200
 * application/json whose body is the result (a string as is, other values as JSON).
 */
export function toHttpResponse(result: unknown): HttpResponse {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    const parsed = structuredResult.safeParse(result);
    if (!parsed.success) throw new MalformedResultError(z.prettifyError(parsed.error));
    const { statusCode, headers = {}, cookies = [], body = '', isBase64Encoded = false } = parsed.data;
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value);
    if (cookies.length > 0) out['set-cookie'] = cookies;
    return { statusCode, headers: out, body: Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8') };
  }
  const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(body, 'utf8'),
  };
}

function jsonResponse(statusCode: number, value: unknown): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(value), 'utf8'),
  };
}

class BodyTooLargeError extends Error {}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBytes) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export async function startGateway({
  port = 3000,
  routes,
  functions,
  region = 'us-east-1',
  health,
  maxBodyBytes = 10 * 1024 * 1024,
  logger = createLogger({ component: 'api' }),
}: GatewayOptions): Promise<Gateway> {
  const compiled = compileRoutes(routes);
  for (const route of compiled) {
    if (!functions[route.functionId])
      throw new Error(`Route ${route.routeKey} names unknown function ${route.functionId}.`);
  }
  let localPort = port;
  let served = 0;
  let crashed = 0;

  const respond = (response: ServerResponse, answer: HttpResponse, requestId: string): void => {
    response.writeHead(answer.statusCode, {
      ...answer.headers,
      'apigw-requestid': requestId,
      'content-length': String(answer.body.length),
    });
    response.end(answer.body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const receivedAt = new Date();
    const requestId = randomBytes(10).toString('base64');
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;

    if (health && path === '/health' && (request.method === 'GET' || request.method === 'HEAD')) {
      const report = await health();
      respond(response, jsonResponse(report.ok ? 200 : 503, report), requestId);
      return;
    }

    let body: Buffer;
    try {
      body = await readBody(request, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      response.setHeader('connection', 'close');
      respond(response, jsonResponse(413, { message: 'Request Entity Too Large' }), requestId);
      return;
    }

    const matched = matchRoute(compiled, decodePath(path));
    const fn = matched ? functions[matched.route.functionId] : undefined;
    if (!matched || !fn) {
      respond(response, jsonResponse(404, { message: 'Not Found' }), requestId);
      return;
    }
    const event = buildEvent({ request, body, ...matched, requestId, receivedAt, localPort });
    let answer: HttpResponse;
    try {
      const { result } = await invokeHandler({ handler: fn.handler, event, fn, region });
      answer = toHttpResponse(result);
    } catch (error) {
      crashed += 1;
      // The client gets the stable shape and the request id; the stack stays in this log.
      logger.error(`${fn.name} failed on ${request.method} ${path}`, { requestId, error });
      const message =
        error instanceof FunctionTimeoutError
          ? `The request did not complete within ${fn.timeoutSeconds} s.`
          : 'Something went wrong on our side. Quote the request id if you report it.';
      answer = jsonResponse(500, { code: 'internal_error', message, requestId });
    }
    served += 1;
    logger.debug(
      `${request.method} ${request.url} ${answer.statusCode} ${Date.now() - receivedAt.getTime()}ms`,
    );
    respond(response, answer, requestId);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error('the gateway failed to answer', { error });
      if (!response.headersSent)
        respond(response, jsonResponse(500, { message: 'Internal Server Error' }), 'local');
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(isAddressInUse(error) ? new PortInUseError({ port, component: 'api' }) : error),
    );
    // Loopback only: this API has the same keys as the real one but none of its protections.
    server.listen({ port, host: '127.0.0.1' }, () => resolve());
  });
  const address = server.address();
  localPort = typeof address === 'object' && address ? (address satisfies AddressInfo).port : port;
  const url = `http://127.0.0.1:${localPort}`;

  let stopped: Promise<void> | undefined;
  return {
    url,
    port: localPort,
    health: () => ({
      ok: server.listening,
      url,
      detail: { routes: compiled.map((route) => `${route.routeKey} → ${route.functionId}`), served, crashed },
    }),
    stop() {
      stopped ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Requests in flight may finish; after that, connections are cut.
        const drained = await Promise.race([closed.then(() => true), sleep(5_000).then(() => false)]);
        if (!drained) {
          server.closeAllConnections();
          await closed;
        }
      })();
      return stopped;
    },
  };
}
