// Campaigns: the model a merchant writes (audience, content with A/B variants, schedule, send
// window, throttle, holdout, budget), the lifecycle as one transition table, runs (one per
// fire, keyed by scheduled time, missed rather than fired late) with their counters, budget
// reservations and progress, and the use cases the HTTP API and the segmenter call.

export * from './budget';
export * from './campaign';
export * from './counters';
export * from './cron';
export * from './lifecycle';
export * from './report';
export * from './report-use-cases';
export * from './runs';
export * from './schedule';
export * from './stats';
export * from './use-cases';
