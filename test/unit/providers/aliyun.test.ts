import {
  aliyunProviderMessageId,
  aliyunSignature,
  buildAliyunRequest,
  createAliyunProvider,
  parseAliyunAnswer,
  UnsupportedBatchError,
} from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import { answered, providerFixture, templateBatch, templateMessage, textMessage } from './support';

const credentials = { accessKeyId: 'testId', accessKeySecret: 'testSecret' };
const signedAt = { now: new Date('2017-07-12T02:42:19Z'), nonce: '45e25e9b-0a6f-4070-8c85-2956eda1b466' };

describe('Aliyun adapter', () => {
  describe('buildAliyunRequest', () => {
    it('sends one message through SendSms with OutId carrying our reference', () => {
      const request = buildAliyunRequest({ batch: [templateMessage()], credentials, ...signedAt });

      expect(request.action).toBe('SendSms');
      expect(request.params).toMatchObject({
        Action: 'SendSms',
        Version: '2017-05-25',
        Format: 'JSON',
        RegionId: 'cn-hangzhou',
        SignatureMethod: 'HMAC-SHA1',
        SignatureVersion: '1.0',
        SignatureNonce: signedAt.nonce,
        Timestamp: '2017-07-12T02:42:19Z',
        PhoneNumbers: '13812345678',
        SignName: '阿里云短信测试',
        TemplateCode: 'SMS_154950909',
        TemplateParam: '{"name":"王小明"}',
        OutId: 'run-1:m-1',
      });
    });

    it('sends identical messages to many numbers in one SendSms, numbers comma-separated', () => {
      const request = buildAliyunRequest({ batch: templateBatch(3), credentials, ...signedAt });

      expect(request.action).toBe('SendSms');
      expect(request.params.PhoneNumbers).toBe('13812340000,13812340001,13812340002');
      expect(request.params).not.toHaveProperty('OutId');
    });

    it('sends personalized messages through SendBatchSms with one signature and variables per number', () => {
      const batch = templateBatch(2, (i) => ({
        template: { code: 'SMS_154950909', params: [{ name: 'name', value: ['王小明', '李雷'][i] ?? '' }] },
      }));

      const request = buildAliyunRequest({ batch, credentials, ...signedAt });

      expect(request.action).toBe('SendBatchSms');
      expect(request.params).toMatchObject({
        PhoneNumberJson: '["13812340000","13812340001"]',
        SignNameJson: '["阿里云短信测试","阿里云短信测试"]',
        TemplateCode: 'SMS_154950909',
        TemplateParamJson: '[{"name":"王小明"},{"name":"李雷"}]',
      });
    });

    it('signs the POST it sends, and the form body carries that signature', () => {
      const request = buildAliyunRequest({ batch: [templateMessage()], credentials, ...signedAt });
      const { Signature, ...unsigned } = request.params;

      expect(Signature).toBe(
        aliyunSignature({ method: 'POST', params: unsigned, accessKeySecret: 'testSecret' }),
      );
      expect(new URLSearchParams(request.body).get('Signature')).toBe(Signature);
      expect(new URLSearchParams(request.body).get('SignName')).toBe('阿里云短信测试');
    });

    it('writes international numbers with their country code and no plus', () => {
      const request = buildAliyunRequest({
        batch: [templateMessage({ phone: '+85291234567' })],
        credentials,
        ...signedAt,
      });

      expect(request.params.PhoneNumbers).toBe('85291234567');
    });
  });

  describe('parseAliyunAnswer', () => {
    it('accepts every message of an OK call, each named by BizId and number', () => {
      const batch = templateBatch(2);

      const outcomes = parseAliyunAnswer({
        batch,
        result: answered(200, providerFixture('aliyun', 'send-sms-ok')),
      });

      expect(outcomes).toEqual([
        { reference: 'run-1:m-0', outcome: 'accepted', providerMessageId: '9006197469364984400:13812340000' },
        { reference: 'run-1:m-1', outcome: 'accepted', providerMessageId: '9006197469364984400:13812340001' },
      ]);
    });

    it('names a message the way a receipt (biz_id, phone_number) will', () => {
      expect(aliyunProviderMessageId({ bizId: '900619746936498440', phoneNumber: '+8613812345678' })).toBe(
        aliyunProviderMessageId({ bizId: '900619746936498440', phoneNumber: '13812345678' }),
      );
    });

    it.each([
      ['business-limit-control', 200, 'throttled', 'message', 'isv.BUSINESS_LIMIT_CONTROL'],
      ['throttling-user', 400, 'throttled', 'account', 'Throttling.User'],
      ['mobile-number-illegal', 200, 'permanent', 'message', 'isv.MOBILE_NUMBER_ILLEGAL'],
      ['amount-not-enough', 200, 'permanent', 'account', 'isv.AMOUNT_NOT_ENOUGH'],
      ['system-error', 200, 'retryable', 'batch', 'isp.SYSTEM_ERROR'],
      ['signature-does-not-match', 400, 'permanent', 'account', 'SignatureDoesNotMatch'],
    ] as const)('maps %s to %s (%s)', (fixture, status, outcome, scope, code) => {
      const [result] = parseAliyunAnswer({
        batch: [templateMessage()],
        result: answered(status, providerFixture('aliyun', fixture)),
      });

      expect(result).toMatchObject({
        reference: 'run-1:m-1',
        outcome,
        scope,
        code,
        reason: expect.any(String),
      });
    });

    it('pins a bad number in a multi-number call on the batch, not on every message', () => {
      const outcomes = parseAliyunAnswer({
        batch: templateBatch(3),
        result: answered(200, providerFixture('aliyun', 'mobile-number-illegal')),
      });

      expect(outcomes.map((o) => o.outcome === 'permanent' && o.scope)).toEqual(['batch', 'batch', 'batch']);
    });

    it('keeps the Chinese message of the provider in the reason', () => {
      const [result] = parseAliyunAnswer({
        batch: [templateMessage()],
        result: answered(200, providerFixture('aliyun', 'amount-not-enough')),
      });

      expect(result).toMatchObject({ reason: expect.stringContaining('账户余额不足') });
    });

    it('treats a 200 it cannot read as ambiguous: the call may have gone through', () => {
      const [result] = parseAliyunAnswer({
        batch: [templateMessage()],
        result: answered(200, '<html>proxy</html>'),
      });

      expect(result).toMatchObject({ outcome: 'ambiguous', code: 'unreadable_answer' });
    });

    it('maps an unreadable 503 by its status: retryable', () => {
      const [result] = parseAliyunAnswer({
        batch: [templateMessage()],
        result: answered(503, 'Service Unavailable'),
      });

      expect(result).toMatchObject({ outcome: 'retryable', code: 'http_503' });
    });

    it('is ambiguous when no answer came back, retryable when nothing was sent', () => {
      const batch = [templateMessage()];

      expect(
        parseAliyunAnswer({
          batch,
          result: { kind: 'no-answer', code: 'timeout', message: 'no answer within 5000 ms' },
        }),
      ).toEqual([expect.objectContaining({ outcome: 'ambiguous', code: 'timeout' })]);
      expect(
        parseAliyunAnswer({
          batch,
          result: { kind: 'not-sent', code: 'econnrefused', message: 'connect ECONNREFUSED' },
        }),
      ).toEqual([expect.objectContaining({ outcome: 'retryable', code: 'econnrefused' })]);
    });
  });

  describe('createAliyunProvider', () => {
    it('POSTs the signed form to Dysmsapi and answers per message', async () => {
      const calls: { url: string; init: RequestInit }[] = [];
      const provider = createAliyunProvider({
        credentials,
        now: () => signedAt.now,
        nonce: () => signedAt.nonce,
        fetch: async (url, init) => {
          calls.push({ url, init });
          return new Response(providerFixture('aliyun', 'send-sms-ok'), { status: 200 });
        },
      });

      const outcomes = await provider.send([templateMessage()]);

      expect(outcomes).toEqual([expect.objectContaining({ outcome: 'accepted' })]);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.url).toBe('https://dysmsapi.aliyuncs.com/');
      expect(calls[0]?.init).toMatchObject({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      });
    });

    it('refuses free text before any request: Aliyun sends approved templates only', async () => {
      let requests = 0;
      const provider = createAliyunProvider({
        credentials,
        fetch: async () => {
          requests += 1;
          return new Response('{}');
        },
      });

      await expect(provider.send([textMessage()])).rejects.toBeInstanceOf(UnsupportedBatchError);
      expect(requests).toBe(0);
    });

    it('refuses 101 personalized messages in one call (SendBatchSms takes 100)', async () => {
      const provider = createAliyunProvider({ credentials, fetch: async () => new Response('{}') });
      const batch = templateBatch(101, (i) => ({
        template: { code: 'SMS_154950909', params: [{ name: 'name', value: `member ${i}` }] },
      }));

      await expect(provider.send(batch)).rejects.toThrow(/at most 100 per call/);
    });
  });
});
