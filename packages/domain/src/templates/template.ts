import * as z from 'zod';
import type { Problem } from '../shared/errors';
import { ValidationError } from '../shared/errors';
import { problemsOf } from '../shared/problems';
import { findBannedWords } from './banned-words';
import { type BodyPlan, compileTemplate, literalTextOf, planBody, renderMessage } from './compile';
import { findOptOutForm, findRawUrls, previewCarriesOffer, signaturePrefix } from './compliance';
import { type MessageSize, measureMessage, nonGsmCharacters } from './encoding';
import { dateFieldsOf, type Locale, numberOf } from './formats';
import { countingRules } from './pricing';
import {
  type CampaignVariableType,
  campaignVariableTypes,
  exampleMembers,
  linkStandIn,
  reservedVariableNames,
  type SendValues,
  type TemplateMember,
} from './variables';

// A merchant's template: what it says, to whom it may go (marketing needs consent and carries
// the opt-out; notifications do not), and, for providers that send only pre-approved
// templates (Aliyun, Tencent Cloud), which approved template it is and how our variables fill
// its parameters.

export const templateCategories = ['marketing', 'notification'] as const;
export type TemplateCategory = (typeof templateCategories)[number];
export const templateLocales = ['zh-CN', 'en'] as const;
export const templateLocale = z.enum(templateLocales);
export type TemplateLocale = z.infer<typeof templateLocale>;

export const maxTemplateBodyLength = 500;

const variableName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/, 'a letter, then up to 39 letters, digits or underscores')
  .refine((name) => !reservedVariableNames.includes(name), {
    message: `a member field's name; pick another (reserved: ${reservedVariableNames.join(', ')})`,
  });

/** A value supplied with each send (a coupon code, a deadline), written {{couponCode}}. */
export const campaignVariable = z
  .strictObject({
    name: variableName,
    type: z.enum(campaignVariableTypes).default('text'),
    description: z.string().trim().min(1).max(200).exactOptional(),
    /** Shown in the example message; else a stand-in of the type. */
    example: z.union([z.string().trim().min(1).max(100), z.number().finite()]).exactOptional(),
  })
  .superRefine((variable, ctx) => {
    if (variable.example === undefined || valueFits({ type: variable.type, value: variable.example })) return;
    ctx.addIssue({ code: 'custom', path: ['example'], message: expectedValue(variable.type) });
  });

function valueFits({ type, value }: { type: CampaignVariableType; value: string | number }): boolean {
  if (type === 'text') return typeof value === 'number' || value.trim() !== '';
  if (type === 'date') return dateFieldsOf(value, 'UTC') !== undefined;
  return numberOf(value) !== undefined;
}

function expectedValue(type: CampaignVariableType): string {
  return type === 'date' ? 'a date such as 2025-06-30' : `a ${type} value`;
}

const variableKey = z
  .string()
  .regex(
    /^(?:attributes\.)?[A-Za-z][A-Za-z0-9_]{0,39}$/,
    'a variable of the body, e.g. name or attributes.couponCode',
  );

/**
 * The provider's approved template and which of its parameters each of our variables fills:
 * `{ name: 'name', points: 'points' }` for Aliyun (${name}), `{ name: '1', points: '2' }` for
 * Tencent Cloud ({1}, {2}).
 */
export const providerBinding = z
  .strictObject({
    provider: z.enum(['aliyun', 'tencent']),
    templateCode: z
      .string()
      .trim()
      .regex(
        /^[A-Za-z0-9_-]{1,64}$/,
        'the template code the provider approved, e.g. SMS_123456789 or 1234567',
      ),
    params: z.record(
      variableKey,
      z.string().regex(/^[A-Za-z0-9_]{1,40}$/, 'a parameter name of the approved template'),
    ),
  })
  .superRefine((binding, ctx) => {
    const seen = new Map<string, string>();
    for (const [variable, param] of Object.entries(binding.params)) {
      const other = seen.get(param);
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['params', variable],
          message: `parameter ${param} is already filled by ${other}`,
        });
      }
      seen.set(param, variable);
    }
    if (binding.provider === 'tencent') {
      const expected = Array.from({ length: seen.size }, (_, i) => String(i + 1));
      const names = [...seen.keys()].sort((a, b) => Number(a) - Number(b));
      if (names.join() !== expected.join()) {
        ctx.addIssue({
          code: 'custom',
          path: ['params'],
          message: `Tencent Cloud numbers its parameters 1 to ${seen.size}; found ${names.join(', ')}`,
        });
      }
    }
  });
export type ProviderBinding = z.infer<typeof providerBinding>;

const shape = {
  name: z.string().trim().min(1).max(100),
  category: z.enum(templateCategories),
  body: z
    .string()
    .overwrite((body) => body.replace(/\r\n?/g, '\n'))
    .trim()
    .min(1, 'write the message')
    .max(maxTemplateBodyLength, `at most ${maxTemplateBodyLength} characters`),
  variables: z
    .array(campaignVariable)
    .max(20)
    .default([])
    .superRefine((variables, ctx) => {
      variables.forEach((variable, index) => {
        if (variables.findIndex((other) => other.name === variable.name) !== index) {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'name'],
            message: `${variable.name} is declared twice`,
          });
        }
      });
    }),
  binding: providerBinding.exactOptional(),
};

/** What a merchant sends to create or replace a template; the locale defaults to the tenant's. */
export const templateInput = z.strictObject({ ...shape, locale: templateLocale.exactOptional() });
export type TemplateInput = z.input<typeof templateInput>;

/** A validated template as stored: read stored items back through this schema. */
export const templateDefinition = z.strictObject({ ...shape, locale: templateLocale });
export type Template = z.output<typeof templateDefinition>;

// --- validation ------------------------------------------------------------------------------

export const templateHintCodes = ['raw_url', 'preview_without_offer', 'forces_ucs2', 'multipart'] as const;
export type TemplateHintCode = (typeof templateHintCodes)[number];

/** Advice, not an error: the template is saved either way. */
export interface TemplateHint extends Problem {
  readonly code: TemplateHintCode;
}

export interface MessageExample {
  /** The message for a plausible member, with stand-ins for campaign values and the link. */
  readonly text: string;
  readonly size: MessageSize;
}

export interface TemplateReview {
  readonly template: Template;
  readonly example: MessageExample;
  readonly hints: readonly TemplateHint[];
}

const textStandIns: Record<Locale, string> = { 'zh-CN': '示例', en: 'sample' };
const standIns = { number: 8, money: 20, date: '2025-06-30' } as const;

/**
 * Validates a template as a merchant wrote it: the schema, the placeholders (unknown variables
 * and unusable filters named with their position), the signature, the opt-out rules, banned
 * words and the provider binding. Throws one ValidationError listing every problem, with paths
 * under `root` (`body.body`, `body.variables.0.name`, `body.binding.params.name`). Returns the
 * normalized template, an example message and hints.
 */
export function validateTemplate({
  input,
  signature,
  defaultLocale,
  tenantBannedWords = [],
  root = 'body',
}: {
  input: unknown;
  signature: string;
  defaultLocale: TemplateLocale;
  tenantBannedWords?: readonly string[];
  root?: string;
}): TemplateReview {
  const parsed = templateInput.safeParse(input);
  if (!parsed.success) throw new ValidationError(problemsOf(parsed.error, root));
  const template: Template = { ...parsed.data, locale: parsed.data.locale ?? defaultLocale };
  const bodyPath = `${root}.body`;
  const problems: Problem[] = [];
  const plan = planBody({
    body: template.body,
    locale: template.locale,
    campaignVariables: template.variables,
  });
  for (const problem of plan.problems) {
    problems.push({ path: bodyPath, message: `${problem.message} (at character ${problem.at})` });
  }
  const literal = literalTextOf({ segments: plan.segments });

  if (/[【】]/.test(template.body)) {
    problems.push({
      path: bodyPath,
      message: 'remove 【】: the signature is added for you, and a second one gets the message blocked',
    });
  } else if (template.body.startsWith(signaturePrefix({ signature, locale: 'en' }).trim())) {
    problems.push({
      path: bodyPath,
      message: `remove the leading [${signature}]: the signature is added for you`,
    });
  }
  if (template.category === 'notification') {
    const form = findOptOutForm({ text: literal });
    if (form) {
      problems.push({
        path: bodyPath,
        message: `a notification carries no opt-out text ("${form}"): providers reject it; make the template marketing or remove it`,
      });
    }
  }
  const banned = findBannedWords({ text: literal, tenantWords: tenantBannedWords });
  if (banned.length > 0) {
    problems.push({ path: bodyPath, message: `banned or sensitive words: ${banned.join(', ')}` });
  }
  problems.push(...bindingProblems({ template, used: plan, root }));
  if (problems.length > 0) throw new ValidationError(problems);

  const example = exampleOf({ template, signature });
  return { template, example, hints: hintsFor({ template, literal, example, signature, bodyPath }) };
}

function bindingProblems({
  template,
  used,
  root,
}: {
  template: Template;
  used: BodyPlan;
  root: string;
}): Problem[] {
  const binding = template.binding;
  if (!binding) return [];
  const problems: Problem[] = [];
  const placeholders = used.segments.flatMap((segment) =>
    segment.kind === 'slot' ? [segment.slot.placeholder] : [],
  );
  const written = new Map<string, string>();
  for (const placeholder of placeholders) {
    const key = placeholder.variable;
    // The provider fills each parameter once, so one variable must print one way.
    const form = placeholder.source.replace(/\s+/g, '');
    const earlier = written.get(key);
    if (earlier !== undefined && earlier !== form) {
      problems.push({
        path: `${root}.body`,
        message: `${placeholder.source} and ${earlier} fill one provider parameter in two ways; write them alike`,
      });
    }
    written.set(key, form);
    if (!Object.hasOwn(binding.params, key)) {
      problems.push({
        path: `${root}.binding.params`,
        message: `{{${key}}} has no parameter of the approved template`,
      });
    }
  }
  for (const key of Object.keys(binding.params)) {
    if (!written.has(key)) {
      problems.push({ path: `${root}.binding.params.${key}`, message: `${key} is not used in the body` });
    }
  }
  return [...new Map(problems.map((problem) => [`${problem.path}|${problem.message}`, problem])).values()];
}

function exampleOf({ template, signature }: { template: Template; signature: string }): MessageExample {
  const compiled = compileTemplate({ template, signature, timeZone: 'Asia/Shanghai' });
  const plan = planBody({
    body: template.body,
    locale: template.locale,
    campaignVariables: template.variables,
  });
  const attributes: Record<string, string | number> = {};
  for (const segment of plan.segments) {
    if (segment.kind !== 'slot' || !segment.slot.placeholder.variable.startsWith('attributes.')) continue;
    const kind = segment.slot.placeholder.format?.kind;
    attributes[segment.slot.placeholder.variable.slice('attributes.'.length)] =
      kind === undefined ? textStandIns[template.locale] : standIns[kind];
  }
  const member: TemplateMember = { ...exampleMembers[template.locale], attributes };
  const values: Record<string, string | number> = {};
  for (const variable of template.variables) {
    values[variable.name] =
      variable.example ??
      (variable.type === 'text' ? textStandIns[template.locale] : standIns[variable.type]);
  }
  const outcome = renderMessage({ compiled, member, values, link: linkStandIn });
  // Every value is supplied, so only a declared example that its own format cannot print
  // (a date variable whose example is not a date) leaves a placeholder unfilled.
  const text = outcome.kind === 'rendered' ? outcome.text : compiled.prefix + template.body;
  const rule = template.binding ? countingRules[template.binding.provider] : 'standard';
  return { text, size: measureMessage({ text, rule }) };
}

function hintsFor({
  template,
  literal,
  example,
  signature,
  bodyPath,
}: {
  template: Template;
  literal: string;
  example: MessageExample;
  signature: string;
  bodyPath: string;
}): TemplateHint[] {
  const hints: TemplateHint[] = [];
  for (const url of new Set(findRawUrls({ text: literal }))) {
    hints.push({
      code: 'raw_url',
      path: bodyPath,
      message: `raw link ${url}: use {{link}} so each message gets a tracked short link`,
    });
  }
  const afterSignature = example.text.slice(signaturePrefix({ signature, locale: template.locale }).length);
  if (template.category === 'marketing' && !previewCarriesOffer({ text: afterSignature })) {
    hints.push({
      code: 'preview_without_offer',
      path: bodyPath,
      message:
        'the first 20 characters (what the inbox preview shows) carry no offer: put the discount, price or gift first',
    });
  }
  if (template.locale === 'en' && example.size.encoding === 'ucs2') {
    const characters = nonGsmCharacters({ text: example.text }).slice(0, 10);
    hints.push({
      code: 'forces_ucs2',
      path: bodyPath,
      message: `${characters.join(' ')} make the message UCS-2: 70 characters per SMS instead of 160`,
    });
  }
  if (example.size.parts > 1) {
    hints.push({
      code: 'multipart',
      path: bodyPath,
      message: `the example takes ${example.size.parts} SMS parts (${example.size.units} of ${example.size.singleLimit} for one); each part is billed`,
    });
  }
  return hints;
}

// --- values of a send ------------------------------------------------------------------------

/** Whether the body uses {{link}}: a campaign sending it must give the link's destination. */
export function templateUsesLink(template: Pick<Template, 'body' | 'locale' | 'variables'>): boolean {
  const plan = planBody({
    body: template.body,
    locale: template.locale,
    campaignVariables: template.variables,
  });
  return plan.segments.some((segment) => segment.kind === 'slot' && segment.slot.type === 'link');
}

const sendValue = z.union([z.string().max(200), z.number().finite()]);

/**
 * Checks the values a campaign (or one triggered send) supplies for the template's declared
 * variables: each of the declared type, none unknown, and none missing that the body uses
 * without a default. Throws a ValidationError with paths under `root`.
 */
export function validateSendValues({
  template,
  values,
  root = 'body.values',
}: {
  template: Template;
  values: unknown;
  root?: string;
}): SendValues {
  const parsed = z.record(z.string(), sendValue).safeParse(values ?? {});
  if (!parsed.success) throw new ValidationError(problemsOf(parsed.error, root));
  const problems: Problem[] = [];
  const plan = planBody({
    body: template.body,
    locale: template.locale,
    campaignVariables: template.variables,
  });
  for (const [key, value] of Object.entries(parsed.data)) {
    const declared = template.variables.find((variable) => variable.name === key);
    if (!declared) {
      problems.push({ path: `${root}.${key}`, message: `${key} is not a variable of this template` });
      continue;
    }
    if (!valueFits({ type: declared.type, value })) {
      problems.push({ path: `${root}.${key}`, message: `${key} takes ${expectedValue(declared.type)}` });
    }
  }
  for (const variable of template.variables) {
    if (Object.hasOwn(parsed.data, variable.name)) continue;
    const required = plan.segments.some(
      (segment) =>
        segment.kind === 'slot' &&
        segment.slot.placeholder.variable === variable.name &&
        segment.slot.placeholder.fallback === undefined,
    );
    if (required)
      problems.push({
        path: `${root}.${variable.name}`,
        message: `{{${variable.name}}} has no default: give a value`,
      });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return parsed.data;
}
