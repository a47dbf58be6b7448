import type { httpRoutes } from '@qunfa/resources';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';

// What differs between a production deployment and every other one. Everything else about a
// stage comes from the resource model, so dev exercises the very settings prod runs with.

/** A stage name: lowercase, short, usable inside resource and stack names (`dev`, `prod`, `pr-42`). */
export const stageName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,19}$/,
    'a stage is 1–20 lowercase letters, digits or dashes, starting with a letter',
  );

/** A function that serves HTTP routes (`httpRoutes`). */
export type RouteFunctionId = (typeof httpRoutes)[number]['functionId'];

export interface Throttle {
  /** Steady requests per second. */
  readonly rateLimit: number;
  /** Requests API Gateway accepts at once above the steady rate. */
  readonly burstLimit: number;
}

export interface StageSettings {
  readonly stage: string;
  readonly isProduction: boolean;
  /** RETAIN keeps member, campaign and opt-out data (and the schedule group) if a stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  readonly pointInTimeRecovery: boolean;
  readonly deletionProtection: boolean;
  /**
   * Function logs: two weeks in dev is enough to debug last week's campaign; 90 days in prod
   * covers incident reviews and provider disputes. Logs carry masked phone numbers only, yet
   * they are personal data all the same (tenant, member ids), so they are not kept for years:
   * the durable audit trail is the message records in DynamoDB, which erasure can reach.
   */
  readonly logRetention: RetentionDays;
  /**
   * API Gateway throttling per route function. Callbacks follow the providers' send rate (up
   * to 5,000 messages per second, more receipts for multipart messages), so they get the
   * account's default burst; merchants' API calls get less, to keep a runaway integration
   * from starving the callbacks of Lambda concurrency. Per-tenant limits live in the API.
   */
  readonly routeThrottle: Readonly<Record<RouteFunctionId, Throttle>>;
  /** The window in which one function error raises the alarm. */
  readonly functionErrorPeriod: Duration;
}

export function stageSettings(stage: string): StageSettings {
  const name = stageName.parse(stage);
  const isProduction = name === 'prod';
  return {
    stage: name,
    isProduction,
    removalPolicy: isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    pointInTimeRecovery: isProduction,
    deletionProtection: isProduction,
    logRetention: isProduction ? RetentionDays.THREE_MONTHS : RetentionDays.TWO_WEEKS,
    routeThrottle: {
      api: { rateLimit: 500, burstLimit: 1_000 },
      planner: { rateLimit: 500, burstLimit: 1_000 },
      // Test sends go to staff phones, a few at a time: a low limit also caps a leaked key's reach.
      tester: { rateLimit: 5, burstLimit: 10 },
      callbacks: { rateLimit: 5_000, burstLimit: 5_000 },
      // Clicks come from people reading an SMS: a campaign to a million members at a 5% click
      // rate, most within the first hour, is tens per second; the burst absorbs a rush.
      links: { rateLimit: 1_000, burstLimit: 2_000 },
    },
    functionErrorPeriod: Duration.minutes(5),
  };
}
