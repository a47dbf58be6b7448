import { receiptQueueMessage, type SmsProviderId, type Tenant, type TenantStore } from '@qunfa/domain';
import {
  type CallbackIntakeDeps,
  type CallbackReplayGuard,
  type CallbackSecrets,
  simulatorAccountSecret,
  simulatorEnvNames,
} from '@qunfa/providers';
import { ConfigError, type FunctionConfig } from './config';
import { DynamoTenantStore } from './dynamo/tenant-store';
import type { QunfaLogger } from './logging/logger';
import { queueSender } from './sqs/send';
import {
  ConditionalCheckFailedException,
  DeleteCommand,
  type DocumentClient,
  PutCommand,
} from './wire/dynamodb';
import type { SqsClient } from './wire/sqs';

// The callbacks function's adapters, built once per cold start: the tenants it looks the
// account up in, the callback ids it has seen (metrics table), the receipt queue, and the
// callback secrets.

/**
 * Layout (docs/data-model.md), metrics table: pk = `<tenant>#CALLBACK#<provider>#<callbackId>`,
 * sk = `SEEN`, expiresAt. One conditional PutItem per signed callback: the first stands, a
 * second with the same id (the same signed bytes again) fails the condition. Callback ids
 * are random, so the writes spread over as many partitions as there are callbacks.
 */
export class DynamoCallbackReplayGuard implements CallbackReplayGuard {
  readonly #client: DocumentClient;
  readonly #tableName: string;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
  }

  static keyOf(input: { tenantId: string; provider: SmsProviderId; callbackId: string }): {
    pk: string;
    sk: string;
  } {
    return { pk: `${input.tenantId}#CALLBACK#${input.provider}#${input.callbackId}`, sk: 'SEEN' };
  }

  async claim(input: Parameters<CallbackReplayGuard['claim']>[0]): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            ...DynamoCallbackReplayGuard.keyOf(input),
            // TTL deletes lazily (within days), so an expired item still present is no replay.
            expiresAt: Math.ceil(input.expiresAt.getTime() / 1000),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async release(input: Parameters<CallbackReplayGuard['release']>[0]): Promise<void> {
    await this.#client.send(
      new DeleteCommand({ TableName: this.#tableName, Key: DynamoCallbackReplayGuard.keyOf(input) }),
    );
  }
}

/**
 * The callback secrets this deployment has: the simulator's, each account's derived from
 * PROVIDER_SIMULATOR_CALLBACK_SECRET (the local stack sets it). The real providers' tokens and
 * auth tokens belong in a secret store read through this same port; none is wired yet, so
 * their callbacks are refused 401 (docs/callbacks.md, "Secrets").
 */
export function environmentCallbackSecrets(
  env: Readonly<Record<string, string | undefined>>,
): CallbackSecrets {
  const callbackSecret = env[simulatorEnvNames.callbackSecret];
  if (callbackSecret !== undefined && callbackSecret.length < 16) {
    throw new ConfigError(`${simulatorEnvNames.callbackSecret} must be at least 16 characters.`);
  }
  return {
    secretFor: async ({ provider, account }) =>
      provider === 'simulator' && callbackSecret !== undefined
        ? simulatorAccountSecret({ callbackSecret, account })
        : undefined,
  };
}

/**
 * The tenants a warm container has found, each remembered for `ttlMs`: a provider pushes its
 * receipts in bursts, and each callback of a burst needs the same tenant. A tenant not found
 * (or a failed read) is not remembered, so a tenant created a moment later is found at once.
 */
export function rememberedTenants(
  store: Pick<TenantStore, 'getTenant'>,
  { ttlMs = 60_000, now = Date.now }: { ttlMs?: number; now?: () => number } = {},
): Pick<TenantStore, 'getTenant'> {
  const known = new Map<string, { readonly at: number; readonly tenant: Promise<Tenant | undefined> }>();
  return {
    getTenant: (tenantId) => {
      const hit = known.get(tenantId);
      if (hit && now() - hit.at < ttlMs) return hit.tenant;
      const tenant = store.getTenant(tenantId);
      known.set(tenantId, { at: now(), tenant });
      const forget = (): void => {
        if (known.get(tenantId)?.tenant === tenant) known.delete(tenantId);
      };
      tenant.then((found) => found === undefined && forget(), forget);
      return tenant;
    },
  };
}

/** What acceptCallback needs, on DynamoDB and SQS, with the real clock. */
export function callbackDeps({
  client,
  sqs,
  config,
  logger,
  env = process.env,
}: {
  client: DocumentClient;
  sqs: SqsClient;
  config: Pick<FunctionConfig, 'table' | 'queueUrl'>;
  logger: QunfaLogger;
  env?: Readonly<Record<string, string | undefined>>;
}): CallbackIntakeDeps {
  return {
    tenants: rememberedTenants(new DynamoTenantStore({ client, tableName: config.table('tenants') })),
    secrets: environmentCallbackSecrets(env),
    replays: new DynamoCallbackReplayGuard({ client, tableName: config.table('metrics') }),
    enqueue: queueSender({ client: sqs, queueUrl: config.queueUrl('receipt'), schema: receiptQueueMessage }),
    now: () => new Date(),
    log: (message, attributes) => logger.warn(message, attributes),
  };
}
