import * as z from 'zod';

export const componentNames = ['dynamodb', 'sqs', 'pollers', 'scheduler', 'simulator', 'api'] as const;
export type ComponentName = (typeof componentNames)[number];

export interface ComponentHealth {
  readonly ok: boolean;
  /** Where the component answers, when it is a server. */
  readonly url?: string;
  /** What a person needs to see when it is not ok (or a few numbers when it is). */
  readonly detail?: unknown;
}

export interface HealthReport {
  readonly ok: boolean;
  readonly checkedAt: string;
  readonly components: Readonly<Record<ComponentName, ComponentHealth>>;
}

// The scheduler and simulator are written separately; their health() is read as data.
const reportedHealth = z.looseObject({ ok: z.boolean() });

/**
 * Runs one component's check with a deadline, so a hung component shows up as red in
 * /health instead of hanging the endpoint.
 */
export async function checkHealth(
  check: () => unknown,
  { timeoutMs = 2_000, url }: { timeoutMs?: number; url?: string } = {},
): Promise<ComponentHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ComponentHealth>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, ...(url ? { url } : {}), detail: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  const run = (async (): Promise<ComponentHealth> => {
    try {
      const value = await check();
      const parsed = reportedHealth.safeParse(value);
      if (!parsed.success)
        return { ok: false, ...(url ? { url } : {}), detail: 'health() returned no { ok }' };
      const { ok, url: reportedUrl, ...rest } = parsed.data;
      const where = typeof reportedUrl === 'string' ? reportedUrl : url;
      const detail = 'detail' in rest ? rest.detail : Object.keys(rest).length > 0 ? rest : undefined;
      return { ok, ...(where ? { url: where } : {}), ...(detail === undefined ? {} : { detail }) };
    } catch (error) {
      return {
        ok: false,
        ...(url ? { url } : {}),
        detail: error instanceof Error ? error.message : String(error),
      };
    }
  })();
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function summarize(
  components: Record<ComponentName, ComponentHealth>,
  now: Date = new Date(),
): HealthReport {
  return {
    ok: Object.values(components).every((component) => component.ok),
    checkedAt: now.toISOString(),
    components,
  };
}
