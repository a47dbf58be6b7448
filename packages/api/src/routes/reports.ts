import {
  type CampaignDeps,
  campaignId,
  getCampaignReport,
  listRunMessages,
  messageListQuery,
  type RunMessageDeps,
  reportCsv,
  retryFailedMembers,
} from '@qunfa/domain';
import { defineRoute, type Route } from '@qunfa/http';
import * as z from 'zod';
import { pageQuery } from './paging';

const campaignParams = z.object({ campaignId });
const runId = z
  .string()
  .regex(/^run_\d{8}T\d{9}Z$/, 'a run id as GET /campaigns/{id}/runs lists it')
  .exactOptional();
const reportQuery = z.strictObject({ runId, format: z.enum(['json', 'csv']).default('json') });
const messagesQuery = z.strictObject({
  ...pageQuery({ max: 100, fallback: 50 }),
  ...messageListQuery,
  runId,
});
const retryBody = z.strictObject({ runId }).optional();

/**
 * A campaign's results (planner): a run's report as JSON or CSV, its messages a page at a
 * time with phones masked (with `runMessages`), and a run for the failed members only.
 */
export function reportRoutes({
  campaigns,
  runMessages,
}: {
  campaigns: CampaignDeps;
  runMessages?: RunMessageDeps;
}): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/campaigns/{campaignId}/report',
      summary:
        "A run's report (the latest, or `runId`): targeted, suppressed and failed by reason, sent, delivered, unknown, clicks, replies, opt-outs, conversions, revenue, cost and rates, per variant, per hour, the holdout lift and the A/B significance test; `format=csv` for a spreadsheet (UTF-8 with BOM).",
      role: 'viewer',
      params: campaignParams,
      query: reportQuery,
      handle: async ({ principal, params, query }) => {
        const report = await getCampaignReport(campaigns, {
          tenantId: principal.tenantId,
          campaignId: params.campaignId,
          runId: query.runId,
        });
        if (query.format === 'json') return { status: 200, body: report };
        return {
          status: 200,
          body: reportCsv([report]),
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="${report.campaignId}-${report.runId}.csv"`,
          },
        };
      },
    }),
    ...(runMessages === undefined
      ? []
      : [
          defineRoute({
            method: 'GET',
            path: '/campaigns/{campaignId}/messages',
            summary:
              "A run's messages (the latest, or `runId`), a page of up to 100 at a time, filtered by `status` and `variant`: member, masked phone, state, reason, variant, provider message id, parts, cost and times.",
            role: 'viewer',
            params: campaignParams,
            query: messagesQuery,
            handle: async ({ principal, params, query }) => ({
              status: 200,
              body: await listRunMessages(
                { ...campaigns, ...runMessages },
                {
                  tenantId: principal.tenantId,
                  campaignId: params.campaignId,
                  runId: query.runId,
                  state: query.status,
                  variantId: query.variant,
                  limit: query.limit,
                  cursor: query.cursor,
                },
              ),
            }),
          }),
        ]),
    defineRoute({
      method: 'POST',
      path: '/campaigns/{campaignId}/retry-failed',
      summary:
        'Starts one more run of an ended one-time campaign for the members whose message failed in its latest run (or `runId`), each checked again for opt-out, consent, caps and quiet hours; 409 while the campaign is running or when nothing failed.',
      role: 'marketer',
      params: campaignParams,
      body: retryBody,
      handle: async ({ principal, params, body }) => ({
        status: 202,
        body: await retryFailedMembers(campaigns, {
          tenantId: principal.tenantId,
          campaignId: params.campaignId,
          runId: body?.runId,
        }),
      }),
    }),
  ];
}
