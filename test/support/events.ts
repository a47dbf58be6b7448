import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

// Real payloads from the AWS documentation under test/events/<source>/<case>.json, loaded
// and varied by typed helpers.

export function loadEvent<T>(source: string, name: string): T {
  return JSON.parse(readFileSync(new URL(`../events/${source}/${name}.json`, import.meta.url), 'utf8'));
}

let counter = 0;

export function httpEvent({
  method,
  path,
  headers = {},
  body,
  query,
}: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  query?: Record<string, string>;
}): APIGatewayProxyEventV2 {
  // A `?query` written into the path is split off as API Gateway does.
  const [rawPath = path, search] = path.split('?', 2);
  if (search !== undefined) query = { ...Object.fromEntries(new URLSearchParams(search)), ...query };
  const base = loadEvent<APIGatewayProxyEventV2>('api-gateway', 'http-api-v2');
  const requestId = `req-${++counter}`;
  const jsonHeaders: Record<string, string> =
    body === undefined || typeof body === 'string' ? {} : { 'content-type': 'application/json' };
  const {
    cookies: _cookies,
    pathParameters: _params,
    stageVariables: _stage,
    body: _body,
    queryStringParameters: _query,
    ...rest
  } = base;
  return {
    ...rest,
    rawPath,
    rawQueryString: new URLSearchParams(query ?? {}).toString(),
    headers: { ...jsonHeaders, ...headers },
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      ...base.requestContext,
      requestId,
      http: { ...base.requestContext.http, method, path: rawPath },
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    isBase64Encoded: false,
  };
}

export function lambdaContext(functionName = 'test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `aws-${++counter}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
