import { problemsOf, ValidationError } from '@qunfa/domain';
import type * as z from 'zod';

export type InputPart = 'body' | 'query' | 'path' | 'headers';

/** Parses one part of a request; throws a ValidationError listing every problem with its path. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, part: InputPart): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(problemsOf(result.error, part));
  return result.data;
}
