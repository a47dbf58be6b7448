import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AdminIo, runAdmin } from '@qunfa/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, localRegion, startLocalDynamo } from '../support/local';

// `npm run admin` against DynamoDB Local, found the way an operator's shell finds it: through
// the stack.json that `npm start` writes into the data folder.

let dynamo: LocalDynamo;
let dataDir: string;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  dataDir = await mkdtemp(join(tmpdir(), 'qunfa-admin-'));
  await writeFile(
    join(dataDir, 'stack.json'),
    JSON.stringify({
      region: localRegion,
      endpoints: { dynamodb: dynamo.dynamodb.endpoint },
      tables: dynamo.tableNames,
    }),
  );
});

afterAll(async () => {
  await dynamo?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function admin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: AdminIo = { env: {}, cwd: dataDir, out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await runAdmin([...argv, '--data-dir', dataDir], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run admin', () => {
  it('creates a tenant and prints its first admin key once', async () => {
    const result = await admin('tenant', 'create', 'acme-tea', '--name', 'Acme Tea', '--json');

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({
      tenant: { tenantId: 'acme-tea', name: 'Acme Tea', timeZone: 'Asia/Shanghai', defaultRegion: 'CN' },
      key: { role: 'admin' },
      apiKey: expect.stringMatching(/^qf_acme-tea_/),
    });
  });

  it('refuses to create the same tenant twice, changing nothing', async () => {
    await admin('tenant', 'create', 'twice-co', '--name', 'Twice');

    const again = await admin('tenant', 'create', 'twice-co', '--name', 'Other name');

    expect(again.code).toBe(1);
    expect((await admin('tenant', 'show', 'twice-co')).out).toContain('Twice');
  });

  it('issues, lists and revokes keys', async () => {
    await admin('tenant', 'create', 'keys-co', '--name', 'Keys Co');

    const issued = JSON.parse(
      (await admin('key', 'create', 'keys-co', '--role', 'marketer', '--name', 'CRM sync', '--json')).out,
    );
    const revoked = await admin('key', 'revoke', 'keys-co', issued.key.keyId);
    const listed = await admin('key', 'list', 'keys-co');

    expect(revoked.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`${issued.key.keyId}\\s+marketer\\s+revoked\\s+CRM sync`));
    expect(listed.out).toMatch(/admin\s+active/);
  });

  it('refuses to revoke the last admin key', async () => {
    await admin('tenant', 'create', 'last-co', '--name', 'Last');
    const [adminKey] = JSON.parse((await admin('key', 'list', 'last-co', '--json')).out);

    const result = await admin('key', 'revoke', 'last-co', adminKey.keyId);

    expect(result.code).toBe(1);
    expect(result.err).toMatch(/last active admin key/);
  });

  it('answers a wrong command line with exit code 2 and what is wrong', async () => {
    expect(await admin('tenant', 'create', 'Bad_Id', '--name', 'x')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/tenantId/),
    });
    expect(await admin('key', 'create', 'acme-tea', '--role', 'owner', '--name', 'x')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--role must be one of viewer, marketer, admin/),
    });
    expect(await admin('tenant', 'create', 'tz-co', '--name', 'x', '--time-zone', 'Mars/Base')).toMatchObject(
      {
        code: 2,
        err: expect.stringMatching(/options.timeZone/),
      },
    );
    expect(await admin('tenant', 'explode', 'acme-tea')).toMatchObject({ code: 2 });
  });

  it('tells the operator to start the local stack when none is running', async () => {
    const err: string[] = [];
    const code = await runAdmin(['tenant', 'show', 'acme-tea', '--data-dir', join(dataDir, 'nowhere')], {
      env: {},
      cwd: dataDir,
      out: () => {},
      err: (l) => err.push(l),
    });

    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/npm start/);
  });
});
