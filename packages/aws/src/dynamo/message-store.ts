import {
  eventMove,
  forEachConcurrently,
  type MessageRecord,
  type MessageStore,
  type MoveResult,
  memberShard,
  memberShards,
  messageRecord,
  type NewMessageRecord,
  type ReceiptRecordStore,
  type RunMessagePages,
  ValidationError,
} from '@qunfa/domain';
import * as z from 'zod';
import {
  ConditionalCheckFailedException,
  type DocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '../wire/dynamodb';

// Layout (docs/data-model.md), messages table:
//   record   pk = <tenant>#RUN#<runId>#<shard 00–31 of the member>   sk = <memberId>
//            gsi1pk = <tenant>#PMID#<provider message id>   gsi1sk = <runId>#<memberId>   (once sent)
// A run of 1 million members written at 5,000/s spreads over 32 keys: ~160 writes/s each.
// Records expire (expiresAt) 180 days after they are created; reports read them until then.
//   checkpoint   pk = <tenant>#RUN#<runId>#SEGMENTED   sk = <shard 00–31>   (the segmenter's)

const retentionSeconds = 180 * 86_400;
const shardKey = (tenantId: string, runId: string, shard: number): string =>
  `${tenantId}#RUN#${runId}#${String(shard).padStart(2, '0')}`;
const keyOf = (tenantId: string, runId: string, memberId: string) => ({
  pk: shardKey(tenantId, runId, memberShard(memberId)),
  sk: memberId,
});

function toRecord(item: Record<string, unknown>): MessageRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _s, expiresAt: _e, ...rest } = item;
  return messageRecord.parse(rest);
}

export class DynamoMessageStore implements MessageStore, RunMessagePages {
  readonly #client: DocumentClient;
  readonly #tableName: string;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async create(
    tenantId: string,
    { campaignId, runId }: { campaignId: string; runId: string },
    records: readonly NewMessageRecord[],
    now: Date,
  ): Promise<{ created: string[]; existing: number }> {
    const at = now.toISOString();
    const expiresAt = Math.floor(now.getTime() / 1000) + retentionSeconds;
    const created: string[] = [];
    let existing = 0;
    // One conditional put per record: 1 write unit each, where a transaction of puts costs
    // two per item (the `campaign` benchmark measured 2 of a message's 4.8 units there). On a
    // re-run a record that exists (pending, claimed or sent) fails its condition and is left
    // alone: counted as existing, never reset.
    await forEachConcurrently(records, 16, async (record) => {
      try {
        await this.#client.send(
          new PutCommand({
            TableName: this.#tableName,
            Item: {
              ...keyOf(tenantId, runId, record.memberId),
              runId,
              campaignId,
              ...record,
              attempts: 0,
              createdAt: at,
              updatedAt: at,
              expiresAt,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        created.push(record.memberId);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        existing += 1;
      }
    });
    return { created, existing };
  }

  async get(tenantId: string, runId: string, memberId: string): Promise<MessageRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: keyOf(tenantId, runId, memberId),
        ConsistentRead: true,
      }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  claim(tenantId: string, runId: string, memberId: string, { token, now }: { token: string; now: Date }) {
    return this.move(tenantId, runId, memberId, { event: 'claim', token, now });
  }

  async move(
    tenantId: string,
    runId: string,
    memberId: string,
    {
      event,
      token,
      claimedBefore,
      now,
      set = {},
      findByProviderMessageId = true,
    }: Parameters<MessageStore['move']>[3],
  ): Promise<MoveResult> {
    const { from, to } = eventMove(event);
    const at = now.toISOString();
    const names: Record<string, string> = { '#state': 'state' };
    const values: Record<string, unknown> = { ':to': to, ':at': at };
    const assignments = ['#state = :to', 'updatedAt = :at'];
    from.forEach((state, i) => {
      values[`:from${i}`] = state;
    });
    const conditions = [`#state IN (${from.map((_, i) => `:from${i}`).join(', ')})`];
    if (event === 'claim') {
      // A claim takes a fresh token; the claimant's later moves must present it.
      assignments.push('claimToken = :token', 'claimedAt = :at', 'attempts = attempts + :one');
      values[':token'] = token;
      values[':one'] = 1;
    } else if (token !== undefined) {
      conditions.push('(#state <> :claimed OR claimToken = :token)');
      values[':token'] = token;
      values[':claimed'] = 'claimed';
    }
    if (claimedBefore !== undefined) {
      conditions.push('(#state <> :claimed OR claimedAt < :claimedBefore)');
      values[':claimedBefore'] = claimedBefore.toISOString();
      values[':claimed'] = 'claimed';
    }
    for (const [field, value] of Object.entries(set)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      assignments.push(`#${field} = :${field}`);
    }
    if (set.providerMessageId !== undefined && findByProviderMessageId) {
      assignments.push('gsi1pk = :pmid', 'gsi1sk = :runMember');
      values[':pmid'] = `${tenantId}#PMID#${set.providerMessageId}`;
      values[':runMember'] = `${runId}#${memberId}`;
    }
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: keyOf(tenantId, runId, memberId),
          UpdateExpression: `SET ${assignments.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          // A refused move answers the record as it stands, at no read cost.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { moved: true, record: toRecord(Attributes ?? {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // Someone else moved it first (or it never existed): say where it stands now.
        const current = error.Item ? toRecord(error.Item) : await this.get(tenantId, runId, memberId);
        return current ? { moved: false, current } : { moved: false };
      }
      throw error;
    }
  }

  /**
   * The record a provider message id was sent as: the gsi1 entry the accepted move wrote (for
   * providers whose receipts do not echo our reference). Index reads are eventually
   * consistent: a receipt a moment behind its send may not find it yet.
   */
  async findByProviderMessageId(
    tenantId: string,
    providerMessageId: string,
  ): Promise<{ runId: string; memberId: string } | undefined> {
    const { Items } = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pmid',
        ExpressionAttributeValues: { ':pmid': `${tenantId}#PMID#${providerMessageId}` },
        Limit: 1,
      }),
    );
    const runMember = Items?.[0]?.gsi1sk;
    if (typeof runMember !== 'string') return undefined;
    const at = runMember.indexOf('#');
    return at < 0 ? undefined : { runId: runMember.slice(0, at), memberId: runMember.slice(at + 1) };
  }

  /**
   * A receipt's move (receipts/process.ts): `from` → `to`, conditional on the record being
   * in `from` as the receipt processor read it, so a move is made, and counted, once.
   */
  async settle(
    tenantId: string,
    runId: string,
    memberId: string,
    { from, to, reason, code, at, now }: Parameters<ReceiptRecordStore['settle']>[3],
  ): Promise<boolean> {
    const assignments = ['#state = :to', 'updatedAt = :now', 'receiptAt = :at'];
    const values: Record<string, unknown> = {
      ':from': from,
      ':to': to,
      ':now': now.toISOString(),
      ':at': at,
    };
    if (reason !== undefined) {
      assignments.push('reason = :reason');
      values[':reason'] = reason;
    }
    if (code !== undefined) {
      assignments.push('receiptCode = :code');
      values[':code'] = code;
    }
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: keyOf(tenantId, runId, memberId),
          UpdateExpression: `SET ${assignments.join(', ')}`,
          ConditionExpression: '#state = :from',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Adds a delivered part of a multipart message while it waits for receipts (list, no duplicates). */
  async addDeliveredPart(
    tenantId: string,
    runId: string,
    memberId: string,
    { part, now }: { part: number; now: Date },
  ): Promise<MessageRecord | undefined> {
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: keyOf(tenantId, runId, memberId),
          UpdateExpression:
            'SET deliveredParts = list_append(if_not_exists(deliveredParts, :none), :part), updatedAt = :now',
          ConditionExpression:
            '#state IN (:sent, :unknown) AND (attribute_not_exists(deliveredParts) OR NOT contains(deliveredParts, :n))',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':none': [],
            ':part': [part],
            ':n': part,
            ':now': now.toISOString(),
            ':sent': 'sent',
            ':unknown': 'unknown',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toRecord(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async shardsDone(tenantId: string, runId: string): Promise<Set<number>> {
    const { Items } = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${tenantId}#RUN#${runId}#SEGMENTED` },
        ConsistentRead: true,
      }),
    );
    return new Set((Items ?? []).map((item) => Number(item.sk)));
  }

  async markShardDone(tenantId: string, runId: string, shard: number): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: {
          pk: `${tenantId}#RUN#${runId}#SEGMENTED`,
          sk: String(shard).padStart(2, '0'),
          expiresAt: Math.floor(Date.now() / 1000) + retentionSeconds,
        },
      }),
    );
  }

  async *scan(tenantId: string, runId: string): AsyncIterable<MessageRecord[]> {
    for (const shard of memberShards) yield* this.scanShard(tenantId, runId, shard);
  }

  async *scanShard(tenantId: string, runId: string, shard: number): AsyncIterable<MessageRecord[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': shardKey(tenantId, runId, shard) },
          ExclusiveStartKey: startKey,
        }),
      );
      const records = (page.Items ?? []).map(toRecord);
      if (records.length > 0) yield records;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * A page of a run's records (RunMessagePages), shard after shard in key order, filtered on
   * the server (state, variant). A request reads at most `maxReadPerPage` records, so a rare
   * filter over a million records answers in time with fewer items and a cursor: the shard
   * and the last member id read, base64url JSON.
   */
  async page(
    tenantId: string,
    runId: string,
    {
      limit,
      cursor,
      state,
      variantId,
    }: { limit: number; cursor?: string; state?: MessageRecord['state']; variantId?: string },
  ): Promise<{ records: MessageRecord[]; cursor?: string }> {
    const start = cursor === undefined ? { shard: 0 } : decodePageCursor(cursor);
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    if (state !== undefined) {
      filters.push('#state = :state');
      names['#state'] = 'state';
      values[':state'] = state;
    }
    if (variantId !== undefined) {
      filters.push('variantId = :variant');
      values[':variant'] = variantId;
    }
    const records: MessageRecord[] = [];
    let read = 0;
    let shard = start.shard;
    let after = start.after;
    while (shard < memberShards.length) {
      const answer: QueryCommandOutput = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'pk = :pk',
          ...(filters.length === 0 ? {} : { FilterExpression: filters.join(' AND ') }),
          ...(Object.keys(names).length === 0 ? {} : { ExpressionAttributeNames: names }),
          ExpressionAttributeValues: { ...values, ':pk': shardKey(tenantId, runId, shard) },
          // Read no more than the page still needs: a full page ends exactly at its last record.
          Limit: Math.min(limit - records.length, maxReadPerPage - read),
          ...(after === undefined
            ? {}
            : { ExclusiveStartKey: { pk: shardKey(tenantId, runId, shard), sk: after } }),
        }),
      );
      read += answer.ScannedCount ?? 0;
      records.push(...(answer.Items ?? []).map(toRecord));
      const last = answer.LastEvaluatedKey?.sk;
      if (typeof last === 'string') after = last;
      else {
        shard += 1;
        after = undefined;
      }
      if (records.length >= limit || read >= maxReadPerPage) break;
    }
    if (shard >= memberShards.length) return { records };
    return { records, cursor: encodePageCursor({ shard, ...(after === undefined ? {} : { after }) }) };
  }
}

/** The most records one page request reads (filtered out or not): 2,000 is 250 read units at most. */
const maxReadPerPage = 2_000;

const pageCursor = z.strictObject({
  shard: z
    .number()
    .int()
    .min(0)
    .max(memberShards.length - 1),
  after: z.string().min(1).max(200).exactOptional(),
});

function encodePageCursor(position: z.infer<typeof pageCursor>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodePageCursor(cursor: string): z.infer<typeof pageCursor> {
  try {
    return pageCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ValidationError([{ path: 'query.cursor', message: 'not a cursor this API returned' }]);
  }
}
