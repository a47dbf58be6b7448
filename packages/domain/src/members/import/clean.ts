import { isTimeZone } from '../../shared/time-zones';
import { type AttributeValue, type MemberFields, maxTags, memberId } from '../member';
import { normalizePhone } from '../phone';
import { type ImportTarget, targetKey } from './mapping';
import type { ImportCell } from './read';
import type { ImportProblem, ImportRowReason } from './report';
import {
  cellText,
  readAttributeDate,
  readBirthday,
  readBoolean,
  readConsent,
  readGender,
  readInstant,
  readLocale,
  readNumber,
  readTags,
} from './values';

// One row of a file → a member's fields (phone in E.164), or every problem of the row. An
// empty cell says nothing: the field is left out, so it never erases what is stored.

export interface ImportSettings {
  /** ISO 3166 region for numbers written without a country code (the tenant's). */
  readonly defaultRegion: string;
  /** IANA zone in which dates and times without an offset are read (the tenant's). */
  readonly timeZone: string;
}

export type CleanRow =
  | {
      readonly ok: true;
      readonly row: number;
      readonly memberId: string;
      /**
       * Where the member id came from. A file without a member id column (or a row with that
       * cell empty) identifies the member by phone: the E.164 number without its `+`
       * (`8613812345678`), since member ids cannot start with `+`. The same number in a later
       * import finds the same member.
       */
      readonly memberIdFrom: 'column' | 'phone';
      readonly fields: MemberFields;
    }
  | { readonly ok: false; readonly row: number; readonly problems: readonly ImportProblem[] };

/** The member id used when a row gives none. */
export function memberIdFromPhone(e164: string): string {
  return e164.slice(1);
}

const maxLength = { name: 100, store: 100, tier: 40 } as const;
const maxAttributeText = 500;
const maxTagLength = 40;

/** Reads every cell of a row; a row with any problem is refused whole, with all of them. */
export function cleanRow({
  row,
  cells,
  settings,
}: {
  row: number;
  cells: readonly ImportCell[];
  settings: ImportSettings;
}): CleanRow {
  const problems: ImportProblem[] = [];
  const fields: Omit<MemberFields, 'phone'> = {};
  let phone: string | undefined;
  const attributes: Record<string, AttributeValue> = {};
  const columnOf = new Map<string, string>();
  const tags = new Set<string>();
  let tagColumn: string | undefined;
  let id: string | undefined;
  let consentAt: string | undefined;
  const problem = (column: string, reason: ImportRowReason): void => {
    problems.push({ row, column, reason });
  };

  for (const { column, target, value } of cells) {
    const key = targetKey(target);
    if (key === 'tags') {
      const read = readTags(value);
      if (read.length > 0) tagColumn ??= column;
      for (const tag of read) {
        if (tag.length > maxTagLength) problem(column, 'tag_too_long');
        else tags.add(tag);
      }
      continue;
    }
    const text = cellText(value);
    // The first non-empty cell for a target counts (JSON lines may carry `phone` and `mobile`).
    if (text === undefined || columnOf.has(key)) continue;
    columnOf.set(key, column);
    if (target.kind === 'attribute') {
      const read = readAttribute({ target, text, value, timeZone: settings.timeZone });
      if (read.ok) attributes[target.name] = read.value;
      else problem(column, read.reason);
      continue;
    }
    const field = target.field;
    switch (field) {
      case 'memberId':
        if (memberId.safeParse(text).success) id = text;
        else problem(column, 'invalid_member_id');
        break;
      case 'phone': {
        const normalized = normalizePhone({ raw: text, defaultRegion: settings.defaultRegion });
        if (normalized.ok) phone = normalized.e164;
        else problem(column, normalized.reason);
        break;
      }
      case 'name':
      case 'store':
      case 'tier':
        if (text.length > maxLength[field]) problem(column, 'too_long');
        else fields[field] = text;
        break;
      case 'gender': {
        const gender = readGender(text);
        if (gender) fields.gender = gender;
        else problem(column, 'invalid_gender');
        break;
      }
      case 'birthday': {
        const birthday = readBirthday(text);
        if (birthday) fields.birthday = birthday;
        else problem(column, 'invalid_date');
        break;
      }
      case 'points':
      case 'purchaseCount':
      case 'totalSpend': {
        const number = readNumber(text);
        if (number === undefined) problem(column, 'invalid_number');
        else if (number < 0) problem(column, 'negative');
        else if (field !== 'totalSpend' && !Number.isInteger(number)) problem(column, 'not_an_integer');
        else if (field !== 'totalSpend' && !Number.isSafeInteger(number)) problem(column, 'invalid_number');
        else fields[field] = number;
        break;
      }
      case 'firstPurchaseAt':
      case 'lastPurchaseAt':
      case 'joinedAt':
      case 'consentAt': {
        const instant = readInstant({ text, timeZone: settings.timeZone });
        if (instant === undefined) problem(column, 'invalid_date');
        else if (field === 'consentAt') consentAt = instant;
        else fields[field] = instant;
        break;
      }
      case 'timeZone':
        if (isTimeZone(text)) fields.timeZone = text;
        else problem(column, 'invalid_time_zone');
        break;
      case 'locale': {
        const locale = readLocale(text);
        if (locale) fields.locale = locale;
        else problem(column, 'invalid_locale');
        break;
      }
      case 'consent': {
        const status = readConsent(text);
        if (status) fields.consent = { status, source: 'import' };
        else problem(column, 'invalid_consent');
        break;
      }
    }
  }

  if (phone === undefined && !columnOf.has('phone')) {
    problem(cells.find((cell) => targetKey(cell.target) === 'phone')?.column ?? 'phone', 'missing');
  }
  if (tags.size > maxTags) problem(tagColumn ?? 'tags', 'too_many_tags');
  if (problems.length > 0 || phone === undefined) {
    return { ok: false, row, problems: problems.sort(byColumnOrder(cells)) };
  }

  if (tags.size > 0) fields.tags = [...tags];
  if (Object.keys(attributes).length > 0) fields.attributes = attributes;
  if (consentAt !== undefined && fields.consent) fields.consent = { ...fields.consent, at: consentAt };
  // Every reader above gives only values that `memberFields` accepts (a property test holds
  // them to it), so the row is not parsed a second time: at 100,000 rows that would be a
  // sixth of the import's time.
  const cleaned: MemberFields = { phone, ...fields };
  return id === undefined
    ? { ok: true, row, memberId: memberIdFromPhone(phone), memberIdFrom: 'phone', fields: cleaned }
    : { ok: true, row, memberId: id, memberIdFrom: 'column', fields: cleaned };
}

function readAttribute({
  target,
  text,
  value,
  timeZone,
}: {
  target: Extract<ImportTarget, { kind: 'attribute' }>;
  text: string;
  value: unknown;
  timeZone: string;
}): { ok: true; value: AttributeValue } | { ok: false; reason: ImportRowReason } {
  switch (target.type) {
    case 'string':
      return text.length > maxAttributeText ? { ok: false, reason: 'too_long' } : { ok: true, value: text };
    case 'number': {
      const number = typeof value === 'number' ? value : readNumber(text);
      return number === undefined ? { ok: false, reason: 'invalid_number' } : { ok: true, value: number };
    }
    case 'boolean': {
      const bool = typeof value === 'boolean' ? value : readBoolean(text);
      return bool === undefined ? { ok: false, reason: 'invalid_boolean' } : { ok: true, value: bool };
    }
    case 'date': {
      const date = readAttributeDate({ text, timeZone });
      return date === undefined ? { ok: false, reason: 'invalid_date' } : { ok: true, value: date };
    }
  }
}

function byColumnOrder(cells: readonly ImportCell[]): (a: ImportProblem, b: ImportProblem) => number {
  const order = new Map<string, number>();
  cells.forEach((cell, index) => {
    if (!order.has(cell.column)) order.set(cell.column, index);
  });
  return (a, b) => (order.get(a.column) ?? cells.length) - (order.get(b.column) ?? cells.length);
}
