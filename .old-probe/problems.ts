import type * as z from 'zod';
import type { Problem } from '../packages/domain/src/shared/errors';

/** Every problem zod found, each with its full path under `root` (`body.items.2.phone`). */
export function problemsOf(error: z.ZodError, root: string): Problem[] {
  return error.issues.map((issue) => ({
    path: [root, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}
