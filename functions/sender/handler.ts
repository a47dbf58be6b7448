import {
  createDocumentClient,
  createLogger,
  createSenderHandler,
  createSqsClient,
  loadFunctionConfig,
  senderDeps,
} from '@qunfa/aws';

// Send queue → each member of a batch claimed, checked, rendered, rate-limited and sent
// (packages/domain/src/messages/sender.ts); the adapters are assembled in packages/aws.
const config = loadFunctionConfig('sender');
const logger = createLogger({ service: 'sender', level: config.logLevel });

export const handler = createSenderHandler({
  deps: senderDeps({ client: createDocumentClient(), sqs: createSqsClient(), config }),
  logger,
});
