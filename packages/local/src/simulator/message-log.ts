import type { SmsEncoding } from '@qunfa/domain';

// What the simulator accepted: the "handset side" truth that tests check invariants against
// (one message per member per run, none to opted-out members). Full records are bounded
// (the oldest are forgotten first); the counts per phone and per reference are kept for
// every message until reset, so a 100,000-message run can still be counted exactly.

/** What a message's receipts will say, decided when it is accepted. */
export type MessageFate = 'delivered' | 'unreachable' | 'expired' | 'partFailure';

export interface SimulatedMessage {
  readonly messageId: string;
  readonly account: string;
  readonly to: string;
  /** The SMS as the handset shows it (a template rendered, with its 【signature】). */
  readonly text: string;
  readonly template?: { readonly code: string; readonly params: Readonly<Record<string, string>> };
  readonly signature?: string;
  readonly reference?: string;
  readonly parts: number;
  readonly encoding: SmsEncoding;
  readonly acceptedAt: string;
  readonly fate: MessageFate;
}

export interface MessageCounts {
  /** Messages accepted since the last reset. */
  readonly total: number;
  /** Distinct phones that received at least one. */
  readonly phones: number;
  readonly byPhone: Readonly<Record<string, number>>;
  /** References accepted more than once: each one is a duplicate send. */
  readonly duplicateReferences: readonly string[];
}

export interface MessageFilter {
  readonly phone?: string;
  readonly reference?: string;
  readonly account?: string;
  readonly limit?: number;
}

export interface MessageLog {
  add(message: SimulatedMessage): void;
  get(messageId: string): SimulatedMessage | undefined;
  /** Oldest first; `total` is how many match among those kept. */
  find(filter: MessageFilter): { total: number; messages: SimulatedMessage[] };
  /** The last message kept for `phone` (on `account`, when given). */
  lastTo({ phone, account }: { phone: string; account?: string }): SimulatedMessage | undefined;
  counts(): MessageCounts;
  /** How many messages `phone` received since the last reset. */
  countFor(phone: string): number;
  /** Messages accepted since the last reset. */
  total(): number;
  size(): number;
  setLimit(maxMessages: number): void;
  reset(): void;
}

export function createMessageLog({ maxMessages }: { maxMessages: number }): MessageLog {
  let limit = maxMessages;
  const kept = new Map<string, SimulatedMessage>();
  const idsByPhone = new Map<string, string[]>();
  const perPhone = new Map<string, number>();
  const perReference = new Map<string, number>();
  let total = 0;

  const evict = (): void => {
    // Maps iterate in insertion order: the first key is the oldest message.
    for (const [oldest, message] of kept) {
      if (kept.size <= limit) break;
      kept.delete(oldest);
      // The oldest message overall is also the oldest of its phone.
      const ids = idsByPhone.get(message.to);
      if (ids?.[0] === oldest) ids.shift();
      if (ids?.length === 0) idsByPhone.delete(message.to);
    }
  };

  const keptIdsFor = (phone: string): string[] => {
    const ids = idsByPhone.get(phone);
    if (!ids) return [];
    const alive = ids.filter((id) => kept.has(id));
    if (alive.length !== ids.length) idsByPhone.set(phone, alive);
    return alive;
  };

  return {
    add(message) {
      kept.set(message.messageId, message);
      const ids = idsByPhone.get(message.to);
      if (ids) ids.push(message.messageId);
      else idsByPhone.set(message.to, [message.messageId]);
      perPhone.set(message.to, (perPhone.get(message.to) ?? 0) + 1);
      if (message.reference !== undefined) {
        perReference.set(message.reference, (perReference.get(message.reference) ?? 0) + 1);
      }
      total += 1;
      evict();
    },
    get: (messageId) => kept.get(messageId),
    find({ phone, reference, account, limit: max = 10_000 }) {
      const candidates =
        phone === undefined ? [...kept.values()] : keptIdsFor(phone).flatMap((id) => kept.get(id) ?? []);
      const matching = candidates.filter(
        (message) =>
          (reference === undefined || message.reference === reference) &&
          (account === undefined || message.account === account),
      );
      return { total: matching.length, messages: matching.slice(0, max) };
    },
    lastTo({ phone, account }) {
      const ids = keptIdsFor(phone);
      for (let i = ids.length - 1; i >= 0; i--) {
        const message = kept.get(ids[i] ?? '');
        if (message && (account === undefined || message.account === account)) return message;
      }
      return undefined;
    },
    counts() {
      return {
        total,
        phones: perPhone.size,
        byPhone: Object.fromEntries(perPhone),
        duplicateReferences: [...perReference]
          .filter(([, count]) => count > 1)
          .map(([reference]) => reference),
      };
    },
    countFor: (phone) => perPhone.get(phone) ?? 0,
    total: () => total,
    size: () => kept.size,
    setLimit(maxMessages) {
      limit = maxMessages;
      evict();
    },
    reset() {
      kept.clear();
      idsByPhone.clear();
      perPhone.clear();
      perReference.clear();
      total = 0;
    },
  };
}
