import {
  type FunctionId,
  functionIds,
  functions,
  httpRoutes,
  publicUrlEnv,
  type QueueId,
  queueIds,
  queues,
  scheduleGroup,
  stackOutputs,
  type TableId,
  tableIds,
} from '@qunfa/resources';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import {
  CfnStage,
  CorsHttpMethod,
  type CorsPreflightOptions,
  HttpApi,
  HttpMethod,
  type HttpStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { CampaignSchedules } from './constructs/campaign-schedules';
import { ModelQueue } from './constructs/model-queue';
import { OperationsAlarms } from './constructs/operations-alarms';
import { bindQueueSender, bindTable, QunfaFunction } from './constructs/qunfa-function';
import { pascalCase, recordOf } from './records';
import type { StageSettings } from './stage';
import type { SharedTable } from './stateful-stack';

// Everything that can be redeployed at will: the queues, the functions, the HTTP API, the
// scheduler wiring and the alarms, all built by walking the resource model. The tables come
// in as typed props from the stateful stack.

export interface StatelessStackProps extends StackProps {
  readonly settings: StageSettings;
  readonly tables: Readonly<Record<TableId, SharedTable>>;
  /** Email subscribed to the alarm topic (context `alarmEmail`). */
  readonly alarmEmail?: string;
  /** Browser origins allowed to call the API (context `corsAllowOrigins`); none: no CORS. */
  readonly corsAllowOrigins?: readonly string[];
}

export class StatelessStack extends Stack {
  readonly queues: Readonly<Record<QueueId, ModelQueue>>;
  readonly functions: Readonly<Record<FunctionId, QunfaFunction>>;
  readonly schedules: CampaignSchedules;
  readonly api: HttpApi;
  readonly apiStage: HttpStage;
  readonly alarms: OperationsAlarms;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { settings } = props;

    this.queues = recordOf(
      queueIds,
      (queueId) => new ModelQueue(this, pascalCase(queueId), { definition: queues[queueId] }),
    );

    this.functions = recordOf(
      functionIds,
      (functionId) =>
        new QunfaFunction(this, `${pascalCase(functionId)}Function`, {
          definition: functions[functionId],
          stage: settings.stage,
          logRetention: settings.logRetention,
          logRemovalPolicy: settings.removalPolicy,
        }),
    );

    this.schedules = new CampaignSchedules(this, 'Schedules', {
      stage: settings.stage,
      target: this.queues[scheduleGroup.targetQueue].queue,
      removalPolicy: settings.removalPolicy,
    });

    // Least privilege, straight from the model: each table with its declared access, send
    // rights on the declared queues, the schedule group only where `schedules` is set.
    for (const functionId of functionIds) {
      const fn = this.functions[functionId];
      const definition = functions[functionId];
      for (const tableId of tableIds) {
        const access = definition.tables[tableId];
        if (access !== undefined) bindTable({ fn, tableId, table: props.tables[tableId], access });
      }
      for (const queueId of definition.sendsTo)
        bindQueueSender({ fn, queueId, queue: this.queues[queueId].queue });
      if (definition.schedules) this.schedules.grantManage(fn);
    }

    // Each queue drives its consumer; a failed record is retried alone (partial batch response).
    for (const queueId of queueIds) {
      const { consumer } = queues[queueId];
      this.functions[consumer.functionId].addEventSource(
        new SqsEventSource(this.queues[queueId].queue, {
          batchSize: consumer.batchSize,
          maxBatchingWindow: Duration.seconds(consumer.maxBatchingWindowSeconds),
          maxConcurrency: consumer.maxConcurrency,
          reportBatchItemFailures: true,
        }),
      );
    }

    const { api, stage } = this.httpApi(settings, props.corsAllowOrigins);
    this.api = api;
    this.apiStage = stage;
    // The sender's default short-link domain: this API's own URL (its `/l/{code}` route).
    this.functions.sender.addEnvironment(publicUrlEnv, stage.url);

    this.alarms = new OperationsAlarms(this, 'Alarms', {
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
      functionErrorPeriod: settings.functionErrorPeriod,
    });
    for (const queueId of queueIds) this.alarms.watchDeadLetters(this.queues[queueId], pascalCase(queueId));
    for (const functionId of functionIds)
      this.alarms.watchErrors(this.functions[functionId], pascalCase(functionId));

    new CfnOutput(this, stackOutputs.apiUrl, { value: stage.url, description: 'Base URL of the HTTP API.' });
    for (const queueId of queueIds) {
      new CfnOutput(this, stackOutputs.queueUrl(queueId), {
        value: this.queues[queueId].queue.queueUrl,
        description: `URL of the ${queueId} queue.`,
      });
    }
  }

  /** The HTTP API from `httpRoutes`: `$default` is the API function, other paths by prefix. */
  private httpApi(
    settings: StageSettings,
    corsAllowOrigins: readonly string[] | undefined,
  ): { api: HttpApi; stage: HttpStage } {
    const integrations = recordOf(
      functionIds,
      (functionId) =>
        new HttpLambdaIntegration(`${pascalCase(functionId)}Integration`, this.functions[functionId]),
    );
    const defaultRoute = httpRoutes.find((route) => route.path === '$default');
    const api = new HttpApi(this, 'HttpApi', {
      apiName: `qunfa-${settings.stage}`,
      description: `qunfa ${settings.stage}: merchant API and provider callbacks.`,
      createDefaultStage: false,
      ...(defaultRoute ? { defaultIntegration: integrations[defaultRoute.functionId] } : {}),
      ...(corsAllowOrigins && corsAllowOrigins.length > 0
        ? { corsPreflight: corsOptions(corsAllowOrigins) }
        : {}),
    });
    for (const route of httpRoutes) {
      if (route.path === '$default') continue;
      api.addRoutes({
        path: route.path,
        methods: [routeMethod],
        integration: integrations[route.functionId],
      });
    }

    // The `$default` route's limit is the stage default; every other route gets its own, so
    // the provider callbacks keep up with the providers' send rate whatever merchants do.
    const stage = api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      ...(defaultRoute ? { throttle: settings.routeThrottle[defaultRoute.functionId] } : {}),
    });
    const cfnStage = stage.node.defaultChild;
    if (cfnStage instanceof CfnStage) {
      cfnStage.routeSettings = Object.fromEntries(
        httpRoutes
          .filter((route) => route.path !== '$default')
          .map((route) => [
            `${routeMethod} ${route.path}`,
            {
              throttlingRateLimit: settings.routeThrottle[route.functionId].rateLimit,
              throttlingBurstLimit: settings.routeThrottle[route.functionId].burstLimit,
            },
          ]),
      );
    }
    return { api, stage };
  }
}

/** Routes take every method: the functions answer 405 themselves, in the standard error body. */
const routeMethod = HttpMethod.ANY;

function corsOptions(allowOrigins: readonly string[]): CorsPreflightOptions {
  return {
    allowOrigins: [...allowOrigins],
    allowMethods: [
      CorsHttpMethod.GET,
      CorsHttpMethod.POST,
      CorsHttpMethod.PUT,
      CorsHttpMethod.PATCH,
      CorsHttpMethod.DELETE,
    ],
    allowHeaders: ['authorization', 'content-type'],
    maxAge: Duration.hours(1),
  };
}
