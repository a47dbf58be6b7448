import {
  allPartsDelivered,
  type DeliveryReceipt,
  type MessageRecord,
  RunDeltaBatch,
  receiptDecision,
  receiptMoveDeltas,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

type Receipt = Pick<DeliveryReceipt, 'status' | 'reason' | 'part' | 'parts'>;
type Standing = Pick<MessageRecord, 'state' | 'deliveredParts'>;

/** Applies receipts in order to a record the way the processor does (decide, then move). */
function settle(start: Standing, receipts: readonly Receipt[]): Standing & { reason?: string } {
  let record: Standing & { reason?: string } = { ...start };
  for (const receipt of receipts) {
    const decision = receiptDecision({ record, receipt });
    if (decision.kind === 'part') {
      const deliveredParts = [...(record.deliveredParts ?? []), decision.part];
      record = { ...record, deliveredParts };
      if (allPartsDelivered({ delivered: deliveredParts, parts: decision.parts })) {
        record = { ...record, state: 'delivered' };
      }
    } else if (decision.kind === 'settle') {
      const state = { delivered: 'delivered', undeliverable: 'failed', expired: 'expired' } as const;
      record = {
        ...record,
        state: state[decision.event],
        ...(decision.reason === undefined ? {} : { reason: decision.reason }),
      };
    }
  }
  return record;
}

describe('receiptDecision', () => {
  it('settles a sent message delivered', () => {
    expect(settle({ state: 'sent' }, [{ status: 'delivered' }]).state).toBe('delivered');
  });

  it('ignores an intermediate sent report, before or after the handset answered', () => {
    expect(receiptDecision({ record: { state: 'sent' }, receipt: { status: 'sent' } })).toEqual({
      kind: 'ignore',
      why: 'intermediate',
    });
    expect(settle({ state: 'sent' }, [{ status: 'delivered' }, { status: 'sent' }]).state).toBe('delivered');
  });

  it('changes nothing on a duplicate delivered', () => {
    expect(receiptDecision({ record: { state: 'delivered' }, receipt: { status: 'delivered' } })).toEqual({
      kind: 'ignore',
      why: 'settled',
    });
  });

  it('never downgrades a terminal state, whatever arrives late', () => {
    expect(
      settle({ state: 'sent' }, [{ status: 'failed', reason: 'unreachable' }, { status: 'delivered' }]),
    ).toEqual({ state: 'failed', reason: 'unreachable' });
    expect(
      settle({ state: 'sent' }, [{ status: 'delivered' }, { status: 'failed', reason: 'blocked' }]).state,
    ).toBe('delivered');
    expect(settle({ state: 'sent' }, [{ status: 'expired' }, { status: 'delivered' }]).state).toBe('expired');
  });

  it('records the provider reason of a failure, `unknown` when none is given', () => {
    expect(settle({ state: 'sent' }, [{ status: 'failed', reason: 'invalid_number' }]).reason).toBe(
      'invalid_number',
    );
    expect(settle({ state: 'sent' }, [{ status: 'failed' }]).reason).toBe('unknown');
  });

  it('settles an ambiguous send recorded unknown', () => {
    expect(settle({ state: 'unknown' }, [{ status: 'delivered' }]).state).toBe('delivered');
    expect(settle({ state: 'unknown' }, [{ status: 'failed', reason: 'unreachable' }]).state).toBe('failed');
  });

  it('leaves records no provider has alone', () => {
    for (const state of ['pending', 'claimed'] as const) {
      expect(receiptDecision({ record: { state }, receipt: { status: 'delivered' } })).toEqual({
        kind: 'ignore',
        why: 'not_sent',
      });
    }
    expect(settle({ state: 'suppressed' }, [{ status: 'delivered' }]).state).toBe('suppressed');
  });

  describe('multipart', () => {
    it('is delivered only once every part is, in any order', () => {
      const parts = [3, 1, 2].map((part) => ({ status: 'delivered' as const, part, parts: 3 }));
      expect(settle({ state: 'sent' }, parts.slice(0, 2)).state).toBe('sent');
      expect(settle({ state: 'sent' }, parts)).toEqual({ state: 'delivered', deliveredParts: [3, 1, 2] });
    });

    it('fails when a part fails after another was delivered', () => {
      const record = settle({ state: 'sent' }, [
        { status: 'delivered', part: 1, parts: 2 },
        { status: 'failed', reason: 'unreachable', part: 2, parts: 2 },
      ]);
      expect(record.state).toBe('failed');
    });

    it('fails when a part fails first, whatever the other parts say later', () => {
      const record = settle({ state: 'sent' }, [
        { status: 'failed', reason: 'unreachable', part: 2, parts: 2 },
        { status: 'delivered', part: 1, parts: 2 },
      ]);
      expect(record.state).toBe('failed');
    });

    it('does not count a part twice', () => {
      const again = { status: 'delivered' as const, part: 1, parts: 2 };
      expect(settle({ state: 'sent' }, [again, again]).state).toBe('sent');
      expect(receiptDecision({ record: { state: 'sent', deliveredParts: [1] }, receipt: again })).toEqual({
        kind: 'ignore',
        why: 'part_known',
      });
    });

    it('settles a record whose parts are all in but whose move was lost', () => {
      expect(
        receiptDecision({
          record: { state: 'sent', deliveredParts: [1, 2] },
          receipt: { status: 'delivered', part: 2, parts: 2 },
        }),
      ).toEqual({ kind: 'settle', event: 'delivered' });
    });
  });
});

describe('receiptMoveDeltas', () => {
  const sent = { state: 'sent', costMicros: 50_000 } as const;

  it('counts a delivery under the total and the variant', () => {
    expect(
      receiptMoveDeltas({ before: { ...sent, variantId: 'A' }, after: { ...sent, state: 'delivered' } }),
    ).toEqual({
      delivered: 1,
      'variant.A.delivered': 1,
    });
  });

  it('counts an accepted message reported failed as undelivered', () => {
    expect(
      receiptMoveDeltas({ before: sent, after: { ...sent, state: 'failed', reason: 'unreachable' } }),
    ).toEqual({
      undelivered: 1,
      'undelivered.unreachable': 1,
    });
    expect(receiptMoveDeltas({ before: sent, after: { ...sent, state: 'expired' } })).toEqual({
      undelivered: 1,
      'undelivered.expired': 1,
    });
  });

  it('moves a settled unknown to the outcome the final recount reads', () => {
    const unknown = { state: 'unknown' } as const;
    expect(receiptMoveDeltas({ before: unknown, after: { state: 'delivered' } })).toEqual({
      unknown: -1,
      sent: 1,
      delivered: 1,
    });
    expect(receiptMoveDeltas({ before: unknown, after: { state: 'failed', reason: 'unreachable' } })).toEqual(
      {
        unknown: -1,
        failed: 1,
        'failed.unreachable': 1,
      },
    );
  });

  it('counts nothing for a test send', () => {
    expect(
      receiptMoveDeltas({ before: { ...sent, test: true }, after: { ...sent, state: 'delivered' } }),
    ).toEqual({});
  });
});

describe('RunDeltaBatch', () => {
  it('adds each run once and drops what cancels out', () => {
    const batch = new RunDeltaBatch();
    const run = { campaignId: 'c1', runId: 'r1' };
    batch.add(run, { delivered: 1 });
    batch.add(run, { delivered: 1, unknown: -1, sent: 1 });
    batch.add(run, { unknown: 1, sent: -1 });
    batch.add({ campaignId: 'c1', runId: 'r2' }, { delivered: 0 });
    expect(batch.drain()).toEqual([{ campaignId: 'c1', runId: 'r1', deltas: { delivered: 2 } }]);
    expect(batch.drain()).toEqual([]);
  });
});
