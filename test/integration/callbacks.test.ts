import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createCallbackHandler } from '@qunfa/api';
import {
  callbackDeps,
  createLogger,
  DynamoCallbackReplayGuard,
  DynamoTenantStore,
  PutCommand,
  SqsClient,
} from '@qunfa/aws';
import { receiptQueueMessage, tenantSettings } from '@qunfa/domain';
import { signSimulatorCallback, simulatorAccountSecret } from '@qunfa/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpEvent, lambdaContext } from '../support/events';
import { type LocalAws, localCredentials, localRegion, startLocalAws } from '../support/local';

// The callback endpoint against DynamoDB Local and the SQS emulator: a signed simulator
// callback becomes one callback.batch message on the receipt queue; a replay of the same
// signed bytes is refused by the conditional put in the metrics table and enqueues nothing;
// a failed enqueue gives its claim back.

let aws: LocalAws;
const callbackSecret = 'integration-callback-secret-0123';
const tenantId = 'callback-tea';

beforeAll(async () => {
  aws = await startLocalAws();
  await new DynamoTenantStore({ client: aws.documentClient, tableName: aws.tableNames.tenants }).createTenant(
    {
      tenantId,
      createdAt: new Date().toISOString(),
      ...tenantSettings.parse({ name: 'Callback Tea' }),
    },
  );
});

afterAll(() => aws?.stop());

function endpoint(queueUrl: string) {
  const logger = createLogger({ service: 'test', level: 'SILENT' });
  const sqs = new SqsClient({
    region: localRegion,
    endpoint: aws.sqs.endpoint,
    credentials: localCredentials,
  });
  return createCallbackHandler({
    deps: callbackDeps({
      client: aws.documentClient,
      sqs,
      config: { table: (id) => aws.tableNames[id], queueUrl: () => queueUrl },
      logger,
      env: { PROVIDER_SIMULATOR_CALLBACK_SECRET: callbackSecret },
    }),
    logger,
  });
}

function signedReceipts(callbackId: string) {
  const now = new Date();
  const body = JSON.stringify({
    type: 'receipts',
    callbackId,
    account: tenantId,
    sentAt: now.toISOString(),
    receipts: [
      {
        receiptId: `sim-${callbackId}#1`,
        messageId: `sim-${callbackId}`,
        reference: 'run-01J:m-000123',
        phone: '+8613812345678',
        status: 'delivered',
        code: 'DELIVRD',
        part: 1,
        parts: 1,
        submittedAt: now.toISOString(),
        doneAt: now.toISOString(),
      },
    ],
  });
  const timestamp = Math.floor(now.getTime() / 1000);
  const secret = simulatorAccountSecret({ callbackSecret, account: tenantId });
  return httpEvent({
    method: 'POST',
    path: `/callbacks/simulator/${tenantId}`,
    headers: {
      'content-type': 'application/json',
      'x-simulator-timestamp': String(timestamp),
      'x-simulator-signature': signSimulatorCallback({ secret, timestamp, body }),
    },
    body,
  });
}

async function drain(queueUrl: string): Promise<unknown[]> {
  const bodies: unknown[] = [];
  for (;;) {
    const { Messages = [] } = await aws.sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return bodies;
    for (const message of Messages) {
      bodies.push(JSON.parse(message.Body ?? 'null'));
      await aws.sqsClient.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}

describe('the callback endpoint on DynamoDB and SQS', () => {
  it('puts one callback.batch on the receipt queue and refuses a replay of the same bytes', async () => {
    const queue = await aws.createQueue();
    const handler = endpoint(queue.url);
    const event = signedReceipts('cb-integration-1');

    const first = await handler(event, lambdaContext());
    const replay = await handler({ ...event }, lambdaContext());

    expect([first.statusCode, replay.statusCode]).toEqual([200, 401]);
    const messages = await drain(queue.url);
    expect(messages).toHaveLength(1);
    expect(receiptQueueMessage.parse(messages[0])).toMatchObject({
      type: 'callback.batch',
      tenantId,
      provider: 'simulator',
      callbackId: 'cb-integration-1',
      events: [{ kind: 'receipt', status: 'delivered', receiptId: 'sim-cb-integration-1#1' }],
    });
  });

  it('answers 5xx when the queue refuses, and takes the same bytes once it is back', async () => {
    const queue = await aws.createQueue();
    const event = signedReceipts('cb-integration-2');

    const failed = await endpoint(`${aws.sqs.endpoint}/000000000000/no-such-queue`)(event, lambdaContext());
    const again = await endpoint(queue.url)({ ...event }, lambdaContext());

    expect([failed.statusCode, again.statusCode]).toEqual([500, 200]);
    expect(await drain(queue.url)).toHaveLength(1);
  });
});

describe('DynamoCallbackReplayGuard', () => {
  const guard = () =>
    new DynamoCallbackReplayGuard({ client: aws.documentClient, tableName: aws.tableNames.metrics });
  const key = { tenantId, provider: 'simulator' as const };
  const inTenMinutes = () => new Date(Date.now() + 600_000);

  it('grants a callback id once, and again after release', async () => {
    const replays = guard();

    const first = await replays.claim({ ...key, callbackId: 'cb-guard-1', expiresAt: inTenMinutes() });
    const second = await replays.claim({ ...key, callbackId: 'cb-guard-1', expiresAt: inTenMinutes() });
    await replays.release({ ...key, callbackId: 'cb-guard-1' });
    const third = await replays.claim({ ...key, callbackId: 'cb-guard-1', expiresAt: inTenMinutes() });

    expect([first, second, third]).toEqual([true, false, true]);
  });

  it('keeps the ids of different tenants apart', async () => {
    const replays = guard();

    await replays.claim({ ...key, callbackId: 'cb-guard-2', expiresAt: inTenMinutes() });

    expect(
      await replays.claim({
        tenantId: 'other-tea',
        provider: 'simulator',
        callbackId: 'cb-guard-2',
        expiresAt: inTenMinutes(),
      }),
    ).toBe(true);
  });

  it('grants an id whose memory has expired though TTL has not deleted it yet', async () => {
    await aws.documentClient.send(
      new PutCommand({
        TableName: aws.tableNames.metrics,
        Item: {
          ...DynamoCallbackReplayGuard.keyOf({ ...key, callbackId: 'cb-guard-3' }),
          expiresAt: Math.floor(Date.now() / 1000) - 60,
        },
      }),
    );

    expect(await guard().claim({ ...key, callbackId: 'cb-guard-3', expiresAt: inTenMinutes() })).toBe(true);
  });
});
