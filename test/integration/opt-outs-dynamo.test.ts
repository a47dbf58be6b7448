import { DynamoOptOutStore } from '@qunfa/aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, memberApiStores, startLocalDynamo } from '../support/local';
import { describeOptOutsApi } from '../support/opt-outs-spec';

// The opt-out specification against DynamoDB Local: the 64 buckets and the cursor that
// crosses them, the conditional first write and the consistent look-up are DynamoDB's own.

let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo?.stop());

describeOptOutsApi('HTTP API opt-outs (DynamoDB Local)', async () => memberApiStores(dynamo));

describe('DynamoOptOutStore.remove', () => {
  it('removes only the opt-out it was told of: one recorded since stays', async () => {
    const store = new DynamoOptOutStore({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.suppressions,
    });
    const optOut = (at: string) => ({ phoneHash: 'h-race', phone: '+8613800000001', source: 'reply', at });
    await store.add('t-race', optOut('2026-11-01T00:00:00.000Z'));
    // A re-subscription read the opt-out of 1 November; the member replies TD again meanwhile.
    await store.add('t-race', optOut('2026-11-02T00:00:00.000Z'));

    await expect(store.remove('t-race', 'h-race', { ifAt: '2026-11-01T00:00:00.000Z' })).resolves.toBe(false);
    expect(await store.optedOut('t-race', ['h-race'], { consistent: true })).toEqual(new Set(['h-race']));
    await expect(store.remove('t-race', 'h-race', { ifAt: '2026-11-02T00:00:00.000Z' })).resolves.toBe(true);
    expect(await store.optedOut('t-race', ['h-race'], { consistent: true })).toEqual(new Set());
  });
});
