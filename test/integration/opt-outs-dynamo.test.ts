import {
  campaignStore,
  DynamoImportPartStore,
  DynamoRecordStore,
  DynamoRunCounters,
  DynamoRunStore,
  memberDeps,
  templateStore,
} from '@qunfa/aws';
import { importJob, tagJob } from '@qunfa/domain';
import { afterAll, beforeAll } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../support/local';
import { describeOptOutsApi } from '../support/opt-outs-spec';

// The opt-out specification against DynamoDB Local: the 64 buckets and the cursor that
// crosses them, the conditional first write and the consistent look-up are DynamoDB's own.

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

describeOptOutsApi('HTTP API opt-outs (DynamoDB Local)', async () => {
  const client = dynamo.documentClient;
  const tableName = dynamo.tableNames.campaigns;
  return {
    ...memberDeps({ client, config: { table: (id) => dynamo.tableNames[id] } }),
    imports: new DynamoRecordStore({ client, tableName, kind: 'IMPORT', schema: importJob, label: 'Import' }),
    parts: new DynamoImportPartStore({ client, tableName }),
    templates: templateStore({ client, tableName }),
    tagJobs: new DynamoRecordStore({ client, tableName, kind: 'TAGJOB', schema: tagJob, label: 'Tag job' }),
    campaigns: campaignStore({ client, tableName }),
    runs: new DynamoRunStore({ client, tableName }),
    runCounters: new DynamoRunCounters({ client, tableName: dynamo.tableNames.metrics }),
  };
});
