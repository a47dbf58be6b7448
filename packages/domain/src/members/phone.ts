import {
  type CountryCode,
  getCountries,
  Metadata,
  type MetadataJson,
  type PhoneNumber,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
} from 'libphonenumber-js/core';
import generated from './phone-metadata.json';

// Phone numbers on the way in (ARCHITECTURE.md invariant 7): every number is stored in E.164
// and only numbers that can receive an SMS are accepted.
//
// The metadata is libphonenumber-js's `mobile` set, the smallest stock one that tells a
// mobile from a landline (`isValid()` is true for mobile numbers only; the default `min` set
// checks lengths only and accepts +86 120 1234 5678, which no operator issues). Stock, it adds
// 135 KB to a bundle, and the API and importer bundles must stay under 300 KB; so
// phone-metadata.json keeps it for the calling codes of `phoneRegions` only, without the
// formatting rules that parsing never reads: 57 KB with the library code. Where a region does
// not tell the two apart (US, CA: FIXED_LINE_OR_MOBILE) every valid number passes, as with any
// metadata; receipts mark the rare landline `invalid` later.

/**
 * The generated file is checked against the library's own by a unit test, so it is trusted
 * to be metadata; this only makes sure that it is an object of the expected version.
 */
function isMetadata(value: unknown): value is MetadataJson {
  return (
    typeof value === 'object' &&
    value !== null &&
    'version' in value &&
    value.version === 4 &&
    'countries' in value &&
    typeof value.countries === 'object' &&
    'country_calling_codes' in value &&
    typeof value.country_calling_codes === 'object'
  );
}

function loadMetadata(value: unknown): MetadataJson {
  if (!isMetadata(value))
    throw new Error('phone-metadata.json is not libphonenumber-js metadata (version 4).');
  return value;
}

const metadata = loadMetadata(generated);

// biome-ignore format: one line per part of the world
/**
 * The regions whose numbers are read (with every region sharing their calling codes: all of
 * +1, +44 with Jersey and Guernsey, +7 with Kazakhstan…). The members of Chinese retail
 * chains come from Greater China, its neighbours and the countries they travel to and study
 * in; a number from elsewhere is refused as `unsupported_region`. Each region added costs
 * about 0.3 KB of bundle (phone-metadata.json is generated from this list: see
 * test/unit/members/phone-metadata.test.ts).
 */
export const phoneRegions: readonly string[] = [
  // Greater China
  'CN', 'HK', 'MO', 'TW',
  // East, South-East and South Asia
  'JP', 'KR', 'SG', 'MY', 'TH', 'VN', 'PH', 'ID', 'IN',
  // Oceania and North America
  'AU', 'NZ', 'US', 'CA',
  // Europe
  'GB', 'IE', 'FR', 'DE', 'IT', 'ES', 'PT', 'NL', 'BE', 'CH', 'AT', 'SE', 'NO', 'DK', 'FI', 'RU',
  // The Gulf
  'AE', 'SA',
];

/** Why a number was refused, in words a merchant can act on. */
export const phoneRejections = [
  /** Letters, an extension or no digits at all: not a phone number. */
  'not_a_number',
  /** Too few or too many digits for the country (a digit missed or typed twice). */
  'wrong_length',
  /** A real number that cannot receive SMS: a landline, a 400/800 service number. */
  'not_mobile',
  /** The right length but no such number exists (an unallocated prefix). */
  'impossible',
  /** The country calling code, or the tenant's default region, is unknown. */
  'unsupported_region',
] as const;
export type PhoneRejection = (typeof phoneRejections)[number];

export type PhoneNormalization =
  | { readonly ok: true; readonly e164: string }
  | { readonly ok: false; readonly reason: PhoneRejection };

// Separators people and spreadsheets put in numbers once NFKC has folded the full-width
// forms (０-９, ＋, （）, －, ．, the ideographic space and NBSP) to ASCII: spaces, dashes of
// every width, dots, slashes, brackets; zero-width characters come with copy and paste.
const separators = /[\s\u200b-\u200d\u2060\ufeff\-\u2010-\u2015\u2212\ufe63.()[\]/]/g;

/** Removes what is not part of the number; `undefined` when something else is left. */
function cleanPhoneText(raw: string): string | undefined {
  // A leading apostrophe is how Excel keeps a long number from turning into 1.38E+10.
  const folded = /^[\x20-\x7e]*$/.test(raw) ? raw : raw.normalize('NFKC');
  const text = folded.replace(separators, '').replace(/^'/, '');
  return /^\+?\d+$/.test(text) ? text : undefined;
}

/**
 * `raw` in any usual written form → E.164, or the reason it is refused. Numbers without a
 * country code are read in `defaultRegion` (the tenant's, CN unless set); `+86`, `0086` and
 * `86` before an 11-digit Chinese mobile are understood whatever the default region is.
 */
export function normalizePhone({
  raw,
  defaultRegion,
}: {
  raw: string;
  defaultRegion: string;
}): PhoneNormalization {
  const text = cleanPhoneText(raw);
  if (text === undefined) return { ok: false, reason: 'not_a_number' };
  if (text.startsWith('+')) return judge({ text });
  const region = supportedRegion(defaultRegion);
  const national = region === undefined ? undefined : judge({ text, region });
  if (national?.ok) return national;
  // A number written with the international prefix of mainland China (00) or with the
  // country code but no plus (86 138…) reads wrong in the tenant's own region; read it as
  // international before giving up.
  const international = text.startsWith('00')
    ? `+${text.slice(2)}`
    : /^861[3-9]\d{9}$/.test(text)
      ? `+${text}`
      : undefined;
  if (international !== undefined) {
    const retry = judge({ text: international });
    if (retry.ok || national === undefined) return retry;
  }
  return national ?? { ok: false, reason: 'unsupported_region' };
}

let regions: ReadonlyMap<string, CountryCode> | undefined;

function supportedRegion(region: string): CountryCode | undefined {
  regions ??= new Map(getCountries(metadata).map((country) => [country, country]));
  return regions.get(region);
}

function judge({ text, region }: { text: string; region?: CountryCode }): PhoneNormalization {
  const options = region === undefined ? {} : { defaultCountry: region };
  const parsed = parsePhoneNumberFromString(text, options, metadata);
  if (parsed === undefined) {
    const length = validatePhoneNumberLength(text, options, metadata);
    if (length === 'INVALID_COUNTRY') return { ok: false, reason: 'unsupported_region' };
    if (length === 'NOT_A_NUMBER' || length === undefined) return { ok: false, reason: 'not_a_number' };
    return { ok: false, reason: 'wrong_length' };
  }
  if (parsed.isValid()) return { ok: true, e164: parsed.number };
  return { ok: false, reason: whyInvalid(parsed) };
}

function whyInvalid(parsed: PhoneNumber): PhoneRejection {
  // `isPossible()` checks the length only (the typings also list `validateLength()`, which
  // this version does not ship).
  if (!parsed.isPossible()) return 'wrong_length';
  const national = parsed.nationalNumber;
  // Chinese mobiles are 11 digits starting 13–19 and landlines start 10 (Beijing) or 2–9, so
  // a number starting 11–19 that fails is a mistyped or unallocated mobile, not a landline.
  if (parsed.countryCallingCode === '86' && /^1[1-9]/.test(national)) {
    return national.length === 11 ? 'impossible' : 'wrong_length';
  }
  const pattern = parsed.country === undefined ? undefined : numberPattern(parsed.country);
  if (pattern === undefined) return 'impossible';
  return pattern.test(national) ? 'not_mobile' : 'impossible';
}

const patterns = new Map<string, RegExp | undefined>();

/**
 * The pattern every number of the country matches, mobile or not (the `mobile` metadata keeps
 * it): a number that matches it but is no mobile is a landline or a service number. The
 * accessor is not in the library's typings, so it is probed, not assumed.
 */
function numberPattern(country: CountryCode): RegExp | undefined {
  if (patterns.has(country)) return patterns.get(country);
  let pattern: RegExp | undefined;
  const numbering = new Metadata(metadata);
  numbering.selectNumberingPlan(country);
  const plan: unknown = numbering.numberingPlan;
  if (typeof plan === 'object' && plan !== null && 'nationalNumberPattern' in plan) {
    const read = plan.nationalNumberPattern;
    const source: unknown = typeof read === 'function' ? read.call(plan) : undefined;
    if (typeof source === 'string') pattern = new RegExp(`^(?:${source})$`);
  }
  patterns.set(country, pattern);
  return pattern;
}
