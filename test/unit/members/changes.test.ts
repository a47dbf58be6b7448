import { type Member, type MemberFields, memberChange } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

// What writing a member's fields does to the stored member. Writing the same fields twice
// changes nothing, which is what makes PUT and a re-run import idempotent.

const t1 = new Date('2024-03-01T02:00:00.000Z');
const t2 = new Date('2024-03-02T02:00:00.000Z');

const fields: MemberFields = {
  phone: '+8613812345678',
  name: '王芳',
  gender: 'female',
  birthday: { month: 1, day: 5, year: 1990 },
  tags: ['vip', 'tea'],
  points: 1200,
  lastPurchaseAt: '2024-01-05T05:45:00.000Z',
  consent: { status: 'granted', source: 'import' },
  attributes: { favoriteCategory: '茶饮', visits: 3 },
};

function created(): Member {
  return memberChange({ memberId: 'M1', existing: undefined, incoming: fields, now: t1 }).next;
}

describe('memberChange', () => {
  it('creates a member with sorted tags, timed consent and a valid phone', () => {
    const change = memberChange({ memberId: 'M1', existing: undefined, incoming: fields, now: t1 });

    expect(change.kind).toBe('created');
    expect(change.next).toEqual({
      ...fields,
      memberId: 'M1',
      phoneStatus: 'valid',
      tags: ['tea', 'vip'],
      consent: { status: 'granted', source: 'import', at: t1.toISOString() },
      createdAt: t1.toISOString(),
      updatedAt: t1.toISOString(),
    });
  });

  it('records unknown consent when none is given', () => {
    const { consent: _consent, ...without } = fields;
    expect(
      memberChange({ memberId: 'M1', existing: undefined, incoming: without, now: t1 }).next.consent,
    ).toEqual({
      status: 'unknown',
    });
  });

  for (const mode of ['replace', 'merge'] as const) {
    it(`leaves the member and its updatedAt alone when the same fields come again (${mode})`, () => {
      const existing = created();

      const change = memberChange({ memberId: 'M1', existing, incoming: fields, now: t2, mode });

      expect(change.kind).toBe('unchanged');
      expect(change.next).toBe(existing);
    });
  }

  it('ignores keys that a store adds to what it reads', () => {
    const stored = Object.assign(created(), { pk: 'tenant#M1', version: 3 });
    expect(memberChange({ memberId: 'M1', existing: stored, incoming: fields, now: t2 }).kind).toBe(
      'unchanged',
    );
  });

  it('compares instants as instants, tags as a set and birthdays by value', () => {
    const existing = created();
    const same: MemberFields = {
      ...fields,
      tags: ['tea', 'vip', 'tea'],
      lastPurchaseAt: '2024-01-05T13:45:00+08:00',
      birthday: { year: 1990, day: 5, month: 1 },
      attributes: { visits: 3, favoriteCategory: '茶饮' },
    };
    expect(memberChange({ memberId: 'M1', existing, incoming: same, now: t2 }).kind).toBe('unchanged');
  });

  it('keeps when and where consent was given when the same status comes again', () => {
    const existing = created();
    const again = memberChange({
      memberId: 'M1',
      existing,
      incoming: { ...fields, consent: { status: 'granted' } },
      now: t2,
    });
    expect(again.kind).toBe('unchanged');

    const withdrawn = memberChange({
      memberId: 'M1',
      existing,
      incoming: { ...fields, consent: { status: 'denied', source: 'import' } },
      now: t2,
    });
    expect(withdrawn.kind).toBe('updated');
    expect(withdrawn.next.consent).toEqual({ status: 'denied', source: 'import', at: t2.toISOString() });
  });

  it('updates what changed, keeps createdAt and sets updatedAt', () => {
    const existing = created();

    const change = memberChange({ memberId: 'M1', existing, incoming: { ...fields, points: 1500 }, now: t2 });

    expect(change).toMatchObject({ kind: 'updated', previous: existing });
    expect(change.next).toMatchObject({
      points: 1500,
      createdAt: t1.toISOString(),
      updatedAt: t2.toISOString(),
    });
  });

  describe('replace', () => {
    it('removes the fields left out and takes the tags as given', () => {
      const existing = created();

      const change = memberChange({
        memberId: 'M1',
        existing,
        incoming: { phone: fields.phone, tags: ['new'] },
        now: t2,
      });

      expect(change.kind).toBe('updated');
      expect(change.next).not.toHaveProperty('name');
      expect(change.next).not.toHaveProperty('attributes');
      expect(change.next.tags).toEqual(['new']);
    });
  });

  describe('merge', () => {
    it('keeps the fields left out, unites tags and merges attributes by name', () => {
      const existing = created();

      const change = memberChange({
        memberId: 'M1',
        existing,
        incoming: { phone: fields.phone, tags: ['birthday'], tier: 'gold', attributes: { visits: 4 } },
        now: t2,
        mode: 'merge',
      });

      expect(change.kind).toBe('updated');
      expect(change.next).toMatchObject({
        name: '王芳',
        points: 1200,
        tier: 'gold',
        tags: ['birthday', 'tea', 'vip'],
        attributes: { favoriteCategory: '茶饮', visits: 4 },
        consent: existing.consent,
      });
    });

    it('finds nothing to change when the incoming tags are already there', () => {
      const existing = created();
      const change = memberChange({
        memberId: 'M1',
        existing,
        incoming: { phone: fields.phone, tags: ['vip'] },
        now: t2,
        mode: 'merge',
      });
      expect(change.kind).toBe('unchanged');
    });
  });

  it('keeps an invalid phone status while the number stays, and resets it for a new number', () => {
    const existing: Member = { ...created(), phoneStatus: 'invalid' };

    const same = memberChange({ memberId: 'M1', existing, incoming: { ...fields, points: 1 }, now: t2 });
    const moved = memberChange({
      memberId: 'M1',
      existing,
      incoming: { ...fields, phone: '+8613900000001' },
      now: t2,
    });

    expect(same.next.phoneStatus).toBe('invalid');
    expect(moved.next.phoneStatus).toBe('valid');
  });
});
