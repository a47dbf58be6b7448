import { signRequest } from './sigv4';

// A small signed-HTTP client for the three AWS APIs the functions call (DynamoDB, SQS,
// EventBridge Scheduler). The AWS SDK v3 clients cost about 100 ms of every cold start to
// import (measured: `npm run bench -- bundles`); this does what qunfa needs of them in a few
// kilobytes: SigV4 (./sigv4), the SDK's standard retry mode, and errors named as the
// services name them.

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** Static credentials, or a provider called before each request (it caches and refreshes itself). */
export type CredentialsSource = AwsCredentials | (() => Promise<AwsCredentials>);

export interface AwsHttpOptions {
  /** The endpoint prefix and signing name: `dynamodb`, `sqs`, `scheduler`. */
  readonly service: string;
  /** Defaults to AWS_REGION. */
  readonly region?: string | undefined;
  /** Defaults to AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then the public endpoint. */
  readonly endpoint?: string | undefined;
  /** Defaults to the execution role's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. */
  readonly credentials?: CredentialsSource | undefined;
  /** Attempts per call, the first included (the SDK's standard mode: 3). */
  readonly maxAttempts?: number | undefined;
  readonly env?: Record<string, string | undefined>;
  /** The global fetch, unless a unit test answers in its place. */
  readonly fetch?: typeof fetch;
}

export interface ObservedCall {
  readonly service: string;
  readonly operation: string;
  readonly attempts: number;
  /** What was asked (the body as sent). */
  readonly body?: string | undefined;
  /** The answer, when the call succeeded. */
  readonly output?: { readonly status: number; readonly text: string };
}

/**
 * Benchmarks only: every wire client in this process also reports to these observers, and
 * DocumentClient asks DynamoDB for consumed capacity while one wants it. Nothing in a function
 * registers one.
 */
interface ProcessMetering {
  readonly observers: Set<(call: ObservedCall) => void>;
  returnConsumedCapacity: boolean;
}
// On globalThis: the local stack imports each handler afresh, each with its own copy of this
// module, and all of them must report to the one benchmark.
const meteringKey = Symbol.for('qunfa.awsMetering');
const globalSlots = globalThis as { [meteringKey]?: ProcessMetering };
globalSlots[meteringKey] ??= { observers: new Set(), returnConsumedCapacity: false };
export const processMetering: ProcessMetering = globalSlots[meteringKey];
const processObservers = processMetering.observers;

export function observeAwsCalls(
  observer: (call: ObservedCall) => void,
  { returnConsumedCapacity = false }: { returnConsumedCapacity?: boolean } = {},
): () => void {
  processObservers.add(observer);
  if (returnConsumedCapacity) processMetering.returnConsumedCapacity = true;
  return () => {
    processObservers.delete(observer);
    if (processObservers.size === 0) processMetering.returnConsumedCapacity = false;
  };
}

export interface AwsRequest {
  /** For errors and observers: `PutItem`, `SendMessageBatch`, `CreateSchedule`. */
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * An error the service answered with. `name` is the service's error code
 * (`ConditionalCheckFailedException`, `ResourceNotFoundException`), so callers match on it
 * exactly as they would on the SDK's exception classes.
 */
export class AwsServiceError extends Error {
  readonly status: number;
  readonly operation: string;
  /** The whole error document, for errors that carry more than a message (CancellationReasons). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor({
    name,
    message,
    status,
    operation,
    details,
  }: {
    readonly name: string;
    readonly message: string;
    readonly status: number;
    readonly operation: string;
    readonly details: Readonly<Record<string, unknown>>;
  }) {
    super(message);
    this.name = name;
    this.status = status;
    this.operation = operation;
    this.details = details;
  }
}

const throttlingCodes = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'TransactionInProgressException',
]);

/** The SDK's standard mode: throttling, 5xx and dropped connections are retried; nothing else. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof AwsServiceError) return throttlingCodes.has(error.name) || error.status >= 500;
  return error instanceof TypeError; // fetch failed: reset, refused, DNS
}

export interface AwsHttp {
  readonly service: string;
  readonly endpoint: string;
  call(request: AwsRequest): Promise<{ status: number; headers: Headers; text: string }>;
  /** awsJson1_0 (DynamoDB, SQS): POST / with the operation in X-Amz-Target; the answer parsed. */
  callJson(targetPrefix: string, operation: string, body: string): Promise<Record<string, unknown>>;
}

export function createAwsHttp(options: AwsHttpOptions): AwsHttp {
  const env = options.env ?? process.env;
  const { service } = options;
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = (
    options.endpoint ??
    env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ??
    env.AWS_ENDPOINT_URL ??
    `https://${service}.${region}.amazonaws.com`
  ).replace(/\/+$/, '');
  const credentials = credentialsFrom(options.credentials, env);
  const maxAttempts = options.maxAttempts ?? 3;
  const fetchImpl = options.fetch ?? fetch;

  async function once(request: AwsRequest): Promise<{ status: number; headers: Headers; text: string }> {
    const url = new URL(endpoint + request.path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    const { accessKeyId, secretAccessKey, sessionToken } = await credentials();
    const headers = signRequest(
      { method: request.method, url, headers: request.headers ?? {}, body: request.body ?? '' },
      { accessKeyId, secretAccessKey, sessionToken, region, service },
    );
    const response = await fetchImpl(url, {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    const text = await response.text();
    if (response.status >= 300) throw serviceError(request.operation, response, text);
    return { status: response.status, headers: response.headers, text };
  }

  const report = (call: ObservedCall): void => {
    for (const observer of processObservers) observer(call);
  };
  const call: AwsHttp['call'] = async (request) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await once(request);
        report({
          service,
          operation: request.operation,
          attempts: attempt,
          body: request.body,
          output: answer,
        });
        return answer;
      } catch (error) {
        if (attempt >= maxAttempts || !isRetryable(error)) {
          report({ service, operation: request.operation, attempts: attempt, body: request.body });
          throw error;
        }
        await sleep(backoffMs(attempt, error));
      }
    }
  };
  return {
    service,
    endpoint,
    call,
    async callJson(targetPrefix, operation, body) {
      const { text } = await call({
        operation,
        method: 'POST',
        path: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `${targetPrefix}.${operation}`,
        },
        body,
      });
      return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    },
  };
}

/** Full jitter over an exponential base, as the SDK's standard mode (capped at 20 s). */
function backoffMs(attempt: number, error: unknown): number {
  const base = error instanceof AwsServiceError && throttlingCodes.has(error.name) ? 500 : 100;
  return Math.random() * Math.min(20_000, base * 2 ** (attempt - 1));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function credentialsFrom(
  source: CredentialsSource | undefined,
  env: Record<string, string | undefined>,
): () => Promise<AwsCredentials> {
  if (typeof source === 'function') return source;
  if (source) return () => Promise.resolve(source);
  return () => {
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      return Promise.reject(
        new Error('No AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set.'),
      );
    }
    return Promise.resolve({ accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN });
  };
}

/**
 * The three error shapes of the APIs used: awsJson1_0 `{"__type": "ns#Code", "message"}`,
 * restJson1 `x-amzn-ErrorType: Code:uri` with `{"Message"}`, and SQS's query-compatible
 * `x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender`.
 */
function serviceError(operation: string, response: Response, text: string): AwsServiceError {
  let details: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') details = parsed as Record<string, unknown>;
  } catch {
    // A proxy's HTML page or an empty body: the status says enough.
  }
  const typeField = typeof details.__type === 'string' ? details.__type : undefined;
  const header = response.headers.get('x-amzn-errortype') ?? undefined;
  const raw = typeField ?? header ?? `Http${response.status}`;
  const name = raw.split(':')[0]?.split('#').at(-1) ?? raw;
  const message =
    (typeof details.message === 'string' && details.message) ||
    (typeof details.Message === 'string' && details.Message) ||
    `${operation} failed with HTTP ${response.status}.`;
  return new AwsServiceError({ name, message, status: response.status, operation, details });
}
