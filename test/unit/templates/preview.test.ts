import {
  measureMessage,
  type PreviewMember,
  previewTemplate,
  renderMessage,
  startPreview,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { compiled } from './support';

// The preview a merchant sees before sending: samples, parts, suppressions and cost.

const member = (n: number, fields: Partial<PreviewMember> = {}): PreviewMember => ({
  memberId: `m${n}`,
  phone: `+86138${String(n).padStart(8, '0')}`,
  ...fields,
});

describe('previewTemplate', () => {
  const template = compiled({
    body: '{{name|default:"会员"}}您好，您的专属券码{{attributes.couponCode}}，全场8折{{attributes.note|default:""}}',
  });
  const members = [
    member(1, { name: '王小明', attributes: { couponCode: 'VIP001' } }),
    member(2, { attributes: { couponCode: 'VIP002', note: `，${'优'.repeat(60)}` } }),
    member(3, { name: '李雷' }),
    member(4, { name: '韩梅梅', attributes: { couponCode: 'VIP004' } }),
    member(5, {}),
  ];

  it('renders samples with masked phones, counts parts, suppressions and the cost', () => {
    const preview = previewTemplate({ compiled: template, members, provider: 'aliyun', sampleSize: 2 });
    expect(preview).toMatchObject({
      provider: 'aliyun',
      audience: 5,
      rendered: 3,
      suppressed: {
        total: 2,
        byReason: [{ reason: 'missing_variable', variable: 'attributes.couponCode', count: 2 }],
      },
      partsDistribution: [
        { parts: 1, messages: 2 },
        { parts: 2, messages: 1 },
      ],
      totalParts: 4,
      averageParts: 1.33,
      cost: { currency: 'CNY', pricePerPart: '0.045', parts: 4, total: '0.18', origin: 'default' },
    });
    expect(preview.samples).toEqual([
      {
        memberId: 'm1',
        phone: '+86*******0001',
        text: '【优选超市】王小明您好，您的专属券码VIP001，全场8折，拒收请回复R',
        size: { encoding: 'ucs2', units: 36, parts: 1, singleLimit: 70, partLimit: 67 },
      },
      expect.objectContaining({ memberId: 'm2', phone: '+86*******0002' }),
    ]);
  });

  it('counts parts by the rule of the provider that sends', () => {
    const english = compiled({
      category: 'notification',
      locale: 'en',
      body: `Hi {{name}}, ${'x'.repeat(80)}`,
    });
    const people = [member(1, { name: 'Ann' })];
    expect(previewTemplate({ compiled: english, members: people, provider: 'twilio' }).totalParts).toBe(1);
    expect(previewTemplate({ compiled: english, members: people, provider: 'tencent' }).totalParts).toBe(2);
  });

  it("prices with the tenant's rates when it has them", () => {
    const preview = previewTemplate({
      compiled: template,
      members,
      provider: 'twilio',
      priceOverrides: { twilio: { currency: 'USD', pricePerPart: '0.0079' } },
    });
    expect(preview.cost).toMatchObject({ currency: 'USD', origin: 'tenant', total: '0.0316' });
  });

  it('gives the same result fed page by page', () => {
    const tally = startPreview({ compiled: template, provider: 'aliyun' });
    for (const page of [members.slice(0, 2), members.slice(2)])
      for (const someone of page) tally.add(someone);
    expect(tally.finish()).toEqual(previewTemplate({ compiled: template, members, provider: 'aliyun' }));
  });

  it('reports an empty audience as nothing to send', () => {
    expect(previewTemplate({ compiled: template, members: [], provider: 'aliyun' })).toMatchObject({
      audience: 0,
      rendered: 0,
      averageParts: 0,
      partsDistribution: [],
      cost: { total: '0.00' },
    });
  });
});

describe('the parts of a rendered message', () => {
  // 【优选超市】 is 6 characters and ，拒收请回复R 7: the body gets what is left of 70 or 134.
  const withBody = (bodyLength: number) => {
    const outcome = renderMessage({
      compiled: compiled({ body: `全场8折${'优'.repeat(bodyLength - 4)}` }),
      member: {},
    });
    if (outcome.kind !== 'rendered') throw new Error('suppressed');
    return measureMessage({ text: outcome.text });
  };

  it.each([
    [57, 70, 1],
    [58, 71, 2],
    [121, 134, 2],
    [122, 135, 3],
  ])(
    'include the signature and the opt-out text: a %i-character body makes %i characters in %i part(s)',
    (body, units, parts) => {
      expect(withBody(body)).toMatchObject({ units, parts });
    },
  );

  it('count the [] of an English signature as extension characters', () => {
    // "[FreshMart] " is 12 characters and 14 septets.
    const english = compiled({ category: 'notification', locale: 'en', body: 'x'.repeat(146) });
    const outcome = renderMessage({ compiled: english, member: {} });
    expect(outcome.kind === 'rendered' && measureMessage({ text: outcome.text })).toMatchObject({
      units: 160,
      parts: 1,
    });
    const longer = compiled({ category: 'notification', locale: 'en', body: 'x'.repeat(147) });
    const again = renderMessage({ compiled: longer, member: {} });
    expect(again.kind === 'rendered' && measureMessage({ text: again.text })).toMatchObject({
      units: 161,
      parts: 2,
    });
  });
});
