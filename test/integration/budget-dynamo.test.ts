import { createDocumentClient, DynamoRunBudget } from '@qunfa/aws';
import { afterAll, beforeAll } from 'vitest';
import { describeRunBudgetStore } from '../support/budget-spec';
import { type LocalDynamo, localCredentials, localRegion, startLocalDynamo } from '../support/local';

// The run budget specification on DynamoDB Local: one item per run in the metrics table,
// reserved with conditional ADDs. The two reservers are two clients, as two sender
// invocations are, racing on the same item.

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

describeRunBudgetStore('DynamoRunBudget (DynamoDB Local)', async () => {
  const tableName = dynamo.tableNames.metrics;
  const second = createDocumentClient({
    endpoint: dynamo.dynamodb.endpoint,
    region: localRegion,
    credentials: localCredentials,
  });
  return [
    new DynamoRunBudget({ client: dynamo.documentClient, tableName }),
    new DynamoRunBudget({ client: second, tableName }),
  ];
});
