// The SMS provider simulator, reached over HTTP like a real provider.

export { type Encoding, estimateParts, type PartsEstimate } from './parts';
export {
  type ProviderSimulator,
  type ProviderSimulatorHealth,
  type ProviderSimulatorOptions,
  type ReceivedMessage,
  sendMessageRequest,
  startProviderSimulator,
} from './provider-simulator';
