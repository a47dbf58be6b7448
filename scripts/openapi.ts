import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiText } from '../packages/api/src/openapi';

// Writes docs/openapi.json from the routes' zod schemas (`npm run openapi`); `--check` only
// says whether the committed document is current (exit 1 when it drifted).

const file = join(import.meta.dirname, '..', 'docs', 'openapi.json');
const text = openApiText();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current !== text) {
    console.error('docs/openapi.json is out of date: run `npm run openapi`.');
    process.exit(1);
  }
  console.log('docs/openapi.json is current.');
} else {
  writeFileSync(file, text);
  console.log(`Wrote docs/openapi.json (${Buffer.byteLength(text)} bytes).`);
}
