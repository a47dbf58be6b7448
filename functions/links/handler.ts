import {
  createDocumentClient,
  createLinkHandler,
  createLogger,
  linkDeps,
  loadFunctionConfig,
} from '@qunfa/aws';

// GET /l/{code} → 302 to the merchant's URL, the click counted (packages/domain/src/engagement).
const config = loadFunctionConfig('links');

export const handler = createLinkHandler({
  deps: linkDeps({ client: createDocumentClient(), config }),
  logger: createLogger({ service: 'links', level: config.logLevel }),
});
