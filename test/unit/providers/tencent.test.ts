import { buildTencentRequest, createTencentProvider, parseTencentAnswer, tc3Sign } from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import { answered, providerFixture, templateBatch, templateMessage } from './support';

const credentials = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
};
const now = new Date('2019-02-25T16:44:25Z');

/** The two numbers of the documented SendSms examples. */
const documentedBatch = templateBatch(2, (i) => ({
  phone: `+861850123444${4 + i}`,
  signature: '腾讯云',
  template: { code: '1110', params: [{ name: '1', value: '4370' }] },
}));

describe('Tencent Cloud adapter', () => {
  describe('buildTencentRequest', () => {
    it('sends identical messages in one SendSms with the TC3 headers', () => {
      const request = buildTencentRequest({
        batch: documentedBatch,
        credentials,
        smsSdkAppId: '1400006666',
        now,
      });

      expect(JSON.parse(request.body)).toEqual({
        PhoneNumberSet: ['+8618501234444', '+8618501234445'],
        SmsSdkAppId: '1400006666',
        SignName: '腾讯云',
        TemplateId: '1110',
        TemplateParamSet: ['4370'],
      });
      expect(request.headers).toMatchObject({
        'content-type': 'application/json; charset=utf-8',
        'x-tc-action': 'SendSms',
        'x-tc-version': '2021-01-11',
        'x-tc-region': 'ap-guangzhou',
        'x-tc-timestamp': '1551113065',
      });
      const expected = tc3Sign({
        ...credentials,
        service: 'sms',
        host: 'sms.tencentcloudapi.com',
        timestamp: 1551113065,
        payload: request.body,
      });
      expect(request.headers.authorization).toBe(expected.authorization);
      expect(request.headers.authorization).toMatch(/Credential=AKID\w+\/2019-02-25\/sms\/tc3_request/);
    });

    it('echoes our reference through SessionContext when the call carries one message', () => {
      const request = buildTencentRequest({
        batch: [templateMessage()],
        credentials,
        smsSdkAppId: '1400006666',
        now,
      });

      expect(JSON.parse(request.body)).toMatchObject({ SessionContext: 'run-1:m-1' });
    });
  });

  describe('parseTencentAnswer', () => {
    it('accepts each number with its SerialNo and billed parts (documented success)', () => {
      const outcomes = parseTencentAnswer({
        batch: documentedBatch,
        result: answered(200, providerFixture('tencent', 'send-sms-ok')),
      });

      expect(outcomes).toEqual([
        {
          reference: 'run-1:m-0',
          outcome: 'accepted',
          providerMessageId: '5000:1045710669157053657849499619',
          parts: 1,
        },
        {
          reference: 'run-1:m-1',
          outcome: 'accepted',
          providerMessageId: '5000:1045710669157053657849499718',
          parts: 1,
        },
      ]);
    });

    it('refuses each number whose template variables do not match (documented failure)', () => {
      const outcomes = parseTencentAnswer({
        batch: documentedBatch,
        result: answered(200, providerFixture('tencent', 'template-params-mismatch')),
      });

      expect(outcomes).toEqual([
        expect.objectContaining({
          outcome: 'permanent',
          code: 'FailedOperation.TemplateParamSetNotMatchApprovedTemplate',
        }),
        expect.objectContaining({
          outcome: 'permanent',
          code: 'FailedOperation.TemplateParamSetNotMatchApprovedTemplat',
        }),
      ]);
    });

    it('answers each number by its own code when they differ', () => {
      const batch = templateBatch(4, (i) => ({ phone: `+861850123444${4 + i}` }));

      const outcomes = parseTencentAnswer({
        batch,
        result: answered(200, providerFixture('tencent', 'mixed-statuses')),
      });

      expect(outcomes.map((o) => [o.outcome, o.outcome === 'accepted' ? o.parts : o.scope])).toEqual([
        ['accepted', 2],
        ['retryable', 'message'],
        ['permanent', 'message'],
        ['throttled', 'message'],
      ]);
    });

    it.each([
      ['signature-failure', 'permanent', 'account', 'AuthFailure.SignatureFailure'],
      ['request-limit-exceeded', 'throttled', 'account', 'RequestLimitExceeded'],
    ] as const)('maps a refused call (%s) to %s for every message', (fixture, outcome, scope, code) => {
      const outcomes = parseTencentAnswer({
        batch: documentedBatch,
        result: answered(200, providerFixture('tencent', fixture)),
      });

      expect(outcomes).toEqual([
        expect.objectContaining({ reference: 'run-1:m-0', outcome, scope, code }),
        expect.objectContaining({ reference: 'run-1:m-1', outcome, scope, code }),
      ]);
    });

    it('treats a carrier hand-off timeout as ambiguous (InternalError.Timeout)', () => {
      const body = JSON.stringify({
        Response: { Error: { Code: 'InternalError.Timeout', Message: 'timeout' }, RequestId: 'r-1' },
      });

      const [result] = parseTencentAnswer({ batch: [templateMessage()], result: answered(200, body) });

      expect(result).toMatchObject({ outcome: 'ambiguous', code: 'InternalError.Timeout' });
    });

    it('falls back on the code family for a code it does not know', () => {
      const body = JSON.stringify({
        Response: { Error: { Code: 'LimitExceeded.SomethingNew' }, RequestId: 'r-1' },
      });

      const [result] = parseTencentAnswer({ batch: [templateMessage()], result: answered(200, body) });

      expect(result).toMatchObject({ outcome: 'throttled', code: 'LimitExceeded.SomethingNew' });
    });
  });

  describe('createTencentProvider', () => {
    it('refuses two different messages in one call: TemplateParamSet is shared', async () => {
      const provider = createTencentProvider({
        credentials,
        smsSdkAppId: '1400006666',
        fetch: async () => new Response('{}'),
      });
      const batch = templateBatch(2, (i) => ({
        template: { code: '1110', params: [{ name: '1', value: `${i}` }] },
      }));

      await expect(provider.send(batch)).rejects.toThrow(/at most 1 per call/);
    });

    it('POSTs to the SMS endpoint and answers per number', async () => {
      const urls: string[] = [];
      const provider = createTencentProvider({
        credentials,
        smsSdkAppId: '1400006666',
        now: () => now,
        fetch: async (url) => {
          urls.push(url);
          return new Response(providerFixture('tencent', 'send-sms-ok'));
        },
      });

      const outcomes = await provider.send(documentedBatch);

      expect(urls).toEqual(['https://sms.tencentcloudapi.com/']);
      expect(outcomes.every((o) => o.outcome === 'accepted')).toBe(true);
    });
  });
});
