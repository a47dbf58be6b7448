import {
  acceptedOptOutForms,
  builtInBannedWords,
  findBannedWords,
  findRawUrls,
  optOutKeywordsNamed,
  renderMessage,
  type TemplateInput,
  validateTemplate,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { aTemplate, compiled, problemsOf, zhSignature } from './support';

// Compliance applied to every message: the signature, the opt-out text of marketing, none on
// notifications, no banned words, and links through {{link}}.

const rendered = (body: string, overrides: Partial<TemplateInput> = {}) => {
  const outcome = renderMessage({ compiled: compiled({ body, ...overrides }), member: {} });
  if (outcome.kind !== 'rendered') throw new Error('suppressed');
  return outcome.text;
};

describe('the signature', () => {
  it('leads a zh-CN message in 【】', () => {
    expect(rendered('全场8折！', { category: 'notification' })).toBe('【优选超市】全场8折！');
  });

  it('leads an en message in [] followed by a space', () => {
    expect(rendered('20% off today!', { category: 'notification', locale: 'en' })).toBe(
      '[FreshMart] 20% off today!',
    );
  });

  it('is not written again in the body', () => {
    const saving =
      (body: string, locale: 'zh-CN' | 'en' = 'zh-CN') =>
      () =>
        validateTemplate({
          input: aTemplate({ body, locale }),
          signature: zhSignature,
          defaultLocale: 'zh-CN',
        });
    expect(problemsOf(saving('【优选超市】全场8折'))[0]).toMatchObject({
      path: 'body.body',
      message: expect.stringContaining('【】'),
    });
    expect(problemsOf(saving('全场8折【限时】'))).toHaveLength(1);
    expect(problemsOf(saving('[优选超市] 20% off', 'en'))[0]?.message).toContain(
      'signature is added for you',
    );
  });
});

describe('the opt-out text of marketing', () => {
  it('is appended to a zh-CN body, after a comma when the body ends without punctuation', () => {
    expect(rendered('春季会员日全场8折，到店即享')).toBe(
      '【优选超市】春季会员日全场8折，到店即享，拒收请回复R',
    );
    expect(rendered('春季会员日全场8折，到店即享。')).toBe(
      '【优选超市】春季会员日全场8折，到店即享。拒收请回复R',
    );
  });

  it('is appended to an en body, after a full stop when the body ends without one', () => {
    expect(rendered('Spring sale: 20% off in store', { locale: 'en' })).toBe(
      '[FreshMart] Spring sale: 20% off in store. Reply STOP to opt out',
    );
    expect(rendered('Spring sale: 20% off in store!', { locale: 'en' })).toBe(
      '[FreshMart] Spring sale: 20% off in store! Reply STOP to opt out',
    );
  });

  it('follows a closing placeholder after a space, so it never sticks to a link', () => {
    const outcome = renderMessage({
      compiled: compiled({ body: '全场8折，详情：{{link}}' }),
      member: {},
      link: 'https://m.youxuan.cn/Ab12',
    });
    expect(outcome).toMatchObject({
      text: '【优选超市】全场8折，详情：https://m.youxuan.cn/Ab12 拒收请回复R',
    });
  });

  it.each(acceptedOptOutForms['zh-CN'].map((form) => [form]))(
    'is not added when a zh-CN body already ends with %s',
    (form) => {
      const text = rendered(`全场8折，到店即享。${form}`);
      expect(text).toBe(`【优选超市】全场8折，到店即享。${form}`);
    },
  );

  it.each(acceptedOptOutForms.en.map((form) => [form]))(
    'is not added when an en body already ends with "%s"',
    (form) => {
      expect(rendered(`20% off today. ${form}.`, { locale: 'en' })).toBe(
        `[FreshMart] 20% off today. ${form}.`,
      );
    },
  );

  it('recognises an accepted form written in full-width letters, in brackets or in another case', () => {
    expect(rendered('全场8折（回Ｔ退订）')).toBe('【优选超市】全场8折（回Ｔ退订）');
    expect(rendered('20% off today. reply stop to OPT OUT', { locale: 'en' })).toBe(
      '[FreshMart] 20% off today. reply stop to OPT OUT',
    );
  });

  it('is still appended when the accepted form is not at the end', () => {
    expect(rendered('回T退订不影响积分，全场8折')).toBe(
      '【优选超市】回T退订不影响积分，全场8折，拒收请回复R',
    );
  });

  it('names reply keywords that the receipt processor must honour', () => {
    const named = [...acceptedOptOutForms['zh-CN'], ...acceptedOptOutForms.en].flatMap(
      // Upper-case runs that are not the start of a word: R, T, TD, STOP (not the R of Reply).
      (form) => form.match(/(?<![A-Za-z])[A-Z]+(?![a-z])/g) ?? [],
    );
    expect(new Set(named)).toEqual(new Set(optOutKeywordsNamed));
  });
});

describe('notifications', () => {
  it('never carry the opt-out text', () => {
    expect(rendered('您的订单已发货。', { category: 'notification' })).toBe('【优选超市】您的订单已发货。');
  });

  it('are refused when the body carries an opt-out text, naming it', () => {
    const problems = problemsOf(() =>
      validateTemplate({
        input: aTemplate({ category: 'notification', body: '您的订单已发货，回T退订' }),
        signature: zhSignature,
        defaultLocale: 'zh-CN',
      }),
    );
    expect(problems).toEqual([{ path: 'body.body', message: expect.stringContaining('"回T退订"') }]);
  });
});

describe('banned words', () => {
  const saving =
    (body: string, tenantBannedWords: string[] = []) =>
    () =>
      validateTemplate({
        input: aTemplate({ body }),
        signature: zhSignature,
        defaultLocale: 'zh-CN',
        tenantBannedWords,
      });

  it('refuse a template at save, naming every word found', () => {
    expect(problemsOf(saving('本店可代开发票，另有低息贷款，详询门店'))).toEqual([
      { path: 'body.body', message: 'banned or sensitive words: 发票, 代开, 贷款' },
    ]);
  });

  it('are found through spaces and punctuation put between the characters', () => {
    expect(findBannedWords({ text: '可开 发-票，博·彩' })).toEqual(['发票', '博彩']);
  });

  it('are found in defaults too', () => {
    expect(problemsOf(saving('{{name|default:"博彩会员"}}您好，全场8折'))[0]?.message).toContain('博彩');
  });

  it('include what the tenant adds', () => {
    expect(problemsOf(saving('全场清仓，最低1折', ['清仓']))[0]?.message).toBe(
      'banned or sensitive words: 清仓',
    );
  });

  it('match English words whole and case-blind, full-width letters included', () => {
    expect(findBannedWords({ text: 'Casino night! ｐａｙｄａｙ  LOAN' })).toEqual(['casino', 'payday loan']);
    expect(findBannedWords({ text: 'A special occasion at our Payday sale' })).toEqual([]);
  });

  it('have one built-in list', () => {
    expect(builtInBannedWords.length).toBeGreaterThanOrEqual(30);
    expect(new Set(builtInBannedWords).size).toBe(builtInBannedWords.length);
  });
});

describe('raw links', () => {
  it('are found whether written with a scheme, www or a bare domain', () => {
    expect(
      findRawUrls({ text: '详情见https://www.youxuan.cn/sale?a=1，或访问youxuan.com/vip。www.fresh.co' }),
    ).toEqual(['https://www.youxuan.cn/sale?a=1', 'youxuan.com/vip', 'www.fresh.co']);
  });

  it('are a hint at save, not an error, and the message is unchanged', () => {
    const review = validateTemplate({
      input: aTemplate({ body: '全场8折，详情 https://youxuan.cn/sale' }),
      signature: zhSignature,
      defaultLocale: 'zh-CN',
    });
    expect(review.hints).toEqual([
      expect.objectContaining({
        code: 'raw_url',
        path: 'body.body',
        message: expect.stringContaining('https://youxuan.cn/sale'),
      }),
    ]);
    expect(review.template.body).toBe('全场8折，详情 https://youxuan.cn/sale');
  });

  it('are not flagged when the body uses {{link}}', () => {
    const review = validateTemplate({
      input: aTemplate({ body: '全场8折，详情{{link}}' }),
      signature: zhSignature,
      defaultLocale: 'zh-CN',
    });
    expect(review.hints.map((hint) => hint.code)).not.toContain('raw_url');
  });
});

describe('the inbox preview hint', () => {
  const hints = (
    body: string,
    category: 'marketing' | 'notification' = 'marketing',
    locale: 'zh-CN' | 'en' = 'zh-CN',
  ) =>
    validateTemplate({
      input: aTemplate({ body, category, locale }),
      signature: zhSignature,
      defaultLocale: 'zh-CN',
    }).hints.map((hint) => hint.code);

  it('is given when the first 20 characters after the signature carry no offer', () => {
    expect(
      hints('尊敬的会员您好，为感谢您一直以来的支持与厚爱，我们将于下周举办年度会员盛典，届时全场5折'),
    ).toContain('preview_without_offer');
  });

  it.each([
    ['a discount', '全场5折！尊敬的会员，年度会员盛典下周开幕'],
    ['a gift', '到店好礼相送！尊敬的会员，年度会员盛典下周开幕'],
    ['a price placeholder', '您有{{points|number}}积分可兑换礼品，尊敬的会员'],
  ])('is not given when they carry %s', (_, body) => {
    expect(hints(body)).not.toContain('preview_without_offer');
  });

  it('is not given for notifications', () => {
    expect(hints('尊敬的会员您好，您的订单已经打包完成，正在等待快递员揽收', 'notification')).not.toContain(
      'preview_without_offer',
    );
  });

  it('reads English offers too', () => {
    expect(hints('Free coffee with any breakfast this week', 'marketing', 'en')).not.toContain(
      'preview_without_offer',
    );
    expect(hints('We would like to thank you for being with us, enjoy 20% off', 'marketing', 'en')).toContain(
      'preview_without_offer',
    );
  });
});
