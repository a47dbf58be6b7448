import { type AwsHttp, type AwsHttpOptions, createAwsHttp } from './aws-http';

// SQS's JSON protocol (awsJson1_0, as the SDK v3 speaks it) for the two calls the functions
// make. Receiving and deleting are the event source mapping's job, never a function's.

export interface SendMessageCommandInput {
  QueueUrl: string;
  MessageBody: string;
  DelaySeconds?: number;
}
export interface SendMessageCommandOutput {
  MessageId?: string;
}
export interface SendMessageBatchRequestEntry {
  Id: string;
  MessageBody: string;
  DelaySeconds?: number;
}
export interface SendMessageBatchCommandInput {
  QueueUrl: string;
  Entries: SendMessageBatchRequestEntry[];
}
export interface SendMessageBatchCommandOutput {
  Successful?: { Id: string; MessageId: string }[];
  Failed?: { Id: string; Code: string; SenderFault: boolean; Message?: string }[];
}

export abstract class SqsCommand<Input, Output> {
  abstract readonly operation: string;
  declare readonly output?: Output;
  constructor(readonly input: Input) {}
}
export class SendMessageCommand extends SqsCommand<SendMessageCommandInput, SendMessageCommandOutput> {
  readonly operation = 'SendMessage';
}
export class SendMessageBatchCommand extends SqsCommand<
  SendMessageBatchCommandInput,
  SendMessageBatchCommandOutput
> {
  readonly operation = 'SendMessageBatch';
}

export class SqsClient {
  readonly #http: AwsHttp;

  constructor(options: Omit<AwsHttpOptions, 'service'> = {}) {
    this.#http = createAwsHttp({ ...options, service: 'sqs' });
  }

  async send<Input, Output>(command: SqsCommand<Input, Output>): Promise<Output> {
    return (await this.#http.callJson(
      'AmazonSQS',
      command.operation,
      JSON.stringify(command.input),
    )) as Output;
  }
}
