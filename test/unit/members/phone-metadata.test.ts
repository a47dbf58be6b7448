import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { phoneRegions } from '@qunfa/domain';
import type { MetadataJson } from 'libphonenumber-js/core';
import stock from 'libphonenumber-js/mobile/metadata';
import { describe, expect, it } from 'vitest';

// packages/domain/src/members/phone-metadata.json is generated from the `mobile` metadata of
// the installed libphonenumber-js: the calling codes of `phoneRegions` (with every region
// that shares one, so +44 7797 of Jersey still reads), without the formatting rules, which
// parsing and validation never read. This test keeps it in step with the library and the
// list; after an upgrade or a change of `phoneRegions`, regenerate it with
//   UPDATE_PHONE_METADATA=1 npx vitest run --project unit test/unit/members/phone-metadata.test.ts
// and format it (npx biome check --write packages/domain/src/members/phone-metadata.json).

const file = join(import.meta.dirname, '../../../packages/domain/src/members/phone-metadata.json');
/** Position of the formatting rules in a minified numbering plan (libphonenumber-js metadata v4). */
const formats = 4;

function trimmed(metadata: MetadataJson, regions: readonly string[]): unknown {
  const wanted = new Set(regions);
  const callingCodes = Object.entries(metadata.country_calling_codes).filter(([, countries]) =>
    countries.some((country) => wanted.has(country)),
  );
  const countries = Object.fromEntries(
    callingCodes
      .flatMap(([, codes]) => codes)
      .map((country) => {
        const plan = [...(metadata.countries[country] ?? [])];
        plan[formats] = 0;
        return [country, plan];
      }),
  );
  return {
    version: metadata.version,
    country_calling_codes: Object.fromEntries(callingCodes),
    countries,
    nonGeographic: {},
  };
}

describe('phone metadata', () => {
  it('is the mobile metadata of the installed libphonenumber-js for the supported regions', () => {
    const expected = trimmed(stock, phoneRegions);
    if (process.env.UPDATE_PHONE_METADATA) writeFileSync(file, `${JSON.stringify(expected)}\n`);

    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(expected);
  });
});
