import * as z from 'zod';
import { providerCapabilities } from '../capabilities';
import {
  assertBatchSupported,
  failAll,
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
import { tencentFailure } from './errors';
import { tc3Sign, tencentJsonContentType } from './signature';

// Tencent Cloud SMS, SendSms 2021-01-11: up to 200 numbers with one template, signature and
// TemplateParamSet (so only identical messages share a call), signed with TC3-HMAC-SHA256.
// The answer has one SendStatus per number (its own Code and SerialNo); receipts name a
// message by that SerialNo (`sid`).

export interface TencentCredentials {
  readonly secretId: string;
  readonly secretKey: string;
}

export interface TencentProviderOptions {
  readonly credentials: TencentCredentials;
  /** The SMS application (SdkAppId) from the console, e.g. 1400006666. */
  readonly smsSdkAppId: string;
  readonly region?: string;
  /** Default sms.tencentcloudapi.com. */
  readonly host?: string;
  /** Default https://<host>/ ; tests point it at a local server. */
  readonly endpoint?: string;
  readonly timeoutMs?: number;
  readonly fetch?: FetchLike;
  readonly now?: () => Date;
}

export const tencentApiVersion = '2021-01-11';

export interface TencentRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function buildTencentRequest({
  batch,
  credentials,
  smsSdkAppId,
  region = 'ap-guangzhou',
  host = 'sms.tencentcloudapi.com',
  now,
}: {
  batch: readonly TemplateMessage[];
  credentials: TencentCredentials;
  smsSdkAppId: string;
  region?: string;
  host?: string;
  now: Date;
}): TencentRequest {
  const [first] = batch;
  if (!first) throw new UnsupportedBatchError({ provider: 'tencent', problem: 'the batch is empty' });
  const body = JSON.stringify({
    PhoneNumberSet: batch.map((message) => message.phone),
    SmsSdkAppId: smsSdkAppId,
    SignName: first.signature,
    TemplateId: first.template.code,
    TemplateParamSet: first.template.params.map((param) => param.value),
    // Echoed back as is; one per call, so only a single message can be named by it.
    ...(batch.length === 1 ? { SessionContext: first.reference } : {}),
  });
  const timestamp = Math.floor(now.getTime() / 1000);
  const { authorization } = tc3Sign({
    secretId: credentials.secretId,
    secretKey: credentials.secretKey,
    service: 'sms',
    host,
    timestamp,
    payload: body,
  });
  return {
    headers: {
      authorization,
      'content-type': tencentJsonContentType,
      // Host is signed, and fetch sends it from the URL.
      'x-tc-action': 'SendSms',
      'x-tc-timestamp': String(timestamp),
      'x-tc-version': tencentApiVersion,
      'x-tc-region': region,
    },
    body,
  };
}

const sendStatus = z.looseObject({
  SerialNo: z.string(),
  PhoneNumber: z.string(),
  Fee: z.number().int().min(0),
  Code: z.string(),
  Message: z.string().optional(),
});

const tencentAnswer = z.object({
  Response: z
    .looseObject({
      Error: z.looseObject({ Code: z.string(), Message: z.string().optional() }).optional(),
      SendStatusSet: z.array(sendStatus).optional(),
    })
    .refine((response) => response.Error !== undefined || response.SendStatusSet !== undefined),
});

export function parseTencentAnswer({
  batch,
  result,
}: {
  batch: SmsBatch;
  result: HttpExchange;
}): SendOutcome[] {
  if (result.kind !== 'answered') return failAll(batch, networkFailure(result));
  const parsed = tencentAnswer.safeParse(parseJsonBody(result.body));
  if (!parsed.success) {
    if (result.status >= 400) return failAll(batch, httpStatusFailure(result));
    return failAll(batch, {
      outcome: 'ambiguous',
      code: 'unreadable_answer',
      reason: `Tencent Cloud answered HTTP ${result.status} with a body that is not its JSON answer; the call may have been accepted.`,
      scope: 'batch',
    });
  }
  const { Error: refused, SendStatusSet: statuses = [] } = parsed.data.Response;
  if (refused) {
    return failAll(
      batch,
      widenToBatch(tencentFailure({ code: refused.Code, message: refused.Message }), batch.length),
    );
  }
  const byPhone = new Map(statuses.map((status) => [status.PhoneNumber, status]));
  return batch.map((message, index) => {
    // Matched by number; the documented answers keep the request's order, the fallback.
    const status = byPhone.get(message.phone) ?? statuses[index];
    if (!status) {
      return {
        reference: message.reference,
        outcome: 'ambiguous',
        code: 'missing_status',
        reason: 'Tencent Cloud accepted the call but gave no status for this number.',
        scope: 'message',
      };
    }
    if (status.Code === 'Ok') {
      return {
        reference: message.reference,
        outcome: 'accepted',
        providerMessageId: status.SerialNo,
        // Fee is the number of billed parts.
        ...(status.Fee > 0 ? { parts: status.Fee } : {}),
      };
    }
    return {
      reference: message.reference,
      ...tencentFailure({ code: status.Code, message: status.Message }),
    };
  });
}

export function createTencentProvider({
  credentials,
  smsSdkAppId,
  region = 'ap-guangzhou',
  host = 'sms.tencentcloudapi.com',
  endpoint = `https://${host}/`,
  timeoutMs = 5_000,
  fetch = globalThis.fetch,
  now = () => new Date(),
}: TencentProviderOptions): SmsProvider {
  const capabilities = providerCapabilities.tencent;
  return {
    id: 'tencent',
    capabilities,
    async send(batch) {
      assertBatchSupported({ capabilities, batch });
      const templates = batch.filter((message): message is TemplateMessage => 'template' in message);
      const request = buildTencentRequest({
        batch: templates,
        credentials,
        smsSdkAppId,
        region,
        host,
        now: now(),
      });
      const result = await exchange({
        fetch,
        url: endpoint,
        init: { method: 'POST', headers: request.headers, body: request.body },
        timeoutMs,
      });
      return parseTencentAnswer({ batch, result });
    },
  };
}
