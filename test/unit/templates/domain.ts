// The templates slice of the domain, imported by path so these specifications run on their
// own while the rest of @qunfa/domain changes around them.
export * from '../../../packages/domain/src/templates';
