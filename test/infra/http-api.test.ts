import { functionIds, httpRoutes, stackOutputs } from '@qunfa/resources';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { functionResource, type Synthesized, synth } from './support';

const routeProperties = z.looseObject({
  RouteKey: z.string(),
  Target: z.object({
    'Fn::Join': z.tuple([
      z.literal(''),
      z.tuple([z.literal('integrations/'), z.object({ Ref: z.string() })]),
    ]),
  }),
});
const integrationProperties = z.looseObject({
  IntegrationType: z.string(),
  PayloadFormatVersion: z.string(),
  IntegrationUri: z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) }),
});

/** Route key → { function logical id, integration } as the template wires them. */
function routes({ statelessJson }: Synthesized): Map<string, z.infer<typeof integrationProperties>> {
  const wired = new Map<string, z.infer<typeof integrationProperties>>();
  for (const resource of Object.values(statelessJson.Resources)) {
    if (resource.Type !== 'AWS::ApiGatewayV2::Route') continue;
    const route = routeProperties.parse(resource.Properties);
    const integration = statelessJson.Resources[route.Target['Fn::Join'][1][1].Ref];
    wired.set(route.RouteKey, integrationProperties.parse(integration?.Properties));
  }
  return wired;
}

const routeKey = (path: string): string => (path === '$default' ? path : `ANY ${path}`);

describe('HTTP API', () => {
  it.each(httpRoutes)(
    'routes $path to the $functionId function with payload format 2.0',
    ({ path, functionId }) => {
      const dev = synth('dev');

      const integration = routes(dev).get(routeKey(path));

      expect(integration).toEqual({
        ApiId: expect.anything(),
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [functionResource(dev, functionId).logicalId, 'Arn'] },
      });
    },
  );

  it('has exactly the model routes', () => {
    expect([...routes(synth('dev')).keys()].sort()).toEqual([
      '$default',
      'ANY /callbacks/{proxy+}',
      'ANY /campaigns',
      'ANY /campaigns/{campaignId}/test-send',
      'ANY /campaigns/{proxy+}',
      'ANY /events',
      'ANY /l/{code}',
      'ANY /templates',
      'ANY /templates/{proxy+}',
    ]);
  });

  it('routes test sends to the tester function, the rest of /campaigns to the planner', () => {
    const dev = synth('dev');

    expect(routes(dev).get('ANY /campaigns/{campaignId}/test-send')?.IntegrationUri['Fn::GetAtt'][0]).toBe(
      functionResource(dev, 'tester').logicalId,
    );
    expect(routes(dev).get('ANY /campaigns/{proxy+}')?.IntegrationUri['Fn::GetAtt'][0]).toBe(
      functionResource(dev, 'planner').logicalId,
    );
  });

  it('routes provider callbacks to the callbacks function', () => {
    const dev = synth('dev');

    expect(routes(dev).get('ANY /callbacks/{proxy+}')?.IntegrationUri['Fn::GetAtt'][0]).toBe(
      functionResource(dev, 'callbacks').logicalId,
    );
  });

  it.each([...new Set(httpRoutes.map((route) => route.functionId))])(
    'lets API Gateway invoke the %s function',
    (functionId) => {
      const dev = synth('dev');

      dev.stateless.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [functionResource(dev, functionId).logicalId, 'Arn'] },
      });
    },
  );

  it('exposes no function that serves no route', () => {
    const dev = synth('dev');
    const routed = new Set<string>(httpRoutes.map((route) => route.functionId));

    const invokable = Object.values(dev.stateless.findResources('AWS::Lambda::Permission')).map(
      (permission) => JSON.stringify(permission.Properties.FunctionName),
    );

    for (const functionId of functionIds.filter((id) => !routed.has(id))) {
      const arn = JSON.stringify({ 'Fn::GetAtt': [functionResource(dev, functionId).logicalId, 'Arn'] });
      expect(invokable).not.toContain(arn);
    }
  });

  it('throttles merchant calls at 500/s and lets callbacks through at 5,000/s', () => {
    synth('dev').stateless.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      RouteSettings: {
        'ANY /callbacks/{proxy+}': { throttlingRateLimit: 5000, throttlingBurstLimit: 5000 },
      },
    });
    synth('dev').stateless.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
  });

  it('answers no CORS preflight unless origins are configured', () => {
    synth('dev').stateless.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.absent(),
    });

    const withCors = synth('dev', { corsAllowOrigins: ['https://admin.example.com'] });

    withCors.stateless.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://admin.example.com'],
        AllowHeaders: ['authorization', 'content-type'],
        AllowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        MaxAge: 3600,
      },
    });
  });

  it('publishes its URL as an output for the admin CLI', () => {
    const { stateless, statelessJson } = synth('dev');
    const [apiId] = Object.keys(statelessJson.Resources).filter(
      (id) => statelessJson.Resources[id]?.Type === 'AWS::ApiGatewayV2::Api',
    );

    stateless.hasOutput(stackOutputs.apiUrl, {
      Value: {
        'Fn::Join': [
          '',
          [
            'https://',
            { Ref: apiId },
            '.execute-api.',
            { Ref: 'AWS::Region' },
            '.',
            { Ref: 'AWS::URLSuffix' },
            '/',
          ],
        ],
      },
    });
  });
});
