import { readFile } from 'node:fs/promises';
import { defineRoute, type Route } from '@qunfa/http';

/** The OpenAPI document as text: docs/openapi.json, beside the bundle on AWS (resources: assets). */
export type OpenApiSource = () => Promise<string>;

/** The first of these files that exists (the bundle's own copy, then the repository's). */
export function openApiFile(candidates: readonly string[]): OpenApiSource {
  return async () => {
    for (const file of candidates) {
      try {
        return await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    throw new Error(`No OpenAPI document at ${candidates.join(' or ')}: run npm run openapi.`);
  };
}

/**
 * GET /openapi.json, public: the committed document, read once and kept. It is written by
 * `npm run openapi` (packages/api/src/openapi.ts), never built here: the builder needs every
 * function's routes and would weigh on this function's cold start.
 */
export function openApiRoutes({ source }: { source: OpenApiSource }): Route[] {
  let text: Promise<string> | undefined;
  return [
    defineRoute({
      method: 'GET',
      path: '/openapi.json',
      summary: 'This API as an OpenAPI 3.1 document (no API key needed).',
      role: 'viewer',
      public: true,
      handle: async () => {
        text ??= source().catch((error: unknown) => {
          text = undefined;
          throw error;
        });
        return {
          status: 200,
          body: await text,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'cache-control': 'public, max-age=300',
          },
        };
      },
    }),
  ];
}
