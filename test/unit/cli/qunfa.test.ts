import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { funnelStages, reportText } from '../../../packages/cli/src/qunfa/commands/campaigns';
import { csvCell, writeInvalidRows } from '../../../packages/cli/src/qunfa/commands/members';
import { localEndpoint, resolveConfig } from '../../../packages/cli/src/qunfa/config';
import { bar, displayWidth, funnel, progressLine, table } from '../../../packages/cli/src/qunfa/format';
import type { CliIo } from '../../../packages/cli/src/qunfa/io';
import { main, parseCommandLine } from '../../../packages/cli/src/qunfa/main';

// The `qunfa` CLI without the stack: its command line, where it finds the API and the key,
// what it prints, and its exit codes against a tiny HTTP server on loopback.

type Handler = (
  req: IncomingMessage,
  body: string,
) => { status: number; body?: unknown; text?: string; headers?: Record<string, string> };

let server: Server;
let endpoint: string;
let dir: string;
const requests: { method: string; url: string; body: string; auth: string | undefined }[] = [];
let handler: Handler = () => ({ status: 404, body: { code: 'not_found', message: 'No such route.' } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qunfa-cli-unit-'));
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', body, auth: req.headers.authorization });
      const answer = handler(req, body);
      res.writeHead(answer.status, {
        'content-type': answer.text === undefined ? 'application/json' : 'text/csv',
        ...answer.headers,
      });
      res.end(answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  requests.length = 0;
  const io: CliIo = {
    env: { QUNFA_ENDPOINT: endpoint, QUNFA_API_KEY: 'qk_test', ...env },
    cwd: dir,
    home: dir,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    sleep: async () => {},
  };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('the command line', () => {
  it('reads the noun, the verb, their arguments and options anywhere', () => {
    const { values, positionals } = parseCommandLine([
      '--endpoint',
      'http://x',
      'campaigns',
      'watch',
      'cmp_abcdefabcdef',
      '--interval',
      '0.5',
    ]);
    expect(positionals).toEqual(['campaigns', 'watch', 'cmp_abcdefabcdef']);
    expect(values).toMatchObject({ endpoint: 'http://x', interval: '0.5' });
  });

  it('prints help with exit 0, and a usage error with exit 2 and where to look', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: qunfa <command>');
    const commandHelp = await run(['campaigns', '--help']);
    expect(commandHelp).toMatchObject({ code: 0 });
    expect(commandHelp.out).toContain('watch ID [--interval SECONDS]');
    expect(await run([])).toMatchObject({ code: 2 });
    const unknown = await run(['campaigns', 'launch', 'x']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.err).toContain('Unknown command: campaigns launch.\nSee `qunfa campaigns --help`.');
    expect((await run(['opt-outs', 'list', '--colour'])).err).toContain("Unknown option '--colour'");
    const missing = await run(['campaigns', 'watch']);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.err).toContain('Name the campaign to watch');
    const consent = await run(['opt-outs', 'remove', '13800138000', '--source', 'store']);
    expect(consent.code).toBe(2);
    expect(consent.err).toContain('Give both --consent-at');
    expect(requests).toHaveLength(0);
  });
});

describe('config resolution', () => {
  const io = (env: Record<string, string> = {}) => ({ env, cwd: dir, home: join(dir, 'home') });

  it('takes flags over the environment, and localhost by default', async () => {
    expect(await resolveConfig({}, io({ QUNFA_API_KEY: 'qk_env' }))).toEqual({
      endpoint: localEndpoint,
      apiKey: 'qk_env',
      keySource: 'QUNFA_API_KEY',
    });
    expect(
      await resolveConfig(
        { endpoint: 'https://api.example.cn/', apiKey: 'qk_flag' },
        io({ QUNFA_API_KEY: 'qk_env', QUNFA_ENDPOINT: 'http://env' }),
      ),
    ).toMatchObject({ endpoint: 'https://api.example.cn', apiKey: 'qk_flag', keySource: '--api-key' });
  });

  it('reads ~/.qunfa/config.json, its profiles, and a file named by QUNFA_PROFILE', async () => {
    const config = {
      endpoint: 'http://file',
      apiKey: 'qk_file',
      profiles: { prod: { endpoint: 'https://prod.example.cn', apiKey: 'qk_prod' } },
    };
    const read = async (path: string) =>
      path === join(dir, 'home', '.qunfa', 'config.json') ? JSON.stringify(config) : undefined;
    expect(await resolveConfig({}, io(), read)).toMatchObject({ endpoint: 'http://file', apiKey: 'qk_file' });
    // The environment beats the file's defaults; a profile chosen by name beats the environment.
    expect(await resolveConfig({}, io({ QUNFA_API_KEY: 'qk_env' }), read)).toMatchObject({
      apiKey: 'qk_env',
    });
    expect(
      await resolveConfig({}, io({ QUNFA_API_KEY: 'qk_env', QUNFA_PROFILE: 'prod' }), read),
    ).toMatchObject({
      endpoint: 'https://prod.example.cn',
      apiKey: 'qk_prod',
    });
    await expect(resolveConfig({ profile: 'test' }, io(), read)).rejects.toThrow(
      /No profile "test" .* \(it has: prod\)/,
    );
    const file = join(dir, 'team.json');
    await writeFile(file, JSON.stringify({ endpoint: 'http://team', apiKey: 'qk_team' }));
    expect(await resolveConfig({}, io({ QUNFA_PROFILE: file }))).toMatchObject({
      endpoint: 'http://team',
      apiKey: 'qk_team',
    });
  });

  it('says how to get a key when there is none (exit 3), and refuses a broken file (exit 2)', async () => {
    const none = await run(['campaigns', 'list'], { QUNFA_API_KEY: '' });
    expect(none.code).toBe(3);
    expect(none.err).toContain('No API key: set QUNFA_API_KEY');
    expect(none.err).toContain('`npm start`');
    await writeFile(join(dir, 'broken.json'), '{"endpoint": 1}');
    expect((await run(['campaigns', 'list'], { QUNFA_CONFIG: 'broken.json' })).code).toBe(2);
  });
});

describe('output', () => {
  it('measures Chinese text two columns a character and aligns tables by it', () => {
    expect(displayWidth('新品上市 A')).toBe(10);
    expect(
      table(
        ['name', 'sent'],
        [
          ['新品上市', 1200],
          ['VIP', 7],
        ],
      ),
    ).toBe(['name       sent', '────────  ─────', '新品上市  1,200', 'VIP           7'].join('\n'));
  });

  it('draws bars to an eighth and a funnel scaled to its first stage within the width', () => {
    expect(bar(1, 4)).toBe('████');
    expect(bar(0.5, 3)).toBe('█▌');
    expect(bar(0, 3)).toBe('');
    const chart = funnel(
      [
        { label: 'targeted', value: 1000 },
        { label: 'sent', value: 500 },
        { label: 'delivered', value: 250 },
        { label: 'clicked', value: 0 },
      ],
      80,
    );
    const lines = chart.split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(80);
    const barOf = (line: string) => (line.match(/[█▏▎▍▌▋▊▉]+/) ?? [''])[0];
    const full = barOf(lines[0] ?? '').length;
    expect(full).toBeGreaterThan(30);
    expect(barOf(lines[1] ?? '').length).toBe(Math.ceil(full / 2));
    expect(barOf(lines[2] ?? '').length).toBe(Math.ceil(full / 4));
    expect(lines[1]).toMatch(/500 {2}50\.0% \(50\.0% of targeted\)$/);
    expect(lines[2]).toMatch(/250 {2}25\.0% \(50\.0% of sent\)$/);
    expect(lines[3]).toMatch(/^clicked\s+0 {2}0\.0% \(0\.0% of delivered\)$/);
  });

  it('shows progress with rate and ETA', () => {
    const line = progressLine({
      label: 'Sending',
      done: 250,
      total: 1000,
      width: 80,
      rate: '50/s',
      etaSeconds: 75,
    });
    expect(line).toMatch(/^Sending \[(█+[▏▎▍▌▋▊▉]?) +\] {2}25% · 250\/1,000 · 50\/s · ETA 1m15s$/);
    expect(displayWidth(line)).toBeLessThanOrEqual(80);
    const inside = line.slice(line.indexOf('[') + 1, line.indexOf(']'));
    expect(inside.trimEnd().length / inside.length).toBeCloseTo(0.25, 1);
  });

  it('keeps phone numbers as they are in a CSV but defuses formulas', () => {
    expect(csvCell('+8613800138000')).toBe('+8613800138000');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('王芳, 金卡')).toBe('"王芳, 金卡"');
  });

  it('writes the invalid rows as they are in the file, numbered as the import numbers them', async () => {
    // The header is row 1, a quoted cell with a line break is one row, a blank line counts.
    const file =
      '手机号,姓名,备注\n13800138000,王芳,"第一行\n第二行"\n\n021-61234567,李伟,\n12345,张娜,"a, b"\n';
    const to = join(dir, 'members.csv.invalid.csv');
    const written = await writeInvalidRows({
      bytes: new TextEncoder().encode(file),
      report: {
        state: 'completed',
        format: 'csv',
        encoding: 'utf-8',
        columns: { mapped: {}, ignored: [] },
        progress: { rowsRead: 3, bytesRead: file.length },
        counts: { created: 1, updated: 0, unchanged: 0, invalid: 2, duplicate: 0 },
        invalidRows: [
          { row: 4, column: '手机号', reason: 'not_mobile' },
          { row: 5, column: '手机号', reason: 'wrong_length' },
        ],
        duplicates: [],
        truncated: { invalidRows: false, duplicates: false },
      },
      to,
      env: { LANG: 'zh_CN.UTF-8' },
    });
    expect(written).toBe(2);
    expect(await readFile(to, 'utf8')).toBe(
      [
        '\uFEFF手机号,姓名,备注,import_row,import_problems',
        '021-61234567,李伟,,4,手机号: 固定电话或服务号码，无法接收短信。 (not_mobile)',
        '12345,张娜,"a, b",5,手机号: 号码位数不对。 (wrong_length)',
        '',
      ].join('\r\n'),
    );
  });

  it('prints a report with its totals, rates, variants and funnel', () => {
    const counts = (
      targeted: number,
      sent: number,
      delivered: number,
      clicks: number,
      conversions: number,
    ) => ({
      targeted,
      suppressed: { total: targeted - sent, byReason: { opted_out: targeted - sent } },
      queued: 0,
      sent,
      delivered,
      failed: { total: 0, atSending: 0, undelivered: 0, byReason: {} },
      unknown: 0,
      awaitingReceipt: sent - delivered,
      remaining: 0,
      clicks: { total: clicks, unique: clicks },
      replies: 0,
      optOuts: 0,
      conversions,
      revenue: '0.00',
      revenueMicros: 0,
      cost: '3.60',
      costMicros: 3_600_000,
      rates: {
        reachedBase: 'delivered' as const,
        delivery: delivered / sent,
        click: clicks / delivered,
        reply: 0,
        optOut: 0,
        conversion: conversions / sent,
      },
    });
    const text = reportText(
      {
        campaignId: 'cmp_abcdefabcdef',
        campaignName: '新品上市',
        runId: 'run_20250101T000000000Z',
        state: 'completed',
        scheduledAt: '2025-01-01T00:00:00.000Z',
        total: counts(100, 90, 80, 20, 5),
        byVariant: { A: counts(50, 45, 40, 12, 3), B: counts(50, 45, 40, 8, 2) },
        timeline: [],
        holdout: {
          members: 0,
          conversions: null,
          conversionRate: null,
          sentConversionRate: null,
          lift: null,
        },
        comparisons: [],
      } as unknown as Parameters<typeof reportText>[0],
      80,
    );
    expect(text).toMatch(/^targeted\s+█+\s+100\s+100\.0%$/m);
    expect(text).toMatch(/^converted\s+█[█▏▎▍▌▋▊▉]*\s+5\s+5\.0% \(25\.0% of clicked\)$/m);
    expect(text).toMatch(/^A\s+50\s+45\s+40\s+12\s+3\s+88\.9%\s+30\.0%\s+6\.7%$/m);
    expect(text).toMatch(/^opted_out\s+10$/m);
    expect(funnelStages(counts(3, 2, 1, 1, 0)).map((s) => s.label)).toEqual([
      'targeted',
      'sent',
      'delivered',
      'clicked',
      'converted',
    ]);
  });
});

describe('exit codes against the API', () => {
  it('0 with the key sent as a bearer token', async () => {
    handler = () => ({
      status: 200,
      body: { items: [{ maskedPhone: '+86*******8000', source: 'api', at: '2025-01-01T00:00:00Z' }] },
    });
    const listed = await run(['opt-outs', 'list', '--limit', '10']);
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.out).toMatch(/\+86\*+8000\s+api\s+–\s+2025-01-01/);
    expect(requests[0]).toMatchObject({ method: 'GET', url: '/opt-outs?limit=10', auth: 'Bearer qk_test' });
  });

  it('3 for a refused key, with what to do', async () => {
    handler = () => ({
      status: 401,
      body: { code: 'unauthorized', message: 'The API key is not valid.', requestId: 'r1' },
    });
    const refused = await run(['campaigns', 'list']);
    expect(refused.code).toBe(3);
    expect(refused.err).toContain('The API key is not valid.');
    expect(refused.err).toContain('QUNFA_API_KEY');
    handler = () => ({
      status: 403,
      body: { code: 'forbidden', message: 'A viewer key cannot do this.', requestId: 'r2' },
    });
    const forbidden = await run(['opt-outs', 'add', '13800138000']);
    expect(forbidden.code).toBe(3);
    expect(forbidden.err).toContain('--role marketer');
  });

  it('4 for something that is not there, 1 for a refusal with its problems one per line', async () => {
    handler = () => ({
      status: 404,
      body: { code: 'not_found', message: 'No campaign cmp_abcdefabcdef.', requestId: 'r3' },
    });
    const missing = await run(['campaigns', 'pause', 'cmp_abcdefabcdef']);
    expect(missing.code).toBe(4);
    expect(missing.err).toBe(
      'No campaign cmp_abcdefabcdef.\nList your campaigns with `qunfa campaigns list`.',
    );
    handler = () => ({
      status: 400,
      body: {
        code: 'validation_failed',
        message: 'The request is not valid.',
        requestId: 'r4',
        problems: [
          { path: 'body.name', message: 'Too small' },
          { path: 'body.schedule', message: 'Required' },
        ],
      },
    });
    await writeFile(join(dir, 'campaign.json'), '{"name": ""}');
    const invalid = await run(['campaigns', 'create', 'campaign.json']);
    expect(invalid.code).toBe(1);
    expect(invalid.err).toBe('The request is not valid.\n  body.name: Too small\n  body.schedule: Required');
    handler = () => ({
      status: 500,
      body: { code: 'internal_error', message: 'Something went wrong.', requestId: 'r5' },
    });
    expect((await run(['campaigns', 'list'])).err).toContain('quote request id r5');
  });

  it('1 when the API cannot be reached, saying to start it', async () => {
    const down = await run(['campaigns', 'list'], { QUNFA_ENDPOINT: 'http://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.err).toContain('npm start');
  });

  it('watches a run to its end and exits 1 when it failed', async () => {
    let polls = 0;
    const run_ = (state: string, sent: number) => ({
      campaignId: 'cmp_abcdefabcdef',
      name: '新品',
      state: state === 'running' ? 'running' : 'failed',
      latestRun: {
        runId: 'run_1',
        state,
        targeted: 10,
        sent,
        delivered: 0,
        failed: 0,
        unknown: 0,
        queued: 0,
        remaining: 10 - sent,
        suppressed: { total: 0, byReason: {} },
        ratePerSecond: 5,
        etaSeconds: 1,
        byVariant: {},
        scheduledAt: '2025-01-01T00:00:00Z',
      },
    });
    handler = () => {
      polls++;
      return { status: 200, body: polls < 3 ? run_('running', polls * 3) : run_('failed', 6) };
    };
    const watched = await run(['campaigns', 'watch', 'cmp_abcdefabcdef']);
    expect(watched.code).toBe(1);
    expect(watched.out).toContain('Run run_1 failed');
    expect(watched.err).toMatch(/Sending \[█+ *\] {2}60% · 6\/10 · 5\/s/);
    expect(polls).toBe(3);
  });

  it('exports every part of the opt-outs into one CSV', async () => {
    handler = (req) =>
      req.url?.includes('cursor=')
        ? {
            status: 200,
            text: '\uFEFFmasked_phone,source,reason,opted_out_at\r\nb,api,,t2\r\n',
            headers: { 'x-export-rows': '1' },
          }
        : {
            status: 200,
            text: '\uFEFFmasked_phone,source,reason,opted_out_at\r\na,sms,,t1\r\n',
            headers: { 'x-export-rows': '1', 'x-next-cursor': 'a'.repeat(64) },
          };
    const exported = await run(['opt-outs', 'export', '--out', 'opt-outs.csv']);
    expect(exported).toMatchObject({ code: 0, err: expect.stringContaining('Exported 2 opt-outs') });
    expect(await readFile(join(dir, 'opt-outs.csv'), 'utf8')).toBe(
      '\uFEFFmasked_phone,source,reason,opted_out_at\r\na,sms,,t1\r\nb,api,,t2\r\n',
    );
  });
});
