import { createApiHandler } from '@qunfa/api';
import {
  campaignDeps,
  createDocumentClient,
  createLogger,
  importDeps,
  loadFunctionConfig,
  memberDeps,
  templateDeps,
  tenancyDeps,
} from '@qunfa/aws';

// Built once per cold start: config, clients and dependencies; then every request goes
// through the same middy handler.
const config = loadFunctionConfig('api');
const client = createDocumentClient();
const members = memberDeps({ client, config });
const jobs = importDeps({ client, config });

export const handler = createApiHandler({
  tenancy: tenancyDeps({ client, tableName: config.table('tenants') }),
  members,
  segments: members,
  imports: jobs,
  tagJobs: jobs,
  templates: templateDeps({ client, config }),
  campaigns: campaignDeps({ client, config }),
  logger: createLogger({ service: 'api', level: config.logLevel }),
});
