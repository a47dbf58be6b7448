import {
  createDocumentClient,
  createLogger,
  createQueueHandler,
  DynamoTenantStore,
  importerDeps,
  loadFunctionConfig,
} from '@qunfa/aws';
import { importMessage, runImport } from '@qunfa/domain';

// One uploaded member file per invocation (batch size 1), streamed from its stored parts.
const config = loadFunctionConfig('importer');
const client = createDocumentClient();
const logger = createLogger({ service: 'importer', level: config.logLevel });
const deps = importerDeps({
  client,
  config,
  tenants: new DynamoTenantStore({ client, tableName: config.table('tenants') }),
});

export const handler = createQueueHandler({
  schema: importMessage,
  logger,
  process: async ({ tenantId, importId }) => {
    const outcome = await runImport(deps, { tenantId, importId });
    logger.info('import processed', { tenantId, importId, outcome });
  },
});
