import type { RecordStore } from '../shared/records';
import { nextVersion } from '../shared/records';
import type { ReplyRules } from './keywords';

// A tenant's reply settings (GET/PUT /reply-rules): its keyword rules with their auto-replies
// and its own texts for HELP and the opt-out and opt-in confirmations. One document per
// tenant, replaced whole; the receipt processor reads it for every reply it applies.

export type SavedReplyRules = ReplyRules & { readonly createdAt: string; readonly updatedAt: string };

/** The id of the one document of a tenant in its record store. */
export const replyRulesId = 'rules';

export interface ReplyRuleDeps {
  readonly replyRules: RecordStore<SavedReplyRules>;
  readonly now: () => Date;
}

/** The tenant's reply rules; none configured yet reads as no rules and the default texts. */
export async function getReplyRules(
  deps: Pick<ReplyRuleDeps, 'replyRules'>,
  { tenantId }: { tenantId: string },
): Promise<ReplyRules & { updatedAt?: string }> {
  const saved = await deps.replyRules.get(tenantId, replyRulesId);
  if (!saved) return { rules: [] };
  const { createdAt: _created, ...rules } = saved;
  return rules;
}

/** Replaces the tenant's reply rules (validated by replyRulesFields at the boundary). */
export async function putReplyRules(
  deps: ReplyRuleDeps,
  { tenantId, fields }: { tenantId: string; fields: ReplyRules },
): Promise<ReplyRules & { updatedAt: string }> {
  const now = deps.now();
  const existing = await deps.replyRules.get(tenantId, replyRulesId);
  if (!existing) {
    const at = now.toISOString();
    await deps.replyRules.create(tenantId, replyRulesId, { ...fields, createdAt: at, updatedAt: at });
    return { ...fields, updatedAt: at };
  }
  const updatedAt = nextVersion({ now, previous: existing.updatedAt });
  // A concurrent PUT that replaced it since it was read makes this one a 409 (ConflictError).
  await deps.replyRules.replace(
    tenantId,
    replyRulesId,
    { ...fields, createdAt: existing.createdAt, updatedAt },
    existing.updatedAt,
  );
  return { ...fields, updatedAt };
}
