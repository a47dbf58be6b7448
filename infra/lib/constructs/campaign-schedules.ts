import { scheduleEnv, scheduleGroup } from '@qunfa/resources';
import { Aws, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QunfaFunction } from './qunfa-function';

// EventBridge Scheduler for campaign starts: one schedule group per stage, and one role the
// scheduler assumes to drop a start message on the start queue, and nothing else.

export interface CampaignSchedulesProps {
  readonly stage: string;
  /** The model's `scheduleGroup.targetQueue`. */
  readonly target: IQueue;
  /** Deleting a schedule group deletes every schedule in it: prod keeps it. */
  readonly removalPolicy: RemovalPolicy;
}

export class CampaignSchedules extends Construct {
  /** `<model name>-<stage>`: two stages can share an account without sharing schedules. */
  readonly groupName: string;
  readonly group: CfnScheduleGroup;
  readonly role: Role;
  readonly target: IQueue;

  constructor(scope: Construct, id: string, props: CampaignSchedulesProps) {
    super(scope, id);
    this.groupName = `${scheduleGroup.name}-${props.stage}`;
    this.target = props.target;
    this.group = new CfnScheduleGroup(this, 'Group', { name: this.groupName });
    this.group.applyRemovalPolicy(props.removalPolicy);

    // Confused-deputy guard: only schedules of this account's group may use the role.
    this.role = new Role(this, 'Role', {
      description: `EventBridge Scheduler sends campaign starts of ${this.groupName} to the start queue.`,
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnEquals: { 'aws:SourceArn': this.group.attrArn },
        },
      }),
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.target.queueArn] }),
    );
  }

  /** Lets a function create, update, read and delete schedules in the group and pass the role. */
  grantManage(fn: QunfaFunction): void {
    const schedules = Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.groupName}/*`,
    });
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'scheduler:CreateSchedule',
          'scheduler:UpdateSchedule',
          'scheduler:DeleteSchedule',
          'scheduler:GetSchedule',
        ],
        resources: [schedules],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    fn.addEnvironment(scheduleEnv.group, this.groupName);
    fn.addEnvironment(scheduleEnv.roleArn, this.role.roleArn);
    fn.addEnvironment(scheduleEnv.targetArn, this.target.queueArn);
  }
}
