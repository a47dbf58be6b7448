// Phone numbers are personal data (ARCHITECTURE.md invariant 7): every log line passes
// through these before it is written.

// ITU-T E.164 calling codes are prefix-free: 1 and 7 are the one-digit codes, these are the
// two-digit ones, and every other code is three digits. This line stands in for
// libphonenumber-js, whose metadata would add 80–120 KB to every Lambda bundle: the log
// formatter is in all of them.
const shortCallingCode = /^(?:[17]|2[07]|3[0-469]|4[013-9]|5[1-8]|6[0-6]|8[1246]|9[0-58])/;

/** The calling code an international number's digits start with (`852` for `85212345678`). */
function callingCodeOf(digits: string): string {
  if (digits.startsWith('0')) return '';
  return shortCallingCode.exec(digits)?.[0] ?? digits.slice(0, 3);
}

const decimalDigit = /\p{Nd}/u;

/** The ASCII value of a decimal digit of any script (`５` and `٥` are `5`). */
function asciiDigit(char: string): string {
  if (char >= '0' && char <= '9') return char;
  // Unicode encodes the digits of every script as runs of ten code points, 0 to 9.
  const code = char.codePointAt(0) ?? 0;
  let start = code;
  while (start > 0 && decimalDigit.test(String.fromCodePoint(start - 1))) start -= 1;
  return String((code - start) % 10);
}

function digitsOf(text: string): string {
  return Array.from(text.matchAll(/\p{Nd}/gu), ([char]) => asciiDigit(char)).join('');
}

/**
 * `+8613812345678` → `+86*******5678`: keeps the calling code of an international number and
 * the last four digits, and drops the separators.
 */
export function maskPhone(phone: string): string {
  const digits = digitsOf(phone);
  if (digits.length <= 4) return '*'.repeat(digits.length);
  const international = /^\s*[+\uFF0B]/.test(phone);
  const callingCode = international ? callingCodeOf(digits) : '';
  const national = digits.slice(callingCode.length);
  const kept = national.length > 4 ? national.slice(-4) : '';
  return `${international ? '+' : ''}${callingCode}${'*'.repeat(national.length - kept.length)}${kept}`;
}

const digit = String.raw`\p{Nd}`;
const hex = '[0-9A-Fa-f]';
// What people and spreadsheets put between the groups of a number: a space (also no-break
// and ideographic), a dash (also the typographic and full-width ones) or a dot before three
// digits or more (`202.555.0123`; the dot of an amount, `1234567.50`, ends the number).
const separator = String.raw`(?:[ \u00A0\u3000\-\u2010\u2011\u2012\u2013\uFF0D]|\.(?=${digit}{3}))`;
// An area code in parentheses, `(202)` or `（138）`.
const unit = String.raw`(?:${digit}|[(\uFF08]${digit}{1,5}[)\uFF09])`;
// Identifiers that hold long runs of digits but never a phone number, matched only to be kept
// whole: UUIDs and X-Ray trace ids (the request ids of every log line), IPv4 addresses.
const identifier = [
  `(?<!${hex})(?:${hex}{8}(?:-${hex}{4}){3}-${hex}{12}|1-${hex}{8}-${hex}{24})(?!${hex})`,
  String.raw`(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!${digit}|\.${digit})`,
].join('|');

// A number is a run of digits wherever it stands: glued to letters, other digits, `_` or `+`
// too, since a log line is not prose (`tel13812345678`, `0+8613812345678`). A run that starts
// with `+` is international.
const phonePattern = new RegExp(`(${identifier})|[+\uFF0B]?${unit}(?:${separator}?${unit})+`, 'gu');

// An ISO 8601 date followed by its time (`2026-11-23T08:00`, `20261123T080000Z`) is a
// timestamp, not a number.
const isoDate = /^\d{4}-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])$/;

/**
 * Masks every phone-like number in free text: any run of eight or more digits, with the
 * separators people write. Over-masking (an order number, a date) is the safe side of
 * invariant 7; ISO timestamps, UUIDs, X-Ray trace ids and IPv4 addresses are left whole.
 */
export function maskPhonesInText(text: string): string {
  return text.replace(phonePattern, (match: string, identifier: string | undefined, offset: number) => {
    if (identifier !== undefined || digitsOf(match).length < 8) return match;
    const end = offset + match.length;
    if (isoDate.test(match) && text[end] === 'T' && /\d/.test(text[end + 1] ?? '')) return match;
    // …and the time after it (`T093000000Z` of a run id such as `run_20261123T093000000Z`).
    if (text[offset - 1] === 'T' && isoDate.test(text.slice(Math.max(0, offset - 9), offset - 1)))
      return match;
    return maskPhone(match);
  });
}

/** How deep maskPhonesDeep walks; anything deeper is written as `[Truncated]`, never unmasked. */
const maxDepth = 8;

/**
 * A JSON-ready deep copy of a log payload with every phone-like string, number and key
 * masked. Dates become ISO strings, Maps and Sets arrays of their entries and values, and
 * errors keep their cause and own fields (the AWS SDK's `$metadata`).
 */
export function maskPhonesDeep(value: unknown): unknown {
  return maskValue(value, 0, new WeakSet());
}

/** `ancestors` holds the objects on the path from the root: meeting one again is a cycle. */
function maskValue(value: unknown, depth: number, ancestors: WeakSet<object>): unknown {
  switch (typeof value) {
    case 'string':
      return maskPhonesInText(value);
    case 'bigint':
      return maskPhonesInText(value.toString());
    case 'number':
      // A phone number stored as a number (`13812345678` from a spreadsheet) is eight digits or more.
      return Number.isInteger(value) && Math.abs(value) >= 1e7 ? maskPhonesInText(String(value)) : value;
    case 'object':
      if (value === null) return value;
      return maskObject(value, depth, ancestors);
    default:
      return value;
  }
}

function maskObject(value: object, depth: number, ancestors: WeakSet<object>): unknown {
  if (ancestors.has(value)) return '[Circular]';
  if (depth > maxDepth) return '[Truncated]';
  ancestors.add(value);
  try {
    const next = (item: unknown): unknown => maskValue(item, depth + 1, ancestors);
    if ('toJSON' in value && typeof value.toJSON === 'function') {
      // One level deeper, so that a toJSON returning a fresh object with its own toJSON ends.
      const json = jsonOf(value, value.toJSON);
      return json === value ? maskEntries(Object.entries(value), next) : next(json);
    }
    if (Array.isArray(value)) return value.map(next);
    if (value instanceof Map) return Array.from(value, ([key, item]) => [next(key), next(item)]);
    if (value instanceof Set) return Array.from(value, next);
    if (value instanceof Error) return maskEntries(errorEntries(value), next);
    return maskEntries(Object.entries(value), next);
  } finally {
    ancestors.delete(value);
  }
}

/** What JSON.stringify writes for `value`; `value` itself if its toJSON throws: logging never throws. */
function jsonOf(value: object, toJSON: Parameters<typeof Reflect.apply>[0]): unknown {
  try {
    return Reflect.apply(toJSON, value, ['']);
  } catch {
    return value;
  }
}

/** What Powertools writes for an error (name, message, stack, cause, own fields), and AggregateError's errors. */
function errorEntries(error: Error): [string, unknown][] {
  const standard = ['name', 'message', 'stack', 'cause'];
  return [
    ['name', error.name],
    ['message', error.message],
    ['stack', error.stack],
    ...(error.cause === undefined ? [] : [['cause', error.cause] satisfies [string, unknown]]),
    ...(error instanceof AggregateError ? [['errors', error.errors] satisfies [string, unknown]] : []),
    ...Object.entries(error).filter(([key]) => !standard.includes(key)),
  ];
}

function maskEntries(
  entries: [string, unknown][],
  next: (item: unknown) => unknown,
): Record<string, unknown> {
  const keys = new Set<string>();
  const masked = entries.map(([key, item]): [string, unknown] => {
    // Two numbers that differ only in their hidden digits mask to the same key: number the
    // later ones so that no value is dropped.
    const base = maskPhonesInText(key);
    let unique = base;
    for (let n = 2; keys.has(unique); n++) unique = `${base} (${n})`;
    keys.add(unique);
    return [unique, next(item)];
  });
  // fromEntries defines own properties, so a `__proto__` key stays a key.
  return Object.fromEntries(masked);
}
