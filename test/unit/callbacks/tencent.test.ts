import { readTencentCallback, tencentCallbackReader, tencentUndeliveredReason } from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import { callbackFixture, callbackJson, callbackRequest } from './support';

// Tencent Cloud SMS 短信下发状态回调 and 短信回复回调 (tencentcloud.com/document/product/382/43547, /43548).

const token = 'tencent-url-token-0123456789';
const now = new Date('2016-03-07T07:50:00Z');

describe('Tencent Cloud callbacks', () => {
  describe('status callback', () => {
    it('reads the documented statuses into receipts, an EXPIRED one as expired', () => {
      expect(
        readTencentCallback({ kind: 'receipts', json: callbackJson('tencent', 'status-callback') }),
      ).toEqual({
        ok: true,
        events: [
          {
            kind: 'receipt',
            providerMessageId: '2019:538884*********',
            phone: '+8613711112222',
            status: 'delivered',
            code: 'DELIVRD',
            at: '2015-10-17T08:03:04+08:00',
            receiptId: 'tencent:2019:538884*********:SUCCESS:DELIVRD',
          },
          {
            kind: 'receipt',
            providerMessageId: '2019:538885*********',
            phone: '+8613722223333',
            status: 'expired',
            reason: 'expired',
            code: 'EXPIRED',
            at: '2015-10-17T08:03:09+08:00',
            receiptId: 'tencent:2019:538885*********:FAIL:EXPIRED',
          },
        ],
      });
    });

    it.each([
      ['UNDELIV', 'unreachable'],
      ['-106', 'blocked'],
      ['002', 'unreachable'],
      ['MK:0012', 'unknown'],
    ])('maps errmsg %s to %s', (code, reason) => {
      expect(tencentUndeliveredReason(code)).toBe(reason);
    });

    it('refuses the whole batch when one status is not SUCCESS or FAIL', () => {
      const [good, other] = callbackJson('tencent', 'status-callback') as Record<string, unknown>[];
      const read = readTencentCallback({
        kind: 'receipts',
        json: [good, { ...other, report_status: 'MAYBE' }],
      });

      expect(read).toMatchObject({ ok: false, problems: [{ path: 'body.1.report_status' }] });
    });
  });

  describe('reply callback', () => {
    it('reads the documented reply (one object) with a stable id', () => {
      const json = callbackJson('tencent', 'reply-callback');
      const first = readTencentCallback({ kind: 'replies', json });
      const again = readTencentCallback({ kind: 'replies', json });

      expect(first).toMatchObject({
        ok: true,
        events: [{ kind: 'reply', phone: '+8613711112222', text: 'TD', at: '2016-03-07T07:47:49.000Z' }],
      });
      expect(first.ok && again.ok && first.events[0]).toEqual(again.ok && again.events[0]);
    });

    it('reads an array of replies and full-width digits in the number', () => {
      const reply = callbackJson('tencent', 'reply-callback') as Record<string, unknown>;
      const read = readTencentCallback({
        kind: 'replies',
        json: [reply, { ...reply, mobile: '１３７２２２２３３３３', text: 'ＴＤ ' }],
      });

      expect(read).toMatchObject({
        ok: true,
        events: [{ phone: '+8613711112222' }, { phone: '+8613722223333', text: 'ＴＤ ' }],
      });
    });

    it('refuses a reply without a time', () => {
      const { time: _dropped, ...reply } = callbackJson('tencent', 'reply-callback') as Record<
        string,
        unknown
      >;

      expect(readTencentCallback({ kind: 'replies', json: reply }).ok).toBe(false);
    });
  });

  describe('reader', () => {
    it('answers {"result":0,"errmsg":"OK"} once the URL token matches', () => {
      const reading = tencentCallbackReader.read({
        request: callbackRequest({
          provider: 'tencent',
          kind: 'replies',
          query: { token },
          body: Buffer.from(callbackFixture('tencent', 'reply-callback')),
        }),
        secret: token,
        now,
      });

      expect(reading.ok && JSON.parse(reading.answer.body ?? '')).toEqual({ result: 0, errmsg: 'OK' });
    });

    it('refuses a wrong token', () => {
      const reading = tencentCallbackReader.read({
        request: callbackRequest({ provider: 'tencent', kind: 'receipts', query: { token: 'nope' } }),
        secret: token,
        now,
      });

      expect(reading).toMatchObject({ ok: false, refusal: 'unauthorized' });
    });
  });
});
