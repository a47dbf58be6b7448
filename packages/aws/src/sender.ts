import { randomBytes } from 'node:crypto';
import {
  type RateLimitPlan,
  randomBase62,
  type SenderDeps,
  type SenderProvider,
  type SendRateLimiter,
  sendBatchMessage,
  startSendSession,
  type Tenant,
  type TestSendDeps,
} from '@qunfa/domain';
import { createSimulatorProvider, loadSimulatorSettings } from '@qunfa/providers';
import { queues } from '@qunfa/resources';
import { campaignStore, DynamoRunCounters, DynamoRunStore } from './campaigns';
import { ConfigError, type FunctionConfig } from './config';
import { DynamoFrequencyCapStore } from './dynamo/frequency-cap-store';
import { DynamoMemberStore } from './dynamo/member-store';
import { DynamoMessageStore } from './dynamo/message-store';
import { DynamoOptOutStore } from './dynamo/opt-out-store';
import { DynamoRateLimiter } from './dynamo/rate-limiter';
import { DynamoRunBudget } from './dynamo/run-budget';
import { DynamoTenantStore } from './dynamo/tenant-store';
import { senderLinks } from './links';
import type { QunfaLogger } from './logging/logger';
import { createQueueHandler, type QueueHandler } from './sqs/queue-handler';
import { queueDelayedBatchSender } from './sqs/send';
import { templateStore } from './templates';
import type { DocumentClient } from './wire/dynamodb';
import type { SqsClient } from './wire/sqs';

// The sender's adapters, built once per cold start (packages/domain/src/messages/sender.ts
// holds the rules): message records, members and opt-outs, campaigns, runs and counters,
// templates, frequency caps, the runs' budget counters and the shared rate limiter on
// DynamoDB, the send queue for what is put back, and the tenant's SMS provider (also built
// here for the planner's test sends).

/**
 * The rate limiter of the sender: a DynamoRateLimiter whose plan for each account is the one
 * the sender takes with (the provider's rate, or a campaign's throttle).
 */
export function plannedRateLimiter({
  client,
  tableName,
}: {
  client: DocumentClient;
  tableName: string;
}): SendRateLimiter {
  const plans = new Map<string, RateLimitPlan>();
  const limiter = new DynamoRateLimiter({
    client,
    tableName,
    planFor: (account) => {
      const plan = plans.get(account);
      if (!plan) throw new Error(`No rate plan for ${account}.`);
      return plan;
    },
  });
  return {
    take: ({ account, plan, parts, now }) => {
      plans.set(account, plan);
      return limiter.take({ account, parts, now });
    },
  };
}

/**
 * The provider of each tenant (its `provider` setting), one adapter per tenant and provider.
 * The local simulator is reached at PROVIDER_SIMULATOR_URL with the tenant as its account, so
 * its receipts come back to /callbacks/simulator/<tenant>. The real providers' credentials
 * are not configured yet: a tenant set to one fails its batches untouched (they retry and
 * reach the DLQ, to be redriven once configured) rather than failing its members.
 */
export function providerForTenant({
  env,
}: {
  env: Readonly<Record<string, string | undefined>>;
}): (tenant: Tenant) => SenderProvider {
  const providers = new Map<string, SenderProvider>();
  return (tenant) => {
    const key = `${tenant.provider}\u0000${tenant.tenantId}`;
    const known = providers.get(key);
    if (known) return known;
    if (tenant.provider !== 'simulator') {
      throw new ConfigError(
        `Tenant ${tenant.tenantId} sends through ${tenant.provider}, whose credentials the sender does not have.`,
      );
    }
    const { baseUrl } = loadSimulatorSettings(env);
    const provider = createSimulatorProvider({ baseUrl, account: tenant.tenantId });
    providers.set(key, provider);
    return provider;
  };
}

/** The sender's dependencies on DynamoDB, SQS and the provider, with the real clock. */
export function senderDeps({
  client,
  sqs,
  config,
  env = process.env,
}: {
  client: DocumentClient;
  sqs: SqsClient;
  config: Pick<FunctionConfig, 'table' | 'queueUrl'>;
  env?: Readonly<Record<string, string | undefined>>;
}): SenderDeps {
  const campaigns = config.table('campaigns');
  const suppressions = config.table('suppressions');
  return {
    messages: new DynamoMessageStore({ client, tableName: config.table('messages') }),
    members: new DynamoMemberStore({ client, tableName: config.table('members') }),
    optOuts: new DynamoOptOutStore({ client, tableName: suppressions }),
    tenants: new DynamoTenantStore({ client, tableName: config.table('tenants') }),
    campaigns: campaignStore({ client, tableName: campaigns }),
    runs: new DynamoRunStore({ client, tableName: campaigns }),
    counters: new DynamoRunCounters({ client, tableName: config.table('metrics') }),
    templates: templateStore({ client, tableName: campaigns }),
    caps: new DynamoFrequencyCapStore({ client, tableName: suppressions }),
    rateLimiter: plannedRateLimiter({ client, tableName: config.table('metrics') }),
    budget: new DynamoRunBudget({ client, tableName: config.table('metrics') }),
    providerFor: providerForTenant({ env }),
    requeue: queueDelayedBatchSender({
      client: sqs,
      queueUrl: config.queueUrl('send'),
      schema: sendBatchMessage,
    }),
    now: () => new Date(),
    random: Math.random,
    newToken: () => randomBase62({ random: (size) => randomBytes(size), length: 16 }),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    settings: { leaseMs: queues.send.visibilityTimeoutSeconds * 1_000 },
    links: senderLinks({ client, tableName: config.table('messages'), env }),
  };
}

/**
 * What a test send (POST /campaigns/{id}/test-send, served by the planner) needs: the same
 * provider of each tenant and the same shared rate limiter as the sender, message records to
 * keep the test sends in, and the campaign, template, member and opt-out reads.
 */
export function testSendDeps({
  client,
  config,
  env = process.env,
}: {
  client: DocumentClient;
  config: Pick<FunctionConfig, 'table'>;
  env?: Readonly<Record<string, string | undefined>>;
}): TestSendDeps {
  const campaigns = config.table('campaigns');
  return {
    campaigns: campaignStore({ client, tableName: campaigns }),
    templates: templateStore({ client, tableName: campaigns }),
    members: new DynamoMemberStore({ client, tableName: config.table('members') }),
    optOuts: new DynamoOptOutStore({ client, tableName: config.table('suppressions') }),
    messages: new DynamoMessageStore({ client, tableName: config.table('messages') }),
    rateLimiter: plannedRateLimiter({ client, tableName: config.table('metrics') }),
    providerFor: providerForTenant({ env }),
    random: (size) => randomBytes(size),
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/**
 * The send queue's handler: one session per invocation (its batches, then one counter add
 * per run and the completion check), stopping new work `marginMs` before the function's
 * timeout so that no invocation is killed between its writes and its counter add.
 */
export function createSenderHandler({
  deps,
  logger,
  marginMs = 15_000,
}: {
  deps: SenderDeps;
  logger: QunfaLogger;
  marginMs?: number;
}): QueueHandler {
  return async (event, context) => {
    const deadline = new Date(deps.now().getTime() + context.getRemainingTimeInMillis() - marginMs);
    const session = startSendSession(deps, { deadline });
    const handle = createQueueHandler({
      schema: sendBatchMessage,
      logger,
      process: async (message, record) => {
        const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
        const report = await session.process(message, { receiveCount });
        logger.info('send batch processed', {
          tenantId: message.tenantId,
          campaignId: message.campaignId,
          runId: message.runId,
          members: message.memberIds.length,
          receiveCount,
          ...(message.probe ? { probe: true } : {}),
          ...report,
        });
      },
    });
    try {
      return await handle(event, context);
    } finally {
      // Counts of the batches done are added even when one failed: their moves were made.
      for (const settlement of await session.close()) {
        if (settlement.outcome !== 'unsettled') logger.info('run settlement', { ...settlement });
      }
    }
  };
}
