// The command-line tools: `npm run admin` (tenants and keys) and, later, the `qunfa` CLI.
export * from './admin-cli';
