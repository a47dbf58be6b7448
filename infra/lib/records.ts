/** A record with one entry per id of a closed list (the ids come from the resource model). */
export function recordOf<K extends string, V>(ids: readonly K[], value: (id: K) => V): Record<K, V> {
  // Object.fromEntries widens keys to string; every key of K is present by construction.
  return Object.fromEntries(ids.map((id) => [id, value(id)])) as Record<K, V>;
}

/** `send-queue` → `SendQueue`: model ids inside CloudFormation logical ids and output keys. */
export function pascalCase(id: string): string {
  return id
    .split(/[^a-zA-Z0-9]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
