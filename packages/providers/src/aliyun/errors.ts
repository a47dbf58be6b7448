import type { Failure, FailureOutcome, FailureScope } from '../port';

// Dysmsapi answer codes (Code in the body; "OK" is success) and what each means for the
// sender. Source: Alibaba Cloud SMS "API错误码" (help.aliyun.com/document_detail/101346) and the
// common RPC errors. Codes not listed fall back by prefix: isp.* is the platform's own
// trouble (retry), anything else refuses the request.

interface Meaning {
  readonly outcome: FailureOutcome;
  readonly scope: FailureScope;
  readonly reason: string;
}

const meanings: Readonly<Record<string, Meaning>> = {
  // Flow control: the per-number frequency limits and the API's QPS limit.
  'isv.BUSINESS_LIMIT_CONTROL': {
    outcome: 'throttled',
    scope: 'message',
    reason: 'Aliyun flow control (触发业务流控): too many messages to this number or too fast.',
  },
  Throttling: { outcome: 'throttled', scope: 'account', reason: 'Aliyun is throttling API calls.' },
  'Throttling.User': { outcome: 'throttled', scope: 'account', reason: 'Aliyun is throttling this account.' },
  'Throttling.Api': { outcome: 'throttled', scope: 'account', reason: 'Aliyun is throttling this API.' },
  // Quotas the merchant set in the console: nothing more leaves until they reset or rise.
  'isv.DAY_LIMIT_CONTROL': {
    outcome: 'retryable',
    scope: 'account',
    reason: 'The daily sending limit set in the Aliyun console is reached (触发日发送限额).',
  },
  'isv.MONTH_LIMIT_CONTROL': {
    outcome: 'retryable',
    scope: 'account',
    reason: 'The monthly sending limit set in the Aliyun console is reached (触发月发送限额).',
  },
  // The platform's own failures.
  'isp.SYSTEM_ERROR': { outcome: 'retryable', scope: 'batch', reason: 'Aliyun system error; try again.' },
  'isp.GATEWAY_ERROR': { outcome: 'retryable', scope: 'batch', reason: 'Aliyun gateway error; try again.' },
  InternalError: { outcome: 'retryable', scope: 'batch', reason: 'Aliyun internal error; try again.' },
  ServiceUnavailable: { outcome: 'retryable', scope: 'batch', reason: 'Aliyun is unavailable; try again.' },
  SignatureNonceUsed: {
    outcome: 'retryable',
    scope: 'batch',
    reason: 'The signature nonce was used before; the request was not processed.',
  },
  // This message: its number or its content.
  'isv.MOBILE_NUMBER_ILLEGAL': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'Aliyun refuses the phone number as malformed (手机号码格式错误).',
  },
  'isv.DOMESTIC_NUMBER_NOT_SUPPORTED': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'An international template cannot be sent to a mainland number.',
  },
  'isv.TEMPLATE_MISSING_PARAMETERS': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'A template variable has no value (模板变量缺少对应参数值).',
  },
  'isv.INVALID_JSON_PARAM': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'The template variables are not valid JSON string values.',
  },
  'isv.PARAM_LENGTH_LIMIT': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'A template variable is longer than Aliyun allows (参数超出长度限制).',
  },
  'isv.PARAM_NOT_SUPPORT_URL': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'A template variable carries a URL, which Aliyun does not allow.',
  },
  'isv.BLACK_KEY_CONTROL_LIMIT': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'A template variable contains a word Aliyun blocks (黑名单管控).',
  },
  'isv.SMS_CONTENT_ILLEGAL': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'The content contains words that may not be sent (短信内容包含禁止发送内容).',
  },
  'isv.INVALID_PARAMETERS': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'Aliyun refuses a parameter of the request (参数异常).',
  },
  'isv.MOBILE_COUNT_OVER_LIMIT': {
    outcome: 'permanent',
    scope: 'batch',
    reason: 'Too many numbers in one call.',
  },
  // The account: credentials, money, signature and template approval.
  'isv.SMS_TEMPLATE_ILLEGAL': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The template code is not approved for this account (模板不合法).',
  },
  'isv.SMS_SIGNATURE_ILLEGAL': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The signature is not approved for this account (签名不合法).',
  },
  'isv.SMS_SIGN_ILLEGAL': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The signature may not be used (签名禁止使用).',
  },
  'isv.SIGN_STATE_ILLEGAL': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The signature is unavailable (签名状态为不可用).',
  },
  'isv.SMS_SIGNATURE_SCENE_ILLEGAL': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The signature type does not allow this template type (签名和模板类型不一致).',
  },
  'isv.EXTEND_CODE_ERROR': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The same extension code is used for several signatures.',
  },
  'isv.AMOUNT_NOT_ENOUGH': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The Aliyun account balance is too low (账户余额不足).',
  },
  'isv.OUT_OF_SERVICE': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The Aliyun account is suspended for lack of balance (业务停机).',
  },
  'isv.PRODUCT_UN_SUBSCRIPT': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'SMS is not activated on this Aliyun account.',
  },
  'isv.PRODUCT_UNSUBSCRIBE': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'SMS is not activated on this Aliyun account.',
  },
  'isv.ACCOUNT_NOT_EXISTS': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The Aliyun account does not exist.',
  },
  'isv.ACCOUNT_ABNORMAL': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The Aliyun account is abnormal.',
  },
  'isv.DENY_IP_RANGE': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'Aliyun refuses requests from this IP region (源IP地址所在的地区被禁用).',
  },
  'isp.RAM_PERMISSION_DENY': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The RAM user lacks the AliyunDysmsFullAccess permission.',
  },
  SignatureDoesNotMatch: {
    outcome: 'permanent',
    scope: 'account',
    reason: 'Aliyun refused the request signature: check the AccessKey secret.',
  },
  'InvalidAccessKeyId.NotFound': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The AccessKey id does not exist.',
  },
  'InvalidTimeStamp.Expired': {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The request timestamp is too far from Aliyun time: check the clock.',
  },
};

/** What a non-OK Dysmsapi code means, with the provider's message kept. */
export function aliyunFailure({ code, message }: { code: string; message?: string | undefined }): Failure {
  const known = meanings[code];
  const detail = message && message !== code ? ` (${message})` : '';
  if (known) return { outcome: known.outcome, scope: known.scope, code, reason: `${known.reason}${detail}` };
  if (code.startsWith('isp.'))
    return { outcome: 'retryable', scope: 'batch', code, reason: `Aliyun platform error${detail}.` };
  if (code.startsWith('Throttling'))
    return { outcome: 'throttled', scope: 'account', code, reason: `Aliyun is throttling${detail}.` };
  return { outcome: 'permanent', scope: 'message', code, reason: `Aliyun refused the message${detail}.` };
}
