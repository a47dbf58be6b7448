import {
  createSegment,
  deleteSegment,
  getSegment,
  messageCategories,
  previewSegment,
  type SegmentDeps,
  segmentDefinition,
  segmentFields,
  segmentId,
  segmentPatch,
  type TenantStore,
  updateSegment,
} from '@qunfa/domain';
import { defineRoute, type Route } from '@qunfa/http';
import * as z from 'zod';
import { pageOptions, pageQuery } from './paging';
import { requireTenant } from './tenant';

const segmentParams = z.object({ segmentId });
const listQuery = z.strictObject({
  ...pageQuery({ max: 100, fallback: 50 }),
});

/** A saved segment by id, or a definition inline; exactly one. */
export const previewBody = z
  .strictObject({
    segmentId: segmentId.exactOptional(),
    definition: segmentDefinition.exactOptional(),
    category: z.enum(messageCategories).default('marketing'),
    sampleSize: z.number().int().min(0).max(100).default(10),
  })
  .refine((body) => (body.segmentId === undefined) !== (body.definition === undefined), {
    message: 'give either segmentId or definition',
    path: ['segmentId'],
  });

/** Saved segments (CRUD) and the audience preview. */
export function segmentRoutes({
  segments,
  tenants,
}: {
  segments: SegmentDeps;
  tenants: TenantStore;
}): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/segments',
      summary: 'Saves a segment: a name, a description and a definition.',
      role: 'marketer',
      body: segmentFields,
      handle: async ({ principal, body }) => ({
        status: 201,
        body: await createSegment(segments, { tenantId: principal.tenantId, fields: body }),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/segments',
      summary: "The tenant's saved segments, a page at a time.",
      role: 'viewer',
      query: listQuery,
      handle: async ({ principal, query }) => ({
        status: 200,
        body: await segments.segments.list(principal.tenantId, pageOptions(query)),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/segments/{segmentId}',
      summary: 'One saved segment.',
      role: 'viewer',
      params: segmentParams,
      handle: async ({ principal, params }) => ({
        status: 200,
        body: await getSegment(segments, { tenantId: principal.tenantId, segmentId: params.segmentId }),
      }),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/segments/{segmentId}',
      summary: "Changes a segment's name, description or definition.",
      role: 'marketer',
      params: segmentParams,
      body: segmentPatch,
      handle: async ({ principal, params, body }) => ({
        status: 200,
        body: await updateSegment(segments, {
          tenantId: principal.tenantId,
          segmentId: params.segmentId,
          patch: body,
        }),
      }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/segments/{segmentId}',
      summary: 'Deletes a saved segment.',
      role: 'marketer',
      params: segmentParams,
      handle: async ({ principal, params }) => {
        await deleteSegment(segments, { tenantId: principal.tenantId, segmentId: params.segmentId });
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/segments/preview',
      summary:
        'How many members a segment matches, how many would be suppressed and why, the eligible count and a masked sample.',
      role: 'viewer',
      body: previewBody,
      handle: async ({ principal, body }) => {
        const tenant = await requireTenant(tenants, principal.tenantId);
        const definition =
          body.definition ??
          (await getSegment(segments, { tenantId: tenant.tenantId, segmentId: body.segmentId ?? '' }))
            .definition;
        return {
          status: 200,
          body: await previewSegment(segments, {
            tenant,
            definition,
            category: body.category,
            sampleSize: body.sampleSize,
          }),
        };
      },
    }),
  ];
}
