// The local stack: DynamoDB Local, SQS (fauxqs), the scheduler and SMS provider simulator,
// queue pollers and an HTTP gateway that run the Lambda handlers on one machine, all built
// from @qunfa/resources. `npm start` runs main.ts; tests start the parts they need.

export * from './clock';
export * from './dynamo';
export * from './environment';
export * from './errors';
export * from './gateway';
export * from './health';
export * from './killable';
export * from './lambda';
export * from './log';
export * from './names';
export * from './paths';
export * from './pollers';
export * from './ports';
export * from './scheduler';
export * from './simulator';
export * from './sqs';
export * from './stack';
