import {
  compileTemplate,
  listStarterTemplates,
  renderMessage,
  starterKeys,
  starterTemplates,
  validateTemplate,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

// The starter templates of GET /templates/starter: the seed's five member templates plus
// welcome and shipment, in both locales, each ready to save as it is.

const signatures = { 'zh-CN': '优选超市', en: 'FreshMart' } as const;

describe('starterTemplates', () => {
  it('offers every kind in zh-CN and en', () => {
    expect(starterKeys).toEqual([
      'activity-notice',
      'birthday-greeting',
      'points-reminder',
      'new-product',
      'follow-up-survey',
      'welcome',
      'shipment-notice',
    ]);
    for (const locale of ['zh-CN', 'en'] as const) {
      expect(listStarterTemplates({ locale }).map((starter) => starter.key)).toEqual([...starterKeys]);
    }
    expect(listStarterTemplates()).toHaveLength(14);
  });

  it.each(starterTemplates.map((starter) => [starter.key, starter.template.locale, starter] as const))(
    'saves %s (%s) as it is, with the offer in the inbox preview when it is marketing',
    (_key, locale, starter) => {
      const review = validateTemplate({
        input: starter.template,
        signature: signatures[locale],
        defaultLocale: 'zh-CN',
      });
      expect(review.hints.map((hint) => hint.code)).not.toContain('preview_without_offer');
      expect(review.hints.map((hint) => hint.code)).not.toContain('raw_url');
      expect(review.hints.map((hint) => hint.code)).not.toContain('forces_ucs2');
      expect(review.example.text).not.toMatch(/\{\{|undefined|null/);
      expect(review.example.size.parts).toBeLessThanOrEqual(2);
    },
  );

  it.each(starterTemplates.map((starter) => [starter.key, starter.template.locale, starter] as const))(
    'renders %s (%s) for a member who has only a phone number, or names what is missing',
    (_key, locale, starter) => {
      const { template } = validateTemplate({
        input: starter.template,
        signature: signatures[locale],
        defaultLocale: 'zh-CN',
      });
      const compiled = compileTemplate({
        template,
        signature: signatures[locale],
        timeZone: 'Asia/Shanghai',
      });
      const values = Object.fromEntries(
        template.variables.map((variable) => [variable.name, variable.example ?? 'x']),
      );
      const outcome = renderMessage({ compiled, member: {}, values, link: 'https://m.youxuan.cn/Q1w2' });
      if (outcome.kind === 'suppressed') {
        // Only a value no default can stand in for: the points of a points reminder.
        expect(outcome.variable).toBe('points');
        return;
      }
      const optOut = locale === 'zh-CN' ? '拒收请回复R' : 'Reply STOP to opt out';
      if (template.category === 'marketing') expect(outcome.text.endsWith(optOut)).toBe(true);
      else expect(outcome.text).not.toContain(optOut);
    },
  );
});
