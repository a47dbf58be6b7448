import type * as z from 'zod';
import type { Problem } from './errors';

/** Every problem zod found, each with its full path under `root` (`body.items.2.phone`). */
export function problemsOf(error: z.ZodError, root: string): Problem[] {
  const at = (path: readonly PropertyKey[]): string => [root, ...path.map(String)].join('.');
  return error.issues.flatMap((issue) =>
    // zod reports all unknown keys of an object as one issue at the object; a client fixing
    // its request needs each one at its own path (`body.colour`).
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: 'unknown field' }))
      : [{ path: at(issue.path), message: issue.message }],
  );
}
