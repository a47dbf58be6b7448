import { forEachConcurrently } from '../shared/concurrency';
import { NotFoundError, ValidationError } from '../shared/errors';
import { problemsOf } from '../shared/problems';
import type { Tenant } from '../tenancy/tenant';
import { memberChange } from './changes';
import { phoneHash } from './identity';
import { type Member, type MemberFields, type MemberPatch, memberFields } from './member';
import { normalizePhone } from './phone';
import type { MemberStore, OptOutStore } from './store';

// The member use cases behind the HTTP API. Each takes its stores and clock as `deps`.

export interface MemberDeps {
  readonly members: MemberStore;
  readonly optOuts: OptOutStore;
  readonly now: () => Date;
}

/** A member as the API shows it: what is stored, and whether the number is opted out. */
export interface MemberView extends Member {
  readonly optedOut: boolean;
}

export type MemberWriteResult = {
  readonly kind: 'created' | 'updated' | 'unchanged';
  readonly member: Member;
};

function normalized(fields: MemberFields, tenant: Tenant, path: string): MemberFields {
  const phone = normalizePhone({ raw: fields.phone, defaultRegion: tenant.defaultRegion });
  if (!phone.ok)
    throw new ValidationError([{ path, message: `not a mobile number we can send to: ${phone.reason}` }]);
  return { ...fields, phone: phone.e164 };
}

async function write(
  deps: MemberDeps,
  {
    tenant,
    memberId,
    fields,
    existing,
  }: { tenant: Tenant; memberId: string; fields: MemberFields; existing: Member | undefined },
): Promise<MemberWriteResult> {
  const change = memberChange({ memberId, existing, incoming: fields, now: deps.now() });
  if (change.kind !== 'unchanged') {
    // Optimistic concurrency: a concurrent writer makes this a 409, never a lost update.
    await deps.members.put(tenant.tenantId, [
      { member: change.next, expectedUpdatedAt: existing?.updatedAt ?? null },
    ]);
  }
  return { kind: change.kind, member: change.next };
}

/** PUT: creates the member or replaces what the body names; the same body twice changes nothing. */
export async function putMember(
  deps: MemberDeps,
  { tenant, memberId, fields }: { tenant: Tenant; memberId: string; fields: MemberFields },
): Promise<MemberWriteResult> {
  const existing = await deps.members.get(tenant.tenantId, memberId);
  return write(deps, { tenant, memberId, fields: normalized(fields, tenant, 'body.phone'), existing });
}

/** The fields a stored member was written with, for merging a patch into. */
export function fieldsOf(member: Member): MemberFields {
  const {
    memberId: _id,
    phoneStatus: _status,
    createdAt: _created,
    updatedAt: _updated,
    tags,
    ...fields
  } = member;
  return { ...fields, tags: [...tags] };
}

/** PATCH: changes only the fields given; `null` removes an optional field. */
export async function patchMember(
  deps: MemberDeps,
  { tenant, memberId, patch }: { tenant: Tenant; memberId: string; patch: MemberPatch },
): Promise<MemberWriteResult> {
  const existing = await deps.members.get(tenant.tenantId, memberId);
  if (!existing) throw new NotFoundError(`No member ${memberId}.`);
  const merged: Record<string, unknown> = { ...fieldsOf(existing) };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete merged[field];
    else if (value !== undefined) merged[field] = value;
  }
  const parsed = memberFields.safeParse(merged);
  if (!parsed.success) throw new ValidationError(problemsOf(parsed.error, 'body'));
  return write(deps, { tenant, memberId, fields: normalized(parsed.data, tenant, 'body.phone'), existing });
}

export async function getMember(
  deps: MemberDeps,
  { tenantId, memberId }: { tenantId: string; memberId: string },
): Promise<MemberView> {
  const member = await deps.members.get(tenantId, memberId);
  if (!member) throw new NotFoundError(`No member ${memberId}.`);
  const [view] = await withOptOuts(deps, { tenantId, members: [member] });
  if (!view) throw new NotFoundError(`No member ${memberId}.`);
  return view;
}

export async function withOptOuts(
  deps: MemberDeps,
  { tenantId, members }: { tenantId: string; members: readonly Member[] },
): Promise<MemberView[]> {
  const hashes = members.map((member) => phoneHash({ tenantId, phone: member.phone }));
  const optedOut = await deps.optOuts.optedOut(tenantId, hashes);
  return members.map((member, i) => ({ ...member, optedOut: optedOut.has(hashes[i] ?? '') }));
}

/**
 * Erasure: the member and their personal data go. If their number is opted out, the opt-out
 * stays, keyed by the phone hash only, so the number is never messaged again even if it is
 * imported anew.
 */
export async function eraseMember(
  deps: MemberDeps,
  { tenantId, memberId }: { tenantId: string; memberId: string },
): Promise<void> {
  const removed = await deps.members.delete(tenantId, memberId);
  if (!removed) throw new NotFoundError(`No member ${memberId}.`);
  await deps.optOuts.forgetPhone(tenantId, phoneHash({ tenantId, phone: removed.phone }));
}

/** Adds and removes tags on many members; returns how many existed and were changed. */
export async function tagMembers(
  deps: Pick<MemberDeps, 'members' | 'now'>,
  {
    tenantId,
    memberIds,
    add,
    remove,
  }: { tenantId: string; memberIds: readonly string[]; add: readonly string[]; remove: readonly string[] },
): Promise<{ updated: number; notFound: string[] }> {
  const at = deps.now().toISOString();
  const notFound: string[] = [];
  let updated = 0;
  await forEachConcurrently(new Set(memberIds), 16, async (memberId) => {
    if (await deps.members.updateTags(tenantId, memberId, { add, remove, at })) updated++;
    else notFound.push(memberId);
  });
  return { updated, notFound: notFound.sort() };
}
