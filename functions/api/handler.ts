import { join } from 'node:path';
import { createHttpHandler, memberApiRoutes, openApiFile } from '@qunfa/api';
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
    // Beside the bundle on AWS (resources: assets); in the repository when run from source.
    openApi: openApiFile([
      join(import.meta.dirname, 'openapi.json'),
      join(import.meta.dirname, '..', '..', 'docs', 'openapi.json'),
    ]),
  }),
  tenancy,
  logger: createLogger({ service: 'api', level: config.logLevel }),
});
