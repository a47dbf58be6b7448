import type { Member, MemberImportPort, MemberWrite } from '@qunfa/domain';

// Helpers for the member import tests: byte streams and an in-memory port.

/** `bytes` as a stream of chunks of `size` bytes, as a socket or S3 would deliver them. */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) {
    yield bytes.subarray(offset, offset + size);
  }
}

/** An in-memory member store behind the import port, recording every batch it is asked for. */
export class MemoryImportPort implements MemberImportPort {
  readonly members = new Map<string, Member>();
  readonly loads: string[][] = [];
  readonly saves: MemberWrite[][] = [];

  async load(memberIds: readonly string[]): Promise<Map<string, Member>> {
    this.loads.push([...memberIds]);
    const found = new Map<string, Member>();
    for (const id of memberIds) {
      const member = this.members.get(id);
      if (member) found.set(id, member);
    }
    return found;
  }

  async save(changes: readonly MemberWrite[]): Promise<void> {
    this.saves.push([...changes]);
    for (const change of changes) {
      // The condition a DynamoDB adapter would put on the write.
      const current = this.members.get(change.next.memberId);
      if (current?.updatedAt !== change.previous?.updatedAt) throw new Error('conflict');
      this.members.set(change.next.memberId, change.next);
    }
  }

  get writes(): number {
    return this.saves.reduce((sum, batch) => sum + batch.length, 0);
  }
}
