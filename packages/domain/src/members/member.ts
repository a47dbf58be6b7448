import * as z from 'zod';
import { ianaTimeZone } from '../shared/time-zones';

// A member of a merchant's loyalty programme: who they are, what they bought, what they
// allow. These schemas are the one source of validation, types and (later) OpenAPI.

/** The merchant's own member id (card number, CRM id). It is part of keys, so it is bounded. */
export const memberId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/,
    '1–64 letters, digits or . _ : @ -, starting with a letter or digit',
  );
export type MemberId = z.infer<typeof memberId>;

/** E.164, as the phone normalizer writes it: `+8613812345678`. */
export const e164 = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'a phone number in E.164 form such as +8613812345678');

export const genders = ['female', 'male', 'other', 'unknown'] as const;
export const gender = z.enum(genders);
export type Gender = z.infer<typeof gender>;

const daysInMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Month and day, year optional (many members give only the day they celebrate). */
export const birthday = z
  .strictObject({
    month: z.number().int().min(1).max(12),
    day: z.number().int().min(1).max(31),
    year: z.number().int().min(1900).max(2100).exactOptional(),
  })
  .superRefine((value, ctx) => {
    const max = daysInMonth[value.month - 1] ?? 31;
    const leap = value.year === undefined || isLeapYear(value.year);
    if (value.day > max || (value.month === 2 && value.day === 29 && !leap)) {
      ctx.addIssue({ code: 'custom', path: ['day'], message: `no such day: ${value.month}/${value.day}` });
    }
  });
export type Birthday = z.infer<typeof birthday>;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export const consentStatuses = ['granted', 'denied', 'unknown'] as const;

/** Marketing consent: marketing SMS needs `granted`; notifications do not. */
export const consent = z.strictObject({
  status: z.enum(consentStatuses),
  /** When the member gave or withdrew it (ISO 8601). */
  at: z.iso.datetime({ offset: true }).exactOptional(),
  /** Where it was recorded: `pos`, `miniapp`, `import`, `api`, `sms-reply` … */
  source: z.string().trim().min(1).max(40).exactOptional(),
});
export type Consent = z.infer<typeof consent>;

export const isoDate = z.iso.date();
export const instant = z.iso.datetime({ offset: true });

/** A custom attribute name: a letter, then letters, digits or underscores. */
export const attributeName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/, 'a letter, then up to 39 letters, digits or underscores');

/**
 * A custom attribute's value. A date is a string in ISO form (`2024-01-05`), so the type of an
 * attribute is read from its value: string, number, boolean or date.
 */
export const attributeValue = z.union([z.string().max(500), z.number().finite(), z.boolean()]);
export type AttributeValue = z.infer<typeof attributeValue>;
export type AttributeType = 'string' | 'number' | 'boolean' | 'date';

const datePattern = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/;

export function attributeType(value: AttributeValue): AttributeType {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  return datePattern.test(value) && !Number.isNaN(Date.parse(value)) ? 'date' : 'string';
}

export const maxTags = 100;
export const tag = z.string().trim().min(1).max(40);

/** The optional fields of a member, each as it must be when present. */
const profileShape = {
  name: z.string().trim().min(1).max(100),
  gender,
  birthday,
  store: z.string().trim().min(1).max(100),
  tier: z.string().trim().min(1).max(40),
  tags: z.array(tag).max(maxTags),
  points: z.number().int().min(0),
  /** In the tenant's currency, major units (元). */
  totalSpend: z.number().finite().min(0),
  purchaseCount: z.number().int().min(0),
  firstPurchaseAt: instant,
  lastPurchaseAt: instant,
  joinedAt: instant,
  timeZone: ianaTimeZone,
  locale: z.enum(['zh-CN', 'en']),
  consent,
  attributes: z.record(attributeName, attributeValue),
};
type ProfileShape = typeof profileShape;
export type ProfileField = keyof ProfileShape;
export const profileFields = Object.keys(profileShape) as ProfileField[];

function mapShape<R>(map: (schema: ProfileShape[ProfileField]) => unknown): R {
  // The mapped types below say what each entry becomes; Object.fromEntries cannot.
  return Object.fromEntries(Object.entries(profileShape).map(([key, schema]) => [key, map(schema)])) as R;
}

/** Any usual form; normalized to E.164 with the tenant's default region. */
const rawPhone = z.string().trim().min(1).max(40);

/** What a merchant may write about a member (PUT body, import row once cleaned). */
export const memberFields = z.strictObject({
  phone: rawPhone,
  ...mapShape<{ [K in ProfileField]: z.ZodExactOptional<ProfileShape[K]> }>((schema) =>
    schema.exactOptional(),
  ),
});
export type MemberFields = z.infer<typeof memberFields>;

/** PATCH: every field optional; `null` removes an optional field. */
export const memberPatch = z.strictObject({
  phone: rawPhone.exactOptional(),
  ...mapShape<{ [K in ProfileField]: z.ZodExactOptional<z.ZodNullable<ProfileShape[K]>> }>((schema) =>
    schema.nullable().exactOptional(),
  ),
});
export type MemberPatch = z.infer<typeof memberPatch>;

/** Whether the phone number can receive SMS; receipts set `invalid` on an invalid-number result. */
export const phoneStatuses = ['valid', 'invalid'] as const;
export type PhoneStatus = (typeof phoneStatuses)[number];

/** A stored member: the fields with the phone in E.164, plus what qunfa keeps about them. */
export interface Member extends Omit<MemberFields, 'phone' | 'tags' | 'consent'> {
  readonly memberId: MemberId;
  readonly phone: string;
  readonly phoneStatus: PhoneStatus;
  readonly tags: readonly string[];
  readonly consent: Consent;
  readonly createdAt: string;
  readonly updatedAt: string;
}
