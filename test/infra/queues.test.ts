import { functionIds, type QueueId, queueIds, queues, stackOutputs } from '@qunfa/resources';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { functionResource, queueResource, synth } from './support';

const queueProperties = z.looseObject({
  VisibilityTimeout: z.number(),
  MessageRetentionPeriod: z.number(),
  SqsManagedSseEnabled: z.literal(true),
  RedrivePolicy: z.object({
    deadLetterTargetArn: z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) }),
    maxReceiveCount: z.number(),
  }),
});

function eventSourceMappingOf(queueId: QueueId): unknown {
  const dev = synth('dev');
  const { logicalId } = queueResource(dev, queueId);
  const mappings = Object.values(dev.stateless.findResources('AWS::Lambda::EventSourceMapping')).filter(
    (mapping) =>
      JSON.stringify(mapping.Properties.EventSourceArn) ===
      JSON.stringify({ 'Fn::GetAtt': [logicalId, 'Arn'] }),
  );
  expect(mappings).toHaveLength(1);
  return mappings[0]?.Properties;
}

describe('queues', () => {
  describe.each(queueIds)('the %s queue', (queueId) => {
    const definition = queues[queueId];

    it('has the visibility timeout and retention of its model entry, encrypted by SQS', () => {
      const properties = queueProperties.parse(queueResource(synth('dev'), queueId).resource.Properties);

      expect(properties.VisibilityTimeout).toBe(definition.visibilityTimeoutSeconds);
      expect(properties.MessageRetentionPeriod).toBe(definition.retentionSeconds);
    });

    it('moves a message to its own DLQ after the model maxReceiveCount', () => {
      const dev = synth('dev');
      const properties = queueProperties.parse(queueResource(dev, queueId).resource.Properties);
      const deadLetter = queueResource(dev, queueId, 'deadLetterQueue');

      expect(properties.RedrivePolicy.maxReceiveCount).toBe(definition.deadLetter.maxReceiveCount);
      expect(properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]).toBe(deadLetter.logicalId);
      expect(deadLetter.resource.Properties).toMatchObject({
        MessageRetentionPeriod: definition.deadLetter.retentionSeconds,
        SqsManagedSseEnabled: true,
      });
    });

    it('refuses requests without TLS, on the queue and on its DLQ', () => {
      const dev = synth('dev');
      for (const { logicalId } of [
        queueResource(dev, queueId),
        queueResource(dev, queueId, 'deadLetterQueue'),
      ]) {
        dev.stateless.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: logicalId }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sqs:*',
                Principal: { AWS: '*' },
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });

    it('drives its consumer with the model batch settings and partial batch responses', () => {
      const { consumer } = definition;

      expect(eventSourceMappingOf(queueId)).toEqual({
        EventSourceArn: { 'Fn::GetAtt': [queueResource(synth('dev'), queueId).logicalId, 'Arn'] },
        FunctionName: { Ref: functionResource(synth('dev'), consumer.functionId).logicalId },
        BatchSize: consumer.batchSize,
        MaximumBatchingWindowInSeconds: consumer.maxBatchingWindowSeconds,
        ScalingConfig: { MaximumConcurrency: consumer.maxConcurrency },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        Tags: [{ Key: 'qunfa:function', Value: consumer.functionId }],
      });
    });

    it('hides a batch from other consumers for at least six times its consumer timeout', () => {
      const dev = synth('dev');
      const visibility = queueProperties.parse(
        queueResource(dev, queueId).resource.Properties,
      ).VisibilityTimeout;
      const timeout = z
        .looseObject({ Timeout: z.number() })
        .parse(functionResource(dev, definition.consumer.functionId).resource.Properties).Timeout;

      expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
    });
  });

  describe('concrete settings', () => {
    it('retries a send batch eight times before parking it', () => {
      const properties = queueProperties.parse(queueResource(synth('dev'), 'send').resource.Properties);

      expect(properties.RedrivePolicy.maxReceiveCount).toBe(8);
      expect(properties.VisibilityTimeout).toBe(360);
    });

    it('gathers receipt callbacks in batches of 10 for up to 1 second, 10 at a time', () => {
      expect(eventSourceMappingOf('receipt')).toMatchObject({
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 1,
        ScalingConfig: { MaximumConcurrency: 10 },
      });
    });

    it('creates four queues and four DLQs (start, send, receipt, import), one event source mapping each', () => {
      const { stateless } = synth('dev');

      stateless.resourceCountIs('AWS::SQS::Queue', 8);
      stateless.resourceCountIs('AWS::Lambda::EventSourceMapping', 4);
    });

    it('publishes every queue URL as an output for the admin CLI', () => {
      const dev = synth('dev');

      for (const queueId of queueIds) {
        dev.stateless.hasOutput(stackOutputs.queueUrl(queueId), {
          Value: { Ref: queueResource(dev, queueId).logicalId },
        });
      }
      expect(stackOutputs.queueUrl('send')).toBe('QueueUrlSend');
    });
  });
});

describe('alarms', () => {
  const topicOf = (): string => {
    const topics = Object.keys(synth('dev').stateless.findResources('AWS::SNS::Topic'));
    expect(topics).toHaveLength(1);
    return topics[0] ?? '';
  };

  it.each(queueIds)('raises an alarm as soon as one message sits in the %s DLQ', (queueId) => {
    const dev = synth('dev');
    const topic = topicOf();

    dev.stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [queueResource(dev, queueId, 'deadLetterQueue').logicalId, 'QueueName'] },
        },
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
      AlarmActions: [{ Ref: topic }],
    });
  });

  it.each(functionIds)('raises an alarm on any %s error within 5 minutes', (functionId) => {
    const dev = synth('dev');

    dev.stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionResource(dev, functionId).logicalId } }],
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [{ Ref: topicOf() }],
    });
  });

  it('has exactly one alarm per DLQ and per function', () => {
    synth('dev').stateless.resourceCountIs('AWS::CloudWatch::Alarm', queueIds.length + functionIds.length);
  });

  it('subscribes no one by default, and the alarmEmail by email when given', () => {
    synth('dev').stateless.resourceCountIs('AWS::SNS::Subscription', 0);

    const withEmail = synth('dev', { alarmEmail: 'ops@example.com' });

    withEmail.stateless.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('accepts only TLS on the alarm topic', () => {
    synth('dev').stateless.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});
