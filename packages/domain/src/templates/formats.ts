import { instantToWallTime } from '../shared/time-zones';

// The formats a placeholder can ask for. Each formatter is built once when a template is
// compiled and returns `undefined` for a value it cannot print, which the renderer treats
// like a missing value (default, else the member is suppressed): a member never reads
// `NaN`, `undefined`, `null`, `[object Object]` or a half-formatted date.
//
// Numbers: at most 2 decimals, trailing zeros dropped; `number` groups thousands (1,280).
// Money: major units (元) rounded to cents, `.00` dropped on whole amounts; zh-CN writes the
//   currency after the amount (1,280元, 20美元), en before it (¥1,280, $20.50).
// Dates: a pattern of tokens and literal text. Tokens: YYYY (2025), MMM (Mar, English),
//   MM (03), M (3), DD (08), D (8), HH (09), H (9), mm (05); every other character is literal.
//   Defaults: `M月D日` for zh-CN, `MMM D` for en. An instant is read in the member's time zone
//   (else the tenant's); a plain date (2025-03-08) is the same day everywhere.

export type Locale = 'zh-CN' | 'en';

export type Formatter = (value: unknown, timeZone: string) => string | undefined;

export const currencies = {
  CNY: { symbol: '¥', zh: '元' },
  USD: { symbol: '$', zh: '美元' },
  EUR: { symbol: '€', zh: '欧元' },
  GBP: { symbol: '£', zh: '英镑' },
  HKD: { symbol: 'HK$', zh: '港元' },
} as const;
export type Currency = keyof typeof currencies;
export const isCurrency = (code: string): code is Currency => Object.hasOwn(currencies, code);

export const defaultDatePatterns: Record<Locale, string> = { 'zh-CN': 'M月D日', en: 'MMM D' };

const dateTokens = ['YYYY', 'MMM', 'MM', 'M', 'DD', 'D', 'HH', 'H', 'mm'] as const;
type DateToken = (typeof dateTokens)[number];
/** Tokens a birthday (month and day, year often unknown) cannot fill. */
export const tokensBeyondBirthday: readonly DateToken[] = ['YYYY', 'HH', 'H', 'mm'];
const monthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export type DatePatternPart = DateToken | { readonly literal: string };

/** A date pattern cut into tokens and literal text; `undefined` when it holds no token. */
export function parseDatePattern({ pattern }: { pattern: string }): DatePatternPart[] | undefined {
  const parts: DatePatternPart[] = [];
  let literal = '';
  for (let i = 0; i < pattern.length; ) {
    const token = dateTokens.find((candidate) => pattern.startsWith(candidate, i));
    if (token) {
      if (literal) parts.push({ literal });
      literal = '';
      parts.push(token);
      i += token.length;
    } else {
      literal += pattern[i];
      i++;
    }
  }
  if (literal) parts.push({ literal });
  return parts.some((part) => typeof part === 'string') ? parts : undefined;
}

// --- text ---------------------------------------------------------------------------------

const missingWords = /^(?:undefined|null|nan)$/i;

/** Whether `text` holds a control character, a brace, or two spaces in a row. */
function needsCleaning(text: string): boolean {
  let previousSpace = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x7b || code === 0x7d || (code >= 0x80 && code <= 0x9f))
      return true;
    const space = code === 0x20;
    if (space && previousSpace) return true;
    previousSpace = space;
  }
  return false;
}

/**
 * A member's value as it may appear in an SMS: control characters and line breaks become
 * spaces, braces go (so nothing a member typed can look like a placeholder), runs of spaces
 * shrink to one. Empty, or the words `undefined`/`null`/`NaN` that a broken import wrote for
 * "nothing", count as missing.
 */
export function cleanText(value: string): string | undefined {
  let text = value;
  if (needsCleaning(text)) {
    text = text
      .replace(/\p{Cc}/gu, ' ')
      .replace(/[{}]/g, '')
      .replace(/\s{2,}/g, ' ');
  }
  text = text.trim();
  if (text === '') return undefined;
  return text.length <= 9 && missingWords.test(text) ? undefined : text;
}

// --- numbers -------------------------------------------------------------------------------

const numeric = /^-?\d+(?:\.\d+)?$/;

// Beyond this, hundredths are no longer exact integers and String() turns to exponents
// (1e+21): such a value is a data error, not something to print.
const largestPrintable = 1e13;

/** A finite number within ±10 trillion, or a string holding one (CSV imports store numbers as text). */
export function numberOf(value: unknown): number | undefined {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && numeric.test(value.trim())
        ? Number(value.trim())
        : Number.NaN;
  return Math.abs(number) < largestPrintable ? number : undefined;
}

/**
 * Hundredths, rounded half away from zero without binary drift: 1.005 is stored as
 * 1.00499999999999989…, so ×100 gives 100.49999999999999; a nudge of a few ulps restores the
 * half the merchant wrote (→ 101, not 100).
 */
function toHundredths(value: number): number {
  const scaled = Math.abs(value) * 100;
  const rounded = Number.isInteger(scaled) ? scaled : Math.round(scaled + scaled * Number.EPSILON * 8);
  return value < 0 ? -rounded : rounded;
}

function grouped(digits: string): string {
  if (digits.length <= 3) return digits;
  let out = '';
  const head = digits.length % 3 || 3;
  out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return out;
}

/** `1234.5` → `1,234.5` (grouped) or `1234.5`; at most 2 decimals, trailing zeros dropped. */
export function formatNumber(value: number, { grouping }: { grouping: boolean }): string {
  const hundredths = toHundredths(value);
  const sign = hundredths < 0 ? '-' : '';
  const whole = Math.floor(Math.abs(hundredths) / 100);
  const cents = Math.abs(hundredths) % 100;
  const digits = String(whole);
  const integer = grouping ? grouped(digits) : digits;
  const fraction =
    cents === 0 ? '' : cents % 10 === 0 ? `.${cents / 10}` : `.${cents < 10 ? '0' : ''}${cents}`;
  return `${sign}${integer}${fraction}`;
}

export function formatMoney(
  value: number,
  { currency, locale }: { currency: Currency; locale: Locale },
): string {
  const hundredths = toHundredths(value);
  const sign = hundredths < 0 ? '-' : '';
  const whole = Math.floor(Math.abs(hundredths) / 100);
  const cents = Math.abs(hundredths) % 100;
  const amount = `${grouped(String(whole))}${cents === 0 ? '' : `.${cents < 10 ? '0' : ''}${cents}`}`;
  const names = currencies[currency];
  return locale === 'zh-CN' ? `${sign}${amount}${names.zh}` : `${sign}${names.symbol}${amount}`;
}

// --- dates ---------------------------------------------------------------------------------

interface DateFields {
  readonly year: number | undefined;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

// Offsets change only at DST transitions, which fall on quarter hours: caching the offset
// per zone and quarter hour keeps Intl (microseconds a call) off the per-member path.
const quarterHour = 15 * 60 * 1000;
const offsets = new Map<string, Map<number, number>>();
const maxCachedOffsets = 10_000;

function offsetOf(instant: number, timeZone: string): number {
  let zone = offsets.get(timeZone);
  if (!zone) {
    zone = new Map();
    offsets.set(timeZone, zone);
  }
  const bucket = Math.floor(instant / quarterHour);
  let offset = zone.get(bucket);
  if (offset === undefined) {
    if (zone.size >= maxCachedOffsets) zone.clear();
    const start = bucket * quarterHour;
    offset = instantToWallTime(start, timeZone) - start;
    zone.set(bucket, offset);
  }
  return offset;
}

const isLeap = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDay(year: number | undefined, month: number, day: number): boolean {
  if (!Number.isInteger(month) || !Number.isInteger(day) || month < 1 || month > 12 || day < 1) return false;
  const max = month === 2 && (year === undefined || isLeap(year)) ? 29 : (monthDays[month - 1] ?? 31);
  return day <= max;
}

const dayMs = 86_400_000;

/** Calendar fields of a wall-clock time given as milliseconds (Hinnant's days-to-civil). */
function fieldsOfWallTime(wall: number): DateFields {
  const days = Math.floor(wall / dayMs);
  const inDay = wall - days * dayMs;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return {
    year,
    month,
    day,
    hour: Math.floor(inDay / 3_600_000),
    minute: Math.floor((inDay % 3_600_000) / 60_000),
  };
}

const digit = (text: string, i: number): number => text.charCodeAt(i) - 48;
const twoDigits = (text: string, i: number): number => digit(text, i) * 10 + digit(text, i + 1);
const isoDateShape = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * The calendar fields of a date value: a birthday `{ month, day, year? }`, a plain date
 * (`2025-06-30`, the same day everywhere), a local date-time without offset (taken as written),
 * or an instant with `Z` or an offset, read in `timeZone`.
 */
export function dateFieldsOf(value: unknown, timeZone: string): DateFields | undefined {
  if (typeof value === 'object' && value !== null && 'month' in value && 'day' in value) {
    const { month, day } = value;
    const year = 'year' in value && typeof value.year === 'number' ? value.year : undefined;
    if (typeof month !== 'number' || typeof day !== 'number' || !validDay(year, month, day)) return undefined;
    return { year, month, day, hour: 0, minute: 0 };
  }
  if (typeof value !== 'string') return undefined;
  const text = value.length > 10 || value.length < 10 ? value.trim() : value;
  const shape = isoDateShape.exec(text);
  if (!shape) return undefined;
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (!validDay(year, month, day)) return undefined;
  if (text.length === 10) return { year, month, day, hour: 0, minute: 0 };
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  if (hour > 23 || minute > 59) return undefined;
  if (shape[1] === undefined) return { year, month, day, hour, minute };
  const instant = Date.parse(text);
  return Number.isNaN(instant) ? undefined : fieldsOfWallTime(instant + offsetOf(instant, timeZone));
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

export function formatDate(fields: DateFields, parts: readonly DatePatternPart[]): string | undefined {
  let out = '';
  for (const part of parts) {
    switch (part) {
      case 'YYYY':
        if (fields.year === undefined) return undefined;
        out += String(fields.year);
        break;
      case 'MMM':
        out += monthNames[fields.month - 1] ?? '';
        break;
      case 'MM':
        out += two(fields.month);
        break;
      case 'M':
        out += String(fields.month);
        break;
      case 'DD':
        out += two(fields.day);
        break;
      case 'D':
        out += String(fields.day);
        break;
      case 'HH':
        out += two(fields.hour);
        break;
      case 'H':
        out += String(fields.hour);
        break;
      case 'mm':
        out += two(fields.minute);
        break;
      default:
        out += part.literal;
    }
  }
  return out;
}
