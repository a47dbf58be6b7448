import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type SimulatorCallback,
  type SimulatorReceipt,
  type SimulatorReply,
  signSimulatorCallback,
  simulatorAccountSecret,
  simulatorCallbackHeaders,
  simulatorReceiptCodes,
} from '@qunfa/providers';
import type { LocalLogger } from '../log';
import type { SimulatorConfig } from './config';
import type { SimulatedMessage } from './message-log';
import { type Random, shuffle } from './random';

// The simulator's side of the callbacks: delivery receipts scheduled when a message is
// accepted and POSTed when due (late, optionally twice and out of order, one per part), and
// replies POSTed at once. Every POST is signed (@qunfa/providers simulator/callbacks.ts) and
// tried again on a network failure, a 5xx, 408 or 429; any other answer is final.

export interface CallbackResult {
  readonly status: 'delivered' | 'refused' | 'failed' | 'skipped';
  readonly httpStatus?: number;
  readonly attempts: number;
  readonly callbackId?: string;
}

export interface CallbackStats {
  /** Receipts waiting for their time. */
  readonly pending: number;
  /** Receipts in callbacks the API answered 2xx. */
  readonly receiptsDelivered: number;
  /** Receipts in callbacks refused or never answered after every attempt. */
  readonly receiptsLost: number;
  /** Receipts not generated because no callback URL is set or receipts are off. */
  readonly receiptsSkipped: number;
  readonly callbacksDelivered: number;
  readonly callbacksRefused: number;
  readonly callbacksFailed: number;
}

export interface CallbackDispatcher {
  scheduleReceipts(message: SimulatedMessage): void;
  sendReplies(account: string, replies: readonly SimulatorReply[]): Promise<CallbackResult>;
  /** Sends every pending receipt now and waits until every callback in flight is settled. */
  flush(): Promise<CallbackStats>;
  stats(): CallbackStats;
  /** Drops the pending receipts (those in flight still finish). */
  reset(): void;
  stop(): Promise<void>;
}

/** The dispatcher wakes at most this often, so a burst of receipts goes out in few callbacks. */
const tickMs = 20;

interface PendingReceipt {
  readonly dueAt: number;
  readonly account: string;
  readonly receipt: SimulatorReceipt;
}

export function createCallbackDispatcher({
  config,
  random,
  now,
  fetch,
  logger,
}: {
  config: () => SimulatorConfig;
  /** Delays, duplicates and order; a stream of its own, so sends draw the same numbers. */
  random: Random;
  now: () => Date;
  fetch: typeof globalThis.fetch;
  logger: LocalLogger;
}): CallbackDispatcher {
  let pending: PendingReceipt[] = [];
  let timer: NodeJS.Timeout | undefined;
  let timerDueAt = Number.POSITIVE_INFINITY;
  const inFlight = new Set<Promise<unknown>>();
  const stopping = new AbortController();
  let warnedRefusal = false;
  const zero = {
    receiptsDelivered: 0,
    receiptsLost: 0,
    receiptsSkipped: 0,
    callbacksDelivered: 0,
    callbacksRefused: 0,
    callbacksFailed: 0,
  };
  const counters = { ...zero };

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  };

  const secretFor = (account: string): string => {
    const { callbacks } = config();
    return (
      callbacks.accountSecrets[account] ??
      simulatorAccountSecret({ callbackSecret: callbacks.secret, account })
    );
  };

  /** POSTs one callback, each attempt with a fresh callbackId, timestamp and signature. */
  const post = async (
    account: string,
    content:
      | { type: 'receipts'; receipts: SimulatorReceipt[] }
      | { type: 'replies'; replies: SimulatorReply[] },
  ): Promise<CallbackResult> => {
    const { callbacks, receipts: settings } = config();
    if (callbacks.url === null) return { status: 'skipped', attempts: 0 };
    const url = callbacks.url.replaceAll('{account}', encodeURIComponent(account));
    let last: CallbackResult = { status: 'failed', attempts: 0 };
    for (let attempt = 1; attempt <= settings.attempts && !stopping.signal.aborted; attempt++) {
      const callbackId = `cb-${randomUUID()}`;
      const sentAt = now();
      const payload: SimulatorCallback = { ...content, callbackId, account, sentAt: sentAt.toISOString() };
      const body = JSON.stringify(payload);
      const timestamp = Math.floor(sentAt.getTime() / 1000);
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [simulatorCallbackHeaders.timestamp]: String(timestamp),
            [simulatorCallbackHeaders.signature]: signSimulatorCallback({
              secret: secretFor(account),
              timestamp,
              body,
            }),
          },
          body,
          signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(callbacks.timeoutMs)]),
        });
        await response.body?.cancel();
        if (response.ok)
          return { status: 'delivered', httpStatus: response.status, attempts: attempt, callbackId };
        last = { status: 'failed', httpStatus: response.status, attempts: attempt, callbackId };
        const worthRetrying = response.status >= 500 || response.status === 408 || response.status === 429;
        if (!worthRetrying) {
          const log = warnedRefusal ? logger.debug : logger.warn;
          warnedRefusal = true;
          log(`callback refused with HTTP ${response.status}`, { url, type: content.type });
          return { status: 'refused', httpStatus: response.status, attempts: attempt, callbackId };
        }
      } catch (error) {
        if (stopping.signal.aborted) break;
        last = { status: 'failed', attempts: attempt, callbackId };
        logger.debug('callback not answered', { url, attempt, error });
      }
      if (attempt < settings.attempts) {
        await sleep(settings.retryDelayMs * 2 ** (attempt - 1), undefined, { signal: stopping.signal }).catch(
          () => undefined,
        );
      }
    }
    return last;
  };

  const deliverReceipts = async (account: string, receipts: SimulatorReceipt[]): Promise<void> => {
    const result = await post(account, { type: 'receipts', receipts });
    if (result.status === 'delivered') {
      counters.callbacksDelivered += 1;
      counters.receiptsDelivered += receipts.length;
      return;
    }
    if (result.status === 'refused') counters.callbacksRefused += 1;
    else counters.callbacksFailed += 1;
    counters.receiptsLost += receipts.length;
  };

  /** Sends what is due (everything, when `all`), grouped per account into callbacks. */
  const dispatchDue = (all: boolean): void => {
    const at = Date.now();
    const due = all ? pending : pending.filter((item) => item.dueAt <= at);
    pending = all ? [] : pending.filter((item) => item.dueAt > at);
    if (due.length === 0) return;
    const { receipts: settings } = config();
    due.sort((a, b) => a.dueAt - b.dueAt);
    const byAccount = new Map<string, SimulatorReceipt[]>();
    for (const item of due) {
      const list = byAccount.get(item.account);
      if (list) list.push(item.receipt);
      else byAccount.set(item.account, [item.receipt]);
    }
    for (const [account, receipts] of byAccount) {
      if (settings.outOfOrder) shuffle(receipts, random);
      for (let i = 0; i < receipts.length; i += settings.maxPerCallback) {
        track(deliverReceipts(account, receipts.slice(i, i + settings.maxPerCallback)));
      }
    }
  };

  /** Fires at `dueAt` at the earliest, never more often than every tickMs: one pass per tick. */
  const armFor = (dueAt: number): void => {
    if (stopping.signal.aborted || (timer && dueAt >= timerDueAt)) return;
    if (timer) clearTimeout(timer);
    timerDueAt = dueAt;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerDueAt = Number.POSITIVE_INFINITY;
        dispatchDue(false);
        let next = Number.POSITIVE_INFINITY;
        for (const item of pending) if (item.dueAt < next) next = item.dueAt;
        if (next !== Number.POSITIVE_INFINITY) armFor(Math.max(next, Date.now() + tickMs));
      },
      Math.max(0, dueAt - Date.now()),
    );
  };

  const receiptsOf = (message: SimulatedMessage): { receipt: SimulatorReceipt; delayMs: number }[] => {
    const { receipts: settings } = config();
    const draw = random;
    const base = settings.delayMs + draw() * settings.jitterMs;
    const list: { receipt: SimulatorReceipt; delayMs: number }[] = [];
    for (let part = 1; part <= message.parts; part++) {
      // Out of order: the parts of one message come back in any order, over a wider spread.
      const delayMs = settings.outOfOrder
        ? base + draw() * Math.max(settings.jitterMs, settings.delayMs, 50)
        : base;
      const doneAt = new Date(now().getTime() + delayMs).toISOString();
      list.push({ receipt: receiptFor({ message, part, doneAt }), delayMs });
      if (draw() < settings.duplicateRate) {
        const again = delayMs + draw() * Math.max(settings.jitterMs, settings.delayMs, 50);
        list.push({ receipt: receiptFor({ message, part, doneAt }), delayMs: again });
      }
    }
    return list;
  };

  return {
    scheduleReceipts(message) {
      const current = config();
      if (!current.receipts.enabled || current.callbacks.url === null) {
        counters.receiptsSkipped += message.parts;
        return;
      }
      const at = Date.now();
      let earliest = Number.POSITIVE_INFINITY;
      for (const { receipt, delayMs } of receiptsOf(message)) {
        pending.push({ dueAt: at + delayMs, account: message.account, receipt });
        earliest = Math.min(earliest, at + delayMs);
      }
      armFor(earliest);
    },
    async sendReplies(account, replies) {
      return track(post(account, { type: 'replies', replies: [...replies] }));
    },
    async flush() {
      dispatchDue(true);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      return this.stats();
    },
    stats: () => ({ pending: pending.length, ...counters }),
    reset() {
      pending = [];
      if (timer) clearTimeout(timer);
      timer = undefined;
      timerDueAt = Number.POSITIVE_INFINITY;
      Object.assign(counters, zero);
    },
    async stop() {
      stopping.abort();
      if (timer) clearTimeout(timer);
      timer = undefined;
      await Promise.allSettled([...inFlight]);
    },
  };
}

function receiptFor({
  message,
  part,
  doneAt,
}: {
  message: SimulatedMessage;
  part: number;
  doneAt: string;
}): SimulatorReceipt {
  const fate = message.fate;
  const failed = fate === 'unreachable' || (fate === 'partFailure' && part === message.parts);
  const outcome: Pick<SimulatorReceipt, 'status' | 'code'> & { errorMessage?: string } = failed
    ? {
        status: 'failed',
        code: fate === 'unreachable' ? simulatorReceiptCodes.unreachable : simulatorReceiptCodes.partLost,
        errorMessage:
          fate === 'unreachable' ? 'The handset is unreachable.' : 'This part was lost on the way.',
      }
    : fate === 'expired'
      ? {
          status: 'expired',
          code: simulatorReceiptCodes.expired,
          errorMessage: 'Not delivered before the validity period ended.',
        }
      : { status: 'delivered', code: simulatorReceiptCodes.delivered };
  return {
    receiptId: `${message.messageId}#${part}`,
    messageId: message.messageId,
    ...(message.reference === undefined ? {} : { reference: message.reference }),
    phone: message.to,
    ...outcome,
    part,
    parts: message.parts,
    submittedAt: message.acceptedAt,
    doneAt,
  };
}
