import { afterAll, beforeAll } from 'vitest';
import { type LocalDynamo, memberApiStores, startLocalDynamo } from '../support/local';
import { describeMembersApi } from '../support/members-spec';

// The members specification against DynamoDB Local: shards, the phone index, string-set
// tags, conditional writes, cursors and the stored import parts are DynamoDB's own.

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

describeMembersApi('HTTP API members (DynamoDB Local)', async () => memberApiStores(dynamo));
