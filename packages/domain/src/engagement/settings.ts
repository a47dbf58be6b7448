import * as z from 'zod';

// The engagement settings a tenant and a campaign are validated with, apart from the use
// cases so that the tenant schema (read by everything) imports nothing else of them.

/**
 * Where a short link sends: an absolute http(s) URL, never `javascript:`, `data:` or another
 * scheme, and never with credentials (`https://user:pass@…`, a phishing favourite).
 */
export const destinationUrl = z
  .string()
  .trim()
  .max(2_000)
  .pipe(z.url({ protocol: /^https?$/, hostname: z.regexes.domain, error: 'an absolute http(s) URL' }))
  // Only on a URL (a refinement runs after a failed format too); its own message otherwise.
  .refine((url) => {
    const parsed = URL.parse(url);
    return parsed === null || (parsed.username === '' && parsed.password === '');
  }, 'a URL without a user name or password');

/**
 * A tenant's short-link domain: an http(s) origin with an optional path prefix, no query,
 * fragment or credentials (`https://s.example.com`).
 */
export const linkDomain = destinationUrl.refine((url) => {
  const parsed = URL.parse(url);
  return parsed === null || (parsed.search === '' && parsed.hash === '');
}, 'an origin such as https://s.example.com, without query or fragment');

/** How long a short link answers, by default. */
export const defaultLinkExpiryDays = 90;

export const attributionDefaults = { clickWindowHours: 5 * 24, deliveryWindowHours: 24 } as const;
/** Windows are at most 30 days; activity is kept a day longer (TTL). */
export const maxAttributionWindowHours = 30 * 24;
