import { createHmac } from 'node:crypto';

// Alibaba Cloud RPC signature, version 1.0 (HMAC-SHA1), as Dysmsapi takes it:
//   StringToSign = Method + "&" + percentEncode("/") + "&" + percentEncode(canonicalQuery)
//   Signature    = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))
// where canonicalQuery is every parameter but Signature, sorted by name, each name and value
// percent-encoded with only A-Z a-z 0-9 - _ . ~ left as they are. The trailing "&" on the
// key is what the documented example needs (its signature only comes out with it).
// Source: Alibaba Cloud "Signature mechanism" for RPC APIs and the SMS HTTP signature example.

/** RFC 3986 encoding as Alibaba Cloud wants it: encodeURIComponent also leaves ! ' ( ) * alone. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The parameters sorted by name and encoded: also the body or query string that is sent. */
export function canonicalQuery(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .filter((name) => name !== 'Signature')
    .sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(params[name] ?? '')}`)
    .join('&');
}

export function stringToSign({
  method,
  params,
}: {
  method: 'GET' | 'POST';
  params: Readonly<Record<string, string>>;
}): string {
  return `${method}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`;
}

/** The Signature parameter (Base64, before its own URL encoding). */
export function aliyunSignature({
  method,
  params,
  accessKeySecret,
}: {
  method: 'GET' | 'POST';
  params: Readonly<Record<string, string>>;
  accessKeySecret: string;
}): string {
  return createHmac('sha1', `${accessKeySecret}&`)
    .update(stringToSign({ method, params }), 'utf8')
    .digest('base64');
}

/** `2017-07-12T02:42:19Z`: ISO 8601 in UTC without milliseconds. */
export function aliyunTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
