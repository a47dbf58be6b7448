import {
  ConditionalCheckFailedException,
  DocumentClient,
  GetCommand,
  SendMessageCommand,
  SqsClient,
  TransactionCanceledException,
  TransactWriteCommand,
  UpdateCommand,
} from '@qunfa/aws';
import { describe, expect, it } from 'vitest';
import { failure, fakeAws } from '../../support/fake-aws';

// The wire clients' own behaviour: what goes on the wire, what comes back, which failures are
// retried. Marshalling of every store's items is proven on DynamoDB Local (test/integration).

const credentials = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
const documentClient = (aws: ReturnType<typeof fakeAws>, maxAttempts = 3) =>
  new DocumentClient({
    region: 'cn-north-1',
    endpoint: 'http://dynamo.test',
    credentials,
    fetch: aws.fetch,
    maxAttempts,
  });

describe('DocumentClient', () => {
  it('sends plain values marshalled and answers them unmarshalled', async () => {
    const aws = fakeAws().on('GetItem', {
      Item: { pk: { S: 'T#1' }, n: { N: '42' }, tags: { SS: ['a', 'b'] } },
    });

    const { Item } = await documentClient(aws).send(
      new GetCommand({ TableName: 't', Key: { pk: 'T#1', sk: 7 } }),
    );

    expect(aws.calls('GetItem').map((call) => call.input)).toEqual([
      { TableName: 't', Key: { pk: { S: 'T#1' }, sk: { N: '7' } } },
    ]);
    expect(Item).toEqual({ pk: 'T#1', n: 42, tags: new Set(['a', 'b']) });
  });

  it('retries throttling and server errors, and then succeeds', async () => {
    const aws = fakeAws().on(
      'UpdateItem',
      failure(400, 'ProvisionedThroughputExceededException'),
      failure(503, 'ServiceUnavailable'),
      { Attributes: { n: { N: '1' } } },
    );

    const { Attributes } = await documentClient(aws).send(
      new UpdateCommand({
        TableName: 't',
        Key: { pk: 'a' },
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );

    expect(Attributes).toEqual({ n: 1 });
    expect(aws.calls('UpdateItem')).toHaveLength(3);
  });

  it('gives up after the last attempt with the service error', async () => {
    const aws = fakeAws().on('GetItem', failure(400, 'ThrottlingException', 'Rate exceeded'));

    await expect(
      documentClient(aws, 2).send(new GetCommand({ TableName: 't', Key: { pk: 'a' } })),
    ).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      status: 400,
    });
    expect(aws.calls('GetItem')).toHaveLength(2);
  });

  it('never retries a failed condition, and names it as the SDK does, with the item', async () => {
    const aws = fakeAws().on('UpdateItem', failure(400, 'ConditionalCheckFailedException'));
    const refused = await documentClient(aws)
      .send(
        new UpdateCommand({
          TableName: 't',
          Key: { pk: 'a' },
          UpdateExpression: 'SET x = :x',
          ExpressionAttributeValues: { ':x': 1 },
        }),
      )
      .catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(ConditionalCheckFailedException);
    expect(aws.calls('UpdateItem')).toHaveLength(1);
  });

  it('answers a cancelled transaction with each item’s reason, in order', async () => {
    const client = new DocumentClient({
      endpoint: 'http://dynamo.test',
      credentials,
      fetch: async () =>
        new Response(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
            Message: 'Transaction cancelled',
            CancellationReasons: [
              { Code: 'None' },
              { Code: 'ConditionalCheckFailed', Item: { v: { N: '3' } } },
            ],
          }),
          { status: 400 },
        ),
    });

    const cancelled = await client
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: 't', Item: { pk: 'a' } } },
            { Put: { TableName: 't', Item: { pk: 'b' }, ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      )
      .catch((error: unknown) => error);

    expect(cancelled).toBeInstanceOf(TransactionCanceledException);
    expect((cancelled as TransactionCanceledException).CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Item: { v: 3 } },
    ]);
  });

  it('signs with the region and service it calls', async () => {
    let authorization = '';
    const client = new DocumentClient({
      region: 'cn-north-1',
      endpoint: 'http://dynamo.test',
      credentials: { ...credentials, sessionToken: 'TOKEN' },
      fetch: async (_url, init) => {
        const headers = new Headers(init?.headers);
        authorization = headers.get('authorization') ?? '';
        expect(headers.get('x-amz-security-token')).toBe('TOKEN');
        return new Response('{}');
      },
    });

    await client.send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }));

    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/cn-north-1\/dynamodb\/aws4_request, /,
    );
    expect(authorization).toContain(
      'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target',
    );
  });

  it('refuses to call without credentials, naming the variables', async () => {
    const client = new DocumentClient({ endpoint: 'http://dynamo.test', env: {}, fetch: fakeAws().fetch });

    await expect(client.send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }))).rejects.toThrow(
      /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
  });
});

describe('SqsClient', () => {
  it('speaks the JSON protocol to the endpoint of AWS_ENDPOINT_URL_SQS', async () => {
    const urls: string[] = [];
    const aws = fakeAws().on('SendMessage', { MessageId: 'm-1' });
    const client = new SqsClient({
      env: {
        AWS_ENDPOINT_URL_SQS: 'http://sqs.test:9324',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
      },
      fetch: (url, init) => {
        urls.push(String(url));
        return aws.fetch(url, init);
      },
    });

    await expect(
      client.send(new SendMessageCommand({ QueueUrl: 'http://sqs.test:9324/000/q', MessageBody: '{}' })),
    ).resolves.toEqual({ MessageId: 'm-1' });
    expect(urls).toEqual(['http://sqs.test:9324/']);
    expect(aws.calls('SendMessage')[0]?.input).toEqual({
      QueueUrl: 'http://sqs.test:9324/000/q',
      MessageBody: '{}',
    });
  });
});
