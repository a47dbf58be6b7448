import { renderMessage, type TemplateMember } from '@qunfa/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compiled } from './support';

// Rendering: a compiled template and one member give either the exact SMS or a suppression
// that names the missing variable. A member never reads {{name}}, undefined or null.

const text = (outcome: ReturnType<typeof renderMessage>): string => {
  if (outcome.kind !== 'rendered') throw new Error(`suppressed: ${outcome.variable}`);
  return outcome.text;
};

const notification = { category: 'notification' as const };

describe('renderMessage', () => {
  it('prints member fields after the signature', () => {
    const template = compiled({
      ...notification,
      body: '{{name}}您好，您在{{store}}的{{tier}}积分为{{points}}。',
    });
    const member: TemplateMember = { name: '王小明', store: '徐汇店', tier: '金卡', points: 1280 };
    expect(text(renderMessage({ compiled: template, member }))).toBe(
      '【优选超市】王小明您好，您在徐汇店的金卡积分为1280。',
    );
  });

  it('takes the default when a value is missing', () => {
    const template = compiled({ ...notification, body: '尊敬的{{name|default:"会员"}}，您好！' });
    expect(text(renderMessage({ compiled: template, member: {} }))).toBe('【优选超市】尊敬的会员，您好！');
  });

  it('takes an empty default as "print nothing"', () => {
    const template = compiled({ ...notification, body: '您好{{name|default:""}}！' });
    expect(text(renderMessage({ compiled: template, member: {} }))).toBe('【优选超市】您好！');
  });

  it('suppresses a member whose value is missing and has no default, naming the variable', () => {
    const template = compiled({ ...notification, body: '您的专属券码：{{attributes.couponCode}}' });
    expect(renderMessage({ compiled: template, member: { attributes: { other: 'x' } } })).toEqual({
      kind: 'suppressed',
      reason: 'missing_variable',
      variable: 'attributes.couponCode',
    });
  });

  it.each([
    ['an empty string', ''],
    ['blanks', '   '],
    ['the word null', 'null'],
    ['the word undefined', 'undefined'],
    ['NULL in capitals', ' NULL '],
  ])('reads %s as missing', (_, name) => {
    const template = compiled({ ...notification, body: '{{name}}您好' });
    expect(renderMessage({ compiled: template, member: { name } })).toMatchObject({
      kind: 'suppressed',
      variable: 'name',
    });
  });

  it('removes braces, line breaks and control characters from what members typed', () => {
    const template = compiled({ ...notification, body: '{{name}}您好' });
    expect(text(renderMessage({ compiled: template, member: { name: ' 王{{name}}\n小明\u0007 ' } }))).toBe(
      '【优选超市】王name 小明您好',
    );
  });

  it('uses the values of the send and the message link', () => {
    const template = compiled({
      ...notification,
      body: '订单{{orderNo}}已发货，查看物流：{{link}}',
      variables: [{ name: 'orderNo' }],
    });
    const outcome = renderMessage({
      compiled: template,
      member: {},
      values: { orderNo: 'A1024' },
      link: 'https://m.youxuan.cn/Xy12',
    });
    expect(text(outcome)).toBe('【优选超市】订单A1024已发货，查看物流：https://m.youxuan.cn/Xy12');
    expect(renderMessage({ compiled: template, member: {}, values: { orderNo: 'A1024' } })).toMatchObject({
      kind: 'suppressed',
      variable: 'link',
    });
  });

  it('lists the variables a template uses, once each', () => {
    const template = compiled({ ...notification, body: '{{name}}{{points}}{{name|default:"x"}}' });
    expect(template.variables).toEqual(['name', 'points']);
  });

  describe('formats', () => {
    const render = (
      body: string,
      member: TemplateMember,
      locale: 'zh-CN' | 'en' = 'zh-CN',
      timeZone?: string,
    ) =>
      text(
        renderMessage({
          compiled: compiled({ ...notification, body, locale }, timeZone ? { timeZone } : {}),
          member,
        }),
      ).replace(/^【优选超市】|^\[FreshMart\] /, '');

    it('groups thousands with number and prints raw integers without', () => {
      expect(render('{{points|number}}/{{points}}', { points: 1234567 })).toBe('1,234,567/1234567');
    });

    it('prints money in yuan with two decimals, whole amounts without .00', () => {
      expect(render('{{totalSpend}}', { totalSpend: 3560.5 })).toBe('3,560.50元');
      expect(render('{{totalSpend|money}}', { totalSpend: 1280 })).toBe('1,280元');
      expect(render('{{totalSpend}}', { totalSpend: 3560.5 }, 'en')).toBe('¥3,560.50');
      expect(render('{{totalSpend|money:"USD"}}', { totalSpend: 19.9 }, 'en')).toBe('$19.90');
      expect(render('{{totalSpend|money:"HKD"}}', { totalSpend: 19.9 })).toBe('19.90港元');
    });

    it('rounds money half away from zero without binary drift', () => {
      expect(render('{{totalSpend}}', { totalSpend: 1.005 })).toBe('1.01元');
      expect(render('{{totalSpend}}', { totalSpend: 0.1 + 0.2 })).toBe('0.30元');
    });

    it('reads an instant in the tenant time zone by default', () => {
      const member = { lastPurchaseAt: '2025-03-07T16:30:00Z' };
      expect(render('{{lastPurchaseAt}}', member)).toBe('3月8日');
      expect(render('{{lastPurchaseAt|date:"YYYY年M月D日 HH:mm"}}', member)).toBe('2025年3月8日 00:30');
    });

    it("reads an instant in the member's own time zone, daylight saving included", () => {
      const winter = { lastPurchaseAt: '2025-03-08T16:30:00Z', timeZone: 'America/New_York' };
      const summer = { lastPurchaseAt: '2025-03-10T16:30:00Z', timeZone: 'America/New_York' };
      expect(render('{{lastPurchaseAt|date:"MMM D, H:mm"}}', winter, 'en')).toBe('Mar 8, 11:30');
      expect(render('{{lastPurchaseAt|date:"MMM D, H:mm"}}', summer, 'en')).toBe('Mar 10, 12:30');
    });

    it('prints a birthday by month and day', () => {
      expect(render('{{birthday}}', { birthday: { month: 5, day: 20 } })).toBe('5月20日');
      expect(render('{{birthday|date:"MM/DD"}}', { birthday: { month: 5, day: 2 } }, 'en')).toBe('05/02');
    });

    it('prints a plain date attribute as that day in every time zone', () => {
      const member = { attributes: { expiresOn: '2025-06-30' }, timeZone: 'Pacific/Honolulu' };
      expect(render('{{attributes.expiresOn|date}}', member)).toBe('6月30日');
    });

    it('formats attributes by their value, and a value it cannot format as missing', () => {
      const template = compiled({ ...notification, body: '余额{{attributes.balance|money}}' });
      expect(
        text(renderMessage({ compiled: template, member: { attributes: { balance: '88.5' } } })),
      ).toContain('88.50元');
      expect(
        renderMessage({ compiled: template, member: { attributes: { balance: 'lots' } } }),
      ).toMatchObject({
        kind: 'suppressed',
        variable: 'attributes.balance',
      });
      expect(renderMessage({ compiled: template, member: { attributes: { balance: true } } })).toMatchObject({
        kind: 'suppressed',
      });
    });

    it('takes the default when a value cannot be formatted', () => {
      expect(
        render('{{attributes.vipSince|date|default:"近期"}}', { attributes: { vipSince: 'soon' } }),
      ).toBe('近期');
    });

    it('reads an absurd number (an import error) as missing rather than print 1e+21', () => {
      const template = compiled({ ...notification, body: '累计消费{{totalSpend}}' });
      expect(renderMessage({ compiled: template, member: { totalSpend: 1e21 } })).toMatchObject({
        kind: 'suppressed',
      });
    });

    it('never prints more than two decimals of an attribute number', () => {
      expect(render('{{attributes.rate}}', { attributes: { rate: 0.1 + 0.2 } })).toBe('0.3');
    });
  });

  describe('with a provider binding', () => {
    it('fills the parameters of an Aliyun template by name', () => {
      const template = compiled({
        ...notification,
        body: '{{name|default:"会员"}}您好，积分{{points|number}}',
        binding: {
          provider: 'aliyun',
          templateCode: 'SMS_274455012',
          params: { name: 'name', points: 'pts' },
        },
      });
      expect(renderMessage({ compiled: template, member: { points: 12000 } })).toEqual({
        kind: 'rendered',
        text: '【优选超市】会员您好，积分12,000',
        params: [
          { name: 'name', value: '会员' },
          { name: 'pts', value: '12,000' },
        ],
      });
    });

    it('lists the parameters of a Tencent Cloud template in their numbered order', () => {
      const template = compiled({
        ...notification,
        body: '{{points}}积分将于{{attributes.expiresOn|date}}到期，{{name|default:"会员"}}',
        binding: {
          provider: 'tencent',
          templateCode: '1987654',
          params: { name: '1', points: '2', 'attributes.expiresOn': '3' },
        },
      });
      const outcome = renderMessage({
        compiled: template,
        member: { points: 300, attributes: { expiresOn: '2025-06-30' } },
      });
      expect(outcome).toMatchObject({
        params: [
          { name: '1', value: '会员' },
          { name: '2', value: '300' },
          { name: '3', value: '6月30日' },
        ],
      });
    });
  });

  describe('for any member', () => {
    const nasty = fc.constantFrom(
      '',
      ' ',
      'null',
      'undefined',
      'NaN',
      '{{name}}',
      '}}{{',
      '\u0000',
      '\n\t',
      'a{b}c',
    );
    const ordinary = fc
      .string({ maxLength: 12 })
      .filter((value) => !/null|undefined|nan|infinity|e\+/i.test(value));
    const value = fc.oneof(nasty, ordinary);
    const number = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constant(Number.NaN),
      fc.constant(Number.POSITIVE_INFINITY),
    );
    const member = fc.record(
      {
        name: value,
        store: value,
        points: number,
        totalSpend: number,
        lastPurchaseAt: fc.oneof(
          value,
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        attributes: fc.dictionary(
          fc.constantFrom('code', 'level', 'since'),
          fc.oneof(value, number, fc.boolean()),
        ),
      },
      { requiredKeys: [] },
    );
    const placeholders = fc.constantFrom(
      '{{name}}',
      '{{name|default:"会员"}}',
      '{{store|default:"门店"}}',
      '{{points|number}}',
      '{{points|default:"0"}}',
      '{{totalSpend}}',
      '{{totalSpend|money:"USD"|default:"-"}}',
      '{{lastPurchaseAt|date:"YYYY-MM-DD HH:mm"}}',
      '{{attributes.code}}',
      '{{attributes.level|number|default:"1"}}',
      '{{attributes.since|date}}',
    );
    const bodies = fc
      .array(fc.oneof(placeholders, fc.constantFrom('您好，', '积分', 'Hi ', '！', ' ')), {
        minLength: 1,
        maxLength: 8,
      })
      .map((pieces) => `您好${pieces.join('')}`);

    it('never emits {{, undefined, null, NaN or Infinity', () => {
      fc.assert(
        fc.property(
          bodies,
          member,
          fc.constantFrom('zh-CN' as const, 'en' as const),
          (body, someone, locale) => {
            const outcome = renderMessage({ compiled: compiled({ body, locale }), member: someone });
            if (outcome.kind === 'suppressed') return;
            expect(outcome.text).not.toMatch(/\{\{|\}\}|undefined|null|NaN|Infinity|e\+/);
          },
        ),
        { numRuns: 500 },
      );
    });
  });
});
