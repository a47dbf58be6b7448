import {
  createTemplate,
  deleteTemplate,
  getTemplate,
  listStarterTemplates,
  memberId,
  previewSavedTemplate,
  replaceTemplate,
  segmentDefinition,
  segmentId,
  type TemplateDeps,
  type TemplatePreviewAudience,
  type TenantStore,
  templateId,
  templateInput,
  templateLocale,
  templatePreviewLimits,
} from '@qunfa/domain';
import { defineRoute, type Route } from '@qunfa/http';
import * as z from 'zod';
import { pageOptions, pageQuery } from './paging';
import { requireTenant } from './tenant';

const templateParams = z.object({ templateId });
const listQuery = z.strictObject({
  ...pageQuery({ max: 100, fallback: 50 }),
});
const starterQuery = z.strictObject({ locale: templateLocale.exactOptional() });
const replaceQuery = z.strictObject({
  /** The `updatedAt` of the version the caller edited: a newer stored version answers 409. */
  expectedUpdatedAt: z.iso.datetime().exactOptional(),
});

/**
 * The audience (a saved segment, a definition inline, or member ids; exactly one), the values
 * of the send (defaults: the examples the template declares) and how many samples to show.
 */
export const templatePreviewBody = z
  .strictObject({
    segmentId: segmentId.exactOptional(),
    definition: segmentDefinition.exactOptional(),
    memberIds: z.array(memberId).min(1).max(templatePreviewLimits.maxMemberIds).exactOptional(),
    values: z.unknown().exactOptional(),
    sampleSize: z.number().int().min(0).max(templatePreviewLimits.maxSampleSize).default(5),
  })
  .refine(
    (body) =>
      [body.segmentId, body.definition, body.memberIds].filter((given) => given !== undefined).length === 1,
    { message: 'give exactly one of segmentId, definition or memberIds', path: ['segmentId'] },
  );

function audienceOf(body: z.output<typeof templatePreviewBody>): TemplatePreviewAudience {
  if (body.memberIds !== undefined) return { memberIds: body.memberIds };
  if (body.definition !== undefined) return { definition: body.definition };
  return { segmentId: body.segmentId ?? '' };
}

/**
 * Templates (create, read, replace, delete, list), the starter catalogue and the preview over
 * an audience. The body of POST and PUT is a templateInput; the domain (validateTemplate) then
 * checks it against the tenant's signature, locale and banned words, each problem named in one 400.
 */
export function templateRoutes({
  templates,
  tenants,
}: {
  templates: TemplateDeps;
  tenants: TenantStore;
}): Route[] {
  const tenantOf = (tenantId: string) => requireTenant(tenants, tenantId);
  return [
    defineRoute({
      method: 'POST',
      path: '/templates',
      summary:
        'Saves a template: name, category, locale, body with variables, declared campaign variables and an optional provider binding. Answers the template with an example message and hints.',
      role: 'marketer',
      body: templateInput,
      handle: async ({ principal, body }) => ({
        status: 201,
        body: await createTemplate(templates, { tenant: await tenantOf(principal.tenantId), input: body }),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/templates',
      summary: "The tenant's templates, a page at a time.",
      role: 'viewer',
      query: listQuery,
      handle: async ({ principal, query }) => ({
        status: 200,
        body: await templates.templates.list(principal.tenantId, pageOptions(query)),
      }),
    }),
    // Before /templates/{templateId}: the router takes the first route whose path matches.
    defineRoute({
      method: 'GET',
      path: '/templates/starter',
      summary:
        'Ready-made templates (activity notice, birthday greeting, points reminder, new product, follow-up survey, welcome, shipment notice) to post as they are or edited.',
      role: 'viewer',
      query: starterQuery,
      handle: async ({ query }) => ({
        status: 200,
        body: { items: listStarterTemplates(query.locale ? { locale: query.locale } : {}) },
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/templates/{templateId}',
      summary: 'One template.',
      role: 'viewer',
      params: templateParams,
      handle: async ({ principal, params }) => ({
        status: 200,
        body: await getTemplate(templates, { tenantId: principal.tenantId, templateId: params.templateId }),
      }),
    }),
    defineRoute({
      method: 'PUT',
      path: '/templates/{templateId}',
      summary:
        'Replaces a template with the body given, validated as a new one (`expectedUpdatedAt` refuses to overwrite a newer version).',
      role: 'marketer',
      params: templateParams,
      query: replaceQuery,
      body: templateInput,
      handle: async ({ principal, params, query, body }) => ({
        status: 200,
        body: await replaceTemplate(templates, {
          tenant: await tenantOf(principal.tenantId),
          templateId: params.templateId,
          input: body,
          ...(query.expectedUpdatedAt === undefined ? {} : { expectedUpdatedAt: query.expectedUpdatedAt }),
        }),
      }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/templates/{templateId}',
      summary: 'Deletes a template.',
      role: 'marketer',
      params: templateParams,
      handle: async ({ principal, params }) => {
        await deleteTemplate(templates, { tenantId: principal.tenantId, templateId: params.templateId });
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/templates/{templateId}/preview',
      summary:
        'The template rendered for a segment or up to 1,000 members: masked samples, parts per message and their distribution, suppressed members by reason, and the cost with the tenant’s provider and prices.',
      role: 'viewer',
      params: templateParams,
      body: templatePreviewBody,
      handle: async ({ principal, params, body }) => ({
        status: 200,
        body: await previewSavedTemplate(templates, {
          tenant: await tenantOf(principal.tenantId),
          templateId: params.templateId,
          audience: audienceOf(body),
          sampleSize: body.sampleSize,
          ...(body.values === undefined ? {} : { values: body.values }),
        }),
      }),
    }),
  ];
}
