import { randomUUID } from 'node:crypto';
import { DynamoMessageStore, DynamoRunCounters } from '@qunfa/aws';
import {
  buildRunReport,
  type MessageRecord,
  memberShard,
  RunRecount,
  receiptMoveDeltas,
  SendTally,
  ValidationError,
} from '@qunfa/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../support/local';

// A run's report from real counters and records on DynamoDB Local: records moved as the
// sender and receipts move them, counted with their own counting code (per batch, sharded),
// recounted at completion; the report's numbers must add up and agree with the records.

let dynamo: LocalDynamo;
let messages: DynamoMessageStore;
const tenantId = 'acme';
const campaignId = 'cmp_REPORTREPORT';
let clock = Date.parse('2026-11-23T02:10:00Z');
const now = () => new Date(clock);
let counters: DynamoRunCounters;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  messages = new DynamoMessageStore({ client: dynamo.documentClient, tableName: dynamo.tableNames.messages });
  counters = new DynamoRunCounters({
    client: dynamo.documentClient,
    tableName: dynamo.tableNames.metrics,
    now,
  });
});

afterAll(() => dynamo?.stop());

const memberIds = Array.from({ length: 120 }, (_, i) => `M${String(i).padStart(4, '0')}`);

/** What happens to member i: suppressed, refused, unknown, or accepted and then a receipt (or none). */
function fateOf(i: number): 'suppressed' | 'refused' | 'unknown' | 'delivered' | 'undelivered' | 'awaiting' {
  if (i % 10 === 0) return 'suppressed';
  if (i % 10 === 1) return 'refused';
  if (i % 20 === 2) return 'unknown';
  if (i % 10 === 3) return 'undelivered';
  if (i % 10 === 4) return 'awaiting';
  return 'delivered';
}

/** Records and counters of one run, as the segmenter, sender and receipt processor leave them. */
async function sendRun(runId: string): Promise<void> {
  const run = { tenantId, campaignId, runId };
  const variantOf = (i: number) => (i % 2 === 0 ? 'A' : 'B');
  await messages.create(
    tenantId,
    { campaignId, runId },
    memberIds.map((memberId, i) =>
      fateOf(i) === 'suppressed'
        ? { memberId, variantId: variantOf(i), state: 'suppressed', reason: 'opted_out' }
        : { memberId, variantId: variantOf(i), state: 'pending' },
    ),
    now(),
  );
  // The segmenter's counts, one add.
  const segmented: Record<string, number> = {};
  const bump = (key: string, by = 1) => {
    segmented[key] = (segmented[key] ?? 0) + by;
  };
  memberIds.forEach((_, i) => {
    for (const prefix of ['', `variant.${variantOf(i)}.`]) {
      bump(`${prefix}targeted`);
      bump(fateOf(i) === 'suppressed' ? `${prefix}suppressed.opted_out` : `${prefix}queued`);
    }
  });
  await counters.add(tenantId, campaignId, runId, segmented);

  // The sender, in two batches an hour apart (the timeline has two hours).
  for (const [from, to] of [
    [0, 60],
    [60, 120],
  ] as const) {
    const tally = new SendTally();
    for (let i = from; i < to; i++) {
      const memberId = memberIds[i] ?? '';
      const fate = fateOf(i);
      if (fate === 'suppressed') continue;
      await messages.claim(tenantId, runId, memberId, { token: 't', now: now() });
      if (fate === 'refused') {
        const reason =
          i % 20 === 1 ? 'invalid_phone:isv.MOBILE_NUMBER_ILLEGAL' : 'template_rejected:template_missing';
        await messages.move(tenantId, runId, memberId, {
          event: 'refused',
          token: 't',
          now: now(),
          set: { reason },
        });
        tally.count({ run, variantId: variantOf(i), counter: 'failed', reason });
      } else if (fate === 'unknown') {
        await messages.move(tenantId, runId, memberId, { event: 'leaseLost', token: 't', now: now() });
        tally.count({ run, variantId: variantOf(i), counter: 'unknown' });
      } else {
        await messages.move(tenantId, runId, memberId, {
          event: 'accepted',
          token: 't',
          now: now(),
          set: { providerMessageId: `SIM-${runId}-${i}`, parts: 1, costMicros: 45_000 },
        });
        tally.count({ run, variantId: variantOf(i), counter: 'sent' });
        tally.spend({ run, variantId: variantOf(i), micros: 45_000 });
      }
    }
    for (const { deltas } of tally.drain()) await counters.add(tenantId, campaignId, runId, deltas);
    clock += 3_600_000;
  }

  // Completion: every record settled; the recount is the final counts.
  const recount = new RunRecount();
  for await (const page of messages.scan(tenantId, runId)) for (const record of page) recount.add(record);
  expect(await counters.finalize(tenantId, campaignId, runId, recount.counts())).toBe(true);

  // Receipts after completion, one add per batch.
  const receipts: Record<string, number> = {};
  for (let i = 0; i < memberIds.length; i++) {
    const fate = fateOf(i);
    if (fate !== 'delivered' && fate !== 'undelivered') continue;
    const memberId = memberIds[i] ?? '';
    const before = await messages.get(tenantId, runId, memberId);
    if (!before) throw new Error(`no record ${memberId}`);
    const event = fate === 'delivered' ? 'delivered' : 'undeliverable';
    const moved = await messages.move(tenantId, runId, memberId, {
      event,
      now: now(),
      ...(fate === 'undelivered' ? { set: { reason: 'unreachable' } } : {}),
    });
    if (!moved.moved) throw new Error(`not moved ${memberId}`);
    for (const [key, by] of Object.entries(receiptMoveDeltas({ before, after: moved.record }))) {
      receipts[key] = (receipts[key] ?? 0) + by;
    }
  }
  await counters.add(tenantId, campaignId, runId, receipts);
}

async function recordsOf(runId: string): Promise<MessageRecord[]> {
  const all: MessageRecord[] = [];
  for await (const page of messages.scan(tenantId, runId)) all.push(...page);
  return all;
}

describe('a run report on DynamoDB', () => {
  it('adds up: targeted = suppressed + delivered + failed + unknown + awaiting receipt, as the records say', async () => {
    const runId = `run_${randomUUID().slice(0, 8)}`;
    await sendRun(runId);

    const tally = await counters.read(tenantId, campaignId, runId, { consistent: true });
    const report = buildRunReport({
      campaign: { campaignId, name: '报告' },
      run: { runId, state: 'completed', scheduledAt: '2026-11-23T02:00:00.000Z' },
      tally,
    });
    const records = await recordsOf(runId);
    const inState = (state: MessageRecord['state']) =>
      records.filter((record) => record.state === state).length;
    const { total } = report;

    expect(total.targeted).toBe(120);
    expect(
      total.suppressed.total +
        total.delivered +
        total.failed.total +
        total.unknown +
        total.awaitingReceipt +
        total.remaining,
    ).toBe(total.targeted);
    expect(total.remaining).toBe(0);
    expect(total.suppressed.total).toBe(inState('suppressed'));
    expect(total.delivered).toBe(inState('delivered'));
    expect(total.failed.total).toBe(inState('failed'));
    expect(total.unknown).toBe(inState('unknown'));
    expect(total.awaitingReceipt).toBe(inState('sent'));
    expect(total.failed.byReason).toEqual({
      invalid_phone: records.filter((r) => r.reason?.startsWith('invalid_phone')).length,
      template_rejected: records.filter((r) => r.reason?.startsWith('template_rejected')).length,
      unreachable: records.filter((r) => r.reason === 'unreachable').length,
    });
    expect(total.costMicros).toBe(records.reduce((sum, r) => sum + (r.costMicros ?? 0), 0));
    for (const [variantId, counts] of Object.entries(report.byVariant)) {
      const mine = records.filter((record) => record.variantId === variantId);
      expect(counts.targeted).toBe(mine.length);
      expect(counts.delivered).toBe(mine.filter((record) => record.state === 'delivered').length);
      expect(counts.failed.total).toBe(mine.filter((record) => record.state === 'failed').length);
    }
    // Two sending hours and the receipts' hour; the hours' sends are the run's.
    expect(report.timeline.map((hour) => hour.hour)).toEqual([
      '2026-11-23T02:00:00.000Z',
      '2026-11-23T03:00:00.000Z',
      '2026-11-23T04:00:00.000Z',
    ]);
    expect(report.timeline.reduce((sum, hour) => sum + hour.sent, 0)).toBe(total.sent);
    expect(report.timeline.at(-1)?.delivered).toBe(total.delivered);
  });
});

describe('DynamoMessageStore pages', () => {
  it('pages through one state across shards, a bounded page at a time, each record once', async () => {
    const runId = `run_${randomUUID().slice(0, 8)}`;
    await sendRun(runId);
    const failed = (await recordsOf(runId)).filter((record) => record.state === 'failed');

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await messages.page(tenantId, runId, {
        limit: 7,
        state: 'failed',
        ...(cursor === undefined ? {} : { cursor }),
      });
      expect(page.records.length).toBeLessThanOrEqual(7);
      expect(page.records.every((record) => record.state === 'failed')).toBe(true);
      seen.push(...page.records.map((record) => record.memberId));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 100);

    expect(seen.sort()).toEqual(failed.map((record) => record.memberId).sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('filters by variant too, and refuses a cursor it did not give', async () => {
    const runId = `run_${randomUUID().slice(0, 8)}`;
    await sendRun(runId);

    const page = await messages.page(tenantId, runId, { limit: 100, state: 'delivered', variantId: 'B' });

    expect(page.records.length).toBeGreaterThan(0);
    expect(page.records.every((record) => record.variantId === 'B' && record.state === 'delivered')).toBe(
      true,
    );
    await expect(messages.page(tenantId, runId, { limit: 10, cursor: 'bm90LWEtY3Vyc29y' })).rejects.toThrow(
      ValidationError,
    );
  });

  it('reads one audience shard of a run', async () => {
    const runId = `run_${randomUUID().slice(0, 8)}`;
    await messages.create(
      tenantId,
      { campaignId, runId },
      memberIds.map((memberId) => ({ memberId, state: 'pending' as const })),
      now(),
    );
    const shard = memberShard(memberIds[0] ?? '');

    const inShard: string[] = [];
    for await (const page of messages.scanShard(tenantId, runId, shard)) {
      inShard.push(...page.map((record) => record.memberId));
    }

    expect(inShard.sort()).toEqual(memberIds.filter((id) => memberShard(id) === shard).sort());
  });
});
