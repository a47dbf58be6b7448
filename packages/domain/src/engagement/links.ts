import * as z from 'zod';
import type { RunCounters, RunDeltas } from '../campaigns/counters';
import { type RandomBytes, randomBase62 } from '../shared/ids';

// Tracked short links (issue 6, item 5). The sender gives each message with {{link}} a code of
// its own, `<link domain>/l/<code>`, stored with the message it belongs to and the URL the
// merchant gave the campaign. `GET /l/{code}` looks the code up and answers 302 to that URL:
// the destination comes from the stored item only, never from the request, so the endpoint
// cannot be an open redirect. A click is counted per run and variant (total and unique per
// message), except a HEAD or a link-preview bot's fetch, which is redirected but not counted.

/** Eight Base62 characters: 62⁸ ≈ 2.2 × 10¹⁴ codes, so a guess finds a live one about never. */
export const shortCodeLength = 8;
export const shortCode = z.string().regex(/^[0-9A-Za-z]{6,16}$/, '6–16 Base62 characters');

/** A fresh short code from crypto-grade `random` bytes (injected: tests pass their own). */
export function newShortCode({ random }: { random: RandomBytes }): string {
  return randomBase62({ random, length: shortCodeLength });
}

export interface ShortLink {
  readonly code: string;
  readonly tenantId: string;
  readonly campaignId: string;
  readonly runId: string;
  readonly memberId: string;
  readonly variantId?: string;
  /** The merchant's URL, as the campaign gave it when the message was rendered. */
  readonly url: string;
  /** ISO instant after which the link answers 410 (and its item is removed by TTL). */
  readonly expiresAt: string;
}

/** Short links by code; DynamoDB (messages table) on AWS and locally. */
export interface ShortLinkStore {
  /** Writes new links (in batches: the sender's hot path). */
  put(links: readonly ShortLink[]): Promise<void>;
  get(code: string): Promise<ShortLink | undefined>;
}

/** The public URL of a code: `<domain>/l/<code>`. */
export function shortLinkUrl({ domain, code }: { domain: string; code: string }): string {
  return `${domain.replace(/\/+$/, '')}/l/${code}`;
}

/** The short link of one message as the sender makes it. */
export function newShortLink({
  random,
  message,
  url,
  now,
  expiryDays,
}: {
  random: RandomBytes;
  message: Omit<ShortLink, 'code' | 'url' | 'expiresAt'>;
  url: string;
  now: Date;
  expiryDays: number;
}): ShortLink {
  return {
    ...message,
    code: newShortCode({ random }),
    url,
    expiresAt: new Date(now.getTime() + expiryDays * 86_400_000).toISOString(),
  };
}

// Link-preview fetchers: a chat app or social network fetches a pasted link to show a card,
// which is no person clicking. Names from each fetcher's documented User-Agent (Facebook's
// crawler, which iMessage also presents; WhatsApp; Slack's unfurler and image proxy; Telegram;
// X/Twitter; Discord; LinkedIn; Skype/Teams; Pinterest; Google's and Bing's crawlers) plus the
// generic words crawlers use. WeChat documents no preview User-Agent: its fetch looks like a
// browser and is counted. An empty User-Agent is no phone's browser: not counted either.
const previewBots =
  /facebookexternalhit|facebot|whatsapp|slackbot|slack-imgproxy|telegrambot|twitterbot|discordbot|linkedinbot|skypeuripreview|microsoftpreview|teamsbot|pinterest|googlebot|google-inspectiontool|bingbot|bingpreview|applebot|redditbot|embedly|iframely|vkshare|qwantify|yandexbot|baiduspider|bytespider|\b(?:bot|crawler|spider|preview)\b/i;

/** Whether a request comes from a link-preview bot or crawler rather than a person. */
export function isLinkPreviewBot(userAgent: string | undefined): boolean {
  if (userAgent === undefined || userAgent.trim() === '') return true;
  return previewBots.test(userAgent);
}

/** Per (tenant, member): their recent messages that were delivered or clicked (attribution.ts). */
export interface ClickRecorder {
  /** Records a click on a message; `first` when it is the message's first (a conditional write). */
  recordClick(input: MessageActivityInput): Promise<{ readonly first: boolean }>;
}

export interface MessageActivityInput {
  readonly tenantId: string;
  readonly memberId: string;
  readonly campaignId: string;
  readonly runId: string;
  readonly variantId?: string;
  readonly at: Date;
}

export interface FollowLinkDeps {
  readonly links: Pick<ShortLinkStore, 'get'>;
  readonly activity: ClickRecorder;
  readonly counters: Pick<RunCounters, 'add'>;
  readonly now: () => Date;
}

export type FollowLinkOutcome =
  | {
      readonly kind: 'redirect';
      readonly url: string;
      /** Why the click was not counted: a HEAD request or a preview bot. */
      readonly uncounted?: 'head' | 'bot';
      /** Recording failed; the person is redirected all the same (the error is for the log). */
      readonly recordError?: unknown;
    }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'expired' };

/** The deltas of one click: total always, unique on a message's first, per variant too. */
export function clickDeltas({ variantId, first }: { variantId?: string; first: boolean }): RunDeltas {
  const deltas: Record<string, number> = { clicks: 1 };
  if (first) deltas.uniqueClicks = 1;
  if (variantId !== undefined) {
    deltas[`variant.${variantId}.clicks`] = 1;
    if (first) deltas[`variant.${variantId}.uniqueClicks`] = 1;
  }
  return deltas;
}

/**
 * `GET /l/{code}`: where to send the visitor, and the click recorded. The click is unique per
 * message (not per code: a message rendered twice may own two codes, see the sender), keyed
 * on the member's activity item for the run.
 */
export async function followShortLink(
  deps: FollowLinkDeps,
  { code, method, userAgent }: { code: string; method: string; userAgent: string | undefined },
): Promise<FollowLinkOutcome> {
  if (!shortCode.safeParse(code).success) return { kind: 'unknown' };
  const link = await deps.links.get(code);
  if (!link) return { kind: 'unknown' };
  const now = deps.now();
  if (Date.parse(link.expiresAt) <= now.getTime()) return { kind: 'expired' };
  if (method.toUpperCase() === 'HEAD') return { kind: 'redirect', url: link.url, uncounted: 'head' };
  if (isLinkPreviewBot(userAgent)) return { kind: 'redirect', url: link.url, uncounted: 'bot' };
  try {
    const { first } = await deps.activity.recordClick({
      tenantId: link.tenantId,
      memberId: link.memberId,
      campaignId: link.campaignId,
      runId: link.runId,
      ...(link.variantId === undefined ? {} : { variantId: link.variantId }),
      at: now,
    });
    await deps.counters.add(
      link.tenantId,
      link.campaignId,
      link.runId,
      clickDeltas({ ...(link.variantId === undefined ? {} : { variantId: link.variantId }), first }),
    );
    return { kind: 'redirect', url: link.url };
  } catch (error) {
    // A click that cannot be counted still reaches the merchant's page.
    return { kind: 'redirect', url: link.url, recordError: error };
  }
}
