import type { ResolvedConfig } from './config';
import { CliError, exitCodes } from './io';

// The HTTP API as the CLI calls it: a bearer key, JSON in and out, and every refusal turned
// into a message that says what to do next, with the exit code that goes with it.

export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** A response the API refused (4xx/5xx), as its error body describes it. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly apiCode: string,
    readonly apiMessage: string,
    readonly problems: readonly Problem[],
    readonly requestId: string | undefined,
    message: string,
  ) {
    super(message, exitCodeOf(status));
    this.name = 'ApiError';
  }
}

export function exitCodeOf(status: number): 0 | 1 | 3 | 4 {
  if (status < 400) return exitCodes.ok;
  if (status === 401 || status === 403) return exitCodes.auth;
  if (status === 404) return exitCodes.notFound;
  return exitCodes.failed;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: unknown;
}

export interface RequestOptions {
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent as is, with `contentType`. */
  readonly bytes?: Uint8Array;
  readonly contentType?: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** What a 404 means here, e.g. "List campaigns with `qunfa campaigns list`." */
  readonly notFoundHint?: string;
}

export class Api {
  constructor(
    private readonly config: ResolvedConfig,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  get endpoint(): string {
    return this.config.endpoint;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const url = new URL(this.config.endpoint + path);
    for (const [name, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.config.apiKey}`,
      accept: 'application/json',
      'user-agent': 'qunfa-cli',
    };
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.bytes !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
      body = options.bytes;
    }
    let response: Response;
    try {
      response = await this.fetchImpl(url, { method, headers, ...(body === undefined ? {} : { body }) });
    } catch (error) {
      const inner = (error as { cause?: { code?: string; message?: string } }).cause;
      const cause = inner?.code ?? inner?.message ?? (error as Error).message;
      throw new CliError(
        `Cannot reach the qunfa API at ${this.config.endpoint} (${cause}).\nIs it running? Start the local stack with \`npm start\`, or set QUNFA_ENDPOINT (or --endpoint) to your API's URL.`,
      );
    }
    // Kept as sent: a CSV's BOM tells Excel it is UTF-8.
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await response.arrayBuffer());
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (response.status >= 400) throw this.refusal(method, path, response.status, json, options.notFoundHint);
    return { status: response.status, headers: response.headers, text, json };
  }

  /** The JSON body of a call that succeeded. */
  async call<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request(method, path, options)).json as T;
  }

  private refusal(
    method: string,
    path: string,
    status: number,
    json: unknown,
    notFoundHint?: string,
  ): ApiError {
    const body = (typeof json === 'object' && json !== null ? json : {}) as {
      code?: unknown;
      message?: unknown;
      requestId?: unknown;
      problems?: unknown;
    };
    const apiMessage =
      typeof body.message === 'string' ? body.message : `${method} ${path} answered ${status}.`;
    const code = typeof body.code === 'string' ? body.code : `http_${status}`;
    const requestId = typeof body.requestId === 'string' ? body.requestId : undefined;
    const problems = Array.isArray(body.problems)
      ? body.problems.flatMap((p: unknown) => {
          const problem = p as { path?: unknown; message?: unknown };
          return typeof problem.message === 'string'
            ? [{ path: typeof problem.path === 'string' ? problem.path : '', message: problem.message }]
            : [];
        })
      : [];
    const lines = [apiMessage];
    for (const problem of problems) lines.push(`  ${problem.path || '(body)'}: ${problem.message}`);
    if (status === 401)
      lines.push(
        `The API did not accept the key from ${this.config.keySource}. Check it (a revoked key stops working), or run \`npm start\` and copy the admin key it prints.`,
      );
    else if (status === 403)
      lines.push(
        "This key's role may not do this. Use a marketer or admin key: `npm run admin -- key create <tenantId> --role marketer --name cli`.",
      );
    else if (status === 404 && notFoundHint) lines.push(notFoundHint);
    else if (status >= 500)
      lines.push(
        `The API failed (${status}); try again, and quote request id ${requestId ?? '(none)'} if it persists.`,
      );
    return new ApiError(status, code, apiMessage, problems, requestId, lines.join('\n'));
  }
}
