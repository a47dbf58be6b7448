import { createHttpHandler, plannerRoutes } from '@qunfa/api';
import {
  campaignDeps,
  createDocumentClient,
  createLogger,
  loadFunctionConfig,
  templateDeps,
  tenancyDeps,
} from '@qunfa/aws';

// The sending side of the HTTP API (templates, campaigns, schedules, progress),
// routed here by API Gateway on /templates and /campaigns (resources: httpRoutes).
const config = loadFunctionConfig('planner');
const client = createDocumentClient();
const tenancy = tenancyDeps({ client, tableName: config.table('tenants') });

export const handler = createHttpHandler({
  routes: plannerRoutes({
    tenancy,
    templates: templateDeps({ client, config }),
    campaigns: campaignDeps({ client, config }),
  }),
  tenancy,
  logger: createLogger({ service: 'planner', level: config.logLevel }),
});
