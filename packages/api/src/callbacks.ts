import middy from '@middy/core';
import type { QunfaLogger } from '@qunfa/aws';
import {
  NotFoundError,
  type SmsProviderId,
  smsProviderIds,
  UnauthorizedError,
  ValidationError,
} from '@qunfa/domain';
import {
  accessLog,
  httpErrors,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
} from '@qunfa/http';
import {
  acceptCallback,
  type CallbackIntakeDeps,
  type CallbackKind,
  type CallbackOutcome,
  type CallbackRequest,
  maxCallbackBytes,
} from '@qunfa/providers';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

// The provider callback endpoints, POST /callbacks/{provider}/{account}[/receipts|/replies]:
// the HTTP side of acceptCallback (@qunfa/providers callbacks/intake.ts). The event becomes
// a CallbackRequest (raw body bytes, the URL as the provider called it); the outcome becomes
// the provider's own success answer, or an error through the one error mapping (4xx for the
// caller's mistake, 5xx when the enqueue failed, so the provider retries).

const callbackPath = /^\/callbacks\/([^/]+)\/([^/]+)(?:\/(receipts|replies))?\/?$/;

const isProvider = (value: string): value is SmsProviderId =>
  (smsProviderIds as readonly string[]).includes(value);

/** The URL as the provider called it: Twilio signs scheme, host, path and query. */
function calledUrl(event: APIGatewayProxyEventV2): string {
  const proto = event.headers['x-forwarded-proto'] ?? 'https';
  const host = event.headers.host ?? event.requestContext.domainName;
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  return `${proto}://${host}${event.rawPath}${query}`;
}

/** The event as a callback request, or the HTTP error it already is. */
export function callbackRequestOf(event: APIGatewayProxyEventV2): CallbackRequest {
  const method = event.requestContext.http.method.toUpperCase();
  const match = callbackPath.exec(event.rawPath);
  if (!match?.[1] || !match[2]) throw new RouteNotFoundError(method, event.rawPath);
  if (method !== 'POST') throw new MethodNotAllowedError(method, event.rawPath, ['POST']);
  const provider = match[1];
  if (provider === 'aws') {
    throw new NotFoundError(
      'AWS End User Messaging SMS publishes its events to SNS, not to an HTTP callback: see docs/callbacks.md.',
    );
  }
  if (!isProvider(provider))
    throw new NotFoundError(`No provider ${provider}; callbacks take ${smsProviderIds.join(', ')}.`);
  let account: string;
  try {
    account = decodeURIComponent(match[2]);
  } catch {
    throw new ValidationError([{ path: 'path.account', message: 'not a valid percent-encoded value' }]);
  }
  if (account.length > 100)
    throw new ValidationError([{ path: 'path.account', message: 'longer than 100 characters' }]);
  const kind =
    match[3] === 'receipts' || match[3] === 'replies' ? (match[3] satisfies CallbackKind) : undefined;
  const text = event.body ?? '';
  return {
    provider,
    account,
    kind,
    url: calledUrl(event),
    headers: event.headers,
    query: event.queryStringParameters ?? {},
    body: event.isBase64Encoded ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  };
}

/** A refusal as the error the one mapping turns into its status and body. */
function refusalError(
  outcome: Extract<CallbackOutcome, { accepted: false }>,
  event: APIGatewayProxyEventV2,
): Error {
  switch (outcome.refusal) {
    case 'no_endpoint':
      return new RouteNotFoundError(event.requestContext.http.method, event.rawPath);
    case 'not_found':
      return new NotFoundError(outcome.message);
    case 'unauthorized':
      return new UnauthorizedError(outcome.message);
    case 'invalid':
      return new ValidationError(outcome.problems ?? [], outcome.message);
    case 'too_large':
      return new PayloadTooLargeError(maxCallbackBytes);
    case 'unsupported_media_type':
      return new UnsupportedMediaTypeError(
        (event.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '',
        outcome.expected ?? "the provider's documented media type",
      );
  }
}

export type CallbackHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export function createCallbackHandler({
  deps,
  logger,
}: {
  deps: CallbackIntakeDeps;
  logger: QunfaLogger;
}): CallbackHandler {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(accessLog({ logger }))
    .use(httpErrors({ logger }))
    .handler(async (event) => {
      const request = callbackRequestOf(event);
      const outcome = await acceptCallback({ deps, request });
      if (!outcome.accepted) {
        // Phones and bodies stay out of the log: the provider, the account and why.
        logger.info('callback refused', {
          provider: request.provider,
          account: request.account,
          refusal: outcome.refusal,
          message: outcome.message,
        });
        throw refusalError(outcome, event);
      }
      logger.info('callback accepted', {
        provider: request.provider,
        tenantId: outcome.tenantId,
        events: outcome.events,
        ...(outcome.callbackId ? { callbackId: outcome.callbackId } : {}),
      });
      const { status, contentType, body } = outcome.answer;
      return {
        statusCode: status,
        headers: contentType ? { 'content-type': contentType } : {},
        ...(body === undefined ? {} : { body }),
      };
    });
}
