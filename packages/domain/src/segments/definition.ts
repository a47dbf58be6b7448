import * as z from 'zod';
import { attributeName, consentStatuses, genders, maxTags, tag } from '../members/member';
import { ValidationError } from '../shared/errors';
import { segmentLimits } from './limits';
import { type PresetNode, presetNode } from './presets';

// The segment language: a JSON tree of `and` / `or` / `not` over conditions on a member.
// Each node is an object with exactly one key that names what it tests, so a node reads
// like a sentence: `{"lastPurchaseAt": {"moreThanDaysAgo": 60}}`. The tree is parsed by
// hand (one key dispatches to one strict schema) rather than by a zod union, because a union
// that fails answers "Invalid input" at the root; this parser names the faulty node and the
// faulty key inside it: `definition.and.1.tags.any`.

const atLeastOne =
  (keys: readonly string[]) =>
  (value: object): boolean =>
    keys.some((key) => key in value);
const needsOne = (keys: readonly string[]) => ({
  message: `Give at least one of ${keys.join(', ')}.`,
  // Only for an otherwise valid object: after "Unrecognized key" it would only repeat it.
  when: (payload: z.core.ParsePayload): boolean => payload.issues.length === 0,
});

// ── tags ───────────────────────────────────────────────────────────────────────────────
const tagList = z.array(tag).min(1).max(maxTags);
const tagOps = ['any', 'all', 'none'] as const;

/** Tags compare exactly (case and width included), as they are stored. All given lists must hold. */
export const tagCondition = z
  .strictObject({
    any: tagList.exactOptional(),
    all: tagList.exactOptional(),
    none: tagList.exactOptional(),
  })
  .refine(atLeastOne(tagOps), needsOne(tagOps));
export type TagCondition = z.infer<typeof tagCondition>;

// ── tier, store, gender, consent: membership in a list ────────────────────────────────
const choiceOps = ['in', 'notIn'] as const;
function choiceCondition<T extends z.ZodType<string>>(value: T) {
  const list = z.array(value).min(1).max(segmentLimits.maxValues);
  return z
    .strictObject({ in: list.exactOptional(), notIn: list.exactOptional() })
    .refine(atLeastOne(choiceOps), needsOne(choiceOps));
}

/** A member without a tier (or store) is in no list, so `notIn` matches them. */
export const textChoice = choiceCondition(z.string().trim().min(1).max(100));
export type TextChoice = z.infer<typeof textChoice>;
/** A member without a gender reads as `unknown`. */
export const genderChoice = choiceCondition(z.enum(genders));
export type GenderChoice = z.infer<typeof genderChoice>;
export const consentChoice = choiceCondition(z.enum(consentStatuses));
export type ConsentChoice = z.infer<typeof consentChoice>;

// ── numbers ────────────────────────────────────────────────────────────────────────────
const finite = z.number().finite();
const numberOps = ['gt', 'gte', 'lt', 'lte', 'eq', 'between'] as const;
const numberShape = {
  gt: finite.exactOptional(),
  gte: finite.exactOptional(),
  lt: finite.exactOptional(),
  lte: finite.exactOptional(),
  eq: finite.exactOptional(),
  /** Inclusive at both ends. */
  between: z
    .tuple([finite, finite])
    .refine(([low, high]) => low <= high, 'between takes [low, high] with low ≤ high')
    .exactOptional(),
};

/** Every comparison given must hold. */
export const numberCondition = z.strictObject(numberShape).refine(atLeastOne(numberOps), needsOne(numberOps));
export type NumberCondition = z.infer<typeof numberCondition>;

// ── dates ──────────────────────────────────────────────────────────────────────────────
const days = z.number().int().min(0).max(segmentLimits.maxDays);
const isoDate = z.iso.date();
const dateOps = [
  'moreThanDaysAgo',
  'withinLastDays',
  'daysAgoBetween',
  'withinNextDays',
  'before',
  'after',
  'on',
  'between',
] as const;
const dateShape = {
  /** The day is before today − N: "last purchase more than 60 days ago". */
  moreThanDaysAgo: days.exactOptional(),
  /** The day is today − N … today: "joined within 30 days". */
  withinLastDays: days.exactOptional(),
  /** The day is today − high … today − low. */
  daysAgoBetween: z
    .tuple([days, days])
    .refine(([low, high]) => low <= high, 'daysAgoBetween takes [low, high] with low ≤ high')
    .exactOptional(),
  /** The day is today … today + N (an expiry date, an appointment). */
  withinNextDays: days.exactOptional(),
  /** Calendar dates (`2024-01-05`), compared with the day in the member's time zone. */
  before: isoDate.exactOptional(),
  after: isoDate.exactOptional(),
  on: isoDate.exactOptional(),
  /** Inclusive at both ends. */
  between: z
    .tuple([isoDate, isoDate])
    .refine(([from, to]) => from <= to, 'between takes [from, to] with from ≤ to')
    .exactOptional(),
};

/**
 * A condition on the calendar day of a date, read in the member's time zone (else the
 * tenant's). "Days ago" counts calendar days, not 24-hour periods: a purchase at 23:59
 * yesterday was 1 day ago at 00:01 today. Every operator given must hold.
 */
export const dateCondition = z.strictObject(dateShape).refine(atLeastOne(dateOps), needsOne(dateOps));
export type DateCondition = z.infer<typeof dateCondition>;

// ── birthday ───────────────────────────────────────────────────────────────────────────
const birthdayOps = ['withinNextDays', 'thisMonth', 'months'] as const;

/**
 * Birthdays are month and day, celebrated in the member's time zone (else the tenant's).
 * A 29 February birthday is celebrated on 28 February in years without a 29 February.
 */
export const birthdayCondition = z
  .strictObject({
    /** The next celebration falls today … today + N (0: today only). */
    withinNextDays: z.number().int().min(0).max(366).exactOptional(),
    /** The birthday's month is the current month. */
    thisMonth: z.literal(true).exactOptional(),
    /** The birthday's month is one of these (1–12). */
    months: z.array(z.number().int().min(1).max(12)).min(1).max(12).exactOptional(),
  })
  .refine(atLeastOne(birthdayOps), needsOne(birthdayOps));
export type BirthdayCondition = z.infer<typeof birthdayCondition>;

// ── custom attributes ──────────────────────────────────────────────────────────────────
const stringAttributeOps = ['equals', 'in', 'contains'] as const;
const attributeText = z.string().min(1).max(500);

/**
 * A custom attribute, tested by the type the merchant says it has. A member without the
 * attribute, or whose value has another type, does not match (so `not` matches them).
 */
export const attributeCondition = z.discriminatedUnion('type', [
  z
    .strictObject({
      name: attributeName,
      type: z.literal('string'),
      /** Exact, case-sensitive. */
      equals: attributeText.exactOptional(),
      in: z.array(attributeText).min(1).max(segmentLimits.maxValues).exactOptional(),
      /** Substring, case-sensitive. */
      contains: attributeText.exactOptional(),
    })
    .refine(atLeastOne(stringAttributeOps), needsOne(stringAttributeOps)),
  z
    .strictObject({ name: attributeName, type: z.literal('number'), ...numberShape })
    .refine(atLeastOne(numberOps), needsOne(numberOps)),
  z.strictObject({ name: attributeName, type: z.literal('boolean'), is: z.boolean() }),
  /**
   * A date attribute is an ISO string: a date (`2024-01-05`) is that calendar day; a time
   * with an offset is read as a day in the member's zone; a time without one, as written.
   */
  z
    .strictObject({ name: attributeName, type: z.literal('date'), ...dateShape })
    .refine(atLeastOne(dateOps), needsOne(dateOps)),
]);
export type AttributeCondition = z.infer<typeof attributeCondition>;

// ── presence ───────────────────────────────────────────────────────────────────────────
/** Member fields that may be absent (consent and phone are always there). */
export const presenceFields = [
  'name',
  'gender',
  'birthday',
  'store',
  'tier',
  'tags',
  'points',
  'totalSpend',
  'purchaseCount',
  'firstPurchaseAt',
  'lastPurchaseAt',
  'joinedAt',
  'timeZone',
  'locale',
] as const;
export type PresenceField = (typeof presenceFields)[number];
export function isPresenceField(value: string): value is PresenceField {
  return presenceFields.some((field) => field === value);
}
const attributePath = /^attributes\.[A-Za-z][A-Za-z0-9_]{0,39}$/;

/** `birthday`, `lastPurchaseAt` … or `attributes.<name>`. Tags are present when there is at least one. */
export const presenceTarget = z
  .string()
  .refine(
    (value) => isPresenceField(value) || attributePath.test(value),
    `a member field (${presenceFields.join(', ')}) or attributes.<name>`,
  );

// ── the tree ───────────────────────────────────────────────────────────────────────────
export type SegmentNode =
  | { and: SegmentNode[] }
  | { or: SegmentNode[] }
  | { not: SegmentNode }
  | { tags: TagCondition }
  | { tier: TextChoice }
  | { store: TextChoice }
  | { gender: GenderChoice }
  | { consent: ConsentChoice }
  | { points: NumberCondition }
  | { totalSpend: NumberCondition }
  | { purchaseCount: NumberCondition }
  | { firstPurchaseAt: DateCondition }
  | { lastPurchaseAt: DateCondition }
  | { joinedAt: DateCondition }
  | { birthday: BirthdayCondition }
  | { attribute: AttributeCondition }
  | { has: string }
  | { missing: string }
  | PresetNode;
/** A parsed definition: presets carry every threshold, defaults filled in. */
export type SegmentDefinition = SegmentNode;

interface Leaf {
  readonly parse: (value: unknown) => { node: SegmentNode } | { issues: z.core.$ZodIssue[] };
}
function leaf<S extends z.ZodType>(schema: S, wrap: (value: z.output<S>) => SegmentNode): Leaf {
  return {
    parse: (value) => {
      const result = schema.safeParse(value);
      return result.success ? { node: wrap(result.data) } : { issues: result.error.issues };
    },
  };
}

const leafKinds = [
  'tags',
  'tier',
  'store',
  'gender',
  'consent',
  'points',
  'totalSpend',
  'purchaseCount',
  'firstPurchaseAt',
  'lastPurchaseAt',
  'joinedAt',
  'birthday',
  'attribute',
  'has',
  'missing',
] as const;
type LeafKind = (typeof leafKinds)[number];

const leaves: Record<LeafKind, Leaf> = {
  tags: leaf(tagCondition, (tags) => ({ tags })),
  tier: leaf(textChoice, (tier) => ({ tier })),
  store: leaf(textChoice, (store) => ({ store })),
  gender: leaf(genderChoice, (gender) => ({ gender })),
  consent: leaf(consentChoice, (consent) => ({ consent })),
  points: leaf(numberCondition, (points) => ({ points })),
  totalSpend: leaf(numberCondition, (totalSpend) => ({ totalSpend })),
  purchaseCount: leaf(numberCondition, (purchaseCount) => ({ purchaseCount })),
  firstPurchaseAt: leaf(dateCondition, (firstPurchaseAt) => ({ firstPurchaseAt })),
  lastPurchaseAt: leaf(dateCondition, (lastPurchaseAt) => ({ lastPurchaseAt })),
  joinedAt: leaf(dateCondition, (joinedAt) => ({ joinedAt })),
  birthday: leaf(birthdayCondition, (birthday) => ({ birthday })),
  attribute: leaf(attributeCondition, (attribute) => ({ attribute })),
  has: leaf(presenceTarget, (has) => ({ has })),
  missing: leaf(presenceTarget, (missing) => ({ missing })),
};
/** Every key a node may have; `params` only beside `preset`. */
export const nodeKinds = ['and', 'or', 'not', ...leafKinds, 'preset'] as const;

function isLeafKind(key: string): key is LeafKind {
  return leafKinds.some((kind) => kind === key);
}
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Path = (string | number)[];
interface ParseState {
  nodes: number;
  readonly problems: { path: Path; message: string }[];
}
const kindsList = nodeKinds.join(', ');

function parseNode(value: unknown, path: Path, depth: number, state: ParseState): SegmentNode | undefined {
  const fail = (message: string, at: Path = path): undefined => {
    state.problems.push({ path: at, message });
    return undefined;
  };
  state.nodes += 1;
  if (state.nodes > segmentLimits.maxNodes) {
    // Reported once, at the first node past the limit, so a huge tree does not flood the answer.
    return state.nodes === segmentLimits.maxNodes + 1
      ? fail(`A definition has at most ${segmentLimits.maxNodes} nodes.`)
      : undefined;
  }
  if (!isRecord(value)) return fail(`A segment node is an object with one of the keys ${kindsList}.`);
  const keys = Object.keys(value);
  if (Object.hasOwn(value, 'preset')) {
    const result = presetNode.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) fail(issue.message, [...path, ...issue.path.map(keyOf)]);
    return undefined;
  }
  const unknown = keys.filter((key) => !nodeKinds.some((kind) => kind === key));
  if (unknown.length > 0) {
    return fail(`Unrecognized key ${unknown.map((key) => `"${key}"`).join(', ')}: use one of ${kindsList}.`);
  }
  const [key] = keys;
  if (key === undefined) return fail(`A segment node needs one of the keys ${kindsList}.`);
  if (keys.length > 1) {
    return fail(`A node holds one condition (found ${keys.join(', ')}); combine several with and / or.`);
  }
  const inner = value[key];
  const at = [...path, key];
  if (key === 'and' || key === 'or' || key === 'not') {
    if (depth >= segmentLimits.maxDepth) {
      return fail(`and / or / not nest at most ${segmentLimits.maxDepth} levels deep.`, at);
    }
    if (key === 'not') {
      const child = parseNode(inner, at, depth + 1, state);
      return child && { not: child };
    }
    if (!Array.isArray(inner) || inner.length === 0 || inner.length > segmentLimits.maxChildren) {
      return fail(`${key} takes a list of 1 to ${segmentLimits.maxChildren} nodes.`, at);
    }
    const children = inner.map((child, index) => parseNode(child, [...at, index], depth + 1, state));
    const parsed = children.filter((child) => child !== undefined);
    if (parsed.length !== children.length) return undefined;
    return key === 'and' ? { and: parsed } : { or: parsed };
  }
  if (!isLeafKind(key)) return fail(`Unrecognized key "${key}".`, at);
  const result = leaves[key].parse(inner);
  if ('node' in result) return result.node;
  for (const issue of result.issues) fail(issue.message, [...at, ...issue.path.map(keyOf)]);
  return undefined;
}

function keyOf(key: PropertyKey): string | number {
  return typeof key === 'number' ? key : String(key);
}

/**
 * The segment definition schema, for use inside request schemas: its problems carry paths
 * relative to where it sits (`definition.or.0.points.between`).
 */
export const segmentDefinition = z.unknown().transform((value, ctx): SegmentDefinition => {
  const state: ParseState = { nodes: 0, problems: [] };
  const node = parseNode(value, [], 0, state);
  for (const problem of state.problems) {
    ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path, input: value });
  }
  return node ?? z.NEVER;
});

/** Parses a definition or throws a ValidationError listing every faulty node under `path`. */
export function parseSegmentDefinition({
  input,
  path = 'definition',
}: {
  input: unknown;
  path?: string;
}): SegmentDefinition {
  const state: ParseState = { nodes: 0, problems: [] };
  const node = parseNode(input, [], 0, state);
  if (node === undefined || state.problems.length > 0) {
    throw new ValidationError(
      state.problems.map((problem) => ({
        path: [path, ...problem.path].join('.'),
        message: problem.message,
      })),
      'The segment definition is not valid.',
    );
  }
  return node;
}
