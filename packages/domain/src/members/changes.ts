import { type Consent, type Member, type MemberFields, profileFields } from './member';

// What writing a member's fields does to the stored member: created, updated or unchanged.
// Writing the same fields twice is `unchanged` and leaves `updatedAt` alone, which is what
// makes PUT and a re-run import idempotent (and what lets callers skip the write).

/**
 * How the incoming fields meet the stored ones:
 * - `replace` (PUT, PATCH after merging): the member becomes exactly the incoming fields; a
 *   field left out is removed and the tags are the incoming set.
 * - `merge` (import): a field left out keeps its stored value (an empty cell erases
 *   nothing), tags are added to the stored ones (an import never removes a tag that a bulk
 *   tag operation added), attributes are merged name by name.
 */
export type MemberWriteMode = 'replace' | 'merge';

/** `previous` is the member as it was read: a writer conditions on its `updatedAt`. */
export type MemberChange =
  | { readonly kind: 'created'; readonly next: Member; readonly previous: undefined }
  | { readonly kind: 'updated'; readonly next: Member; readonly previous: Member }
  | { readonly kind: 'unchanged'; readonly next: Member; readonly previous: Member };

/** A change that has to be written. */
export type MemberWrite = Exclude<MemberChange, { kind: 'unchanged' }>;

type Profile = Omit<MemberFields, 'phone' | 'tags' | 'consent'>;

const instantKeys: ReadonlySet<string> = new Set(['firstPurchaseAt', 'lastPurchaseAt', 'joinedAt']);

/**
 * The member after `incoming` (phone already in E.164) is written over `existing`.
 *
 * Rules that keep a re-write a no-op:
 * - tags are a set, stored sorted; instants compare as instants (`…+08:00` equals `…Z`);
 * - consent with the status already stored keeps the stored time and source (a file that
 *   says "yes" again does not move the date consent was given); a new status is recorded
 *   with its `at`, or `now`;
 * - the phone status (`invalid` after a failed delivery) stays while the number stays; a new
 *   number starts `valid`.
 */
export function memberChange({
  memberId,
  existing,
  incoming,
  now,
  mode = 'replace',
}: {
  memberId: string;
  existing: Member | undefined;
  incoming: MemberFields;
  now: Date;
  mode?: MemberWriteMode;
}): MemberChange {
  const at = now.toISOString();
  const { phone, tags: incomingTags, consent: incomingConsent, ...incomingProfile } = incoming;
  if (existing === undefined) {
    const next: Member = {
      ...incomingProfile,
      memberId,
      phone,
      phoneStatus: 'valid',
      tags: sortedTags(incomingTags ?? []),
      consent: consentAfter({ stored: undefined, incoming: incomingConsent, at }),
      createdAt: at,
      updatedAt: at,
    };
    return { kind: 'created', next, previous: undefined };
  }

  const {
    memberId: _id,
    phone: storedPhone,
    phoneStatus,
    tags: storedTags,
    consent: storedConsent,
    createdAt,
    updatedAt: _updatedAt,
    ...storedProfile
  } = existing;
  const profile: Profile =
    mode === 'replace'
      ? incomingProfile
      : {
          ...storedProfile,
          ...incomingProfile,
          ...(storedProfile.attributes &&
            incomingProfile.attributes && {
              attributes: { ...storedProfile.attributes, ...incomingProfile.attributes },
            }),
        };
  const tags =
    mode === 'replace'
      ? sortedTags(incomingTags ?? [])
      : sortedTags([...storedTags, ...(incomingTags ?? [])]);
  const consent =
    mode === 'merge' && incomingConsent === undefined
      ? storedConsent
      : consentAfter({ stored: storedConsent, incoming: incomingConsent, at });

  const same =
    phone === storedPhone &&
    sameTags(tags, storedTags) &&
    sameConsent(consent, storedConsent) &&
    sameProfile(profile, storedProfile);
  if (same) return { kind: 'unchanged', next: existing, previous: existing };
  const next: Member = {
    ...profile,
    memberId,
    phone,
    phoneStatus: phone === storedPhone ? phoneStatus : 'valid',
    tags,
    consent,
    createdAt,
    updatedAt: at,
  };
  return { kind: 'updated', next, previous: existing };
}

function sortedTags(tags: readonly string[]): string[] {
  return [...new Set(tags)].sort();
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((tag) => set.has(tag));
}

function consentAfter({
  stored,
  incoming,
  at,
}: {
  stored: Consent | undefined;
  incoming: Consent | undefined;
  at: string;
}): Consent {
  if (incoming === undefined) return { status: 'unknown' };
  const restated =
    stored !== undefined &&
    stored.status === incoming.status &&
    (incoming.at === undefined || sameInstant(incoming.at, stored.at)) &&
    (incoming.source === undefined || incoming.source === stored.source);
  if (restated) return stored;
  // `unknown` is the absence of a decision: it has no time.
  if (incoming.status === 'unknown') return incoming;
  return { ...incoming, at: incoming.at ?? at };
}

function sameConsent(a: Consent, b: Consent): boolean {
  return a.status === b.status && a.source === b.source && sameInstant(a.at, b.at);
}

function sameInstant(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a === b || Date.parse(a) === Date.parse(b);
}

// The fields compared: a store may hand back members with keys of its own (partition keys,
// versions), which must not make every re-write look like a change.
const comparedKeys: readonly string[] = profileFields.filter((key) => key !== 'tags' && key !== 'consent');

/** Flat values compare by value; birthdays and attributes are flat objects of primitives. */
function sameProfile(a: Profile, b: Profile): boolean {
  const left = new Map<string, unknown>(Object.entries(a));
  const right = new Map<string, unknown>(Object.entries(b));
  return comparedKeys.every((key) => sameValue(key, left.get(key), right.get(key)));
}

function sameValue(key: string, a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return instantKeys.has(key) && sameInstant(a, b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const left = Object.entries(a);
  const right = new Map<string, unknown>(Object.entries(b));
  return left.length === right.size && left.every(([name, value]) => right.get(name) === value);
}
