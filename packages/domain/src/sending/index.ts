// Sending a message: the provider's rate limit counted in parts, what a provider's answer
// means, and the retry policy that follows from it.

export * from './backoff';
export * from './provider-outcome';
export * from './rate-limit';
