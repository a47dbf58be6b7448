import * as z from 'zod';
import { e164Phone, messageReference, templateCode } from '../port';

// The local SMS simulator's HTTP API, as its adapter speaks it and the simulator
// (packages/local/src/simulator) serves it: one schema for both sides.
//
//   POST /v1/messages        one message → 202 {messageId, parts, reference?}
//   POST /v1/messages/batch  {messages: [...]} → 200 {results: [...]}, one result per message
//   GET  /v1/messages/{id}   what it accepted
// The provider account is the `x-simulator-account` header (default `default`); receipts and
// replies for it go to the callback URL with `{account}` replaced by it.
// Errors answer {code, message}: 400 invalid_json | invalid_request | invalid_number |
// template_not_found | batch_too_large, 429 throttled (with retryAfterMs and Retry-After),
// 503 unavailable.

export const simulatorAccountHeader = 'x-simulator-account';
export const defaultSimulatorAccount = 'default';
export const simulatorAccount = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - only, at most 64');

/** Variables by name (Aliyun style `${name}`); their order is Tencent Cloud's `{1}`, `{2}`…. */
export const simulatorTemplate = z.strictObject({
  code: templateCode,
  params: z.record(z.string().regex(/^[A-Za-z0-9_]{1,40}$/, 'a parameter name'), z.string().max(500)),
});

export const simulatorSendMessage = z
  .strictObject({
    to: e164Phone,
    /** Free text: the full SMS as the handset shows it. */
    text: z.string().min(1, 'must not be empty').max(1_600, 'at most 1,600 characters').exactOptional(),
    template: simulatorTemplate.exactOptional(),
    /** The 签名; required with a template, shown as 【signature】 before it. */
    signature: z.string().min(1).max(40).exactOptional(),
    reference: messageReference.exactOptional(),
  })
  .superRefine((message, ctx) => {
    if ((message.text === undefined) === (message.template === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'give either text or template, not both' });
    }
    if (message.template !== undefined && message.signature === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['signature'],
        message: 'a template message needs its signature',
      });
    }
  });
export type SimulatorSendMessage = z.infer<typeof simulatorSendMessage>;

export const simulatorMaxBatch = { identical: 1_000, personalized: 100 } as const;

export const simulatorBatchRequest = z.strictObject({
  messages: z.array(simulatorSendMessage).min(1).max(simulatorMaxBatch.identical),
});
export type SimulatorBatchRequest = z.infer<typeof simulatorBatchRequest>;

export const simulatorAccepted = z.object({
  messageId: z.string(),
  parts: z.number().int().min(1),
  reference: z.string().exactOptional(),
});
export type SimulatorAccepted = z.infer<typeof simulatorAccepted>;

/** Why the simulator refused one message of a batch (or the single message, with HTTP 400). */
export const simulatorRejectionCodes = ['invalid_number', 'template_not_found'] as const;

export const simulatorBatchResult = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('accepted'),
    to: z.string(),
    reference: z.string().exactOptional(),
    messageId: z.string(),
    parts: z.number().int().min(1),
  }),
  z.object({
    status: z.literal('rejected'),
    to: z.string(),
    reference: z.string().exactOptional(),
    code: z.string(),
    message: z.string(),
  }),
]);
export type SimulatorBatchResult = z.infer<typeof simulatorBatchResult>;

export const simulatorBatchAnswer = z.object({ results: z.array(simulatorBatchResult) });
export type SimulatorBatchAnswer = z.infer<typeof simulatorBatchAnswer>;

export const simulatorErrorCodes = [
  'invalid_json',
  'invalid_request',
  'invalid_number',
  'template_not_found',
  'batch_too_large',
  'throttled',
  'unavailable',
] as const;

export const simulatorError = z.looseObject({
  code: z.string(),
  message: z.string(),
  retryAfterMs: z.number().int().min(0).optional(),
});
export type SimulatorError = z.infer<typeof simulatorError>;

/** The same key for two wire messages with the same content and signature. */
export function contentKeyOfWire(message: SimulatorSendMessage): string {
  return JSON.stringify([
    message.text ?? null,
    message.template?.code ?? null,
    message.template?.params ?? null,
    message.signature ?? null,
  ]);
}
