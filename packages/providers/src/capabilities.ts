import { countingRules, type SmsProviderId } from '@qunfa/domain';
import type { ProviderCapabilities } from './port';

// What each provider can take in one call, from its own documentation. One table, read by
// the adapters (to refuse a batch before any request) and by the sender (to plan batches).

export const providerCapabilities: Readonly<Record<SmsProviderId, ProviderCapabilities>> = {
  // Dysmsapi SendSms: one template and signature to up to 1,000 numbers; SendBatchSms: one
  // template, a signature and variables per number, up to 100 numbers. OutId is one per call,
  // so receipts echo our reference only when a call carries one message.
  aliyun: {
    provider: 'aliyun',
    content: ['template'],
    maxBatch: { identical: 1_000, personalized: 100 },
    echoesReference: false,
    countingRule: countingRules.aliyun,
  },
  // SendSms (2021-01-11): up to 200 numbers, one TemplateParamSet for all of them.
  tencent: {
    provider: 'tencent',
    content: ['template'],
    maxBatch: { identical: 200, personalized: 1 },
    echoesReference: false,
    countingRule: countingRules.tencent,
  },
  // SendTextMessage sends to one number; Context is copied to the event destination.
  aws: {
    provider: 'aws',
    content: ['text'],
    maxBatch: { identical: 1, personalized: 1 },
    echoesReference: true,
    countingRule: countingRules.aws,
  },
  // One Message resource per request; the StatusCallback URL carries our reference.
  twilio: {
    provider: 'twilio',
    content: ['text'],
    maxBatch: { identical: 1, personalized: 1 },
    echoesReference: true,
    countingRule: countingRules.twilio,
  },
  // The local simulator takes both kinds and batches the way Aliyun does.
  simulator: {
    provider: 'simulator',
    content: ['text', 'template'],
    maxBatch: { identical: 1_000, personalized: 100 },
    echoesReference: true,
    countingRule: countingRules.simulator,
  },
};
