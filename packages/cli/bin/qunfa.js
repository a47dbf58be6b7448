#!/usr/bin/env node
// The `qunfa` CLI runs from its TypeScript source through tsx (as `npm start` does).
import { register } from 'tsx/esm/api';

register();
await import('../src/qunfa.ts');
