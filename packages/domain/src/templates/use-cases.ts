import * as z from 'zod';
import {
  type MessageCategory,
  type SuppressionReason,
  suppressionReason,
  suppressionReasons,
} from '../compliance/suppression';
import { resolveAudience } from '../members/audience';
import { memberShardCount, memberShards, phoneHash } from '../members/identity';
import type { Member } from '../members/member';
import type { MemberStore, OptOutStore } from '../members/store';
import { compileSegment } from '../segments/compile';
import type { SegmentDefinition } from '../segments/definition';
import type { SavedSegment } from '../segments/saved-segment';
import { getSegment } from '../segments/use-cases';
import { forEachConcurrently } from '../shared/concurrency';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { type RandomBytes, randomBase62 } from '../shared/ids';
import type { RecordStore } from '../shared/records';
import { nextVersion } from '../shared/records';
import { type Tenant, tenantSignature } from '../tenancy/tenant';
import { compileTemplate } from './compile';
import { type SuppressedCount, startPreview, type TemplatePreview } from './preview';
import { estimateCost, type SmsProviderId } from './pricing';
import {
  type MessageExample,
  type Template,
  type TemplateHint,
  templateDefinition,
  validateSendValues,
  validateTemplate,
} from './template';
import type { SendValues } from './variables';

// Saved templates and the template preview behind the HTTP API.
//
// A template is stored as validated (the Template of templateDefinition), without the
// signature: messages take the tenant's signature when they are rendered, so a new signature
// applies to every template at once. The review of a save (the example message and the
// hints) is answered to the save and not stored: it depends on the tenant's signature.

export const templateId = z.string().regex(/^tpl_[0-9A-Za-z]{12}$/, 'tpl_ and 12 letters or digits');

/** A template as stored (campaigns table, kind TEMPLATE): read stored items back through this. */
export const savedTemplate = templateDefinition.extend({
  templateId,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type SavedTemplate = z.output<typeof savedTemplate>;

/** What a save answers: the saved template, its example message and the hints. */
export interface ReviewedTemplate extends SavedTemplate {
  readonly example: MessageExample;
  readonly hints: readonly TemplateHint[];
}

export interface TemplateDeps {
  readonly templates: RecordStore<SavedTemplate>;
  /** Previews read saved segments, members and opt-outs. */
  readonly segments: RecordStore<SavedSegment>;
  readonly members: MemberStore;
  readonly optOuts: OptOutStore;
  readonly random: RandomBytes;
  readonly now: () => Date;
}

/** The tenant's signature, or a 400 telling the merchant to set one. */
function signatureOf(tenant: Tenant): string {
  const signature = tenantSignature(tenant);
  if (signature !== undefined) return signature;
  throw new ValidationError(
    [
      {
        path: 'tenant.signature',
        message: `set the SMS signature first (PATCH /tenant with {"signature": "…"}): the tenant name "${tenant.name}" cannot stand in for it (2–20 characters, no brackets)`,
      },
    ],
    'The tenant has no SMS signature.',
  );
}

function review({ tenant, input }: { tenant: Tenant; input: unknown }) {
  return validateTemplate({
    input,
    signature: signatureOf(tenant),
    defaultLocale: tenant.locale,
    tenantBannedWords: tenant.bannedWords,
  });
}

/**
 * Saves a new template: 1. validates it against the tenant's signature, locale and banned
 * words (400 listing every problem); 2. stores the normalized template under a new id;
 * 3. answers it with the example message and the hints.
 */
export async function createTemplate(
  deps: Pick<TemplateDeps, 'templates' | 'random' | 'now'>,
  { tenant, input }: { tenant: Tenant; input: unknown },
): Promise<ReviewedTemplate> {
  const { template, example, hints } = review({ tenant, input });
  const at = deps.now().toISOString();
  const saved: SavedTemplate = {
    ...template,
    templateId: `tpl_${randomBase62({ random: deps.random, length: 12 })}`,
    createdAt: at,
    updatedAt: at,
  };
  await deps.templates.create(tenant.tenantId, saved.templateId, saved);
  return { ...saved, example, hints };
}

export async function getTemplate(
  deps: Pick<TemplateDeps, 'templates'>,
  { tenantId, templateId }: { tenantId: string; templateId: string },
): Promise<SavedTemplate> {
  const template = await deps.templates.get(tenantId, templateId);
  if (!template) throw new NotFoundError(`No template ${templateId}.`);
  return template;
}

/**
 * Replaces a template with a new version, validated as a new one. The write is conditional on
 * the version read (a concurrent change answers 409); with `expectedUpdatedAt` the caller also
 * states which version it edited, so an edit of a stale copy is refused instead of winning.
 */
export async function replaceTemplate(
  deps: Pick<TemplateDeps, 'templates' | 'now'>,
  {
    tenant,
    templateId,
    input,
    expectedUpdatedAt,
  }: { tenant: Tenant; templateId: string; input: unknown; expectedUpdatedAt?: string },
): Promise<ReviewedTemplate> {
  const current = await getTemplate(deps, { tenantId: tenant.tenantId, templateId });
  if (expectedUpdatedAt !== undefined && expectedUpdatedAt !== current.updatedAt) {
    throw new ConflictError(
      `Template ${templateId} was changed at ${current.updatedAt}; read it again and retry.`,
    );
  }
  const { template, example, hints } = review({ tenant, input });
  const saved: SavedTemplate = {
    ...template,
    templateId,
    createdAt: current.createdAt,
    updatedAt: nextVersion({ now: deps.now(), previous: current.updatedAt }),
  };
  await deps.templates.replace(tenant.tenantId, templateId, saved, current.updatedAt);
  return { ...saved, example, hints };
}

export async function deleteTemplate(
  deps: Pick<TemplateDeps, 'templates'>,
  { tenantId, templateId }: { tenantId: string; templateId: string },
): Promise<void> {
  if (!(await deps.templates.delete(tenantId, templateId))) {
    throw new NotFoundError(`No template ${templateId}.`);
  }
}

// --- preview -------------------------------------------------------------------------------

export const templatePreviewLimits = {
  maxMemberIds: 1_000,
  maxSampleSize: 50,
} as const;

/** Whom to preview for: a saved segment, a definition inline, or up to 1,000 members by id. */
export type TemplatePreviewAudience =
  | { readonly segmentId: string }
  | { readonly definition: SegmentDefinition }
  | { readonly memberIds: readonly string[] };

/** One reason members would get no message, and how many. */
export type TemplateSuppression =
  | { readonly reason: SuppressionReason; readonly count: number }
  | SuppressedCount;

export interface TemplateAudiencePreview extends Omit<TemplatePreview, 'suppressed'> {
  readonly templateId: string;
  /**
   * False when the time budget ran out before a segment's every shard was read: the counts,
   * parts and cost are then extrapolated from the shards read (members are spread evenly over
   * shards by a hash of their id). Samples are always real.
   */
  readonly exact: boolean;
  /** For a segment: shards read of all. */
  readonly shardsRead?: number;
  readonly shardCount?: number;
  /** For member ids: those the tenant has no member for (not counted in the audience). */
  readonly notFound?: readonly string[];
  /**
   * Members of the audience who would get no message: first for the audience reasons (opted
   * out, no consent, invalid phone; one each, in that precedence), then for a value the
   * message needs and the member lacks (missing_variable, by variable). `audience` is
   * `rendered` plus `suppressed.total`.
   */
  readonly suppressed: { readonly total: number; readonly byReason: readonly TemplateSuppression[] };
}

/**
 * The preview of a saved template over an audience, as the tenant would send it now:
 * 1. resolves the audience (a segment streamed shard by shard with `resolveAudience`, or the
 *    members by id);
 * 2. suppresses whom the template's category may not reach (opt-out and consent for
 *    marketing; invalid phones always);
 * 3. renders the others with the tenant's signature and the send `values` (by default the
 *    examples the template declares), counting parts with the provider's rule: a template
 *    bound to an approved template of a provider is priced with that provider, any other
 *    with the tenant's, at the tenant's part prices.
 * A segment's shards are read in parallel until `budgetMs` is spent; the rest is
 * extrapolated (`exact: false`).
 */
export async function previewSavedTemplate(
  deps: TemplateDeps,
  {
    tenant,
    templateId,
    audience,
    values,
    sampleSize = 5,
    budgetMs = 10_000,
    parallelism = 8,
  }: {
    tenant: Tenant;
    templateId: string;
    audience: TemplatePreviewAudience;
    values?: unknown;
    sampleSize?: number;
    budgetMs?: number;
    parallelism?: number;
  },
): Promise<TemplateAudiencePreview> {
  const started = deps.now().getTime();
  const tenantId = tenant.tenantId;
  const saved = await getTemplate(deps, { tenantId, templateId });
  const { templateId: _id, createdAt: _created, updatedAt: _updated, ...template } = saved;
  const sendValues = validateSendValues({ template, values: values ?? declaredExamples(template) });
  const provider: SmsProviderId = template.binding?.provider ?? tenant.provider;
  const tally = startPreview({
    compiled: compileTemplate({ template, signature: signatureOf(tenant), timeZone: tenant.timeZone }),
    provider,
    values: sendValues,
    ...(tenant.partPrices ? { priceOverrides: tenant.partPrices } : {}),
    sampleSize: Math.max(0, Math.min(Math.floor(sampleSize), templatePreviewLimits.maxSampleSize)),
  });
  const category: MessageCategory = template.category;
  const suppressed: Record<SuppressionReason, number> = { opted_out: 0, no_consent: 0, invalid_phone: 0 };

  const take = async (members: readonly Member[]): Promise<void> => {
    // An opt-out withdraws from marketing only (see suppressionReason): no lookup otherwise.
    const optedOut = category === 'marketing' ? await optedOutPhones(deps, { tenantId, members }) : noPhones;
    for (const member of members) {
      const reason = suppressionReason({ member, category, optedOut: optedOut.has(member.phone) });
      if (reason === undefined) tally.add(member);
      else suppressed[reason] += 1;
    }
  };

  const summary = { templateId, provider, tenant };
  if ('memberIds' in audience) {
    const ids = [...new Set(audience.memberIds)];
    const found = await deps.members.getMany(tenantId, ids);
    await take(ids.flatMap((id) => found.get(id) ?? []));
    const notFound = ids.filter((id) => !found.has(id));
    return {
      ...tallied({ ...summary, preview: tally.finish(), suppressed, scale: 1 }),
      exact: true,
      notFound,
    };
  }

  const definition =
    'definition' in audience
      ? audience.definition
      : (await getSegment(deps, { tenantId, segmentId: audience.segmentId })).definition;
  const predicate = compileSegment({ definition, now: deps.now(), tenantTimeZone: tenant.timeZone });
  let shardsRead = 0;
  const readShard = async (shard: number): Promise<void> => {
    const pages = resolveAudience({
      store: deps.members,
      tenantId,
      predicate,
      shards: [shard],
      parallelism: 1,
    });
    for await (const { members } of pages) await take(members);
    shardsRead += 1;
  };
  // Whole shards only, so the shards read are a fair sample to extrapolate from.
  await forEachConcurrently(memberShards, parallelism, readShard, {
    until: () => shardsRead > 0 && deps.now().getTime() - started > budgetMs,
  });
  const exact = shardsRead === memberShardCount;
  return {
    ...tallied({ ...summary, preview: tally.finish(), suppressed, scale: memberShardCount / shardsRead }),
    exact,
    shardsRead,
    shardCount: memberShardCount,
  };
}

const noPhones: ReadonlySet<string> = new Set();

async function optedOutPhones(
  deps: Pick<TemplateDeps, 'optOuts'>,
  { tenantId, members }: { tenantId: string; members: readonly Member[] },
): Promise<ReadonlySet<string>> {
  const phones = [...new Set(members.map((member) => member.phone))];
  const hashes = phones.map((phone) => phoneHash({ tenantId, phone }));
  const found = await deps.optOuts.optedOut(tenantId, hashes);
  return new Set(phones.filter((_, i) => found.has(hashes[i] ?? '')));
}

/** The values a preview uses when the caller gives none: the examples the template declares. */
function declaredExamples(template: Template): SendValues {
  return Object.fromEntries(
    template.variables.flatMap((variable) =>
      variable.example === undefined ? [] : [[variable.name, variable.example] as const],
    ),
  );
}

/**
 * The tally with the audience suppressions merged in, every count multiplied by `scale` (1
 * when everything was read). Totals are sums of the scaled parts, so they add up after
 * rounding too: audience = rendered + suppressed, rendered = Σ messages, parts = Σ parts × messages.
 */
function tallied({
  templateId,
  provider,
  tenant,
  preview,
  suppressed,
  scale,
}: {
  templateId: string;
  provider: SmsProviderId;
  tenant: Tenant;
  preview: TemplatePreview;
  suppressed: Record<SuppressionReason, number>;
  scale: number;
}): Omit<TemplateAudiencePreview, 'exact'> {
  const scaled = (count: number): number => Math.round(count * scale);
  const byReason: TemplateSuppression[] = [
    ...suppressionReasons.flatMap((reason) =>
      suppressed[reason] > 0 ? [{ reason, count: scaled(suppressed[reason]) }] : [],
    ),
    ...preview.suppressed.byReason.map((entry) => ({ ...entry, count: scaled(entry.count) })),
  ];
  const partsDistribution = preview.partsDistribution.map(({ parts, messages }) => ({
    parts,
    messages: scaled(messages),
  }));
  const rendered = partsDistribution.reduce((sum, entry) => sum + entry.messages, 0);
  const totalParts = partsDistribution.reduce((sum, entry) => sum + entry.parts * entry.messages, 0);
  const suppressedTotal = byReason.reduce((sum, entry) => sum + entry.count, 0);
  return {
    templateId,
    provider,
    audience: rendered + suppressedTotal,
    rendered,
    suppressed: { total: suppressedTotal, byReason },
    samples: preview.samples,
    partsDistribution,
    totalParts,
    averageParts: rendered === 0 ? 0 : Math.round((totalParts / rendered) * 100) / 100,
    cost: estimateCost(
      tenant.partPrices
        ? { provider, parts: totalParts, overrides: tenant.partPrices }
        : { provider, parts: totalParts },
    ),
  };
}
