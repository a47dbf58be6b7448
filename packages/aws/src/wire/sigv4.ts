import { createHash, createHmac } from 'node:crypto';

// AWS Signature Version 4 for a request with a string body, on node:crypto: synchronous and
// a kilobyte, where the signing libraries are six to nine (every byte is a cold start).
// Checked against the AWS documentation's worked example and against aws4fetch on random
// requests (test/unit/wire/sigv4.test.ts).

export interface SigningRequest {
  readonly method: string;
  readonly url: URL;
  /** Header names in any case; `host` and `x-amz-date` are added. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface SigningIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly region: string;
  readonly service: string;
}

const keyCache = new Map<string, Buffer>();

/**
 * The headers to send: the request's, plus x-amz-date, the session token and authorization.
 * `host` is signed but not returned: fetch sets it from the URL, and refuses it as a header.
 */
export function signRequest(
  request: SigningRequest,
  identity: SigningIdentity,
  now: Date = new Date(),
): Record<string, string> {
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name.toLowerCase()] = value.trim().replace(/\s+/g, ' ');
  }
  headers.host = request.url.host;
  headers['x-amz-date'] = amzDate;
  if (identity.sessionToken) headers['x-amz-security-token'] = identity.sessionToken;

  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method,
    canonicalPath(request.url.pathname),
    canonicalQuery(request.url.searchParams),
    names.map((name) => `${name}:${headers[name]}\n`).join(''),
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n');
  const scope = `${day}/${identity.region}/${identity.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(identity, day)).update(stringToSign).digest('hex');
  const { host: _host, ...sent } = headers;
  sent.authorization = `AWS4-HMAC-SHA256 Credential=${identity.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return sent;
}

function signingKey({ secretAccessKey, region, service }: SigningIdentity, day: string): Buffer {
  const cacheKey = `${secretAccessKey}/${day}/${region}/${service}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    const date = hmac(`AWS4${secretAccessKey}`, day);
    key = hmac(hmac(hmac(date, region), service), 'aws4_request');
    if (keyCache.size > 16) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: string): string => createHash('sha256').update(data).digest('hex');

/** RFC 3986 encoding, as SigV4 asks: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Every service but S3 signs the path encoded twice: each already-encoded segment again. */
function canonicalPath(pathname: string): string {
  return pathname === '' ? '/' : pathname.split('/').map(encode).join('/');
}

function canonicalQuery(params: URLSearchParams): string {
  return [...params]
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}
