import { randomBytes, randomUUID } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { localAccountId } from './names';
import { repoRoot } from './paths';

// What the Lambda runtime gives a handler, reproduced for in-process invocations: a context
// with a deadline, a function timeout that fails the invocation, one module load per
// function (the "cold start"), and nothing else. Differences are in docs/local-fidelity.md.

/** Any Lambda handler: an async function of (event, context). */
export type LambdaHandler<E = never, R = unknown> = (event: E, context: Context) => Promise<R> | R;

/** What an invocation needs to know about the function it plays. */
export interface LocalFunction {
  /** The physical name, e.g. qunfa-local-sender. */
  readonly name: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

export class FunctionTimeoutError extends Error {
  constructor(
    readonly functionName: string,
    readonly timeoutSeconds: number,
  ) {
    super(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds (${functionName}).`);
    this.name = 'FunctionTimeoutError';
  }
}

export class HandlerLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HandlerLoadError';
  }
}

export function createLambdaContext({
  fn,
  region,
  deadline,
  awsRequestId = randomUUID(),
}: {
  fn: LocalFunction;
  region: string;
  /** Epoch milliseconds at which the function times out. */
  deadline: number;
  awsRequestId?: string;
}): Context {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  // Node 24's runtime no longer supports callback-style completion; these stay to satisfy
  // the type and fail loudly if a handler still calls them.
  const unsupported = (name: string) => (): never => {
    throw new Error(
      `context.${name}() is not supported by the nodejs24.x runtime; return a promise instead.`,
    );
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${localAccountId}:function:${fn.name}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

/**
 * Invokes a handler as Lambda does: the promise settles with the handler's result, its
 * error, or a FunctionTimeoutError once the function timeout has passed. Unlike Lambda, a
 * timed-out handler is not frozen: it keeps running in this process, its result ignored.
 */
export async function invokeHandler<E, R>({
  handler,
  event,
  fn,
  region,
  awsRequestId,
}: {
  handler: LambdaHandler<E, R>;
  event: E;
  fn: LocalFunction;
  region: string;
  awsRequestId?: string;
}): Promise<{ result: R; awsRequestId: string }> {
  const timeoutMs = fn.timeoutSeconds * 1000;
  const context = createLambdaContext({
    fn,
    region,
    deadline: Date.now() + timeoutMs,
    ...(awsRequestId ? { awsRequestId } : {}),
  });
  const running = Promise.resolve().then(() => handler(event, context));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new FunctionTimeoutError(fn.name, fn.timeoutSeconds)), timeoutMs);
  });
  // A late rejection of a handler that already timed out must not crash the process.
  running.catch(() => undefined);
  try {
    const result = await Promise.race([running, timedOut]);
    return { result, awsRequestId: context.awsRequestId };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Imports a function's entry (resources: `functions/<id>/handler.ts`) and returns its
 * `handler` export. Call it after the environment is set: handlers build their clients
 * from it at module load, as they do at a Lambda cold start.
 */
export async function loadHandler<E, R>({
  entry,
  rootDir = repoRoot,
}: {
  entry: string;
  rootDir?: string;
}): Promise<LambdaHandler<E, R>> {
  const path = isAbsolute(entry) ? entry : resolve(rootDir, entry);
  let module: unknown;
  try {
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new HandlerLoadError(
      `Could not load ${entry}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  const handler =
    typeof module === 'object' && module !== null && 'handler' in module ? module.handler : undefined;
  if (!isHandler<E, R>(handler))
    throw new HandlerLoadError(`${entry} does not export a \`handler\` function.`);
  return handler;
}

function isHandler<E, R>(value: unknown): value is LambdaHandler<E, R> {
  return typeof value === 'function';
}
