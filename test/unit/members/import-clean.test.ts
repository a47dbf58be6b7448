import {
  cleanRow,
  type ImportCell,
  importFields,
  memberFields,
  memberId,
  parseImportTarget,
} from '@qunfa/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// One row of a file → a member's fields with the phone in E.164, or every problem of the row
// by its column.

const settings = { defaultRegion: 'CN', timeZone: 'Asia/Shanghai' };

function cells(row: Record<string, [string, unknown]>): ImportCell[] {
  return Object.entries(row).map(([column, [target, value]]) => {
    const parsed = parseImportTarget(target);
    if (!parsed) throw new Error(`bad target ${target}`);
    return { column, target: parsed, value };
  });
}

describe('cleanRow', () => {
  it('reads every field of a typical row', () => {
    const result = cleanRow({
      row: 2,
      settings,
      cells: cells({
        会员卡号: ['memberId', 'M0001'],
        姓名: ['name', ' 王芳 '],
        手机号: ['phone', '138 1234 5678'],
        性别: ['gender', '女'],
        生日: ['birthday', '1990年1月5日'],
        门店: ['store', '徐汇店'],
        等级: ['tier', '金卡'],
        标签: ['tags', 'vip，茶饮'],
        标签2: ['tags', '新客'],
        积分: ['points', '1,200'],
        消费金额: ['totalSpend', '¥1,234.50'],
        消费次数: ['purchaseCount', '12'],
        首次消费: ['firstPurchaseAt', '2023/3/8'],
        最近消费: ['lastPurchaseAt', '2024-01-05 13:45'],
        入会时间: ['joinedAt', '20230308'],
        时区: ['timeZone', 'Asia/Hong_Kong'],
        语言: ['locale', '中文'],
        营销同意: ['consent', '是'],
        同意时间: ['consentAt', '2023-03-08'],
        喜好: ['attributes.favoriteCategory', '茶饮'],
        到店: ['attributes.visits:number', '3'],
        员工: ['attributes.staff:boolean', '否'],
        纪念日: ['attributes.anniversary:date', '2020/5/20'],
      }),
    });

    expect(result).toEqual({
      ok: true,
      row: 2,
      memberId: 'M0001',
      memberIdFrom: 'column',
      fields: {
        phone: '+8613812345678',
        name: '王芳',
        gender: 'female',
        birthday: { month: 1, day: 5, year: 1990 },
        store: '徐汇店',
        tier: '金卡',
        tags: ['vip', '茶饮', '新客'],
        points: 1200,
        totalSpend: 1234.5,
        purchaseCount: 12,
        firstPurchaseAt: '2023-03-07T16:00:00.000Z',
        lastPurchaseAt: '2024-01-05T05:45:00.000Z',
        joinedAt: '2023-03-07T16:00:00.000Z',
        timeZone: 'Asia/Hong_Kong',
        locale: 'zh-CN',
        consent: { status: 'granted', source: 'import', at: '2023-03-07T16:00:00.000Z' },
        attributes: { favoriteCategory: '茶饮', visits: 3, staff: false, anniversary: '2020-05-20' },
      },
    });
  });

  it('leaves empty cells out, so they erase nothing', () => {
    const result = cleanRow({
      row: 3,
      settings,
      cells: cells({
        手机号: ['phone', '13812345678'],
        姓名: ['name', ''],
        积分: ['points', '  '],
        标签: ['tags', ''],
      }),
    });
    expect(result).toMatchObject({ ok: true, fields: { phone: '+8613812345678' } });
    expect(result.ok && Object.keys(result.fields)).toEqual(['phone']);
  });

  it('uses the phone without its plus as member id when the row gives none', () => {
    const result = cleanRow({
      row: 4,
      settings,
      cells: cells({ 会员卡号: ['memberId', ''], 手机号: ['phone', '+86 138 1234 5678'] }),
    });
    expect(result).toMatchObject({ ok: true, memberId: '8613812345678', memberIdFrom: 'phone' });
  });

  it('reports every problem of the row, by column, in column order', () => {
    const result = cleanRow({
      row: 7,
      settings,
      cells: cells({
        会员卡号: ['memberId', 'M 01'],
        手机号: ['phone', '010-6552 9988'],
        性别: ['gender', 'x'],
        生日: ['birthday', '1992/2/30'],
        积分: ['points', '-5'],
        次数: ['purchaseCount', '1.5'],
        消费: ['totalSpend', 'abc'],
        最近消费: ['lastPurchaseAt', '1/5/2024'],
        时区: ['timeZone', 'Beijing'],
        语言: ['locale', 'fr'],
        同意: ['consent', 'maybe'],
        姓名: ['name', '名'.repeat(101)],
        标签: ['tags', `ok,${'长'.repeat(41)}`],
        到店: ['attributes.visits:number', 'many'],
        员工: ['attributes.staff:boolean', 'perhaps'],
      }),
    });

    expect(result).toEqual({
      ok: false,
      row: 7,
      problems: [
        { row: 7, column: '会员卡号', reason: 'invalid_member_id' },
        { row: 7, column: '手机号', reason: 'not_mobile' },
        { row: 7, column: '性别', reason: 'invalid_gender' },
        { row: 7, column: '生日', reason: 'invalid_date' },
        { row: 7, column: '积分', reason: 'negative' },
        { row: 7, column: '次数', reason: 'not_an_integer' },
        { row: 7, column: '消费', reason: 'invalid_number' },
        { row: 7, column: '最近消费', reason: 'invalid_date' },
        { row: 7, column: '时区', reason: 'invalid_time_zone' },
        { row: 7, column: '语言', reason: 'invalid_locale' },
        { row: 7, column: '同意', reason: 'invalid_consent' },
        { row: 7, column: '姓名', reason: 'too_long' },
        { row: 7, column: '标签', reason: 'tag_too_long' },
        { row: 7, column: '到店', reason: 'invalid_number' },
        { row: 7, column: '员工', reason: 'invalid_boolean' },
      ],
    });
  });

  it('reports a missing phone on its column', () => {
    expect(
      cleanRow({ row: 5, settings, cells: cells({ 姓名: ['name', '王芳'], 手机: ['phone', ' '] }) }),
    ).toEqual({
      ok: false,
      row: 5,
      problems: [{ row: 5, column: '手机', reason: 'missing' }],
    });
    expect(cleanRow({ row: 6, settings, cells: cells({ name: ['name', '王芳'] }) })).toEqual({
      ok: false,
      row: 6,
      problems: [{ row: 6, column: 'phone', reason: 'missing' }],
    });
  });

  it('refuses more than 100 tags', () => {
    const tags = Array.from({ length: 101 }, (_, i) => `t${i}`).join(',');
    const result = cleanRow({
      row: 2,
      settings,
      cells: cells({ 手机: ['phone', '13812345678'], 标签: ['tags', tags] }),
    });
    expect(result).toEqual({
      ok: false,
      row: 2,
      problems: [{ row: 2, column: '标签', reason: 'too_many_tags' }],
    });
  });

  it('reads JSON values as they are: numbers, booleans and tag arrays', () => {
    const result = cleanRow({
      row: 1,
      settings,
      cells: cells({
        phone: ['phone', 13812345678],
        points: ['points', 120],
        tags: ['tags', ['vip', 'tea']],
        'attributes.staff': ['attributes.staff:boolean', true],
      }),
    });
    expect(result).toMatchObject({
      ok: true,
      fields: { phone: '+8613812345678', points: 120, tags: ['vip', 'tea'], attributes: { staff: true } },
    });
  });

  it('reads numbers in the default region of the tenant', () => {
    const result = cleanRow({
      row: 2,
      settings: { defaultRegion: 'HK', timeZone: 'Asia/Hong_Kong' },
      cells: cells({ 手机: ['phone', '9123 4567'] }),
    });
    expect(result).toMatchObject({ ok: true, memberId: '85291234567', fields: { phone: '+85291234567' } });
  });

  it('gives only fields that the member schema accepts, whatever the cells hold', () => {
    // Values at the edges of what each reader accepts; random text now and then.
    const samples: Record<string, readonly string[]> = {
      memberId: ['M0001', 'a.b_c:d@e-f', 'x'.repeat(64)],
      name: ['王芳', ' 李雷 ', '名'.repeat(100)],
      gender: ['男', 'F', '保密'],
      birthday: ['1990年1月5日', '2月29日', '1900-01-01', '2100-12-31 23:59'],
      tags: ['vip,茶饮', '，、；', `${'长'.repeat(40)},ok`, 'a|b|a'],
      points: ['0', '1,200', '9007199254740991', '9007199254740993'],
      totalSpend: ['￥1,234.50', '.5', '-0', '1e3', '9'.repeat(400)],
      purchaseCount: ['3', '3.0', '+7'],
      firstPurchaseAt: ['2024-01-05', '45296.25', '2024-01-05T13:45:30+09:00', '2100-12-31 23:59:59'],
      lastPurchaseAt: ['20240105 1345', '1900/1/1 00:00', '1900-01-01T00:00:00+14:00'],
      joinedAt: ['2024年1月5日 13时45分', '99999.99999'],
      timeZone: ['Asia/Shanghai', 'UTC', 'Etc/GMT+12'],
      locale: ['中文', 'en'],
      consent: ['是', 'no', '未知'],
      consentAt: ['2023-03-08'],
    };
    const text = (name: string) =>
      fc.oneof(
        { arbitrary: fc.constantFrom(...(samples[name] ?? [''])), weight: 20 },
        { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
      );
    // Every field present or not; the phone nearly always valid, so that most rows pass and
    // their values are the ones checked.
    const row = fc
      .tuple(
        ...importFields.map((name) => fc.option(text(name), { freq: 2 }).map((value) => ({ name, value }))),
      )
      .map((values) => [
        { name: 'phone' as const, value: '13812345678' },
        ...values.filter((entry) => entry.name !== 'phone' && entry.value !== null),
      ]);
    const attributes = fc.array(
      fc.tuple(
        fc.constantFrom('note', 'visits:number', 'staff:boolean', 'day:date'),
        fc.string({ maxLength: 10 }),
      ),
      { maxLength: 3 },
    );

    fc.assert(
      fc.property(row, attributes, (values, extra) => {
        const cellsOfRow: ImportCell[] = [
          ...values.map(({ name, value }) => ({
            column: name,
            target: { kind: 'field' as const, field: name },
            value,
          })),
          ...extra.map(([target, value], i) => {
            const parsed = parseImportTarget(`attributes.${target}`);
            if (!parsed) throw new Error(target);
            return { column: `a${i}`, target: parsed, value };
          }),
        ];
        const result = cleanRow({ row: 2, settings, cells: cellsOfRow });
        if (!result.ok) return;
        expect(memberFields.safeParse(result.fields).error?.issues).toBeUndefined();
        expect(memberId.safeParse(result.memberId).success).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // 3,000 rows: a second alone, more than the default five on two busy cores.
  }, 30_000);
});
