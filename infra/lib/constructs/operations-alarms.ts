import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { ModelQueue } from './model-queue';
import type { QunfaFunction } from './qunfa-function';

// What wakes an operator: a message parked in a DLQ (a recipient batch or a receipt that will
// not be processed unless someone looks) and any function error. One topic receives them all.

export interface OperationsAlarmsProps {
  /** Subscribed to the alarm topic by email when given (context `alarmEmail`). */
  readonly alarmEmail?: string;
  readonly functionErrorPeriod: Duration;
}

export class OperationsAlarms extends Construct {
  readonly topic: Topic;
  readonly #action: SnsAction;
  readonly #functionErrorPeriod: Duration;

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', { displayName: 'qunfa alarms', enforceSSL: true });
    if (props.alarmEmail !== undefined) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    this.#action = new SnsAction(this.topic);
    this.#functionErrorPeriod = props.functionErrorPeriod;
  }

  /** Fires as soon as one message sits in the queue's DLQ. */
  watchDeadLetters(queue: ModelQueue, id: string): Alarm {
    const alarm = new Alarm(this, `${id}DeadLetters`, {
      alarmDescription: `Messages of the ${queue.definition.id} queue are in its dead-letter queue.`,
      metric: queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.#action);
    alarm.addOkAction(this.#action);
    return alarm;
  }

  /** Fires when the function reports any error within the period. */
  watchErrors(fn: QunfaFunction, id: string): Alarm {
    const alarm = new Alarm(this, `${id}Errors`, {
      alarmDescription: `The ${fn.definition.id} function reported errors.`,
      metric: fn.metricErrors({ period: this.#functionErrorPeriod, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.#action);
    alarm.addOkAction(this.#action);
    return alarm;
  }
}
