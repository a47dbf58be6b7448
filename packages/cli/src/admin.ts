import { runAdmin } from './admin-cli';

// `npm run admin -- …`: see adminUsage in admin-cli.ts.
process.exitCode = await runAdmin(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
