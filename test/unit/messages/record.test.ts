import {
  eventMove,
  messageEvents,
  messageStates,
  messageTransitions,
  nextMessageState,
  terminalMessageStates,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

describe('message record transitions', () => {
  it.each(messageEvents)('move every state the event %s leaves to one and the same state', (event) => {
    const { from, to } = eventMove(event);

    expect(from.length).toBeGreaterThan(0);
    for (const state of from) expect(nextMessageState(state, event)).toBe(to);
  });

  it('never leaves delivered, failed, expired or suppressed: a terminal state is never downgraded', () => {
    for (const state of ['delivered', 'failed', 'expired', 'suppressed'] as const) {
      expect(Object.keys(messageTransitions[state])).toEqual([]);
    }
  });

  it('lets receipts settle an unknown send, and nothing else move it', () => {
    expect(Object.keys(messageTransitions.unknown).sort()).toEqual(['delivered', 'expired', 'undeliverable']);
  });

  it('sends only from a claim: accepted is legal from claimed alone', () => {
    expect(eventMove('accepted').from).toEqual(['claimed']);
    expect(eventMove('claim').from).toEqual(['pending']);
  });

  it('gives a claimed send that lost its claimant up as unknown, never back to pending', () => {
    expect(nextMessageState('claimed', 'leaseLost')).toBe('unknown');
    expect(eventMove('release').from).toEqual(['claimed']);
  });

  it('counts every state as pending, in flight or terminal, and nothing twice', () => {
    const inFlight = new Set(['pending', 'claimed', 'sent']);
    for (const state of messageStates) {
      expect(inFlight.has(state) !== terminalMessageStates.has(state)).toBe(true);
    }
  });
});

describe('a sent message', () => {
  it('is made unknown only by a receipt that never came, never by a lost lease', () => {
    expect(nextMessageState('sent', 'leaseLost')).toBeUndefined();
    expect(nextMessageState('sent', 'receiptTimeout')).toBe('unknown');
  });
});
