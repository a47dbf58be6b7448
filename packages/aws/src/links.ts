import { randomBytes } from 'node:crypto';
import { type ConversionDeps, type FollowLinkDeps, followShortLink, type SenderLinks } from '@qunfa/domain';
import { publicUrlEnv } from '@qunfa/resources';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DynamoRunCounters } from './campaigns';
import type { FunctionConfig } from './config';
import {
  DynamoConversionStore,
  DynamoMessageActivityStore,
  DynamoShortLinkStore,
} from './dynamo/engagement-store';
import { DynamoMemberStore } from './dynamo/member-store';
import type { QunfaLogger } from './logging/logger';
import type { DocumentClient } from './wire/dynamodb';

// Short links and conversions on DynamoDB (packages/domain/src/engagement holds the rules):
// the `links` function's dependencies and handler, the sender's short-link maker and the
// API's conversion dependencies.

export function linkDeps({
  client,
  config,
}: {
  client: DocumentClient;
  config: Pick<FunctionConfig, 'table'>;
}): FollowLinkDeps {
  const messages = config.table('messages');
  return {
    links: new DynamoShortLinkStore({ client, tableName: messages }),
    activity: new DynamoMessageActivityStore({ client, tableName: messages }),
    counters: new DynamoRunCounters({ client, tableName: config.table('metrics') }),
    now: () => new Date(),
  };
}

/**
 * The sender's short links. The default domain is read when a link is made, not at cold
 * start: on the local stack the gateway's address is known only after the sender is loaded.
 */
export function senderLinks({
  client,
  tableName,
  env = process.env,
}: {
  client: DocumentClient;
  tableName: string;
  env?: Readonly<Record<string, string | undefined>>;
}): SenderLinks {
  return {
    store: new DynamoShortLinkStore({ client, tableName }),
    defaultDomain: () => env[publicUrlEnv] || undefined,
    random: (size) => randomBytes(size),
  };
}

/** POST /events on DynamoDB: members by phone, the activity index, conversions with counters. */
export function conversionDeps({
  client,
  config,
}: {
  client: DocumentClient;
  config: Pick<FunctionConfig, 'table'>;
}): ConversionDeps {
  const messages = config.table('messages');
  return {
    members: new DynamoMemberStore({ client, tableName: config.table('members') }),
    activity: new DynamoMessageActivityStore({ client, tableName: messages }),
    conversions: new DynamoConversionStore({
      client,
      tableName: messages,
      counters: new DynamoRunCounters({ client, tableName: config.table('metrics') }),
    }),
    now: () => new Date(),
  };
}

const page = (title: string, text: string): string =>
  `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title><p>${text}</p></html>`;

const notFound = page('链接无效 · Link not found', '此链接无效。This link does not exist.');
const expired = page('链接已过期 · Link expired', '此链接已过期。This link has expired.');

export type LinkHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * `GET /l/{code}`: 302 to the stored URL (no-store, so every click reaches us; no referrer,
 * so the code is not leaked to the merchant's page), a small page for an unknown (404) or
 * expired (410) code, 405 for other methods. Never a stack trace: an error is logged, and a
 * failed look-up answers 503 with a page.
 */
export function createLinkHandler({
  deps,
  logger,
}: {
  deps: FollowLinkDeps;
  logger: QunfaLogger;
}): LinkHandler {
  const html = (statusCode: number, body: string): APIGatewayProxyStructuredResultV2 => ({
    statusCode,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body,
  });
  return async (event) => {
    const method = event.requestContext.http.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      return { ...html(405, page('405', 'Method not allowed.')), headers: { allow: 'GET, HEAD' } };
    }
    const code = event.pathParameters?.code ?? event.rawPath.split('/').pop() ?? '';
    try {
      const outcome = await followShortLink(deps, {
        code,
        method,
        userAgent: event.headers['user-agent'],
      });
      if (outcome.kind === 'unknown') return html(404, notFound);
      if (outcome.kind === 'expired') return html(410, expired);
      if (outcome.recordError !== undefined)
        logger.error('click not recorded', { code, error: outcome.recordError });
      return {
        statusCode: 302,
        headers: { location: outcome.url, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
        body: '',
      };
    } catch (error) {
      logger.error('short link look-up failed', { code, error });
      return html(503, page('503', '请稍后再试。Please try again shortly.'));
    }
  };
}
