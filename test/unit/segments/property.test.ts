import { compileSegment, genders, isLeapYear, type Member, segmentDefinition } from '@qunfa/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstant } from '../../../packages/domain/src/segments/calendar';
import { referenceMatches } from './reference';

// The compiled predicate agrees with the naive reference evaluator on random definitions and
// random members. Values come from small pools so that conditions often match and dates
// often fall exactly on a day boundary of one of the zones.

const zones = [
  'Asia/Shanghai',
  'UTC',
  'America/New_York',
  'Europe/London',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
  'America/Santiago',
] as const;
const tagPool = ['vip', 'new', 'staff', 'coffee', 'tea'];
const tierPool = ['gold', 'silver', 'bronze'];
const storePool = ['S1', 'S2', 'S3'];
const numberPool = [0, 1, 9.5, 10, 100, 500, 1000];
const dayPool = [0, 1, 6, 7, 30, 59, 60, 61, 180, 365];
const attributeNames = ['city', 'size', 'car', 'renews'];
const stringPool = ['上海', '杭州', 'tea', 'green tea'];

const halfHour = 1_800_000;
const dayMs = 86_400_000;

/**
 * Now: any half-hour of 2024–2026, or one near the turn of a year or the end of February,
 * where birthday windows and leap days bite.
 */
const nowArb = fc
  .oneof(
    fc.integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2026-12-31T00:00:00Z') }),
    // 31 December, 28 February, 30 December, with a day either way (Date.UTC months from 0).
    fc
      .tuple(
        fc.integer({ min: 2024, max: 2028 }),
        fc.constantFrom({ month: 11, day: 31 }, { month: 1, day: 28 }, { month: 11, day: 30 }),
      )
      .map(([year, { month, day }]) => Date.UTC(year, month, day)),
  )
  .chain((ms) =>
    fc
      .integer({ min: -96, max: 96 })
      .map((steps) => new Date(Math.floor(ms / halfHour) * halfHour + steps * halfHour)),
  );

/**
 * An instant some pool number of days before (or after) now, moved by up to a day in half
 * hours (where every pool zone's midnights lie) and sometimes a millisecond off: so that
 * "60 days ago" often falls on the boundary of day 60 in some zone.
 */
const near = (now: Date) =>
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...dayPool, ...dayPool.map((days) => -days)),
        fc.integer({ min: -400, max: 30 }),
      ),
      fc.integer({ min: -48, max: 48 }),
      fc.constantFrom(0, 0, -1, 1, 1234),
    )
    .map(([days, steps, shift]) => now.getTime() - days * dayMs + steps * halfHour + shift);

/** A timestamp as members store it: toISOString, no milliseconds, or with an offset. */
const timestampNear = (now: Date) =>
  fc.tuple(near(now), fc.constantFrom('iso', 'seconds', '+08:00', '-05:00', '+05:30')).map(([ms, form]) => {
    const iso = new Date(ms).toISOString();
    if (form === 'iso') return iso;
    if (form === 'seconds') return `${iso.slice(0, 19)}Z`;
    const sign = form.startsWith('-') ? -1 : 1;
    const offset = sign * (Number(form.slice(1, 3)) * 60 + Number(form.slice(4, 6))) * 60_000;
    return `${new Date(ms + offset).toISOString().slice(0, 23)}${form}`;
  });
const isoDateNear = (now: Date) => near(now).map((ms) => new Date(ms).toISOString().slice(0, 10));

const anyBirthday = fc.integer({ min: 1, max: 12 }).chain((month) => {
  const days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 31;
  return fc.integer({ min: 1, max: days }).map((day) => ({ month, day }));
});
/** Any birthday, 29 February, or one a few days around now. */
const birthdayNear = (now: Date) =>
  fc.oneof(
    anyBirthday,
    fc.constant({ month: 2, day: 29 }),
    fc.integer({ min: -3, max: 62 }).map((days) => {
      const date = new Date(now.getTime() + days * dayMs);
      return { month: date.getUTCMonth() + 1, day: date.getUTCDate() };
    }),
  );

const attributeValueNear = (now: Date) =>
  fc.oneof(
    fc.constantFrom(...stringPool),
    fc.constantFrom(...numberPool),
    fc.boolean(),
    isoDateNear(now),
    timestampNear(now),
    timestampNear(now).map((text) => text.slice(0, 16)),
  );

const memberNear = (now: Date): fc.Arbitrary<Member> => {
  const timestamp = timestampNear(now);
  return fc
    .record(
      {
        tags: fc.subarray(tagPool),
        tier: fc.constantFrom(...tierPool),
        store: fc.constantFrom(...storePool),
        gender: fc.constantFrom(...genders),
        consent: fc.constantFrom('granted', 'denied', 'unknown').map((status) => ({ status })),
        points: fc.oneof(fc.constantFrom(...numberPool.filter(Number.isInteger)), fc.nat(2000)),
        totalSpend: fc.oneof(fc.constantFrom(...numberPool), fc.double({ min: 0, max: 2000, noNaN: true })),
        purchaseCount: fc.nat(20),
        firstPurchaseAt: timestamp,
        lastPurchaseAt: timestamp,
        joinedAt: timestamp,
        birthday: birthdayNear(now),
        timeZone: fc.constantFrom(...zones, 'Mars/Olympus_Mons'),
        attributes: fc.dictionary(fc.constantFrom(...attributeNames), attributeValueNear(now), {
          maxKeys: 4,
        }),
      },
      { requiredKeys: ['tags', 'consent'] },
    )
    .map((fields) => ({
      memberId: 'm-1',
      phone: '+8613812345678',
      phoneStatus: 'valid',
      createdAt: '2023-01-01T00:00:00.000Z',
      updatedAt: '2023-01-01T00:00:00.000Z',
      ...fields,
    }));
};

/**
 * One or two of the given operators: with more, their ranges would rarely intersect and
 * nearly every condition would match nobody.
 */
function someOf(model: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(model);
  return fc
    .subarray(entries, { minLength: 1, maxLength: Math.min(2, entries.length) })
    .chain((chosen) => fc.tuple(...chosen.map(([key, value]) => value.map((item) => [key, item] as const))))
    .map((entries) => Object.fromEntries(entries));
}
const sortedPair = <T>(item: fc.Arbitrary<T>) =>
  fc.tuple(item, item).map(([a, b]) => (a <= b ? [a, b] : [b, a]));
const list = <T>(pool: readonly T[]) => fc.subarray([...pool], { minLength: 1 });

const numberOps = someOf({
  gt: fc.constantFrom(...numberPool),
  gte: fc.constantFrom(...numberPool),
  lt: fc.constantFrom(...numberPool),
  lte: fc.constantFrom(...numberPool),
  eq: fc.constantFrom(...numberPool),
  between: sortedPair(fc.constantFrom(...numberPool)),
});
const dateOpsNear = (now: Date) => {
  const isoDate = isoDateNear(now);
  return someOf({
    moreThanDaysAgo: fc.constantFrom(...dayPool),
    withinLastDays: fc.constantFrom(...dayPool),
    daysAgoBetween: sortedPair(fc.constantFrom(...dayPool)),
    withinNextDays: fc.constantFrom(...dayPool),
    before: isoDate,
    after: isoDate,
    on: isoDate,
    between: sortedPair(isoDate),
  });
};
const fields = [
  'name',
  'gender',
  'birthday',
  'store',
  'tier',
  'tags',
  'points',
  'lastPurchaseAt',
  'joinedAt',
  'timeZone',
];
const presenceTarget = fc.constantFrom(...fields, ...attributeNames.map((name) => `attributes.${name}`));

const leafNear = (now: Date): fc.Arbitrary<unknown> => {
  const dateOps = dateOpsNear(now);
  return fc.oneof(
    someOf({ any: list(tagPool), all: list(tagPool), none: list(tagPool) }).map((tags) => ({ tags })),
    someOf({ in: list(tierPool), notIn: list(tierPool) }).map((tier) => ({ tier })),
    someOf({ in: list(storePool), notIn: list(storePool) }).map((store) => ({ store })),
    someOf({ in: list(genders), notIn: list(genders) }).map((gender) => ({ gender })),
    someOf({ in: list(['granted', 'denied', 'unknown']) }).map((consent) => ({ consent })),
    numberOps.map((points) => ({ points })),
    numberOps.map((totalSpend) => ({ totalSpend })),
    numberOps.map((purchaseCount) => ({ purchaseCount })),
    dateOps.map((firstPurchaseAt) => ({ firstPurchaseAt })),
    dateOps.map((lastPurchaseAt) => ({ lastPurchaseAt })),
    dateOps.map((joinedAt) => ({ joinedAt })),
    someOf({
      withinNextDays: fc.constantFrom(0, 1, 7, 30, 59, 60, 365),
      thisMonth: fc.constant(true),
      months: list([1, 2, 3, 6, 12]),
    }).map((birthday) => ({ birthday })),
    fc.constantFrom(...attributeNames).chain((name) =>
      fc.oneof(
        someOf({
          equals: fc.constantFrom(...stringPool),
          in: list(stringPool),
          contains: fc.constantFrom('tea', '上'),
        }).map((ops) => ({ attribute: { name, type: 'string', ...ops } })),
        numberOps.map((ops) => ({ attribute: { name, type: 'number', ...ops } })),
        fc.boolean().map((is) => ({ attribute: { name, type: 'boolean', is } })),
        dateOps.map((ops) => ({ attribute: { name, type: 'date', ...ops } })),
      ),
    ),
    presenceTarget.map((has) => ({ has })),
    presenceTarget.map((missing) => ({ missing })),
    fc.oneof(
      fc.record({
        preset: fc.constant('newMembers'),
        params: someOf({ withinDays: fc.constantFrom(...dayPool) }),
      }),
      fc.record({ preset: fc.constant('active') }),
      fc.record({
        preset: fc.constant('atRisk'),
        params: fc
          .tuple(fc.constantFrom(...dayPool), fc.constantFrom(...dayPool))
          .filter(([a, b]) => a < b)
          .map(([moreThanDays, upToDays]) => ({ moreThanDays, upToDays })),
      }),
      fc.record({
        preset: fc.constant('lapsed'),
        params: fc.record({ moreThanDays: fc.constantFrom(...dayPool) }),
      }),
      fc.record({
        preset: fc.constant('highValue'),
        params: fc
          .record({
            minTotalSpend: fc.option(fc.constantFrom(...numberPool), { nil: null }),
            minPurchaseCount: fc.option(fc.constantFrom(0, 1, 10), { nil: null }),
          })
          .filter((params) => params.minTotalSpend !== null || params.minPurchaseCount !== null),
      }),
    ),
  );
};

const definitionNear = (now: Date): fc.Arbitrary<unknown> =>
  fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { arbitrary: leafNear(now), weight: 3 },
      fc.array(tie('node'), { minLength: 1, maxLength: 4 }).map((and) => ({ and })),
      fc.array(tie('node'), { minLength: 1, maxLength: 4 }).map((or) => ({ or })),
      tie('node').map((not) => ({ not })),
    ),
  })).node;

describe('compileSegment (property)', () => {
  it('agrees with the reference evaluator on random definitions and members', () => {
    fc.assert(
      fc.property(
        nowArb.chain((now) =>
          fc.tuple(
            fc.constant(now),
            definitionNear(now),
            fc.array(memberNear(now), { minLength: 1, maxLength: 25 }),
          ),
        ),
        fc.constantFrom(...zones),
        ([now, raw, members], tenantTimeZone) => {
          const parsed = segmentDefinition.safeParse(raw);
          if (!parsed.success)
            throw new Error(`generated an invalid definition: ${JSON.stringify(parsed.error.issues)}`);
          const definition = parsed.data;
          const predicate = compileSegment({ definition, now, tenantTimeZone });
          for (const member of members) {
            expect(predicate(member), JSON.stringify(member)).toBe(
              referenceMatches({ definition, member, now, tenantTimeZone }),
            );
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('matches both ways often enough to mean something', () => {
    // A guard on the generators: if they drifted so that nearly nothing (or everything)
    // matched, the property above would pass without testing much.
    const outcomes = fc.sample(
      nowArb
        .chain((now) => fc.tuple(fc.constant(now), definitionNear(now), memberNear(now)))
        .map(([now, raw, member]) =>
          compileSegment({ definition: segmentDefinition.parse(raw), now, tenantTimeZone: 'Asia/Shanghai' })(
            member,
          ),
        ),
      { numRuns: 2000, seed: 42 },
    );
    const share = outcomes.filter(Boolean).length / outcomes.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.8);
  });

  it('never tells a Feb-29 birthday apart from the 28th in common years, nor in leap years confuses them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2020, max: 2040 }), fc.constantFrom(...zones), (year, zone) => {
        const now = new Date(Date.UTC(year, 1, 28, 12));
        const definition = segmentDefinition.parse({ birthday: { withinNextDays: 0 } });
        const predicate = compileSegment({ definition, now, tenantTimeZone: 'UTC' });
        const leapling: Member = { ...memberBase, birthday: { month: 2, day: 29 }, timeZone: zone };
        const localDate = new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(now);
        const expected = localDate.endsWith('-02-28') ? !isLeapYear(year) : localDate.endsWith('-02-29');
        expect(predicate(leapling)).toBe(expected);
      }),
    );
  });
});

const memberBase: Member = {
  memberId: 'm-1',
  phone: '+8613812345678',
  phoneStatus: 'valid',
  tags: [],
  consent: { status: 'granted' },
  createdAt: '2023-01-01T00:00:00.000Z',
  updatedAt: '2023-01-01T00:00:00.000Z',
};

describe('parseInstant (property)', () => {
  it('reads ISO timestamps exactly as Date.parse does', () => {
    const timestamp = nowArb.chain(timestampNear);
    const text = fc.oneof(
      timestamp,
      fc
        .tuple(timestamp, fc.nat(30), fc.constantFrom('0', '9', 'Z', '+', ':', '.', 'T', '-', '00', '.12345'))
        .map(([base, index, insert]) => base.slice(0, index) + insert + base.slice(index + 1)),
      fc.constantFrom(
        '2024-02-30T00:00:00Z',
        '2024-01-01T24:00:00Z',
        '2024-01-01T00:00Z',
        '0099-01-01T00:00:00Z',
      ),
    );
    fc.assert(
      fc.property(text, (value) => {
        expect(
          Object.is(parseInstant(value), Date.parse(value)) ||
            (Number.isNaN(parseInstant(value)) && Number.isNaN(Date.parse(value))),
        ).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});
