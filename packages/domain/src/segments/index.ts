// The segment language: definitions (zod-validated JSON), presets, the compiler that turns a
// definition into a member predicate once, saved segments and the audience preview.

export * from './compile';
export * from './definition';
export * from './limits';
export * from './presets';
export * from './preview';
export * from './saved-segment';
