import {
  type CampaignSendWindow,
  type MessageRecord,
  type MessageState,
  messageReferenceOf,
  outcomeOfRecord,
  parseMessageReference,
  permanentReasonOf,
  providerOutcomeOf,
  queueDelaySeconds,
  RunRecount,
  recordStanding,
  recountCorrection,
  remainingToSettle,
  requeueMessages,
  SendTally,
  sendBatchMessage,
  sendWindowDecision,
  tallyOf,
  zeroCounts,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

// The sender's decisions that need no store (packages/domain/src/messages/sender-decisions.ts);
// the flow over DynamoDB Local and the simulator is in test/integration/sender.test.ts.

const tenantWindow = { start: '09:00', end: '20:00' };
const hold: CampaignSendWindow = { start: '09:00', end: '20:00', outside: 'hold' };
const drop: CampaignSendWindow = { ...hold, outside: 'drop' };
const shanghai = 'Asia/Shanghai';

describe('sendWindowDecision', () => {
  const decide = (
    at: string,
    campaignWindow: CampaignSendWindow = hold,
    extra: { category?: 'marketing' | 'notification'; timeZone?: string } = {},
  ) =>
    sendWindowDecision({
      now: new Date(at),
      campaignWindow,
      tenantWindow,
      category: extra.category ?? 'marketing',
      timeZone: extra.timeZone ?? shanghai,
    });

  it('lets a message leave inside the window', () => {
    expect(decide('2026-11-24T02:00:00Z')).toEqual({ kind: 'open' });
  });

  it('holds a message after the window until it opens the next morning', () => {
    expect(decide('2026-11-24T13:00:00Z')).toEqual({
      kind: 'hold',
      opensAt: new Date('2026-11-25T01:00:00Z'),
    });
  });

  it('drops it instead when the campaign says drop', () => {
    expect(decide('2026-11-24T13:00:00Z', drop)).toEqual({ kind: 'drop' });
  });

  it("reads the window on the recipient's own clock", () => {
    // 21:00 in Shanghai is 13:00 in London.
    expect(decide('2026-11-24T13:00:00Z', hold, { timeZone: 'Europe/London' })).toEqual({ kind: 'open' });
  });

  it("keeps marketing inside the tenant's hours even when the campaign's are wider", () => {
    const wide: CampaignSendWindow = { start: '08:00', end: '22:00', outside: 'hold' };

    expect(decide('2026-11-24T00:30:00Z', wide)).toEqual({
      kind: 'hold',
      opensAt: new Date('2026-11-24T01:00:00Z'),
    });
    expect(decide('2026-11-24T00:30:00Z', wide, { category: 'notification' })).toEqual({ kind: 'open' });
  });

  it('drops what would be held forever: campaign hours that never meet the tenant’s', () => {
    const evening: CampaignSendWindow = { start: '21:00', end: '23:00', outside: 'hold' };

    expect(decide('2026-11-24T13:30:00Z', evening)).toEqual({ kind: 'drop' });
  });

  it('opens at the first minute after a spring-forward gap', () => {
    const early: CampaignSendWindow = { start: '02:30', end: '20:00', outside: 'hold' };

    expect(
      sendWindowDecision({
        now: new Date('2026-03-08T06:00:00Z'),
        campaignWindow: early,
        tenantWindow: { start: '00:00', end: '24:00' },
        category: 'marketing',
        timeZone: 'America/New_York',
      }),
    ).toEqual({ kind: 'hold', opensAt: new Date('2026-03-08T07:00:00Z') });
  });
});

describe('recordStanding', () => {
  const now = new Date('2026-11-24T02:00:00Z');
  const record = (overrides: Partial<MessageRecord>): MessageRecord => ({
    runId: 'run_1',
    campaignId: 'cmp_1',
    memberId: 'M1',
    state: 'pending',
    attempts: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    ...overrides,
  });
  const stand = (overrides: Partial<MessageRecord> | undefined) =>
    recordStanding({ record: overrides && record(overrides), now, leaseMs: 360_000 });

  it('goes on with a pending record', () => {
    expect(stand({})).toEqual({ kind: 'pending' });
  });

  it('leaves a fresh claim to its claimant, to be looked at when its lease ends', () => {
    expect(stand({ state: 'claimed', claimedAt: '2026-11-24T01:59:00Z' })).toEqual({
      kind: 'leased',
      waitMs: 300_000,
    });
  });

  it('gives up a claim older than the lease: its claimant died', () => {
    expect(stand({ state: 'claimed', claimedAt: '2026-11-24T01:54:00Z' })).toEqual({ kind: 'lease_expired' });
  });

  it.each(['sent', 'delivered', 'failed', 'unknown', 'suppressed'] as const)(
    'does nothing more for %s',
    (state) => {
      expect(stand({ state })).toEqual({ kind: 'settled' });
    },
  );

  it('says when there is no record', () => {
    expect(stand(undefined)).toEqual({ kind: 'missing' });
  });
});

describe('queueDelaySeconds', () => {
  it.each([
    [0, 0],
    [1_500, 2],
    [12_000, 15],
    [61_000, 90],
    [361_000, 390],
    [10 * 3_600_000, 900],
    [-5_000, 0],
  ])('waits %i ms as %i s of SQS delay', (ms, seconds) => {
    expect(queueDelaySeconds(ms)).toBe(seconds);
  });
});

describe('requeueMessages', () => {
  const base = { tenantId: 't-1', campaignId: 'cmp_1', runId: 'run_1' };

  it('puts members back in one message per delay and tries, at most 100 each, each member once', () => {
    const tries = { attempts: 1, throttles: 0 };
    const requeues = [
      ...Array.from({ length: 150 }, (_, i) => ({ memberId: `M${i}`, delayMs: 900_000 + i })),
      { memberId: 'M0', delayMs: 900_000 },
      { memberId: 'R1', delayMs: 4_000, tries },
      { memberId: 'R2', delayMs: 3_500, tries },
    ];

    const messages = requeueMessages({ base, requeues });

    expect(messages.map(({ delaySeconds, message }) => [delaySeconds, message.memberIds.length])).toEqual([
      [900, 100],
      [900, 50],
      [4, 2],
    ]);
    expect(messages[2]?.message).toEqual({ type: 'send.batch', ...base, memberIds: ['R1', 'R2'], tries });
    expect(messages.every(({ message }) => sendBatchMessage.safeParse(message).success)).toBe(true);
  });
});

describe('sendBatchMessage', () => {
  it("reads the segmenter's messages as they are", () => {
    const message = {
      type: 'send.batch',
      tenantId: 't-1',
      campaignId: 'cmp_1',
      runId: 'run_1',
      memberIds: ['M1'],
    };

    expect(sendBatchMessage.parse(message)).toEqual(message);
  });

  it('refuses tries it cannot trust', () => {
    const message = {
      type: 'send.batch',
      tenantId: 't-1',
      campaignId: 'cmp_1',
      runId: 'run_1',
      memberIds: ['M1'],
      tries: { attempts: -1, throttles: 0 },
    };

    expect(sendBatchMessage.safeParse(message).success).toBe(false);
  });
});

describe('providerOutcomeOf', () => {
  const failed = (outcome: 'throttled' | 'retryable' | 'permanent' | 'ambiguous', code: string) =>
    ({ reference: 'r', outcome, code, reason: 'why', scope: 'message' }) as const;

  it('reads an acceptance with its message id', () => {
    expect(
      providerOutcomeOf({
        provider: 'simulator',
        answer: { reference: 'r', outcome: 'accepted', providerMessageId: 'sim-1', parts: 2 },
      }),
    ).toEqual({ kind: 'accepted', messageId: 'sim-1' });
  });

  it('keeps the wait a throttling answer asks for', () => {
    expect(
      providerOutcomeOf({
        provider: 'simulator',
        answer: { ...failed('throttled', 'throttled'), retryAfterMs: 250 },
      }),
    ).toEqual({ kind: 'throttled', reason: 'rate_limited', code: 'throttled', retryAfterMs: 250 });
  });

  it('tells a request that never left from a provider fault', () => {
    expect(
      providerOutcomeOf({ provider: 'simulator', answer: failed('retryable', 'econnrefused') }),
    ).toMatchObject({
      reason: 'network_error',
    });
    expect(
      providerOutcomeOf({ provider: 'simulator', answer: failed('retryable', 'unavailable') }),
    ).toMatchObject({
      reason: 'provider_error',
    });
  });

  it('treats a timeout after the request left as no answer, never as a failure', () => {
    expect(providerOutcomeOf({ provider: 'simulator', answer: failed('ambiguous', 'timeout') })).toEqual({
      kind: 'ambiguous',
      reason: 'no_answer_after_send',
      code: 'timeout',
    });
    expect(
      providerOutcomeOf({ provider: 'simulator', answer: failed('ambiguous', 'http_504') }),
    ).toMatchObject({
      reason: 'provider_timeout',
    });
  });

  it("names a refusal in the merchant's words, from the simulator's codes and the providers'", () => {
    expect(permanentReasonOf({ provider: 'simulator', code: 'invalid_number' })).toBe('invalid_phone');
    expect(permanentReasonOf({ provider: 'aliyun', code: 'isv.AMOUNT_NOT_ENOUGH' })).toBe(
      'insufficient_balance',
    );
    expect(permanentReasonOf({ provider: 'twilio', code: '21610' })).toBe('opted_out_at_provider');
    expect(
      providerOutcomeOf({ provider: 'simulator', answer: failed('permanent', 'template_not_found') }),
    ).toEqual({
      kind: 'permanent',
      reason: 'template_rejected',
      code: 'template_not_found',
    });
  });
});

describe('messageReferenceOf', () => {
  it('names a message by run and member, readable back', () => {
    const reference = messageReferenceOf({ runId: 'run_20261124T020000000Z', memberId: 'M-0001' });

    expect(reference).toBe('run_20261124T020000000Z:M-0001');
    expect(parseMessageReference(reference)).toEqual({
      runId: 'run_20261124T020000000Z',
      memberId: 'M-0001',
    });
  });

  it('encodes a member id providers would refuse in a reference', () => {
    const reference = messageReferenceOf({ runId: 'run_1', memberId: 'wang@example.com' });

    expect(reference).toMatch(/^[A-Za-z0-9_.:#-]{1,128}$/);
    expect(parseMessageReference(reference)).toEqual({ runId: 'run_1', memberId: 'wang@example.com' });
  });
});

describe('SendTally', () => {
  const run = { tenantId: 't-1', campaignId: 'cmp_1', runId: 'run_1' };

  it('counts each settled member in the total and under its variant, once per run', () => {
    const tally = new SendTally();
    tally.count({ run, variantId: 'A', counter: 'sent' });
    tally.count({ run, variantId: 'A', counter: 'sent' });
    tally.count({ run, variantId: 'B', counter: 'suppressed', reason: 'capped' });
    tally.count({ run: { ...run, runId: 'run_2' }, counter: 'unknown' });

    const drained = tally.drain();

    expect(drained).toEqual([
      {
        run,
        deltas: {
          sent: 2,
          'variant.A.sent': 2,
          'suppressed.capped': 1,
          'variant.B.suppressed.capped': 1,
        },
      },
      { run: { ...run, runId: 'run_2' }, deltas: { unknown: 1 } },
    ]);
    expect(tally.drain()).toEqual([]);
  });
});

describe('remainingToSettle', () => {
  it('is what the targeted leave after suppressions and every sending outcome', () => {
    const counts = tallyOf({
      shards: [
        new Map([
          ['targeted', 10],
          ['queued', 8],
          ['suppressed.no_consent', 2],
          ['suppressed.capped', 1],
          ['sent', 4],
          ['failed', 1],
          ['unknown', 1],
        ]),
      ],
    }).total;

    expect(remainingToSettle(counts)).toBe(1);
    expect(remainingToSettle(zeroCounts())).toBe(0);
  });
});

describe('RunRecount', () => {
  const at = '2026-11-23T02:00:00.000Z';
  const recordOf = (
    memberId: string,
    state: MessageState,
    extra: Partial<Pick<MessageRecord, 'variantId' | 'reason' | 'costMicros' | 'test'>> = {},
  ): MessageRecord => ({
    runId: 'run_1',
    campaignId: 'cmp_1',
    memberId,
    state,
    attempts: state === 'pending' ? 0 : 1,
    createdAt: at,
    updatedAt: at,
    ...extra,
  });

  it('counts each settled record as targeted and under its outcome, in the total and its variant, with its cost', () => {
    const recount = new RunRecount();
    const records = [
      recordOf('M1', 'sent', { variantId: 'A', costMicros: 45_000 }),
      recordOf('M2', 'sent', { variantId: 'B', costMicros: 90_000 }),
      recordOf('M3', 'failed', { variantId: 'A', reason: 'invalid_phone:invalid_number' }),
      recordOf('M4', 'unknown', { variantId: 'B', reason: 'lease_lost' }),
      recordOf('M5', 'suppressed', { variantId: 'A', reason: 'capped' }),
      recordOf('M6', 'suppressed', { reason: 'no_consent' }),
    ];

    const added = records.map((record) => recount.add(record));

    expect(added).toEqual(records.map(() => true));
    expect(recount.counts()).toEqual({
      targeted: 6,
      sent: 2,
      failed: 1,
      'failed.invalid_phone': 1,
      unknown: 1,
      'suppressed.capped': 1,
      'suppressed.no_consent': 1,
      spentMicros: 135_000,
      'variant.A.targeted': 3,
      'variant.A.sent': 1,
      'variant.A.failed': 1,
      'variant.A.failed.invalid_phone': 1,
      'variant.A.suppressed.capped': 1,
      'variant.A.spentMicros': 45_000,
      'variant.B.targeted': 2,
      'variant.B.sent': 1,
      'variant.B.unknown': 1,
      'variant.B.spentMicros': 90_000,
    });
  });

  it('refuses a record still pending or claimed, counting nothing for it', () => {
    const recount = new RunRecount();

    expect(recount.add(recordOf('M1', 'pending'))).toBe(false);
    expect(recount.add(recordOf('M2', 'claimed'))).toBe(false);
    expect(recount.counts()).toEqual({});
  });

  it('counts a message the provider accepted as sent whatever receipts made of it since', () => {
    const accepted = { costMicros: 45_000 };

    const outcomes = [
      outcomeOfRecord(recordOf('M1', 'delivered', accepted)),
      outcomeOfRecord(recordOf('M2', 'expired', accepted)),
      outcomeOfRecord(recordOf('M3', 'failed', { ...accepted, reason: 'undeliverable' })),
      outcomeOfRecord(recordOf('M4', 'unknown', { ...accepted, reason: 'receipt_timeout' })),
      // An unknown a delivery receipt settled: counted unknown −1, sent +1.
      outcomeOfRecord(recordOf('M5', 'delivered')),
    ];

    expect(outcomes).toEqual(outcomes.map(() => ({ counter: 'sent' })));
  });

  it('leaves test-send records out of the run', () => {
    const recount = new RunRecount();

    expect(recount.add(recordOf('phone1', 'sent', { test: true, costMicros: 45_000 }))).toBe(true);
    expect(recount.counts()).toEqual({});
  });
});

describe('recountCorrection', () => {
  it('is recounted − read for each counter the recount changed', () => {
    const read = tallyOf({
      shards: [
        new Map([
          ['targeted', 10],
          ['sent', 5],
          ['suppressed.capped', 2],
        ]),
      ],
    }).total;
    const recount = tallyOf({
      shards: [
        new Map([
          ['targeted', 10],
          ['sent', 7],
          ['unknown', 1],
          ['suppressed.capped', 1],
          ['suppressed.over_budget', 1],
        ]),
      ],
    }).total;

    expect(recountCorrection({ read, recount })).toEqual({
      sent: 2,
      unknown: 1,
      'suppressed.capped': -1,
      'suppressed.over_budget': 1,
    });
  });
});
