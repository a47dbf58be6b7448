import type { SmsProviderId } from '../templates/pricing';

// What a provider's answer to a send means for the message, in five kinds the sender acts
// on (backoff.ts, nextSendStep):
//   accepted   the provider took the message; receipts will tell the rest.
//   throttled  the provider's rate limit: requeue with jitter; never a failure.
//   retryable  a transient fault before the provider accepted: retry with backoff, then fail.
//   permanent  refused for good (number, template, signature, balance …): fail with the reason.
//   ambiguous  the request left and no answer came back, or the provider itself could not
//              tell: it may have been sent, so it is never resent (ARCHITECTURE.md invariant 1).
// The provider adapters turn their HTTP exchanges into a ProviderAnswer; this module knows
// each provider's error codes (from their API references, cited below).

/** One provider exchange, as an adapter reports it. */
export type ProviderAnswer =
  | {
      readonly kind: 'response';
      readonly provider: SmsProviderId;
      readonly httpStatus: number;
      /** The provider's result or error code: `OK`, `isv.MOBILE_NUMBER_ILLEGAL`, `ThrottlingException`, `21211` … */
      readonly code?: string;
      /** A finer reason some providers add (AWS `Reason`: `DESTINATION_PHONE_NUMBER_OPTED_OUT` …). */
      readonly subCode?: string;
      readonly messageId?: string;
      /** From a `Retry-After` header, when the provider sent one. */
      readonly retryAfterMs?: number;
    }
  | {
      readonly kind: 'no_response';
      /**
       * `before_send`: the request never left (DNS, connection refused, TLS, connect timeout).
       * `after_send`: it left, then the answer never came (read timeout, connection reset).
       */
      readonly stage: 'before_send' | 'after_send';
      readonly error: string;
    };

/** Why a send failed for good, in the merchant's words. */
export const permanentReasons = [
  'invalid_phone',
  'opted_out_at_provider',
  'recipient_blocked',
  'recipient_limit',
  'template_rejected',
  'signature_rejected',
  'content_rejected',
  'insufficient_balance',
  'account_quota',
  'not_authorized',
  'bad_request',
  'provider_rejected',
] as const;
export type PermanentReason = (typeof permanentReasons)[number];

export type ProviderOutcome =
  | { readonly kind: 'accepted'; readonly messageId?: string }
  | {
      readonly kind: 'throttled';
      readonly reason: 'rate_limited';
      readonly code?: string;
      readonly retryAfterMs?: number;
    }
  | {
      readonly kind: 'retryable';
      readonly reason: 'provider_error' | 'network_error';
      readonly code?: string;
    }
  | { readonly kind: 'permanent'; readonly reason: PermanentReason; readonly code?: string }
  | {
      readonly kind: 'ambiguous';
      readonly reason: 'no_answer_after_send' | 'provider_timeout';
      readonly code?: string;
    };

type Verdict =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'throttled' }
  | { readonly kind: 'retryable' }
  | { readonly kind: 'ambiguous' }
  | { readonly kind: 'permanent'; readonly reason: PermanentReason };

const accepted: Verdict = { kind: 'accepted' };
const throttled: Verdict = { kind: 'throttled' };
const retryable: Verdict = { kind: 'retryable' };
const ambiguous: Verdict = { kind: 'ambiguous' };
const permanent = (reason: PermanentReason): Verdict => ({ kind: 'permanent', reason });

/**
 * Aliyun SMS (Dysmsapi SendSms / SendBatchSms), error codes of
 * https://help.aliyun.com/document_detail/101346.html. `Throttling.*` is the API gateway's
 * flow control (the account's QPS); `isv.BUSINESS_LIMIT_CONTROL` and `isv.DAY_LIMIT_CONTROL`
 * are per-number limits (so many per minute, hour, day to one phone): waiting seconds does
 * not clear them, so the message fails for that recipient.
 */
const aliyun: Readonly<Record<string, Verdict>> = {
  OK: accepted,
  Throttling: throttled,
  'Throttling.User': throttled,
  'Throttling.Api': throttled,
  'isp.SYSTEM_ERROR': retryable,
  'isp.GATEWAY_ERROR': retryable,
  ServiceUnavailable: retryable,
  InternalError: retryable,
  'isv.MOBILE_NUMBER_ILLEGAL': permanent('invalid_phone'),
  'isv.BUSINESS_LIMIT_CONTROL': permanent('recipient_limit'),
  'isv.DAY_LIMIT_CONTROL': permanent('recipient_limit'),
  'isv.SMS_TEMPLATE_ILLEGAL': permanent('template_rejected'),
  'isv.TEMPLATE_MISSING_PARAMETERS': permanent('template_rejected'),
  'isv.SMS_SIGNATURE_ILLEGAL': permanent('signature_rejected'),
  'isv.SMS_SIGN_NAME_ILLEGAL': permanent('signature_rejected'),
  'isv.BLACK_KEY_CONTROL_LIMIT': permanent('content_rejected'),
  'isv.PARAM_NOT_SUPPORT_URL': permanent('content_rejected'),
  'isv.AMOUNT_NOT_ENOUGH': permanent('insufficient_balance'),
  'isv.OUT_OF_SERVICE': permanent('insufficient_balance'),
  'isp.RAM_PERMISSION_DENY': permanent('not_authorized'),
  'isv.PRODUCT_UN_SUBSCRIPT': permanent('not_authorized'),
  'isv.ACCOUNT_ABNORMAL': permanent('not_authorized'),
  'isv.INVALID_PARAMETERS': permanent('bad_request'),
  'isv.INVALID_JSON_PARAM': permanent('bad_request'),
  'isv.PARAM_LENGTH_LIMIT': permanent('bad_request'),
  'isv.MOBILE_COUNT_OVER_LIMIT': permanent('bad_request'),
};

/**
 * Tencent Cloud SMS (SendSms 2021-01-11), error codes of
 * https://cloud.tencent.com/document/api/382/55981 (section 6). Errors
 * come with HTTP 200; the code decides. `RequestLimitExceeded` is the API's own rate (3,000
 * requests/s); `LimitExceeded.PhoneNumber*` are per-number limits, as Aliyun's.
 */
const tencent: Readonly<Record<string, Verdict>> = {
  Ok: accepted,
  OK: accepted,
  RequestLimitExceeded: throttled,
  'RequestLimitExceeded.UinLimitExceeded': throttled,
  'InternalError.Timeout': ambiguous,
  'InvalidParameterValue.IncorrectPhoneNumber': permanent('invalid_phone'),
  'FailedOperation.PhoneNumberInBlacklist': permanent('recipient_blocked'),
  'FailedOperation.PhoneNumberOnBlacklist': permanent('recipient_blocked'),
  'FailedOperation.TemplateIncorrectOrUnapproved': permanent('template_rejected'),
  'FailedOperation.MissingTemplateToModify': permanent('template_rejected'),
  'FailedOperation.SignatureIncorrectOrUnapproved': permanent('signature_rejected'),
  'FailedOperation.ContainSensitiveWord': permanent('content_rejected'),
  'FailedOperation.InsufficientBalanceInSmsPackage': permanent('insufficient_balance'),
  'LimitExceeded.AppDailyLimit': permanent('account_quota'),
  'LimitExceeded.DailyLimit': permanent('account_quota'),
  'LimitExceeded.AppCountryOrRegionDailyLimit': permanent('account_quota'),
  'LimitExceeded.AppGlobalDailyLimit': permanent('account_quota'),
  'LimitExceeded.AppMainlandChinaDailyLimit': permanent('account_quota'),
  'LimitExceeded.PhoneNumberCountLimit': permanent('bad_request'),
};

/** Tencent code families, when the exact code is not in the table. */
const tencentPrefixes: readonly [string, Verdict][] = [
  ['LimitExceeded.PhoneNumber', permanent('recipient_limit')],
  ['LimitExceeded.DeliveryFrequencyLimit', permanent('recipient_limit')],
  ['InternalError.', retryable],
  ['AuthFailure.', permanent('not_authorized')],
  ['UnauthorizedOperation.', permanent('not_authorized')],
  ['InvalidParameter', permanent('bad_request')],
  ['UnsupportedOperation.', permanent('bad_request')],
];

/**
 * AWS End User Messaging SMS (pinpoint-sms-voice-v2 SendTextMessage), exceptions of
 * https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_SendTextMessage.html.
 * A ConflictException with reason DESTINATION_PHONE_NUMBER_OPTED_OUT is AWS's own opt-out list.
 */
function aws(code: string, subCode: string | undefined): Verdict | undefined {
  switch (code) {
    case 'ThrottlingException':
      return throttled;
    case 'InternalServerException':
      return retryable;
    case 'ConflictException':
      return subCode === 'DESTINATION_PHONE_NUMBER_OPTED_OUT'
        ? permanent('opted_out_at_provider')
        : permanent('bad_request');
    case 'ServiceQuotaExceededException':
      return permanent('account_quota');
    case 'AccessDeniedException':
      return permanent('not_authorized');
    case 'ValidationException':
      return subCode?.includes('PHONE_NUMBER') ? permanent('invalid_phone') : permanent('bad_request');
    case 'ResourceNotFoundException':
      return permanent('bad_request');
    default:
      return undefined;
  }
}

/**
 * Twilio Programmable Messaging, error codes of https://www.twilio.com/docs/api/errors:
 * 20429 too many requests; 21211 invalid To; 21614 To is not a mobile number; 21610 the
 * recipient replied STOP; 21408 sending to that region is not enabled; 20003 bad credentials.
 */
const twilio: Readonly<Record<string, Verdict>> = {
  '20429': throttled,
  '21211': permanent('invalid_phone'),
  '21614': permanent('invalid_phone'),
  '21610': permanent('opted_out_at_provider'),
  '21408': permanent('not_authorized'),
  '20003': permanent('not_authorized'),
};

/**
 * The simulator (packages/providers) and any provider whose code is unknown: judged by the
 * HTTP status, and by a code that names throttling in plain words.
 */
function byStatus(httpStatus: number, code: string | undefined): Verdict {
  if (httpStatus === 429 || (code !== undefined && /throttl|rate.?limit|too.?many/i.test(code)))
    return throttled;
  // A gateway that gave up waiting (504) or got a broken answer (502) may sit in front of a
  // backend that accepted the message: the outcome is not known.
  if (httpStatus === 502 || httpStatus === 504) return ambiguous;
  if (httpStatus === 408) return retryable;
  if (httpStatus >= 500) return retryable;
  if (httpStatus === 401 || httpStatus === 403) return permanent('not_authorized');
  if (httpStatus >= 400) return permanent('bad_request');
  if (httpStatus >= 200 && httpStatus < 300) {
    // A 2xx with no code, or a success word, is acceptance. A 2xx carrying an error code the
    // tables do not know is a refusal: providers only say OK when they accept. It fails with
    // the code kept, rather than being resent on a guess.
    if (code === undefined || /^(ok|success|accepted|sent|queued|0)$/i.test(code)) return accepted;
    return permanent('provider_rejected');
  }
  return permanent('provider_rejected');
}

function verdictOf(answer: Extract<ProviderAnswer, { kind: 'response' }>): Verdict {
  const { provider, httpStatus, code, subCode } = answer;
  if (code !== undefined) {
    const known =
      provider === 'aliyun'
        ? aliyun[code]
        : provider === 'tencent'
          ? (tencent[code] ?? tencentPrefixes.find(([prefix]) => code.startsWith(prefix))?.[1])
          : provider === 'aws'
            ? aws(code, subCode)
            : provider === 'twilio'
              ? twilio[code]
              : undefined;
    if (known) return known;
  }
  return byStatus(httpStatus, code);
}

/** The kind of a provider's answer, with the reason the message record keeps. */
export function classifyProviderAnswer(answer: ProviderAnswer): ProviderOutcome {
  if (answer.kind === 'no_response') {
    return answer.stage === 'before_send'
      ? { kind: 'retryable', reason: 'network_error' }
      : { kind: 'ambiguous', reason: 'no_answer_after_send' };
  }
  const verdict = verdictOf(answer);
  const code = answer.code === undefined ? {} : { code: answer.code };
  switch (verdict.kind) {
    case 'accepted':
      return { kind: 'accepted', ...(answer.messageId === undefined ? {} : { messageId: answer.messageId }) };
    case 'throttled':
      return {
        kind: 'throttled',
        reason: 'rate_limited',
        ...code,
        ...(answer.retryAfterMs === undefined ? {} : { retryAfterMs: answer.retryAfterMs }),
      };
    case 'retryable':
      return { kind: 'retryable', reason: 'provider_error', ...code };
    case 'ambiguous':
      return { kind: 'ambiguous', reason: 'provider_timeout', ...code };
    case 'permanent':
      return { kind: 'permanent', reason: verdict.reason, ...code };
  }
}
