// Templates: what a merchant writes, checked when saved (variables, signature, opt-out, banned
// words, provider binding), compiled once into a fast renderer, measured in SMS parts and
// priced. The grammar of a body is in syntax.ts, the formats in formats.ts. use-cases.ts is
// what the HTTP API calls: saved templates behind a RecordStore, and the preview over a
// segment or a list of members read through the member and opt-out ports.

export { bannedWordList, builtInBannedWords, findBannedWords } from './banned-words';
export {
  type CompiledTemplate,
  compileTemplate,
  type ProviderParam,
  type RenderOutcome,
  renderMessage,
} from './compile';
export {
  acceptedOptOutForms,
  endsWithOptOut,
  findRawUrls,
  optOutKeywordsNamed,
  optOutTexts,
  previewCarriesOffer,
  previewLength,
  signaturePrefix,
  smsSignature,
} from './compliance';
export {
  type CountingRule,
  gsmBasicCharacters,
  gsmExtensionCharacters,
  isGsm7,
  type MessageSize,
  measureMessage,
  nonGsmCharacters,
  type SmsEncoding,
  splitMessage,
} from './encoding';
export {
  type PreviewMember,
  type PreviewOptions,
  type PreviewSample,
  type PreviewTally,
  previewTemplate,
  type SuppressedCount,
  startPreview,
  type TemplatePreview,
} from './preview';
export {
  type CostEstimate,
  countingRules,
  defaultPartPrices,
  estimateCost,
  fromMicros,
  type PartPrice,
  type PartPriceOverrides,
  partPriceFor,
  partPriceOverride,
  partPriceOverrides,
  type ResolvedPartPrice,
  type SmsProviderId,
  smsProviderId,
  smsProviderIds,
  toMicros,
} from './pricing';
export {
  listStarterTemplates,
  type StarterKey,
  type StarterTemplate,
  starterKeys,
  starterTemplates,
} from './starter';
export {
  campaignVariable,
  type MessageExample,
  maxTemplateBodyLength,
  type ProviderBinding,
  providerBinding,
  type Template,
  type TemplateCategory,
  type TemplateHint,
  type TemplateHintCode,
  type TemplateInput,
  type TemplateLocale,
  type TemplateReview,
  templateCategories,
  templateDefinition,
  templateHintCodes,
  templateInput,
  templateLocale,
  templateLocales,
  validateSendValues,
  validateTemplate,
} from './template';
export {
  createTemplate,
  deleteTemplate,
  getTemplate,
  previewSavedTemplate,
  type ReviewedTemplate,
  replaceTemplate,
  type SavedTemplate,
  savedTemplate,
  type TemplateAudiencePreview,
  type TemplateDeps,
  type TemplatePreviewAudience,
  type TemplateSuppression,
  templateId,
  templatePreviewLimits,
} from './use-cases';
export { linkStandIn, type SendValues, type TemplateMember } from './variables';
