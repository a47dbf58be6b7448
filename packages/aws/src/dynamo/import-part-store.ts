import type { ImportPartStore } from '@qunfa/domain';
import { inChunks } from '@qunfa/domain';
import * as z from 'zod';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DocumentClient,
  PutCommand,
  QueryCommand,
} from '../wire/dynamodb';

// Layout (docs/data-model.md), campaigns table:
//   pk = <tenant>#IMPORTPART#<importId>
//   sk = <part, 5 digits>#<chunk, 3 digits>   data: the bytes (≤ 350 KB, under the 400 KB item limit)
//   sk = <part, 5 digits>#H                   chunks, size: written last, so a part is whole once it exists
// Items expire (expiresAt) a week after the upload.

const chunkBytes = 350 * 1024;
type BatchWriteRequests = NonNullable<BatchWriteCommandOutput['UnprocessedItems']>[string];
const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const partKey = (tenantId: string, importId: string): string => `${tenantId}#IMPORTPART#${importId}`;

const header = z.object({ sk: z.string(), chunks: z.number().int().min(0), size: z.number().int().min(0) });
const chunk = z.object({ sk: z.string(), data: z.instanceof(Uint8Array) });

export class DynamoImportPartStore implements ImportPartStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async put(
    tenantId: string,
    importId: string,
    part: number,
    bytes: Uint8Array,
    expiresAt: number,
  ): Promise<void> {
    const pk = partKey(tenantId, importId);
    const chunks = Math.ceil(bytes.byteLength / chunkBytes);
    for (let i = 0; i < chunks; i++) {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            pk,
            sk: `${pad(part, 5)}#${pad(i, 3)}`,
            data: bytes.subarray(i * chunkBytes, (i + 1) * chunkBytes),
            expiresAt,
          },
        }),
      );
    }
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: { pk, sk: `${pad(part, 5)}#H`, chunks, size: bytes.byteLength, expiresAt },
      }),
    );
  }

  async sizes(tenantId: string, importId: string): Promise<Map<number, number>> {
    const sizes = new Map<number, number>();
    for await (const item of this.#query(partKey(tenantId, importId), undefined, ['sk', 'chunks', 'size'])) {
      if (!String(item.sk).endsWith('#H')) continue;
      const parsed = header.parse(item);
      sizes.set(Number(parsed.sk.slice(0, 5)), parsed.size);
    }
    return sizes;
  }

  async *read(tenantId: string, importId: string, count: number): AsyncIterable<Uint8Array> {
    const pk = partKey(tenantId, importId);
    for (let part = 1; part <= count; part++) {
      const items = [];
      for await (const item of this.#query(pk, `${pad(part, 5)}#`)) items.push(item);
      const head = items.find((item) => String(item.sk).endsWith('#H'));
      if (!head) throw new Error(`Part ${part} of import ${importId} is missing.`);
      const { chunks } = header.parse(head);
      // A part uploaded again with fewer chunks leaves stale ones behind: the header decides.
      for (let i = 0; i < chunks; i++) {
        const found = items.find((item) => item.sk === `${pad(part, 5)}#${pad(i, 3)}`);
        if (!found) throw new Error(`Chunk ${i} of part ${part} of import ${importId} is missing.`);
        yield chunk.parse(found).data;
      }
    }
  }

  async delete(tenantId: string, importId: string): Promise<void> {
    const pk = partKey(tenantId, importId);
    const keys: { pk: string; sk: string }[] = [];
    for await (const item of this.#query(pk, undefined, ['pk', 'sk'])) keys.push({ pk, sk: String(item.sk) });
    for (const batch of inChunks(keys, 25)) {
      let requests: BatchWriteRequests | undefined = batch.map((Key) => ({ DeleteRequest: { Key } }));
      while (requests && requests.length > 0) {
        const { UnprocessedItems }: BatchWriteCommandOutput = await this.#client.send(
          new BatchWriteCommand({ RequestItems: { [this.#tableName]: requests } }),
        );
        requests = UnprocessedItems?.[this.#tableName];
      }
    }
  }

  async *#query(pk: string, prefix?: string, projection?: string[]): AsyncIterable<Record<string, unknown>> {
    // `size` is a reserved word in expressions: every projected name goes through a placeholder.
    const names = projection ? Object.fromEntries(projection.map((name) => [`#${name}`, name])) : undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk, ...(prefix ? { ':prefix': prefix } : {}) },
          ...(names
            ? { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names }
            : {}),
          ExclusiveStartKey: startKey,
        }),
      );
      yield* page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}
