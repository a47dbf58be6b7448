import { createHttpHandler, memberApiRoutes } from '@qunfa/api';
import {
  conversionDeps,
  createDocumentClient,
  createLogger,
  importDeps,
  loadFunctionConfig,
  memberDeps,
  replyRuleDeps,
  tenancyDeps,
} from '@qunfa/aws';

// The member side of the HTTP API (keys, tenant, members, imports, segments). Built once per
// cold start: config, clients and dependencies; then every request goes through one handler.
const config = loadFunctionConfig('api');
const client = createDocumentClient();
const tenancy = tenancyDeps({ client, tableName: config.table('tenants') });
const members = memberDeps({ client, config });
const jobs = importDeps({ client, config });

export const handler = createHttpHandler({
  routes: memberApiRoutes({
    tenancy,
    members,
    segments: members,
    imports: jobs,
    tagJobs: jobs,
    replyRules: replyRuleDeps({ client, config }),
    conversions: conversionDeps({ client, config }),
  }),
  tenancy,
  logger: createLogger({ service: 'api', level: config.logLevel }),
});
