import { DynamoTenantStore } from '@qunfa/aws';
import { afterAll, beforeAll } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../support/local';
import { describeTenancyApi } from '../support/tenancy-spec';

// The same tenancy specification as test/unit/api, against DynamoDB Local: the store's
// conditional writes (a key issued twice, the last admin key) are DynamoDB's, not a fake's.

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

describeTenancyApi(
  'HTTP API tenancy (DynamoDB Local)',
  async () => new DynamoTenantStore({ client: dynamo.documentClient, tableName: dynamo.tableNames.tenants }),
);
