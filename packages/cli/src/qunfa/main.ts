import { parseArgs } from 'node:util';
import { Api } from './client';
import { campaignsCommand } from './commands/campaigns';
import { membersCommand } from './commands/members';
import { optOutsCommand } from './commands/opt-outs';
import { segmentsCommand, templatesCommand } from './commands/previews';
import { resolveConfig } from './config';
import type { Context } from './context';
import { CliError, type CliIo, type ExitCode, exitCodes, UsageError } from './io';

// `qunfa`: the merchant's command line over the HTTP API. `main` runs one command and returns
// its exit code; it never throws and never exits the process, so tests run it in-process.

const connection = `Connection (first found wins)
  --endpoint URL          the API (QUNFA_ENDPOINT; default http://localhost:3000, \`npm start\`)
  --api-key KEY           the API key (QUNFA_API_KEY; \`npm start\` prints an admin key)
  --profile NAME          a profile of the config file (QUNFA_PROFILE)
  --config FILE           the config file (QUNFA_CONFIG; default ~/.qunfa/config.json):
                          {"endpoint": "…", "apiKey": "…", "profiles": {"NAME": {…}}}
  --json                  print the API's JSON instead of text`;

const exitText = `Exit codes: 0 done, 1 the API or the run failed, 2 the command line is wrong,
3 no key or the key was refused (401/403), 4 not found.`;

export const usage = `Usage: qunfa <command> [options]

Commands
  members import FILE                      import members from a CSV or JSON-lines file
  segments preview                         who a segment reaches and who is suppressed
  templates preview TEMPLATE_ID            a template rendered for an audience, with its cost
  campaigns list | create FILE             campaigns, and a new draft from a JSON file
  campaigns schedule|pause|resume|cancel ID
  campaigns watch ID                       live progress of a run until it ends
  campaigns report ID                      a run's report with a funnel chart
  opt-outs list | add PHONE | remove PHONE | export

Run \`qunfa <command> --help\` for its options.

${connection}

${exitText}`;

const help: Record<string, string> = {
  members: `Usage: qunfa members import FILE [options]

Uploads FILE (CSV or JSON lines, any size) to the import API with a progress bar, follows the
import, and prints its report: rows read, created, updated, unchanged, invalid, duplicate.
Invalid rows are written to FILE.invalid.csv as they were, with their row number and what is
wrong: fix them there and import that file again.

Options
  --format csv|jsonl        default: from the file name (.jsonl, .ndjson), else csv
  --encoding auto|utf-8|gb18030   default auto (UTF-8, else GB18030 as Excel saves it)
  --mapping FILE            a JSON object: file column → field (default: recognized headers)
  --name NAME               the import's name (default: the file name)
  --interval SECONDS        how often to ask for progress (default 1)`,
  segments: `Usage: qunfa segments preview (--file FILE | --definition JSON | --segment ID) [options]

How many members a segment matches, how many would be suppressed and why, and a sample.

Options
  --file FILE               a segment definition (or a saved segment's JSON) in a file
  --definition JSON         the definition inline, e.g. '{"tags":{"any":["VIP"]}}'
  --segment ID              a saved segment
  --category marketing|notification   default marketing
  --sample N                members in the sample (0–100, default 10)`,
  templates: `Usage: qunfa templates preview TEMPLATE_ID (--segment ID | --file FILE | --definition JSON | --members IDS) [options]

The template rendered for an audience: samples (phones masked), parts per message, members
left out for a missing value, and the cost with your provider.

Options
  --segment ID | --file FILE | --definition JSON | --members id1,id2
  --values JSON             values of the send, e.g. '{"coupon":"NEW10"}'
  --sample N                rendered samples to show (0–20, default 5)`,
  campaigns: `Usage: qunfa campaigns <list | create FILE | schedule ID | pause ID | resume ID | cancel ID | watch ID | report ID>

  list [--limit N] [--cursor C]   campaigns, a page at a time
  create FILE                     a draft from a JSON file (the body of POST /campaigns)
  schedule ID                     send it (now, at its time, or on its cron schedule)
  pause ID | resume ID | cancel ID
  watch ID [--interval SECONDS] [--timeout SECONDS]
                                  a live progress bar with rate and ETA until the run ends;
                                  exits 1 when the run fails or is missed
  report ID [--run RUN_ID] [--csv]
                                  totals, rates, per variant and a funnel chart
                                  (--csv: the report as CSV on stdout)`,
  'opt-outs': `Usage: qunfa opt-outs <list | add PHONE | remove PHONE | export>

  list [--limit N] [--cursor C] [--all]   opted-out numbers (masked), source and time
  add PHONE [--reason TEXT]               opt a number out
  remove PHONE [--consent-at ISO --source WHERE]
                                          re-subscribe a number: only with consent given
                                          after the opt-out (recorded on the member)
  export [--out FILE]                     every opt-out as CSV (stdout without --out)`,
};

const options = {
  endpoint: { type: 'string' },
  'api-key': { type: 'string' },
  profile: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  // members import
  format: { type: 'string' },
  encoding: { type: 'string' },
  mapping: { type: 'string' },
  name: { type: 'string' },
  interval: { type: 'string' },
  // previews
  file: { type: 'string' },
  definition: { type: 'string' },
  segment: { type: 'string' },
  members: { type: 'string' },
  category: { type: 'string' },
  values: { type: 'string' },
  sample: { type: 'string' },
  // campaigns
  limit: { type: 'string' },
  cursor: { type: 'string' },
  timeout: { type: 'string' },
  run: { type: 'string' },
  csv: { type: 'boolean' },
  // opt-outs
  all: { type: 'boolean' },
  reason: { type: 'string' },
  'consent-at': { type: 'string' },
  source: { type: 'string' },
  out: { type: 'string' },
} as const;

export function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util names the option; say it the way a person fixes it.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, '.'));
  }
}

const commands = {
  members: membersCommand,
  segments: segmentsCommand,
  templates: templatesCommand,
  campaigns: campaignsCommand,
  'opt-outs': optOutsCommand,
} as const;

/** Runs `qunfa argv…`; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let group: string | undefined;
  try {
    const { values, positionals } = parseCommandLine(argv);
    const [noun, verb, ...args] = positionals;
    group = noun;
    if (noun === undefined || noun === 'help') {
      io.out(verb && help[verb] ? help[verb] : usage);
      return values.help || noun === 'help' ? exitCodes.ok : exitCodes.usage;
    }
    const command = commands[noun as keyof typeof commands];
    if (!command) throw new UsageError(`Unknown command: ${noun}.`);
    if (values.help) {
      io.out(help[noun] ?? usage);
      return exitCodes.ok;
    }
    let api: Api | undefined;
    const context: Context = {
      io,
      values,
      args,
      json: values.json === true,
      api: async () => {
        api ??= new Api(
          await resolveConfig(
            {
              endpoint: values.endpoint,
              apiKey: values['api-key'],
              profile: values.profile,
              config: values.config,
            },
            io,
          ),
          io.fetch,
        );
        return api;
      },
    };
    return await command(context, verb);
  } catch (error) {
    if (error instanceof UsageError) {
      const topic = error.command ?? group;
      io.err(`${error.message}\nSee \`qunfa ${topic && topic in help ? `${topic} ` : ''}--help\`.`);
      return exitCodes.usage;
    }
    if (error instanceof CliError) {
      io.err(error.message);
      return error.code;
    }
    io.err(`Failed: ${error instanceof Error ? error.message : String(error)}`);
    return exitCodes.failed;
  }
}
