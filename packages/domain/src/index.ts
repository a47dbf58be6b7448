// The pure domain of qunfa: members, segments, templates, campaigns, compliance, receipts,
// metrics, tenancy. No AWS import, no clock or randomness it does not receive.

export * from './members/member';
export * from './privacy/mask';
export * from './queues/messages';
export * from './scheduling/scheduler';
export * from './shared/errors';
export * from './shared/ids';
export * from './shared/problems';
export * from './shared/time-zones';
export * from './tenancy/api-keys';
export * from './tenancy/roles';
export * from './tenancy/store';
export * from './tenancy/tenant';
export * from './tenancy/use-cases';
