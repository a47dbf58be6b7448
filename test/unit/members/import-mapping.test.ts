import {
  bindHeader,
  importFields,
  importMapping,
  type parseImportTarget,
  profileFields,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

// Which column fills which member field: the merchant's mapping, checked whole before a row
// is read, or the usual Chinese and English headers.

const targets = (header: string[], mapping?: Record<string, string>) => {
  const bound = bindHeader({ header, mapping });
  if (!bound.ok) throw new Error(bound.message);
  return {
    mapped: Object.fromEntries(bound.bindings.map((b) => [b.column, parseTargetText(b.target)])),
    ignored: bound.ignored,
  };
};
const parseTargetText = (target: ReturnType<typeof parseImportTarget>) =>
  target?.kind === 'field' ? target.field : `attributes.${target?.name}:${target?.type}`;

describe('importMapping', () => {
  it('accepts fields, typed attributes and several tag columns', () => {
    const mapping = {
      手机号: 'phone',
      会员卡号: 'memberId',
      标签1: 'tags',
      标签2: 'tags',
      喜好品类: 'attributes.favoriteCategory',
      到店次数: 'attributes.visits:number',
      员工: 'attributes.staff:boolean',
      纪念日: 'attributes.anniversary:date',
    };
    expect(importMapping.parse(mapping)).toEqual(mapping);
  });

  it('names every unknown field, repeated field and missing phone, by column', () => {
    const result = importMapping.safeParse({
      手机: 'mobile',
      姓名: 'name',
      名字: 'name',
      备注: 'attributes.1bad',
      类型: 'attributes.kind:colour',
      同意时间: 'consentAt',
    });

    expect(result.success).toBe(false);
    const issues = result.error?.issues.map((issue) => [issue.path.join('.'), issue.message]) ?? [];
    expect(issues.map(([path]) => path)).toEqual(['手机', '名字', '备注', '类型', '', '同意时间']);
    expect(issues[0]?.[1]).toMatch(/Unknown field "mobile"/);
    expect(issues[1]?.[1]).toMatch(/"name" is already filled by column "姓名"/);
    expect(issues[4]?.[1]).toMatch(/phone/);
    expect(issues[5]?.[1]).toMatch(/consent/);
  });

  it('can fill every member field', () => {
    const importable = new Set<string>(importFields);
    expect(profileFields.filter((field) => field !== 'attributes' && !importable.has(field))).toEqual([]);
  });
});

describe('bindHeader', () => {
  it('recognizes the usual Chinese headers', () => {
    const header = [
      '会员卡号',
      '姓名',
      '手机号码*',
      '性别',
      '出生日期',
      '所属门店',
      '会员等级',
      '会员标签',
      '可用积分',
      '累计消费金额(元)',
      '消费次数',
      '最近消费时间',
      '首次消费时间',
      '注册时间',
      '营销同意',
      '备注',
    ];
    expect(targets(header)).toEqual({
      mapped: {
        会员卡号: 'memberId',
        姓名: 'name',
        '手机号码*': 'phone',
        性别: 'gender',
        出生日期: 'birthday',
        所属门店: 'store',
        会员等级: 'tier',
        会员标签: 'tags',
        可用积分: 'points',
        '累计消费金额(元)': 'totalSpend',
        消费次数: 'purchaseCount',
        最近消费时间: 'lastPurchaseAt',
        首次消费时间: 'firstPurchaseAt',
        注册时间: 'joinedAt',
        营销同意: 'consent',
      },
      ignored: ['备注'],
    });
  });

  it('recognizes English headers in any case and spacing, and our own field names', () => {
    const header = [
      'Member ID',
      'Mobile Phone',
      'Name',
      'Total_Spend',
      'attributes.favoriteCategory',
      'Notes',
    ];
    expect(targets(header).mapped).toEqual({
      'Member ID': 'memberId',
      'Mobile Phone': 'phone',
      Name: 'name',
      Total_Spend: 'totalSpend',
      'attributes.favoriteCategory': 'attributes.favoriteCategory:string',
    });
  });

  it('prefers the mobile column when a file has both 手机 and 电话', () => {
    expect(targets(['电话', '手机', '姓名']).mapped).toEqual({ 手机: 'phone', 姓名: 'name' });
    expect(targets(['电话', '手机', '姓名']).ignored).toEqual(['电话']);
  });

  it('binds exactly the mapped columns when a mapping is given', () => {
    const mapping = importMapping.parse({ ' 联系人手机 ': 'phone', 客户: 'name' });
    expect(targets(['客户', '联系人手机', '姓名'], mapping)).toEqual({
      mapped: { 客户: 'name', 联系人手机: 'phone' },
      ignored: ['姓名'],
    });
  });

  it('fails when a mapped column is not in the header, naming it and the header', () => {
    const bound = bindHeader({ header: ['手机', '姓名'], mapping: { 手机号: 'phone' } });
    expect(bound).toEqual({
      ok: false,
      reason: 'missing_columns',
      message: 'The file has no column "手机号"; its header is "手机", "姓名".',
    });
  });

  it('fails when a mapped column appears twice', () => {
    const bound = bindHeader({ header: ['手机', '手机'], mapping: { 手机: 'phone' } });
    expect(bound.ok).toBe(false);
    expect(!bound.ok && bound.reason).toBe('duplicate_columns');
  });

  it('fails without a recognizable phone column', () => {
    const bound = bindHeader({ header: ['会员卡号', '姓名'], mapping: undefined });
    expect(!bound.ok && bound.reason).toBe('no_phone_column');
  });
});
