import type { MemberFields } from '../member';
import type { CleanRow } from './clean';
import type { ImportDuplicate } from './report';

// Duplicates within one file, decided in one streaming pass with compact state: for each
// member id the row it first appeared on and which fields it has been given so far, and for
// each phone the member id that first had it. Nothing else of a row is kept once its batch
// is written: about 250 bytes of heap per member (25 MB for 100,000 rows, measured). Numbers
// shared with members already stored (and not in the file) are the store's concern, not this.
//
// The rule (first row wins, field by field):
// 1. A later row with the same member id is merged into the member: the fields that earlier
//    rows of the file left empty are filled from it, tags are united, and every other field
//    keeps the value of the first row that gave one. The row is reported as a duplicate
//    (`by: 'memberId'`, or `by: 'phone'` when the member id is the phone because the file
//    has none).
// 2. A later row with another member id but a phone an earlier row already gave is skipped
//    and reported (`by: 'phone'`): two members of one file with one number are most often
//    one person registered twice, and sending them every campaign twice is the harm to avoid.
//
// Why the first row and not the last: in a single pass the first occurrence is written
// before a later one is seen. If the later row won, the second import of the same file
// would write the first row's older values over the merged member and then the later
// values again, reporting both as updates; with the first row winning, every row of a
// re-import finds its values already stored and the run reports them unchanged.

export type DuplicateVerdict =
  | { readonly kind: 'first' }
  | {
      readonly kind: 'merge';
      readonly duplicate: ImportDuplicate;
      /** The fields to write: those that no earlier row of this member gave, plus the tags. */
      readonly fill: Omit<MemberFields, 'phone'>;
    }
  | { readonly kind: 'skip'; readonly duplicate: ImportDuplicate };

export interface DuplicateTracker {
  admit(row: Extract<CleanRow, { ok: true }>): DuplicateVerdict;
}

interface Seen {
  readonly row: number;
  /** One bit per field key (see `bitOf`) that an earlier row of this member gave. */
  given: bigint;
}

export function duplicateTracker(): DuplicateTracker {
  const byMemberId = new Map<string, Seen>();
  const memberIdByPhone = new Map<string, string>();
  const bits = new Map<string, bigint>();
  const bitOf = (key: string): bigint => {
    let bit = bits.get(key);
    if (bit === undefined) {
      bit = 1n << BigInt(bits.size);
      bits.set(key, bit);
    }
    return bit;
  };
  // Tags are united, never "given", so they have no bit.
  const keysOf = (fields: MemberFields): string[] => {
    const keys = Object.keys(fields).filter((key) => key !== 'tags' && key !== 'attributes');
    for (const name of Object.keys(fields.attributes ?? {})) keys.push(`attributes.${name}`);
    return keys;
  };
  const maskOf = (keys: readonly string[]): bigint => keys.reduce((mask, key) => mask | bitOf(key), 0n);

  return {
    admit({ row, memberId, memberIdFrom, fields }) {
      const seen = byMemberId.get(memberId);
      if (seen === undefined) {
        const owner = memberIdByPhone.get(fields.phone);
        if (owner !== undefined) {
          const duplicateOf = byMemberId.get(owner)?.row ?? row;
          return { kind: 'skip', duplicate: { row, duplicateOf, by: 'phone' } };
        }
        byMemberId.set(memberId, { row, given: maskOf(keysOf(fields)) });
        memberIdByPhone.set(fields.phone, memberId);
        return { kind: 'first' };
      }
      // Every field but the phone is optional, so removing the given ones leaves valid fields.
      const { phone: _phone, ...fill } = fields;
      const given = (key: string): boolean => (seen.given & bitOf(key)) !== 0n;
      for (const key of Object.keys(fill)) {
        if (key !== 'tags' && key !== 'attributes' && given(key)) Reflect.deleteProperty(fill, key);
      }
      if (fill.attributes) {
        const attributes = { ...fill.attributes };
        for (const name of Object.keys(attributes)) {
          if (given(`attributes.${name}`)) Reflect.deleteProperty(attributes, name);
        }
        if (Object.keys(attributes).length > 0) fill.attributes = attributes;
        else delete fill.attributes;
      }
      seen.given |= maskOf(keysOf(fields));
      const by = memberIdFrom === 'phone' ? 'phone' : 'memberId';
      return { kind: 'merge', duplicate: { row, duplicateOf: seen.row, by }, fill };
    },
  };
}
