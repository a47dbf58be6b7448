import { App } from 'aws-cdk-lib';
import { appContext, buildApp } from '../lib/app';

// `npx cdk synth -c stage=prod [-c alarmEmail=ops@example.com] [-c corsAllowOrigins=https://a,https://b]`.
// The CLI passes context through CDK_CONTEXT_JSON; a throwaway App reads it the documented way
// (never synthesized: under the CLI an App synthesizes itself at exit unless told not to).
const probe = new App({ autoSynth: false });
const context = appContext.parse({
  stage: probe.node.tryGetContext('stage'),
  alarmEmail: probe.node.tryGetContext('alarmEmail'),
  corsAllowOrigins: probe.node.tryGetContext('corsAllowOrigins'),
});

const { app } = buildApp({
  stage: context.stage,
  ...(context.alarmEmail === undefined ? {} : { alarmEmail: context.alarmEmail }),
  ...(context.corsAllowOrigins === undefined ? {} : { corsAllowOrigins: context.corsAllowOrigins }),
});
app.synth();
