import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { movableClock } from './clock';
import type { LocalFunction } from './lambda';

// One invocation run in a child process, so that it can be killed the way Lambda kills a
// function: mid-flight, between two awaits, with no `finally` run and nothing more written.
// An in-process handler cannot be stopped like that (a timed-out one keeps running), so the
// pollers' `kill` fault (pollers.ts) runs the doomed invocation here. The child loads the
// handler as a cold start does, with this process's environment (the stack's), and is
// SIGKILLed as soon as it has received its `count`-th HTTP answer from a URL starting with
// `urlPrefix`: for the sender, right after a provider call answered and before its outcome
// is recorded. Test-only: docs/local-fidelity.md, "Faults".

export interface KillAfter {
  /** Answers counted: those of requests whose URL starts with this (e.g. the provider's). */
  readonly urlPrefix: string;
  readonly count: number;
}

export type KillableOutcome =
  | { readonly killed: true }
  | { readonly killed: false; readonly result: unknown }
  | { readonly killed: false; readonly error: string };

const childScript = fileURLToPath(new URL('./killable-child.ts', import.meta.url));

const childMessage = z.discriminatedUnion('kind', [
  // A handler that returns nothing sends no `result` key at all.
  z.object({ kind: z.literal('result'), result: z.unknown().optional() }),
  z.object({ kind: z.literal('error'), message: z.string() }),
]);

/** Invokes `entry`'s handler with `event` in a child process that dies as `killAfter` says. */
export function invokeKillable({
  entry,
  rootDir,
  event,
  fn,
  region,
  killAfter,
}: {
  entry: string;
  rootDir: string;
  event: unknown;
  fn: LocalFunction;
  region: string;
  killAfter: KillAfter;
}): Promise<KillableOutcome> {
  return new Promise((resolve) => {
    const child = fork(childScript, [], {
      cwd: rootDir,
      execArgv: ['--import', 'tsx'],
      env: process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let answer: KillableOutcome | undefined;
    // A child that neither answers nor dies in the function's time (plus its cold start) is
    // killed, as Lambda would.
    const guard = setTimeout(() => child.kill('SIGKILL'), fn.timeoutSeconds * 1000 + 30_000);
    child.on('message', (raw) => {
      const parsed = childMessage.safeParse(raw);
      if (!parsed.success) return;
      answer =
        parsed.data.kind === 'result'
          ? { killed: false, result: parsed.data.result }
          : { killed: false, error: parsed.data.message };
    });
    // 'close', not 'exit': a child's last IPC message may be handed over after its 'exit'.
    child.on('close', () => {
      clearTimeout(guard);
      resolve(answer ?? { killed: true });
    });
    child.send({
      entry,
      rootDir,
      event,
      fn,
      region,
      killAfter,
      clockOffsetMs: movableClock()?.offsetMs() ?? 0,
    });
  });
}
