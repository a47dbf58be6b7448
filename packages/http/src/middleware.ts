import type { MiddlewareObj } from '@middy/core';
import type { QunfaLogger } from '@qunfa/aws';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { errorResponse } from './errors';

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * Turns every thrown error into the stable error body (`code`, `message`, `requestId`),
 * logs 5xx with the error (masked) and 4xx as information, and never sends a stack.
 */
export function httpErrors({ logger }: { logger: QunfaLogger }): HttpMiddleware {
  return {
    onError: async (request) => {
      const requestId = request.event.requestContext?.requestId ?? request.context.awsRequestId;
      const mapped = errorResponse(request.error, requestId);
      if (mapped.statusCode >= 500) logger.error('request failed', { error: request.error, requestId });
      request.response = {
        statusCode: mapped.statusCode,
        headers: { 'content-type': 'application/json; charset=utf-8', ...mapped.headers },
        body: JSON.stringify(mapped.body),
      };
    },
  };
}

/** One structured line per request: method, path, status, duration; never the body. */
export function accessLog({
  logger,
  now = () => performance.now(),
}: {
  logger: QunfaLogger;
  now?: () => number;
}): HttpMiddleware {
  // Keyed by event: on the local stack one handler instance serves concurrent requests.
  const started = new WeakMap<APIGatewayProxyEventV2, number>();
  const log = (request: {
    event: APIGatewayProxyEventV2;
    response?: APIGatewayProxyStructuredResultV2 | null | undefined;
  }): void => {
    logger.info('request', {
      method: request.event.requestContext.http.method,
      path: request.event.rawPath,
      status: request.response?.statusCode,
      ms: Math.round(now() - (started.get(request.event) ?? now())),
      requestId: request.event.requestContext.requestId,
    });
  };
  return {
    before: async (request) => {
      started.set(request.event, now());
      logger.addContext(request.context);
    },
    after: async (request) => log(request),
    onError: async (request) => log(request),
  };
}
