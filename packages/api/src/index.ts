// The HTTP API application: its routes and the use cases behind them, assembled into one
// middy handler that functions/api wires to its adapters.

export * from './app';
export * from './callbacks';
export * from './routes/openapi';
export * from './routes/tenancy';
