import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { providerCapabilities } from '../capabilities';
import {
  assertBatchSupported,
  failAll,
  isIdentical,
  type SendOutcome,
  type SmsBatch,
  type SmsProvider,
  type TemplateMessage,
  UnsupportedBatchError,
  widenToBatch,
} from '../port';
import {
  exchange,
  type FetchLike,
  type HttpExchange,
  httpStatusFailure,
  networkFailure,
  parseJsonBody,
} from '../transport';
import { aliyunFailure } from './errors';
import { aliyunSignature, aliyunTimestamp, canonicalQuery, percentEncode } from './signature';

// Aliyun SMS (Dysmsapi 2017-05-25) over its RPC API. Identical messages go out through
// SendSms (PhoneNumbers comma-separated, up to 1,000), personalized ones through
// SendBatchSms (JSON arrays of numbers, signatures and variables, up to 100, one template).
// Requests are POSTed form-encoded, signed with RPC signature v1 (./signature.ts).
//
// SendSms/SendBatchSms answer one BizId per call, and receipts (SmsReport) name a message by
// biz_id and phone_number: aliyunProviderMessageId makes the one id that both sides compute.

export interface AliyunCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

export interface AliyunProviderOptions {
  readonly credentials: AliyunCredentials;
  /** Default https://dysmsapi.aliyuncs.com/ (the global endpoint). */
  readonly endpoint?: string;
  readonly regionId?: string;
  /** Aliyun advises at least 1 s for mainland SMS; a timeout is ambiguous, so not too short. */
  readonly timeoutMs?: number;
  readonly fetch?: FetchLike;
  readonly now?: () => Date;
  readonly nonce?: () => string;
}

export const aliyunApiVersion = '2017-05-25';

/** The number as Aliyun takes and reports it: national for the mainland, else digits with the country code. */
export function aliyunPhone(e164: string): string {
  return e164.startsWith('+86') ? e164.slice(3) : e164.slice(1);
}

/**
 * The id of one message: the call's BizId and the number. Receipts carry `biz_id` and
 * `phone_number` (national for the mainland); both forms of a number give the same id.
 */
export function aliyunProviderMessageId({
  bizId,
  phoneNumber,
}: {
  bizId: string;
  phoneNumber: string;
}): string {
  let digits = phoneNumber.replace(/^\+/, '').replace(/^00/, '');
  if (digits.length === 13 && digits.startsWith('861')) digits = digits.slice(2);
  return `${bizId}:${digits}`;
}

export interface AliyunRequest {
  readonly action: 'SendSms' | 'SendBatchSms';
  /** Every parameter, Signature included. */
  readonly params: Readonly<Record<string, string>>;
  /** The form body: the canonical query with the Signature. */
  readonly body: string;
}

/** Builds and signs the call for `batch` (which must be one SendSms or SendBatchSms). */
export function buildAliyunRequest({
  batch,
  credentials,
  regionId = 'cn-hangzhou',
  now,
  nonce,
}: {
  batch: readonly TemplateMessage[];
  credentials: AliyunCredentials;
  regionId?: string;
  now: Date;
  nonce: string;
}): AliyunRequest {
  const [first] = batch;
  if (!first) throw new UnsupportedBatchError({ provider: 'aliyun', problem: 'the batch is empty' });
  const common = {
    AccessKeyId: credentials.accessKeyId,
    Format: 'JSON',
    RegionId: regionId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: nonce,
    SignatureVersion: '1.0',
    Timestamp: aliyunTimestamp(now),
    Version: aliyunApiVersion,
  };
  const action = batch.length === 1 || isIdentical(batch) ? 'SendSms' : 'SendBatchSms';
  const specific: Record<string, string> =
    action === 'SendSms'
      ? {
          PhoneNumbers: batch.map((message) => aliyunPhone(message.phone)).join(','),
          SignName: first.signature,
          TemplateCode: first.template.code,
          ...(first.template.params.length > 0 ? { TemplateParam: templateParamJson(first) } : {}),
          // OutId is echoed in receipts (out_id), but there is one per call.
          ...(batch.length === 1 ? { OutId: first.reference } : {}),
        }
      : {
          PhoneNumberJson: JSON.stringify(batch.map((message) => aliyunPhone(message.phone))),
          SignNameJson: JSON.stringify(batch.map((message) => message.signature)),
          TemplateCode: first.template.code,
          TemplateParamJson: `[${batch.map(templateParamJson).join(',')}]`,
        };
  const unsigned = { Action: action, ...common, ...specific };
  const Signature = aliyunSignature({
    method: 'POST',
    params: unsigned,
    accessKeySecret: credentials.accessKeySecret,
  });
  return {
    action,
    params: { ...unsigned, Signature },
    body: `Signature=${percentEncode(Signature)}&${canonicalQuery(unsigned)}`,
  };
}

function templateParamJson(message: TemplateMessage): string {
  return JSON.stringify(Object.fromEntries(message.template.params.map(({ name, value }) => [name, value])));
}

const aliyunAnswer = z.looseObject({
  Code: z.string(),
  Message: z.string().optional(),
  BizId: z.string().optional(),
  RequestId: z.string().optional(),
});

/** What one exchange means for each message of the batch, in order. */
export function parseAliyunAnswer({
  batch,
  result,
}: {
  batch: SmsBatch;
  result: HttpExchange;
}): SendOutcome[] {
  if (result.kind !== 'answered') return failAll(batch, networkFailure(result));
  const parsed = aliyunAnswer.safeParse(parseJsonBody(result.body));
  if (!parsed.success) {
    if (result.status >= 400) return failAll(batch, httpStatusFailure(result));
    return failAll(batch, {
      outcome: 'ambiguous',
      code: 'unreadable_answer',
      reason: `Aliyun answered HTTP ${result.status} with a body that is not its JSON answer; the call may have been accepted.`,
      scope: 'batch',
    });
  }
  const { Code, Message, BizId, RequestId } = parsed.data;
  if (Code === 'OK') {
    const bizId = BizId ?? RequestId ?? 'unknown';
    return batch.map((message) => ({
      reference: message.reference,
      outcome: 'accepted',
      providerMessageId: aliyunProviderMessageId({ bizId, phoneNumber: message.phone }),
    }));
  }
  return failAll(batch, widenToBatch(aliyunFailure({ code: Code, message: Message }), batch.length));
}

export function createAliyunProvider({
  credentials,
  endpoint = 'https://dysmsapi.aliyuncs.com/',
  regionId = 'cn-hangzhou',
  timeoutMs = 5_000,
  fetch = globalThis.fetch,
  now = () => new Date(),
  nonce = randomUUID,
}: AliyunProviderOptions): SmsProvider {
  const capabilities = providerCapabilities.aliyun;
  return {
    id: 'aliyun',
    capabilities,
    async send(batch) {
      assertBatchSupported({ capabilities, batch });
      // assertBatchSupported has refused free text: every message is a template.
      const templates = batch.filter((message): message is TemplateMessage => 'template' in message);
      const request = buildAliyunRequest({
        batch: templates,
        credentials,
        regionId,
        now: now(),
        nonce: nonce(),
      });
      const result = await exchange({
        fetch,
        url: endpoint,
        init: {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
          body: request.body,
        },
        timeoutMs,
      });
      return parseAliyunAnswer({ batch, result });
    },
  };
}
