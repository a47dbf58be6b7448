import type { Failure, FailureOutcome, FailureScope } from '../port';

// Tencent Cloud SMS codes (Response.Error.Code for a refused call, SendStatusSet[].Code per
// number, "Ok" for success) and what each means for the sender. Source: Tencent Cloud SMS
// "错误码" (cloud.tencent.com/document/api/382/52075) and the common API 3.0 errors. Codes
// not listed fall back by family (the part before the first dot).

interface Meaning {
  readonly outcome: FailureOutcome;
  readonly scope: FailureScope;
  readonly reason: string;
}

const meanings: Readonly<Record<string, Meaning>> = {
  // Rate limits that clear within seconds: requeue with jitter.
  'LimitExceeded.DeliveryFrequencyLimit': {
    outcome: 'throttled',
    scope: 'message',
    reason: 'Tencent Cloud frequency policy hit (下发短信命中了频率限制策略).',
  },
  'LimitExceeded.PhoneNumberThirtySecondLimit': {
    outcome: 'throttled',
    scope: 'message',
    reason: 'Too many messages to this number within 30 seconds.',
  },
  // Per-number and per-app quotas over hours or a day: retrying within the run rarely helps.
  'LimitExceeded.PhoneNumberOneHourLimit': {
    outcome: 'retryable',
    scope: 'message',
    reason: 'Too many messages to this number within one hour (Tencent Cloud frequency policy).',
  },
  'LimitExceeded.PhoneNumberDailyLimit': {
    outcome: 'retryable',
    scope: 'message',
    reason: 'Too many messages to this number today (Tencent Cloud frequency policy).',
  },
  'LimitExceeded.PhoneNumberSameContentDailyLimit': {
    outcome: 'retryable',
    scope: 'message',
    reason: 'This content was sent to this number too often today.',
  },
  'LimitExceeded.AppDailyLimit': {
    outcome: 'retryable',
    scope: 'account',
    reason: 'The daily limit of the SMS application is reached (业务短信日下发条数超过设定的上限).',
  },
  'LimitExceeded.AppMainlandChinaDailyLimit': {
    outcome: 'retryable',
    scope: 'account',
    reason: 'The daily mainland limit of the SMS application is reached.',
  },
  'LimitExceeded.AppGlobalDailyLimit': {
    outcome: 'retryable',
    scope: 'account',
    reason: 'The daily international limit of the SMS application is reached.',
  },
  'LimitExceeded.DailyLimit': {
    outcome: 'retryable',
    scope: 'account',
    reason: 'The daily international limit is reached.',
  },
  'LimitExceeded.PhoneNumberCountLimit': {
    outcome: 'permanent',
    scope: 'batch',
    reason: 'More than 200 numbers in one call.',
  },
  'LimitExceeded.AppCountryOrRegionInBlacklist': {
    outcome: 'permanent',
    scope: 'message',
    reason: "The number's country is not allowed by the application's settings.",
  },
  // Sent to the carrier and timed out there: it may have gone out (Tencent's 60008).
  'InternalError.Timeout': {
    outcome: 'ambiguous',
    scope: 'batch',
    reason: 'Tencent Cloud timed out handing the message on (请求下发短信超时); it may have been sent.',
  },
  'InternalError.SendAndRecvFail': {
    outcome: 'ambiguous',
    scope: 'batch',
    reason: 'Tencent Cloud timed out sending or receiving (接口超时或后短信收发包超时).',
  },
  // This message: the number or the content.
  'InvalidParameterValue.IncorrectPhoneNumber': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'Tencent Cloud refuses the phone number as malformed (手机号格式错误).',
  },
  'FailedOperation.PhoneNumberInBlacklist': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'The number is on the do-not-disturb list: the person unsubscribed or the carrier blocks it.',
  },
  'FailedOperation.ContainSensitiveWord': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'The content contains a sensitive word (短信内容中含有敏感词).',
  },
  'InvalidParameterValue.ContentLengthLimit': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'The content is too long.',
  },
  'FailedOperation.FailResolvePacket': {
    outcome: 'permanent',
    scope: 'batch',
    reason: 'Tencent Cloud could not parse the request (请求包解析失败).',
  },
  'UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber': {
    outcome: 'permanent',
    scope: 'batch',
    reason: 'One call mixes mainland and international numbers.',
  },
  // The account: credentials, balance, signature and template approval.
  'FailedOperation.SignatureIncorrectOrUnapproved': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The signature is not approved or malformed (签名未审批或格式错误).',
  },
  'FailedOperation.TemplateIncorrectOrUnapproved': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The template is not approved or does not match (模板未审批或内容不匹配).',
  },
  'FailedOperation.InsufficientBalanceInSmsPackage': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The SMS package balance is used up (套餐包余量不足).',
  },
  'InvalidParameterValue.SdkAppIdNotExist': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The SmsSdkAppId does not exist.',
  },
  'UnauthorizedOperation.SmsSdkAppIdVerifyFail': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The SmsSdkAppId does not belong to this account.',
  },
  'UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'Individual (non-company) accounts may not send marketing SMS.',
  },
};

const families: Readonly<Record<string, Meaning>> = {
  RequestLimitExceeded: {
    outcome: 'throttled',
    scope: 'account',
    reason: 'Tencent Cloud is throttling API calls.',
  },
  LimitExceeded: {
    outcome: 'throttled',
    scope: 'message',
    reason: 'A Tencent Cloud frequency limit was hit.',
  },
  InternalError: { outcome: 'retryable', scope: 'batch', reason: 'Tencent Cloud internal error; try again.' },
  AuthFailure: { outcome: 'permanent', scope: 'account', reason: 'Tencent Cloud refused the credentials.' },
  UnauthorizedOperation: {
    outcome: 'permanent',
    scope: 'account',
    reason: 'This account may not make this request.',
  },
  MissingParameter: { outcome: 'permanent', scope: 'batch', reason: 'The request misses a parameter.' },
  UnsupportedOperation: {
    outcome: 'permanent',
    scope: 'batch',
    reason: 'Tencent Cloud does not support this request.',
  },
  InvalidParameter: {
    outcome: 'permanent',
    scope: 'batch',
    reason: 'A parameter of the request is malformed.',
  },
  InvalidParameterValue: {
    outcome: 'permanent',
    scope: 'message',
    reason: 'A value of the request is refused.',
  },
  FailedOperation: { outcome: 'permanent', scope: 'message', reason: 'Tencent Cloud refused the message.' },
};

/** What a Tencent Cloud code other than "Ok" means, with the provider's message kept. */
export function tencentFailure({ code, message }: { code: string; message?: string | undefined }): Failure {
  const meaning = meanings[code] ?? families[code.split('.')[0] ?? ''];
  const detail = message ? ` (${message})` : '';
  if (meaning)
    return { outcome: meaning.outcome, scope: meaning.scope, code, reason: `${meaning.reason}${detail}` };
  return {
    outcome: 'permanent',
    scope: 'message',
    code,
    reason: `Tencent Cloud refused the message${detail}.`,
  };
}
