import { maskPhone } from '../privacy/mask';
import { type CompiledTemplate, renderMessage } from './compile';
import { type MessageSize, measureMessage } from './encoding';
import {
  type CostEstimate,
  countingRules,
  estimateCost,
  type PartPriceOverrides,
  type SmsProviderId,
} from './pricing';
import { linkStandIn, type SendValues, type TemplateMember } from './variables';

// What a merchant sees before sending: the message as some members will read it, how many
// parts each takes, how the audience spreads over part counts, who would be left out because
// a value is missing, and what it costs. Pure: the caller resolves the audience (a segment or
// a list of member ids) and feeds the members in, a page at a time if it likes.

export interface PreviewMember extends TemplateMember {
  readonly memberId: string;
  readonly phone: string;
}

export interface PreviewSample {
  readonly memberId: string;
  /** Masked: a preview is shown in back offices and may be logged. */
  readonly phone: string;
  readonly text: string;
  readonly size: MessageSize;
}

export interface SuppressedCount {
  readonly reason: 'missing_variable';
  readonly variable: string;
  readonly count: number;
}

export interface TemplatePreview {
  readonly provider: SmsProviderId;
  /** Members looked at. */
  readonly audience: number;
  /** Members who would receive the message: audience minus suppressed. */
  readonly rendered: number;
  readonly suppressed: { readonly total: number; readonly byReason: readonly SuppressedCount[] };
  /** The first rendered messages, in audience order. */
  readonly samples: readonly PreviewSample[];
  /** How many messages take each number of parts, fewest parts first. */
  readonly partsDistribution: readonly { readonly parts: number; readonly messages: number }[];
  readonly totalParts: number;
  /** Mean parts per rendered message, two decimals; 0 when nothing renders. */
  readonly averageParts: number;
  readonly cost: CostEstimate;
}

export interface PreviewTally {
  add(member: PreviewMember): void;
  finish(): TemplatePreview;
}

export interface PreviewOptions {
  readonly compiled: CompiledTemplate;
  /** The provider that will send: it decides how parts are counted and what they cost. */
  readonly provider: SmsProviderId;
  readonly values?: SendValues;
  /** A real short link of the tenant's domain if known; else a stand-in of typical length. */
  readonly link?: string;
  readonly priceOverrides?: PartPriceOverrides;
  readonly sampleSize?: number;
}

/** A running preview, for audiences read page by page. */
export function startPreview({
  compiled,
  provider,
  values,
  link = linkStandIn,
  priceOverrides,
  sampleSize = 5,
}: PreviewOptions): PreviewTally {
  const rule = countingRules[provider];
  const distribution = new Map<number, number>();
  const missing = new Map<string, number>();
  const samples: PreviewSample[] = [];
  let audience = 0;
  let totalParts = 0;
  return {
    add(member) {
      audience++;
      const outcome = renderMessage(values ? { compiled, member, values, link } : { compiled, member, link });
      if (outcome.kind === 'suppressed') {
        missing.set(outcome.variable, (missing.get(outcome.variable) ?? 0) + 1);
        return;
      }
      const size = measureMessage({ text: outcome.text, rule });
      totalParts += size.parts;
      distribution.set(size.parts, (distribution.get(size.parts) ?? 0) + 1);
      if (samples.length < sampleSize) {
        samples.push({ memberId: member.memberId, phone: maskPhone(member.phone), text: outcome.text, size });
      }
    },
    finish() {
      const byReason = [...missing]
        .map(([variable, count]) => ({ reason: 'missing_variable' as const, variable, count }))
        .sort((a, b) => b.count - a.count || a.variable.localeCompare(b.variable));
      const suppressedTotal = byReason.reduce((sum, entry) => sum + entry.count, 0);
      const rendered = audience - suppressedTotal;
      return {
        provider,
        audience,
        rendered,
        suppressed: { total: suppressedTotal, byReason },
        samples: [...samples],
        partsDistribution: [...distribution]
          .map(([parts, messages]) => ({ parts, messages }))
          .sort((a, b) => a.parts - b.parts),
        totalParts,
        averageParts: rendered === 0 ? 0 : Math.round((totalParts / rendered) * 100) / 100,
        cost: estimateCost(
          priceOverrides
            ? { provider, parts: totalParts, overrides: priceOverrides }
            : { provider, parts: totalParts },
        ),
      };
    },
  };
}

/** The preview of `compiled` over `members`. */
export function previewTemplate({
  members,
  ...options
}: PreviewOptions & { members: Iterable<PreviewMember> }): TemplatePreview {
  const tally = startPreview(options);
  for (const member of members) tally.add(member);
  return tally.finish();
}
