import type { CallbackEvent, DeliveryReceipt, InboundReply, Problem, UndeliveredReason } from '@qunfa/domain';
import * as z from 'zod';
import {
  beijingTime,
  type CallbackReader,
  chinaProviderPhone,
  problemsOf,
  urlTokenJsonReader,
} from '../callbacks/reader';

// Aliyun Dysmsapi "HTTP批量推送模式" callbacks: SmsReport (delivery receipts) and SmsUp
// (inbound replies), each a JSON array POSTed to the URL set in the console, retried
// (1, 5, 10 minutes) until it is answered HTTP 200 with a numeric `code`.
// Sources: help.aliyun.com/document_detail/101867 (SmsReport), /101847 (SmsUp).
//
// Aliyun does not sign these pushes, so the merchant's callback URL carries a secret token
// (`?token=`), compared in constant time. Neither kind has an id of the push itself: a
// replay of an old push is harmless because the processor applies a receipt or a reply once
// (the ids below are the same across Aliyun's retries).

const maxItems = 1_000;

const smsReportItem = z.object({
  phone_number: z.string().min(1),
  send_time: z.string().exactOptional(),
  report_time: z.string().min(1),
  success: z.boolean(),
  err_code: z.string().min(1).max(100),
  err_msg: z.string().exactOptional(),
  sms_size: z.union([z.string(), z.number()]).exactOptional(),
  biz_id: z.string().min(1).max(200),
  out_id: z.string().max(128).nullish(),
});
export const aliyunSmsReport = z.array(smsReportItem).min(1).max(maxItems);
export type AliyunSmsReport = z.infer<typeof aliyunSmsReport>;

const smsUpItem = z.object({
  phone_number: z.string().min(1),
  send_time: z.string().min(1),
  content: z.string().max(2_000),
  sign_name: z.string().exactOptional(),
  dest_code: z.string().exactOptional(),
  // A number in the older document, a string in the newer one.
  sequence_id: z.union([z.string().min(1).max(100), z.number().int().nonnegative()]),
});
export const aliyunSmsUp = z.array(smsUpItem).min(1).max(maxItems);
export type AliyunSmsUp = z.infer<typeof aliyunSmsUp>;

/**
 * SmsReport `err_code`s of failed messages and what they mean for the member. Codes from the
 * Aliyun "短信回执错误码" list; the carriers' raw codes (UNDELIV, MK:…, MN:…) vary by gateway
 * and stay `unknown` beyond the SMPP states every gateway shares.
 */
const reasonByCode: Readonly<Record<string, UndeliveredReason>> = {
  // The number does not exist or cannot take SMS (空号, 号码格式错误, 号码状态异常).
  INVALID_NUMBER: 'invalid_number',
  MOBILE_NUMBER_ILLEGAL: 'invalid_number',
  'isv.MOBILE_NUMBER_ILLEGAL': 'invalid_number',
  // On the carrier's or Aliyun's blacklist, which a member's own 退订 to the carrier puts them on.
  MOBILE_IN_BLACK: 'carrier_opt_out',
  // Switched off, suspended, out of service (停机, 关机, 不在服务区; Aliyun lumps 空号 in
  // MOBILE_NOT_ON_SERVICE too, so it does not mark the number invalid).
  MOBILE_NOT_ON_SERVICE: 'unreachable',
  IS_CLOSE: 'unreachable',
  MOBILE_ACCOUNT_ABNORMAL: 'unreachable',
  // Aliyun's own spelling of 手机终端问题.
  MOBILLE_TERMINAL_ERROR: 'unreachable',
  UNDELIV: 'unreachable',
  // Refused for content or frequency.
  CONTENT_KEYWORD: 'blocked',
  CONTENT_ERROR: 'rejected',
  MOBILE_SEND_LIMIT: 'blocked',
  REJECTD: 'rejected',
  EXPIRED: 'expired',
};

export function aliyunUndeliveredReason(code: string): UndeliveredReason {
  return reasonByCode[code] ?? 'unknown';
}

function receiptOf(
  item: AliyunSmsReport[number],
  index: number,
  problems: Problem[],
): DeliveryReceipt | undefined {
  const phone = chinaProviderPhone(item.phone_number);
  const at = beijingTime(item.report_time);
  if (!phone) problems.push({ path: `body.${index}.phone_number`, message: 'not a phone number' });
  if (!at) problems.push({ path: `body.${index}.report_time`, message: 'not a time as yyyy-MM-dd HH:mm:ss' });
  if (!phone || !at) return undefined;
  const expired = !item.success && item.err_code === 'EXPIRED';
  const outcome: Pick<DeliveryReceipt, 'status'> & { reason?: UndeliveredReason } = item.success
    ? { status: 'delivered' }
    : expired
      ? { status: 'expired', reason: 'expired' }
      : { status: 'failed', reason: aliyunUndeliveredReason(item.err_code) };
  return {
    kind: 'receipt',
    providerMessageId: item.biz_id,
    // OutId is set only on single sends (aliyun/adapter.ts), so it is our reference when present.
    ...(item.out_id ? { reference: item.out_id } : {}),
    phone,
    ...outcome,
    code: item.err_code,
    at,
    // BizId is shared by the numbers of one SendBatchSms call: the phone makes it one message's.
    receiptId: `aliyun:${item.biz_id}:${phone}:${item.err_code}`,
  };
}

function replyOf(item: AliyunSmsUp[number], index: number, problems: Problem[]): InboundReply | undefined {
  const phone = chinaProviderPhone(item.phone_number);
  const at = beijingTime(item.send_time);
  if (!phone) problems.push({ path: `body.${index}.phone_number`, message: 'not a phone number' });
  if (!at) problems.push({ path: `body.${index}.send_time`, message: 'not a time as yyyy-MM-dd HH:mm:ss' });
  if (!phone || !at) return undefined;
  return { kind: 'reply', phone, text: item.content, at, replyId: `aliyun:${item.sequence_id}` };
}

/** SmsReport or SmsUp JSON → events; one bad item refuses the whole push. */
export function readAliyunCallback({
  kind,
  json,
}: {
  kind: 'receipts' | 'replies';
  json: unknown;
}): { ok: true; events: CallbackEvent[] } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const events: CallbackEvent[] = [];
  if (kind === 'receipts') {
    const parsed = aliyunSmsReport.safeParse(json);
    if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
    parsed.data.forEach((item, i) => {
      const event = receiptOf(item, i, problems);
      if (event) events.push(event);
    });
  } else {
    const parsed = aliyunSmsUp.safeParse(json);
    if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
    parsed.data.forEach((item, i) => {
      const event = replyOf(item, i, problems);
      if (event) events.push(event);
    });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, events };
}

/** What Aliyun takes as "received": HTTP 200 and a numeric code (it checks nothing else). */
export const aliyunCallbackAnswer = {
  status: 200,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify({ code: 0, msg: '成功' }),
} as const;

export const aliyunCallbackReader: CallbackReader = urlTokenJsonReader({
  provider: 'aliyun',
  read: readAliyunCallback,
  answer: aliyunCallbackAnswer,
});
