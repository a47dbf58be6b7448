import { DocumentClient, DynamoFrequencyCapStore } from '@qunfa/aws';
import { capDay, type FrequencyCapRules } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { fakeAws } from '../../support/fake-aws';

// The cap store reads a member's item eventually consistent first (half the read cost). A
// stale read can only be trusted for a grant, which its versioned write then checks; a
// refusal, or a slot the claim already holds, is written nothing and so is decided again on a
// consistent read. DynamoDB Local is always consistent: this is where a stale read is staged.

const rules: FrequencyCapRules = { windows: [{ messages: 1, days: 7 }], dailyMax: 1 };
const now = new Date('2026-11-23T04:00:00Z');
const day = capDay({ now, timeZone: 'Asia/Shanghai' });
const send = (claimId: string) => ({
  M: { claimId: { S: claimId }, at: { N: String(now.getTime() - 60_000) }, day: { S: day.key } },
});
const item = (claimIds: string[], version: number) => ({
  Item: {
    pk: { S: 't#CAP#00' },
    sk: { S: 'm' },
    sends: { L: claimIds.map(send) },
    version: { N: String(version) },
  },
});

function storeOn(aws: ReturnType<typeof fakeAws>): DynamoFrequencyCapStore {
  const client = new DocumentClient({
    endpoint: 'http://dynamo.test',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    fetch: aws.fetch,
    maxAttempts: 1,
  });
  return new DynamoFrequencyCapStore({ client, tableName: 'suppressions' });
}

const claim = (store: DynamoFrequencyCapStore, claimId: string) =>
  store.claim({ tenantId: 't', memberKey: 'm', claimId, now, caps: rules, day });

describe('DynamoFrequencyCapStore reads', () => {
  it('refuses only on a consistent read: a stale item that looks full is read again', async () => {
    // Stale: another run's send that has since been released. Consistent: nothing.
    const aws = fakeAws()
      .on('GetItem', item(['run_1#M1'], 3), {})
      .on('UpdateItem', {});

    await expect(claim(storeOn(aws), 'run_2#M1')).resolves.toMatchObject({ granted: true });
    expect(aws.calls('GetItem').map((call) => call.input.ConsistentRead)).toEqual([false, true]);
    expect(aws.calls('UpdateItem')).toHaveLength(1);
  });

  it('never takes a slot as already held on a stale read: it writes the claim again', async () => {
    // Stale: this claim's own send, since released. Consistent: nothing, so it is written.
    const aws = fakeAws()
      .on('GetItem', item(['run_2#M1'], 4), {})
      .on('UpdateItem', {});

    await expect(claim(storeOn(aws), 'run_2#M1')).resolves.toMatchObject({ granted: true });
    expect(aws.calls('GetItem').map((call) => call.input.ConsistentRead)).toEqual([false, true]);
    expect(aws.calls('UpdateItem')).toHaveLength(1);
  });

  it('grants on the first, eventually consistent read when its versioned write succeeds', async () => {
    const aws = fakeAws().on('GetItem', {}).on('UpdateItem', {});

    await expect(claim(storeOn(aws), 'run_3#M1')).resolves.toMatchObject({ granted: true });
    expect(aws.calls('GetItem').map((call) => call.input.ConsistentRead)).toEqual([false]);
    expect(aws.calls('UpdateItem')[0]?.input.ConditionExpression).toBe('attribute_not_exists(pk)');
  });
});
