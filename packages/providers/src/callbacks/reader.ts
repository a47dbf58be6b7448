import { createHash, timingSafeEqual } from 'node:crypto';
import type { CallbackEvent, Problem, SmsProviderId } from '@qunfa/domain';
import type * as z from 'zod';

// What every provider's callback reader shares: the request it is given (already routed, the
// body as bytes), what it answers (events, or why it refuses), and small helpers for the
// readers' common chores: JSON and form bodies, token comparison, phone numbers and
// Beijing-time timestamps as the Chinese providers write them.

/** The sub-path of a callback URL, where a provider takes receipts and replies at separate URLs. */
export type CallbackKind = 'receipts' | 'replies';

export interface CallbackRequest {
  readonly provider: SmsProviderId;
  /** The provider account named in the URL (for now the tenant id). */
  readonly account: string;
  /** `/receipts` or `/replies` after the account; undefined for the bare path. */
  readonly kind: CallbackKind | undefined;
  /** The URL exactly as the provider called it, query included (Twilio signs it). */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

/** The answer a provider expects for a callback it may consider delivered. */
export interface CallbackAnswer {
  readonly status: number;
  readonly contentType?: string;
  readonly body?: string;
}

export type CallbackRefusal =
  /** Unsigned, forged, stale or a wrong token: 401. */
  | { readonly refusal: 'unauthorized'; readonly message: string }
  /** The body is not what the provider documents: 400 with every problem. */
  | { readonly refusal: 'invalid'; readonly message: string; readonly problems: readonly Problem[] }
  /** A body in a media type this provider never sends: 415. */
  | { readonly refusal: 'unsupported_media_type'; readonly message: string; readonly expected: string };

export type CallbackReading =
  | {
      readonly ok: true;
      /** May be empty: an intermediate status (Twilio `queued`) is acknowledged and dropped. */
      readonly events: readonly CallbackEvent[];
      /**
       * The callback's own id where the signed body has one (the simulator's): a second
       * callback with the same id is a replay. `signedAt` bounds how long it must be remembered.
       */
      readonly replayKey?: { readonly callbackId: string; readonly signedAt: Date };
      readonly answer: CallbackAnswer;
    }
  | ({ readonly ok: false } & CallbackRefusal);

/** One provider's callbacks: authenticate first, then read the body into events. */
export interface CallbackReader {
  readonly provider: SmsProviderId;
  /** The sub-paths it serves (undefined: the bare `/callbacks/<provider>/<account>`). */
  readonly kinds: readonly (CallbackKind | undefined)[];
  read(input: { request: CallbackRequest; secret: string; now: Date }): CallbackReading;
}

/**
 * Where the callback secrets live: the simulator's signing secret, the token a merchant puts
 * in its Aliyun or Tencent callback URL, its Twilio auth token. One port, so tests supply
 * their own and the deployment reads them from wherever secrets are kept.
 */
export interface CallbackSecrets {
  secretFor(input: { provider: SmsProviderId; account: string }): Promise<string | undefined>;
}

export const unauthorized = (message: string): CallbackReading => ({
  ok: false,
  refusal: 'unauthorized',
  message,
});

export const unsupportedMediaType = (given: string, expected: string): CallbackReading => ({
  ok: false,
  refusal: 'unsupported_media_type',
  message: `Content-Type ${given || '(none)'} is not accepted here; send ${expected}.`,
  expected,
});

export const invalid = (
  problems: readonly Problem[],
  message = 'The callback body is not valid.',
): CallbackReading => ({
  ok: false,
  refusal: 'invalid',
  message,
  problems,
});

/** zod's issues as problems at `body.<path>`. */
export function problemsOf(error: z.ZodError, prefix = 'body'): Problem[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** The body as JSON, or the problem that it is not. */
export function readJson(body: Buffer): { ok: true; value: unknown } | { ok: false; problems: Problem[] } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, problems: [{ path: 'body', message: `not valid JSON: ${detail}` }] };
  }
}

/** The media type of a request, lower case, without parameters. */
export function mediaTypeOf(headers: CallbackRequest['headers']): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Compares a token given in a URL with the expected one in constant time, whatever their lengths. */
export function tokensMatch(given: string | undefined, expected: string): boolean {
  if (given === undefined || given === '') return false;
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** A short stable id for an item the provider gives no id of its own (its retries repeat it). */
export function contentId(prefix: string, parts: readonly (string | number)[]): string {
  const hash = createHash('sha256').update(parts.map(String).join('\u0000'), 'utf8').digest('hex');
  return `${prefix}:${hash.slice(0, 32)}`;
}

/** Full-width digits and plus (１３８…, ＋８６) folded, separators dropped. */
function foldDigits(raw: string): string {
  return raw.normalize('NFKC').replace(/[\s\-().]/g, '');
}

/**
 * A number as the Chinese providers write it: an 11-digit mainland mobile without country
 * code (13812345678), or an international one with its country code but no plus
 * (85212345678); `+` and `00` prefixes are understood too. Undefined when it is not a number.
 */
export function chinaProviderPhone(raw: string): string | undefined {
  const text = foldDigits(raw);
  if (/^1[3-9]\d{9}$/.test(text)) return `+86${text}`;
  const international = text.replace(/^(?:\+|00)/, '');
  return /^[1-9]\d{7,14}$/.test(international) ? `+${international}` : undefined;
}

/** A number given as a country code and a national number (Tencent's nationcode + mobile). */
export function phoneFromParts(countryCode: string, national: string): string | undefined {
  const code = foldDigits(countryCode).replace(/^(?:\+|00)/, '');
  const number = foldDigits(national);
  if (!/^[1-9]\d{0,3}$/.test(code) || !/^\d{4,14}$/.test(number)) return undefined;
  const e164 = `+${code}${number}`;
  return /^\+[1-9]\d{7,14}$/.test(e164) ? e164 : undefined;
}

/** `2017-01-01 00:00:00` in Beijing time (UTC+8, no daylight saving) → ISO 8601 with offset. */
export function beijingTime(raw: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(raw.normalize('NFKC').trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}+08:00`;
  return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

/**
 * The reader of a provider that pushes JSON and signs nothing (Aliyun, Tencent Cloud): the
 * account's secret is a token in the callback URL (`?token=`), compared in constant time,
 * and every callback is answered with the provider's own "received".
 */
export function urlTokenJsonReader({
  provider,
  read,
  answer,
}: {
  provider: SmsProviderId;
  read: (input: {
    kind: CallbackKind;
    json: unknown;
  }) => { ok: true; events: CallbackEvent[] } | { ok: false; problems: Problem[] };
  answer: CallbackAnswer;
}): CallbackReader {
  return {
    provider,
    kinds: ['receipts', 'replies'],
    read({ request, secret }): CallbackReading {
      if (!tokensMatch(request.query.token, secret)) {
        return unauthorized('The callback URL token is missing or wrong for this account.');
      }
      const type = mediaTypeOf(request.headers);
      if (type !== '' && type !== 'application/json' && type !== 'text/plain') {
        return unsupportedMediaType(type, 'application/json');
      }
      const json = readJson(request.body);
      if (!json.ok) return invalid(json.problems);
      const result = read({ kind: request.kind === 'replies' ? 'replies' : 'receipts', json: json.value });
      if (!result.ok) return invalid(result.problems);
      return { ok: true, events: result.events, answer };
    },
  };
}
