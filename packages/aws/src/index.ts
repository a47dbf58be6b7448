// AWS adapters: DynamoDB repositories, SQS, EventBridge Scheduler, the masked logger and
// the one config module. Built once per cold start and injected into the domain.

export * from './callbacks';
export * from './campaigns';
export * from './config';
export * from './dynamo/client';
export * from './dynamo/engagement-store';
export * from './dynamo/frequency-cap-store';
export * from './dynamo/import-part-store';
export * from './dynamo/member-store';
export * from './dynamo/message-store';
export * from './dynamo/opt-out-store';
export * from './dynamo/rate-limiter';
export * from './dynamo/record-store';
export * from './dynamo/run-budget';
export * from './dynamo/tenant-store';
export * from './links';
export * from './logging/logger';
export * from './members';
export * from './receipts';
export * from './scheduler/cron';
export * from './scheduler/event-bridge-scheduler';
export * from './sender';
export * from './sqs/queue-handler';
export * from './sqs/send';
export * from './templates';
export * from './tenancy';
export * from './wire/aws-http';
export * from './wire/dynamodb';
export * from './wire/scheduler';
export * from './wire/sigv4';
export * from './wire/sqs';
