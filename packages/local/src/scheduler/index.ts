// The local EventBridge Scheduler: the Scheduler API subset qunfa uses, on loopback, firing
// schedules into the local SQS queues.

export { InvalidExpressionError, nextOccurrence, parseScheduleExpression } from './expression';
export {
  type FiredSchedule,
  type LocalScheduler,
  type LocalSchedulerHealth,
  type LocalSchedulerOptions,
  startLocalScheduler,
  type UndeliveredInvocation,
} from './local-scheduler';
export { type MissedStart, StateFileError } from './state';
