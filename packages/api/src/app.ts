import middy from '@middy/core';
import type { QunfaLogger } from '@qunfa/aws';
import {
  authenticate,
  type CampaignDeps,
  type ConversionDeps,
  type ImportDeps,
  type MemberDeps,
  type ReplyRuleDeps,
  type RunMessageDeps,
  type SegmentDeps,
  type TagJobDeps,
  type TemplateDeps,
  type TenancyDeps,
  type TestSendDeps,
} from '@qunfa/domain';
import { accessLog, createRouter, httpErrors, type Route } from '@qunfa/http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { campaignRoutes, testSendRoutes } from './routes/campaigns';
import { eventRoutes } from './routes/events';
import { importRoutes } from './routes/imports';
import { memberRoutes } from './routes/members';
import { type OpenApiSource, openApiRoutes } from './routes/openapi';
import { optOutRoutes } from './routes/opt-outs';
import { replyRuleRoutes } from './routes/reply-rules';
import { reportRoutes } from './routes/reports';
import { segmentRoutes } from './routes/segments';
import { templateRoutes } from './routes/templates';
import { tenancyRoutes } from './routes/tenancy';

export interface ApiDeps {
  readonly tenancy: TenancyDeps;
  readonly members: MemberDeps;
  readonly segments: SegmentDeps;
  readonly imports: ImportDeps;
  readonly templates: TemplateDeps;
  readonly tagJobs: TagJobDeps;
  readonly campaigns: CampaignDeps;
  /** GET /campaigns/{id}/messages (served by `planner`); without it that route is absent. */
  readonly runMessages?: RunMessageDeps;
  readonly testSends: TestSendDeps;
  /** GET/PUT /reply-rules (served by `api`); without it those routes are absent. */
  readonly replyRules?: ReplyRuleDeps;
  /** POST /events (served by `api`); without it the route is absent. */
  readonly conversions?: ConversionDeps;
  /** GET /openapi.json (served by `api`, public); without it the route is absent. */
  readonly openApi?: OpenApiSource;
  readonly logger: QunfaLogger;
}

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** The routes of the `api` function: keys, tenant, members, opt-outs, imports, segments. */
export function memberApiRoutes(
  deps: Pick<
    ApiDeps,
    'tenancy' | 'members' | 'segments' | 'imports' | 'tagJobs' | 'replyRules' | 'conversions' | 'openApi'
  >,
): Route[] {
  return [
    ...tenancyRoutes(deps.tenancy),
    ...memberRoutes({
      members: deps.members,
      segments: deps.segments,
      tagJobs: deps.tagJobs,
      tenants: deps.tenancy.store,
    }),
    ...optOutRoutes({ optOuts: deps.members, tenants: deps.tenancy.store }),
    ...segmentRoutes({ segments: deps.segments, tenants: deps.tenancy.store }),
    ...importRoutes(deps.imports),
    ...(deps.replyRules === undefined ? [] : replyRuleRoutes({ replyRules: deps.replyRules })),
    ...(deps.conversions === undefined
      ? []
      : eventRoutes({ conversions: deps.conversions, tenants: deps.tenancy.store })),
    ...(deps.openApi === undefined ? [] : openApiRoutes({ source: deps.openApi })),
  ];
}

/** The routes of the `planner` function: templates, campaigns and their reports. */
export function plannerRoutes(
  deps: Pick<ApiDeps, 'tenancy' | 'templates' | 'campaigns' | 'runMessages'>,
): Route[] {
  return [
    ...templateRoutes({ templates: deps.templates, tenants: deps.tenancy.store }),
    ...campaignRoutes({ campaigns: deps.campaigns, tenants: deps.tenancy.store }),
    ...reportRoutes({
      campaigns: deps.campaigns,
      ...(deps.runMessages === undefined ? {} : { runMessages: deps.runMessages }),
    }),
  ];
}

/** The routes of the `tester` function: test sends. */
export function testerRoutes(deps: Pick<ApiDeps, 'tenancy' | 'testSends'>): Route[] {
  return testSendRoutes({ testSends: deps.testSends, tenants: deps.tenancy.store });
}

/** Every route of the HTTP API, in one list (tests, the OpenAPI document). */
export function apiRoutes(deps: ApiDeps): Route[] {
  return [...memberApiRoutes(deps), ...plannerRoutes(deps), ...testerRoutes(deps)];
}

/** An HTTP function over some routes: middleware first, router last. */
export function createHttpHandler({
  routes,
  tenancy,
  logger,
}: {
  routes: readonly Route[];
  tenancy: Pick<TenancyDeps, 'store'>;
  logger: QunfaLogger;
}): ApiHandler {
  const router = createRouter({
    routes,
    authenticate: (authorization) => authenticate({ store: tenancy.store, authorization }),
  });
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(accessLog({ logger }))
    .use(httpErrors({ logger }))
    .handler(router);
}

/** The whole HTTP API in one handler (tests; on AWS it is split over `api` and `planner`). */
export function createApiHandler(deps: ApiDeps): ApiHandler {
  return createHttpHandler({ routes: apiRoutes(deps), tenancy: deps.tenancy, logger: deps.logger });
}
