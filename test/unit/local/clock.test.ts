import { installMovableClock } from '@qunfa/local';
import { describe, expect, it } from 'vitest';

describe('installMovableClock', () => {
  it('moves Date.now and new Date() forward together, leaving dates given an instant alone', () => {
    const clock = installMovableClock();
    try {
      const before = Date.now();
      clock.advance(3_600_000);

      const made = new Date();

      expect(Date.now() - before).toBeGreaterThanOrEqual(3_600_000);
      expect(made.getTime() - before).toBeGreaterThanOrEqual(3_600_000);
      expect(new Date(0).toISOString()).toBe('1970-01-01T00:00:00.000Z');
      expect(clock.offsetMs()).toBe(3_600_000);
    } finally {
      clock.uninstall();
    }
  });

  it('keeps instanceof, the prototype and the static methods of the real Date', () => {
    const made = new Date(5);
    const clock = installMovableClock({ offsetMs: 1_000 });
    try {
      expect(made).toBeInstanceOf(Date);
      expect(new Date()).toBeInstanceOf(Date);
      expect(Object.getPrototypeOf(new Date())).toBe(Object.getPrototypeOf(made));
      expect(Date.parse('2026-01-01T00:00:00Z')).toBe(Date.UTC(2026, 0, 1));
      expect(typeof Date()).toBe('string');
    } finally {
      clock.uninstall();
    }
  });

  it('never moves back, and allows one clock per process', () => {
    const clock = installMovableClock();
    try {
      expect(() => clock.advance(-1)).toThrow(RangeError);
      expect(() => installMovableClock()).toThrow(/already installed/);
    } finally {
      clock.uninstall();
    }
  });

  it('puts the real clock back when uninstalled', () => {
    const clock = installMovableClock({ offsetMs: 86_400_000 });
    clock.uninstall();

    expect(Math.abs(Date.now() - performance.timeOrigin - performance.now())).toBeLessThan(1_000);
  });
});
