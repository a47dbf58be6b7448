// The simulator's rate limit, in message parts per second as providers count it: a token
// bucket that refills continuously and holds at most `burst` parts. A send takes all the
// parts of its messages at once or none (a throttled call sends nothing).

export interface PartsLimiter {
  /** Takes `parts` tokens, or answers how long until there would be enough. */
  take(parts: number): { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };
  /** Applies a new rate and starts again from a full bucket. */
  configure(settings: { partsPerSecond: number | null; burstParts: number | null }): void;
}

export function createPartsLimiter({
  partsPerSecond,
  burstParts,
  now,
}: {
  partsPerSecond: number | null;
  burstParts: number | null;
  /** Milliseconds; the simulator's clock, so a test can stop time. */
  now: () => number;
}): PartsLimiter {
  let rate = partsPerSecond;
  let capacity = burstParts ?? partsPerSecond ?? 0;
  let tokens = capacity;
  let refilledAt = now();

  const refill = (): void => {
    const at = now();
    if (rate !== null) tokens = Math.min(capacity, tokens + ((at - refilledAt) / 1000) * rate);
    refilledAt = at;
  };

  return {
    take(parts) {
      if (rate === null) return { ok: true };
      refill();
      // A call larger than the whole bucket goes when the bucket is full, and leaves a debt
      // that later calls wait out: otherwise it could never pass.
      const needed = Math.min(parts, capacity);
      if (tokens >= needed) {
        tokens -= parts;
        return { ok: true };
      }
      const missing = needed - tokens;
      return { ok: false, retryAfterMs: Math.max(1, Math.ceil((missing / rate) * 1000)) };
    },
    configure(settings) {
      rate = settings.partsPerSecond;
      capacity = settings.burstParts ?? settings.partsPerSecond ?? 0;
      tokens = capacity;
      refilledAt = now();
    },
  };
}
