// Phone numbers are personal data (ARCHITECTURE.md invariant 7): every log line passes
// through these before it is written.

/** `+8613812345678` → `+86*******5678`: keeps the country code and the last four digits. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length <= 4) return '*'.repeat(digits.length);
  const keep = digits.slice(-4);
  const country = phone.trim().startsWith('+') ? `+${digits.slice(0, digits.length > 11 ? 2 : 1)}` : '';
  const hidden = digits.length - keep.length - (country ? country.length - 1 : 0);
  return `${country}${'*'.repeat(Math.max(hidden, 0))}${keep}`;
}

// E.164 (+ and 8–15 digits) and bare Chinese mobiles (1[3-9] and nine digits, optionally
// prefixed 86/0086), wherever they stand in a string, with optional spaces or dashes.
const phonePattern = /(?<![\w+])(?:\+|00)?(?:\d[ -]?){7,14}\d(?!\w)/g;

/** Masks every phone-like run of digits in free text. */
export function maskPhonesInText(text: string): string {
  return text.replace(phonePattern, (match) =>
    match.replace(/\D/g, '').length >= 8 ? maskPhone(match) : match,
  );
}

/** Deep copy of a log payload with every phone-like string masked. */
export function maskPhonesDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhonesInText(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => maskPhonesDeep(item, depth + 1));
  if (value instanceof Error) {
    return {
      name: value.name,
      message: maskPhonesInText(value.message),
      stack: value.stack && maskPhonesInText(value.stack),
    };
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = maskPhonesDeep(item, depth + 1);
  return out;
}
