import { type CompiledTemplate, compileTemplate, type TemplateInput, validateTemplate } from '@qunfa/domain';

// Builders for the template specifications: a template as a merchant would save it, compiled
// with the tenant's signature.

export const zhSignature = '优选超市';
export const enSignature = 'FreshMart';

export function aTemplate(overrides: Partial<TemplateInput> & { body: string }): TemplateInput {
  return { name: 'Spring sale', category: 'marketing', locale: 'zh-CN', ...overrides };
}

export function compiled(
  overrides: Partial<TemplateInput> & { body: string },
  { timeZone = 'Asia/Shanghai' }: { timeZone?: string } = {},
): CompiledTemplate {
  const input = aTemplate(overrides);
  const signature = input.locale === 'en' ? enSignature : zhSignature;
  const { template } = validateTemplate({ input, signature, defaultLocale: 'zh-CN' });
  return compileTemplate({ template, signature, timeZone });
}

/** The ValidationError problems `act` throws, or fails the test. */
export function problemsOf(act: () => unknown): { path: string; message: string }[] {
  try {
    act();
  } catch (error) {
    if (error instanceof Error && 'problems' in error && Array.isArray(error.problems)) {
      return error.problems.map((problem: { path: string; message: string }) => ({ ...problem }));
    }
    throw error;
  }
  throw new Error('expected a ValidationError');
}
