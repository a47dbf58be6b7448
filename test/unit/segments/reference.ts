import {
  type AttributeValue,
  type DateCondition,
  instantToWallTime,
  isLeapYear,
  isTimeZone,
  type Member,
  type NumberCondition,
  type SegmentNode,
} from '@qunfa/domain';

// A deliberately naive evaluator of segment definitions, written from the documented
// meaning of each node: it walks the tree for every member, turns every date into a calendar
// day with Intl, and finds the next birthday by trying this year and the next. Slow and
// obvious, so the compiler can be checked against it (property.test.ts).

const dayMs = 86_400_000;

interface Context {
  readonly member: Member;
  readonly zone: string;
  readonly today: number;
}

const dayOfInstant = (instant: number, zone: string): number =>
  Math.floor(instantToWallTime(instant, zone) / dayMs);

const dayOfDate = (date: string): number =>
  Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / dayMs;

export function referenceMatches({
  definition,
  member,
  now,
  tenantTimeZone,
}: {
  definition: SegmentNode;
  member: Member;
  now: Date;
  tenantTimeZone: string;
}): boolean {
  const zone =
    member.timeZone !== undefined && isTimeZone(member.timeZone) ? member.timeZone : tenantTimeZone;
  return evaluate(definition, { member, zone, today: dayOfInstant(now.getTime(), zone) });
}

function evaluate(node: SegmentNode, context: Context): boolean {
  const { member } = context;
  if ('and' in node) return node.and.every((child) => evaluate(child, context));
  if ('or' in node) return node.or.some((child) => evaluate(child, context));
  if ('not' in node) return !evaluate(node.not, context);
  if ('tags' in node) {
    const { any, all, none } = node.tags;
    return (
      (any === undefined || any.some((tag) => member.tags.includes(tag))) &&
      (all === undefined || all.every((tag) => member.tags.includes(tag))) &&
      (none === undefined || !none.some((tag) => member.tags.includes(tag)))
    );
  }
  if ('tier' in node) return inList(node.tier, member.tier);
  if ('store' in node) return inList(node.store, member.store);
  if ('gender' in node) return inList(node.gender, member.gender ?? 'unknown');
  if ('consent' in node) return inList(node.consent, member.consent.status);
  if ('points' in node) return compare(node.points, member.points ?? 0);
  if ('totalSpend' in node) return compare(node.totalSpend, member.totalSpend ?? 0);
  if ('purchaseCount' in node) return compare(node.purchaseCount, member.purchaseCount ?? 0);
  if ('firstPurchaseAt' in node)
    return onDay(node.firstPurchaseAt, timestampDay(member.firstPurchaseAt, context), context);
  if ('lastPurchaseAt' in node)
    return onDay(node.lastPurchaseAt, timestampDay(member.lastPurchaseAt, context), context);
  if ('joinedAt' in node) return onDay(node.joinedAt, timestampDay(member.joinedAt, context), context);
  if ('birthday' in node) {
    const birthday = member.birthday;
    if (birthday === undefined) return false;
    const { withinNextDays, thisMonth, months } = node.birthday;
    const month = new Date(context.today * dayMs).getUTCMonth() + 1;
    return (
      (withinNextDays === undefined || daysToBirthday(birthday, context.today) <= withinNextDays) &&
      (thisMonth === undefined || birthday.month === month) &&
      (months === undefined || months.includes(birthday.month))
    );
  }
  if ('attribute' in node) {
    const condition = node.attribute;
    const value: AttributeValue | undefined =
      member.attributes !== undefined && Object.hasOwn(member.attributes, condition.name)
        ? member.attributes[condition.name]
        : undefined;
    switch (condition.type) {
      case 'string':
        return (
          typeof value === 'string' &&
          (condition.equals === undefined || value === condition.equals) &&
          (condition.in === undefined || condition.in.includes(value)) &&
          (condition.contains === undefined || value.includes(condition.contains))
        );
      case 'number':
        return typeof value === 'number' && compare(condition, value);
      case 'boolean':
        return value === condition.is;
      case 'date':
        return typeof value === 'string' && onDay(condition, attributeDay(value, context), context);
    }
  }
  if ('has' in node) return present(node.has, member);
  if ('missing' in node) return !present(node.missing, member);
  // Presets, from what each one is documented to mean.
  const daysAgo = (timestamp: string | undefined): number | undefined => {
    const day = timestampDay(timestamp, context);
    return day === undefined ? undefined : context.today - day;
  };
  const lastPurchase = daysAgo(member.lastPurchaseAt);
  switch (node.preset) {
    case 'newMembers': {
      const joined = daysAgo(member.joinedAt);
      return joined !== undefined && joined >= 0 && joined <= node.params.withinDays;
    }
    case 'active':
      return lastPurchase !== undefined && lastPurchase >= 0 && lastPurchase <= node.params.withinDays;
    case 'atRisk':
      return (
        lastPurchase !== undefined &&
        lastPurchase > node.params.moreThanDays &&
        lastPurchase <= node.params.upToDays
      );
    case 'lapsed': {
      if (lastPurchase !== undefined) return lastPurchase > node.params.moreThanDays;
      const joined = daysAgo(member.joinedAt);
      return joined !== undefined && joined > node.params.moreThanDays;
    }
    case 'highValue': {
      const { minTotalSpend, minPurchaseCount } = node.params;
      return (
        (minTotalSpend !== null && (member.totalSpend ?? 0) >= minTotalSpend) ||
        (minPurchaseCount !== null && (member.purchaseCount ?? 0) >= minPurchaseCount)
      );
    }
  }
}

function inList<T>(condition: { in?: readonly T[]; notIn?: readonly T[] }, value: T | undefined): boolean {
  const isIn = (list: readonly T[]): boolean => value !== undefined && list.includes(value);
  return (
    (condition.in === undefined || isIn(condition.in)) &&
    (condition.notIn === undefined || !isIn(condition.notIn))
  );
}

function compare(condition: NumberCondition, value: number): boolean {
  const { gt, gte, lt, lte, eq, between } = condition;
  return (
    (gt === undefined || value > gt) &&
    (gte === undefined || value >= gte) &&
    (lt === undefined || value < lt) &&
    (lte === undefined || value <= lte) &&
    (eq === undefined || value === eq) &&
    (between === undefined || (value >= between[0] && value <= between[1]))
  );
}

function timestampDay(timestamp: string | undefined, context: Context): number | undefined {
  if (timestamp === undefined) return undefined;
  const instant = Date.parse(timestamp);
  return Number.isNaN(instant) ? undefined : dayOfInstant(instant, context.zone);
}

function attributeDay(value: string, context: Context): number | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value))
    return Number.isNaN(Date.parse(value)) ? undefined : dayOfDate(value);
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value)) {
    return Number.isNaN(Date.parse(value)) ? undefined : dayOfDate(value.slice(0, 10));
  }
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(value)) return timestampDay(value, context);
  return undefined;
}

function onDay(condition: DateCondition, day: number | undefined, { today }: Context): boolean {
  if (day === undefined) return false;
  const ago = today - day;
  const c = condition;
  return (
    (c.moreThanDaysAgo === undefined || ago > c.moreThanDaysAgo) &&
    (c.withinLastDays === undefined || (ago >= 0 && ago <= c.withinLastDays)) &&
    (c.daysAgoBetween === undefined || (ago >= c.daysAgoBetween[0] && ago <= c.daysAgoBetween[1])) &&
    (c.withinNextDays === undefined || (-ago >= 0 && -ago <= c.withinNextDays)) &&
    (c.before === undefined || day < dayOfDate(c.before)) &&
    (c.after === undefined || day > dayOfDate(c.after)) &&
    (c.on === undefined || day === dayOfDate(c.on)) &&
    (c.between === undefined || (day >= dayOfDate(c.between[0]) && day <= dayOfDate(c.between[1])))
  );
}

/** Days from today to the next celebration; 29 February is celebrated on the 28th in common years. */
function daysToBirthday(birthday: { month: number; day: number }, today: number): number {
  const year = new Date(today * dayMs).getUTCFullYear();
  for (const candidate of [year, year + 1]) {
    const leapling = birthday.month === 2 && birthday.day === 29 && !isLeapYear(candidate);
    const day = Date.UTC(candidate, birthday.month - 1, leapling ? 28 : birthday.day) / dayMs;
    if (day >= today) return day - today;
  }
  throw new Error('a birthday comes every year');
}

function present(field: string, member: Member): boolean {
  if (field.startsWith('attributes.')) {
    return (
      member.attributes !== undefined && Object.hasOwn(member.attributes, field.slice('attributes.'.length))
    );
  }
  if (field === 'tags') return member.tags.length > 0;
  return Object.entries(member).some(([key, value]) => key === field && value !== undefined);
}
