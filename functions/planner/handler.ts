import { createHttpHandler, plannerRoutes } from '@qunfa/api';
import {
  campaignDeps,
  createDocumentClient,
  createLogger,
  DynamoMessageStore,
  loadFunctionConfig,
  memberDeps,
  templateDeps,
  tenancyDeps,
} from '@qunfa/aws';

// The sending side of the HTTP API (templates, campaigns, schedules, progress, reports),
// routed here by API Gateway on /templates and /campaigns (resources: httpRoutes).
const config = loadFunctionConfig('planner');
const client = createDocumentClient();
const tenancy = tenancyDeps({ client, tableName: config.table('tenants') });

export const handler = createHttpHandler({
  routes: plannerRoutes({
    tenancy,
    templates: templateDeps({ client, config }),
    campaigns: campaignDeps({ client, config }),
    runMessages: {
      messages: new DynamoMessageStore({ client, tableName: config.table('messages') }),
      members: memberDeps({ client, config }).members,
    },
  }),
  tenancy,
  logger: createLogger({ service: 'planner', level: config.logLevel }),
});
