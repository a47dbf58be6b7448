import * as z from 'zod';

/** What a key may do: viewers read, marketers run campaigns, admins also manage keys and settings. */
export const role = z.enum(['viewer', 'marketer', 'admin']);
export type Role = z.infer<typeof role>;

const rank: Record<Role, number> = { viewer: 0, marketer: 1, admin: 2 };

export function roleAllows({ held, required }: { held: Role; required: Role }): boolean {
  return rank[held] >= rank[required];
}
