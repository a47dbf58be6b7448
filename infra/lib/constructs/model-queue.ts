import type { QueueDefinition } from '@qunfa/resources';
import { Duration, Tags } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { modelTag } from '../model-tags';

// A model queue and its dead-letter queue. A message that fails `maxReceiveCount` times is
// parked in the DLQ (and raises an alarm) instead of blocking or silently expiring.

export interface ModelQueueProps {
  readonly definition: QueueDefinition;
}

export class ModelQueue extends Construct {
  readonly definition: QueueDefinition;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, { definition }: ModelQueueProps) {
    super(scope, id);
    this.definition = definition;
    this.deadLetterQueue = new Queue(this, 'DeadLetter', {
      retentionPeriod: Duration.seconds(definition.deadLetter.retentionSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(definition.retentionSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: definition.deadLetter.maxReceiveCount,
      },
    });
    Tags.of(this.queue).add(modelTag.queue, definition.id);
    Tags.of(this.deadLetterQueue).add(modelTag.deadLetterQueue, definition.id);
  }
}
