import { wallTimeToInstant } from '../../shared/time-zones';
import { type Birthday, type Consent, type Gender, isLeapYear } from '../member';

// How the cells of a merchant's spreadsheet read as member values. Exports from Chinese
// POS and CRM systems write dates, money and yes/no in many ways; each reader accepts the
// usual forms and answers `undefined` for anything else, so the row reports the cell.

/** The text of a cell: trimmed (NBSP and the ideographic space too); `undefined` when empty. */
export function cellText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value !== 'string') return undefined;
  const text = value.replace(/^[\s\u200b\ufeff]+|[\s\u200b\ufeff]+$/g, '');
  return text === '' ? undefined : text;
}

/** Folds full-width digits, letters and punctuation (１，／：￥) to ASCII and lower-cases. */
function folded(text: string): string {
  // Most cells are ASCII, which NFKC leaves as it is; ICU is not asked for those.
  const ascii = /^[\x20-\x7e]*$/.test(text);
  return (ascii ? text : text.normalize('NFKC')).trim().toLowerCase();
}

export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Whether the text gave a time of day (a date alone means its midnight). */
  readonly timed: boolean;
  /** Minutes east of UTC when the text says (`Z`, `+08:00`); otherwise the tenant's zone. */
  readonly offsetMinutes?: number;
}

const time = String.raw`(?:(?:\s*t\s*|\s+)(\d{1,2})\s*[:时点]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d{1,9})?\s*秒?)?\s*分?)?`;
const zone = String.raw`(?:\s*(z|[+-]\d{2}:?\d{2}))?`;
/** `2024-01-05`, `2024/1/5`, `2024.1.5`, `1990年1月5日`, each optionally with a time. */
const separated = new RegExp(
  String.raw`^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?${time}${zone}$`,
);
/** `20240105`, `20240105 1330`, `20240105133000`. */
const compact = /^(\d{4})(\d{2})(\d{2})(?:\s*t?\s*(\d{2}):?(\d{2})(?::?(\d{2}))?)?$/;
/**
 * Excel's date serial (days since 1899-12-30, the fraction the time of day): what a date
 * cell becomes when a sheet is exported with the cell formatted as a number. Five digits
 * cover 1927–2173.
 */
const excelSerial = /^(\d{5})(?:\.(\d+))?$/;

/** A calendar date (and time) in any of the usual written forms; `undefined` otherwise. */
export function readDate(text: string): CalendarDate | undefined {
  const value = folded(text);
  const match = separated.exec(value) ?? compact.exec(value);
  if (match) {
    const [, year, month, day, hour, minute, second, offset] = match;
    return calendarDate({
      year: Number(year),
      month: Number(month),
      day: Number(day),
      hour: Number(hour ?? 0),
      minute: Number(minute ?? 0),
      second: Number(second ?? 0),
      timed: hour !== undefined,
      offset,
    });
  }
  const serial = excelSerial.exec(value);
  if (serial) {
    const days = Number(serial[1]);
    const seconds = Math.round(Number(`0.${serial[2] ?? '0'}`) * 86_400);
    const date = new Date(Date.UTC(1899, 11, 30 + days, 0, 0, seconds));
    return calendarDate({
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      second: date.getUTCSeconds(),
      timed: seconds > 0,
      offset: undefined,
    });
  }
  return undefined;
}

const monthDays = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function isCalendarDay({ year, month, day }: { year?: number; month: number; day: number }): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  if (month === 2 && day === 29) return year === undefined || isLeapYear(year);
  return day <= (monthDays[month - 1] ?? 0);
}

function calendarDate(parts: {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  timed: boolean;
  offset: string | undefined;
}): CalendarDate | undefined {
  const { year, month, day, hour, minute, second, timed, offset } = parts;
  if (year < 1900 || year > 2100 || !isCalendarDay({ year, month, day })) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = { year, month, day, hour, minute, second, timed };
  if (offset === undefined) return date;
  if (offset === 'z') return { ...date, offsetMinutes: 0 };
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  return { ...date, offsetMinutes: sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) };
}

/**
 * An instant in ISO form (UTC, `2024-01-04T16:00:00.000Z`). A date or time without an offset
 * is wall-clock time in `timeZone` (the tenant's), so `2024-01-05` in Asia/Shanghai is that
 * day's midnight there. One canonical form makes a re-import compare equal.
 */
export function readInstant({ text, timeZone }: { text: string; timeZone: string }): string | undefined {
  const date = readDate(text);
  if (date === undefined) return undefined;
  const wall = Date.UTC(date.year, date.month - 1, date.day, date.hour, date.minute, date.second);
  const instant =
    date.offsetMinutes === undefined ? wallToInstant(wall, timeZone) : wall - date.offsetMinutes * 60_000;
  return new Date(instant).toISOString();
}

const dayOffsets = new Map<string, number | null>();
const day = 86_400_000;

/**
 * `wallTimeToInstant`, remembered per zone and calendar day: it asks Intl twice (tens of
 * microseconds), and a 100,000-row file has a few dates per row but only a few thousand
 * distinct days. A day whose offset is the same at both midnights has no transition (zones
 * change offset at most once a day), so one offset serves all of it; a day with a daylight
 * saving change (`null`) is computed exactly each time.
 */
function wallToInstant(wall: number, timeZone: string): number {
  const start = Math.floor(wall / day) * day;
  const key = `${timeZone}|${start}`;
  let offset = dayOffsets.get(key);
  if (offset === undefined) {
    const atStart = start - wallTimeToInstant(start, timeZone);
    const atEnd = start + day - wallTimeToInstant(start + day, timeZone);
    offset = atStart === atEnd ? atStart : null;
    if (dayOffsets.size >= 100_000) dayOffsets.clear();
    dayOffsets.set(key, offset);
  }
  return offset === null ? wallTimeToInstant(wall, timeZone) : wall - offset;
}

/** `YYYY-MM-DD` for a date alone, else the instant: how date attributes are stored. */
export function readAttributeDate({
  text,
  timeZone,
}: {
  text: string;
  timeZone: string;
}): string | undefined {
  const date = readDate(text);
  if (date === undefined) return undefined;
  if (date.timed || date.offsetMinutes !== undefined) return readInstant({ text, timeZone });
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.year}-${pad(date.month)}-${pad(date.day)}`;
}

/** `01-05`, `1/5`, `1.5`, `1月5日`: many members give only the day they celebrate. */
const monthAndDay = /^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$/;

/** A birthday: any full date form (its time ignored) or a month and day without a year. */
export function readBirthday(text: string): Birthday | undefined {
  const full = readDate(text);
  if (full) return { month: full.month, day: full.day, year: full.year };
  const match = monthAndDay.exec(folded(text));
  if (!match) return undefined;
  const month = Number(match[1]);
  const day = Number(match[2]);
  return isCalendarDay({ month, day }) ? { month, day } : undefined;
}

/**
 * A number as merchants write money and points: `¥1,234.50`, `￥88元`, `1 234`, `RMB 99`.
 * Commas are thousands separators (the decimal mark is always a dot in Chinese exports).
 */
export function readNumber(text: string): number | undefined {
  const value = folded(text).replace(/^(?:rmb|cny)|[¥$元,\s]/g, '');
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/.test(value)) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

const genderWords: Readonly<Record<string, Gender>> = {
  男: 'male',
  男性: 'male',
  先生: 'male',
  m: 'male',
  male: 'male',
  man: 'male',
  女: 'female',
  女性: 'female',
  女士: 'female',
  f: 'female',
  female: 'female',
  woman: 'female',
  其他: 'other',
  other: 'other',
  未知: 'unknown',
  保密: 'unknown',
  unknown: 'unknown',
  u: 'unknown',
};

export function readGender(text: string): Gender | undefined {
  return genderWords[folded(text)];
}

const yesWords = new Set([
  '是',
  '同意',
  '已同意',
  '允许',
  '接收',
  '订阅',
  '已订阅',
  'yes',
  'y',
  'true',
  '1',
  '√',
  '✓',
]);
const noWords = new Set([
  '否',
  '不同意',
  '拒绝',
  '不允许',
  '不接收',
  '退订',
  '已退订',
  'no',
  'n',
  'false',
  '0',
  '×',
  '✗',
]);

export function readBoolean(text: string): boolean | undefined {
  const word = folded(text);
  if (yesWords.has(word)) return true;
  if (noWords.has(word)) return false;
  return undefined;
}

/** Marketing consent: yes/no words, the status names themselves, or 未知 (unknown). */
export function readConsent(text: string): Consent['status'] | undefined {
  const word = folded(text);
  if (word === 'granted' || word === 'opt-in' || word === 'optin') return 'granted';
  if (word === 'denied' || word === 'opt-out' || word === 'optout') return 'denied';
  if (word === 'unknown' || word === '未知') return 'unknown';
  const yes = readBoolean(text);
  if (yes === undefined) return undefined;
  return yes ? 'granted' : 'denied';
}

/** Tags split on the separators Chinese and English lists use: , ， ; ； 、 | ｜ */
export function readTags(value: unknown): string[] {
  const parts = Array.isArray(value) ? value.map(cellText) : (cellText(value)?.split(/[,，;；、|｜]/) ?? []);
  const tags = new Set<string>();
  for (const part of parts) {
    const tag = part?.trim();
    if (tag) tags.add(tag);
  }
  return [...tags];
}

const localeWords: Readonly<Record<string, 'zh-CN' | 'en'>> = {
  'zh-cn': 'zh-CN',
  zh_cn: 'zh-CN',
  zh: 'zh-CN',
  'zh-hans': 'zh-CN',
  中文: 'zh-CN',
  简体中文: 'zh-CN',
  chinese: 'zh-CN',
  en: 'en',
  'en-us': 'en',
  'en-gb': 'en',
  en_us: 'en',
  english: 'en',
  英文: 'en',
  英语: 'en',
};

export function readLocale(text: string): 'zh-CN' | 'en' | undefined {
  return localeWords[folded(text)];
}
