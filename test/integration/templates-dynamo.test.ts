import {
  campaignStore,
  DynamoImportPartStore,
  DynamoRecordStore,
  DynamoRunCounters,
  DynamoRunStore,
  templateDeps,
} from '@qunfa/aws';
import { importJob, tagJob } from '@qunfa/domain';
import { afterAll, beforeAll } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../support/local';
import { describeTemplatesApi } from '../support/templates-spec';

// The templates specification against DynamoDB Local: templates stored in the campaigns table
// (kind TEMPLATE) and read back through their schema, conditional replaces, cursors, and
// previews over the sharded members table and the opt-out store.

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

describeTemplatesApi('HTTP API templates (DynamoDB Local)', async () => {
  const client = dynamo.documentClient;
  const tableName = dynamo.tableNames.campaigns;
  return {
    ...templateDeps({ client, config: { table: (id) => dynamo.tableNames[id] } }),
    imports: new DynamoRecordStore({ client, tableName, kind: 'IMPORT', schema: importJob, label: 'Import' }),
    parts: new DynamoImportPartStore({ client, tableName }),
    tagJobs: new DynamoRecordStore({ client, tableName, kind: 'TAGJOB', schema: tagJob, label: 'Tag job' }),
    campaigns: campaignStore({ client, tableName }),
    runs: new DynamoRunStore({ client, tableName }),
    runCounters: new DynamoRunCounters({ client, tableName: dynamo.tableNames.metrics }),
  };
});
