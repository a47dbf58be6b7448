import {
  ConflictError,
  NotFoundError,
  role,
  type StoredApiKey,
  type Tenant,
  type TenantStore,
  tenantSettings,
} from '@qunfa/domain';
import * as z from 'zod';
import {
  ConditionalCheckFailedException,
  type DocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '../wire/dynamodb';

// Layout (docs/data-model.md): pk = tenant id; sk = `TENANT` for the profile and
// `KEY#<keyId>` per API key. Authentication is one GetItem on (tenant, KEY#keyId).

const tenantItem = tenantSettings.extend({ tenantId: z.string(), createdAt: z.string() });
const keyItem = z.object({
  tenantId: z.string(),
  keyId: z.string(),
  name: z.string(),
  role,
  secretHash: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().exactOptional(),
});

const profileSk = 'TENANT';
const keySk = (keyId: string): string => `KEY#${keyId}`;

export class DynamoTenantStore implements TenantStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: { pk: tenantId, sk: profileSk } }),
    );
    return Item ? tenantItem.parse(Item) : undefined;
  }

  async createTenant(tenant: Tenant): Promise<void> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { pk: tenant.tenantId, sk: profileSk, ...tenant },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`Tenant ${tenant.tenantId} already exists.`);
      }
      throw error;
    }
  }

  async updateTenant(tenant: Tenant): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: { pk: tenant.tenantId, sk: profileSk, ...tenant },
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  }

  async hasAnyTenant(): Promise<boolean> {
    const { Items } = await this.#client.send(
      new ScanCommand({
        TableName: this.#tableName,
        FilterExpression: 'sk = :profile',
        ExpressionAttributeValues: { ':profile': profileSk },
        ProjectionExpression: 'pk',
      }),
    );
    return (Items?.length ?? 0) > 0;
  }

  async getApiKey(tenantId: string, keyId: string): Promise<StoredApiKey | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: { pk: tenantId, sk: keySk(keyId) } }),
    );
    return Item ? keyItem.parse(Item) : undefined;
  }

  async putApiKey(key: StoredApiKey): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: { pk: key.tenantId, sk: keySk(key.keyId), ...key },
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
  }

  async listApiKeys(tenantId: string): Promise<StoredApiKey[]> {
    const keys: StoredApiKey[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'pk = :tenant AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':tenant': tenantId, ':prefix': 'KEY#' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) keys.push(keyItem.parse(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return keys;
  }

  async revokeApiKey(tenantId: string, keyId: string, revokedAt: string): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { pk: tenantId, sk: keySk(keyId) },
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(sk)',
          ExpressionAttributeValues: { ':at': revokedAt },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new NotFoundError(`No API key ${keyId}.`);
      throw error;
    }
  }
}
