import * as z from 'zod';

/** `?limit=&cursor=` of every list route: the cursor is the one the previous page returned. */
export function pageQuery({ max, fallback }: { max: number; fallback: number }) {
  return {
    limit: z.coerce.number().int().min(1).max(max).default(fallback),
    cursor: z.string().min(1).exactOptional(),
  };
}

/** The store's paging options from a parsed page query (no `cursor` key when there is none). */
export function pageOptions(query: { limit: number; cursor?: string }): { limit: number; cursor?: string } {
  return { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) };
}
