import * as z from 'zod';
import type { Locale } from './formats';

// What makes an SMS legal to send and acceptable to the providers, checked when a template is
// saved and applied when it is rendered:
// - The tenant's signature leads every message: 【品牌】 for zh-CN, as the carriers require
//   (Aliyun and Tencent add it from the approved SignName); `[Brand] ` for en, the form Aliyun
//   uses for English signatures, kept at the start so the inbox preview names the sender.
//   The signature counts towards the length. A body may not carry 【】 itself: carriers read
//   them as a second signature and block the message.
// - Marketing ends with the locale's opt-out text (拒收请回复R, the form Aliyun and Tencent
//   Cloud require at the end of promotional templates; `Reply STOP to opt out` for en), unless
//   the body already ends with one of the accepted forms below.
// - Notifications never carry an opt-out text: Aliyun rejects notification templates that
//   do, and an opt-out line tells the member the message is marketing. A notification body
//   that contains one is rejected at save (not stripped: the merchant should see why, and
//   perhaps make it a marketing template).

export const smsSignature = z
  .string()
  .trim()
  .min(2, 'a signature has 2–20 characters')
  .max(20, 'a signature has 2–20 characters')
  .regex(/^[^\p{Cc}【】[\]]+$/u, 'write the signature without 【】 or [] (they are added for you)');

/** The signature as it leads every message of `locale`. */
export function signaturePrefix({ signature, locale }: { signature: string; locale: Locale }): string {
  return locale === 'zh-CN' ? `【${signature}】` : `[${signature}] `;
}

export const optOutTexts: Record<Locale, string> = {
  'zh-CN': '拒收请回复R',
  en: 'Reply STOP to opt out',
};

/**
 * Endings that already tell the member how to opt out. The reply keywords they name (R, T,
 * TD, STOP) must all be opt-out keywords of the receipt processor: see `optOutKeywordsNamed`.
 */
export const acceptedOptOutForms: Record<Locale, readonly string[]> = {
  'zh-CN': [
    '拒收请回复R',
    '拒收回复R',
    '拒收回R',
    '回R拒收',
    '回复R拒收',
    '回T退订',
    '退订回T',
    '回复T退订',
    '退订回复T',
    '退订请回复T',
    '回TD退订',
    '退订回TD',
    '回复TD退订',
    '退订回复TD',
    '退订请回复TD',
  ],
  en: [
    'Reply STOP to opt out',
    'Reply STOP to opt-out',
    'Reply STOP to unsubscribe',
    'Reply STOP to stop',
    'Reply STOP to cancel',
    'Reply STOP to end',
    'Text STOP to opt out',
    'Text STOP to unsubscribe',
    'Txt STOP to opt out',
    'STOP to opt out',
    'STOP to unsubscribe',
  ],
};

/** The reply keywords the accepted opt-out forms promise to honour. */
export const optOutKeywordsNamed: readonly string[] = ['R', 'T', 'TD', 'STOP'];

// Full-width letters (Ｒ, ＴＤ) and spacing (回 T 退订) do not change what a form says.
const normalized = (text: string): string => text.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
const normalizedForms = {
  'zh-CN': acceptedOptOutForms['zh-CN'].map(normalized),
  en: acceptedOptOutForms.en.map(normalized),
};
const trailingMarks = /[\s。．.!！~～)）」』】\]]+$/u;

/** Whether `text` ends (closing punctuation aside) with an accepted opt-out form of `locale`. */
export function endsWithOptOut({ text, locale }: { text: string; locale: Locale }): boolean {
  const end = normalized(text.replace(trailingMarks, ''));
  return normalizedForms[locale].some((form) => end.endsWith(form));
}

/** The first accepted opt-out form of any locale that `text` contains, as written in the list. */
export function findOptOutForm({ text }: { text: string }): string | undefined {
  const compact = normalized(text);
  for (const locale of ['zh-CN', 'en'] as const) {
    const index = normalizedForms[locale].findIndex((form) => compact.includes(form));
    if (index !== -1) return acceptedOptOutForms[locale][index];
  }
  return undefined;
}

/**
 * What joins a marketing body to its opt-out text. zh-CN: nothing after punctuation, else
 * `，`; en: a space after terminal punctuation, else `. `. After a closing {{link}} always a
 * space, so the text never sticks to the end of the URL.
 */
export function optOutJoiner({
  end,
  afterLink,
  locale,
}: {
  end: string;
  afterLink: boolean;
  locale: Locale;
}): string {
  if (afterLink) return ' ';
  const last = end.trimEnd().at(-1) ?? '';
  if (locale === 'zh-CN') return /[。！？，；：、.!?,;:~～]/.test(last) ? '' : '，';
  return /[.!?]/.test(last) ? ' ' : '. ';
}

// --- raw links -----------------------------------------------------------------------------

// Links belong in {{link}}: tracked, one per message, on the merchant's domain. A raw URL is
// flagged (not changed): it may be a deliberate official site, but it is untracked and
// carriers filter unknown domains.
const stop = '[^\\s，。！？；、“”（）()【】<>"\']';
const urlPattern = new RegExp(
  `(?:https?://|www\\.)${stop}+|\\b[a-z0-9][a-z0-9-]*(?:\\.[a-z0-9-]+)*\\.(?:com|cn|net|org|io|co|me|ly|cc|top|xyz|shop|info|link|app|vip|club|site|online|store|tech|hk)\\b(?:/${stop}*)?`,
  'gi',
);

/** Every URL-looking run in `text`, as written. */
export function findRawUrls({ text }: { text: string }): string[] {
  return [...text.matchAll(urlPattern)].map((match) => match[0]);
}

// --- inbox preview -------------------------------------------------------------------------

/** What an inbox list shows of a message after the signature, in characters (七色米 article). */
export const previewLength = 20;

// A heuristic, not a judgement of the copy: the window "carries the offer" when it holds a
// digit (a price, a date, a discount), a %, a currency sign, or one of these words.
const offerPattern =
  /[0-9０-９%％¥￥$€£]|[折元送赠减券礼]|免费|优惠|特价|红包|秒杀|包邮|半价|积分|福利|\b(?:free|off|sale|deals?|gifts?|bonus|save|discount|coupons?|points?)\b/i;

/** Whether the first `previewLength` characters of `text` (signature excluded) carry an offer. */
export function previewCarriesOffer({ text }: { text: string }): boolean {
  return offerPattern.test(Array.from(text).slice(0, previewLength).join(''));
}
