import { e164Phone, templateCode } from '@qunfa/providers';
import * as z from 'zod';

// How the simulator behaves, set at start and changed at runtime through PUT /admin/config
// (a patch: the keys given change, the rest stay; nested objects merge one level deep, lists
// are replaced). Defaults describe a well-behaved provider: no latency, no failures, 1,000
// parts per second, receipts a second after the send once a callback URL is set.

const rate = z.number().min(0).max(1);
const milliseconds = z.number().int().min(0).max(600_000);
const phones = z.array(e164Phone).max(100_000);
const secret = z.string().min(16, 'at least 16 characters');

export const simulatorConfig = z.strictObject({
  /** Seeds every random choice (failures, timeouts, receipt delays, duplicates, order). */
  seed: z.number().int().min(0).max(0xffff_ffff),
  rateLimit: z.strictObject({
    /** Parts per second, shared by every account; null: no limit. Above it: 429 throttled. */
    partsPerSecond: z.number().positive().max(1_000_000).nullable(),
    /** Parts that may go at once (the bucket); null: one second's worth. */
    burstParts: z.number().int().positive().max(1_000_000).nullable(),
  }),
  /** Each send answers after latencyMs plus up to latencyJitterMs. */
  latencyMs: milliseconds,
  latencyJitterMs: milliseconds,
  /** Share of sends refused with 503 unavailable (retryable): nothing is accepted. */
  failureRate: rate,
  /**
   * Share of sends whose messages are accepted and recorded but whose answer is held for
   * hangMs, longer than any client waits: the client sees a timeout (ambiguous).
   */
  timeoutRate: rate,
  hangMs: milliseconds,
  numbers: z.strictObject({
    /** Refused at send: permanent invalid_number. */
    invalid: phones,
    /** Accepted, then every part's receipt fails (UNDELIV). */
    unreachable: phones,
    /** Accepted, then every part's receipt expires (EXPIRED). */
    expired: phones,
    /** Accepted, then the last part fails and the others are delivered. */
    partFailure: phones,
  }),
  /** Template bodies by code, with `${name}` or `{1}` placeholders; another code is refused. */
  templates: z.record(templateCode, z.string().min(1).max(1_000)),
  receipts: z.strictObject({
    enabled: z.boolean(),
    /** After the send; each receipt also waits up to jitterMs more. */
    delayMs: milliseconds,
    jitterMs: milliseconds,
    /** Share of receipts sent twice. */
    duplicateRate: rate,
    /** Shuffle each callback's receipts and give the parts of one message different delays. */
    outOfOrder: z.boolean(),
    maxPerCallback: z.number().int().min(1).max(1_000),
    /** POSTs per callback before giving up: network failures, 5xx, 408 and 429 are tried again. */
    attempts: z.number().int().min(1).max(10),
    retryDelayMs: milliseconds,
  }),
  callbacks: z.strictObject({
    /** Where callbacks go, `{account}` replaced; null: none are sent. */
    url: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'an http(s) URL, e.g. http://127.0.0.1:3000/callbacks/simulator/{account}')
      .nullable(),
    /** Each account's secret is derived from it (see simulatorAccountSecret) unless given below. */
    secret,
    accountSecrets: z.record(z.string(), secret),
    timeoutMs: z.number().int().min(100).max(60_000),
  }),
  /** How many accepted messages are kept in full (counts per phone are never dropped). */
  maxMessages: z.number().int().min(1).max(10_000_000),
});
export type SimulatorConfig = z.infer<typeof simulatorConfig>;

export const simulatorConfigPatch = z.strictObject({
  seed: simulatorConfig.shape.seed.exactOptional(),
  rateLimit: simulatorConfig.shape.rateLimit.partial().exactOptional(),
  latencyMs: simulatorConfig.shape.latencyMs.exactOptional(),
  latencyJitterMs: simulatorConfig.shape.latencyJitterMs.exactOptional(),
  failureRate: simulatorConfig.shape.failureRate.exactOptional(),
  timeoutRate: simulatorConfig.shape.timeoutRate.exactOptional(),
  hangMs: simulatorConfig.shape.hangMs.exactOptional(),
  numbers: simulatorConfig.shape.numbers.partial().exactOptional(),
  templates: simulatorConfig.shape.templates.exactOptional(),
  receipts: simulatorConfig.shape.receipts.partial().exactOptional(),
  callbacks: simulatorConfig.shape.callbacks.partial().exactOptional(),
  maxMessages: simulatorConfig.shape.maxMessages.exactOptional(),
});
export type SimulatorConfigPatch = z.input<typeof simulatorConfigPatch>;

export function defaultSimulatorConfig({ seed, secret }: { seed: number; secret: string }): SimulatorConfig {
  return {
    seed,
    rateLimit: { partsPerSecond: 1_000, burstParts: null },
    latencyMs: 0,
    latencyJitterMs: 0,
    failureRate: 0,
    timeoutRate: 0,
    hangMs: 30_000,
    numbers: { invalid: [], unreachable: [], expired: [], partFailure: [] },
    templates: {},
    receipts: {
      enabled: true,
      delayMs: 1_000,
      jitterMs: 0,
      duplicateRate: 0,
      outOfOrder: false,
      maxPerCallback: 100,
      attempts: 3,
      retryDelayMs: 500,
    },
    callbacks: { url: null, secret, accountSecrets: {}, timeoutMs: 5_000 },
    maxMessages: 200_000,
  };
}

/** `config` with `patch` applied; the result is checked whole. */
export function applyConfigPatch(
  config: SimulatorConfig,
  patch: z.infer<typeof simulatorConfigPatch>,
): SimulatorConfig {
  // The patch schema leaves absent keys absent (exactOptional), so spreading keeps the rest.
  return simulatorConfig.parse({
    ...config,
    ...patch,
    rateLimit: { ...config.rateLimit, ...patch.rateLimit },
    numbers: { ...config.numbers, ...patch.numbers },
    receipts: { ...config.receipts, ...patch.receipts },
    callbacks: { ...config.callbacks, ...patch.callbacks },
  });
}
