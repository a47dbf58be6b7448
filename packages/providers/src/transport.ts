import type { Failure } from './port';

// One HTTP exchange with a provider, and what its failure means for the message. The line
// that matters (ARCHITECTURE.md invariant 1): a request that never left (connection refused,
// DNS) is safe to send again; a request that left and got no answer may have been sent, so
// it is ambiguous and must not be resent blindly.

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export type HttpExchange =
  | {
      readonly kind: 'answered';
      readonly status: number;
      readonly headers: Headers;
      readonly body: string;
    }
  | { readonly kind: 'not-sent'; readonly code: string; readonly message: string }
  | { readonly kind: 'no-answer'; readonly code: string; readonly message: string };

/**
 * Errors raised before a byte of the request could leave. undici's own connect timeout
 * (UND_ERR_CONNECT_TIMEOUT) is one of them; our overall timeout is not, because it cannot
 * tell a slow connect from a slow answer.
 */
const notSentCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Sends one request and reads the whole answer within `timeoutMs`. Never throws. */
export async function exchange({
  fetch,
  url,
  init,
  timeoutMs,
}: {
  fetch: FetchLike;
  url: string;
  init: RequestInit;
  timeoutMs: number;
}): Promise<HttpExchange> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal });
    const body = await response.text();
    return { kind: 'answered', status: response.status, headers: response.headers, body };
  } catch (error) {
    return classifyNetworkError(error, timeoutMs);
  }
}

export type NetworkFailure = Exclude<HttpExchange, { kind: 'answered' }>;

export function classifyNetworkError(error: unknown, timeoutMs?: number): NetworkFailure {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return {
      kind: 'no-answer',
      code: 'timeout',
      message: `no answer within ${timeoutMs === undefined ? 'the timeout' : `${timeoutMs} ms`}`,
    };
  }
  const code = errorCode(error);
  if (code !== undefined && notSentCodes.has(code)) {
    return { kind: 'not-sent', code: code.toLowerCase(), message: describe(error) };
  }
  return { kind: 'no-answer', code: code?.toLowerCase() ?? 'connection_lost', message: describe(error) };
}

/** The failure a network-level exchange means for every message it carried. */
export function networkFailure(result: NetworkFailure): Failure {
  return result.kind === 'not-sent'
    ? {
        outcome: 'retryable',
        code: result.code,
        reason: `The request could not be sent (${result.message}); nothing reached the provider.`,
        scope: 'batch',
      }
    : {
        outcome: 'ambiguous',
        code: result.code,
        reason: `The request was sent but no answer came back (${result.message}); the provider may have accepted it.`,
        scope: 'batch',
      };
}

/**
 * The failure an HTTP status means when the body names no provider code: 429 is throttling,
 * 502/503 mean the provider did not take the request, 504 and other 5xx may hide a request the
 * provider processed, other 4xx refuse the request.
 */
export function httpStatusFailure({ status, headers }: { status: number; headers?: Headers }): Failure {
  const retryAfterMs = headers ? parseRetryAfter(headers.get('retry-after')) : undefined;
  const withRetry = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 429)
    return {
      outcome: 'throttled',
      code: 'http_429',
      reason: 'The provider is throttling requests.',
      scope: 'account',
      ...withRetry,
    };
  if (status === 502 || status === 503)
    return {
      outcome: 'retryable',
      code: `http_${status}`,
      reason: `The provider is unavailable (HTTP ${status}).`,
      scope: 'batch',
      ...withRetry,
    };
  if (status >= 500)
    return {
      outcome: 'ambiguous',
      code: `http_${status}`,
      reason: `The provider failed after receiving the request (HTTP ${status}); it may have been sent.`,
      scope: 'batch',
    };
  if (status === 401 || status === 403)
    return {
      outcome: 'permanent',
      code: `http_${status}`,
      reason: `The provider refused our credentials (HTTP ${status}).`,
      scope: 'account',
    };
  return {
    outcome: 'permanent',
    code: `http_${status}`,
    reason: `The provider refused the request (HTTP ${status}).`,
    scope: 'batch',
  };
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** JSON.parse that answers undefined instead of throwing: provider bodies are not always JSON. */
export function parseJsonBody(body: string): unknown {
  try {
    const value: unknown = JSON.parse(body);
    return value;
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string | undefined {
  for (
    let current = error, depth = 0;
    typeof current === 'object' && current !== null && depth < 5;
    depth++
  ) {
    if ('code' in current && typeof current.code === 'string') return current.code;
    current = 'cause' in current ? current.cause : undefined;
  }
  return undefined;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
