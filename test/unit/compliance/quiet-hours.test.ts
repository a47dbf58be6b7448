import {
  defaultSendWindow,
  recipientTimeZone,
  sendWindow,
  sendWindowCheck,
  tenantSettings,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

// The send window on the recipient's wall clock. America/New_York moved its clocks on
// 2025-03-09 (02:00 EST → 03:00 EDT) and 2025-11-02 (02:00 EDT → 01:00 EST).

const check = (now: string, window: { start: string; end: string }, timeZone: string) =>
  sendWindowCheck({ now: new Date(now), window, timeZone });

describe('SendWindow', () => {
  describe('sendWindowCheck in a day window (09:00–20:00, Asia/Shanghai)', () => {
    const window = { start: '09:00', end: '20:00' };

    it.each<[string, string, ReturnType<typeof sendWindowCheck>]>([
      [
        '2025-06-10T00:59:00Z',
        '08:59, before it opens',
        { open: false, opensAt: '2025-06-10T01:00:00.000Z' },
      ],
      ['2025-06-10T01:00:00Z', '09:00, the first minute', { open: true }],
      ['2025-06-10T11:59:59Z', '19:59:59, the last second', { open: true }],
      [
        '2025-06-10T12:00:00Z',
        '20:00, closed until tomorrow',
        { open: false, opensAt: '2025-06-11T01:00:00.000Z' },
      ],
      [
        '2025-06-10T15:30:00Z',
        '23:30, closed until tomorrow',
        { open: false, opensAt: '2025-06-11T01:00:00.000Z' },
      ],
      [
        '2025-06-10T16:30:00Z',
        '00:30, opens this morning',
        { open: false, opensAt: '2025-06-11T01:00:00.000Z' },
      ],
    ])('at %s (%s)', (now, _, expected) => {
      expect(check(now, window, 'Asia/Shanghai')).toEqual(expected);
    });
  });

  describe('sendWindowCheck in a window across midnight (20:00–02:00, Asia/Shanghai)', () => {
    const window = { start: '20:00', end: '02:00' };

    it.each<[string, string, ReturnType<typeof sendWindowCheck>]>([
      ['2025-06-10T12:00:00Z', '20:00, opens', { open: true }],
      ['2025-06-10T15:30:00Z', '23:30, open before midnight', { open: true }],
      ['2025-06-10T17:59:00Z', '01:59, open after midnight', { open: true }],
      [
        '2025-06-10T18:00:00Z',
        '02:00, closed until the evening',
        { open: false, opensAt: '2025-06-11T12:00:00.000Z' },
      ],
      [
        '2025-06-10T11:00:00Z',
        '19:00, opens in an hour',
        { open: false, opensAt: '2025-06-10T12:00:00.000Z' },
      ],
    ])('at %s (%s)', (now, _, expected) => {
      expect(check(now, window, 'Asia/Shanghai')).toEqual(expected);
    });
  });

  it('is always open from 00:00 to 24:00', () => {
    const allDay = { start: '00:00', end: '24:00' };

    expect(check('2025-06-10T16:00:00Z', allDay, 'Asia/Shanghai')).toEqual({ open: true });
    expect(check('2025-06-10T15:59:59Z', allDay, 'Asia/Shanghai')).toEqual({ open: true });
  });

  describe('daylight saving in America/New_York', () => {
    it('opens a window starting in the spring-forward gap at the first minute after it (03:00 EDT)', () => {
      // 01:00 EST on 9 March; 02:30 does not exist that day.
      const result = check('2025-03-09T06:00:00Z', { start: '02:30', end: '20:00' }, 'America/New_York');

      expect(result).toEqual({ open: false, opensAt: '2025-03-09T07:00:00.000Z' });
    });

    it('opens at 09:00 EDT on the spring-forward day, not an hour late', () => {
      const result = check('2025-03-09T06:00:00Z', defaultSendWindow, 'America/New_York');

      expect(result).toEqual({ open: false, opensAt: '2025-03-09T13:00:00.000Z' });
    });

    it('opens at 09:00 EDT when asked the evening before, across the change', () => {
      // 21:00 EST on 8 March.
      const result = check('2025-03-09T02:00:00Z', defaultSendWindow, 'America/New_York');

      expect(result).toEqual({ open: false, opensAt: '2025-03-09T13:00:00.000Z' });
    });

    it('closes at 20:00 EDT on the spring-forward day', () => {
      expect(check('2025-03-09T23:59:00Z', defaultSendWindow, 'America/New_York')).toEqual({ open: true });
      expect(check('2025-03-10T00:00:00Z', defaultSendWindow, 'America/New_York')).toEqual({
        open: false,
        opensAt: '2025-03-10T13:00:00.000Z',
      });
    });

    it('opens at 09:00 EST on the fall-back day', () => {
      // 00:30 EDT on 2 November.
      const result = check('2025-11-02T04:30:00Z', defaultSendWindow, 'America/New_York');

      expect(result).toEqual({ open: false, opensAt: '2025-11-02T14:00:00.000Z' });
    });

    it('opens a window starting in the repeated hour at its first occurrence', () => {
      // 00:30 EDT; 01:30 comes twice: 05:30Z (EDT) and 06:30Z (EST).
      const result = check('2025-11-02T04:30:00Z', { start: '01:30', end: '20:00' }, 'America/New_York');

      expect(result).toEqual({ open: false, opensAt: '2025-11-02T05:30:00.000Z' });
    });

    it('reads the repeated hour off the wall clock: 01:10 EST is before a 01:30 start again', () => {
      const result = check('2025-11-02T06:10:00Z', { start: '01:30', end: '20:00' }, 'America/New_York');

      expect(result).toEqual({ open: false, opensAt: '2025-11-02T06:30:00.000Z' });
    });

    it('keeps a night window ending in the repeated hour open through both passes of it', () => {
      const window = { start: '20:00', end: '01:30' };

      expect(check('2025-11-02T05:15:00Z', window, 'America/New_York')).toEqual({ open: true }); // 01:15 EDT
      expect(check('2025-11-02T05:45:00Z', window, 'America/New_York')).toEqual({
        open: false,
        opensAt: '2025-11-03T01:00:00.000Z', // 20:00 EST
      }); // 01:45 EDT
      expect(check('2025-11-02T06:15:00Z', window, 'America/New_York')).toEqual({ open: true }); // 01:15 EST
    });
  });

  describe("the recipient's zone", () => {
    it("reads the window in the member's zone when they have one", () => {
      const timeZone = recipientTimeZone({
        memberTimeZone: 'America/New_York',
        tenantTimeZone: 'Asia/Shanghai',
      });
      // 10:00 in Shanghai, 22:00 the evening before in New York.
      const now = '2025-06-10T02:00:00Z';

      expect(timeZone).toBe('America/New_York');
      expect(check(now, defaultSendWindow, 'Asia/Shanghai')).toEqual({ open: true });
      expect(check(now, defaultSendWindow, timeZone)).toEqual({
        open: false,
        opensAt: '2025-06-10T13:00:00.000Z',
      });
    });

    it("falls back to the tenant's zone when the member has none, or one the runtime does not know", () => {
      expect(recipientTimeZone({ tenantTimeZone: 'Asia/Shanghai' })).toBe('Asia/Shanghai');
      expect(recipientTimeZone({ memberTimeZone: 'Mars/Olympus', tenantTimeZone: 'Asia/Shanghai' })).toBe(
        'Asia/Shanghai',
      );
    });
  });

  describe('sendWindow (the setting)', () => {
    it('is 09:00–20:00 for a tenant that did not set it', () => {
      expect(tenantSettings.parse({ name: 'Acme Tea' }).sendWindow).toEqual({ start: '09:00', end: '20:00' });
    });

    it.each([
      [{ start: '9:00', end: '20:00' }, 'start'],
      [{ start: '09:00', end: '25:00' }, 'end'],
      [{ start: '24:00', end: '20:00' }, 'start'],
      [{ start: '09:00', end: '09:00' }, 'end'],
      [{ start: '00:00', end: '00:00' }, 'end'],
    ])('refuses %o, naming %s', (window, path) => {
      const result = sendWindow.safeParse(window);

      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
    });

    it('accepts a window across midnight and one to 24:00', () => {
      expect(sendWindow.safeParse({ start: '20:00', end: '02:00' }).success).toBe(true);
      expect(sendWindow.safeParse({ start: '18:00', end: '24:00' }).success).toBe(true);
    });
  });
});
