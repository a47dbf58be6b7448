import { DescribeTableCommand, DescribeTimeToLiveCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@qunfa/aws';
import {
  checkJava,
  ensureTables,
  JavaUnavailableError,
  parseJavaVersion,
  TableDriftError,
} from '@qunfa/local';
import { type TableDefinition, tableIds, tables } from '@qunfa/resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../support/local';

// DynamoDB Local as the local stack and the integration tests run it: tables built from the
// resource model, kept in step with it on restart.

let local: LocalDynamo;

beforeAll(async () => {
  local = await startLocalDynamo({ stage: 'spec' });
});
afterAll(() => local.stop());

describe('checkJava', () => {
  it('finds the Java 17+ that DynamoDB Local needs on this machine', async () => {
    const java = await checkJava();

    expect(java.major).toBeGreaterThanOrEqual(17);
  });

  it('explains what to install when java is missing', async () => {
    const attempt = checkJava({ command: 'qunfa-no-such-java' });

    await expect(attempt).rejects.toBeInstanceOf(JavaUnavailableError);
    await expect(attempt).rejects.toThrow(/Java 17 or newer.*not found on your PATH.*Install/s);
  });

  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_402"', 8],
  ])('reads the major version of %s', (output, major) => {
    expect(parseJavaVersion(output)?.major).toBe(major);
  });
});

describe('ensureTables', () => {
  it('creates every model table with its keys, its indexes with their projection, and TTL', async () => {
    for (const id of tableIds) {
      const definition = tables[id];
      const { Table } = await local.client.send(
        new DescribeTableCommand({ TableName: local.tableNames[id] }),
      );
      const { TimeToLiveDescription } = await local.client.send(
        new DescribeTimeToLiveCommand({ TableName: local.tableNames[id] }),
      );

      expect(Table?.KeySchema).toEqual([
        { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
        ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : []),
      ]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(
        (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
          name: index.IndexName,
          projection: index.Projection?.ProjectionType,
        })),
      ).toEqual(
        definition.globalIndexes.map((index) => ({
          name: index.name,
          projection: index.projection === 'all' ? 'ALL' : 'KEYS_ONLY',
        })),
      );
      expect(TimeToLiveDescription?.AttributeName).toBe(definition.timeToLiveAttribute);
      expect(TimeToLiveDescription?.TimeToLiveStatus).toBe(
        definition.timeToLiveAttribute ? 'ENABLED' : 'DISABLED',
      );
    }
  });

  it('changes nothing, data included, when run again (a restart on persisted data)', async () => {
    const item = { pk: 'TENANT#t1', sk: 'PROFILE', name: 'kept' };
    await local.documentClient.send(new PutCommand({ TableName: local.tableNames.tenants, Item: item }));

    const again = await ensureTables({ client: local.client, tableNames: local.tableNames });

    expect(again).toEqual({ created: [], existing: expect.arrayContaining([...tableIds]) });
    const { Item } = await local.documentClient.send(
      new GetCommand({ TableName: local.tableNames.tenants, Key: { pk: item.pk, sk: item.sk } }),
    );
    expect(Item).toEqual(item);
  });

  it('adds an index the model gained since the data was created', async () => {
    const gained: TableDefinition = {
      ...tables.tenants,
      globalIndexes: [
        {
          name: 'gsi1',
          partitionKey: { name: 'gsi1pk', type: 'S' },
          sortKey: { name: 'gsi1sk', type: 'S' },
          projection: 'keys',
        },
      ],
    };

    await ensureTables({ client: local.client, tableNames: local.tableNames, definitions: [gained] });

    const { Table } = await local.client.send(
      new DescribeTableCommand({ TableName: local.tableNames.tenants }),
    );
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['gsi1']);
  });

  it('refuses a table whose key schema no longer matches the model, pointing to --fresh', async () => {
    const rekeyed: TableDefinition = { ...tables.metrics, sortKey: { name: 'bucket', type: 'S' } };

    const attempt = ensureTables({
      client: local.client,
      tableNames: local.tableNames,
      definitions: [rekeyed],
    });

    await expect(attempt).rejects.toBeInstanceOf(TableDriftError);
    await expect(attempt).rejects.toThrow(/--fresh/);
  });

  it('keeps every table under the stage prefix', async () => {
    const { TableNames = [] } = await local.client.send(new ListTablesCommand({}));

    expect(TableNames.toSorted()).toEqual(tableIds.map((id) => `qunfa-spec-${id}`).toSorted());
  });
});
