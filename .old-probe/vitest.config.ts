import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  resolve: {
    alias: [
      { find: /^\.\/privacy\/mask$/, replacement: fileURLToPath(new URL('./mask.ts', import.meta.url)) },
      { find: /^\.\/shared\/problems$/, replacement: fileURLToPath(new URL('./problems.ts', import.meta.url)) },
    ],
  },
  test: { include: ['test/unit/**/*.test.ts'] },
});
