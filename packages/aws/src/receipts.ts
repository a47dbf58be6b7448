import {
  type ReceiptDeps,
  type ReplyOutcome,
  type ReplyRuleDeps,
  type ReplyStore,
  replyRule,
  replyRulesId,
  type SavedReplyRules,
  type StoredReply,
} from '@qunfa/domain';
import * as z from 'zod';
import { DynamoRunCounters } from './campaigns';
import type { FunctionConfig } from './config';
import { DynamoMessageActivityStore } from './dynamo/engagement-store';
import { DynamoMemberStore } from './dynamo/member-store';
import { DynamoMessageStore } from './dynamo/message-store';
import { DynamoOptOutStore } from './dynamo/opt-out-store';
import { DynamoRecordStore } from './dynamo/record-store';
import { DynamoTenantStore } from './dynamo/tenant-store';
import type { QunfaLogger } from './logging/logger';
import { plannedRateLimiter, providerForTenant } from './sender';
import {
  ConditionalCheckFailedException,
  type DocumentClient,
  PutCommand,
  UpdateCommand,
} from './wire/dynamodb';

// The receipt processor's adapters, built once per cold start (packages/domain/src/receipts/
// holds the rules): message records, members and opt-outs, the run counters, the replies
// and the tenants' reply rules on DynamoDB, and the tenant's provider with the shared rate
// limiter for the answers to replies.

/**
 * Layout (docs/data-model.md), messages table:
 *   reply   pk = <tenant>#REPLY#<bucket 00–15 of the reply id>   sk = <reply id>
 *           gsi1pk = <tenant>#REPLIES#<runId>   gsi1sk = <at>#<reply id>   (when it answers a run)
 * Replies arrive at a few per second per tenant at most (a campaign of a million draws a
 * few thousand over hours); 16 buckets keep a burst far from any partition's limit. They
 * expire with the message records, 180 days on.
 */
export class DynamoReplyStore implements ReplyStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
  }

  static keyOf(tenantId: string, replyId: string): { pk: string; sk: string } {
    let hash = 0;
    for (const char of replyId) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) % 16;
    return { pk: `${tenantId}#REPLY#${String(hash).padStart(2, '0')}`, sk: replyId };
  }

  async claim(
    tenantId: string,
    reply: StoredReply,
    { now, leaseMs }: { now: Date; leaseMs: number },
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            ...DynamoReplyStore.keyOf(tenantId, reply.replyId),
            ...reply,
            status: 'received',
            claimedAt: now.toISOString(),
            expiresAt: Math.floor(now.getTime() / 1000) + 180 * 86_400,
          },
          // The first taker applies it; a retry of the same reply while it is being applied,
          // or after, changes nothing. One left `received` past its lease was abandoned.
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :received AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':received': 'received',
            ':stale': new Date(now.getTime() - leaseMs).toISOString(),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async markApplied(
    tenantId: string,
    replyId: string,
    outcome: ReplyOutcome & { at: string },
  ): Promise<void> {
    const { at, runId, ...rest } = outcome;
    const fields: Record<string, unknown> = { ...rest, ...(runId === undefined ? {} : { runId }) };
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':applied': 'applied', ':at': at };
    const assignments = ['#status = :applied', 'appliedAt = :at'];
    for (const [name, value] of Object.entries(fields)) {
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      assignments.push(`#${name} = :${name}`);
    }
    if (runId !== undefined) {
      assignments.push('gsi1pk = :runKey', 'gsi1sk = :runSort');
      values[':runKey'] = `${tenantId}#REPLIES#${runId}`;
      values[':runSort'] = `${at}#${replyId}`;
    }
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: DynamoReplyStore.keyOf(tenantId, replyId),
        UpdateExpression: `SET ${assignments.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }
}

const savedReplyRules: z.ZodType<SavedReplyRules> = z.object({
  rules: z.array(replyRule),
  helpText: z.string().exactOptional(),
  optOutConfirmation: z.string().exactOptional(),
  optInConfirmation: z.string().exactOptional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The tenants' reply rules: one record of kind REPLYRULES per tenant, in the campaigns table. */
export function replyRuleStore({
  client,
  tableName,
}: {
  client: DocumentClient;
  tableName: string;
}): DynamoRecordStore<SavedReplyRules> {
  return new DynamoRecordStore({
    client,
    tableName,
    kind: 'REPLYRULES',
    schema: savedReplyRules,
    label: 'Reply rules',
  });
}

/** The API's reply-rule dependencies (GET/PUT /reply-rules). */
export function replyRuleDeps({
  client,
  config,
}: {
  client: DocumentClient;
  config: Pick<FunctionConfig, 'table'>;
}): ReplyRuleDeps {
  return {
    replyRules: replyRuleStore({ client, tableName: config.table('campaigns') }),
    now: () => new Date(),
  };
}

/** The receipt processor's dependencies on DynamoDB and the provider, with the real clock. */
export function receiptDeps({
  client,
  config,
  logger,
  env = process.env,
}: {
  client: DocumentClient;
  config: Pick<FunctionConfig, 'table'>;
  logger: Pick<QunfaLogger, 'info'>;
  env?: Readonly<Record<string, string | undefined>>;
}): ReceiptDeps {
  const suppressions = config.table('suppressions');
  const rules = replyRuleStore({ client, tableName: config.table('campaigns') });
  return {
    records: new DynamoMessageStore({ client, tableName: config.table('messages') }),
    members: new DynamoMemberStore({ client, tableName: config.table('members') }),
    optOuts: new DynamoOptOutStore({ client, tableName: suppressions }),
    counters: new DynamoRunCounters({ client, tableName: config.table('metrics') }),
    activity: new DynamoMessageActivityStore({ client, tableName: config.table('messages') }),
    replies: new DynamoReplyStore({ client, tableName: config.table('messages') }),
    replyRules: { get: (tenantId) => rules.get(tenantId, replyRulesId) },
    tenants: new DynamoTenantStore({ client, tableName: config.table('tenants') }),
    providerFor: providerForTenant({ env }),
    rateLimiter: plannedRateLimiter({ client, tableName: config.table('metrics') }),
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: (message, fields) => logger.info(message, fields),
  };
}
