import type { CallbackEvent, DeliveryReceipt, InboundReply, Problem, UndeliveredReason } from '@qunfa/domain';
import * as z from 'zod';
import {
  beijingTime,
  type CallbackReader,
  contentId,
  phoneFromParts,
  problemsOf,
  urlTokenJsonReader,
} from '../callbacks/reader';

// Tencent Cloud SMS callbacks, set per application in the console: 短信下发状态回调 (delivery
// status, a JSON array) and 短信回复回调 (a reply, one JSON object; an array is read too),
// each answered {"result":0,"errmsg":"OK"}.
// Sources: tencentcloud.com/document/product/382/43547 (status), /43548 (reply).
//
// Tencent does not sign them, so the merchant's callback URL carries a secret token
// (`?token=`), compared in constant time. A reply has no id: one is derived from its content,
// the same across Tencent's retries, so the processor applies it once.

const maxItems = 1_000;

const statusItem = z.object({
  user_receive_time: z.string().min(1),
  nationcode: z.string().min(1).max(8),
  mobile: z.string().min(1).max(32),
  report_status: z.enum(['SUCCESS', 'FAIL']),
  errmsg: z.string().min(1).max(100),
  description: z.string().exactOptional(),
  sid: z.string().min(1).max(200),
});
export const tencentStatusCallback = z.array(statusItem).min(1).max(maxItems);
export type TencentStatusCallback = z.infer<typeof tencentStatusCallback>;

const replyItem = z.object({
  extend: z.string().nullish(),
  mobile: z.string().min(1).max(32),
  nationcode: z.string().min(1).max(8),
  sign: z.string().exactOptional(),
  text: z.string().max(2_000),
  time: z.number().int().positive(),
});
export const tencentReplyCallback = z.union([replyItem, z.array(replyItem).min(1).max(maxItems)]);
export type TencentReplyCallback = z.infer<typeof tencentReplyCallback>;

/**
 * Receipt `errmsg`s of failed messages: the SMPP states every gateway shares, and the codes
 * of Tencent's 状态回执错误码 table (cloud.tencent.com/document/product/382/3771) whose
 * meaning is unambiguous. Tencent passes most carriers' codes through (MK:…, MN:…, which mean
 * different things at different gateways): those stay `unknown`, the code kept beside it.
 * Tencent documents its blacklist (用户退订) as a send error (1015), not as a receipt code, so
 * no receipt code here means carrier_opt_out.
 */
const reasonByCode: Readonly<Record<string, UndeliveredReason>> = {
  EXPIRED: 'expired',
  UNDELIV: 'unreachable',
  REJECTD: 'rejected',
  DELETED: 'rejected',
  // 运营商关键字拦截: the carrier blocked the content.
  '-106': 'blocked',
  // 关机/停机/无法接通手机/不在服务区.
  '002': 'unreachable',
};

export function tencentUndeliveredReason(code: string): UndeliveredReason {
  return reasonByCode[code] ?? 'unknown';
}

export function readTencentCallback({
  kind,
  json,
}: {
  kind: 'receipts' | 'replies';
  json: unknown;
}): { ok: true; events: CallbackEvent[] } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const events: CallbackEvent[] = [];
  if (kind === 'receipts') {
    const parsed = tencentStatusCallback.safeParse(json);
    if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
    parsed.data.forEach((item, i) => {
      const phone = phoneFromParts(item.nationcode, item.mobile);
      const at = beijingTime(item.user_receive_time);
      if (!phone) problems.push({ path: `body.${i}.mobile`, message: 'not a phone number with nationcode' });
      if (!at)
        problems.push({ path: `body.${i}.user_receive_time`, message: 'not a time as yyyy-MM-dd HH:mm:ss' });
      if (!phone || !at) return;
      const success = item.report_status === 'SUCCESS';
      const reason = tencentUndeliveredReason(item.errmsg);
      const outcome: Pick<DeliveryReceipt, 'status'> & { reason?: UndeliveredReason } = success
        ? { status: 'delivered' }
        : reason === 'expired'
          ? { status: 'expired', reason }
          : { status: 'failed', reason };
      events.push({
        kind: 'receipt',
        providerMessageId: item.sid,
        phone,
        ...outcome,
        code: item.errmsg,
        at,
        receiptId: `tencent:${item.sid}:${item.report_status}:${item.errmsg}`,
      });
    });
  } else {
    const parsed = tencentReplyCallback.safeParse(json);
    if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
    const items = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
    items.forEach((item, i) => {
      const phone = phoneFromParts(item.nationcode, item.mobile);
      const where = Array.isArray(parsed.data) ? `body.${i}` : 'body';
      if (!phone) {
        problems.push({ path: `${where}.mobile`, message: 'not a phone number with nationcode' });
        return;
      }
      const reply: InboundReply = {
        kind: 'reply',
        phone,
        text: item.text,
        at: new Date(item.time * 1000).toISOString(),
        replyId: contentId('tencent', [phone, item.time, item.text]),
      };
      events.push(reply);
    });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, events };
}

export const tencentCallbackAnswer = {
  status: 200,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify({ result: 0, errmsg: 'OK' }),
} as const;

export const tencentCallbackReader: CallbackReader = urlTokenJsonReader({
  provider: 'tencent',
  read: readTencentCallback,
  answer: tencentCallbackAnswer,
});
