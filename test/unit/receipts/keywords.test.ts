import {
  classifyReply,
  normalizeReply,
  optInKeywords,
  optOutKeywords,
  replyRulesFields,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

const rules = [
  { keywords: ['退货'], reply: '退货政策：https://shop.example.cn/returns' },
  { keywords: ['修改收货地址', 'ADDRESS'], reply: '修改地址：https://shop.example.cn/address' },
];

describe('classifyReply', () => {
  it.each(optOutKeywords)('reads %s as an opt-out', (keyword) => {
    expect(classifyReply({ text: keyword }).kind).toBe('optOut');
  });

  it.each([
    'TD ',
    '  td',
    'ＴＤ',
    'ｔｄ',
    '\u3000退订\u3000',
    'Stop',
    'stop.',
    'STOP!',
    '退订。',
    'unsubscribe',
    'Ｓｔｏｐ',
    'T',
    'n',
  ])('reads %j as an opt-out', (text) => {
    expect(classifyReply({ text }).kind).toBe('optOut');
  });

  it.each([
    "don't stop",
    'stop sending me ads please',
    'TDD',
    'T D',
    '请退订',
    '退订吧谢谢',
    'no',
    'STOP STOP',
    '',
    'yes please',
  ])('does not read %j as an opt-out', (text) => {
    expect(classifyReply({ text }).kind).not.toBe('optOut');
  });

  it.each(optInKeywords)('reads %s as an opt-in', (keyword) => {
    expect(classifyReply({ text: ` ${keyword.toLowerCase()} ` }).kind).toBe('optIn');
  });

  it('reads HELP as help', () => {
    expect(classifyReply({ text: 'help' })).toEqual({ kind: 'help', keyword: 'HELP' });
  });

  it("answers a tenant's keyword with its auto-reply, matched as the whole reply", () => {
    expect(classifyReply({ text: '退货', rules })).toEqual({
      kind: 'rule',
      keyword: '退货',
      reply: '退货政策：https://shop.example.cn/returns',
    });
    expect(classifyReply({ text: ' address ', rules })).toMatchObject({ kind: 'rule', keyword: 'ADDRESS' });
    expect(classifyReply({ text: '我要退货', rules })).toEqual({ kind: 'none' });
  });

  it('reads anything else as nothing to act on', () => {
    expect(classifyReply({ text: '谢谢，收到了', rules })).toEqual({ kind: 'none' });
  });
});

describe('normalizeReply', () => {
  it('folds full width, case and surrounding white space', () => {
    expect(normalizeReply('\u3000Ｓｔｏｐ！ ')).toBe('STOP');
  });
});

describe('replyRulesFields', () => {
  it('accepts rules with auto-replies and the texts a tenant sets', () => {
    const parsed = replyRulesFields.parse({ rules, helpText: '回复TD退订' });
    expect(parsed.rules).toHaveLength(2);
  });

  it('refuses a rule on a built-in keyword, full width included', () => {
    const result = replyRulesFields.safeParse({ rules: [{ keywords: ['ｓｔｏｐ'], reply: 'x' }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['rules', 0, 'keywords', 0]);
  });

  it('refuses a keyword two rules share, once normalized', () => {
    const result = replyRulesFields.safeParse({
      rules: [
        { keywords: ['退货'], reply: 'a' },
        { keywords: [' 退货 '], reply: 'b' },
      ],
    });
    expect(result.error?.issues.map((issue) => issue.path)).toEqual([['rules', 1, 'keywords', 0]]);
  });

  it('refuses empty replies, unknown fields and a punctuation-only keyword', () => {
    expect(replyRulesFields.safeParse({ rules: [{ keywords: ['退货'], reply: ' ' }] }).success).toBe(false);
    expect(replyRulesFields.safeParse({ rules: [], extra: 1 }).success).toBe(false);
    expect(replyRulesFields.safeParse({ rules: [{ keywords: ['。。'], reply: 'x' }] }).success).toBe(false);
  });
});
