import { aliyunCallbackReader, aliyunUndeliveredReason, readAliyunCallback } from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import { callbackFixture, callbackJson, callbackRequest } from './support';

// Aliyun SmsReport and SmsUp, HTTP batch push (help.aliyun.com/document_detail/101867, /101847).

const token = 'aliyun-url-token-0123456789';
const now = new Date('2017-01-01T00:01:00Z');

describe('Aliyun callbacks', () => {
  describe('SmsReport', () => {
    it('reads the documented report into one receipt per item, in Beijing time and E.164', () => {
      const read = readAliyunCallback({ kind: 'receipts', json: callbackJson('aliyun', 'sms-report') });

      expect(read).toEqual({
        ok: true,
        events: [
          {
            kind: 'receipt',
            providerMessageId: '900619746936498440^0',
            reference: 'run-01J:m-000123',
            phone: '+8613811112222',
            status: 'delivered',
            code: 'DELIVERED',
            at: '2017-01-01T00:00:05+08:00',
            receiptId: 'aliyun:900619746936498440^0:+8613811112222:DELIVERED',
          },
          {
            kind: 'receipt',
            providerMessageId: '900619746936498440^0',
            phone: '+8613922223333',
            status: 'failed',
            reason: 'unreachable',
            code: 'MOBILE_NOT_ON_SERVICE',
            at: '2017-01-01T00:00:07+08:00',
            receiptId: 'aliyun:900619746936498440^0:+8613922223333:MOBILE_NOT_ON_SERVICE',
          },
        ],
      });
    });

    it.each([
      ['INVALID_NUMBER', 'invalid_number'],
      ['MOBILE_NUMBER_ILLEGAL', 'invalid_number'],
      ['MOBILE_IN_BLACK', 'carrier_opt_out'],
      ['CONTENT_KEYWORD', 'blocked'],
      ['SOMETHING_NEW', 'unknown'],
    ])('maps err_code %s to %s', (code, reason) => {
      expect(aliyunUndeliveredReason(code)).toBe(reason);
    });

    it('reads full-width digits and a +86 prefix in the phone number', () => {
      const [item] = callbackJson('aliyun', 'sms-report') as Record<string, unknown>[];
      const read = readAliyunCallback({
        kind: 'receipts',
        json: [{ ...item, phone_number: '＋８６ １３８１１１１２２２２' }],
      });

      expect(read.ok && read.events[0]?.kind === 'receipt' ? read.events[0].phone : undefined).toBe(
        '+8613811112222',
      );
    });

    it('refuses the whole batch when one item is bad, naming the item', () => {
      const [good, other] = callbackJson('aliyun', 'sms-report') as Record<string, unknown>[];
      const read = readAliyunCallback({
        kind: 'receipts',
        json: [good, { ...other, phone_number: '1381111****' }, { ...other, report_time: 'yesterday' }],
      });

      expect(read).toEqual({
        ok: false,
        problems: [
          { path: 'body.1.phone_number', message: 'not a phone number' },
          { path: 'body.2.report_time', message: 'not a time as yyyy-MM-dd HH:mm:ss' },
        ],
      });
    });

    it('refuses an item without biz_id and an empty array', () => {
      const [item] = callbackJson('aliyun', 'sms-report') as Record<string, unknown>[];
      const { biz_id: _dropped, ...withoutId } = item ?? {};

      expect(readAliyunCallback({ kind: 'receipts', json: [withoutId] })).toMatchObject({
        ok: false,
        problems: [{ path: 'body.0.biz_id' }],
      });
      expect(readAliyunCallback({ kind: 'receipts', json: [] }).ok).toBe(false);
    });
  });

  describe('SmsUp', () => {
    it('reads the documented reply, its sequence_id as the reply id', () => {
      expect(readAliyunCallback({ kind: 'replies', json: callbackJson('aliyun', 'sms-up') })).toEqual({
        ok: true,
        events: [
          {
            kind: 'reply',
            phone: '+8613811112222',
            text: '退订',
            at: '2017-09-01T00:00:00+08:00',
            replyId: 'aliyun:1234567890',
          },
        ],
      });
    });

    it('reads a string sequence_id (the newer document) the same way', () => {
      const [item] = callbackJson('aliyun', 'sms-up') as Record<string, unknown>[];
      const read = readAliyunCallback({ kind: 'replies', json: [{ ...item, sequence_id: '1234567890' }] });

      expect(read.ok && read.events[0]?.kind === 'reply' ? read.events[0].replyId : undefined).toBe(
        'aliyun:1234567890',
      );
    });
  });

  describe('reader', () => {
    const request = (query: Record<string, string>) =>
      callbackRequest({
        kind: 'receipts',
        query,
        body: Buffer.from(callbackFixture('aliyun', 'sms-report')),
      });

    it('answers {"code":0} once the URL token matches', () => {
      const reading = aliyunCallbackReader.read({ request: request({ token }), secret: token, now });

      expect(reading.ok && reading.events.length).toBe(2);
      expect(reading.ok && JSON.parse(reading.answer.body ?? '')).toEqual({ code: 0, msg: '成功' });
    });

    it.each([{}, { token: 'wrong' }, { token: `${token}x` }])(
      'refuses the token %o before reading the body',
      (query) => {
        expect(aliyunCallbackReader.read({ request: request(query), secret: token, now })).toMatchObject({
          ok: false,
          refusal: 'unauthorized',
        });
      },
    );

    it('refuses a body that is not JSON', () => {
      const reading = aliyunCallbackReader.read({
        request: callbackRequest({ kind: 'receipts', query: { token }, body: Buffer.from('[{') }),
        secret: token,
        now,
      });

      expect(reading).toMatchObject({ ok: false, refusal: 'invalid', problems: [{ path: 'body' }] });
    });
  });
});
