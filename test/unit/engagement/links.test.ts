import {
  clickDeltas,
  destinationUrl,
  type FollowLinkDeps,
  followShortLink,
  isLinkPreviewBot,
  linkDomain,
  type MessageActivityInput,
  newShortCode,
  newShortLink,
  type RunDeltas,
  type ShortLink,
  shortLinkUrl,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

const iphoneSafari =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const wechatBrowser =
  'Mozilla/5.0 (Linux; Android 13; V2183A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64';

/** Bytes counting up from `start`: a predictable stand-in for crypto randomness. */
function countingBytes(start = 0): (size: number) => Uint8Array {
  let next = start;
  return (size) => Uint8Array.from({ length: size }, () => next++ % 256);
}

describe('newShortCode', () => {
  it('makes 8 Base62 characters from the randomness it is given', () => {
    const code = newShortCode({ random: countingBytes() });

    expect(code).toBe('01234567');
  });

  it('skips bytes that would bias the alphabet (248 and above)', () => {
    const code = newShortCode({ random: countingBytes(246) });

    // 246 → 'y' (246 % 62 = 60), 247 → 'z', 248–255 skipped, then 0, 1, …
    expect(code).toBe('yz012345');
  });

  it('draws distinct codes from real randomness', async () => {
    const { randomBytes } = await import('node:crypto');
    const codes = new Set(Array.from({ length: 2_000 }, () => newShortCode({ random: randomBytes })));

    expect(codes.size).toBe(2_000);
    for (const code of codes) expect(code).toMatch(/^[0-9A-Za-z]{8}$/);
  });
});

describe('shortLinkUrl', () => {
  it('puts the code under /l/ of the domain, whatever its trailing slash', () => {
    expect(shortLinkUrl({ domain: 'https://s.acme.cn/', code: 'Ab3dE9xY' })).toBe(
      'https://s.acme.cn/l/Ab3dE9xY',
    );
    expect(shortLinkUrl({ domain: 'http://127.0.0.1:3000', code: 'Ab3dE9xY' })).toBe(
      'http://127.0.0.1:3000/l/Ab3dE9xY',
    );
  });
});

describe('destinationUrl', () => {
  it('takes http and https URLs', () => {
    expect(destinationUrl.parse('https://shop.acme.cn/sale?utm=sms#top')).toBe(
      'https://shop.acme.cn/sale?utm=sms#top',
    );
    expect(destinationUrl.safeParse('http://acme.cn').success).toBe(true);
  });

  it.each([
    ['javascript:alert(1)'],
    ['data:text/html,<script>alert(1)</script>'],
    ['ftp://acme.cn/file'],
    ['https://user:secret@acme.cn/'],
    ['https://admin@acme.cn/'],
    ['//acme.cn/path'],
    ['acme.cn'],
    [`https://acme.cn/${'a'.repeat(2_000)}`],
  ])('refuses %s', (url) => {
    expect(destinationUrl.safeParse(url).success).toBe(false);
  });
});

describe('linkDomain', () => {
  it('takes an origin and refuses a query or fragment', () => {
    expect(linkDomain.safeParse('https://s.acme.cn').success).toBe(true);
    expect(linkDomain.safeParse('https://s.acme.cn?x=1').success).toBe(false);
    expect(linkDomain.safeParse('javascript:alert(1)').success).toBe(false);
  });
});

describe('isLinkPreviewBot', () => {
  it.each([
    ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)'],
    ['facebookexternalhit/1.1 Facebot Twitterbot/1.0'],
    ['WhatsApp/2.23.20.0 A'],
    ['Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'],
    ['TelegramBot (like TwitterBot)'],
    ['Twitterbot/1.0'],
    ['Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)'],
    ['LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)'],
    ['Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5'],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
    [''],
    [undefined],
  ])('takes %s for a bot', (userAgent) => {
    expect(isLinkPreviewBot(userAgent)).toBe(true);
  });

  it.each([[iphoneSafari], [wechatBrowser]])('takes %s for a person', (userAgent) => {
    expect(isLinkPreviewBot(userAgent)).toBe(false);
  });
});

describe('followShortLink', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const link: ShortLink = newShortLink({
    random: countingBytes(),
    message: {
      tenantId: 'acme',
      campaignId: 'cmp_000000000001',
      runId: 'run_1',
      memberId: 'm1',
      variantId: 'B',
    },
    url: 'https://shop.acme.cn/sale',
    now: new Date('2026-11-20T10:00:00Z'),
    expiryDays: 90,
  });

  function fakes(links: ShortLink[]) {
    const clicks: MessageActivityInput[] = [];
    const added: RunDeltas[] = [];
    const clicked = new Set<string>();
    const deps: FollowLinkDeps = {
      links: { get: async (code) => links.find((l) => l.code === code) },
      activity: {
        recordClick: async (input) => {
          clicks.push(input);
          const key = `${input.runId}/${input.memberId}`;
          const first = !clicked.has(key);
          clicked.add(key);
          return { first };
        },
      },
      counters: { add: async (_t, _c, _r, deltas) => void added.push(deltas) },
      now: () => now,
    };
    return { deps, clicks, added };
  }

  it('redirects to the stored URL and counts the first click as unique, per variant too', async () => {
    const { deps, added } = fakes([link]);

    const first = await followShortLink(deps, { code: link.code, method: 'GET', userAgent: iphoneSafari });
    const second = await followShortLink(deps, { code: link.code, method: 'GET', userAgent: iphoneSafari });

    expect(first).toEqual({ kind: 'redirect', url: 'https://shop.acme.cn/sale' });
    expect(second).toEqual({ kind: 'redirect', url: 'https://shop.acme.cn/sale' });
    expect(added).toEqual([
      { clicks: 1, uniqueClicks: 1, 'variant.B.clicks': 1, 'variant.B.uniqueClicks': 1 },
      { clicks: 1, 'variant.B.clicks': 1 },
    ]);
  });

  it('counts unique clicks per message, not per code: a second code of the message is no new one', async () => {
    const again = { ...link, code: 'ZZZZZZZZ' };
    const { deps, added } = fakes([link, again]);

    await followShortLink(deps, { code: link.code, method: 'GET', userAgent: iphoneSafari });
    await followShortLink(deps, { code: again.code, method: 'GET', userAgent: iphoneSafari });

    expect(added.map((d) => d.uniqueClicks ?? 0)).toEqual([1, 0]);
  });

  it('redirects a HEAD and a preview bot without counting', async () => {
    const { deps, clicks, added } = fakes([link]);

    const head = await followShortLink(deps, { code: link.code, method: 'HEAD', userAgent: iphoneSafari });
    const bot = await followShortLink(deps, {
      code: link.code,
      method: 'GET',
      userAgent: 'WhatsApp/2.23.20.0 A',
    });

    expect(head).toEqual({ kind: 'redirect', url: link.url, uncounted: 'head' });
    expect(bot).toEqual({ kind: 'redirect', url: link.url, uncounted: 'bot' });
    expect(clicks).toEqual([]);
    expect(added).toEqual([]);
  });

  it('answers unknown for a code never issued or malformed, and expired after the expiry', async () => {
    const old = { ...link, code: 'OLDOLDOL', expiresAt: '2026-11-23T09:59:59.000Z' };
    const { deps, added } = fakes([link, old]);

    expect(await followShortLink(deps, { code: 'nope1234', method: 'GET', userAgent: iphoneSafari })).toEqual(
      {
        kind: 'unknown',
      },
    );
    expect(await followShortLink(deps, { code: '../admin', method: 'GET', userAgent: iphoneSafari })).toEqual(
      {
        kind: 'unknown',
      },
    );
    expect(await followShortLink(deps, { code: old.code, method: 'GET', userAgent: iphoneSafari })).toEqual({
      kind: 'expired',
    });
    expect(added).toEqual([]);
  });

  it('still redirects when the click cannot be recorded', async () => {
    const { deps } = fakes([link]);
    const failing: FollowLinkDeps = {
      ...deps,
      counters: {
        add: async () => {
          throw new Error('throttled');
        },
      },
    };

    const outcome = await followShortLink(failing, {
      code: link.code,
      method: 'GET',
      userAgent: iphoneSafari,
    });

    expect(outcome).toMatchObject({ kind: 'redirect', url: link.url, recordError: expect.any(Error) });
  });
});

describe('newShortLink', () => {
  it('expires after the given days', () => {
    const link = newShortLink({
      random: countingBytes(),
      message: { tenantId: 'acme', campaignId: 'c', runId: 'r', memberId: 'm' },
      url: 'https://acme.cn',
      now: new Date('2026-01-01T00:00:00Z'),
      expiryDays: 90,
    });

    expect(link.expiresAt).toBe('2026-04-01T00:00:00.000Z');
  });
});

describe('clickDeltas', () => {
  it('has no variant keys for a message without a variant', () => {
    expect(clickDeltas({ first: true })).toEqual({ clicks: 1, uniqueClicks: 1 });
  });
});
