import { classifyProviderAnswer, type ProviderAnswer, type ProviderOutcome } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

// What each provider's answer means for the message. Codes are the providers' own, from the
// API references cited in packages/domain/src/sending/provider-outcome.ts.

type Response = Extract<ProviderAnswer, { kind: 'response' }>;
const response = (answer: Omit<Response, 'kind'>): ProviderAnswer => ({ kind: 'response', ...answer });

describe('classifyProviderAnswer', () => {
  it.each<[string, ProviderAnswer, ProviderOutcome]>([
    // Aliyun: errors as a Code in the body.
    [
      'Aliyun OK',
      response({ provider: 'aliyun', httpStatus: 200, code: 'OK', messageId: 'biz-1' }),
      { kind: 'accepted', messageId: 'biz-1' },
    ],
    [
      'Aliyun API flow control',
      response({ provider: 'aliyun', httpStatus: 400, code: 'Throttling.User' }),
      { kind: 'throttled', reason: 'rate_limited', code: 'Throttling.User' },
    ],
    [
      'Aliyun system error',
      response({ provider: 'aliyun', httpStatus: 200, code: 'isp.SYSTEM_ERROR' }),
      { kind: 'retryable', reason: 'provider_error', code: 'isp.SYSTEM_ERROR' },
    ],
    [
      'Aliyun bad number',
      response({ provider: 'aliyun', httpStatus: 200, code: 'isv.MOBILE_NUMBER_ILLEGAL' }),
      { kind: 'permanent', reason: 'invalid_phone', code: 'isv.MOBILE_NUMBER_ILLEGAL' },
    ],
    [
      'Aliyun per-number limit',
      response({ provider: 'aliyun', httpStatus: 200, code: 'isv.BUSINESS_LIMIT_CONTROL' }),
      { kind: 'permanent', reason: 'recipient_limit', code: 'isv.BUSINESS_LIMIT_CONTROL' },
    ],
    [
      'Aliyun balance',
      response({ provider: 'aliyun', httpStatus: 200, code: 'isv.AMOUNT_NOT_ENOUGH' }),
      { kind: 'permanent', reason: 'insufficient_balance', code: 'isv.AMOUNT_NOT_ENOUGH' },
    ],
    [
      'Aliyun unapproved template',
      response({ provider: 'aliyun', httpStatus: 200, code: 'isv.SMS_TEMPLATE_ILLEGAL' }),
      { kind: 'permanent', reason: 'template_rejected', code: 'isv.SMS_TEMPLATE_ILLEGAL' },
    ],
    // Tencent Cloud: HTTP 200 always; the code decides.
    ['Tencent Ok', response({ provider: 'tencent', httpStatus: 200, code: 'Ok' }), { kind: 'accepted' }],
    [
      'Tencent API rate',
      response({ provider: 'tencent', httpStatus: 200, code: 'RequestLimitExceeded' }),
      { kind: 'throttled', reason: 'rate_limited', code: 'RequestLimitExceeded' },
    ],
    [
      'Tencent per-number limit (by family)',
      response({ provider: 'tencent', httpStatus: 200, code: 'LimitExceeded.PhoneNumberOneHourLimit' }),
      { kind: 'permanent', reason: 'recipient_limit', code: 'LimitExceeded.PhoneNumberOneHourLimit' },
    ],
    [
      'Tencent internal error (by family)',
      response({ provider: 'tencent', httpStatus: 200, code: 'InternalError.SdkAppIdInternal' }),
      { kind: 'retryable', reason: 'provider_error', code: 'InternalError.SdkAppIdInternal' },
    ],
    [
      'Tencent internal timeout',
      response({ provider: 'tencent', httpStatus: 200, code: 'InternalError.Timeout' }),
      { kind: 'ambiguous', reason: 'provider_timeout', code: 'InternalError.Timeout' },
    ],
    [
      'Tencent blacklisted number',
      response({ provider: 'tencent', httpStatus: 200, code: 'FailedOperation.PhoneNumberInBlacklist' }),
      { kind: 'permanent', reason: 'recipient_blocked', code: 'FailedOperation.PhoneNumberInBlacklist' },
    ],
    // AWS End User Messaging SMS: exceptions by name, with a reason.
    [
      'AWS throttling',
      response({ provider: 'aws', httpStatus: 400, code: 'ThrottlingException' }),
      { kind: 'throttled', reason: 'rate_limited', code: 'ThrottlingException' },
    ],
    [
      'AWS opt-out list',
      response({
        provider: 'aws',
        httpStatus: 400,
        code: 'ConflictException',
        subCode: 'DESTINATION_PHONE_NUMBER_OPTED_OUT',
      }),
      { kind: 'permanent', reason: 'opted_out_at_provider', code: 'ConflictException' },
    ],
    [
      'AWS internal error',
      response({ provider: 'aws', httpStatus: 500, code: 'InternalServerException' }),
      { kind: 'retryable', reason: 'provider_error', code: 'InternalServerException' },
    ],
    [
      'AWS spend limit',
      response({ provider: 'aws', httpStatus: 402, code: 'ServiceQuotaExceededException' }),
      { kind: 'permanent', reason: 'account_quota', code: 'ServiceQuotaExceededException' },
    ],
    // Twilio: numeric codes.
    [
      'Twilio 20429',
      response({ provider: 'twilio', httpStatus: 429, code: '20429', retryAfterMs: 1000 }),
      { kind: 'throttled', reason: 'rate_limited', code: '20429', retryAfterMs: 1000 },
    ],
    [
      'Twilio invalid To',
      response({ provider: 'twilio', httpStatus: 400, code: '21211' }),
      { kind: 'permanent', reason: 'invalid_phone', code: '21211' },
    ],
    [
      'Twilio unsubscribed recipient',
      response({ provider: 'twilio', httpStatus: 400, code: '21610' }),
      { kind: 'permanent', reason: 'opted_out_at_provider', code: '21610' },
    ],
    [
      'Twilio created',
      response({ provider: 'twilio', httpStatus: 201, messageId: 'SM123' }),
      { kind: 'accepted', messageId: 'SM123' },
    ],
    // The simulator, and codes no table knows: the HTTP status decides.
    ['simulator 200', response({ provider: 'simulator', httpStatus: 200 }), { kind: 'accepted' }],
    [
      'simulator 429',
      response({ provider: 'simulator', httpStatus: 429, code: 'throttled' }),
      { kind: 'throttled', reason: 'rate_limited', code: 'throttled' },
    ],
    [
      'simulator 503',
      response({ provider: 'simulator', httpStatus: 503 }),
      { kind: 'retryable', reason: 'provider_error' },
    ],
    [
      'a gateway timeout (504): the backend may have accepted it',
      response({ provider: 'simulator', httpStatus: 504 }),
      { kind: 'ambiguous', reason: 'provider_timeout' },
    ],
    [
      'a bad gateway (502)',
      response({ provider: 'twilio', httpStatus: 502 }),
      { kind: 'ambiguous', reason: 'provider_timeout' },
    ],
    [
      'an unknown error code with 200',
      response({ provider: 'aliyun', httpStatus: 200, code: 'isv.SOMETHING_NEW' }),
      { kind: 'permanent', reason: 'provider_rejected', code: 'isv.SOMETHING_NEW' },
    ],
    [
      'a 403',
      response({ provider: 'simulator', httpStatus: 403 }),
      { kind: 'permanent', reason: 'not_authorized' },
    ],
    // No answer at all.
    [
      'connection refused before the request left',
      { kind: 'no_response', stage: 'before_send', error: 'ECONNREFUSED' },
      { kind: 'retryable', reason: 'network_error' },
    ],
    [
      'a read timeout after the request left',
      { kind: 'no_response', stage: 'after_send', error: 'ETIMEDOUT' },
      { kind: 'ambiguous', reason: 'no_answer_after_send' },
    ],
  ])('%s', (_, answer, expected) => {
    expect(classifyProviderAnswer(answer)).toEqual(expected);
  });
});
