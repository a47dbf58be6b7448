import { queueDelayedBatchSender, SqsClient } from '@qunfa/aws';
import { type SendBatchMessage, sendBatchMessage } from '@qunfa/domain';
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeAws } from '../../support/fake-aws';

// The sender puts members back on the send queue with a delay (holds, retries, probes):
// SendMessageBatch with each entry's DelaySeconds, ten per request, refused entries sent again.

const sqs = fakeAws();
const client = new SqsClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  fetch: sqs.fetch,
});
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/qunfa-send';
const send = queueDelayedBatchSender({ client, queueUrl, schema: sendBatchMessage });

const message = (i: number): SendBatchMessage => ({
  type: 'send.batch',
  tenantId: 't-1',
  campaignId: 'cmp_1',
  runId: 'run_1',
  memberIds: [`M${i}`],
});

beforeEach(() => {
  sqs.reset();
});

describe('queueDelayedBatchSender', () => {
  it('sends each message after its own delay, ten per request', async () => {
    sqs.on('SendMessageBatch', { Successful: [], Failed: [] });

    await send(Array.from({ length: 12 }, (_, i) => ({ message: message(i), delaySeconds: i * 60 })));

    const requests = sqs.calls('SendMessageBatch').map((call) => call.input);
    expect(requests.map((input) => (input.Entries as unknown[]).length)).toEqual([10, 2]);
    expect(requests[1]?.Entries).toEqual([
      { Id: '0', MessageBody: JSON.stringify(message(10)), DelaySeconds: 600 },
      { Id: '1', MessageBody: JSON.stringify(message(11)), DelaySeconds: 660 },
    ]);
    expect(requests[0]?.QueueUrl).toBe(queueUrl);
  });

  it('sends again what SQS refused, with its delay', async () => {
    sqs.on(
      'SendMessageBatch',
      { Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }] },
      { Failed: [] },
    );

    await send([
      { message: message(1), delaySeconds: 5 },
      { message: message(2), delaySeconds: 900 },
    ]);

    const retried = sqs.calls('SendMessageBatch')[1]?.input.Entries;
    expect(retried).toEqual([{ Id: '1', MessageBody: JSON.stringify(message(2)), DelaySeconds: 900 }]);
  });

  it('refuses a delay SQS cannot give before anything is sent', async () => {
    await expect(send([{ message: message(1), delaySeconds: 901 }])).rejects.toThrow(RangeError);
    expect(sqs.calls('SendMessageBatch')).toHaveLength(0);
  });
});
