import { compileSegment, type Member, parseSegmentDefinition } from '@qunfa/domain';

// Helpers for the segment specifications: a valid member with only what a test cares about,
// and a one-line way to ask whether a definition matches a member at a given moment.

export function aMember(fields: Partial<Member> = {}): Member {
  return {
    memberId: 'm-1',
    phone: '+8613812345678',
    phoneStatus: 'valid',
    tags: [],
    consent: { status: 'granted' },
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...fields,
  };
}

/** Whether `definition` (raw JSON, parsed first) matches `member` at `now` (default 2025-03-10 12:00 Shanghai). */
export function matches(
  definition: unknown,
  member: Member,
  {
    now = '2025-03-10T04:00:00Z',
    tenantTimeZone = 'Asia/Shanghai',
  }: { now?: string; tenantTimeZone?: string } = {},
): boolean {
  const predicate = compileSegment({
    definition: parseSegmentDefinition({ input: definition }),
    now: new Date(now),
    tenantTimeZone,
  });
  return predicate(member);
}
