import { fileURLToPath } from 'node:url';

/** The repository root: handler entries in the resource model are relative to it. */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));

/** Where `npm start` keeps DynamoDB, SQS and scheduler state between runs (git-ignored). */
export const defaultDataDir: string = fileURLToPath(new URL('../../../.data/', import.meta.url));
