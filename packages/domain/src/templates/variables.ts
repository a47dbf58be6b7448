import type { Member } from '../members/member';
import { attributeName } from '../members/member';
import type { Locale } from './formats';

// What a placeholder can name, and where its value comes from. Three families:
// - member fields: {{name}}, {{points}}, {{store}}, {{tier}}, {{birthday}}, {{totalSpend}} …
// - the member's custom attributes: {{attributes.couponCode}} (any attribute name; a member
//   without it takes the default or is suppressed);
// - values of the send: {{link}} (the tracked short link of each message) and the campaign
//   variables a template declares (`variables: [{ name: 'deadline', type: 'date' }]`), written
//   {{deadline}}, which may not reuse a member field's name.
// Phone and consent are deliberately not printable.

/** The member fields a template reads. */
export type TemplateMember = Pick<
  Member,
  | 'name'
  | 'store'
  | 'tier'
  | 'points'
  | 'purchaseCount'
  | 'totalSpend'
  | 'birthday'
  | 'lastPurchaseAt'
  | 'firstPurchaseAt'
  | 'joinedAt'
  | 'timeZone'
  | 'attributes'
>;

/** Values of one send: campaign variables, and anything per message (order number, tracking number). */
export type SendValues = Readonly<Record<string, string | number>>;

/**
 * What a value is, which decides the filters it takes: `text` takes only a default; `number`
 * takes number; `money` takes money or number; `date` and `birthday` take date; `any`
 * (attributes, whose type is known only per member) takes all; `link` takes none.
 */
export type VariableType = 'text' | 'number' | 'money' | 'date' | 'birthday' | 'any' | 'link';

export const campaignVariableTypes = ['text', 'number', 'money', 'date'] as const;
export type CampaignVariableType = (typeof campaignVariableTypes)[number];

export type ValueReader = (
  member: TemplateMember,
  values: SendValues | undefined,
  link: string | undefined,
) => unknown;

export interface VariableDescriptor {
  readonly key: string;
  readonly type: VariableType;
  readonly read: ValueReader;
}

/** What an example message shows for each member field: a plausible member, per locale. */
export const exampleMembers: Record<Locale, TemplateMember> = {
  'zh-CN': {
    name: '王小明',
    store: '徐汇店',
    tier: '金卡会员',
    points: 1280,
    purchaseCount: 12,
    totalSpend: 3560.5,
    birthday: { month: 5, day: 20 },
    lastPurchaseAt: '2025-03-08T10:30:00+08:00',
    firstPurchaseAt: '2023-06-18T15:00:00+08:00',
    joinedAt: '2023-06-18T15:00:00+08:00',
  },
  en: {
    name: 'Alex Chen',
    store: 'Downtown',
    tier: 'Gold',
    points: 1280,
    purchaseCount: 12,
    totalSpend: 3560.5,
    birthday: { month: 5, day: 20 },
    lastPurchaseAt: '2025-03-08T10:30:00+08:00',
    firstPurchaseAt: '2023-06-18T15:00:00+08:00',
    joinedAt: '2023-06-18T15:00:00+08:00',
  },
};

/**
 * A stand-in of a realistic length for `{{link}}` in examples and previews when no real short
 * link is given: a short link is a few Base62 characters on the merchant's own domain.
 */
export const linkStandIn = 'https://s.example.com/Ab3dE9';

export const memberVariables: readonly VariableDescriptor[] = [
  { key: 'name', type: 'text', read: (m) => m.name },
  { key: 'store', type: 'text', read: (m) => m.store },
  { key: 'tier', type: 'text', read: (m) => m.tier },
  { key: 'points', type: 'number', read: (m) => m.points },
  { key: 'purchaseCount', type: 'number', read: (m) => m.purchaseCount },
  { key: 'totalSpend', type: 'money', read: (m) => m.totalSpend },
  { key: 'birthday', type: 'birthday', read: (m) => m.birthday },
  { key: 'lastPurchaseAt', type: 'date', read: (m) => m.lastPurchaseAt },
  { key: 'firstPurchaseAt', type: 'date', read: (m) => m.firstPurchaseAt },
  { key: 'joinedAt', type: 'date', read: (m) => m.joinedAt },
  { key: 'link', type: 'link', read: (_m, _v, link) => link },
];

/** Names a campaign variable cannot take: every member field, plus the attributes namespace. */
export const reservedVariableNames: readonly string[] = [...memberVariables.map((v) => v.key), 'attributes'];

export interface CampaignVariable {
  readonly name: string;
  readonly type: CampaignVariableType;
}

/** The descriptor of `key`, or `undefined` when the template cannot use it. */
export function resolveVariable({
  key,
  campaignVariables,
}: {
  key: string;
  campaignVariables: readonly CampaignVariable[];
}): VariableDescriptor | undefined {
  const member = memberVariables.find((variable) => variable.key === key);
  if (member) return member;
  if (key.startsWith('attributes.')) {
    const name = key.slice('attributes.'.length);
    if (!attributeName.safeParse(name).success) return undefined;
    return { key, type: 'any', read: (m) => m.attributes?.[name] };
  }
  const declared = campaignVariables.find((variable) => variable.name === key);
  if (!declared) return undefined;
  return {
    key,
    type: declared.type,
    read: (_m, values) => (values && Object.hasOwn(values, key) ? values[key] : undefined),
  };
}

/** Every key a template could use, for "did you mean" and the error message. */
export function knownVariableKeys({
  campaignVariables,
}: {
  campaignVariables: readonly CampaignVariable[];
}): string[] {
  return [...memberVariables.map((v) => v.key), ...campaignVariables.map((v) => v.name), 'attributes.<name>'];
}

/** The closest known key within two edits, for a typo like {{nmae}}. */
export function closestKey({ key, known }: { key: string; known: readonly string[] }): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
