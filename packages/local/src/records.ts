// Records keyed by the closed id lists of the resource model (internal helpers).

/** A record with one entry per id of a closed list (the ids come from the resource model). */
export function recordOf<K extends string, V>(ids: readonly K[], value: (id: K) => V): Record<K, V> {
  // Object.fromEntries widens keys to string; every key of K is present by construction.
  return Object.fromEntries(ids.map((id) => [id, value(id)])) as Record<K, V>;
}

/** {@link recordOf} for values that take a promise each; they are awaited together. */
export async function recordOfAsync<K extends string, V>(
  ids: readonly K[],
  value: (id: K) => Promise<V>,
): Promise<Record<K, V>> {
  const entries = await Promise.all(ids.map(async (id) => [id, await value(id)] as const));
  return Object.fromEntries(entries) as Record<K, V>;
}
