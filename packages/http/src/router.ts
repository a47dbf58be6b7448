import { ForbiddenError, type Principal, type Role, roleAllows, ValidationError } from '@qunfa/domain';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import { MethodNotAllowedError, RouteNotFoundError, UnsupportedMediaTypeError } from './errors';
import { parseInput } from './validation';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface RouteInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly principal: Principal;
  readonly requestId: string;
  /** The body's bytes, for routes that declare `rawBody` (file uploads). */
  readonly raw?: Buffer;
}

type Schema<T> = z.ZodType<T>;

/**
 * One route: its method and path template, the least role that may call it, and the
 * schemas that type its input. The list of routes is the single source for the router and
 * (with the campaigns issue) for the OpenAPI document.
 */
export interface Route<P = unknown, Q = unknown, B = unknown> {
  readonly method: HttpMethod;
  readonly path: string;
  readonly summary: string;
  readonly role: Role;
  /**
   * No API key: the router skips authentication and `role`, and the handler's principal is
   * `anonymous` (no tenant). For documents about the API only (GET /openapi.json).
   */
  readonly public?: boolean;
  readonly params?: Schema<P>;
  readonly query?: Schema<Q>;
  readonly body?: Schema<B>;
  /** Accept the body as bytes of these media types instead of JSON (e.g. `text/csv`). */
  readonly rawBody?: readonly string[];
  handle(input: RouteInput<P, Q, B>): Promise<HttpResult>;
}

/** Keeps the schemas' inferred types attached to `handle` while the list stays heterogeneous. */
export function defineRoute<P = undefined, Q = undefined, B = undefined>(route: Route<P, Q, B>): Route {
  return route;
}

/** The principal a public route's handler sees: no tenant, no key. */
export const anonymous: Principal = Object.freeze({ tenantId: '', keyId: '', role: 'viewer' });

export type Authenticator = (authorization: string | undefined) => Promise<Principal>;

interface CompiledRoute {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param?.[1]) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1]);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), names };
}

export function createRouter({
  routes,
  authenticate,
}: {
  routes: readonly Route[];
  authenticate: Authenticator;
}): (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2> {
  const compiled = routes.map(compile);
  return async (event) => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    const matches = compiled
      .map((entry) => ({ entry, match: entry.pattern.exec(path) }))
      .filter((m): m is { entry: CompiledRoute; match: RegExpExecArray } => m.match !== null);
    if (matches.length === 0) throw new RouteNotFoundError(method, path);
    const found = matches.find(({ entry }) => entry.route.method === method);
    if (!found)
      throw new MethodNotAllowedError(method, path, [...new Set(matches.map((m) => m.entry.route.method))]);
    const { route, names } = found.entry;

    // Authenticate before validating, so an anonymous caller learns nothing about a route's input.
    const principal = route.public ? anonymous : await authenticate(event.headers.authorization);
    if (!route.public && !roleAllows({ held: principal.role, required: route.role })) {
      throw new ForbiddenError(
        `This needs the ${route.role} role; the key used has the ${principal.role} role.`,
      );
    }

    const rawParams = decodePathParameters(names, found.match);
    const params = route.params ? parseInput(route.params, rawParams, 'path') : rawParams;
    const query = route.query
      ? parseInput(route.query, event.queryStringParameters ?? {}, 'query')
      : undefined;
    const body = route.body ? parseInput(route.body, readJsonBody(event), 'body') : undefined;
    const raw = route.rawBody ? readRawBody(event, route.rawBody) : undefined;

    const result = await route.handle({
      params,
      query,
      body,
      principal,
      requestId: event.requestContext.requestId,
      ...(raw ? { raw } : {}),
    });
    return toResponse(result);
  };
}

/** A malformed `%` escape (`%E0%A4%A`) is the caller's mistake: 400 at its path, not a 500. */
function decodePathParameters(names: readonly string[], match: RegExpExecArray): Record<string, string> {
  const malformed: string[] = [];
  const decoded = names.map((name, i) => {
    try {
      return [name, decodeURIComponent(match[i + 1] ?? '')];
    } catch (error) {
      if (!(error instanceof URIError)) throw error;
      malformed.push(name);
      return [name, ''];
    }
  });
  if (malformed.length > 0) {
    throw new ValidationError(
      malformed.map((name) => ({ path: `path.${name}`, message: 'not a valid percent-encoded value' })),
    );
  }
  return Object.fromEntries(decoded);
}

function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === '') return undefined;
  const contentType = (event.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (contentType !== 'application/json' && !contentType.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(contentType, 'application/json');
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return parseJson(text);
}

function readRawBody(event: APIGatewayProxyEventV2, accepted: readonly string[]): Buffer {
  const contentType = (event.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!accepted.includes(contentType)) throw new UnsupportedMediaTypeError(contentType, accepted.join(', '));
  if (event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidJsonError(error instanceof Error ? error.message : String(error));
  }
}

export function toResponse({ status, body, headers = {} }: HttpResult): APIGatewayProxyStructuredResultV2 {
  if (body === undefined) return { statusCode: status, headers };
  // A text body with its own content type (a CSV export) is sent as it is.
  if (typeof body === 'string' && headers['content-type']) return { statusCode: status, headers, body };
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

class InvalidJsonError extends ValidationError {
  constructor(detail: string) {
    super([{ path: 'body', message: `not valid JSON: ${detail}` }], 'The body is not valid JSON.');
    this.name = 'InvalidJsonError';
  }
}
