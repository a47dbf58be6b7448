import { type Problem, ValidationError } from '@qunfa/domain';
import type * as z from 'zod';

export type InputPart = 'body' | 'query' | 'path' | 'headers';

/** Every problem zod found, each with its full path (`body.items.2.phone`), none dropped. */
export function problemsOf(error: z.ZodError, part: InputPart): Problem[] {
  return error.issues.map((issue) => ({
    path: [part, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** Parses one part of a request; throws a ValidationError listing every problem. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, part: InputPart): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(problemsOf(result.error, part));
  return result.data;
}
