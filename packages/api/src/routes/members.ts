import {
  consentStatuses,
  createTagJob,
  eraseMember,
  getMember,
  getSegment,
  getTagJob,
  type Member,
  type MemberDeps,
  memberFields,
  memberId,
  memberPatch,
  normalizePhone,
  patchMember,
  putMember,
  type SegmentDeps,
  segmentDefinition,
  segmentId,
  type TagJobDeps,
  type TenantStore,
  tag,
  tagChange,
  tagMembers,
  ValidationError,
  withOptOuts,
} from '@qunfa/domain';
import { defineRoute, type Route } from '@qunfa/http';
import * as z from 'zod';
import { pageOptions, pageQuery } from './paging';
import { requireTenant } from './tenant';

const memberParams = z.object({ memberId });

const listQuery = z.strictObject({
  ...pageQuery({ max: 500, fallback: 50 }),
  /** Any usual form of the number; matched after normalization. */
  phone: z.string().min(1).exactOptional(),
  tag: tag.exactOptional(),
  tier: z.string().min(1).exactOptional(),
  store: z.string().min(1).exactOptional(),
  consent: z.enum(consentStatuses).exactOptional(),
});

function listFilter(query: z.infer<typeof listQuery>): ((member: Member) => boolean) | undefined {
  const checks: ((member: Member) => boolean)[] = [];
  if (query.tag !== undefined) checks.push((m) => m.tags.includes(query.tag ?? ''));
  if (query.tier !== undefined) checks.push((m) => m.tier === query.tier);
  if (query.store !== undefined) checks.push((m) => m.store === query.store);
  if (query.consent !== undefined) checks.push((m) => m.consent.status === query.consent);
  return checks.length === 0 ? undefined : (member) => checks.every((check) => check(member));
}

/** Tags for up to 1,000 listed members (done at once), or for a segment's members (a job). */
export const bulkTagBody = z
  .strictObject({
    ...tagChange,
    memberIds: z.array(memberId).min(1).max(1_000).exactOptional(),
    segmentId: segmentId.exactOptional(),
    definition: segmentDefinition.exactOptional(),
  })
  .refine((body) => body.add.length + body.remove.length > 0, {
    message: 'name at least one tag to add or remove',
    path: ['add'],
  })
  .refine(
    (body) =>
      [body.memberIds, body.segmentId, body.definition].filter((choice) => choice !== undefined).length === 1,
    { message: 'give exactly one of memberIds, segmentId or definition', path: ['memberIds'] },
  );

const jobParams = z.object({ jobId: z.string().regex(/^tag_[0-9A-Za-z]{12}$/, 'a tag job id') });

/** Members: upsert, read, change, erase, list and tag. */
export function memberRoutes({
  members,
  segments,
  tagJobs,
  tenants,
}: {
  members: MemberDeps;
  segments: Pick<SegmentDeps, 'segments'>;
  tagJobs: TagJobDeps;
  tenants: TenantStore;
}): Route[] {
  const tenantOf = (tenantId: string) => requireTenant(tenants, tenantId);
  return [
    defineRoute({
      method: 'PUT',
      path: '/members/{memberId}',
      summary:
        "Creates or replaces a member under the merchant's own id; the same body twice changes nothing.",
      role: 'marketer',
      params: memberParams,
      body: memberFields,
      handle: async ({ principal, params, body }) => {
        const tenant = await tenantOf(principal.tenantId);
        const result = await putMember(members, { tenant, memberId: params.memberId, fields: body });
        return {
          status: result.kind === 'created' ? 201 : 200,
          body: { result: result.kind, member: result.member },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/members/{memberId}',
      summary: 'One member, with whether their number is opted out.',
      role: 'viewer',
      params: memberParams,
      handle: async ({ principal, params }) => ({
        status: 200,
        body: await getMember(members, { tenantId: principal.tenantId, memberId: params.memberId }),
      }),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/members/{memberId}',
      summary: 'Changes the fields given; null removes an optional field.',
      role: 'marketer',
      params: memberParams,
      body: memberPatch,
      handle: async ({ principal, params, body }) => {
        const tenant = await tenantOf(principal.tenantId);
        const result = await patchMember(members, { tenant, memberId: params.memberId, patch: body });
        return { status: 200, body: { result: result.kind, member: result.member } };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/members/{memberId}',
      summary: 'Erases the member and their personal data; an opt-out of their number stays (as a hash).',
      role: 'marketer',
      params: memberParams,
      handle: async ({ principal, params }) => {
        await eraseMember(members, { tenantId: principal.tenantId, memberId: params.memberId });
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/members',
      summary: 'Members, a page at a time (`cursor` from the previous page).',
      role: 'viewer',
      query: listQuery,
      handle: async ({ principal, query }) => {
        const filter = listFilter(query);
        if (query.phone !== undefined) {
          const tenant = await tenantOf(principal.tenantId);
          const phone = normalizePhone({ raw: query.phone, defaultRegion: tenant.defaultRegion });
          if (!phone.ok) throw new ValidationError([{ path: 'query.phone', message: phone.reason }]);
          const ids = await members.members.idsByPhone(principal.tenantId, phone.e164);
          const found = [...(await members.members.getMany(principal.tenantId, ids)).values()];
          const items = await withOptOuts(members, {
            tenantId: principal.tenantId,
            members: filter ? found.filter(filter) : found,
          });
          return { status: 200, body: { items } };
        }
        const page = await members.members.list(principal.tenantId, {
          ...pageOptions(query),
          ...(filter ? { filter } : {}),
        });
        const items = await withOptOuts(members, { tenantId: principal.tenantId, members: page.members });
        return { status: 200, body: { items, ...(page.cursor ? { cursor: page.cursor } : {}) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/members/tags',
      summary:
        'Adds and removes tags: on up to 1,000 listed members at once (200), or on every member of a segment as a job (202).',
      role: 'marketer',
      body: bulkTagBody,
      handle: async ({ principal, body }) => {
        const tenantId = principal.tenantId;
        if (body.memberIds !== undefined) {
          return {
            status: 200,
            body: await tagMembers(members, {
              tenantId,
              memberIds: body.memberIds,
              add: body.add,
              remove: body.remove,
            }),
          };
        }
        const definition =
          body.definition ??
          (await getSegment(segments, { tenantId, segmentId: body.segmentId ?? '' })).definition;
        const job = await createTagJob(tagJobs, {
          tenantId,
          add: body.add,
          remove: body.remove,
          definition,
          ...(body.segmentId === undefined ? {} : { segmentId: body.segmentId }),
        });
        return { status: 202, body: job };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/members/tags/{jobId}',
      summary: 'A segment tagging job: its state, members matched and updated.',
      role: 'viewer',
      params: jobParams,
      handle: async ({ principal, params }) => ({
        status: 200,
        body: await getTagJob(tagJobs, { tenantId: principal.tenantId, jobId: params.jobId }),
      }),
    }),
  ];
}
