import * as z from 'zod';
import { phoneHash } from '../members/identity';
import { type Consent, instant } from '../members/member';
import { normalizePhone } from '../members/phone';
import type { OptOut } from '../members/store';
import { type MemberDeps, patchMember } from '../members/use-cases';
import { maskPhone } from '../privacy/mask';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import type { Tenant } from '../tenancy/tenant';

// The opt-out list behind the HTTP API: look up, add, remove (only with recorded consent),
// list and export. An opt-out is keyed by the tenant-scoped phone hash, so it outlives the
// member's erasure; the number in clear is kept only until then, and is shown masked.

export type OptOutDeps = MemberDeps;

/** What a merchant writes when adding an opt-out (`POST /opt-outs`). */
export const optOutFields = z.strictObject({
  /** Any usual form; normalized to E.164 with the tenant's default region. */
  phone: z.string().trim().min(1).max(40),
  reason: z.string().trim().min(1).max(200).exactOptional(),
});
export type OptOutFields = z.infer<typeof optOutFields>;

/** A consent the member gave to be messaged again, recorded on the member with the removal. */
export const resubscribeConsent = z.strictObject({
  at: instant,
  source: z.string().trim().min(1).max(40),
});

/** An opt-out as the API shows it: never the number in clear. */
export interface OptOutView {
  /** `+86*******5678`; null once the member was erased (only the hash is left). */
  readonly maskedPhone: string | null;
  readonly source: string;
  readonly reason?: string;
  readonly at: string;
}

export function optOutView(optOut: OptOut): OptOutView {
  return {
    maskedPhone: optOut.phone === undefined ? null : maskPhone(optOut.phone),
    source: optOut.source,
    ...(optOut.reason === undefined ? {} : { reason: optOut.reason }),
    at: optOut.at,
  };
}

/** The number in E.164 and its hash, or a 400 at `path`. */
function numberOf({ tenant, raw, path }: { tenant: Tenant; raw: string; path: string }): {
  phone: string;
  hash: string;
} {
  const phone = normalizePhone({ raw, defaultRegion: tenant.defaultRegion });
  if (!phone.ok)
    throw new ValidationError([{ path, message: `not a mobile number we can send to: ${phone.reason}` }]);
  return { phone: phone.e164, hash: phoneHash({ tenantId: tenant.tenantId, phone: phone.e164 }) };
}

export interface OptOutLookup {
  readonly maskedPhone: string;
  readonly optedOut: boolean;
  readonly optOut?: OptOutView;
}

/** Whether a number, in any written form, is opted out. */
export async function lookupOptOut(
  deps: Pick<OptOutDeps, 'optOuts'>,
  { tenant, phone, path }: { tenant: Tenant; phone: string; path: string },
): Promise<OptOutLookup> {
  const number = numberOf({ tenant, raw: phone, path });
  const found = await deps.optOuts.get(tenant.tenantId, number.hash);
  return {
    maskedPhone: maskPhone(number.phone),
    optedOut: found !== undefined,
    ...(found ? { optOut: optOutView(found) } : {}),
  };
}

export interface OptOutAddResult {
  readonly kind: 'created' | 'unchanged';
  readonly optOut: OptOutView;
}

/** Adds an opt-out with source `api`; a number opted out already keeps its first time and source. */
export async function addOptOut(
  deps: Pick<OptOutDeps, 'optOuts' | 'now'>,
  { tenant, fields }: { tenant: Tenant; fields: OptOutFields },
): Promise<OptOutAddResult> {
  const number = numberOf({ tenant, raw: fields.phone, path: 'body.phone' });
  const optOut: OptOut = {
    phoneHash: number.hash,
    phone: number.phone,
    source: 'api',
    ...(fields.reason === undefined ? {} : { reason: fields.reason }),
    at: deps.now().toISOString(),
  };
  if (await deps.optOuts.addIfAbsent(tenant.tenantId, optOut))
    return { kind: 'created', optOut: optOutView(optOut) };
  const existing = await deps.optOuts.get(tenant.tenantId, number.hash);
  return { kind: 'unchanged', optOut: optOutView(existing ?? optOut) };
}

const later = (a: string | undefined, than: string): boolean =>
  a !== undefined && Date.parse(a) > Date.parse(than);

/**
 * Re-subscribes a number. Opt-out wins until the person says otherwise, so the opt-out goes
 * only when a member with this number has consent recorded after it: already on the member,
 * or given here (`consent`) and recorded on every member with the number (they share the
 * phone it will reach). Otherwise a 409 that says what is missing.
 */
export async function removeOptOut(
  deps: OptOutDeps,
  { tenant, phone, consent }: { tenant: Tenant; phone: string; consent?: z.infer<typeof resubscribeConsent> },
): Promise<{ consentRecordedOn: string[] }> {
  const tenantId = tenant.tenantId;
  const number = numberOf({ tenant, raw: phone, path: 'path.phone' });
  const masked = maskPhone(number.phone);
  const optOut = await deps.optOuts.get(tenantId, number.hash);
  if (!optOut) throw new NotFoundError(`${masked} is not opted out.`);
  const members = [
    ...(await deps.members.getMany(tenantId, await deps.members.idsByPhone(tenantId, number.phone))).values(),
  ];

  if (consent === undefined) {
    const consented = members.some(
      (member) => member.consent.status === 'granted' && later(member.consent.at, optOut.at),
    );
    if (!consented) {
      throw new ConflictError(
        `${masked} opted out at ${optOut.at}. Re-subscribing needs the member's consent recorded after that: ` +
          'send {"consent": {"at", "source"}} with this request, or record it on the member first.',
      );
    }
    await removeAsRead(deps, { tenantId, hash: number.hash, at: optOut.at, masked });
    return { consentRecordedOn: [] };
  }

  if (!later(consent.at, optOut.at))
    throw new ValidationError([
      { path: 'body.consent.at', message: `must be after the opt-out (${optOut.at})` },
    ]);
  if (Date.parse(consent.at) > deps.now().getTime())
    throw new ValidationError([{ path: 'body.consent.at', message: 'must not be in the future' }]);
  if (members.length === 0) {
    throw new ConflictError(
      `No member has the number ${masked}, so the consent cannot be recorded. ` +
        'Create the member with its consent (PUT /members/{memberId}) first.',
    );
  }
  const granted: Consent = { status: 'granted', at: consent.at, source: consent.source };
  for (const member of members) {
    await patchMember(deps, { tenant, memberId: member.memberId, patch: { consent: granted } });
  }
  await removeAsRead(deps, { tenantId, hash: number.hash, at: optOut.at, masked });
  return { consentRecordedOn: members.map((member) => member.memberId).sort() };
}

/** Removes the opt-out that was read; one recorded since (a reply, say) stays: a 409. */
async function removeAsRead(
  deps: OptOutDeps,
  { tenantId, hash, at, masked }: { tenantId: string; hash: string; at: string; masked: string },
): Promise<void> {
  if (!(await deps.optOuts.remove(tenantId, hash, { ifAt: at }))) {
    throw new ConflictError(`${masked} opted out again while this request ran; the new opt-out stays.`);
  }
}

export interface OptOutListPage {
  readonly items: OptOutView[];
  readonly cursor?: string;
}

export async function listOptOuts(
  deps: Pick<OptOutDeps, 'optOuts'>,
  { tenantId, limit, cursor }: { tenantId: string; limit: number; cursor?: string },
): Promise<OptOutListPage> {
  const page = await deps.optOuts.list(tenantId, { limit, ...(cursor === undefined ? {} : { cursor }) });
  return { items: page.optOuts.map(optOutView), ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/**
 * A Lambda response carries at most 6 MB, counted on its JSON envelope. An export part stops
 * before 5 MB of body (measured as JSON escapes it), leaving room for headers; the rest
 * follows with the cursor it returns.
 */
export const exportPartBytes = 5_000_000;

const csvHeader = 'masked_phone,source,reason,opted_out_at';

/**
 * One CSV field: quoted when it holds a comma, quote or line break, and defused when it
 * starts like a formula (`=`, `+`, `-`, `@`), which Excel would evaluate: `'+86*******5678`.
 */
export function csvField(value: string): string {
  const defused = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(defused) ? `"${defused.replaceAll('"', '""')}"` : defused;
}

const jsonBytes = (text: string): number => Buffer.byteLength(JSON.stringify(text)) - 2;

export interface OptOutExportPart {
  /** UTF-8 CSV with a BOM (so that Excel reads it as UTF-8) and its header row. */
  readonly csv: string;
  readonly rows: number;
  /** Present when the list goes on: ask again with it for the next part. */
  readonly cursor?: string;
}

/** The opt-outs as CSV, read page by page, up to `maxBytes` per part. */
export async function exportOptOuts(
  deps: Pick<OptOutDeps, 'optOuts'>,
  {
    tenantId,
    cursor,
    maxBytes = exportPartBytes,
    pageSize = 1_000,
  }: { tenantId: string; cursor?: string; maxBytes?: number; pageSize?: number },
): Promise<OptOutExportPart> {
  const lines = [`\uFEFF${csvHeader}`];
  let bytes = jsonBytes(lines[0] ?? '') + 4; // its escaped CRLF
  let next = cursor;
  do {
    const page = await deps.optOuts.list(tenantId, {
      limit: pageSize,
      ...(next === undefined ? {} : { cursor: next }),
    });
    for (const optOut of page.optOuts) {
      const view = optOutView(optOut);
      const line = [view.maskedPhone ?? '', view.source, view.reason ?? '', view.at].map(csvField).join(',');
      const size = jsonBytes(line) + 4; // the escaped CRLF
      // Stop before the row that would not fit; it starts the next part.
      if (bytes + size > maxBytes && lines.length > 1)
        return {
          csv: `${lines.join('\r\n')}\r\n`,
          rows: lines.length - 1,
          ...(next === undefined ? {} : { cursor: next }),
        };
      lines.push(line);
      bytes += size;
      next = optOut.phoneHash;
    }
    next = page.cursor;
  } while (next !== undefined);
  return { csv: `${lines.join('\r\n')}\r\n`, rows: lines.length - 1 };
}
