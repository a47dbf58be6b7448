import { stackOutputs } from '@qunfa/resources';
import { App } from 'aws-cdk-lib';
import * as z from 'zod';
import { featureFlags } from './feature-flags';
import { stageSettings } from './stage';
import { StatefulStack } from './stateful-stack';
import { StatelessStack } from './stateless-stack';

// The qunfa CDK app: per stage, a stateful stack (tables) and a stateless stack (everything
// else) that receives the tables as typed props. Stacks are environment-agnostic (no account,
// no region, no lookups), so synth works offline and without credentials.

export interface BuildAppOptions {
  /** `dev`, `prod` or any short lowercase name; only `prod` gets production protection. */
  readonly stage: string;
  /** Cloud assembly directory; default: the CLI's (or a temporary one). */
  readonly outdir?: string;
  /** Email subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** Browser origins allowed to call the API; none: no CORS configuration. */
  readonly corsAllowOrigins?: readonly string[];
  /** Bundle the functions with esbuild (default true). Tests that only read settings skip it. */
  readonly bundle?: boolean;
}

export interface QunfaApp {
  readonly app: App;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

export function buildApp(options: BuildAppOptions): QunfaApp {
  const settings = stageSettings(options.stage);
  const app = new App({
    ...(options.outdir === undefined ? {} : { outdir: options.outdir }),
    context: {
      ...featureFlags,
      // An empty list of stacks to bundle makes CDK stage placeholder assets instead.
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
  const tags = { 'qunfa:stage': settings.stage };
  const stateful = new StatefulStack(app, stackOutputs.stackName(settings.stage, 'stateful'), {
    settings,
    tags,
    description: `qunfa ${settings.stage}: DynamoDB tables.`,
  });
  const stateless = new StatelessStack(app, stackOutputs.stackName(settings.stage, 'stateless'), {
    settings,
    tags,
    tables: stateful.tables,
    description: `qunfa ${settings.stage}: functions, queues, HTTP API, schedules and alarms.`,
    ...(options.alarmEmail === undefined ? {} : { alarmEmail: options.alarmEmail }),
    ...(options.corsAllowOrigins === undefined ? {} : { corsAllowOrigins: options.corsAllowOrigins }),
  });
  stateless.addStackDependency(stateful);
  return { app, stateful, stateless };
}

/** Context values (`-c key=value`) the app understands; everything is optional but the stage. */
export const appContext = z.object({
  stage: z.string().default('dev'),
  alarmEmail: z.email().optional(),
  corsAllowOrigins: z
    .string()
    .optional()
    .transform((origins) =>
      origins
        ?.split(',')
        .map((origin) => origin.trim())
        .filter((origin) => origin.length > 0),
    ),
});

export type AppContext = z.infer<typeof appContext>;
