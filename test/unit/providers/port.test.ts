import {
  assertBatchSupported,
  planBatches,
  providerCapabilities,
  type SmsMessage,
  smsMessage,
  UnsupportedBatchError,
} from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import { templateBatch, templateMessage, textMessage } from './support';

describe('SmsProvider port', () => {
  describe('smsMessage', () => {
    it('takes free text or a template, not both', () => {
      expect(smsMessage.safeParse(textMessage()).success).toBe(true);
      expect(smsMessage.safeParse(templateMessage()).success).toBe(true);
      expect(smsMessage.safeParse({ ...templateMessage(), text: 'both' }).success).toBe(false);
    });

    it('refuses a number that is not E.164 and a template without its signature', () => {
      expect(smsMessage.safeParse(textMessage({ phone: '13812345678' })).success).toBe(false);
      const { signature: _signature, ...unsigned } = templateMessage();
      expect(smsMessage.safeParse(unsigned).success).toBe(false);
    });
  });

  describe('assertBatchSupported', () => {
    it('lets Aliyun send 1,000 identical messages in one call but only 100 personalized', () => {
      const aliyun = providerCapabilities.aliyun;
      const personalized = (n: number) =>
        templateBatch(n, (i) => ({ template: { code: 'SMS_1', params: [{ name: 'n', value: `${i}` }] } }));

      expect(() => assertBatchSupported({ capabilities: aliyun, batch: templateBatch(1_000) })).not.toThrow();
      expect(() => assertBatchSupported({ capabilities: aliyun, batch: templateBatch(1_001) })).toThrow(
        UnsupportedBatchError,
      );
      expect(() => assertBatchSupported({ capabilities: aliyun, batch: personalized(100) })).not.toThrow();
      expect(() => assertBatchSupported({ capabilities: aliyun, batch: personalized(101) })).toThrow(
        /at most 100/,
      );
    });

    it('lets Tencent Cloud send 200 identical messages in one call', () => {
      expect(() =>
        assertBatchSupported({ capabilities: providerCapabilities.tencent, batch: templateBatch(200) }),
      ).not.toThrow();
      expect(() =>
        assertBatchSupported({ capabilities: providerCapabilities.tencent, batch: templateBatch(201) }),
      ).toThrow(/at most 200/);
    });

    it('sends one message per call with AWS and Twilio', () => {
      const two = [textMessage(), textMessage({ reference: 'run-1:m-2' })];

      expect(() => assertBatchSupported({ capabilities: providerCapabilities.aws, batch: two })).toThrow(
        /at most 1/,
      );
      expect(() => assertBatchSupported({ capabilities: providerCapabilities.twilio, batch: two })).toThrow(
        /at most 1/,
      );
    });

    it('refuses templates where only free text goes, and the reverse', () => {
      expect(() =>
        assertBatchSupported({ capabilities: providerCapabilities.twilio, batch: [templateMessage()] }),
      ).toThrow(/text messages only/);
      expect(() =>
        assertBatchSupported({ capabilities: providerCapabilities.tencent, batch: [textMessage()] }),
      ).toThrow(/template messages only/);
    });

    it('refuses an empty batch, a reference twice, and a call mixing templates', () => {
      const simulator = providerCapabilities.simulator;

      expect(() => assertBatchSupported({ capabilities: simulator, batch: [] })).toThrow(/empty/);
      expect(() =>
        assertBatchSupported({
          capabilities: simulator,
          batch: [templateMessage(), templateMessage({ phone: '+8613900000000' })],
        }),
      ).toThrow(/share a reference/);
      expect(() =>
        assertBatchSupported({
          capabilities: simulator,
          batch: [templateMessage(), textMessage({ reference: 'run-1:m-2' })],
        }),
      ).toThrow(/one template, or free text only/);
    });
  });

  describe('planBatches', () => {
    it('puts identical messages together up to the identical limit', () => {
      const batches = planBatches({
        capabilities: providerCapabilities.aliyun,
        messages: templateBatch(2_500),
      });

      expect(batches.map((batch) => batch.length)).toEqual([1_000, 1_000, 500]);
    });

    it('puts personalized messages together by template up to the personalized limit', () => {
      const messages = templateBatch(250, (i) => ({
        template: { code: i % 2 === 0 ? 'SMS_A' : 'SMS_B', params: [{ name: 'n', value: `${i}` }] },
      }));

      const batches = planBatches({ capabilities: providerCapabilities.aliyun, messages });

      const codeOf = (message: SmsMessage | undefined) =>
        message && 'template' in message ? message.template.code : undefined;
      expect(batches.map((batch) => [codeOf(batch[0]), batch.length])).toEqual([
        ['SMS_A', 100],
        ['SMS_A', 25],
        ['SMS_B', 100],
        ['SMS_B', 25],
      ]);
    });

    it('plans only batches the provider accepts, every message exactly once', () => {
      const messages = [
        ...templateBatch(450),
        ...templateBatch(30, (i) => ({
          reference: `other-${i}`,
          template: { code: 'SMS_154950909', params: [{ name: 'name', value: `m${i}` }] },
        })),
      ];

      for (const provider of ['aliyun', 'tencent', 'simulator'] as const) {
        const capabilities = providerCapabilities[provider];
        const batches = planBatches({ capabilities, messages });

        for (const batch of batches)
          expect(() => assertBatchSupported({ capabilities, batch })).not.toThrow();
        expect(
          batches
            .flat()
            .map((m) => m.reference)
            .sort(),
        ).toEqual(messages.map((m) => m.reference).sort());
      }
    });
  });
});
