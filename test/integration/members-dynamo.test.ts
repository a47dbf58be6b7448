import { memberDeps } from '@qunfa/aws';
import { afterAll, beforeAll } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../support/local';
import { describeMembersApi } from '../support/members-spec';

// The members specification against DynamoDB Local: shards, the phone index, string-set
// tags, conditional writes and cursors are DynamoDB's own.

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

describeMembersApi('HTTP API members (DynamoDB Local)', async () =>
  memberDeps({ client: dynamo.documentClient, config: { table: (id) => dynamo.tableNames[id] } }),
);
