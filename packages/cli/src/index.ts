// The command-line tools: `npm run admin` (tenants and keys) and the merchant's `qunfa` CLI.
export * from './admin-cli';
export { type CliIo, exitCodes } from './qunfa/io';
export { main as runQunfa, usage as qunfaUsage } from './qunfa/main';
