import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  type AwsHttp,
  type AwsHttpOptions,
  AwsServiceError,
  createAwsHttp,
  processMetering,
} from './aws-http';

// DynamoDB's JSON API with the document client's conveniences: plain JavaScript values in,
// plain values out (numbers, strings, booleans, lists, maps, string sets), marshalled by the
// SDK's own util-dynamodb. The command classes carry the names and input shapes of
// @aws-sdk/lib-dynamodb, so the stores read as they would with the SDK.

export type Doc = Record<string, unknown>;
type Wire = Parameters<typeof unmarshall>[0];
/** An item to write: any object, typed records included. */
export type ItemInput = object;

interface ExpressionParts {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Doc;
}
type ReturnValues = 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';
type ReturnValuesOnConditionCheckFailure = 'ALL_OLD' | 'NONE';

export interface GetCommandInput {
  TableName: string;
  Key: Doc;
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
}
export interface PutCommandInput extends ExpressionParts {
  TableName: string;
  Item: ItemInput;
  ReturnValues?: ReturnValues;
  ReturnValuesOnConditionCheckFailure?: ReturnValuesOnConditionCheckFailure;
}
export interface UpdateCommandInput extends ExpressionParts {
  TableName: string;
  Key: Doc;
  UpdateExpression?: string;
  ReturnValues?: ReturnValues;
  ReturnValuesOnConditionCheckFailure?: ReturnValuesOnConditionCheckFailure;
}
export interface DeleteCommandInput extends ExpressionParts {
  TableName: string;
  Key: Doc;
  ReturnValues?: ReturnValues;
  ReturnValuesOnConditionCheckFailure?: ReturnValuesOnConditionCheckFailure;
}
export interface QueryCommandInput {
  TableName: string;
  IndexName?: string;
  KeyConditionExpression: string;
  FilterExpression?: string;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Doc;
  ExclusiveStartKey?: Doc | undefined;
  Limit?: number;
  ScanIndexForward?: boolean;
  ConsistentRead?: boolean;
  Select?: 'ALL_ATTRIBUTES' | 'ALL_PROJECTED_ATTRIBUTES' | 'SPECIFIC_ATTRIBUTES' | 'COUNT';
}
export interface ScanCommandInput {
  TableName: string;
  IndexName?: string;
  FilterExpression?: string;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Doc;
  ExclusiveStartKey?: Doc | undefined;
  Limit?: number;
  Segment?: number;
  TotalSegments?: number;
  ConsistentRead?: boolean;
}
export type TransactWriteItem =
  | { Put: ExpressionParts & { TableName: string; Item: ItemInput } & FailureReturn }
  | { Update: ExpressionParts & { TableName: string; Key: Doc; UpdateExpression: string } & FailureReturn }
  | { Delete: ExpressionParts & { TableName: string; Key: Doc } & FailureReturn }
  | {
      ConditionCheck: ExpressionParts & {
        TableName: string;
        Key: Doc;
        ConditionExpression: string;
      } & FailureReturn;
    };
interface FailureReturn {
  ReturnValuesOnConditionCheckFailure?: ReturnValuesOnConditionCheckFailure;
}
export interface TransactWriteCommandInput {
  TransactItems: TransactWriteItem[];
  ClientRequestToken?: string;
}
export type WriteRequest = { PutRequest: { Item: ItemInput } } | { DeleteRequest: { Key: Doc } };
export interface BatchWriteCommandInput {
  RequestItems: Record<string, WriteRequest[]>;
}
export interface KeysAndAttributes {
  Keys: Doc[];
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ConsistentRead?: boolean;
}
export interface BatchGetCommandInput {
  RequestItems: Record<string, KeysAndAttributes>;
}

export interface ConsumedCapacity {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}
interface Consumed {
  ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[];
}
export interface GetCommandOutput extends Consumed {
  Item?: Doc;
}
export interface PutCommandOutput extends Consumed {
  Attributes?: Doc;
}
export type UpdateCommandOutput = PutCommandOutput;
export type DeleteCommandOutput = PutCommandOutput;
export interface QueryCommandOutput extends Consumed {
  Items?: Doc[];
  Count?: number;
  ScannedCount?: number;
  LastEvaluatedKey?: Doc;
}
export type ScanCommandOutput = QueryCommandOutput;
export type TransactWriteCommandOutput = Consumed;
export interface BatchWriteCommandOutput extends Consumed {
  UnprocessedItems?: Record<string, WriteRequest[]>;
}
export interface BatchGetCommandOutput extends Consumed {
  Responses?: Record<string, Doc[]>;
  UnprocessedKeys?: Record<string, KeysAndAttributes>;
}

/** One DynamoDB operation: its name and input; `Output` only types what `send` resolves to. */
export abstract class DynamoCommand<Input, Output> {
  abstract readonly operation: string;
  declare readonly output?: Output;
  constructor(readonly input: Input) {}
}
export class GetCommand extends DynamoCommand<GetCommandInput, GetCommandOutput> {
  readonly operation = 'GetItem';
}
export class PutCommand extends DynamoCommand<PutCommandInput, PutCommandOutput> {
  readonly operation = 'PutItem';
}
export class UpdateCommand extends DynamoCommand<UpdateCommandInput, UpdateCommandOutput> {
  readonly operation = 'UpdateItem';
}
export class DeleteCommand extends DynamoCommand<DeleteCommandInput, DeleteCommandOutput> {
  readonly operation = 'DeleteItem';
}
export class QueryCommand extends DynamoCommand<QueryCommandInput, QueryCommandOutput> {
  readonly operation = 'Query';
}
export class ScanCommand extends DynamoCommand<ScanCommandInput, ScanCommandOutput> {
  readonly operation = 'Scan';
}
export class TransactWriteCommand extends DynamoCommand<
  TransactWriteCommandInput,
  TransactWriteCommandOutput
> {
  readonly operation = 'TransactWriteItems';
}
export class BatchWriteCommand extends DynamoCommand<BatchWriteCommandInput, BatchWriteCommandOutput> {
  readonly operation = 'BatchWriteItem';
}
export class BatchGetCommand extends DynamoCommand<BatchGetCommandInput, BatchGetCommandOutput> {
  readonly operation = 'BatchGetItem';
}

/** The condition of a put, update or delete was false; `Item` is the item when asked for. */
export class ConditionalCheckFailedException extends AwsServiceError {
  readonly Item: Doc | undefined;
  constructor(error: AwsServiceError) {
    super(error);
    this.Item = unmarshallOptional(error.details.Item);
  }
}

export interface CancellationReason {
  Code?: string;
  Message?: string;
  Item?: Doc;
}

/** A transaction was cancelled; `CancellationReasons` has one entry per item, in order. */
export class TransactionCanceledException extends AwsServiceError {
  readonly CancellationReasons: CancellationReason[];
  constructor(error: AwsServiceError) {
    super(error);
    const reasons = Array.isArray(error.details.CancellationReasons) ? error.details.CancellationReasons : [];
    this.CancellationReasons = reasons.map((reason: Record<string, unknown>) => ({
      ...(typeof reason.Code === 'string' ? { Code: reason.Code } : {}),
      ...(typeof reason.Message === 'string' ? { Message: reason.Message } : {}),
      ...(reason.Item ? { Item: unmarshall(reason.Item as Wire) } : {}),
    }));
  }
}

export type DocumentClientOptions = Omit<AwsHttpOptions, 'service'>;

export class DocumentClient {
  readonly #http: AwsHttp;

  constructor(options: DocumentClientOptions = {}) {
    this.#http = createAwsHttp({ ...options, service: 'dynamodb' });
  }

  get endpoint(): string {
    return this.#http.endpoint;
  }

  async send<Input, Output>(command: DynamoCommand<Input, Output>): Promise<Output> {
    const body = toWire(command.input as Doc);
    if (processMetering.returnConsumedCapacity) {
      body.ReturnConsumedCapacity = 'TOTAL';
    }
    let answer: Doc;
    try {
      answer = await this.#http.callJson(
        'DynamoDB_20120810',
        command.operation,
        JSON.stringify(body, binaryAsBase64),
      );
    } catch (error) {
      throw namedError(error);
    }
    return fromWire(answer) as Output;
  }
}

function namedError(error: unknown): unknown {
  if (!(error instanceof AwsServiceError)) return error;
  if (error.name === 'ConditionalCheckFailedException') return new ConditionalCheckFailedException(error);
  if (error.name === 'TransactionCanceledException') return new TransactionCanceledException(error);
  return error;
}

const marshallOptions = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;
const toAttributes = (doc: object): Wire => marshall(doc, marshallOptions) as Wire;
const fromAttributes = (wire: Wire): Doc => unmarshall(decodeBinary(wire) as Wire);

/** Binary attributes travel as base64 in DynamoDB's JSON. */
function binaryAsBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `this[key]` is the value before toJSON: a Buffer has already become {type, data} in `value`.
  const original = this[key];
  return original instanceof Uint8Array ? Buffer.from(original).toString('base64') : value;
}

function decodeBinary(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeBinary);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'B' && typeof inner === 'string') out[key] = new Uint8Array(Buffer.from(inner, 'base64'));
    else if (key === 'BS' && Array.isArray(inner))
      out[key] = inner.map((item: string) => new Uint8Array(Buffer.from(item, 'base64')));
    else out[key] = decodeBinary(inner);
  }
  return out;
}

function unmarshallOptional(value: unknown): Doc | undefined {
  return value && typeof value === 'object' ? fromAttributes(value as Wire) : undefined;
}

/** Every place of a request that holds items, keys or values, marshalled; the rest as is. */
function toWire(input: Doc): Doc {
  const out: Doc = {};
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    out[name] = toWireField(name, value);
  }
  return out;
}

function toWireField(name: string, value: unknown): unknown {
  switch (name) {
    case 'Key':
    case 'Item':
    case 'ExclusiveStartKey':
    case 'ExpressionAttributeValues':
      return toAttributes(value as Doc);
    case 'TransactItems':
      return (value as Doc[]).map((item) =>
        Object.fromEntries(Object.entries(item).map(([kind, part]) => [kind, toWire(part as Doc)])),
      );
    case 'RequestItems':
      return Object.fromEntries(
        Object.entries(value as Doc).map(([table, requests]) => [
          table,
          Array.isArray(requests)
            ? requests.map(writeRequestToWire)
            : toKeysWire(requests as KeysAndAttributes),
        ]),
      );
    default:
      return value;
  }
}

function writeRequestToWire(request: WriteRequest): unknown {
  return 'PutRequest' in request
    ? { PutRequest: { Item: toAttributes(request.PutRequest.Item) } }
    : { DeleteRequest: { Key: toAttributes(request.DeleteRequest.Key) } };
}

function toKeysWire({ Keys, ...rest }: KeysAndAttributes): unknown {
  return { ...rest, Keys: Keys.map(toAttributes) };
}

/** The answer with every item, key and attribute map unmarshalled. */
function fromWire(output: Doc): Doc {
  const out: Doc = { ...output };
  for (const name of ['Item', 'Attributes', 'LastEvaluatedKey'] as const) {
    if (output[name]) out[name] = fromAttributes(output[name] as Wire);
  }
  if (Array.isArray(output.Items)) out.Items = (output.Items as Wire[]).map(fromAttributes);
  if (output.Responses) {
    out.Responses = Object.fromEntries(
      Object.entries(output.Responses as Record<string, Wire[]>).map(([table, items]) => [
        table,
        items.map(fromAttributes),
      ]),
    );
  }
  if (output.UnprocessedItems) {
    out.UnprocessedItems = Object.fromEntries(
      Object.entries(output.UnprocessedItems as Record<string, Doc[]>).map(([table, requests]) => [
        table,
        requests.map((request) =>
          'PutRequest' in request
            ? { PutRequest: { Item: fromAttributes((request.PutRequest as { Item: Wire }).Item) } }
            : { DeleteRequest: { Key: fromAttributes((request.DeleteRequest as { Key: Wire }).Key) } },
        ),
      ]),
    );
  }
  if (output.UnprocessedKeys) {
    out.UnprocessedKeys = Object.fromEntries(
      Object.entries(output.UnprocessedKeys as Record<string, { Keys: Wire[] } & Doc>).map(
        ([table, keys]) => [table, { ...keys, Keys: keys.Keys.map(fromAttributes) }],
      ),
    );
  }
  return out;
}
