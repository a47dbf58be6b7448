import {
  type CapSend,
  capDay,
  claimFrequencyCap,
  decideCapClaim,
  type FrequencyCapRules,
  type FrequencyCapStore,
  frequencyCaps,
  type MessageCategory,
  tenantSettings,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { MemoryCapStore } from '../../support/fakes/memory-sending-stores';

// Frequency caps, decided by decideCapClaim and reached through claimFrequencyCap with an
// in-memory store that applies the decisions one at a time (the DynamoDB store makes them
// atomic; test/integration/sending-dynamo.test.ts races it).

const dayMs = 86_400_000;
const defaults: FrequencyCapRules = {
  windows: [
    { messages: 2, days: 7 },
    { messages: 4, days: 30 },
  ],
  dailyMax: 1,
};
const start = Date.parse('2025-06-02T02:00:00Z'); // 10:00 in Shanghai

function claimer(store: FrequencyCapStore, { caps = defaults, timeZone = 'Asia/Shanghai' } = {}) {
  let n = 0;
  return (
    at: number,
    {
      category = 'marketing',
      claimId = `run-${++n}#m1`,
      memberKey = 'm1',
    }: { category?: MessageCategory; claimId?: string; memberKey?: string } = {},
  ) =>
    claimFrequencyCap({
      store,
      tenantId: 'acme-tea',
      memberKey,
      claimId,
      category,
      now: new Date(at),
      caps,
      timeZone,
    });
}

describe('FrequencyCap', () => {
  describe('claim', () => {
    it('refuses the third marketing message within 7 days', async () => {
      const claim = claimer(new MemoryCapStore());

      const first = await claim(start);
      const second = await claim(start + 2 * dayMs);
      const third = await claim(start + 5 * dayMs);

      expect(first.granted).toBe(true);
      expect(second.granted).toBe(true);
      expect(third).toEqual({
        granted: false,
        reason: 'capped',
        cap: { kind: 'rolling', messages: 2, days: 7 },
        retryAt: new Date(start + 7 * dayMs).toISOString(),
      });
    });

    it('grants it once the first is 7 days old', async () => {
      const claim = claimer(new MemoryCapStore());
      await claim(start);
      await claim(start + 2 * dayMs);

      expect((await claim(start + 7 * dayMs - 1000)).granted).toBe(false);
      expect((await claim(start + 7 * dayMs)).granted).toBe(true);
    });

    it('refuses the fifth within 30 days, even spaced under the 7-day cap', async () => {
      const claim = claimer(new MemoryCapStore());
      for (const day of [0, 8, 16, 24]) expect((await claim(start + day * dayMs)).granted).toBe(true);

      const fifth = await claim(start + 29 * dayMs);
      const later = await claim(start + 30 * dayMs);

      expect(fifth).toMatchObject({
        granted: false,
        cap: { kind: 'rolling', messages: 4, days: 30 },
        retryAt: new Date(start + 30 * dayMs).toISOString(),
      });
      expect(later.granted).toBe(true);
    });

    it("caps a calendar day in the member's zone, which ends at their midnight", async () => {
      const claim = claimer(new MemoryCapStore(), { timeZone: 'Asia/Shanghai' });
      const lateEvening = Date.parse('2025-06-02T15:30:00Z'); // 23:30 in Shanghai

      const first = await claim(lateEvening);
      const sameDay = await claim(lateEvening + 20 * 60_000); // 23:50
      const nextDay = await claim(lateEvening + 40 * 60_000); // 00:10 on the 3rd

      expect(first.granted).toBe(true);
      expect(sameDay).toEqual({
        granted: false,
        reason: 'capped',
        cap: { kind: 'daily', messages: 1 },
        retryAt: '2025-06-02T16:00:00.000Z',
      });
      expect(nextDay.granted).toBe(true);
    });

    it('counts the same two instants as one day for a member in New York (it is midday there)', async () => {
      const claim = claimer(new MemoryCapStore(), { timeZone: 'America/New_York' });
      const lateEvening = Date.parse('2025-06-02T15:30:00Z'); // 11:30 EDT

      await claim(lateEvening);
      const result = await claim(lateEvening + 40 * 60_000); // 12:10 EDT

      expect(result).toMatchObject({
        granted: false,
        cap: { kind: 'daily' },
        retryAt: '2025-06-03T04:00:00.000Z',
      });
    });

    it('neither caps nor counts notifications', async () => {
      const store = new MemoryCapStore();
      const claim = claimer(store);

      const notices = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => claim(start + i * 60_000, { category: 'notification' })),
      );
      const marketing = await claim(start + dayMs);

      expect(notices.every((notice) => notice.granted && notice.token === undefined)).toBe(true);
      expect(store.claims).toBe(1);
      expect(marketing.granted).toBe(true);
    });

    it('gives a redelivered claim its slot again instead of a second one', async () => {
      const store = new MemoryCapStore();
      const claim = claimer(store);

      const first = await claim(start, { claimId: 'run-1#m1' });
      const again = await claim(start + 60_000, { claimId: 'run-1#m1' });
      const other = await claim(start + 2 * dayMs, { claimId: 'run-2#m1' });

      expect(first).toEqual(again);
      expect(other.granted).toBe(true);
      expect(store.sends.get('acme-tea/m1')).toHaveLength(2);
    });

    it('counts each member on their own', async () => {
      const claim = claimer(new MemoryCapStore());
      await claim(start, { memberKey: 'm1' });

      expect((await claim(start + dayMs, { memberKey: 'm2' })).granted).toBe(true);
    });
  });

  describe('release', () => {
    it('gives back the slot of a send that did not happen', async () => {
      const store = new MemoryCapStore();
      const claim = claimer(store);
      await claim(start);
      const second = await claim(start + dayMs);
      if (!second.granted || !second.token) throw new Error('expected a slot');

      await store.release(second.token);

      expect((await claim(start + 2 * dayMs)).granted).toBe(true);
    });
  });

  describe('decideCapClaim', () => {
    const day = capDay({ now: new Date(start), timeZone: 'Asia/Shanghai' });

    it('drops the sends no cap can see any more and expires the item a day after the longest window', () => {
      const sends: CapSend[] = [
        { claimId: 'old', at: start - 31 * dayMs, day: '2025-05-02' },
        { claimId: 'recent', at: start - 10 * dayMs, day: '2025-05-23' },
      ];

      const decision = decideCapClaim({ sends, claimId: 'new', now: new Date(start), rules: defaults, day });

      expect(decision).toEqual({
        granted: true,
        held: false,
        sends: [sends[1], { claimId: 'new', at: start, day: '2025-06-02' }],
        expiresAt: (start + 31 * dayMs) / 1000,
      });
    });

    it('names the latest of the refusing caps as the time to retry', () => {
      const sends: CapSend[] = [
        { claimId: 'a', at: start - 6 * dayMs, day: '2025-05-27' },
        { claimId: 'b', at: start - 60_000, day: day.key },
      ];

      const decision = decideCapClaim({ sends, claimId: 'c', now: new Date(start), rules: defaults, day });

      // The daily cap clears at midnight, the 7-day cap a day later: a day later is when it fits.
      expect(decision).toMatchObject({ granted: false, retryAt: start - 6 * dayMs + 7 * dayMs });
    });
  });

  describe('capDay', () => {
    it('ends at the next local midnight, daylight saving included', () => {
      // Noon EDT on the spring-forward day: the next midnight is EDT (04:00Z), not EST.
      expect(capDay({ now: new Date('2025-03-09T16:00:00Z'), timeZone: 'America/New_York' })).toEqual({
        key: '2025-03-09',
        endsAt: Date.parse('2025-03-10T04:00:00Z'),
      });
    });
  });

  describe('settings', () => {
    it('default to 2 per 7 days, 4 per 30 days and 1 a day', () => {
      const settings = tenantSettings.parse({ name: 'Acme Tea' });

      expect(settings.frequencyCaps).toEqual([
        { messages: 2, days: 7 },
        { messages: 4, days: 30 },
      ]);
      expect(settings.dailyMax).toBe(1);
    });

    it('refuses two windows of the same length', () => {
      const result = frequencyCaps.safeParse([
        { messages: 2, days: 7 },
        { messages: 3, days: 7 },
      ]);

      expect(result.success).toBe(false);
    });
  });
});
