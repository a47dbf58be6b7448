import { simulatorAccountHeader } from '@qunfa/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack';

// Provider callbacks on the local stack: the simulator accepts a message for the first
// tenant's account, its signed receipt callback reaches the API at
// /callbacks/simulator/<tenant>, is answered 2xx and lands on the receipt queue, whose poller
// hands it to the receipts function. A forged callback to the same URL is refused.

let env: TestStack;

beforeAll(async () => {
  env = await startTestStack({ name: 'callbacks', simulator: { seed: 11, receipts: { delayMs: 20 } } });
});

afterAll(() => env?.stop());

const receiptPoller = () => {
  const name = env.stack.queues.receipt.name;
  const stats = env.stack.components.pollers.stats().find((poller) => poller.queue === name);
  if (!stats) throw new Error(`no poller for ${name}`);
  return stats;
};

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('provider callbacks on the local stack', () => {
  it("takes the simulator's receipt and reply callbacks onto the receipt queue", async () => {
    // Prepare: what the receipt queue's poller has received so far.
    const { simulator } = env.stack.components;
    const before = receiptPoller().recordsReceived;

    // Act: a message sent through the simulator for the tenant's account, its receipt, a reply.
    const sent = await fetch(new URL('/v1/messages', simulator.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [simulatorAccountHeader]: env.tenantId },
      body: JSON.stringify({
        to: '+8613812345678',
        text: '【茶语】会员日全场8折',
        reference: 'run-e2e:m-000001',
      }),
    });
    const stats = await simulator.flushReceipts();
    const reply = await simulator.reply({ phone: '+8613812345678', text: 'TD', account: env.tenantId });

    // Assess: both callbacks answered 2xx, nothing lost, both reached the receipt queue's consumer.
    expect(sent.status).toBe(202);
    expect(stats).toMatchObject({
      receiptsDelivered: 1,
      receiptsLost: 0,
      callbacksRefused: 0,
      callbacksFailed: 0,
    });
    expect(reply).toMatchObject({ status: 'delivered', httpStatus: 200 });
    await until(() => receiptPoller().recordsReceived >= before + 2);
    expect(receiptPoller().recordsReceived - before).toBe(2);
  });

  it('refuses a forged callback with 401', async () => {
    const body = JSON.stringify({
      type: 'replies',
      callbackId: 'cb-forged',
      account: env.tenantId,
      sentAt: new Date().toISOString(),
      replies: [
        { replyId: 'r-forged', phone: '+8613812345678', text: 'TD', receivedAt: new Date().toISOString() },
      ],
    });
    const before = receiptPoller().recordsReceived;

    const response = await fetch(new URL(`/callbacks/simulator/${env.tenantId}`, env.stack.apiUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-simulator-timestamp': String(Math.floor(Date.now() / 1000)),
        'x-simulator-signature': 'a'.repeat(64),
      },
      body,
    });

    expect(response.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiptPoller().recordsReceived).toBe(before);
  });
});
