import * as z from 'zod';
import { dailyMax, defaultDailyMax, defaultFrequencyCaps, frequencyCaps } from '../compliance/frequency-caps';
import { defaultSendWindow, sendWindow } from '../compliance/quiet-hours';
import {
  attributionDefaults,
  defaultLinkExpiryDays,
  linkDomain,
  maxAttributionWindowHours,
} from '../engagement/settings';
import { ianaTimeZone } from '../shared/time-zones';
// From the modules, not the templates index: the templates import member types, and a
// tenant is read by everything.
import { bannedWordList } from '../templates/banned-words';
import { smsSignature } from '../templates/compliance';
import { currencyCode, partPriceOverrides, smsProviderId } from '../templates/pricing';

/** How long after a click or a delivery a conversion is attributed to the message. */
const attributionWindows = z.strictObject({
  clickWindowHours: z.number().int().min(1).max(maxAttributionWindowHours),
  deliveryWindowHours: z.number().int().min(1).max(maxAttributionWindowHours),
});

/** A merchant. Lower-case letters, digits and inner dashes: it starts every key in every table. */
export const tenantId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/,
    '3–40 lower-case letters, digits or dashes, not starting or ending with a dash',
  );
export type TenantId = z.infer<typeof tenantId>;

// Each setting once, without its default: tenantSettings adds the defaults (so tenants stored
// before a setting existed still parse), tenantSettingsPatch leaves them out (so a PATCH of
// one setting never resets the others to their defaults).
const settingFields = {
  name: z.string().trim().min(1).max(100),
  /** Quiet hours, birthdays and daily caps are read in this zone unless a member has their own. */
  timeZone: ianaTimeZone,
  /** ISO 3166 region used to read phone numbers written without a country code. */
  defaultRegion: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 region such as CN'),
  locale: z.enum(['zh-CN', 'en']),
  /**
   * The SMS signature (签名) leading every message, written without 【】: the one the provider
   * approved. Optional: until it is set, the tenant's name stands in when it is a valid
   * signature (see tenantSignature).
   */
  signature: smsSignature,
  /** Words this tenant's templates may not contain, on top of the built-in list. */
  bannedWords: bannedWordList,
  /** The provider that sends this tenant's messages: it decides how parts are counted and priced. */
  provider: smsProviderId,
  /** The tenant's contract rate per part, by provider; a provider left out costs the list price. */
  partPrices: partPriceOverrides,
  /** When marketing may leave, on the recipient's wall clock (their zone, else `timeZone`). */
  sendWindow,
  /** Rolling caps on the marketing messages one member receives, shared by all campaigns. */
  frequencyCaps,
  /** At most this many marketing messages per calendar day in the member's time zone. */
  dailyMax,
  /**
   * Where short links point (`https://s.example.com` → `https://s.example.com/l/<code>`), a
   * domain the merchant routes to qunfa's `/l/*`. Unset: the stack's own public URL.
   */
  linkDomain,
  /** Days a short link answers after its message was sent. */
  linkExpiryDays: z.number().int().min(1).max(365),
  /** Conversion attribution windows: after a click (5 days) or else a delivery (24 hours). */
  attribution: attributionWindows,
  /** The currency reports add revenue in; a purchase in another one counts without revenue. */
  currency: currencyCode,
};

export const tenantSettings = z.object({
  name: settingFields.name,
  timeZone: settingFields.timeZone.default('Asia/Shanghai'),
  defaultRegion: settingFields.defaultRegion.default('CN'),
  locale: settingFields.locale.default('zh-CN'),
  signature: settingFields.signature.exactOptional(),
  bannedWords: settingFields.bannedWords.default([]),
  provider: settingFields.provider.default('simulator'),
  partPrices: settingFields.partPrices.exactOptional(),
  sendWindow: settingFields.sendWindow.default(() => ({ ...defaultSendWindow })),
  frequencyCaps: settingFields.frequencyCaps.default(() => defaultFrequencyCaps.map((cap) => ({ ...cap }))),
  dailyMax: settingFields.dailyMax.default(defaultDailyMax),
  linkDomain: settingFields.linkDomain.exactOptional(),
  linkExpiryDays: settingFields.linkExpiryDays.default(defaultLinkExpiryDays),
  attribution: settingFields.attribution.default(() => ({ ...attributionDefaults })),
  currency: settingFields.currency.default('CNY'),
});
export type TenantSettings = z.infer<typeof tenantSettings>;

/** PATCH /tenant: the settings given change, the others stay; `null` removes an optional one. */
export const tenantSettingsPatch = z.strictObject({
  name: settingFields.name.exactOptional(),
  timeZone: settingFields.timeZone.exactOptional(),
  defaultRegion: settingFields.defaultRegion.exactOptional(),
  locale: settingFields.locale.exactOptional(),
  signature: settingFields.signature.nullable().exactOptional(),
  bannedWords: settingFields.bannedWords.exactOptional(),
  provider: settingFields.provider.exactOptional(),
  partPrices: settingFields.partPrices.nullable().exactOptional(),
  sendWindow: settingFields.sendWindow.exactOptional(),
  frequencyCaps: settingFields.frequencyCaps.exactOptional(),
  dailyMax: settingFields.dailyMax.exactOptional(),
  linkDomain: settingFields.linkDomain.nullable().exactOptional(),
  linkExpiryDays: settingFields.linkExpiryDays.exactOptional(),
  attribution: settingFields.attribution.exactOptional(),
  currency: settingFields.currency.exactOptional(),
});
export type TenantSettingsPatch = z.infer<typeof tenantSettingsPatch>;

export interface Tenant extends TenantSettings {
  readonly tenantId: TenantId;
  readonly createdAt: string;
}

/** `tenant` with `patch` applied. */
export function patchTenant({ tenant, patch }: { tenant: Tenant; patch: TenantSettingsPatch }): Tenant {
  const { signature, partPrices, linkDomain: domain, ...given } = patch;
  const {
    signature: currentSignature,
    partPrices: currentPrices,
    linkDomain: currentDomain,
    ...kept
  } = tenant;
  const nextSignature = signature === null ? undefined : (signature ?? currentSignature);
  const nextPrices = partPrices === null ? undefined : (partPrices ?? currentPrices);
  const nextDomain = domain === null ? undefined : (domain ?? currentDomain);
  return {
    ...kept,
    // Parsed with exactOptional: a setting not given is absent, never `undefined`.
    ...given,
    ...(nextSignature === undefined ? {} : { signature: nextSignature }),
    ...(nextPrices === undefined ? {} : { partPrices: nextPrices }),
    ...(nextDomain === undefined ? {} : { linkDomain: nextDomain }),
  };
}

/**
 * The signature the tenant's messages carry: the one set in its settings, else its name when
 * the name is a valid signature (2–20 characters, no brackets), else `undefined`, and then
 * templates cannot be saved or previewed until one is set. The name stands in so a new
 * tenant can start at once; a Chinese provider sends only the signature it approved, so a
 * tenant sending through one sets it.
 */
export function tenantSignature(tenant: Pick<Tenant, 'name' | 'signature'>): string | undefined {
  if (tenant.signature !== undefined) return tenant.signature;
  const fromName = smsSignature.safeParse(tenant.name);
  return fromName.success ? fromName.data : undefined;
}
