import { templateDefinition, validateSendValues, validateTemplate } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { aTemplate, problemsOf, zhSignature } from './support';

// Saving a template: every problem found at once, each with its path and, inside the body,
// its position; hints for what is legal but costly.

const save = (input: unknown, tenantBannedWords: string[] = []) =>
  validateTemplate({ input, signature: zhSignature, defaultLocale: 'zh-CN', tenantBannedWords });
const bodyProblems = (body: string, extra: Record<string, unknown> = {}) =>
  problemsOf(() => save(aTemplate({ body, category: 'notification', ...extra }))).map(
    (problem) => problem.message,
  );

describe('validateTemplate', () => {
  it('returns the template normalized: locale of the tenant, no variables, trimmed, LF line breaks', () => {
    const { template } = save({ name: ' 周年庆 ', category: 'marketing', body: ' 全场8折！\r\n详询门店 ' });
    expect(template).toEqual({
      name: '周年庆',
      category: 'marketing',
      locale: 'zh-CN',
      body: '全场8折！\n详询门店',
      variables: [],
    });
    expect(templateDefinition.parse(template)).toEqual(template);
  });

  it('reports schema problems with their paths under body', () => {
    expect(problemsOf(() => save({ name: '', category: 'promo', body: '', extra: 1 }))).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'body.name' }),
        expect.objectContaining({ path: 'body.category' }),
        expect.objectContaining({ path: 'body.body', message: 'write the message' }),
        expect.objectContaining({ path: 'body.extra', message: 'unknown field' }),
      ]),
    );
  });

  it('refuses a body longer than 500 characters', () => {
    expect(problemsOf(() => save(aTemplate({ body: '优'.repeat(501) })))).toEqual([
      { path: 'body.body', message: 'at most 500 characters' },
    ]);
  });

  describe('placeholders', () => {
    it('refuses an unknown variable, naming it and where it stands, with a suggestion', () => {
      const [message] = bodyProblems('尊敬的{{nmae}}，您好');
      expect(message).toMatch(/^unknown variable \{\{nmae\}\}; did you mean \{\{name\}\}\?/);
      expect(message).toMatch(/\(at character 4\)$/);
    });

    it('counts the position in characters as the merchant sees them, emoji included', () => {
      expect(bodyProblems('🎉🎉{{vip}}')[0]).toMatch(/\(at character 3\)$/);
    });

    it('reports every problem of the body at once, in order', () => {
      const messages = bodyProblems('{{nmae}} {{points|date}} {{name|default:"a"|default:"b"}} {{store');
      expect(messages).toHaveLength(4);
      expect(messages.map((message) => /at character (\d+)/.exec(message)?.[1])).toEqual([
        '1',
        '10',
        '26',
        '59',
      ]);
    });

    it.each([
      ['{{}}', 'write a variable name'],
      ['{{ name. }}', 'is not a variable name'],
      ['{{attributes.a.b}}', 'is not a variable name'],
      ['{{name | upper}}', 'unknown filter "upper"'],
      ['{{name|default:会员}}', 'default takes a value in double quotes'],
      ['{{name|default:“会员”}}', 'use straight double quotes'],
      ['{{name|default}}', 'default needs a value'],
      ['{{points|number|money}}', 'only one of number, money, date'],
      ['{{points|number:"x"}}', 'number takes no value'],
      ['{{name|number}}', 'name is text, which "number" cannot format'],
      ['{{points|date}}', 'points is a number, which "date" cannot format; use number'],
      ['{{birthday|money}}', 'birthday is a birthday'],
      ['{{totalSpend|money:"JPY"}}', 'unknown currency "JPY"'],
      ['{{lastPurchaseAt|date:"年月日"}}', 'holds no date token'],
      ['{{birthday|date:"YYYY年M月D日"}}', 'a birthday has no YYYY'],
      ['{{link|default:"x"}}', 'the link takes no default'],
      ['{{link|number}}', 'the link, which "number" cannot format'],
      [`{{name|default:"${'长'.repeat(51)}"}}`, 'at most 50 characters'],
      ['{{name|default:"null"}}', 'reads as nothing to a member'],
      ['满100减20}}', '"}}" without a matching "{{"'],
      ['满100减20{{name', '"{{" is not closed'],
      ['{{name {{points}}', '"{{" is not closed'],
      ['{{attributes.9lives}}', 'is not a variable name'],
      ['{{couponCode}}', 'unknown variable {{couponCode}}'],
    ])('refuses %s', (body, reason) => {
      expect(bodyProblems(body).join('\n')).toContain(reason);
    });

    it('accepts spaces inside the braces and filters in either order', () => {
      expect(() =>
        save(aTemplate({ body: '{{ points | default:"0" | number }}积分，全场8折' })),
      ).not.toThrow();
    });

    it('accepts a single brace as literal text', () => {
      const { example } = save(aTemplate({ body: '满100减20 {VIP} 专享', category: 'notification' }));
      expect(example.text).toBe('【优选超市】满100减20 {VIP} 专享');
    });
  });

  describe('campaign variables', () => {
    it('are declared with a type and used by name', () => {
      const { template, example } = save(
        aTemplate({
          body: '券码{{couponCode}}，{{deadline|date:"M月D日"}}前有效，立减{{amount}}',
          variables: [
            { name: 'couponCode', example: 'VIP2025' },
            { name: 'deadline', type: 'date' },
            { name: 'amount', type: 'money' },
          ],
        }),
      );
      expect(template.variables).toEqual([
        { name: 'couponCode', type: 'text', example: 'VIP2025' },
        { name: 'deadline', type: 'date' },
        { name: 'amount', type: 'money' },
      ]);
      expect(example.text).toBe('【优选超市】券码VIP2025，6月30日前有效，立减20元，拒收请回复R');
    });

    it('may not take the name of a member field or be declared twice', () => {
      const problems = problemsOf(() =>
        save(
          aTemplate({ body: '全场8折', variables: [{ name: 'points' }, { name: 'code' }, { name: 'code' }] }),
        ),
      );
      expect(problems).toEqual([
        { path: 'body.variables.0.name', message: expect.stringContaining("a member field's name") },
        { path: 'body.variables.2.name', message: 'code is declared twice' },
      ]);
    });

    it('refuse an example that does not fit their type', () => {
      expect(
        problemsOf(() =>
          save(aTemplate({ body: '{{d}}前有效', variables: [{ name: 'd', type: 'date', example: 'soon' }] })),
        ),
      ).toEqual([{ path: 'body.variables.0.example', message: 'a date such as 2025-06-30' }]);
    });
  });

  describe('a provider binding', () => {
    const bound = (
      body: string,
      binding: { provider: 'aliyun' | 'tencent'; params: Record<string, string> },
    ) =>
      aTemplate({ body, category: 'notification', binding: { templateCode: 'SMS_274455012', ...binding } });

    it('is kept when every variable of the body fills one parameter', () => {
      const { template } = save(
        bound('{{name}}您好，积分{{points}}', {
          provider: 'aliyun',
          params: { name: 'name', points: 'points' },
        }),
      );
      expect(template.binding).toEqual({
        provider: 'aliyun',
        templateCode: 'SMS_274455012',
        params: { name: 'name', points: 'points' },
      });
    });

    it('refuses a variable without a parameter and a parameter without a variable', () => {
      expect(
        problemsOf(() =>
          save(
            bound('{{name}}您好，积分{{points}}', { provider: 'aliyun', params: { name: 'n', store: 's' } }),
          ),
        ),
      ).toEqual([
        { path: 'body.binding.params', message: '{{points}} has no parameter of the approved template' },
        { path: 'body.binding.params.store', message: 'store is not used in the body' },
      ]);
    });

    it('refuses one variable printed two ways, since the provider fills a parameter once', () => {
      const problems = problemsOf(() =>
        save(bound('{{points}}分，即{{points|number}}分', { provider: 'aliyun', params: { points: 'p' } })),
      );
      expect(problems[0]?.message).toContain('fill one provider parameter in two ways');
    });

    it('refuses Tencent Cloud parameters that are not numbered 1 to n', () => {
      expect(
        problemsOf(() =>
          save(bound('{{name}}{{points}}', { provider: 'tencent', params: { name: '1', points: '3' } })),
        ),
      ).toEqual([
        { path: 'body.binding.params', message: 'Tencent Cloud numbers its parameters 1 to 2; found 1, 3' },
      ]);
    });

    it('refuses one parameter filled by two variables', () => {
      expect(
        problemsOf(() =>
          save(bound('{{name}}{{store}}', { provider: 'aliyun', params: { name: 'x', store: 'x' } })),
        ),
      ).toEqual([{ path: 'body.binding.params.store', message: 'parameter x is already filled by name' }]);
    });

    it('measures the example by the provider rule', () => {
      const { example } = save(
        aTemplate({
          locale: 'en',
          category: 'notification',
          body: `Hi {{name}}, ${'x'.repeat(60)}`,
          binding: { provider: 'aliyun', templateCode: 'SMS_1', params: { name: 'name' } },
        }),
      );
      expect(example.size).toMatchObject({ encoding: 'ucs2', parts: 2, singleLimit: 70 });
    });
  });

  describe('the example and hints', () => {
    it('render the template for a plausible member and count its parts', () => {
      const { example, hints } = save(
        aTemplate({ body: '{{name}}您好，您有{{points|number}}积分，可兑换好礼' }),
      );
      expect(example.text).toBe('【优选超市】王小明您好，您有1,280积分，可兑换好礼，拒收请回复R');
      expect(example.size).toEqual({ encoding: 'ucs2', units: 34, parts: 1, singleLimit: 70, partLimit: 67 });
      expect(hints).toEqual([]);
    });

    it('warn when the example takes several parts', () => {
      const { hints } = save(aTemplate({ body: `全场8折！${'优'.repeat(70)}` }));
      expect(hints).toEqual([
        {
          code: 'multipart',
          path: 'body.body',
          message: 'the example takes 2 SMS parts (88 of 70 for one); each part is billed',
        },
      ]);
    });

    it('name the characters that make an English message UCS-2', () => {
      const review = validateTemplate({
        input: aTemplate({ locale: 'en', body: 'Don’t miss 20% off today!' }),
        signature: 'FreshMart',
        defaultLocale: 'zh-CN',
      });
      expect(review.hints).toEqual([
        expect.objectContaining({ code: 'forces_ucs2', message: expect.stringMatching(/^’ make/) }),
      ]);
      expect(review.example.text).toBe('[FreshMart] Don’t miss 20% off today! Reply STOP to opt out');
    });
  });
});

describe('validateSendValues', () => {
  const { template } = save(
    aTemplate({
      body: '券码{{couponCode}}，{{deadline|date}}前有效，{{note|default:"欢迎到店"}}，立减{{amount}}',
      variables: [
        { name: 'couponCode' },
        { name: 'deadline', type: 'date' },
        { name: 'note' },
        { name: 'amount', type: 'money' },
      ],
    }),
  );

  it('accepts the values of the declared types', () => {
    expect(
      validateSendValues({ template, values: { couponCode: 'VIP8', deadline: '2025-06-30', amount: '20' } }),
    ).toEqual({
      couponCode: 'VIP8',
      deadline: '2025-06-30',
      amount: '20',
    });
  });

  it('names every unknown, ill-typed or missing value', () => {
    expect(
      problemsOf(() =>
        validateSendValues({ template, values: { deadline: 'next week', amount: 'free', vip: 1 } }),
      ),
    ).toEqual([
      { path: 'body.values.deadline', message: 'deadline takes a date such as 2025-06-30' },
      { path: 'body.values.amount', message: 'amount takes a money value' },
      { path: 'body.values.vip', message: 'vip is not a variable of this template' },
      { path: 'body.values.couponCode', message: '{{couponCode}} has no default: give a value' },
    ]);
  });
});
