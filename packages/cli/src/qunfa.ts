import { homedir } from 'node:os';
import { main } from './qunfa/main';

// The `qunfa` bin: see `usage` in qunfa/main.ts, or run `qunfa --help`.
process.exitCode = await main(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  home: homedir(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  terminal: process.stderr.isTTY
    ? { columns: process.stderr.columns || 80, write: (text) => process.stderr.write(text) }
    : undefined,
});
