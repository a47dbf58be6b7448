// The SMS provider simulator, reached over HTTP like a real provider.

export type { CallbackResult, CallbackStats } from './callbacks';
export {
  applyConfigPatch,
  defaultSimulatorConfig,
  type SimulatorConfig,
  type SimulatorConfigPatch,
  simulatorConfig,
  simulatorConfigPatch,
} from './config';
export type { MessageCounts, MessageFate, MessageFilter, SimulatedMessage } from './message-log';
export { createMessageLog, type MessageLog } from './message-log';
export {
  type CallCounts,
  type ProviderSimulator,
  type ProviderSimulatorHealth,
  type ProviderSimulatorOptions,
  type ReplyInput,
  startProviderSimulator,
} from './provider-simulator';
export { type Random, seededRandom, shuffle } from './random';
export { createPartsLimiter, type PartsLimiter } from './rate-limiter';
