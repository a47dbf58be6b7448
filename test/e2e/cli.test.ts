import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../packages/cli/src/qunfa/io';
import { main } from '../../packages/cli/src/qunfa/main';
import { startTestStack, type TestStack } from '../support/stack';

// The `qunfa` CLI on the local stack, run in-process through main(argv, io) as a merchant
// would run it at a terminal: import members, record an opt-out, preview a template, send a
// campaign, watch it and read its report.

let env: TestStack;
let dir: string;
let adminKey: string;

beforeAll(async () => {
  env = await startTestStack({ name: 'cli' });
  dir = await mkdtemp(join(tmpdir(), 'qunfa-cli-'));
  const first = env.stack.firstTenant;
  if (!first.created) throw new Error('the test stack creates the first tenant');
  adminKey = first.apiKey;
});

afterAll(async () => {
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function qunfa(
  argv: string[],
  { apiKey = adminKey }: { apiKey?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env: { QUNFA_ENDPOINT: env.stack.apiUrl, QUNFA_API_KEY: apiKey },
    cwd: dir,
    home: dir,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const names = ['王芳', '李伟', '张娜', '刘敏', '陈静', '杨丽', '黄强', '赵磊'];

describe('the qunfa CLI on the local stack', () => {
  it('imports members, records an opt-out, previews, sends, watches and reports a campaign', async () => {
    // Members: eight good rows and two a person must fix (a landline, a number too short).
    const csv = [
      '会员卡号,手机号,姓名,营销同意,标签',
      ...names.map((name, i) => `M00${i},1380013${String(8000 + i)},${name},是,奶茶`),
      'M100,021-61234567,孙悟空,是,奶茶',
      'M101,12345,猪八戒,是,奶茶',
    ].join('\n');
    const file = join(dir, 'members.csv');
    await writeFile(file, `${csv}\n`);
    const imported = await qunfa(['members', 'import', 'members.csv', '--interval', '0.2']);
    expect(imported.err).not.toMatch(/Failed|Cannot/);
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/completed/);
    expect(imported.out).toMatch(/imported\s+8/);
    expect(imported.out).toMatch(/invalid\s+2/);
    expect(imported.out).toContain(`${file}.invalid.csv`);
    const invalid = (await readFile(`${file}.invalid.csv`, 'utf8'))
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(invalid).toHaveLength(3);
    expect(invalid[0]).toBe('会员卡号,手机号,姓名,营销同意,标签,import_row,import_problems');
    expect(invalid[1]).toMatch(/^M100,021-61234567,孙悟空,是,奶茶,10,手机号: .*not_mobile/);
    expect(invalid[2]).toMatch(/^M101,12345,猪八戒,是,奶茶,11,手机号: /);

    // Opt-outs: one member says 退订.
    const added = await qunfa(['opt-outs', 'add', '13800138007', '--reason', '门店登记']);
    expect(added).toMatchObject({ code: 0 });
    expect(added.out).toMatch(/Opted out \+86\*+8007/);
    const listed = await qunfa(['opt-outs', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/\+86\*+8007\s+api\s+门店登记/);
    expect((await qunfa(['opt-outs', 'export', '--out', 'opt-outs.csv'])).code).toBe(0);
    expect(await readFile(join(dir, 'opt-outs.csv'), 'utf8')).toMatch(
      /^\uFEFFmasked_phone,source,reason,opted_out_at\r?\n'?\+86\*+8007,api,门店登记,/,
    );

    // The audience and the message before sending anything.
    const definition = JSON.stringify({ tags: { any: ['奶茶'] } });
    const segment = await qunfa(['segments', 'preview', '--definition', definition]);
    expect(segment.code).toBe(0);
    expect(segment.out).toMatch(/8 members match, 7 eligible/);
    expect(
      await env.api('PATCH', '/tenant', {
        signature: '茶小满',
        sendWindow: { start: '00:00', end: '24:00' },
      }),
    ).toMatchObject({ status: 200 });
    const template = await env.api('POST', '/templates', {
      name: '新品',
      category: 'marketing',
      body: '新品上市，{{name|default:"会员"}}第二杯半价',
    });
    expect(template.status).toBe(201);
    const templateId = String(template.body.templateId);
    await writeFile(join(dir, 'audience.json'), definition);
    const preview = await qunfa([
      'templates',
      'preview',
      templateId,
      '--file',
      'audience.json',
      '--sample',
      '2',
    ]);
    expect(preview.code).toBe(0);
    expect(preview.out).toMatch(/of 8 members would receive it/);
    expect(preview.out).toMatch(new RegExp(`【茶小满】新品上市，(${names.join('|')})第二杯半价`));

    // A campaign: create, schedule, watch until the run ends, report.
    await writeFile(
      join(dir, 'campaign.json'),
      JSON.stringify({
        name: '新品上市',
        category: 'marketing',
        audience: { definition: JSON.parse(definition) },
        content: { templateId },
        schedule: { kind: 'now' },
      }),
    );
    const created = await qunfa(['campaigns', 'create', 'campaign.json', '--json']);
    expect(created.code).toBe(0);
    const campaignId = String(JSON.parse(created.out).campaignId);
    expect((await qunfa(['campaigns', 'list'])).out).toMatch(
      new RegExp(`${campaignId}\\s+新品上市\\s+draft`),
    );
    const scheduled = await qunfa(['campaigns', 'schedule', campaignId]);
    expect(scheduled).toMatchObject({ code: 0 });
    expect(scheduled.out).toContain('now scheduled');
    const watched = await qunfa(['campaigns', 'watch', campaignId, '--interval', '0.5', '--timeout', '75']);
    expect(watched.err).not.toMatch(/Still/);
    expect(watched.code).toBe(0);
    expect(watched.out).toMatch(/completed .*targeted 8, sent 7/);
    expect(watched.err).toMatch(/Sending \[█+\] 100%/);
    const report = await qunfa(['campaigns', 'report', campaignId]);
    expect(report.code).toBe(0);
    expect(report.out).toMatch(/^targeted\s+█{10,}\s+8\s+100\.0%$/m);
    expect(report.out).toMatch(/^sent\s+█+.*\s7\s+87\.5%/m);
    expect(report.out).toMatch(/opted_out\s+1/);

    // Refusals a person can act on, with their exit codes.
    const missing = await qunfa(['campaigns', 'report', 'cmp_000000000000']);
    expect(missing.code).toBe(4);
    expect(missing.err).toContain('qunfa campaigns list');
    const badKey = await qunfa(['campaigns', 'list'], { apiKey: 'qk_not_a_key' });
    expect(badKey.code).toBe(3);
    const invalidCampaign = await qunfa(['campaigns', 'schedule', campaignId]);
    expect(invalidCampaign.code).toBe(1);
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ name: '', category: 'marketing' }));
    const bad = await qunfa(['campaigns', 'create', 'bad.json']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^ {2}body\.name: /m);
  });
});
