import {
  type CampaignDeps,
  campaignId,
  campaignInput,
  campaignPatch,
  cancelCampaign,
  createCampaign,
  deleteCampaign,
  getCampaignWithProgress,
  listCampaignRuns,
  pauseCampaign,
  resumeCampaign,
  scheduleCampaign,
  type TenantStore,
  type TestSendDeps,
  testSendCampaign,
  testSendInput,
  updateCampaign,
} from '@qunfa/domain';
import { defineRoute, type Route } from '@qunfa/http';
import * as z from 'zod';
import { pageOptions, pageQuery } from './paging';
import { requireTenant } from './tenant';

const campaignParams = z.object({ campaignId });
const listQuery = z.strictObject({ ...pageQuery({ max: 100, fallback: 50 }) });
const patchQuery = z.strictObject({
  /** The `updatedAt` of the version the caller edited: a newer stored version answers 409. */
  expectedUpdatedAt: z.iso.datetime().exactOptional(),
});

type Move = typeof scheduleCampaign;

/**
 * Campaigns: drafts (create, list, read with the latest run's progress, change, delete), test
 * sends, and the lifecycle moves (schedule, pause, resume, cancel), each an illegal move
 * answering 409.
 */
export function campaignRoutes({
  campaigns,
  tenants,
}: {
  campaigns: CampaignDeps;
  tenants: TenantStore;
}): Route[] {
  const move = (action: string, summary: string, run: Move) =>
    defineRoute({
      method: 'POST',
      path: `/campaigns/{campaignId}/${action}`,
      summary,
      role: 'marketer',
      params: campaignParams,
      handle: async ({ principal, params }) => ({
        status: 200,
        body: await run(campaigns, { tenantId: principal.tenantId, campaignId: params.campaignId }),
      }),
    });
  return [
    defineRoute({
      method: 'POST',
      path: '/campaigns',
      summary:
        'Saves a draft campaign: name, category, audience (segment, definition or member ids), content (a template, or 2–5 A/B variants), schedule (now, at, or cron in a time zone), send window, throttle, holdout and budget.',
      role: 'marketer',
      body: campaignInput,
      handle: async ({ principal, body }) => {
        const tenant = await requireTenant(tenants, principal.tenantId);
        return { status: 201, body: await createCampaign(campaigns, { tenant, input: body }) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/campaigns',
      summary: "The tenant's campaigns, a page at a time.",
      role: 'viewer',
      query: listQuery,
      handle: async ({ principal, query }) => ({
        status: 200,
        body: await campaigns.campaigns.list(principal.tenantId, pageOptions(query)),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/campaigns/{campaignId}',
      summary:
        "One campaign with its latest run's progress: targeted, suppressed by reason, queued, sent, delivered, failed, remaining, rate and ETA.",
      role: 'viewer',
      params: campaignParams,
      handle: async ({ principal, params }) => ({
        status: 200,
        body: await getCampaignWithProgress(campaigns, {
          tenantId: principal.tenantId,
          campaignId: params.campaignId,
        }),
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/campaigns/{campaignId}/runs',
      summary: "A campaign's runs (one per fire, missed ones included), newest first.",
      role: 'viewer',
      params: campaignParams,
      query: listQuery,
      handle: async ({ principal, params, query }) => ({
        status: 200,
        body: await listCampaignRuns(campaigns, {
          tenantId: principal.tenantId,
          campaignId: params.campaignId,
          ...pageOptions(query),
        }),
      }),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/campaigns/{campaignId}',
      summary:
        'Changes a draft (409 once scheduled); `null` removes throttle or budget, `expectedUpdatedAt` refuses to overwrite a newer version.',
      role: 'marketer',
      params: campaignParams,
      query: patchQuery,
      body: campaignPatch,
      handle: async ({ principal, params, query, body }) => ({
        status: 200,
        body: await updateCampaign(campaigns, {
          tenantId: principal.tenantId,
          campaignId: params.campaignId,
          patch: body,
          ...(query.expectedUpdatedAt === undefined ? {} : { expectedUpdatedAt: query.expectedUpdatedAt }),
        }),
      }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/campaigns/{campaignId}',
      summary: 'Deletes a draft (409 once scheduled: cancel it instead).',
      role: 'marketer',
      params: campaignParams,
      handle: async ({ principal, params }) => {
        await deleteCampaign(campaigns, { tenantId: principal.tenantId, campaignId: params.campaignId });
        return { status: 204 };
      },
    }),
    move(
      'schedule',
      'Schedules a draft: one schedule per campaign (now: a few seconds ahead; at: once; cron: recurring in its time zone), each fire starting a run.',
      scheduleCampaign,
    ),
    move(
      'pause',
      'Pauses a scheduled or running campaign: nothing fires and nothing is sent until it resumes.',
      pauseCampaign,
    ),
    move('resume', 'Resumes a paused campaign into the state it was paused from.', resumeCampaign),
    move(
      'cancel',
      'Cancels a scheduled, running or paused campaign and deletes its schedule.',
      cancelCampaign,
    ),
  ];
}

/** The test send, served by the `tester` function (resources: httpRoutes). */
export function testSendRoutes({
  testSends,
  tenants,
}: {
  testSends: TestSendDeps;
  tenants: TenantStore;
}): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/campaigns/{campaignId}/test-send',
      summary:
        "Sends the campaign's message (each variant, or `variantId`) now to 1–20 staff numbers, filled from `memberId` or an example member and `values`; answers each number's status (sent, failed, unknown, opted_out), provider message id, parts and text. It takes the provider's rate limit, but no run counter, frequency cap, campaign throttle or budget, and the campaign does not change.",
      role: 'marketer',
      params: campaignParams,
      body: testSendInput,
      handle: async ({ principal, params, body }) => {
        const tenant = await requireTenant(tenants, principal.tenantId);
        return {
          status: 200,
          body: await testSendCampaign(testSends, { tenant, campaignId: params.campaignId, input: body }),
        };
      },
    }),
  ];
}
