// The parts of @qunfa/domain these specifications exercise, imported from their modules so
// the segment specs load (and fail) on their own, whatever else the package is importing.
export * from '../../../packages/domain/src/compliance/suppression';
export * from '../../../packages/domain/src/members/member';
export * from '../../../packages/domain/src/privacy/mask';
export * from '../../../packages/domain/src/segments';
export * from '../../../packages/domain/src/shared/errors';
export * from '../../../packages/domain/src/shared/time-zones';
