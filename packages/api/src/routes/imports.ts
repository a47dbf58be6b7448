import {
  createImport,
  getImport,
  type ImportDeps,
  maxParts,
  newImport,
  startImport,
  uploadPart,
} from '@qunfa/domain';
import { defineRoute, type Route } from '@qunfa/http';
import * as z from 'zod';
import { pageOptions, pageQuery } from './paging';

const importId = z.string().regex(/^imp_[0-9A-Za-z]{12}$/, 'an import id such as imp_3kTqZ8bW1xYv');
const importParams = z.object({ importId });
const partParams = z.object({ importId, part: z.coerce.number().int().min(1).max(maxParts) });
const listQuery = z.strictObject({
  ...pageQuery({ max: 100, fallback: 20 }),
});

/** Member imports: create, upload parts, start, follow (see packages/domain/src/members/imports.ts). */
export function importRoutes(deps: ImportDeps): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/imports',
      summary:
        'Opens a member import (format, encoding, column mapping); then upload its parts and start it.',
      role: 'marketer',
      body: newImport,
      handle: async ({ principal, body }) => ({
        status: 201,
        body: await createImport(deps, { tenantId: principal.tenantId, options: body }),
      }),
    }),
    defineRoute({
      method: 'PUT',
      path: '/imports/{importId}/parts/{part}',
      summary:
        'Uploads part n (from 1) of the file: up to 4 MB, cut at any byte. Sending a part again replaces it.',
      role: 'marketer',
      params: partParams,
      rawBody: [
        'text/csv',
        'text/plain',
        'application/x-ndjson',
        'application/jsonl',
        'application/octet-stream',
      ],
      handle: async ({ principal, params, raw }) => ({
        status: 200,
        body: await uploadPart(deps, {
          tenantId: principal.tenantId,
          importId: params.importId,
          part: params.part,
          bytes: raw ?? new Uint8Array(),
        }),
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/imports/{importId}/start',
      summary: 'Closes the upload after `parts` parts and queues the import.',
      role: 'marketer',
      params: importParams,
      body: z.strictObject({ parts: z.number().int().min(1).max(maxParts) }),
      handle: async ({ principal, params, body }) => ({
        status: 202,
        body: await startImport(deps, {
          tenantId: principal.tenantId,
          importId: params.importId,
          parts: body.parts,
        }),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/imports/{importId}',
      summary:
        'An import: its state, progress and report (created, updated, unchanged, invalid rows, duplicates).',
      role: 'viewer',
      params: importParams,
      handle: async ({ principal, params }) => ({
        status: 200,
        body: await getImport(deps, { tenantId: principal.tenantId, importId: params.importId }),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/imports',
      summary: "The tenant's imports of the last week.",
      role: 'viewer',
      query: listQuery,
      handle: async ({ principal, query }) => ({
        status: 200,
        body: await deps.imports.list(principal.tenantId, pageOptions(query)),
      }),
    }),
  ];
}
