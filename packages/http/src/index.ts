// HTTP conventions shared by the API and callback functions: routing, validation with
// every problem listed, one error-to-status mapping, access logs.

export * from './errors';
export * from './middleware';
export * from './router';
export * from './validation';
