import * as z from 'zod';
import { installMovableClock } from './clock';
import { invokeHandler, loadHandler } from './lambda';

// The child process of killable.ts: one invocation, then exit; or SIGKILL from within, right
// after the answer that reaches the kill count (the response is never handed to the handler).

const request = z.object({
  entry: z.string(),
  rootDir: z.string(),
  event: z.unknown(),
  fn: z.object({ name: z.string(), timeoutSeconds: z.number(), memoryMb: z.number() }),
  region: z.string(),
  killAfter: z.object({ urlPrefix: z.string(), count: z.number().int().min(1) }),
  clockOffsetMs: z.number().min(0),
});

function urlOf(input: Parameters<typeof fetch>[0]): string {
  if (typeof input === 'string') return input;
  return input instanceof URL ? input.href : input.url;
}

function reply(message: unknown): void {
  process.send?.(message, () => process.exit(0));
}

process.once('message', (raw) => {
  const { entry, rootDir, event, fn, region, killAfter, clockOffsetMs } = request.parse(raw);
  if (clockOffsetMs > 0) installMovableClock({ offsetMs: clockOffsetMs });
  const realFetch = globalThis.fetch;
  let answers = 0;
  globalThis.fetch = async (input, init) => {
    const response = await realFetch(input, init);
    if (urlOf(input).startsWith(killAfter.urlPrefix)) {
      answers += 1;
      if (answers >= killAfter.count) process.kill(process.pid, 'SIGKILL');
    }
    return response;
  };
  loadHandler<unknown, unknown>({ entry, rootDir })
    .then((handler) => invokeHandler({ handler, event, fn, region }))
    .then(
      ({ result }) => reply({ kind: 'result', result }),
      (error: unknown) =>
        reply({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
});
