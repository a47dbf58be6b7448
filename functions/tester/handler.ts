import { createHttpHandler, testerRoutes } from '@qunfa/api';
import {
  createDocumentClient,
  createLogger,
  loadFunctionConfig,
  tenancyDeps,
  testSendDeps,
} from '@qunfa/aws';

// Test sends (POST /campaigns/{campaignId}/test-send), routed here by API Gateway
// (resources: httpRoutes): the only HTTP route that calls a provider.
const config = loadFunctionConfig('tester');
const client = createDocumentClient();
const tenancy = tenancyDeps({ client, tableName: config.table('tenants') });

export const handler = createHttpHandler({
  routes: testerRoutes({ tenancy, testSends: testSendDeps({ client, config }) }),
  tenancy,
  logger: createLogger({ service: 'tester', level: config.logLevel }),
});
