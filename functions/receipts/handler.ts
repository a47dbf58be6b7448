import {
  createDocumentClient,
  createLogger,
  createQueueHandler,
  loadFunctionConfig,
  receiptDeps,
} from '@qunfa/aws';
import { processCallbackBatch, receiptQueueMessage } from '@qunfa/domain';

// The receipt queue's consumer: each verified provider callback (receipts and replies) is
// applied by the domain (packages/domain/src/receipts/process.ts); a failure retries the
// callback alone (partial batch failure), which is harmless: every move is conditional.
const config = loadFunctionConfig('receipts');
const logger = createLogger({ service: 'receipts', level: config.logLevel });
const deps = receiptDeps({ client: createDocumentClient(), config, logger });

export const handler = createQueueHandler({
  schema: receiptQueueMessage,
  logger,
  // A callback holds up to a thousand receipts: none is begun in the last 15 of 30 seconds.
  marginMs: 15_000,
  process: async (message) => {
    const report = await processCallbackBatch(deps, message);
    logger.info('callback applied', { tenantId: message.tenantId, provider: message.provider, ...report });
  },
});
