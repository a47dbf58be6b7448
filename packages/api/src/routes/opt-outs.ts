import {
  addOptOut,
  exportOptOuts,
  listOptOuts,
  lookupOptOut,
  type OptOutDeps,
  optOutFields,
  removeOptOut,
  resubscribeConsent,
  type TenantStore,
} from '@qunfa/domain';
import { defineRoute, type Route } from '@qunfa/http';
import * as z from 'zod';
import { pageQuery } from './paging';
import { requireTenant } from './tenant';

/** A cursor is what the previous page or export part returned (a phone hash). */
const cursor = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'a cursor as the previous page returned it')
  .exactOptional();
const listQuery = z.strictObject({ ...pageQuery({ max: 500, fallback: 50 }), cursor });
const exportQuery = z.strictObject({ cursor });
const phoneParams = z.object({ phone: z.string().trim().min(1).max(40) });
const removeBody = z.strictObject({ consent: resubscribeConsent.exactOptional() }).optional();

/** The opt-out list: look up, add, remove with recorded consent, list and export as CSV. */
export function optOutRoutes({ optOuts, tenants }: { optOuts: OptOutDeps; tenants: TenantStore }): Route[] {
  const tenantOf = (tenantId: string) => requireTenant(tenants, tenantId);
  return [
    defineRoute({
      method: 'GET',
      path: '/opt-outs',
      summary: 'Opted-out numbers, a page at a time: masked phone, source, reason and time.',
      role: 'viewer',
      query: listQuery,
      handle: async ({ principal, query }) => ({
        status: 200,
        body: await listOptOuts(optOuts, {
          tenantId: principal.tenantId,
          limit: query.limit,
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        }),
      }),
    }),
    // Before `/opt-outs/{phone}`: the router takes the first route whose path matches.
    defineRoute({
      method: 'GET',
      path: '/opt-outs/export',
      summary:
        'Every opt-out as CSV (UTF-8 with BOM), in parts under 5 MB: `x-next-cursor` names the next part.',
      role: 'viewer',
      query: exportQuery,
      handle: async ({ principal, query }) => {
        const part = await exportOptOuts(optOuts, {
          tenantId: principal.tenantId,
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        });
        return {
          status: 200,
          body: part.csv,
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': 'attachment; filename="opt-outs.csv"',
            'x-export-rows': String(part.rows),
            ...(part.cursor === undefined
              ? {}
              : {
                  'x-next-cursor': part.cursor,
                  link: `</opt-outs/export?cursor=${part.cursor}>; rel="next"`,
                }),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/opt-outs/{phone}',
      summary: 'Whether a number, in any usual form, is opted out, and since when.',
      role: 'viewer',
      params: phoneParams,
      handle: async ({ principal, params }) => ({
        status: 200,
        body: await lookupOptOut(optOuts, {
          tenant: await tenantOf(principal.tenantId),
          phone: params.phone,
          path: 'path.phone',
        }),
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/opt-outs',
      summary: 'Opts a number out (source `api`): 201, or 200 when it was already, keeping the first time.',
      role: 'marketer',
      body: optOutFields,
      handle: async ({ principal, body }) => {
        const result = await addOptOut(optOuts, { tenant: await tenantOf(principal.tenantId), fields: body });
        return {
          status: result.kind === 'created' ? 201 : 200,
          body: { result: result.kind, optOut: result.optOut },
        };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/opt-outs/{phone}',
      summary:
        'Re-subscribes a number: only with consent given after the opt-out, on the member or in the body (then recorded on the member).',
      role: 'marketer',
      params: phoneParams,
      body: removeBody,
      handle: async ({ principal, params, body }) => {
        await removeOptOut(optOuts, {
          tenant: await tenantOf(principal.tenantId),
          phone: params.phone,
          ...(body?.consent === undefined ? {} : { consent: body.consent }),
        });
        return { status: 204 };
      },
    }),
  ];
}
