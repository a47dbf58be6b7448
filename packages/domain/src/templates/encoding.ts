// How many SMS parts a text costs. Providers bill per part and rate limits count parts, so
// this one count feeds the preview, the cost estimate and the sender's rate limiter.
//
// The standard rule (3GPP TS 23.038, used by AWS End User Messaging and Twilio): a text made
// only of GSM-7 characters travels in 7-bit septets, 160 in one SMS or 153 per part of a
// concatenated SMS (the other 7 carry the concatenation header). Anything else travels as
// UCS-2: 70 UTF-16 code units in one SMS, 67 per part. Characters of the GSM extension table
// (€ [ ] { } ~ ^ | \ and form feed) are an escape plus a septet, so they count 2, and the
// pair is never split across parts. An emoji or any character outside the Basic
// Multilingual Plane is a surrogate pair, 2 code units, and is never split across parts
// either: when one unit is left in a part, the pair opens the next part and that unit stays
// empty. Only surrogate pairs are kept whole; a sequence joined by U+200D (👨‍👩‍👧) may break
// between its code points, as handsets that reassemble the parts expect.
//
// Mainland Chinese carriers, through Aliyun and Tencent Cloud, count differently: every
// character counts 1 whatever the encoding (an emoji 2), 70 in one SMS and 67 per part, the
// signature and its 【】 included. Source: the providers' "短信内容长度计算规则".

export type SmsEncoding = 'gsm7' | 'ucs2';

/** `standard` is 3GPP GSM-7 or UCS-2; `china` is the mainland 70/67 rule of Aliyun and Tencent Cloud. */
export type CountingRule = 'standard' | 'china';

export interface MessageSize {
  /** What the handset receives: GSM-7 when every character is in the GSM tables, else UCS-2. */
  readonly encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2 and the china rule): what the limits count. */
  readonly units: number;
  /** Parts the provider bills; never fewer than 1. */
  readonly parts: number;
  /** The limit of a single SMS: 160 or 70. */
  readonly singleLimit: number;
  /** The limit of each part of a long SMS: 153 or 67. */
  readonly partLimit: number;
}

/** The GSM 03.38 basic table, in code order (0x1B, the escape to the extension table, left out). */
export const gsmBasicCharacters =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** The GSM 03.38 extension table: each one is sent as ESC + a septet, so it counts 2. */
export const gsmExtensionCharacters = '\f^{}\\[~]|€';

const limits = {
  gsm7: { single: 160, part: 153 },
  ucs2: { single: 70, part: 67 },
} as const;

// One byte per UTF-16 code unit: 0 outside GSM-7, else the septets it takes. A 64 KiB table
// makes detection one array read per character on the sender's hot path.
const NOT_GSM = 0;
const septetsOf = new Uint8Array(0x10000);
for (const char of gsmBasicCharacters) septetsOf[char.charCodeAt(0)] = 1;
for (const char of gsmExtensionCharacters) septetsOf[char.charCodeAt(0)] = 2;

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** Whether every character of `text` is in the GSM-7 basic or extension table. */
export function isGsm7({ text }: { text: string }): boolean {
  for (let i = 0; i < text.length; i++) {
    if (septetsOf[text.charCodeAt(i)] === NOT_GSM) return false;
  }
  return true;
}

/** The distinct characters of `text` that force UCS-2, in order of appearance. */
export function nonGsmCharacters({ text }: { text: string }): string[] {
  const found = new Set<string>();
  for (const char of text) {
    if (char.length > 1 || septetsOf[char.charCodeAt(0)] === NOT_GSM) found.add(char);
  }
  return [...found];
}

/** The width of the unit starting at `i`: septets for GSM-7, code units otherwise (a whole pair). */
function widthAt(text: string, i: number, gsm: boolean): number {
  const code = text.charCodeAt(i);
  if (gsm) return septetsOf[code] ?? 1;
  return isHighSurrogate(code) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1)) ? 2 : 1;
}

function hasSurrogatePair(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isHighSurrogate(text.charCodeAt(i))) return true;
  return false;
}

/** Greedy packing: a unit that does not fit in what is left of a part opens the next one. */
function packedParts(text: string, gsm: boolean, partLimit: number): number {
  let parts = 1;
  let used = 0;
  for (let i = 0; i < text.length; ) {
    const width = widthAt(text, i, gsm);
    if (used + width > partLimit) {
      parts++;
      used = 0;
    }
    used += width;
    // A surrogate pair is one unit of width 2 but two code units in the string.
    i += gsm ? 1 : width;
  }
  return parts;
}

/** Encoding, length and parts of `text` as the provider counts them. */
export function measureMessage({
  text,
  rule = 'standard',
}: {
  text: string;
  rule?: CountingRule;
}): MessageSize {
  let septets = 0;
  let escapes = 0;
  let gsm = true;
  for (let i = 0; i < text.length; i++) {
    const width = septetsOf[text.charCodeAt(i)] ?? NOT_GSM;
    if (width === NOT_GSM) {
      gsm = false;
      break;
    }
    septets += width;
    if (width === 2) escapes++;
  }
  const encoding: SmsEncoding = gsm ? 'gsm7' : 'ucs2';
  const counted = rule === 'china' ? limits.ucs2 : limits[encoding];
  const countsSeptets = gsm && rule === 'standard';
  const units = countsSeptets ? septets : text.length;
  let parts: number;
  if (units <= counted.single) parts = 1;
  else if (countsSeptets && escapes === 0) parts = Math.ceil(units / counted.part);
  else if (!countsSeptets && !hasSurrogatePair(text)) parts = Math.ceil(units / counted.part);
  else parts = packedParts(text, countsSeptets, counted.part);
  return { encoding, units, parts, singleLimit: counted.single, partLimit: counted.part };
}

/**
 * `text` cut into the parts a provider sends, by the same rule `measureMessage` counts with:
 * `splitMessage(...).length === measureMessage(...).parts` for every text.
 */
export function splitMessage({ text, rule = 'standard' }: { text: string; rule?: CountingRule }): string[] {
  const size = measureMessage({ text, rule });
  if (size.parts === 1) return [text];
  const countsSeptets = size.encoding === 'gsm7' && rule === 'standard';
  const parts: string[] = [];
  let start = 0;
  let used = 0;
  for (let i = 0; i < text.length; ) {
    const width = widthAt(text, i, countsSeptets);
    if (used + width > size.partLimit) {
      parts.push(text.slice(start, i));
      start = i;
      used = 0;
    }
    used += width;
    i += countsSeptets ? 1 : width;
  }
  parts.push(text.slice(start));
  return parts;
}
