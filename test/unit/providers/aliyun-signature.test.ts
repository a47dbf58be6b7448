import { aliyunSignature, canonicalQuery, percentEncode, stringToSign } from '@qunfa/providers';
import { describe, expect, it } from 'vitest';

// The worked examples of Alibaba Cloud's documentation: if these drift, every call answers
// SignatureDoesNotMatch and nothing local would notice.

describe('Aliyun RPC signature v1', () => {
  it('reproduces the documented RPC example (ECS DescribeRegions, secret "testsecret")', () => {
    const params = {
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      Format: 'XML',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      SignatureVersion: '1.0',
      Timestamp: '2016-02-23T12:46:24Z',
      Version: '2014-05-26',
    };

    expect(stringToSign({ method: 'GET', params })).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML' +
        '%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf' +
        '%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
    expect(aliyunSignature({ method: 'GET', params, accessKeySecret: 'testsecret' })).toBe(
      'OLeaidS1JvxuMvnyHOwuJ+uX5qY=',
    );
  });

  it('reproduces the documented SMS example (SendSms with a Chinese signature, secret "testSecret")', () => {
    // Deliberately out of order: the signature sorts them.
    const params = {
      TemplateParam: '{"customer":"test"}',
      SignName: '阿里云短信测试专用',
      AccessKeyId: 'testId',
      Action: 'SendSms',
      Format: 'XML',
      OutId: '123',
      PhoneNumbers: '15300000001',
      RegionId: 'cn-hangzhou',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '45e25e9b-0a6f-4070-8c85-2956eda1b466',
      SignatureVersion: '1.0',
      TemplateCode: 'SMS_71390007',
      Timestamp: '2017-07-12T02:42:19Z',
      Version: '2017-05-25',
    };

    expect(canonicalQuery(params)).toBe(
      'AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou' +
        '&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8' +
        '&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0' +
        '&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D' +
        '&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25',
    );
    expect(aliyunSignature({ method: 'GET', params, accessKeySecret: 'testSecret' })).toBe(
      'zJDF+Lrzhj/ThnlvIToysFRq6t4=',
    );
  });

  it('leaves only A-Z a-z 0-9 - _ . ~ unencoded', () => {
    expect(percentEncode("a!b'c(d)e*f ~-_.")).toBe('a%21b%27c%28d%29e%2Af%20~-_.');
    expect(percentEncode('/')).toBe('%2F');
  });

  it('never signs the Signature parameter itself', () => {
    const params = { Action: 'SendSms', Version: '2017-05-25' };

    expect(canonicalQuery({ ...params, Signature: 'abc' })).toBe(canonicalQuery(params));
  });
});
