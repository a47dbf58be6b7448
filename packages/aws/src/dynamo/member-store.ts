import {
  ConflictError,
  consent,
  e164,
  inChunks,
  type Member,
  type MemberPage,
  type MemberStore,
  mapWithConcurrency,
  memberFields,
  memberShard,
  memberShardCount,
  phoneHash,
  phoneStatuses,
  ValidationError,
} from '@qunfa/domain';
import * as z from 'zod';
import {
  ConditionalCheckFailedException,
  DeleteCommand,
  type DocumentClient,
  GetCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteCommand,
  UpdateCommand,
} from '../wire/dynamodb';
import { batchGetItems } from './batch-get';

// Layout (docs/data-model.md), members table:
//   member   pk = <tenant>#M#<shard 00–31>   sk = M#<memberId>
//            gsi1pk = <tenant>#PH#<phone hash>   gsi1sk = <memberId>   (keys-only index)
// Tags are a string set, so bulk tagging is one UpdateItem (ADD / DELETE) per member.

const shardKey = (tenantId: string, shard: number): string =>
  `${tenantId}#M#${String(shard).padStart(2, '0')}`;
const memberSk = (memberId: string): string => `M#${memberId}`;
const keyOf = (tenantId: string, memberId: string) => ({
  pk: shardKey(tenantId, memberShard(memberId)),
  sk: memberSk(memberId),
});

const { phone: _raw, tags: _tags, consent: _consent, ...profile } = memberFields.shape;
const storedMember = z.object({
  ...profile,
  memberId: z.string(),
  phone: e164,
  phoneStatus: z.enum(phoneStatuses),
  tags: z
    .set(z.string())
    .optional()
    .transform((tags) => [...(tags ?? [])].sort()),
  consent,
  createdAt: z.string(),
  updatedAt: z.string(),
});

function toMember(item: Record<string, unknown>): Member {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, ...rest } = item;
  return storedMember.parse(rest);
}

function toItem(tenantId: string, member: Member): Record<string, unknown> {
  const { tags, ...rest } = member;
  return {
    ...keyOf(tenantId, member.memberId),
    gsi1pk: `${tenantId}#PH#${phoneHash({ tenantId, phone: member.phone })}`,
    gsi1sk: member.memberId,
    ...rest,
    ...(tags.length > 0 ? { tags: new Set(tags) } : {}),
  };
}

const cursorSchema = z.object({
  s: z
    .number()
    .int()
    .min(0)
    .max(memberShardCount - 1),
  k: z.string().optional(),
});

function decodeCursor(cursor: string | undefined): z.infer<typeof cursorSchema> {
  if (cursor === undefined) return { s: 0 };
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ValidationError([{ path: 'query.cursor', message: 'not a cursor this API returned' }]);
  }
}

const encodeCursor = (value: z.infer<typeof cursorSchema>): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

export class DynamoMemberStore implements MemberStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async get(tenantId: string, memberId: string): Promise<Member | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: keyOf(tenantId, memberId) }),
    );
    return Item ? toMember(Item) : undefined;
  }

  /** Consistent reads: an import batch must see what the previous batch wrote. */
  async getMany(
    tenantId: string,
    memberIds: readonly string[],
    { consistent = true }: { readonly consistent?: boolean } = {},
  ): Promise<Map<string, Member>> {
    const items = await batchGetItems({
      client: this.#client,
      tableName: this.#tableName,
      keys: [...new Set(memberIds)].map((id) => keyOf(tenantId, id)),
      consistentRead: consistent,
    });
    return new Map(items.map((item) => [String(item.memberId), toMember(item)]));
  }

  async put(
    tenantId: string,
    writes: readonly { member: Member; expectedUpdatedAt?: string | null }[],
  ): Promise<void> {
    // Imports write in batches: one transaction of up to 100 conditional puts per request
    // keeps every write conditional (a concurrent change is a conflict, never lost) at a
    // hundredth of the requests. A cancelled transaction names the members in conflict.
    await mapWithConcurrency(inChunks(writes, 100), 4, async (chunk) => {
      try {
        await this.#client.send(
          new TransactWriteCommand({
            TransactItems: chunk.map(({ member, expectedUpdatedAt }) => ({
              Put: {
                TableName: this.#tableName,
                Item: toItem(tenantId, member),
                ...condition(expectedUpdatedAt),
              },
            })),
          }),
        );
      } catch (error) {
        if (error instanceof TransactionCanceledException) {
          const conflicts = chunk
            .filter((_, i) => error.CancellationReasons?.[i]?.Code === 'ConditionalCheckFailed')
            .map(({ member }) => member.memberId);
          if (conflicts.length > 0) {
            throw new ConflictError(
              `Member ${conflicts.join(', ')} was changed meanwhile; read it again and retry.`,
            );
          }
        }
        throw error;
      }
    });
  }

  async delete(tenantId: string, memberId: string): Promise<Member | undefined> {
    const { Attributes } = await this.#client.send(
      new DeleteCommand({
        TableName: this.#tableName,
        Key: keyOf(tenantId, memberId),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes ? toMember(Attributes) : undefined;
  }

  /**
   * Marks the member's phone invalid (a receipt said the number does not exist), so the next
   * run suppresses it (`invalid_phone`). Only while the member still has `phone`: a number
   * changed since the message left is a new number, valid until shown otherwise. Bumps
   * updatedAt so a concurrent PUT that read the old status fails instead of undoing it.
   * True when marked now.
   */
  async markPhoneInvalid(
    tenantId: string,
    memberId: string,
    { phone, at }: { phone?: string; at: string },
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: keyOf(tenantId, memberId),
          UpdateExpression: 'SET phoneStatus = :invalid, updatedAt = :at',
          ConditionExpression: `attribute_exists(pk) AND phoneStatus <> :invalid${phone === undefined ? '' : ' AND phone = :phone'}`,
          ExpressionAttributeValues: {
            ':invalid': 'invalid',
            ':at': at,
            ...(phone === undefined ? {} : { ':phone': phone }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async idsByPhone(tenantId: string, phone: string): Promise<string[]> {
    const { Items } = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :phone',
        ExpressionAttributeValues: { ':phone': `${tenantId}#PH#${phoneHash({ tenantId, phone })}` },
      }),
    );
    return (Items ?? []).map((item) => z.string().parse(item.gsi1sk));
  }

  async *scanShard(
    tenantId: string,
    shard: number,
    { pageSize = 1_000 }: { pageSize?: number } = {},
  ): AsyncIterable<Member[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
          ExpressionAttributeValues: { ':pk': shardKey(tenantId, shard), ':m': 'M#' },
          ExclusiveStartKey: startKey,
          Limit: pageSize,
        }),
      );
      const members = (page.Items ?? []).map(toMember);
      if (members.length > 0) yield members;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  async list(
    tenantId: string,
    { limit, cursor, filter, scanBudget = 2_000 }: Parameters<MemberStore['list']>[1],
  ): Promise<MemberPage> {
    let position = decodeCursor(cursor);
    const members: Member[] = [];
    let scanned = 0;
    // The cursor is the key of the last member looked at, so a page cut short by `limit`
    // resumes right after it; a filter reads at most `scanBudget` members per call.
    while (members.length < limit && scanned < scanBudget) {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
          ExpressionAttributeValues: { ':pk': shardKey(tenantId, position.s), ':m': 'M#' },
          ...(position.k
            ? { ExclusiveStartKey: { pk: shardKey(tenantId, position.s), sk: position.k } }
            : {}),
          Limit: filter ? Math.min(200, scanBudget - scanned) : limit - members.length,
        }),
      );
      const items = page.Items ?? [];
      let cutShort = false;
      for (const item of items) {
        scanned++;
        const member = toMember(item);
        if (!filter || filter(member)) members.push(member);
        position = { s: position.s, k: memberSk(member.memberId) };
        if (members.length >= limit) {
          cutShort = item !== items[items.length - 1] || page.LastEvaluatedKey !== undefined;
          break;
        }
      }
      if (members.length >= limit && cutShort) break;
      if (page.LastEvaluatedKey) continue;
      if (position.s + 1 >= memberShardCount) return { members };
      position = { s: position.s + 1 };
    }
    return { members, cursor: encodeCursor(position) };
  }

  async updateTags(
    tenantId: string,
    memberId: string,
    { add, remove, at }: { add: readonly string[]; remove: readonly string[]; at: string },
  ): Promise<boolean> {
    // DynamoDB refuses ADD and DELETE on one attribute in one expression, so removing and
    // adding are two updates, each atomic (a tag named in both ends up added).
    const updates: { expression: string; values: Record<string, unknown> }[] = [];
    if (remove.length > 0)
      updates.push({ expression: 'DELETE tags :tags', values: { ':tags': new Set(remove) } });
    if (add.length > 0) updates.push({ expression: 'ADD tags :tags', values: { ':tags': new Set(add) } });
    for (const { expression, values } of updates) {
      try {
        await this.#client.send(
          new UpdateCommand({
            TableName: this.#tableName,
            Key: keyOf(tenantId, memberId),
            UpdateExpression: `SET updatedAt = :at ${expression}`,
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':at': at, ...values },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    }
    return true;
  }
}

function condition(expectedUpdatedAt: string | null | undefined): {
  ConditionExpression?: string;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  if (expectedUpdatedAt === null) return { ConditionExpression: 'attribute_not_exists(pk)' };
  if (expectedUpdatedAt === undefined) return {};
  return {
    ConditionExpression: 'updatedAt = :expected',
    ExpressionAttributeValues: { ':expected': expectedUpdatedAt },
  };
}

function _delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
