// Templates: what a merchant writes, checked when saved (variables, signature, opt-out, banned
// words, provider binding), compiled once into a fast renderer, measured in SMS parts and
// priced. Pure: the caller stores templates and resolves audiences.

export * from './banned-words';
export * from './compile';
export * from './compliance';
export * from './encoding';
export * from './formats';
export * from './preview';
export * from './pricing';
export * from './starter';
export * from './syntax';
export * from './template';
export * from './variables';
