import type { OptOut, OptOutPage, OptOutStore } from '@qunfa/domain';
import { inChunks } from '@qunfa/domain';
import * as z from 'zod';
import {
  DeleteCommand,
  type DocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '../wire/dynamodb';
import { batchGetItems } from './batch-get';

// Layout (docs/data-model.md), suppressions table:
//   opt-out   pk = <tenant>#OPTOUT#<bucket 00–63, from the phone hash>   sk = <phone hash>
// 64 buckets per tenant: the sender's per-message look-ups (up to 5,000/s) spread over 64
// partition keys, far below 3,000 reads/s each, and the segmenter reads a tenant's whole
// list with 64 queries.

const bucketCount = 64;
const bucketName = (bucket: number): string => String(bucket).padStart(2, '0');
const bucketOf = (hash: string): string => bucketName(Number.parseInt(hash.slice(0, 4), 16) % bucketCount);
const bucketKey = (tenantId: string, bucket: string): string => `${tenantId}#OPTOUT#${bucket}`;
const keyOf = (tenantId: string, hash: string) => ({ pk: bucketKey(tenantId, bucketOf(hash)), sk: hash });

const storedOptOut = z.object({
  phoneHash: z.string(),
  phone: z.string().exactOptional(),
  source: z.string(),
  reason: z.string().exactOptional(),
  at: z.string(),
});

const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

export class DynamoOptOutStore implements OptOutStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async add(tenantId: string, optOut: OptOut): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: { ...keyOf(tenantId, optOut.phoneHash), ...optOut },
      }),
    );
  }

  async addIfAbsent(tenantId: string, optOut: OptOut): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { ...keyOf(tenantId, optOut.phoneHash), ...optOut },
          // The first opt-out of a number is the one that counts: its time and source stay.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get(tenantId: string, phoneHash: string): Promise<OptOut | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: keyOf(tenantId, phoneHash), ConsistentRead: true }),
    );
    return Item ? storedOptOut.parse(Item) : undefined;
  }

  /**
   * Bucket by bucket, in key order. The cursor (a phone hash) names its own bucket, so a list
   * resumes inside the bucket it stopped in; empty buckets cost one small query each.
   */
  async list(tenantId: string, { limit, cursor }: { limit: number; cursor?: string }): Promise<OptOutPage> {
    const optOuts: OptOut[] = [];
    let bucket = cursor === undefined ? 0 : Number(bucketOf(cursor));
    let startKey: Record<string, unknown> | undefined =
      cursor === undefined ? undefined : keyOf(tenantId, cursor);
    while (bucket < bucketCount && optOuts.length < limit) {
      const page: QueryCommandOutput = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': bucketKey(tenantId, bucketName(bucket)) },
          ExclusiveStartKey: startKey,
          Limit: limit - optOuts.length,
        }),
      );
      for (const item of page.Items ?? []) optOuts.push(storedOptOut.parse(item));
      startKey = page.LastEvaluatedKey;
      if (!startKey) bucket++;
    }
    const last = optOuts.at(-1);
    const more = bucket < bucketCount && last !== undefined;
    return more ? { optOuts, cursor: last.phoneHash } : { optOuts };
  }

  async remove(
    tenantId: string,
    phoneHash: string,
    { ifAt }: { readonly ifAt?: string } = {},
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.#tableName,
          Key: keyOf(tenantId, phoneHash),
          ...(ifAt === undefined
            ? {}
            : {
                ConditionExpression: '#at = :at',
                ExpressionAttributeNames: { '#at': 'at' },
                ExpressionAttributeValues: { ':at': ifAt },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async optedOut(
    tenantId: string,
    phoneHashes: readonly string[],
    { consistent = false }: { readonly consistent?: boolean } = {},
  ): Promise<Set<string>> {
    const items = await batchGetItems({
      client: this.#client,
      tableName: this.#tableName,
      consistentRead: consistent,
      keys: [...new Set(phoneHashes)].map((hash) => keyOf(tenantId, hash)),
      projection: 'sk',
    });
    return new Set(items.map((item) => z.string().parse(item.sk)));
  }

  async *all(tenantId: string): AsyncIterable<OptOut[]> {
    const buckets = Array.from({ length: bucketCount }, (_, b) => bucketName(b));
    // 16 buckets at a time: a whole list is 4 rounds of queries, not 64 in a row.
    for (const round of inChunks(buckets, 16)) {
      const pages = await Promise.all(round.map((bucket) => this.#bucket(tenantId, bucket)));
      for (const optOuts of pages) if (optOuts.length > 0) yield optOuts;
    }
  }

  async #bucket(tenantId: string, bucket: string): Promise<OptOut[]> {
    const optOuts: OptOut[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': bucketKey(tenantId, bucket) },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) optOuts.push(storedOptOut.parse(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return optOuts;
  }

  async forgetPhone(tenantId: string, phoneHash: string): Promise<void> {
    await this.#client
      .send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: keyOf(tenantId, phoneHash),
          UpdateExpression: 'REMOVE phone',
          ConditionExpression: 'attribute_exists(pk)',
        }),
      )
      .catch((error: unknown) => {
        if (isConditionFailure(error)) return;
        throw error;
      });
  }
}
