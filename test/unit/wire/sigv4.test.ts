import { signRequest } from '@qunfa/aws';
import { AwsV4Signer } from 'aws4fetch';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// qunfa signs its DynamoDB, SQS and Scheduler calls itself (packages/aws/src/wire/sigv4.ts).
// A wrong signature fails only against real AWS, which no test reaches: so the signer is held
// to the AWS documentation's worked example and to a well-known implementation.

const documented = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  service: 'iam',
};

describe('signRequest', () => {
  it("gives the AWS documentation's signature for its IAM ListUsers example", () => {
    const headers = signRequest(
      {
        method: 'GET',
        url: new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08'),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: '',
      },
      documented,
      new Date('2015-08-30T12:36:00Z'),
    );

    expect(headers).toEqual({
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    });
  });

  it('signs as aws4fetch does, for any method, path, query, body, region and session token', async () => {
    const segment = fc.stringMatching(/^[\w.~ %@:+=-]{1,12}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
          path: fc.array(segment, { maxLength: 3 }),
          query: fc.dictionary(fc.stringMatching(/^[A-Za-z]{1,8}$/), segment, { maxKeys: 3 }),
          body: fc.string({ maxLength: 200 }),
          region: fc.constantFrom('us-east-1', 'cn-north-1', 'ap-southeast-1'),
          service: fc.constantFrom('dynamodb', 'sqs', 'scheduler'),
          sessionToken: fc.option(fc.base64String({ minLength: 4, maxLength: 40 }), { nil: undefined }),
          port: fc.option(fc.integer({ min: 1024, max: 65535 }), { nil: undefined }),
        }),
        async ({ method, path, query, body, region, service, sessionToken, port }) => {
          const url = new URL(`http://127.0.0.1${port ? `:${port}` : ''}/`);
          url.pathname = `/${path.map(encodeURIComponent).join('/')}`;
          for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
          const now = new Date('2026-11-23T10:20:30Z');
          const identity = {
            accessKeyId: 'AKID',
            secretAccessKey: 'secret/key+',
            region,
            service,
          };
          const requestHeaders = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'Svc.Op' };

          const ours = signRequest(
            { method, url, headers: requestHeaders, body },
            { ...identity, sessionToken },
            now,
          );
          const reference = await new AwsV4Signer({
            method,
            url: url.toString(),
            headers: requestHeaders,
            body,
            ...identity,
            ...(sessionToken === undefined ? {} : { sessionToken }),
            datetime: '20261123T102030Z',
            allHeaders: true,
          }).sign();

          expect(ours.authorization).toBe(reference.headers.get('authorization'));
        },
      ),
      { numRuns: 200 },
    );
  });
});
