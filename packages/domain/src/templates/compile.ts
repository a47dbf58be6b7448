import { ValidationError } from '../shared/errors';
import { endsWithOptOut, optOutJoiner, optOutTexts, signaturePrefix } from './compliance';
import {
  cleanText,
  currencies,
  type DatePatternPart,
  dateFieldsOf,
  defaultDatePatterns,
  type Formatter,
  formatDate,
  formatMoney,
  formatNumber,
  isCurrency,
  type Locale,
  numberOf,
  parseDatePattern,
  tokensBeyondBirthday,
} from './formats';
import { type Placeholder, parseBody, type Segment, type SyntaxProblem } from './syntax';
import type { Template } from './template';
import {
  type CampaignVariable,
  closestKey,
  knownVariableKeys,
  resolveVariable,
  type SendValues,
  type TemplateMember,
  type ValueReader,
  type VariableType,
} from './variables';

// A template is compiled once per campaign (or per cold start) into a list of literal strings
// and value closures; rendering a member is then a loop of string concatenations, with no
// parsing and no lookup by name.

export const maxDefaultLength = 50;

/** One placeholder, resolved: where its value comes from and how it is printed. */
export interface Slot {
  readonly placeholder: Placeholder;
  readonly type: VariableType;
  /** The printed value, the default when the value is missing or unusable, else `undefined`. */
  readonly produce: (
    member: TemplateMember,
    values: SendValues | undefined,
    link: string | undefined,
    timeZone: string,
  ) => string | undefined;
}

export type PlannedSegment =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'slot'; readonly slot: Slot };

export interface BodyPlan {
  readonly segments: readonly PlannedSegment[];
  readonly problems: readonly SyntaxProblem[];
}

const acceptedFormats: Record<VariableType, readonly string[]> = {
  text: [],
  link: [],
  number: ['number'],
  money: ['money', 'number'],
  date: ['date'],
  birthday: ['date'],
  any: ['number', 'money', 'date'],
};

/** How a placeholder without a format filter prints its value. */
const defaultFormats: Record<VariableType, 'text' | 'plain' | 'money' | 'date'> = {
  text: 'text',
  link: 'text',
  any: 'text',
  number: 'plain',
  money: 'money',
  date: 'date',
  birthday: 'date',
};

const typeNames: Record<VariableType, string> = {
  text: 'text',
  link: 'the link',
  number: 'a number',
  money: 'an amount of money',
  date: 'a date',
  birthday: 'a birthday',
  any: 'an attribute',
};

function textFormatter(): Formatter {
  return (value) => {
    if (typeof value === 'string') return cleanText(value);
    const number = typeof value === 'number' ? numberOf(value) : undefined;
    return number === undefined ? undefined : formatNumber(number, { grouping: false });
  };
}

function dateFormatter(parts: readonly DatePatternPart[]): Formatter {
  return (value, timeZone) => {
    const fields = dateFieldsOf(value, timeZone);
    return fields && formatDate(fields, parts);
  };
}

/** The formatter of a placeholder, or the problem that keeps it from having one. */
function formatterOf(placeholder: Placeholder, type: VariableType, locale: Locale): Formatter | string {
  const { format, source } = placeholder;
  if (type === 'link' && placeholder.fallback !== undefined) {
    return `${source}: the link takes no default (each message gets its own)`;
  }
  if (format && !acceptedFormats[type].includes(format.kind)) {
    const accepted = acceptedFormats[type];
    const instead = accepted.length ? `; use ${accepted.join(' or ')}` : '';
    return `${source}: ${placeholder.variable} is ${typeNames[type]}, which "${format.kind}" cannot format${instead}`;
  }
  const kind = format?.kind ?? defaultFormats[type];
  switch (kind) {
    case 'number':
      return (value) => {
        const number = numberOf(value);
        return number === undefined ? undefined : formatNumber(number, { grouping: true });
      };
    case 'plain':
      return (value) => {
        const number = numberOf(value);
        return number === undefined ? undefined : formatNumber(number, { grouping: false });
      };
    case 'money': {
      const currency = format?.kind === 'money' && format.currency !== undefined ? format.currency : 'CNY';
      if (!isCurrency(currency)) {
        return `${source}: unknown currency "${currency}"; use one of ${Object.keys(currencies).join(', ')}`;
      }
      return (value) => {
        const number = numberOf(value);
        return number === undefined ? undefined : formatMoney(number, { currency, locale });
      };
    }
    case 'date': {
      const pattern =
        format?.kind === 'date' && format.pattern !== undefined
          ? format.pattern
          : defaultDatePatterns[locale];
      const parts = parseDatePattern({ pattern });
      if (!parts) return `${source}: "${pattern}" holds no date token (YYYY MMM MM M DD D HH H mm)`;
      if (type === 'birthday') {
        const beyond = parts.filter(
          (part) => typeof part === 'string' && tokensBeyondBirthday.includes(part),
        );
        if (beyond.length) return `${source}: a birthday has no ${beyond.join(', ')} (month and day only)`;
      }
      return dateFormatter(parts);
    }
    default:
      return textFormatter();
  }
}

const unset = Symbol('unset');

function slotOf(placeholder: Placeholder, read: ValueReader, format: Formatter): Slot['produce'] {
  const fallback = placeholder.fallback;
  // Values of the send (a deadline, a coupon amount) are the same for every member: the last
  // value printed is kept so that it is formatted once, not once per member.
  let lastValue: unknown = unset;
  let lastZone = '';
  let lastPrinted: string | undefined;
  return (member, values, link, zone) => {
    const value = read(member, values, link);
    if (value !== lastValue || zone !== lastZone) {
      lastValue = value;
      lastZone = zone;
      lastPrinted = format(value, zone) ?? fallback;
    }
    return lastPrinted;
  };
}

/** Parses a body and resolves every placeholder against the variables the template may use. */
export function planBody({
  body,
  locale,
  campaignVariables,
}: {
  body: string;
  locale: Locale;
  campaignVariables: readonly CampaignVariable[];
}): BodyPlan {
  const parsed = parseBody({ body });
  const problems: SyntaxProblem[] = [...parsed.problems];
  const segments: PlannedSegment[] = [];
  const known = knownVariableKeys({ campaignVariables });
  for (const segment of parsed.segments) {
    if (segment.kind === 'text') {
      segments.push(segment);
      continue;
    }
    const descriptor = resolveVariable({ key: segment.variable, campaignVariables });
    if (!descriptor) {
      const guess = closestKey({ key: segment.variable, known });
      const suggestion = guess ? `; did you mean {{${guess}}}?` : '';
      problems.push({
        at: segment.at,
        message: `unknown variable {{${segment.variable}}}${suggestion} Known: ${known.join(', ')}, or declare it in variables`,
      });
      continue;
    }
    if (segment.fallback !== undefined && Array.from(segment.fallback).length > maxDefaultLength) {
      problems.push({
        at: segment.at,
        message: `${segment.source}: a default has at most ${maxDefaultLength} characters`,
      });
      continue;
    }
    if (
      segment.fallback !== undefined &&
      segment.fallback.trim() !== '' &&
      cleanText(segment.fallback) === undefined
    ) {
      problems.push({
        at: segment.at,
        message: `${segment.source}: a default of "${segment.fallback}" reads as nothing to a member`,
      });
      continue;
    }
    const format = formatterOf(segment, descriptor.type, locale);
    if (typeof format === 'string') {
      problems.push({ at: segment.at, message: format });
      continue;
    }
    segments.push({
      kind: 'slot',
      slot: {
        placeholder: segment,
        type: descriptor.type,
        produce: slotOf(segment, descriptor.read, format),
      },
    });
  }
  problems.sort((a, b) => a.at - b.at);
  return { segments, problems };
}

/** The literal text of a parsed body, defaults included: what compliance checks read. */
export function literalTextOf({ segments }: { segments: readonly (Segment | PlannedSegment)[] }): string {
  return segments
    .map((segment) => {
      if (segment.kind === 'text') return segment.text;
      const placeholder = segment.kind === 'slot' ? segment.slot.placeholder : segment;
      return placeholder.fallback === undefined ? ' ' : ` ${placeholder.fallback} `;
    })
    .join('');
}

// --- compiled templates ----------------------------------------------------------------------

export interface ProviderParam {
  /** The provider's parameter name (`name` on Aliyun; `1`, `2` … on Tencent Cloud). */
  readonly name: string;
  readonly value: string;
}

export type RenderOutcome =
  | {
      readonly kind: 'rendered';
      /** The full SMS: signature, body, and for marketing the opt-out text. */
      readonly text: string;
      /** For a provider binding, its parameters in the provider's order; else empty. */
      readonly params: readonly ProviderParam[];
    }
  | {
      readonly kind: 'suppressed';
      readonly reason: 'missing_variable';
      /** The variable that had no usable value and no default, e.g. `name`. */
      readonly variable: string;
    };

type Renderer = (
  member: TemplateMember,
  values: SendValues | undefined,
  link: string | undefined,
) => RenderOutcome;

export interface CompiledTemplate {
  readonly template: Template;
  readonly signature: string;
  /** The zone dates are read in for members without their own. */
  readonly timeZone: string;
  /** The variables the body uses, each once, in order of first use. */
  readonly variables: readonly string[];
  /** Whether compliance appended the opt-out text (marketing whose body does not end with one). */
  readonly optOutAppended: boolean;
  /** The fixed text before the body: the signature as the locale writes it. */
  readonly prefix: string;
  readonly renderer: Renderer;
}

const noParams: readonly ProviderParam[] = Object.freeze([]);

/**
 * Compiles a validated template with the tenant's signature. Throws a ValidationError (path
 * `template.body`) only if the stored body no longer compiles, which `validateTemplate` rules out.
 */
export function compileTemplate({
  template,
  signature,
  timeZone,
}: {
  template: Template;
  signature: string;
  timeZone: string;
}): CompiledTemplate {
  const plan = planBody({
    body: template.body,
    locale: template.locale,
    campaignVariables: template.variables,
  });
  if (plan.problems.length > 0) {
    throw new ValidationError(
      plan.problems.map((problem) => ({
        path: 'template.body',
        message: `${problem.message} (at character ${problem.at})`,
      })),
    );
  }
  const prefix = signaturePrefix({ signature, locale: template.locale });
  const last = plan.segments.at(-1);
  // A closing link is followed by a space so the opt-out never sticks to the URL; any other
  // closing value is joined like text that ends without punctuation.
  const end = last?.kind === 'text' ? last.text : '';
  const afterLink = last?.kind === 'slot' && last.slot.type === 'link';
  const optOutAppended =
    template.category === 'marketing' && !endsWithOptOut({ text: end, locale: template.locale });
  const suffix = optOutAppended
    ? `${optOutJoiner({ end, afterLink, locale: template.locale })}${optOutTexts[template.locale]}`
    : '';

  // The head, then one step per placeholder: its value and the literal text that follows it.
  let head = prefix;
  const steps: { produce: Slot['produce']; tail: string; suppressed: RenderOutcome }[] = [];
  for (const segment of plan.segments) {
    const previous = steps.at(-1);
    if (segment.kind === 'slot') {
      const variable = segment.slot.placeholder.variable;
      const suppressed: RenderOutcome = Object.freeze({
        kind: 'suppressed',
        reason: 'missing_variable',
        variable,
      });
      steps.push({ produce: segment.slot.produce, tail: '', suppressed });
    } else if (previous) previous.tail += segment.text;
    else head += segment.text;
  }
  const lastStep = steps.at(-1);
  if (lastStep) lastStep.tail += suffix;
  else head += suffix;

  const keys = plan.segments.flatMap((segment) =>
    segment.kind === 'slot' ? [segment.slot.placeholder.variable] : [],
  );
  const paramPlan = bindingPlan({ template, keys });
  const renderer: Renderer = (member, values, link) => {
    const zone = member.timeZone ?? timeZone;
    const printed: string[] | undefined = paramPlan ? [] : undefined;
    let text = head;
    for (const step of steps) {
      const value = step.produce(member, values, link, zone);
      if (value === undefined) return step.suppressed;
      printed?.push(value);
      text += value + step.tail;
    }
    if (!paramPlan || !printed) return { kind: 'rendered', text, params: noParams };
    return {
      kind: 'rendered',
      text,
      params: paramPlan.map(({ name, index }) => ({ name, value: printed[index] ?? '' })),
    };
  };
  return {
    template,
    signature,
    timeZone,
    variables: [...new Set(keys)],
    optOutAppended,
    prefix,
    renderer,
  };
}

/** Which slot fills each provider parameter, in the provider's order. */
function bindingPlan({
  template,
  keys,
}: {
  template: Template;
  keys: readonly string[];
}): { name: string; index: number }[] | undefined {
  const binding = template.binding;
  if (!binding) return undefined;
  const plan = Object.entries(binding.params).map(([variable, name]) => ({
    name,
    index: keys.indexOf(variable),
  }));
  // Tencent Cloud takes an ordered list ({1}, {2} …); Aliyun a JSON object, where order is moot.
  if (binding.provider === 'tencent') plan.sort((a, b) => Number(a.name) - Number(b.name));
  return plan;
}

/**
 * Renders one member's message. A missing value takes the placeholder's default; with no
 * default the member is suppressed with reason `missing_variable` naming the variable, so no
 * member ever receives `{{name}}`, `undefined` or `null`.
 */
export function renderMessage({
  compiled,
  member,
  values,
  link,
}: {
  compiled: CompiledTemplate;
  member: TemplateMember;
  values?: SendValues;
  link?: string;
}): RenderOutcome {
  return compiled.renderer(member, values, link);
}
