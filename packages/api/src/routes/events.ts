import { type ConversionDeps, conversionInput, recordConversion, type TenantStore } from '@qunfa/domain';
import { defineRoute, type Route } from '@qunfa/http';
import { requireTenant } from './tenant';

/** Conversions reported by the merchant's systems (POS, shop, CRM), attributed to a message. */
export function eventRoutes({
  conversions,
  tenants,
}: {
  conversions: ConversionDeps;
  tenants: TenantStore;
}): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/events',
      summary:
        'Reports a conversion (purchase with amount, signup, custom): attributed to the message the member last clicked (5 days) or else was delivered (24 hours). 201, or 200 for an eventId seen before, which counts once.',
      role: 'marketer',
      body: conversionInput,
      handle: async ({ principal, body }) => {
        const tenant = await requireTenant(tenants, principal.tenantId);
        const { created, conversion } = await recordConversion(conversions, { tenant, input: body });
        const { attribution, ...event } = conversion;
        return {
          status: created ? 201 : 200,
          body: { result: created ? 'recorded' : 'duplicate', ...event, attribution: attribution ?? null },
        };
      },
    }),
  ];
}
