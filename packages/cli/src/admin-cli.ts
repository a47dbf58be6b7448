import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { createDocumentClient, tenancyDeps } from '@qunfa/aws';
import {
  createTenant,
  issueApiKey,
  problemsOf,
  QunfaError,
  revokeApiKey,
  role as roleSchema,
  type TenancyDeps,
  tenantId as tenantIdSchema,
  tenantSettings,
  ValidationError,
} from '@qunfa/domain';
import * as z from 'zod';

// The operator's tool: tenants and API keys, straight on the tenants table, because the HTTP
// API needs a key to be called at all. On the local stack it reads .data/stack.json; on AWS it
// takes the table name of the deployed stage and the caller's own AWS credentials.

export const adminUsage = `Usage: npm run admin -- <command> [options]

Commands
  tenant create <tenantId> --name <name> [--time-zone Asia/Shanghai] [--region CN] [--locale zh-CN]
  tenant show <tenantId>
  key create <tenantId> --role admin|marketer|viewer --name <name>
  key list <tenantId>
  key revoke <tenantId> <keyId>

Target
  (default)               the local stack started by \`npm start\` (reads <data-dir>/stack.json)
  --data-dir <dir>        the local stack's data folder (default .data, or QUNFA_DATA_DIR)
  --table <name>          a deployed stage's tenants table (or TABLE_TENANTS); AWS credentials
                          and AWS_REGION come from your environment or profile
  --json                  print JSON instead of text`;

export interface AdminIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  out(line: string): void;
  err(line: string): void;
}

/** Exit codes: 0 done, 1 refused (the message says why), 2 the command line is wrong. */
export type ExitCode = 0 | 1 | 2;

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const localState = z.looseObject({
  region: z.string(),
  endpoints: z.looseObject({ dynamodb: z.string() }),
  tables: z.looseObject({ tenants: z.string() }),
});

async function openTenancy(
  options: { table?: string | undefined; 'data-dir'?: string | undefined },
  io: AdminIo,
): Promise<TenancyDeps> {
  const table = options.table ?? io.env.TABLE_TENANTS;
  if (table) {
    // A person at a terminal: the SDK's whole credential chain (profiles, SSO, the environment).
    const client = createDocumentClient({
      ...(io.env.AWS_REGION ? { region: io.env.AWS_REGION } : {}),
      credentials: defaultProvider(),
    });
    return tenancyDeps({ client, tableName: table });
  }
  const dataDir = resolve(io.cwd, options['data-dir'] ?? io.env.QUNFA_DATA_DIR ?? '.data');
  const stateFile = join(dataDir, 'stack.json');
  const text = await readFile(stateFile, 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw new UsageError(
      `No local stack is running (${stateFile} is missing). Start it with \`npm start\`, or pass --table for a deployed stage.`,
    );
  }
  const state = localState.parse(JSON.parse(text));
  const client = createDocumentClient({
    endpoint: state.endpoints.dynamodb,
    region: state.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return tenancyDeps({ client, tableName: state.tables.tenants });
}

function parseTenantId(value: string | undefined): string {
  if (value === undefined) throw new UsageError('Name the tenant: a tenant id such as acme-tea.');
  const parsed = tenantIdSchema.safeParse(value);
  if (!parsed.success) throw new ValidationError(problemsOf(parsed.error, 'tenantId'));
  return parsed.data;
}

/** Runs one admin command; never throws, returns the exit code. */
export async function runAdmin(argv: readonly string[], io: AdminIo): Promise<ExitCode> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n\n${adminUsage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    io.out(adminUsage);
    return values.help ? 0 : 2;
  }
  const print = (text: string, json: unknown): void =>
    io.out(values.json ? JSON.stringify(json, null, 2) : text);
  try {
    const [noun, verb, ...rest] = positionals;
    const command = `${noun} ${verb ?? ''}`.trim();
    const known = ['tenant create', 'tenant show', 'key create', 'key list', 'key revoke'];
    if (!known.includes(command)) throw new UsageError(`Unknown command: ${command}.`);
    const tenantId = parseTenantId(rest[0]);
    const deps = await openTenancy(values, io);
    switch (command) {
      case 'tenant create': {
        const settings = tenantSettings.safeParse({
          name: values.name,
          ...(values['time-zone'] ? { timeZone: values['time-zone'] } : {}),
          ...(values.region ? { defaultRegion: values.region } : {}),
          ...(values.locale ? { locale: values.locale } : {}),
        });
        if (!settings.success) throw new ValidationError(problemsOf(settings.error, 'options'));
        const { tenant, admin } = await createTenant(deps, { tenantId, settings: settings.data });
        print(
          `Created tenant ${tenant.tenantId} (${tenant.name}).\nAdmin key (shown once, keep it secret):\n${admin.apiKey}`,
          { tenant, key: admin.key, apiKey: admin.apiKey },
        );
        return 0;
      }
      case 'tenant show': {
        const tenant = await deps.store.getTenant(tenantId);
        if (!tenant) throw new UsageError(`No tenant ${tenantId}.`);
        print(
          `${tenant.tenantId}: ${tenant.name}, ${tenant.timeZone}, ${tenant.defaultRegion}, ${tenant.locale}`,
          tenant,
        );
        return 0;
      }
      case 'key create': {
        const role = roleSchema.safeParse(values.role);
        if (!role.success) throw new UsageError(`--role must be one of ${roleSchema.options.join(', ')}.`);
        if (!values.name) throw new UsageError('--name is required: say who or what the key is for.');
        if (!(await deps.store.getTenant(tenantId))) throw new UsageError(`No tenant ${tenantId}.`);
        const issued = await issueApiKey(deps, { tenantId, role: role.data, name: values.name });
        print(`Key ${issued.key.keyId} (${issued.key.role}) for ${tenantId}, shown once:\n${issued.apiKey}`, {
          key: issued.key,
          apiKey: issued.apiKey,
        });
        return 0;
      }
      case 'key list': {
        const keys = (await deps.store.listApiKeys(tenantId)).map(({ secretHash: _secret, ...key }) => key);
        print(
          keys
            .map((k) => `${k.keyId}  ${k.role.padEnd(8)}  ${k.revokedAt ? 'revoked' : 'active '}  ${k.name}`)
            .join('\n') || `No keys for ${tenantId}.`,
          keys,
        );
        return 0;
      }
      default: {
        const keyId = rest[1];
        if (!keyId) throw new UsageError('Name the key to revoke: key revoke <tenantId> <keyId>.');
        await revokeApiKey(deps, { tenantId, keyId });
        print(`Revoked key ${keyId} of ${tenantId}.`, { revoked: keyId });
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(error.message);
      return 2;
    }
    if (error instanceof ValidationError) {
      io.err(`${error.message}\n${error.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
      return 2;
    }
    if (error instanceof QunfaError) {
      io.err(error.message);
      return 1;
    }
    io.err(`Failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      'time-zone': { type: 'string' },
      region: { type: 'string' },
      locale: { type: 'string' },
      table: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
