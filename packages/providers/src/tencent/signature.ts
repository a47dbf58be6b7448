import { createHash, createHmac } from 'node:crypto';

// Tencent Cloud API 3.0 signature, TC3-HMAC-SHA256, for a POST with a JSON body:
//   CanonicalRequest = "POST\n/\n\n" + "content-type:<ct>\nhost:<host>\n" + "\n" +
//                      "content-type;host\n" + hex(sha256(payload))
//   StringToSign     = "TC3-HMAC-SHA256\n" + timestamp + "\n" + date/service/tc3_request + "\n" +
//                      hex(sha256(CanonicalRequest))
//   key              = HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")
//   Signature        = hex(HMAC(key, StringToSign))
// with date the UTC day of the timestamp. Source: Tencent Cloud "Signature v3" (签名方法 v3).

export const tc3Algorithm = 'TC3-HMAC-SHA256';
export const tencentJsonContentType = 'application/json; charset=utf-8';

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: string | Buffer, text: string): Buffer =>
  createHmac('sha256', key).update(text, 'utf8').digest();

export interface Tc3Signature {
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
  /** The Authorization header. */
  readonly authorization: string;
}

export function tc3Sign({
  secretId,
  secretKey,
  service,
  host,
  timestamp,
  payload,
  contentType = tencentJsonContentType,
}: {
  secretId: string;
  secretKey: string;
  /** The product, first label of the host: `sms`. */
  service: string;
  host: string;
  /** Unix seconds, also sent as X-TC-Timestamp. */
  timestamp: number;
  payload: string;
  contentType?: string;
}): Tc3Signature {
  const signedHeaders = 'content-type;host';
  const canonicalRequest = [
    'POST',
    '/',
    '',
    `content-type:${contentType.trim().toLowerCase()}\nhost:${host.trim().toLowerCase()}\n`,
    signedHeaders,
    sha256Hex(payload),
  ].join('\n');
  // The UTC date: at 00:44 in Beijing it is still the day before.
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const credentialScope = `${date}/${service}/tc3_request`;
  const stringToSign = [tc3Algorithm, String(timestamp), credentialScope, sha256Hex(canonicalRequest)].join(
    '\n',
  );
  const signingKey = hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return {
    canonicalRequest,
    stringToSign,
    signature,
    authorization: `${tc3Algorithm} Credential=${secretId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
