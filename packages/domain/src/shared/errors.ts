// Expected failures, named once. packages/http maps each class to an HTTP status and a
// stable `code` in one table; nothing else decides a status.

export interface Problem {
  /** Where the problem is, e.g. `body.phone` or `query.limit`. */
  readonly path: string;
  readonly message: string;
}

export abstract class QunfaError extends Error {
  abstract readonly code: string;
}

export class ValidationError extends QunfaError {
  readonly code = 'validation_failed';
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[], message = 'The request is not valid.') {
    super(message);
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

export class UnauthorizedError extends QunfaError {
  readonly code = 'unauthorized';
  constructor(message = 'Send an API key as `Authorization: Bearer <key>`.') {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

export class ForbiddenError extends QunfaError {
  readonly code = 'forbidden';
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

export class NotFoundError extends QunfaError {
  readonly code = 'not_found';
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends QunfaError {
  readonly code = 'conflict';
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
