import { randomBytes } from 'node:crypto';
import middy from '@middy/core';
import { createLogger } from '@qunfa/aws';
import {
  authenticate,
  createTenant,
  issueApiKey,
  type Principal,
  type TenancyDeps,
  tenantSettings,
} from '@qunfa/domain';
import { accessLog, createRouter, defineRoute, httpErrors, type Route } from '@qunfa/http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryTenantStore } from '../../support/fakes/memory-tenant-store';
import { captureLogOutput, type LogOutput } from '../logging/output';

// A tiny route set behind the router and the middlewares, wired the way packages/api/src/app.ts
// wires the real API: access log, then error mapping, then the router.

const cnMobile = '+8613812345678';
const cnHidden = '1381234';

interface Seen {
  params?: unknown;
  query?: unknown;
  body?: unknown;
  principal?: Principal;
  requestId?: string;
}

function couponRoutes(seen: Seen[]): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/coupons',
      summary: 'Lists coupons.',
      role: 'viewer',
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
      handle: async ({ query, principal, requestId }) => {
        seen.push({ query, principal, requestId });
        return { status: 200, body: { items: [], limit: query.limit } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/coupons',
      summary: 'Creates a coupon.',
      role: 'marketer',
      body: z.strictObject({ title: z.string().min(1), discount: z.number().min(1).max(99) }),
      handle: async ({ body }) => {
        seen.push({ body });
        return { status: 201, body: { couponId: 'c-1', ...body } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/coupons/{couponId}',
      summary: 'Reads a coupon.',
      role: 'viewer',
      params: z.object({ couponId: z.string().regex(/^c-\d+$/, 'c- and digits') }),
      handle: async ({ params }) => {
        seen.push({ params });
        return { status: 200, body: { couponId: params.couponId } };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/coupons/{couponId}',
      summary: 'Deletes a coupon.',
      role: 'admin',
      handle: async ({ params }) => {
        seen.push({ params });
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/crash',
      summary: 'Fails the way a bug does.',
      role: 'viewer',
      handle: async () => {
        throw new TypeError(`Cannot read properties of undefined (member ${cnMobile})`);
      },
    }),
  ];
}

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: Record<string, unknown>;
  raw: APIGatewayProxyStructuredResultV2;
}

let output: LogOutput;
let seen: Seen[];
let send: (event: APIGatewayProxyEventV2) => Promise<Answer>;
let keys: { admin: string; marketer: string; viewer: string };

beforeEach(async () => {
  output = captureLogOutput();
  const deps: TenancyDeps = {
    store: new MemoryTenantStore(),
    random: (size) => randomBytes(size),
    now: () => new Date('2026-11-23T08:00:00Z'),
  };
  const { admin } = await createTenant(deps, {
    tenantId: 'acme',
    settings: tenantSettings.parse({ name: 'Acme' }),
  });
  const issue = async (role: 'marketer' | 'viewer') =>
    (await issueApiKey(deps, { tenantId: 'acme', role, name: role })).apiKey;
  keys = { admin: admin.apiKey, marketer: await issue('marketer'), viewer: await issue('viewer') };
  seen = [];
  const logger = createLogger({ service: 'api' });
  const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(accessLog({ logger }))
    .use(httpErrors({ logger }))
    .handler(
      createRouter({
        routes: couponRoutes(seen),
        authenticate: (authorization) => authenticate({ store: deps.store, authorization }),
      }),
    );
  send = async (event) => {
    const raw = await handler(event, lambdaContext('api'));
    return {
      status: raw.statusCode ?? 0,
      headers: raw.headers ?? {},
      body: raw.body ? JSON.parse(raw.body) : {},
      raw,
    };
  };
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

function expectErrorBody(answer: Answer, code: string, event: APIGatewayProxyEventV2): void {
  expect(answer.body).toMatchObject({ code, requestId: event.requestContext.requestId });
  expect(answer.body.message).toEqual(expect.any(String));
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
}

describe('createRouter behind the API middlewares', () => {
  describe('a request that matches a route', () => {
    it('reaches the handler with the principal and request id and answers its JSON', async () => {
      const event = httpEvent({ method: 'GET', path: '/coupons', headers: bearer(keys.viewer) });

      const answer = await send(event);

      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(answer.body).toEqual({ items: [], limit: 20 });
      expect(seen).toEqual([
        {
          query: { limit: 20 },
          principal: expect.objectContaining({ tenantId: 'acme', role: 'viewer' }),
          requestId: event.requestContext.requestId,
        },
      ]);
    });

    it('passes decoded path parameters', async () => {
      const answer = await send(
        httpEvent({ method: 'DELETE', path: '/coupons/c%2042', headers: bearer(keys.admin) }),
      );

      expect(answer.status).toBe(204);
      expect(answer.raw.body).toBeUndefined();
      expect(seen).toEqual([{ params: { couponId: 'c 42' } }]);
    });

    it('matches a path with a trailing slash', async () => {
      const answer = await send(
        httpEvent({ method: 'GET', path: '/coupons/c-7/', headers: bearer(keys.viewer) }),
      );

      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ couponId: 'c-7' });
    });

    it('parses the query with the route schema', async () => {
      const answer = await send(
        httpEvent({ method: 'GET', path: '/coupons', headers: bearer(keys.viewer), query: { limit: '5' } }),
      );

      expect(answer.status).toBe(200);
      expect(answer.body.limit).toBe(5);
    });

    it('accepts a JSON body sent with a charset or as a +json media type', async () => {
      for (const contentType of ['application/json; charset=utf-8', 'application/merge-patch+json']) {
        const answer = await send(
          httpEvent({
            method: 'POST',
            path: '/coupons',
            headers: { ...bearer(keys.marketer), 'content-type': contentType },
            body: '{"title":"Double points","discount":10}',
          }),
        );

        expect(answer.status).toBe(201);
      }
      expect(seen).toHaveLength(2);
    });

    it('decodes a base64-encoded JSON body', async () => {
      const event = httpEvent({ method: 'POST', path: '/coupons', headers: bearer(keys.marketer), body: {} });
      const encoded = {
        ...event,
        body: Buffer.from(JSON.stringify({ title: '会员日', discount: 20 })).toString('base64'),
        isBase64Encoded: true,
      };

      const answer = await send(encoded);

      expect(answer.status).toBe(201);
      expect(seen).toEqual([{ body: { title: '会员日', discount: 20 } }]);
    });
  });

  describe('routing errors', () => {
    it('answers an unknown path with 404 route_not_found', async () => {
      const event = httpEvent({ method: 'GET', path: '/vouchers', headers: bearer(keys.admin) });

      const answer = await send(event);

      expect(answer.status).toBe(404);
      expectErrorBody(answer, 'route_not_found', event);
    });

    it('answers a known path with a wrong method with 405 and the allowed methods', async () => {
      const event = httpEvent({ method: 'PUT', path: '/coupons/c-1', headers: bearer(keys.admin) });

      const answer = await send(event);

      expect(answer.status).toBe(405);
      expectErrorBody(answer, 'method_not_allowed', event);
      expect(answer.headers.allow).toBe('GET, DELETE');
      expect(seen).toEqual([]);
    });
  });

  describe('authentication and authorization', () => {
    it('answers a request without a key with 401 and WWW-Authenticate', async () => {
      const event = httpEvent({ method: 'GET', path: '/coupons' });

      const answer = await send(event);

      expect(answer.status).toBe(401);
      expectErrorBody(answer, 'unauthorized', event);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
    });

    it.each([
      ['a malformed key', 'Bearer qf_nonsense'],
      ['a well-formed key nobody issued', 'Bearer qf_acme_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'],
      ['another scheme', 'Basic dXNlcjpwYXNz'],
      ['the scheme without a key', 'Bearer '],
    ])('answers %s with 401 and WWW-Authenticate', async (_case, authorization) => {
      const event = httpEvent({ method: 'GET', path: '/coupons', headers: { authorization } });

      const answer = await send(event);

      expect(answer.status).toBe(401);
      expectErrorBody(answer, 'unauthorized', event);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
    });

    it('authenticates before validating, so an anonymous caller learns nothing of the input', async () => {
      const event = httpEvent({ method: 'POST', path: '/coupons', body: { nonsense: true } });

      const answer = await send(event);

      expect(answer.status).toBe(401);
      expect(answer.body.problems).toBeUndefined();
    });

    it('answers a key whose role is below the route role with 403 and does not run the handler', async () => {
      for (const key of [keys.viewer, keys.marketer]) {
        const event = httpEvent({ method: 'DELETE', path: '/coupons/c-1', headers: bearer(key) });

        const answer = await send(event);

        expect(answer.status).toBe(403);
        expectErrorBody(answer, 'forbidden', event);
        expect(answer.body.message).toContain('admin');
      }
      expect(seen).toEqual([]);
    });

    it('lets a higher role call a route of a lower role', async () => {
      const answer = await send(httpEvent({ method: 'GET', path: '/coupons', headers: bearer(keys.admin) }));

      expect(answer.status).toBe(200);
    });
  });

  describe('bad input', () => {
    it('answers a body that is not JSON with 400 at the path body', async () => {
      const event = httpEvent({
        method: 'POST',
        path: '/coupons',
        headers: { ...bearer(keys.marketer), 'content-type': 'application/json' },
        body: '{"title": "Double points",',
      });

      const answer = await send(event);

      expect(answer.status).toBe(400);
      expectErrorBody(answer, 'validation_failed', event);
      expect(answer.body.problems).toEqual([
        { path: 'body', message: expect.stringContaining('not valid JSON') },
      ]);
      expect(seen).toEqual([]);
    });

    it.each([
      ['a form', 'application/x-www-form-urlencoded'],
      ['plain text', 'text/plain'],
      ['no content type', undefined],
    ])('answers a body sent as %s with 415', async (_case, contentType) => {
      const event = httpEvent({
        method: 'POST',
        path: '/coupons',
        headers: { ...bearer(keys.marketer), ...(contentType ? { 'content-type': contentType } : {}) },
        body: 'title=Double+points&discount=10',
      });

      const answer = await send(event);

      expect(answer.status).toBe(415);
      expectErrorBody(answer, 'unsupported_media_type', event);
      expect(answer.body.message).toContain('application/json');
      expect(seen).toEqual([]);
    });

    it('lists every problem of the body with its path, an unknown field included', async () => {
      const event = httpEvent({
        method: 'POST',
        path: '/coupons',
        headers: bearer(keys.marketer),
        body: { title: '', discount: 120, coupon: 'extra' },
      });

      const answer = await send(event);

      expect(answer.status).toBe(400);
      expectErrorBody(answer, 'validation_failed', event);
      expect(answer.body.problems).toEqual(
        expect.arrayContaining([
          { path: 'body.title', message: expect.any(String) },
          { path: 'body.discount', message: expect.any(String) },
          { path: 'body.coupon', message: 'unknown field' },
        ]),
      );
      expect(answer.body.problems).toHaveLength(3);
      expect(seen).toEqual([]);
    });

    it('answers a missing body with 400 at the path body', async () => {
      const answer = await send(
        httpEvent({ method: 'POST', path: '/coupons', headers: bearer(keys.marketer) }),
      );

      expect(answer.status).toBe(400);
      expect(answer.body.problems).toEqual([{ path: 'body', message: expect.any(String) }]);
    });

    it('answers an invalid path parameter with 400 at its path', async () => {
      const event = httpEvent({ method: 'GET', path: '/coupons/42', headers: bearer(keys.viewer) });

      const answer = await send(event);

      expect(answer.status).toBe(400);
      expectErrorBody(answer, 'validation_failed', event);
      expect(answer.body.problems).toEqual([{ path: 'path.couponId', message: 'c- and digits' }]);
    });

    it('reports each unknown body field at its own path', async () => {
      const event = httpEvent({
        method: 'POST',
        path: '/coupons',
        headers: bearer(keys.marketer),
        body: { title: 'Double points', discount: 10, colour: 'red', size: 'L' },
      });

      const answer = await send(event);

      expect(answer.status).toBe(400);
      expect(answer.body.problems).toEqual([
        { path: 'body.colour', message: 'unknown field' },
        { path: 'body.size', message: 'unknown field' },
      ]);
      expect(seen).toEqual([]);
    });

    it.each([
      ['a truncated escape', '/coupons/%E0%A4%A'],
      ['a lone percent sign', '/coupons/c-1%'],
      ['an escape that is not UTF-8', '/coupons/%FF'],
    ])('answers a path parameter with %s with 400 at its path', async (_case, path) => {
      const event = httpEvent({ method: 'GET', path, headers: bearer(keys.viewer) });

      const answer = await send(event);

      expect(answer.status).toBe(400);
      expectErrorBody(answer, 'validation_failed', event);
      expect(answer.body.problems).toEqual([
        { path: 'path.couponId', message: 'not a valid percent-encoded value' },
      ]);
      expect(seen).toEqual([]);
    });

    it('answers a malformed escape on a route without a parameter schema with 400 too', async () => {
      const answer = await send(
        httpEvent({ method: 'DELETE', path: '/coupons/%E0%A4%A', headers: bearer(keys.admin) }),
      );

      expect(answer.status).toBe(400);
      expect(answer.body.problems).toEqual([{ path: 'path.couponId', message: expect.any(String) }]);
      expect(seen).toEqual([]);
    });

    it('checks the key before the path parameters', async () => {
      const answer = await send(httpEvent({ method: 'GET', path: '/coupons/%E0%A4%A' }));

      expect(answer.status).toBe(401);
    });

    it('answers invalid and unknown query parameters with 400 listing each', async () => {
      const event = httpEvent({
        method: 'GET',
        path: '/coupons',
        headers: bearer(keys.viewer),
        query: { limit: '500', sort: 'title' },
      });

      const answer = await send(event);

      expect(answer.status).toBe(400);
      expect(answer.body.problems).toEqual([
        { path: 'query.limit', message: expect.any(String) },
        { path: 'query.sort', message: 'unknown field' },
      ]);
    });
  });

  describe('an unexpected error', () => {
    it('answers 500 internal_error with the request id and nothing of the error', async () => {
      const event = httpEvent({ method: 'GET', path: '/crash', headers: bearer(keys.viewer) });

      const answer = await send(event);

      expect(answer.status).toBe(500);
      expect(answer.body).toEqual({
        code: 'internal_error',
        message: expect.stringContaining('request id'),
        requestId: event.requestContext.requestId,
      });
      expect(answer.raw.body).not.toMatch(/TypeError|Cannot read|undefined|at |\.ts/);
      expect(answer.raw.body).not.toContain(cnHidden);
    });

    it('logs the error with its stack and the request id, phone numbers masked', async () => {
      const event = httpEvent({ method: 'GET', path: '/crash', headers: bearer(keys.viewer) });

      await send(event);

      const failure = output.lines().find((line) => line.message === 'request failed');
      expect(failure).toMatchObject({
        level: 'ERROR',
        requestId: event.requestContext.requestId,
        error: {
          name: 'TypeError',
          message: expect.stringContaining('+86*******5678'),
          stack: expect.any(String),
        },
      });
      expect(output.text()).not.toContain(cnHidden);
    });

    it('logs a 4xx without an error line', async () => {
      await send(httpEvent({ method: 'GET', path: '/coupons' }));

      expect(output.lines().map((line) => line.message)).toEqual(['request']);
    });
  });

  describe('the access log', () => {
    it('writes one line per request with method, path, status and request id, never the body', async () => {
      const event = httpEvent({
        method: 'POST',
        path: '/coupons',
        headers: bearer(keys.marketer),
        body: { title: 'Secret launch', discount: 10 },
      });

      await send(event);

      expect(output.lines()).toEqual([
        expect.objectContaining({
          message: 'request',
          method: 'POST',
          path: '/coupons',
          status: 201,
          ms: expect.any(Number),
          requestId: event.requestContext.requestId,
        }),
      ]);
      expect(output.text()).not.toContain('Secret launch');
    });

    it('records the status of a failed request', async () => {
      await send(httpEvent({ method: 'DELETE', path: '/coupons/c-1', headers: bearer(keys.viewer) }));

      expect(output.lines()).toEqual([expect.objectContaining({ message: 'request', status: 403 })]);
    });
  });
});
