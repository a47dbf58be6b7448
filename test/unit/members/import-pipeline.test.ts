import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ImportReport, importMembers, importReport, type Member, ValidationError } from '@qunfa/domain';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { chunked, MemoryImportPort } from './support';

// The import of a whole file: a POS export as Excel saves it (UTF-8 with BOM or GBK, CRLF,
// quoted cells with commas and line breaks, full-width digits, every usual date form),
// cleaned, de-duplicated and written in batches through the port.

const fixture = readFileSync(join(import.meta.dirname, '../../events/imports/pos-export.csv'));
const withoutBom = fixture.subarray(3);
const gbkFixture = new Uint8Array(iconv.encode(withoutBom.toString('utf8'), 'gbk'));
const settings = { defaultRegion: 'CN', timeZone: 'Asia/Shanghai' };
const day1 = new Date('2024-03-01T02:00:00.000Z');
const day2 = new Date('2024-03-02T02:00:00.000Z');

const run = (
  port: MemoryImportPort,
  bytes: Uint8Array,
  options: Partial<Parameters<typeof importMembers>[0]> = {},
): Promise<ImportReport> =>
  importMembers({ source: chunked(bytes, 7), format: 'csv', settings, now: day1, port, ...options });

const expectedCounts = { created: 5, updated: 0, unchanged: 0, invalid: 2, duplicate: 2 };
const expectedProblems = [
  { row: 5, column: '手机号', reason: 'not_mobile' },
  { row: 5, column: '生日', reason: 'invalid_date' },
  { row: 6, column: '手机号', reason: 'wrong_length' },
  { row: 6, column: '积分', reason: 'negative' },
];
const expectedDuplicates = [
  { row: 8, duplicateOf: 2, by: 'memberId' },
  { row: 9, duplicateOf: 2, by: 'phone' },
];

function expectFixtureMembers(members: Map<string, Member>): void {
  expect([...members.keys()].sort()).toEqual(['8613600000003', 'M0001', 'M0002', 'M0003', 'M0007']);
  const stamp = { createdAt: day1.toISOString(), updatedAt: day1.toISOString(), phoneStatus: 'valid' };
  expect(members.get('M0001')).toEqual({
    memberId: 'M0001',
    phone: '+8613812345678',
    name: '王芳',
    gender: 'female',
    birthday: { month: 1, day: 5, year: 1990 },
    store: '徐汇店',
    // Row 2 left the tier empty, so the duplicate row 8 fills it; its points (999) do not
    // replace row 2's, and its tag joins the others.
    tier: '钻石卡',
    tags: ['vip', '生日礼', '茶饮'],
    points: 1200,
    totalSpend: 1234.5,
    purchaseCount: 12,
    firstPurchaseAt: '2023-03-07T16:00:00.000Z',
    lastPurchaseAt: '2024-01-05T05:45:00.000Z',
    joinedAt: '2023-03-07T16:00:00.000Z',
    consent: { status: 'granted', source: 'import', at: day1.toISOString() },
    ...stamp,
  });
  expect(members.get('M0002')).toEqual({
    memberId: 'M0002',
    phone: '+8613900000001',
    name: '李雷',
    gender: 'male',
    birthday: { month: 2, day: 28, year: 1985 },
    store: '静安店',
    tier: '银卡',
    tags: ['咖啡', '甜品'],
    points: 300,
    totalSpend: 88,
    purchaseCount: 3,
    firstPurchaseAt: '2023-03-07T16:00:00.000Z',
    lastPurchaseAt: '2024-01-05T01:05:00.000Z',
    joinedAt: '2023-03-07T16:00:00.000Z',
    consent: { status: 'denied', source: 'import', at: day1.toISOString() },
    ...stamp,
  });
  expect(members.get('M0003')).toMatchObject({
    name: '张"小"三',
    phone: '+8613700000002',
    gender: 'male',
    birthday: { month: 1, day: 5 },
    tags: ['vip', '新客'],
    points: 0,
    firstPurchaseAt: '2024-01-04T16:00:00.000Z',
    lastPurchaseAt: '2024-01-05T05:45:00.000Z',
    joinedAt: '2024-01-04T16:00:00.000Z',
    consent: { status: 'granted' },
  });
  expect(members.get('8613600000003')).toMatchObject({
    name: '孙八',
    phone: '+8613600000003',
    birthday: { month: 1, day: 5 },
    joinedAt: '2023-03-08T01:30:00.000Z',
    consent: { status: 'granted' },
  });
  expect(members.get('M0007')).toMatchObject({
    gender: 'female',
    birthday: { month: 12, day: 31, year: 2000 },
    totalSpend: 1000,
    lastPurchaseAt: '2024-01-05T05:45:30.000Z',
    joinedAt: '2024-01-04T16:00:00.000Z',
  });
}

describe('importMembers', () => {
  it('imports a UTF-8 export with BOM and CRLF, and reports every invalid row and duplicate', async () => {
    const port = new MemoryImportPort();

    const report = await run(port, fixture);

    expect(report).toEqual({
      state: 'completed',
      format: 'csv',
      encoding: 'utf-8',
      columns: {
        mapped: {
          会员卡号: 'memberId',
          姓名: 'name',
          手机号: 'phone',
          性别: 'gender',
          生日: 'birthday',
          门店: 'store',
          会员等级: 'tier',
          标签: 'tags',
          积分: 'points',
          '消费金额(元)': 'totalSpend',
          消费次数: 'purchaseCount',
          首次消费时间: 'firstPurchaseAt',
          最近消费时间: 'lastPurchaseAt',
          入会时间: 'joinedAt',
          营销同意: 'consent',
        },
        ignored: ['备注'],
      },
      progress: { rowsRead: 9, bytesRead: fixture.length },
      counts: expectedCounts,
      invalidRows: expectedProblems,
      duplicates: expectedDuplicates,
      truncated: { invalidRows: false, duplicates: false },
    });
    expect(importReport.parse(report)).toEqual(report);
    expectFixtureMembers(port.members);
  });

  it('imports the same export saved as GBK with the same result', async () => {
    const port = new MemoryImportPort();

    const report = await run(port, gbkFixture);

    expect(report).toMatchObject({
      state: 'completed',
      encoding: 'gb18030',
      progress: { rowsRead: 9, bytesRead: gbkFixture.length },
      counts: expectedCounts,
      invalidRows: expectedProblems,
      duplicates: expectedDuplicates,
    });
    expectFixtureMembers(port.members);
  });

  it('changes nothing when the same file is imported again', async () => {
    const port = new MemoryImportPort();
    await run(port, fixture);
    const before = new Map(port.members);
    const writes = port.writes;

    const again = await run(port, gbkFixture, { now: day2 });

    expect(again.counts).toEqual({ created: 0, updated: 0, unchanged: 5, invalid: 2, duplicate: 2 });
    expect(port.writes).toBe(writes);
    expect(port.members).toEqual(before);
  });

  it('updates the members whose rows changed, keeping createdAt', async () => {
    const port = new MemoryImportPort();
    await run(port, fixture);
    const changed = Buffer.from(fixture.toString('utf8').replace('M0002,李雷', 'M0002,李雷雷'));

    const report = await run(port, changed, { now: day2 });

    expect(report.counts).toEqual({ created: 0, updated: 1, unchanged: 4, invalid: 2, duplicate: 2 });
    expect(port.members.get('M0002')).toMatchObject({
      name: '李雷雷',
      createdAt: day1.toISOString(),
      updatedAt: day2.toISOString(),
    });
    expect(port.members.get('M0001')?.updatedAt).toBe(day1.toISOString());
  });

  it('merges duplicates that fall in different batches, and loads and saves batch by batch', async () => {
    const port = new MemoryImportPort();
    const progress: ImportReport[] = [];

    const report = await run(port, fixture, { batchSize: 2, onProgress: (r) => void progress.push(r) });

    expect(report.counts).toEqual(expectedCounts);
    expectFixtureMembers(port.members);
    expect(port.loads.every((ids) => ids.length <= 2)).toBe(true);
    expect(progress.length).toBe(port.loads.length);
    expect(progress.every((r) => r.state === 'running')).toBe(true);
    const read = progress.map((r) => r.progress.rowsRead);
    expect(read).toEqual([...read].sort((a, b) => a - b));
  });

  it('takes the merchant mapping, with typed custom attributes', async () => {
    const csv = [
      '联系人手机,客户,喜好,到店次数,员工,纪念日,卡号',
      '13812345678,王芳,茶饮,3,是,2020/5/20,C-1',
      '13900000001,李雷,咖啡,x,否,,C-2',
    ].join('\n');
    const port = new MemoryImportPort();

    const report = await run(port, Buffer.from(csv), {
      mapping: {
        联系人手机: 'phone',
        客户: 'name',
        喜好: 'attributes.favoriteCategory',
        到店次数: 'attributes.visits:number',
        员工: 'attributes.staff:boolean',
        纪念日: 'attributes.anniversary:date',
      },
    });

    expect(report).toMatchObject({
      state: 'completed',
      columns: {
        mapped: {
          联系人手机: 'phone',
          客户: 'name',
          喜好: 'attributes.favoriteCategory',
          到店次数: 'attributes.visits:number',
          员工: 'attributes.staff:boolean',
          纪念日: 'attributes.anniversary:date',
        },
        ignored: ['卡号'],
      },
      counts: { created: 1, invalid: 1 },
      invalidRows: [{ row: 3, column: '到店次数', reason: 'invalid_number' }],
    });
    expect(port.members.get('8613812345678')).toMatchObject({
      name: '王芳',
      attributes: { favoriteCategory: '茶饮', visits: 3, staff: true, anniversary: '2020-05-20' },
    });
  });

  it('refuses a mapping with unknown fields before reading a byte', async () => {
    const port = new MemoryImportPort();
    let read = false;
    const source = (async function* () {
      read = true;
      yield new Uint8Array();
    })();

    const attempt = importMembers({
      source,
      format: 'csv',
      settings,
      now: day1,
      port,
      mapping: { 手机: 'mobile', 名字: 'nickname' },
    });

    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toMatchObject({
      problems: [
        { path: 'mapping.手机', message: expect.stringMatching(/Unknown field "mobile"/) },
        { path: 'mapping.名字', message: expect.stringMatching(/Unknown field "nickname"/) },
        { path: 'mapping', message: expect.stringMatching(/phone/) },
      ],
    });
    expect(read).toBe(false);
  });

  it('fails the import, changing nothing, when a mapped column is not in the file', async () => {
    const port = new MemoryImportPort();

    const report = await run(port, fixture, { mapping: { 手机: 'phone' } });

    expect(report).toMatchObject({
      state: 'failed',
      failure: { reason: 'missing_columns', row: 1, message: expect.stringMatching(/no column "手机"/) },
      progress: { rowsRead: 0 },
    });
    expect(port.writes).toBe(0);
  });

  it('fails the import when no column holds phone numbers', async () => {
    const report = await run(new MemoryImportPort(), Buffer.from('会员卡号,姓名\nM1,王芳\n'));
    expect(report).toMatchObject({ state: 'failed', failure: { reason: 'no_phone_column', row: 1 } });
  });

  it('fails an empty file, and skips blank lines above the header', async () => {
    expect(await run(new MemoryImportPort(), new Uint8Array())).toMatchObject({
      state: 'failed',
      failure: { reason: 'empty_file' },
    });

    const report = await run(
      new MemoryImportPort(),
      Buffer.from('\r\n,,\r\n手机号,姓名\r\n13812345678,王芳\r\n1234,李雷\r\n'),
    );

    expect(report).toMatchObject({
      state: 'completed',
      counts: { created: 1, invalid: 1 },
      invalidRows: [{ row: 5, column: '手机号', reason: 'wrong_length' }],
    });
  });

  it('stops at a change of encoding, keeping what was imported before it', async () => {
    const head = `手机号,姓名\n${Array.from({ length: 1000 }, (_, i) => `1380000${String(i).padStart(4, '0')},王芳`).join('\n')}\n`;
    const bytes = new Uint8Array([...Buffer.from(head), ...iconv.encode('13900000001,李雷\n', 'gbk')]);
    const port = new MemoryImportPort();

    const report = await run(port, bytes, { source: chunked(bytes, 1024), batchSize: 100 });

    expect(report).toMatchObject({
      state: 'failed',
      encoding: 'utf-8',
      failure: { reason: 'bad_encoding', message: expect.stringMatching(/not valid UTF-8 near byte/) },
    });
    expect(report.counts.created).toBeGreaterThan(900);
    expect(port.members.size).toBe(report.counts.created);
  });

  it('stops at an unclosed quote, naming the line', async () => {
    const csv = '手机号,姓名\n13812345678,王芳\n13900000001,"李雷\n13700000002,张三\n';
    const report = await run(new MemoryImportPort(), Buffer.from(csv));
    expect(report).toMatchObject({
      state: 'failed',
      counts: { created: 1 },
      failure: { reason: 'malformed_csv', row: 3, message: expect.stringMatching(/Quote Not Closed/i) },
    });
  });

  it('lists problems and duplicates up to the cap and says when more were found', async () => {
    const csv = ['手机号', '123', '456', '13812345678', '138 1234 5678', '+8613812345678'].join('\n');

    const report = await run(new MemoryImportPort(), Buffer.from(csv), { maxListed: 1 });

    expect(report).toMatchObject({
      counts: { created: 1, invalid: 2, duplicate: 2 },
      invalidRows: [{ row: 2, column: '手机号', reason: 'wrong_length' }],
      duplicates: [{ row: 5, duplicateOf: 4, by: 'phone' }],
      truncated: { invalidRows: true, duplicates: true },
    });
  });

  describe('JSON lines', () => {
    it('imports objects line by line, with nested attributes and tag arrays, and reports bad lines', async () => {
      const lines = [
        '{"memberId":"J1","phone":"13812345678","name":"王芳","tags":["vip","tea"],"points":120,"attributes":{"favoriteCategory":"茶饮"}}',
        '',
        '{"memberId":"J2","mobile":"+86 139 0000 0001","生日":"1月5日","consent":true,"note":"x"}',
        '{"memberId":"J3","phone":"010-6552 9988"}',
        'not json',
        '[1,2]',
        '{"memberId":"J1","phone":"13812345678","tier":"gold"}',
      ].join('\r\n');
      const port = new MemoryImportPort();

      const report = await importMembers({
        source: chunked(Buffer.from(lines), 5),
        format: 'jsonl',
        settings,
        now: day1,
        port,
      });

      expect(report).toMatchObject({
        state: 'completed',
        progress: { rowsRead: 6 },
        counts: { created: 2, invalid: 3, duplicate: 1 },
        invalidRows: [
          { row: 4, column: 'phone', reason: 'not_mobile' },
          { row: 5, column: '', reason: 'invalid_json' },
          { row: 6, column: '', reason: 'not_an_object' },
        ],
        duplicates: [{ row: 7, duplicateOf: 1, by: 'memberId' }],
      });
      expect(report.columns.ignored).toEqual(['note']);
      expect(port.members.get('J1')).toMatchObject({
        tags: ['tea', 'vip'],
        points: 120,
        tier: 'gold',
        attributes: { favoriteCategory: '茶饮' },
      });
      expect(port.members.get('J2')).toMatchObject({
        phone: '+8613900000001',
        birthday: { month: 1, day: 5 },
        consent: { status: 'granted', source: 'import' },
      });
    });
  });
});
