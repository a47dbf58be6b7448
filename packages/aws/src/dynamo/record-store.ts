import {
  ConflictError,
  type RecordPage,
  type RecordStore,
  ValidationError,
  type VersionedRecord,
} from '@qunfa/domain';
import type * as z from 'zod';
import {
  ConditionalCheckFailedException,
  DeleteCommand,
  type DocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '../wire/dynamodb';

// Layout (docs/data-model.md), campaigns table: pk = <tenant>#<KIND>, sk = <id>. A merchant
// writes configuration a few times a minute at most, so one partition key per kind and tenant
// is far from any limit, and listing is one Query.

export class DynamoRecordStore<T extends VersionedRecord> implements RecordStore<T> {
  readonly #client: DocumentClient;
  readonly #tableName: string;
  readonly #kind: string;
  readonly #schema: z.ZodType<T>;
  readonly #label: string;

  constructor({
    client,
    tableName,
    kind,
    schema,
    label,
  }: {
    client: DocumentClient;
    tableName: string;
    /** Upper-case kind in the key: `SEGMENT`, `TEMPLATE`, `IMPORT` … */
    kind: string;
    schema: z.ZodType<T>;
    /** How errors name a record: `Segment`. */
    label: string;
  }) {
    this.#client = client;
    this.#tableName = tableName;
    this.#kind = kind;
    this.#schema = schema;
    this.#label = label;
  }

  #pk(tenantId: string): string {
    return `${tenantId}#${this.#kind}`;
  }

  #parse(item: Record<string, unknown>): T {
    const { pk: _pk, sk: _sk, ...rest } = item;
    return this.#schema.parse(rest);
  }

  async get(tenantId: string, id: string): Promise<T | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: { pk: this.#pk(tenantId), sk: id } }),
    );
    return Item ? this.#parse(Item) : undefined;
  }

  async list(
    tenantId: string,
    { limit, cursor }: { limit: number; cursor?: string },
  ): Promise<RecordPage<T>> {
    const start = cursor === undefined ? undefined : decodeCursor(cursor);
    const page = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': this.#pk(tenantId) },
        ...(start === undefined ? {} : { ExclusiveStartKey: { pk: this.#pk(tenantId), sk: start } }),
        Limit: limit,
      }),
    );
    const items = (page.Items ?? []).map((item) => this.#parse(item));
    const last = page.LastEvaluatedKey?.sk;
    return typeof last === 'string' ? { items, cursor: Buffer.from(last).toString('base64url') } : { items };
  }

  async create(tenantId: string, id: string, record: T): Promise<void> {
    await this.#write(
      { pk: this.#pk(tenantId), sk: id, ...record },
      { ConditionExpression: 'attribute_not_exists(pk)' },
      `${this.#label} ${id} already exists.`,
    );
  }

  async replace(tenantId: string, id: string, record: T, expectedUpdatedAt: string): Promise<void> {
    await this.#write(
      { pk: this.#pk(tenantId), sk: id, ...record },
      {
        ConditionExpression: 'updatedAt = :expected',
        ExpressionAttributeValues: { ':expected': expectedUpdatedAt },
      },
      `${this.#label} ${id} was changed or deleted meanwhile; read it again and retry.`,
    );
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const { Attributes } = await this.#client.send(
      new DeleteCommand({
        TableName: this.#tableName,
        Key: { pk: this.#pk(tenantId), sk: id },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }

  async #write(
    item: { pk: string; sk: string } & T,
    condition: { ConditionExpression: string; ExpressionAttributeValues?: Record<string, unknown> },
    conflict: string,
  ): Promise<void> {
    try {
      await this.#client.send(new PutCommand({ TableName: this.#tableName, Item: item, ...condition }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConflictError(conflict);
      throw error;
    }
  }
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (text.length === 0 || Buffer.from(text).toString('base64url') !== cursor) {
    throw new ValidationError([{ path: 'query.cursor', message: 'not a cursor this API returned' }]);
  }
  return text;
}
