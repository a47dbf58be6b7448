import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { CliError, type CliIo, exitCodes, UsageError } from './io';

// Where the CLI finds the API and its key, first found wins:
//   1. --endpoint / --api-key
//   2. the profile named by --profile or QUNFA_PROFILE (in the config file)
//   3. QUNFA_ENDPOINT / QUNFA_API_KEY
//   4. the config file's default profile (or its top-level endpoint and apiKey)
//   5. the endpoint http://localhost:3000 of `npm start`
// The config file is --config, QUNFA_CONFIG, QUNFA_PROFILE when it names a .json file, or
// ~/.qunfa/config.json:
//   { "endpoint": "...", "apiKey": "...", "defaultProfile": "local",
//     "profiles": { "local": { "endpoint": "http://localhost:3000", "apiKey": "qk_..." } } }

export const localEndpoint = 'http://localhost:3000';

const profile = z.strictObject({
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  apiKey: z.string().min(1).optional(),
});
const configFile = z.strictObject({
  ...profile.shape,
  defaultProfile: z.string().min(1).optional(),
  profiles: z.record(z.string(), profile).optional(),
});

export interface ConfigFlags {
  readonly endpoint?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly profile?: string | undefined;
  readonly config?: string | undefined;
}

export interface ResolvedConfig {
  readonly endpoint: string;
  readonly apiKey: string;
  /** Where the key came from, named in auth errors so a person knows what to fix. */
  readonly keySource: string;
}

const noKey = [
  'No API key: set QUNFA_API_KEY (or pass --api-key, or put it in ~/.qunfa/config.json).',
  'On your machine, run `npm start` and copy the admin key it prints (or make one with',
  '`npm run admin -- key create <tenantId> --role marketer --name cli`).',
].join('\n');

/** The endpoint and key for this run; a usage error when the key is missing nowhere to be found. */
export async function resolveConfig(
  flags: ConfigFlags,
  io: Pick<CliIo, 'env' | 'cwd' | 'home'>,
  read: (path: string) => Promise<string | undefined> = (path) =>
    readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    }),
): Promise<ResolvedConfig> {
  const env = io.env;
  const envProfile = env.QUNFA_PROFILE?.trim() || undefined;
  const profileIsFile = envProfile?.endsWith('.json') === true;
  const explicitFile = flags.config ?? env.QUNFA_CONFIG ?? (profileIsFile ? envProfile : undefined);
  const path = explicitFile ? resolve(io.cwd, explicitFile) : join(io.home, '.qunfa', 'config.json');
  const text = await read(path);
  if (text === undefined && explicitFile)
    throw new UsageError(
      `The config file ${path} does not exist. Create it or unset QUNFA_CONFIG/QUNFA_PROFILE.`,
    );
  let file: z.infer<typeof configFile> = {};
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}`);
    }
    const parsed = configFile.safeParse(json);
    if (!parsed.success)
      throw new UsageError(
        `${path} is not a qunfa config file:\n${parsed.error.issues.map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`).join('\n')}`,
      );
    file = parsed.data;
  }

  const chosenName = flags.profile ?? (profileIsFile ? undefined : envProfile);
  let chosen: z.infer<typeof profile> = {};
  if (chosenName !== undefined) {
    const found = file.profiles?.[chosenName];
    if (!found) {
      const names = Object.keys(file.profiles ?? {});
      throw new UsageError(
        `No profile "${chosenName}" in ${path}${names.length ? ` (it has: ${names.join(', ')})` : ''}. Add it under "profiles", or unset QUNFA_PROFILE.`,
      );
    }
    chosen = found;
  }
  const fallback =
    file.defaultProfile !== undefined
      ? (file.profiles?.[file.defaultProfile] ?? {})
      : { endpoint: file.endpoint, apiKey: file.apiKey };

  const endpoint =
    flags.endpoint ??
    chosen.endpoint ??
    (env.QUNFA_ENDPOINT?.trim() || undefined) ??
    fallback.endpoint ??
    localEndpoint;
  const keys: [string | undefined, string][] = [
    [flags.apiKey, '--api-key'],
    [chosen.apiKey, `profile "${chosenName}" in ${path}`],
    [env.QUNFA_API_KEY?.trim() || undefined, 'QUNFA_API_KEY'],
    [fallback.apiKey, path],
  ];
  const key = keys.find(([value]) => value !== undefined);
  if (!key?.[0]) throw new CliError(noKey, exitCodes.auth);
  let url: URL;
  try {
    url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`The endpoint ${endpoint} is not an http(s) URL, e.g. ${localEndpoint}.`);
  }
  return { endpoint: url.href.replace(/\/+$/, ''), apiKey: key[0], keySource: key[1] };
}
