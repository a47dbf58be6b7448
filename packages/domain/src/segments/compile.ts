import { type AttributeValue, attributeType, type Member } from '../members/member';
import {
  birthdayKey,
  birthdaysCelebrated,
  Calendars,
  dayOfIsoDate,
  isoDateOfDay,
  parseInstant,
  type ZoneCalendar,
} from './calendar';
import {
  type AttributeCondition,
  type BirthdayCondition,
  type DateCondition,
  isPresenceField,
  type NumberCondition,
  type SegmentDefinition,
  type SegmentNode,
  type TagCondition,
} from './definition';
import { expandPreset } from './presets';

// Compiles a parsed definition once into a tree of closures: sets for lists, bounds merged
// into one range per comparison, date cutoffs computed once per time zone. Evaluating a
// member then reads its fields and compares; nothing walks the JSON again.

export type MemberPredicate = (member: Member) => boolean;

/**
 * The predicate of a segment at `now`. Relative dates ("within 30 days", "birthday this
 * month") are read on the member's wall clock, or the tenant's when the member has no zone.
 */
export function compileSegment({
  definition,
  now,
  tenantTimeZone,
}: {
  definition: SegmentDefinition;
  now: Date;
  tenantTimeZone: string;
}): MemberPredicate {
  return compileNode(definition, new Calendars({ tenantTimeZone, now: now.getTime() }));
}

function compileNode(node: SegmentNode, calendars: Calendars): MemberPredicate {
  if ('and' in node) return allOf(node.and.map((child) => compileNode(child, calendars)));
  if ('or' in node) return anyOf(node.or.map((child) => compileNode(child, calendars)));
  if ('not' in node) {
    const inner = compileNode(node.not, calendars);
    return (member) => !inner(member);
  }
  if ('preset' in node) return compileNode(expandPreset({ node }), calendars);
  if ('tags' in node) return compileTags(node.tags);
  if ('tier' in node) return compileChoice(node.tier, (member) => member.tier);
  if ('store' in node) return compileChoice(node.store, (member) => member.store);
  if ('gender' in node) return compileChoice(node.gender, (member) => member.gender ?? 'unknown');
  if ('consent' in node) return compileChoice(node.consent, (member) => member.consent.status);
  // Counters a member has no record of are zero: no points, no spend, no purchases.
  if ('points' in node) {
    const test = numberTest(node.points);
    return (member) => test(member.points ?? 0);
  }
  if ('totalSpend' in node) {
    const test = numberTest(node.totalSpend);
    return (member) => test(member.totalSpend ?? 0);
  }
  if ('purchaseCount' in node) {
    const test = numberTest(node.purchaseCount);
    return (member) => test(member.purchaseCount ?? 0);
  }
  if ('firstPurchaseAt' in node) {
    return compileTimestamp(node.firstPurchaseAt, (member) => member.firstPurchaseAt, calendars);
  }
  if ('lastPurchaseAt' in node) {
    return compileTimestamp(node.lastPurchaseAt, (member) => member.lastPurchaseAt, calendars);
  }
  if ('joinedAt' in node) return compileTimestamp(node.joinedAt, (member) => member.joinedAt, calendars);
  if ('birthday' in node) return compileBirthday(node.birthday, calendars);
  if ('attribute' in node) return compileAttribute(node.attribute, calendars);
  if ('has' in node) return compilePresence(node.has);
  const present = compilePresence(node.missing);
  return (member) => !present(member);
}

function allOf(predicates: readonly MemberPredicate[]): MemberPredicate {
  const [first, second, third] = predicates;
  if (first === undefined) return () => true;
  if (second === undefined) return first;
  if (third === undefined) return (member) => first(member) && second(member);
  if (predicates.length === 3) return (member) => first(member) && second(member) && third(member);
  return (member) => {
    for (const predicate of predicates) if (!predicate(member)) return false;
    return true;
  };
}

function anyOf(predicates: readonly MemberPredicate[]): MemberPredicate {
  const [first, second, third] = predicates;
  if (first === undefined) return () => false;
  if (second === undefined) return first;
  if (third === undefined) return (member) => first(member) || second(member);
  if (predicates.length === 3) return (member) => first(member) || second(member) || third(member);
  return (member) => {
    for (const predicate of predicates) if (predicate(member)) return true;
    return false;
  };
}

function hasAnyOf(tags: readonly string[], set: ReadonlySet<string>): boolean {
  for (const tag of tags) if (set.has(tag)) return true;
  return false;
}

function compileTags({ any, all, none }: TagCondition): MemberPredicate {
  const checks: MemberPredicate[] = [];
  if (any !== undefined) {
    const wanted = new Set(any);
    checks.push((member) => hasAnyOf(member.tags, wanted));
  }
  if (all !== undefined) {
    const required = [...new Set(all)];
    checks.push((member) => required.every((tag) => member.tags.includes(tag)));
  }
  if (none !== undefined) {
    const banned = new Set(none);
    checks.push((member) => !hasAnyOf(member.tags, banned));
  }
  return allOf(checks);
}

/** A member without the value is in no list, so `notIn` matches them. */
function compileChoice<T extends string>(
  { in: included, notIn }: { in?: readonly T[]; notIn?: readonly T[] },
  read: (member: Member) => T | undefined,
): MemberPredicate {
  const checks: MemberPredicate[] = [];
  if (included !== undefined) {
    const set = new Set<T | undefined>(included);
    checks.push((member) => set.has(read(member)));
  }
  if (notIn !== undefined) {
    const set = new Set<T | undefined>(notIn);
    checks.push((member) => !set.has(read(member)));
  }
  return allOf(checks);
}

/** Every comparison of a condition, merged into one interval. */
function numberTest(condition: NumberCondition): (value: number) => boolean {
  let low = Number.NEGATIVE_INFINITY;
  let lowOpen = false;
  let high = Number.POSITIVE_INFINITY;
  let highOpen = false;
  const atLeast = (value: number, open: boolean): void => {
    if (value > low || (value === low && open)) [low, lowOpen] = [value, open];
  };
  const atMost = (value: number, open: boolean): void => {
    if (value < high || (value === high && open)) [high, highOpen] = [value, open];
  };
  if (condition.gt !== undefined) atLeast(condition.gt, true);
  if (condition.gte !== undefined) atLeast(condition.gte, false);
  if (condition.lt !== undefined) atMost(condition.lt, true);
  if (condition.lte !== undefined) atMost(condition.lte, false);
  if (condition.eq !== undefined) {
    atLeast(condition.eq, false);
    atMost(condition.eq, false);
  }
  if (condition.between !== undefined) {
    atLeast(condition.between[0], false);
    atMost(condition.between[1], false);
  }
  if (lowOpen)
    return highOpen ? (value) => value > low && value < high : (value) => value > low && value <= high;
  return highOpen ? (value) => value >= low && value < high : (value) => value >= low && value <= high;
}

/** The calendar days a date condition accepts, given today: `from` … `to`, inclusive. */
function dayRange(condition: DateCondition, today: number): { from: number; to: number } {
  let from = Number.NEGATIVE_INFINITY;
  let to = Number.POSITIVE_INFINITY;
  const within = (first: number, last: number): void => {
    from = Math.max(from, first);
    to = Math.min(to, last);
  };
  if (condition.moreThanDaysAgo !== undefined) within(from, today - condition.moreThanDaysAgo - 1);
  if (condition.withinLastDays !== undefined) within(today - condition.withinLastDays, today);
  if (condition.daysAgoBetween !== undefined) {
    within(today - condition.daysAgoBetween[1], today - condition.daysAgoBetween[0]);
  }
  if (condition.withinNextDays !== undefined) within(today, today + condition.withinNextDays);
  if (condition.before !== undefined) within(from, dayOfIsoDate(condition.before) - 1);
  if (condition.after !== undefined) within(dayOfIsoDate(condition.after) + 1, to);
  if (condition.on !== undefined) within(dayOfIsoDate(condition.on), dayOfIsoDate(condition.on));
  if (condition.between !== undefined) {
    within(dayOfIsoDate(condition.between[0]), dayOfIsoDate(condition.between[1]));
  }
  return { from, to };
}

/**
 * A day range as bounds on timestamps in one zone: instants (`from` inclusive, `to`
 * exclusive) and the same instants as `toISOString` text, which orders like the instants.
 */
interface TimestampBounds {
  readonly from: number;
  readonly to: number;
  readonly fromText: string;
  readonly toText: string;
}

function timestampBounds(condition: DateCondition, calendar: ZoneCalendar): TimestampBounds {
  const { from, to } = dayRange(condition, calendar.today);
  const start = from === Number.NEGATIVE_INFINITY ? from : calendar.startOf(from);
  const end = to === Number.POSITIVE_INFINITY ? to : calendar.startOf(to + 1);
  return {
    from: start,
    to: end,
    fromText: start === Number.NEGATIVE_INFINITY ? '' : new Date(start).toISOString(),
    toText: end === Number.POSITIVE_INFINITY ? '\uffff' : new Date(end).toISOString(),
  };
}

function timestampWithin(text: string, bounds: TimestampBounds): boolean {
  // Timestamps written by toISOString (24 characters, UTC) compare as text: no parsing.
  if (text.length === 24 && text.charCodeAt(23) === 90 && text.charCodeAt(19) === 46) {
    return text >= bounds.fromText && text < bounds.toText;
  }
  const instant = parseInstant(text);
  return instant >= bounds.from && instant < bounds.to;
}

function compileTimestamp(
  condition: DateCondition,
  read: (member: Member) => string | undefined,
  calendars: Calendars,
): MemberPredicate {
  const boundsIn = calendars.perZone((calendar) => timestampBounds(condition, calendar));
  return (member) => {
    const value = read(member);
    return value !== undefined && timestampWithin(value, boundsIn(member.timeZone));
  };
}

function compileBirthday(condition: BirthdayCondition, calendars: Calendars): MemberPredicate {
  const checks: MemberPredicate[] = [];
  const { withinNextDays, thisMonth, months } = condition;
  if (withinNextDays !== undefined) {
    const celebratedIn = calendars.perZone((calendar) =>
      birthdaysCelebrated(calendar.today, calendar.today + withinNextDays),
    );
    checks.push((member) => {
      const birthday = member.birthday;
      return (
        birthday !== undefined && celebratedIn(member.timeZone).has(birthdayKey(birthday.month, birthday.day))
      );
    });
  }
  if (thisMonth === true) {
    const monthIn = calendars.perZone((calendar) => calendar.month);
    checks.push(
      (member) => member.birthday !== undefined && member.birthday.month === monthIn(member.timeZone),
    );
  }
  if (months !== undefined) {
    const set = new Set(months);
    checks.push((member) => member.birthday !== undefined && set.has(member.birthday.month));
  }
  return allOf(checks);
}

// A written date (`2024-01-05`) is that calendar day; the month and day ranges are the ones
// Date.parse accepts, so these agree with attributeType in the member model.
const writtenDate = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;
const timeWithOffset = /^\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})$/;
const timeWithoutOffset = /^\d{4}-\d{2}-\d{2}T[\d:.]+$/;

/** A date range as text bounds for written dates (`YYYY-MM-DD` orders like the days). */
interface DateTextBounds {
  readonly from: string;
  readonly to: string;
  readonly timestamps: TimestampBounds;
}

function compileAttribute(condition: AttributeCondition, calendars: Calendars): MemberPredicate {
  const { name } = condition;
  const read = (member: Member): AttributeValue | undefined => member.attributes?.[name];
  switch (condition.type) {
    case 'string': {
      const checks: ((value: string) => boolean)[] = [];
      const { equals, contains } = condition;
      if (equals !== undefined) checks.push((value) => value === equals);
      if (condition.in !== undefined) {
        const set = new Set(condition.in);
        checks.push((value) => set.has(value));
      }
      if (contains !== undefined) checks.push((value) => value.includes(contains));
      return (member) => {
        const value = read(member);
        return typeof value === 'string' && checks.every((check) => check(value));
      };
    }
    case 'number': {
      const test = numberTest(condition);
      return (member) => {
        const value = read(member);
        return typeof value === 'number' && test(value);
      };
    }
    case 'boolean': {
      const expected = condition.is;
      return (member) => read(member) === expected;
    }
    case 'date': {
      const boundsIn = calendars.perZone((calendar): DateTextBounds => {
        const { from, to } = dayRange(condition, calendar.today);
        return {
          from: from === Number.NEGATIVE_INFINITY ? '' : isoDateOfDay(from),
          to: to === Number.POSITIVE_INFINITY ? '\uffff' : isoDateOfDay(to),
          timestamps: timestampBounds(condition, calendar),
        };
      });
      return (member) => {
        const value = read(member);
        if (typeof value !== 'string') return false;
        const bounds = boundsIn(member.timeZone);
        if (writtenDate.test(value)) return value >= bounds.from && value <= bounds.to;
        if (timeWithoutOffset.test(value)) {
          // A time without an offset names no instant, only the day written before it.
          const day = value.slice(0, 10);
          return attributeType(value) === 'date' && day >= bounds.from && day <= bounds.to;
        }
        return timeWithOffset.test(value) && timestampWithin(value, bounds.timestamps);
      };
    }
  }
}

function compilePresence(target: string): MemberPredicate {
  if (target.startsWith('attributes.')) {
    const name = target.slice('attributes.'.length);
    // Own properties only: `constructor` is a valid attribute name and every object inherits one.
    return (member) => member.attributes !== undefined && Object.hasOwn(member.attributes, name);
  }
  if (target === 'tags') return (member) => member.tags.length > 0;
  if (isPresenceField(target)) return (member) => member[target] !== undefined;
  throw new Error(`Not a member field: ${target}. Parse definitions with segmentDefinition first.`);
}
