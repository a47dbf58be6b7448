import middy from '@middy/core';
import type { QunfaLogger } from '@qunfa/aws';
import {
  authenticate,
  type CampaignDeps,
  type ImportDeps,
  type MemberDeps,
  type SegmentDeps,
  type TagJobDeps,
  type TemplateDeps,
  type TenancyDeps,
} from '@qunfa/domain';
import { accessLog, createRouter, httpErrors } from '@qunfa/http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { campaignRoutes } from './routes/campaigns';
import { importRoutes } from './routes/imports';
import { memberRoutes } from './routes/members';
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
  readonly logger: QunfaLogger;
}

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Every route of the HTTP API, in one list (the router and the OpenAPI document read it). */
export function apiRoutes(deps: ApiDeps) {
  return [
    ...tenancyRoutes(deps.tenancy),
    ...memberRoutes({
      members: deps.members,
      segments: deps.segments,
      tagJobs: deps.tagJobs,
      tenants: deps.tenancy.store,
    }),
    ...segmentRoutes({ segments: deps.segments, tenants: deps.tenancy.store }),
    ...importRoutes(deps.imports),
    ...templateRoutes({ templates: deps.templates, tenants: deps.tenancy.store }),
    ...campaignRoutes({ campaigns: deps.campaigns, tenants: deps.tenancy.store }),
  ];
}

/** The API function: middleware first, router last. */
export function createApiHandler(deps: ApiDeps): ApiHandler {
  const router = createRouter({
    routes: apiRoutes(deps),
    authenticate: (authorization) => authenticate({ store: deps.tenancy.store, authorization }),
  });
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(accessLog({ logger: deps.logger }))
    .use(httpErrors({ logger: deps.logger }))
    .handler(router);
}
