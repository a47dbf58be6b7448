import * as z from 'zod';
import { ianaTimeZone } from '../shared/time-zones';

/** A merchant. Lower-case letters, digits and inner dashes: it starts every key in every table. */
export const tenantId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/,
    '3–40 lower-case letters, digits or dashes, not starting or ending with a dash',
  );
export type TenantId = z.infer<typeof tenantId>;

export const tenantSettings = z.object({
  name: z.string().trim().min(1).max(100),
  /** Quiet hours, birthdays and daily caps are read in this zone unless a member has their own. */
  timeZone: ianaTimeZone.default('Asia/Shanghai'),
  /** ISO 3166 region used to read phone numbers written without a country code. */
  defaultRegion: z
    .string()
    .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 region such as CN')
    .default('CN'),
  locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
});
export type TenantSettings = z.infer<typeof tenantSettings>;

export interface Tenant extends TenantSettings {
  readonly tenantId: TenantId;
  readonly createdAt: string;
}
