import * as domain from '@qunfa/domain';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  QunfaError,
  UnauthorizedError,
  ValidationError,
} from '@qunfa/domain';
import * as http from '@qunfa/http';
import {
  errorResponse,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
} from '@qunfa/http';
import { describe, expect, it } from 'vitest';

describe('errorResponse', () => {
  it.each([
    [new ValidationError([{ path: 'body.name', message: 'required' }]), 400, 'validation_failed'],
    [new UnauthorizedError(), 401, 'unauthorized'],
    [new ForbiddenError('needs admin'), 403, 'forbidden'],
    [new NotFoundError('no campaign c-1'), 404, 'not_found'],
    [new RouteNotFoundError('GET', '/nowhere'), 404, 'route_not_found'],
    [new MethodNotAllowedError('PUT', '/me', ['GET']), 405, 'method_not_allowed'],
    [new ConflictError('already exists'), 409, 'conflict'],
    [new PayloadTooLargeError(1024), 413, 'payload_too_large'],
    [new UnsupportedMediaTypeError('text/plain', 'application/json'), 415, 'unsupported_media_type'],
  ])('maps %s to %i with the code %s', (error, status, code) => {
    const mapped = errorResponse(error, 'req-1');

    expect(mapped.statusCode).toBe(status);
    expect(mapped.body).toMatchObject({ code, message: error.message, requestId: 'req-1' });
  });

  it('lists the problems of a validation error', () => {
    const problems = [
      { path: 'body.name', message: 'required' },
      { path: 'query.limit', message: 'at most 100' },
    ];

    const mapped = errorResponse(new ValidationError(problems), 'req-1');

    expect(mapped.body.problems).toEqual(problems);
  });

  it('adds no problems to other errors', () => {
    const mapped = errorResponse(new ConflictError('already exists'), 'req-1');

    expect(mapped.body).not.toHaveProperty('problems');
  });

  it('asks for a bearer key on 401', () => {
    const mapped = errorResponse(new UnauthorizedError(), 'req-1');

    expect(mapped.headers).toEqual({ 'www-authenticate': 'Bearer' });
  });

  it('lists the allowed methods on 405', () => {
    const mapped = errorResponse(
      new MethodNotAllowedError('PUT', '/keys/{keyId}', ['GET', 'DELETE']),
      'req-1',
    );

    expect(mapped.headers).toEqual({ allow: 'GET, DELETE' });
    expect(mapped.body.message).toBe('PUT is not allowed on /keys/{keyId}; use GET, DELETE.');
  });

  it('tells the size limit on 413', () => {
    const mapped = errorResponse(new PayloadTooLargeError(6 * 1024 * 1024), 'req-1');

    expect(mapped.body.message).toBe('The body is larger than 6291456 bytes.');
  });

  it.each([
    ['an Error', new Error('connect ECONNREFUSED 10.0.0.1:8000')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'pk')")],
    ['a thrown string', 'table qunfa-prod-members not found'],
    ['undefined', undefined],
  ])('answers %s with 500 internal_error and none of its details', (_case, thrown) => {
    const mapped = errorResponse(thrown, 'req-9');

    expect(mapped).toEqual({
      statusCode: 500,
      headers: {},
      body: {
        code: 'internal_error',
        message: 'Something went wrong on our side. Quote the request id if you contact support.',
        requestId: 'req-9',
      },
    });
  });

  // One error-to-status mapping (STYLE.md habit 5): a named error that someone forgets to
  // add to it would turn an expected failure into a 500.
  it('maps every named error of the domain and of the HTTP layer to a 4xx status', () => {
    const exported: unknown[] = [...Object.values(domain), ...Object.values(http)];

    const statuses = exported.flatMap((value) => {
      if (typeof value !== 'function' || !(value.prototype instanceof QunfaError)) return [];
      const error: unknown = Reflect.construct(value, [[{ path: 'body', message: 'x' }], '/x', ['GET']]);
      return [[value.name, errorResponse(error, 'req-1').statusCode] as const];
    });

    expect(statuses.length).toBeGreaterThanOrEqual(9);
    for (const [name, status] of statuses) {
      expect(status, name).toBeGreaterThanOrEqual(400);
      expect(status, name).toBeLessThan(500);
    }
  });
});
