import {
  compileSegment,
  type Member,
  parseSegmentDefinition,
  previewAudience,
  suppressionReason,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { aMember } from './support';

// Who would be suppressed and why, and what a merchant sees before sending.

describe('suppressionReason', () => {
  const reason = (fields: Partial<Member>, category: 'marketing' | 'notification', optedOut = false) =>
    suppressionReason({ member: aMember(fields), category, optedOut });

  describe('marketing', () => {
    it('sends to a member who consented, has a valid phone and has not opted out', () => {
      expect(reason({}, 'marketing')).toBeUndefined();
    });

    it('needs consent granted: denied and unknown are suppressed', () => {
      expect(reason({ consent: { status: 'denied' } }, 'marketing')).toBe('no_consent');
      expect(reason({ consent: { status: 'unknown' } }, 'marketing')).toBe('no_consent');
    });

    it('suppresses an invalid phone: marked by receipts, or not in E.164 form', () => {
      expect(reason({ phoneStatus: 'invalid' }, 'marketing')).toBe('invalid_phone');
      expect(reason({ phone: '13812345678' }, 'marketing')).toBe('invalid_phone');
    });

    it('reports an opt-out first, then missing consent, then an invalid phone', () => {
      const everythingWrong = { consent: { status: 'denied' as const }, phoneStatus: 'invalid' as const };
      expect(reason(everythingWrong, 'marketing', true)).toBe('opted_out');
      expect(reason(everythingWrong, 'marketing', false)).toBe('no_consent');
    });
  });

  describe('notification', () => {
    it('ignores opt-outs and marketing consent', () => {
      expect(reason({ consent: { status: 'denied' } }, 'notification', true)).toBeUndefined();
    });

    it('still suppresses an invalid phone', () => {
      expect(reason({ phoneStatus: 'invalid' }, 'notification', true)).toBe('invalid_phone');
    });
  });
});

describe('previewAudience', () => {
  const predicate = compileSegment({
    definition: parseSegmentDefinition({ input: { tags: { any: ['vip'] } } }),
    now: new Date('2025-03-10T04:00:00Z'),
    tenantTimeZone: 'Asia/Shanghai',
  });
  const phone = (index: number): string => `+86138${String(index).padStart(8, '0')}`;
  const members: Member[] = [
    aMember({ memberId: 'a', phone: phone(1), tags: ['vip'], name: '王芳', tier: 'gold' }),
    aMember({ memberId: 'b', phone: phone(2), tags: ['vip'], consent: { status: 'unknown' } }),
    aMember({ memberId: 'c', phone: phone(3), tags: ['vip'], phoneStatus: 'invalid' }),
    aMember({ memberId: 'd', phone: phone(4), tags: ['vip'] }), // opted out
    aMember({ memberId: 'e', phone: phone(5), tags: [] }), // not in the segment
    aMember({ memberId: 'f', phone: phone(6), tags: ['vip'] }),
  ];
  const optedOut = new Set([phone(4)]);
  const lookup = async (phones: readonly string[]) => new Set(phones.filter((p) => optedOut.has(p)));

  it('counts matching, suppressed by reason and eligible, with a masked sample', async () => {
    // Act
    const preview = await previewAudience({
      members,
      predicate,
      optedOutPhones: lookup,
      category: 'marketing',
      sampleSize: 3,
    });
    // Assess
    expect(preview).toEqual({
      scanned: 6,
      matching: 5,
      suppressed: { opted_out: 1, no_consent: 1, invalid_phone: 1 },
      eligible: 2,
      sample: [
        { memberId: 'a', name: '王芳', maskedPhone: '+86*******0001', tier: 'gold', tags: ['vip'] },
        { memberId: 'b', maskedPhone: '+86*******0002', tags: ['vip'], suppressionReason: 'no_consent' },
        { memberId: 'c', maskedPhone: '+86*******0003', tags: ['vip'], suppressionReason: 'invalid_phone' },
      ],
    });
  });

  it('looks opt-outs up in batches, each phone once', async () => {
    // Prepare
    const many = Array.from({ length: 250 }, (_, index) =>
      aMember({ memberId: `m${index}`, phone: phone(index % 240), tags: ['vip'] }),
    );
    const batches: number[] = [];
    // Act
    const preview = await previewAudience({
      members: many,
      predicate,
      optedOutPhones: async (phones) => {
        batches.push(phones.length);
        return new Set(phones.filter((p) => p === phone(7)));
      },
      category: 'marketing',
      sampleSize: 0,
      lookupBatchSize: 100,
    });
    // Assess
    expect(batches.reduce((sum, size) => sum + size, 0)).toBeLessThanOrEqual(250);
    expect(batches.every((size) => size <= 100)).toBe(true);
    expect(batches).toHaveLength(3);
    // Members m7 and m247 share the opted-out number.
    expect(preview.suppressed.opted_out).toBe(2);
    expect(preview.eligible).toBe(248);
  });

  it('reads pages from an async scan', async () => {
    async function* pages(): AsyncGenerator<Member[]> {
      yield members.slice(0, 3);
      yield members.slice(3);
    }
    const preview = await previewAudience({
      members: pages(),
      predicate,
      optedOutPhones: lookup,
      category: 'marketing',
      sampleSize: 10,
    });
    expect(preview.matching).toBe(5);
    expect(preview.sample.map((member) => member.memberId)).toEqual(['a', 'b', 'c', 'd', 'f']);
    expect(preview.sample[3]?.suppressionReason).toBe('opted_out');
  });

  it('asks nothing of the opt-out store for notifications', async () => {
    const preview = await previewAudience({
      members,
      predicate,
      optedOutPhones: () => Promise.reject(new Error('not expected')),
      category: 'notification',
      sampleSize: 1,
    });
    expect(preview.suppressed).toEqual({ opted_out: 0, no_consent: 0, invalid_phone: 1 });
    expect(preview.eligible).toBe(4);
  });

  it('fails when the opt-out lookup fails, rather than report members as eligible', async () => {
    const failing = previewAudience({
      members,
      predicate,
      optedOutPhones: () => Promise.reject(new Error('throttled')),
      category: 'marketing',
      sampleSize: 1,
      lookupBatchSize: 2,
    });
    await expect(failing).rejects.toThrow('throttled');
  });

  it('keeps the sample within 100 members', async () => {
    const many = Array.from({ length: 150 }, (_, index) => aMember({ memberId: `m${index}`, tags: ['vip'] }));
    const preview = await previewAudience({
      members: many,
      predicate,
      optedOutPhones: lookup,
      category: 'marketing',
      sampleSize: 1000,
    });
    expect(preview.sample).toHaveLength(100);
  });
});
