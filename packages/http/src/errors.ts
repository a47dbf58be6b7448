import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  type Problem,
  QunfaError,
  UnauthorizedError,
  ValidationError,
} from '@qunfa/domain';

/** HTTP-only failures: the route or the body's form, before any domain rule runs. */
export class RouteNotFoundError extends QunfaError {
  readonly code = 'route_not_found';
  constructor(method: string, path: string) {
    super(`No route ${method} ${path}. See GET /openapi.json for the routes.`);
    this.name = 'RouteNotFoundError';
  }
}

export class MethodNotAllowedError extends QunfaError {
  readonly code = 'method_not_allowed';
  readonly allowed: readonly string[];
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(`${method} is not allowed on ${path}; use ${allowed.join(', ')}.`);
    this.name = 'MethodNotAllowedError';
    this.allowed = allowed;
  }
}

export class UnsupportedMediaTypeError extends QunfaError {
  readonly code = 'unsupported_media_type';
  constructor(contentType: string, expected: string) {
    super(`Content-Type ${contentType || '(none)'} is not accepted here; send ${expected}.`);
    this.name = 'UnsupportedMediaTypeError';
  }
}

export class PayloadTooLargeError extends QunfaError {
  readonly code = 'payload_too_large';
  constructor(limitBytes: number) {
    super(`The body is larger than ${limitBytes} bytes.`);
    this.name = 'PayloadTooLargeError';
  }
}

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly requestId: string;
  readonly problems?: readonly Problem[];
}

interface Mapped {
  readonly statusCode: number;
  readonly body: ErrorBody;
  readonly headers: Record<string, string>;
}

// The one mapping from error class to HTTP status (STYLE.md habit 5).
const statusByClass: [abstract new (...args: never[]) => QunfaError, number][] = [
  [ValidationError, 400],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [RouteNotFoundError, 404],
  [MethodNotAllowedError, 405],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
];

/** Maps any thrown value to a response body; an unexpected error never reveals its details. */
export function errorResponse(error: unknown, requestId: string): Mapped {
  if (error instanceof QunfaError) {
    const status = statusByClass.find(([type]) => error instanceof type)?.[1] ?? 500;
    const headers: Record<string, string> = {};
    if (error instanceof UnauthorizedError) headers['www-authenticate'] = 'Bearer';
    if (error instanceof MethodNotAllowedError) headers.allow = error.allowed.join(', ');
    return {
      statusCode: status,
      headers,
      body: {
        code: error.code,
        message: error.message,
        requestId,
        ...(error instanceof ValidationError ? { problems: error.problems } : {}),
      },
    };
  }
  return {
    statusCode: 500,
    headers: {},
    body: {
      code: 'internal_error',
      message: 'Something went wrong on our side. Quote the request id if you contact support.',
      requestId,
    },
  };
}
