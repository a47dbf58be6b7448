import { randomUUID } from 'node:crypto';
import { type AwsHttp, type AwsHttpOptions, AwsServiceError, createAwsHttp } from './aws-http';

// EventBridge Scheduler's REST API (restJson1) for the four calls qunfa makes, with the paths
// and query parameters of the SDK's serializers: POST/PUT/GET/DELETE /schedules/{Name}.

export interface RetryPolicy {
  MaximumEventAgeInSeconds?: number;
  MaximumRetryAttempts?: number;
}
export interface ScheduleTarget {
  Arn: string;
  RoleArn: string;
  Input?: string;
  RetryPolicy?: RetryPolicy;
}
export interface CreateScheduleCommandInput {
  Name: string;
  GroupName?: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  ActionAfterCompletion?: 'DELETE' | 'NONE';
  State?: 'ENABLED' | 'DISABLED';
  FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  Target: ScheduleTarget;
  ClientToken?: string;
}
export type UpdateScheduleCommandInput = CreateScheduleCommandInput;
export interface NamedScheduleInput {
  Name: string;
  GroupName?: string;
}
export interface GetScheduleCommandOutput {
  Name?: string;
  GroupName?: string;
  ScheduleExpression?: string;
  ScheduleExpressionTimezone?: string;
  State?: string;
  Target?: ScheduleTarget;
}

interface RestRequest {
  readonly method: 'POST' | 'PUT' | 'GET' | 'DELETE';
  readonly name: string;
  readonly query?: Record<string, string | undefined>;
  readonly body?: Record<string, unknown>;
}

export abstract class SchedulerCommand<Input, Output> {
  abstract readonly operation: string;
  declare readonly output?: Output;
  constructor(readonly input: Input) {}
  abstract request(): RestRequest;
}

export class CreateScheduleCommand extends SchedulerCommand<
  CreateScheduleCommandInput,
  { ScheduleArn?: string }
> {
  readonly operation = 'CreateSchedule';
  request(): RestRequest {
    const { Name, ...body } = this.input;
    return { method: 'POST', name: Name, body: { ClientToken: randomUUID(), ...body } };
  }
}
export class UpdateScheduleCommand extends SchedulerCommand<
  UpdateScheduleCommandInput,
  { ScheduleArn?: string }
> {
  readonly operation = 'UpdateSchedule';
  request(): RestRequest {
    const { Name, ...body } = this.input;
    return { method: 'PUT', name: Name, body: { ClientToken: randomUUID(), ...body } };
  }
}
export class DeleteScheduleCommand extends SchedulerCommand<NamedScheduleInput, Record<string, never>> {
  readonly operation = 'DeleteSchedule';
  request(): RestRequest {
    return {
      method: 'DELETE',
      name: this.input.Name,
      query: { groupName: this.input.GroupName, clientToken: randomUUID() },
    };
  }
}
export class GetScheduleCommand extends SchedulerCommand<NamedScheduleInput, GetScheduleCommandOutput> {
  readonly operation = 'GetSchedule';
  request(): RestRequest {
    return { method: 'GET', name: this.input.Name, query: { groupName: this.input.GroupName } };
  }
}

/** The schedule exists already (CreateSchedule) or is being changed. */
export class ConflictException extends AwsServiceError {}
/** No such schedule (or group). */
export class ResourceNotFoundException extends AwsServiceError {}

export class SchedulerClient {
  readonly #http: AwsHttp;

  constructor(options: Omit<AwsHttpOptions, 'service'> = {}) {
    this.#http = createAwsHttp({ ...options, service: 'scheduler' });
  }

  async send<Input, Output>(command: SchedulerCommand<Input, Output>): Promise<Output> {
    const { method, name, query, body } = command.request();
    try {
      const { text } = await this.#http.call({
        operation: command.operation,
        method,
        path: `/schedules/${encodeURIComponent(name)}`,
        ...(query ? { query } : {}),
        ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      });
      return (text === '' ? {} : JSON.parse(text)) as Output;
    } catch (error) {
      if (error instanceof AwsServiceError && error.name === 'ConflictException')
        throw new ConflictException(error);
      if (error instanceof AwsServiceError && error.name === 'ResourceNotFoundException') {
        throw new ResourceNotFoundException(error);
      }
      throw error;
    }
  }
}
