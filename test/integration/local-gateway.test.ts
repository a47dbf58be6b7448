import { request as httpRequest } from 'node:http';
import {
  createLogger,
  type Gateway,
  type HealthReport,
  type HttpHandler,
  PortInUseError,
  startGateway,
} from '@qunfa/local';
import { httpRoutes } from '@qunfa/resources';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadEvent } from '../support/events';

// The gateway stands in for API Gateway's HTTP API with the Lambda proxy integration
// (payload format 2.0); these specifications hold it to the documented event and response
// mapping, with test handlers behind the model's routes.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html

let gateway: Gateway;
let seen: { functionId: string; event: APIGatewayProxyEventV2; context: Context } | undefined;
let answer: (event: APIGatewayProxyEventV2) => unknown;
let health: HealthReport;

const capture =
  (functionId: string): HttpHandler =>
  async (event, context) => {
    seen = { functionId, event, context };
    return answer(event);
  };

const functions = {
  api: { name: 'qunfa-test-api', timeoutSeconds: 0.5, memoryMb: 1024, handler: capture('api') },
  planner: { name: 'qunfa-test-planner', timeoutSeconds: 0.5, memoryMb: 1024, handler: capture('planner') },
  tester: { name: 'qunfa-test-tester', timeoutSeconds: 0.5, memoryMb: 512, handler: capture('tester') },
  callbacks: {
    name: 'qunfa-test-callbacks',
    timeoutSeconds: 10,
    memoryMb: 512,
    handler: capture('callbacks'),
  },
  links: { name: 'qunfa-test-links', timeoutSeconds: 0.5, memoryMb: 256, handler: capture('links') },
};

beforeAll(async () => {
  gateway = await startGateway({
    port: 0,
    routes: httpRoutes,
    functions,
    health: async () => health,
    maxBodyBytes: 1024 * 1024,
    logger: createLogger({ component: 'test', level: 'SILENT' }),
  });
});
afterAll(() => gateway.stop());
beforeEach(() => {
  seen = undefined;
  answer = () => ({ statusCode: 204 });
});

/** A raw HTTP request, so duplicate headers and exact bytes reach the gateway as sent. */
async function send({
  method = 'GET',
  path,
  headers = [],
  body,
}: {
  method?: string;
  path: string;
  headers?: [string, string][];
  body?: string | Buffer;
}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const url = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      // Raw headers keep duplicates apart; they also leave out Host unless it is given.
      { host: url.hostname, port: url.port, method, path, headers: [['Host', url.host], ...headers].flat() },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function event(): APIGatewayProxyEventV2 {
  if (!seen) throw new Error('no handler was invoked');
  return seen.event;
}

describe('startGateway', () => {
  describe('the event', () => {
    it('is the documented payload format 2.0 event for the documented request', async () => {
      const documented = loadEvent<APIGatewayProxyEventV2>('api-gateway', 'http-api-v2');

      await send({
        method: 'POST',
        path: '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
        headers: [
          ['Header1', 'value1'],
          ['Header2', 'value1'],
          ['Header2', 'value2'],
          ['Cookie', 'cookie1; cookie2'],
          ['User-Agent', 'agent'],
          ['Content-Type', 'text/plain'],
        ],
        body: 'Hello from Lambda',
      });

      const received = event();
      expect(received).toMatchObject({
        version: documented.version,
        routeKey: documented.routeKey,
        rawPath: documented.rawPath,
        rawQueryString: documented.rawQueryString,
        cookies: documented.cookies,
        headers: { header1: 'value1', header2: 'value1,value2' },
        queryStringParameters: documented.queryStringParameters,
        body: documented.body,
        isBase64Encoded: false,
        requestContext: {
          accountId: '000000000000',
          apiId: 'local',
          domainName: '127.0.0.1',
          domainPrefix: '127',
          http: { ...documented.requestContext.http, sourceIp: '127.0.0.1' },
          requestId: expect.stringMatching(/^[A-Za-z0-9+/]{14}==?$/),
          routeKey: '$default',
          stage: '$default',
          time: expect.stringMatching(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/),
          timeEpoch: expect.any(Number),
        },
      });
      // The same fields as the documented event, minus those a $default route without stage
      // variables does not have.
      const { pathParameters: _p, stageVariables: _s, ...expectedKeys } = documented;
      expect(Object.keys(received).toSorted()).toEqual(Object.keys(expectedKeys).toSorted());
      expect(Object.keys(received.requestContext).toSorted()).toEqual(
        Object.keys(documented.requestContext).toSorted(),
      );
      expect(received.headers).not.toHaveProperty('cookie');
      expect(received.headers).toMatchObject({
        'content-type': 'text/plain',
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-amzn-trace-id': expect.stringMatching(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/),
      });
    });

    it('routes /callbacks/{proxy+} to callbacks with its path parameter, the rest to $default', async () => {
      await send({ method: 'POST', path: '/callbacks/aliyun/receipts' });
      expect(seen?.functionId).toBe('callbacks');
      expect(event()).toMatchObject({
        routeKey: 'ANY /callbacks/{proxy+}',
        rawPath: '/callbacks/aliyun/receipts',
        pathParameters: { proxy: 'aliyun/receipts' },
        requestContext: { routeKey: 'ANY /callbacks/{proxy+}' },
      });

      await send({ path: '/callbacks' });
      expect(seen?.functionId).toBe('api');
      expect(event().routeKey).toBe('$default');
      expect(event()).not.toHaveProperty('pathParameters');
    });

    it('routes a short link, /l/{code}, to links with its code', async () => {
      await send({ path: '/l/Ab3dE9xy' });
      expect(seen?.functionId).toBe('links');
      expect(event()).toMatchObject({ routeKey: 'ANY /l/{code}', pathParameters: { code: 'Ab3dE9xy' } });
    });

    it('leaves out body, cookies and queryStringParameters when the request has none', async () => {
      await send({ path: '/members' });

      expect(event()).toMatchObject({ rawQueryString: '', isBase64Encoded: false });
      expect(event()).not.toHaveProperty('body');
      expect(event()).not.toHaveProperty('cookies');
      expect(event()).not.toHaveProperty('queryStringParameters');
    });

    it('hands JSON bodies over as text, byte for byte', async () => {
      const body = '{"name":"王小明","phone":"+8613800138000"}';

      await send({
        method: 'POST',
        path: '/members',
        headers: [['content-type', 'application/json; charset=utf-8']],
        body,
      });

      expect(event()).toMatchObject({
        body,
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST' } },
      });
    });

    it.each([
      ['application/octet-stream', Buffer.from([0, 1, 2, 250, 255])],
      ['application/x-www-form-urlencoded', Buffer.from('MessageStatus=delivered&To=%2B15551234567')],
      ['image/png', Buffer.from([137, 80, 78, 71])],
    ])('base64-encodes a %s body, as HTTP APIs do', async (contentType, bytes) => {
      await send({
        method: 'POST',
        path: '/callbacks/twilio',
        headers: [['content-type', contentType]],
        body: bytes,
      });

      expect(event().isBase64Encoded).toBe(true);
      expect(Buffer.from(event().body ?? '', 'base64')).toEqual(bytes);
    });

    it('decodes the path but keeps %25 encoded, and decodes query parameters', async () => {
      await send({ path: '/segments/%E4%BC%9A%E5%91%98%20VIP%2525?q=a%20b&tag=x&tag=y' });

      expect(event()).toMatchObject({
        rawPath: '/segments/会员 VIP%2525',
        rawQueryString: 'q=a%20b&tag=x&tag=y',
        queryStringParameters: { q: 'a b', tag: 'x,y' },
        requestContext: { http: { path: '/segments/会员 VIP%2525' } },
      });
    });

    it('gives the handler a context with the function timeout', async () => {
      await send({ path: '/members' });

      expect(seen?.context).toMatchObject({
        functionName: 'qunfa-test-api',
        memoryLimitInMB: '1024',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:qunfa-test-api',
      });
      expect(seen?.context.getRemainingTimeInMillis()).toBeLessThanOrEqual(500);
    });
  });

  describe('the response', () => {
    it('maps status, headers, each cookie to its own set-cookie header, and a base64 body', async () => {
      answer = () => ({
        statusCode: 201,
        headers: { 'Content-Type': 'image/png', 'X-Count': 3 },
        cookies: ['a=1; Path=/', 'b=2; HttpOnly'],
        body: Buffer.from([137, 80, 78, 71]).toString('base64'),
        isBase64Encoded: true,
      });

      const response = await send({ path: '/logo.png' });

      expect(response.status).toBe(201);
      expect(response.headers).toMatchObject({
        'content-type': 'image/png',
        'x-count': '3',
        'set-cookie': ['a=1; Path=/', 'b=2; HttpOnly'],
        'apigw-requestid': event().requestContext.requestId,
      });
      expect(response.body).toEqual(Buffer.from([137, 80, 78, 71]));
    });

    it.each([
      [{ members: [] }, '{"members":[]}'],
      ['plain words', 'plain words'],
    ])('answers 200 application/json with %j, a result without statusCode', async (result, body) => {
      answer = () => result;

      const response = await send({ path: '/anything' });

      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.body.toString()).toBe(body);
    });

    it('answers 500 internal_error with the request id, and no stack, when the handler throws', async () => {
      answer = () => {
        throw new Error('secret detail at /work/main/packages/x.ts:12');
      };

      const response = await send({ path: '/members' });
      const body: unknown = JSON.parse(response.body.toString());

      expect(response.status).toBe(500);
      expect(body).toEqual({
        code: 'internal_error',
        message: expect.any(String),
        requestId: event().requestContext.requestId,
      });
      expect(response.body.toString()).not.toMatch(/secret|\.ts|at /);
    });

    it('answers 500 internal_error when the handler outlives the function timeout', async () => {
      answer = () => new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200 }), 1_500));

      const response = await send({ path: '/slow' });

      expect(response.status).toBe(500);
      expect(JSON.parse(response.body.toString())).toMatchObject({ code: 'internal_error' });
    });

    it('answers 500 when the result has a statusCode API Gateway cannot use', async () => {
      answer = () => ({ statusCode: 'ok' });

      const response = await send({ path: '/members' });

      expect(response.status).toBe(500);
    });

    it('answers 413 above the payload limit without invoking the handler', async () => {
      const response = await send({ method: 'POST', path: '/members', body: Buffer.alloc(1024 * 1024 + 1) });

      expect(response.status).toBe(413);
      expect(seen).toBeUndefined();
    });
  });

  describe('GET /health', () => {
    const report = (ok: boolean): HealthReport => ({
      ok,
      checkedAt: new Date().toISOString(),
      components: {
        dynamodb: { ok: true },
        sqs: { ok },
        pollers: { ok: true },
        scheduler: { ok: true },
        simulator: { ok: true },
        api: { ok: true },
      },
    });

    it('is answered by the gateway: 200 with every component when all are green', async () => {
      health = report(true);

      const response = await send({ path: '/health' });

      expect(response.status).toBe(200);
      expect(JSON.parse(response.body.toString())).toEqual(health);
      expect(seen).toBeUndefined();
    });

    it('is 503 when a component is red', async () => {
      health = report(false);

      const response = await send({ path: '/health' });

      expect(response.status).toBe(503);
      expect(JSON.parse(response.body.toString())).toMatchObject({
        ok: false,
        components: { sqs: { ok: false } },
      });
    });
  });

  it('answers 404 when no route matches and there is no $default route', async () => {
    const narrow = await startGateway({
      port: 0,
      routes: [{ path: '/callbacks/{proxy+}', functionId: 'callbacks' }],
      functions: {
        callbacks: { name: 'c', timeoutSeconds: 1, memoryMb: 128, handler: capture('callbacks') },
      },
    });
    try {
      const response = await fetch(new URL('/members', narrow.url));

      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: 'Not Found' });
    } finally {
      await narrow.stop();
    }
  });

  it('refuses a port in use with an error naming PORT', async () => {
    const attempt = startGateway({ port: gateway.port, routes: httpRoutes, functions });

    await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
    await expect(attempt).rejects.toThrow(/Port \d+ is already in use.*PORT=/);
  });
});
