import { createLogger, createQueueHandler, loadFunctionConfig } from '@qunfa/aws';
import { receiptMessage } from '@qunfa/domain';

// Applying receipts, replies and clicks arrives with the receipts issue; until then a callback is validated and acknowledged.
const config = loadFunctionConfig('receipts');
const logger = createLogger({ service: 'receipts', level: config.logLevel });

export const handler = createQueueHandler({
  schema: receiptMessage,
  logger,
  process: async (message) => {
    logger.info('receipt message accepted', { tenantId: message.tenantId, type: message.type });
  },
});
