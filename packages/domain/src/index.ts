// The pure domain of qunfa: members, segments, templates, campaigns, compliance, receipts,
// metrics, tenancy. No AWS import, no clock or randomness it does not receive.

export * from './campaigns';
export * from './compliance/frequency-caps';
export * from './compliance/quiet-hours';
export * from './compliance/suppression';
export * from './members/audience';
export * from './members/changes';
export * from './members/identity';
export * from './members/import';
export * from './members/imports';
export * from './members/member';
export * from './members/phone';
export * from './members/store';
export * from './members/tag-jobs';
export * from './members/use-cases';
export * from './messages/assignment';
export * from './messages/record';
export * from './messages/segment-campaign';
export * from './messages/segmenter';
export * from './privacy/mask';
export * from './queues/messages';
export * from './scheduling/scheduler';
export * from './segments';
export * from './segments/use-cases';
export * from './sending';
export * from './shared/errors';
export * from './shared/ids';
export * from './shared/problems';
export * from './shared/records';
export * from './shared/time-zones';
export * from './templates';
export * from './tenancy/api-keys';
export * from './tenancy/roles';
export * from './tenancy/store';
export * from './tenancy/tenant';
export * from './tenancy/use-cases';
