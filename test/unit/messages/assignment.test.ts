import { assignMember, assignmentBucket, type Member, planMessages } from '@qunfa/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const member = (i: number, overrides: Partial<Member> = {}): Member => ({
  memberId: `M${i}`,
  phone: `+86138${String(i).padStart(8, '0')}`,
  phoneStatus: 'valid',
  tags: [],
  consent: { status: 'granted' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

const ab = [
  { variantId: 'A', percent: 50 },
  { variantId: 'B', percent: 50 },
];

describe('assignMember', () => {
  it('gives a member the same variant and holdout every time', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        fc.integer({ min: 0, max: 50 }),
        (seed, memberId, holdoutPercent) => {
          const first = assignMember({ seed, memberId, holdoutPercent, variants: ab });
          expect(assignMember({ seed, memberId, holdoutPercent, variants: ab })).toEqual(first);
        },
      ),
    );
  });

  it('splits 20,000 members close to the percentages asked for', () => {
    const variants = [
      { variantId: 'A', percent: 20 },
      { variantId: 'B', percent: 30 },
      { variantId: 'C', percent: 50 },
    ];
    const counts: Record<string, number> = { held: 0, A: 0, B: 0, C: 0 };
    for (let i = 0; i < 20_000; i++) {
      const a = assignMember({ seed: 'cmp_x', memberId: `M${i}`, holdoutPercent: 10, variants });
      counts[a.heldOut ? 'held' : a.variantId] = (counts[a.heldOut ? 'held' : a.variantId] ?? 0) + 1;
    }

    expect(counts.held).toBeGreaterThan(1_800);
    expect(counts.held).toBeLessThan(2_200);
    const sent = 20_000 - (counts.held ?? 0);
    expect((counts.A ?? 0) / sent).toBeCloseTo(0.2, 1);
    expect((counts.B ?? 0) / sent).toBeCloseTo(0.3, 1);
    expect((counts.C ?? 0) / sent).toBeCloseTo(0.5, 1);
  });

  it('keeps members in their variant when the holdout changes', () => {
    for (let i = 0; i < 2_000; i++) {
      const memberId = `M${i}`;
      const none = assignMember({ seed: 's', memberId, holdoutPercent: 0, variants: ab });
      const some = assignMember({ seed: 's', memberId, holdoutPercent: 20, variants: ab });
      if (!some.heldOut && !none.heldOut) expect(some.variantId).toBe(none.variantId);
    }
  });

  it('holds out nobody at 0% and draws buckets within 0–9,999', () => {
    for (let i = 0; i < 1_000; i++) {
      expect(assignMember({ seed: 's', memberId: `M${i}`, holdoutPercent: 0, variants: ab }).heldOut).toBe(
        false,
      );
      const bucket = assignmentBucket({ seed: 's', memberId: `M${i}` });
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(10_000);
    }
  });
});

describe('planMessages', () => {
  it('records every member once: pending with a variant, or suppressed with the reason', () => {
    const members = [
      member(1),
      member(2, { consent: { status: 'unknown' } }),
      member(3, { phoneStatus: 'invalid' }),
      member(4),
    ];

    const plan = planMessages({
      members,
      seed: 'cmp_1',
      category: 'marketing',
      holdoutPercent: 0,
      variants: ab,
      isOptedOut: (m) => m.memberId === 'M4',
    });

    expect(plan.records.map((r) => r.memberId)).toEqual(['M1', 'M2', 'M3', 'M4']);
    expect(plan.pending).toEqual(['M1']);
    expect(plan.suppressed).toEqual({ no_consent: 1, invalid_phone: 1, opted_out: 1 });
    expect(plan.records[0]).toMatchObject({ state: 'pending', variantId: expect.stringMatching(/^[AB]$/) });
    expect(plan.records[3]).toEqual({
      memberId: 'M4',
      state: 'suppressed',
      reason: 'opted_out',
      variantId: expect.any(String),
    });
  });

  it('adds up: pending plus suppressed is the audience, for any mix of members', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            consent: fc.constantFrom('granted', 'denied', 'unknown'),
            invalid: fc.boolean(),
            optedOut: fc.boolean(),
          }),
          {
            maxLength: 200,
          },
        ),
        fc.integer({ min: 0, max: 50 }),
        fc.constantFrom('marketing', 'notification'),
        (shapes, holdoutPercent, category) => {
          const members = shapes.map((s, i) =>
            member(i, { consent: { status: s.consent }, phoneStatus: s.invalid ? 'invalid' : 'valid' }),
          );
          const plan = planMessages({
            members,
            seed: 'c',
            category,
            holdoutPercent,
            variants: ab,
            isOptedOut: (m) => shapes[Number(m.memberId.slice(1))]?.optedOut ?? false,
          });
          const suppressed = Object.values(plan.suppressed).reduce((a, b) => a + (b ?? 0), 0);
          expect(plan.pending.length + suppressed).toBe(members.length);
          expect(plan.records).toHaveLength(members.length);
        },
      ),
    );
  });
});
