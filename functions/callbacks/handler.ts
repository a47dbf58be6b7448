import { createCallbackHandler } from '@qunfa/api';
import {
  callbackDeps,
  createDocumentClient,
  createLogger,
  createSqsClient,
  loadFunctionConfig,
} from '@qunfa/aws';

// Provider callbacks, POST /callbacks/{provider}/{account}[/receipts|/replies] (routed here by
// API Gateway: resources httpRoutes): verify, read into events, enqueue one callback.batch on
// the receipt queue, answer in the provider's format (@qunfa/providers callbacks/intake.ts).
// Built once per cold start.
const config = loadFunctionConfig('callbacks');
const logger = createLogger({ service: 'callbacks', level: config.logLevel });

export const handler = createCallbackHandler({
  deps: callbackDeps({ client: createDocumentClient(), sqs: createSqsClient(), config, logger }),
  logger,
});
