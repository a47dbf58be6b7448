// A clock for the whole process that a test can move forward, so that what takes minutes on
// AWS (a claim's six-minute lease, a send queue's visibility timeout, a paused campaign
// looked at again each minute, members held for hours until their send window opens) takes
// a moment in a test, with every setting as the resource model and the sender define it.
//
// The local stack runs in one process: the handlers, the SQS emulator (fauxqs keeps delays
// and visibility deadlines as Date.now() instants), the scheduler and the SMS simulator all
// read `Date`, so replacing the global `Date` moves all of them at once. Timers
// (setTimeout, sleeps, the pollers' long polls) keep real time. DynamoDB Local runs in its
// JVM on the real clock; the only thing it decides by time is TTL, and items written with a
// clock ahead only expire later. Invocations run in a child process (pollers' `kill` fault)
// are given the offset. docs/local-fidelity.md, "Moving time".

const RealDate = globalThis.Date;

export interface MovableClock {
  /** How far ahead of the real clock the process is, in milliseconds. */
  offsetMs(): number;
  /**
   * Moves the process clock forward. Never back: records, leases and delays all assume
   * that time only moves forward.
   */
  advance(ms: number): void;
  /** Puts the real `Date` back (the offset is forgotten). */
  uninstall(): void;
}

let installed: MovableClock | undefined;

/** Replaces the global `Date` with one `offsetMs` ahead of real time; one per process. */
export function installMovableClock({ offsetMs = 0 }: { offsetMs?: number } = {}): MovableClock {
  if (installed) throw new Error('A movable clock is already installed in this process.');
  if (!Number.isFinite(offsetMs) || offsetMs < 0) throw new RangeError('The clock only moves forward.');
  let offset = offsetMs;
  const now = (): number => RealDate.now() + offset;
  // A proxy rather than a subclass: `instanceof Date`, `Date.prototype` and the static
  // methods stay the real ones, so dates made before and after the swap are alike.
  const MovedDate = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      return Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget);
    },
    apply() {
      // Date() called as a function: the current time as a string.
      return new RealDate(now()).toString();
    },
    get(target, property, receiver) {
      if (property === 'now') return now;
      return Reflect.get(target, property, receiver);
    },
  });
  globalThis.Date = MovedDate;
  const clock: MovableClock = {
    offsetMs: () => offset,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('The clock only moves forward.');
      offset += ms;
    },
    uninstall() {
      if (installed !== clock) return;
      globalThis.Date = RealDate;
      installed = undefined;
    },
  };
  installed = clock;
  return clock;
}

/** The clock installed in this process, if any. */
export function movableClock(): MovableClock | undefined {
  return installed;
}
