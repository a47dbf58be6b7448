import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FunctionId,
  functionIds,
  type QueueId,
  queueIds,
  type TableId,
  tableIds,
} from '@qunfa/resources';
import { Template } from 'aws-cdk-lib/assertions';
import * as z from 'zod';
import { type BuildAppOptions, buildApp, type QunfaApp } from '../../infra/lib/app';
import { modelTag } from '../../infra/lib/model-tags';
import {
  modelIdOf,
  parseTemplate,
  type TemplateJson,
  type TemplateResource,
  taggedResources,
} from '../support/cdk-model';

// One synthesis per stage and per test file (bundling takes seconds): `synth('dev')` is
// memoized. Each synthesis writes to its own temporary cloud assembly, removed at exit.

export type Stage = 'dev' | 'prod';

export interface Synthesized {
  readonly stage: Stage;
  readonly qunfa: QunfaApp;
  readonly assemblyDir: string;
  readonly stateful: Template;
  readonly stateless: Template;
  readonly statefulJson: TemplateJson;
  readonly statelessJson: TemplateJson;
}

const cache = new Map<string, Synthesized>();

/** Synthesizes both stacks of `stage`; only `bundle: true` runs esbuild on every function. */
export function synth(stage: Stage, options: Omit<BuildAppOptions, 'stage' | 'outdir'> = {}): Synthesized {
  const { bundle = false, ...rest } = options;
  const key = JSON.stringify({ stage, bundle, ...rest });
  const cached = cache.get(key);
  if (cached) return cached;
  const assemblyDir = mkdtempSync(join(tmpdir(), `qunfa-infra-${stage}-`));
  process.once('exit', () => rmSync(assemblyDir, { recursive: true, force: true }));
  const qunfa = buildApp({ stage, outdir: assemblyDir, bundle, ...rest });
  const assembly = qunfa.app.synth();
  const statefulJson = parseTemplate(assembly.getStackByName(qunfa.stateful.stackName).template);
  const statelessJson = parseTemplate(assembly.getStackByName(qunfa.stateless.stackName).template);
  const synthesized: Synthesized = {
    stage,
    qunfa,
    assemblyDir,
    stateful: Template.fromJSON(statefulJson),
    stateless: Template.fromJSON(statelessJson),
    statefulJson,
    statelessJson,
  };
  cache.set(key, synthesized);
  return synthesized;
}

function only<Id extends string>(
  kind: string,
  found: Map<Id, { logicalId: string; resource: TemplateResource }>,
  id: Id,
) {
  const entry = found.get(id);
  if (!entry) throw new Error(`No ${kind} is tagged ${id}.`);
  return entry;
}

/** The Lambda function built for a model function. */
export function functionResource(
  { statelessJson }: Synthesized,
  functionId: FunctionId,
): { logicalId: string; resource: TemplateResource } {
  const found = taggedResources({
    template: statelessJson,
    types: ['AWS::Lambda::Function'],
    tagKey: modelTag.function,
    ids: functionIds,
  });
  return only('function', found, functionId);
}

/** The queue (or its DLQ) built for a model queue. */
export function queueResource(
  { statelessJson }: Synthesized,
  queueId: QueueId,
  which: 'queue' | 'deadLetterQueue' = 'queue',
): { logicalId: string; resource: TemplateResource } {
  const found = taggedResources({
    template: statelessJson,
    types: ['AWS::SQS::Queue'],
    tagKey: modelTag[which],
    ids: queueIds,
  });
  return only(which, found, queueId);
}

/** The table built for a model table. */
export function tableResource(
  { statefulJson }: Synthesized,
  tableId: TableId,
): { logicalId: string; resource: TemplateResource } {
  const found = taggedResources({
    template: statefulJson,
    types: ['AWS::DynamoDB::GlobalTable', 'AWS::DynamoDB::Table'],
    tagKey: modelTag.table,
    ids: tableIds,
  });
  return only('table', found, tableId);
}

// ---- Following references: what a value in the stateless template points at ----

/**
 * What an IAM resource or an environment value designates, in model terms:
 * `table:members`, `table:members/index/*`, `queue:send`, `dlq:send`, `resource:SchedulesRole…`,
 * or the literal text of an ARN built with Fn::Join (pseudo parameters as `${AWS::Region}`).
 */
export function designate(synthesized: Synthesized, value: unknown): string {
  const { statefulJson, statelessJson } = synthesized;
  const named = (template: TemplateJson, logicalId: string): string => {
    const resource = template.Resources[logicalId];
    if (!resource) return `missing:${logicalId}`;
    const tags: [string, string][] = [
      [modelTag.table, 'table'],
      [modelTag.queue, 'queue'],
      [modelTag.deadLetterQueue, 'dlq'],
      [modelTag.function, 'function'],
    ];
    for (const [tagKey, prefix] of tags) {
      const id = modelIdOf(resource, tagKey);
      if (id !== undefined) return `${prefix}:${id}`;
    }
    return `resource:${logicalId}`;
  };
  const resolve = (template: TemplateJson, node: unknown): string => {
    if (typeof node === 'string') return node;
    const reference = intrinsic.safeParse(node);
    if (!reference.success) return `unknown:${JSON.stringify(node)}`;
    const value = reference.data;
    if ('Ref' in value)
      return value.Ref.startsWith('AWS::') ? `\${${value.Ref}}` : named(template, value.Ref);
    if ('Fn::GetAtt' in value) return named(template, value['Fn::GetAtt'][0]);
    if ('Fn::Join' in value)
      return value['Fn::Join'][1].map((part) => resolve(template, part)).join(value['Fn::Join'][0]);
    const { StackName, OutputName } = value['Fn::GetStackOutput'];
    if (StackName !== synthesized.qunfa.stateful.stackName) return `unknown-stack:${StackName}`;
    const output = statefulJson.Outputs?.[OutputName];
    return output ? resolve(statefulJson, output.Value) : `missing-output:${OutputName}`;
  };
  return resolve(statelessJson, value);
}

const intrinsic = z.union([
  z.object({ Ref: z.string() }),
  z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.string()]) }),
  z.object({ 'Fn::Join': z.tuple([z.string(), z.array(z.unknown())]) }),
  z.object({ 'Fn::GetStackOutput': z.looseObject({ StackName: z.string(), OutputName: z.string() }) }),
]);

// ---- IAM: what a function's role may do ----

const statement = z.looseObject({
  Effect: z.enum(['Allow', 'Deny']),
  Action: z.union([z.string(), z.array(z.string())]),
  Resource: z.unknown(),
  Condition: z.record(z.string(), z.unknown()).optional(),
});
export type PolicyStatement = z.infer<typeof statement>;

export interface Permission {
  readonly action: string;
  /** What {@link designate} makes of the statement's resource. */
  readonly resource: string;
  readonly condition?: Readonly<Record<string, unknown>>;
}

/** Every (action, resource) the inline policies attached to a role allow, one entry per pair. */
export function rolePermissions(synthesized: Synthesized, roleLogicalId: string): Permission[] {
  const permissions: Permission[] = [];
  for (const policy of Object.values(synthesized.statelessJson.Resources)) {
    if (policy.Type !== 'AWS::IAM::Policy') continue;
    const properties = z
      .looseObject({
        PolicyDocument: z.looseObject({ Statement: z.array(statement) }),
        Roles: z.array(z.object({ Ref: z.string() })),
      })
      .parse(policy.Properties);
    if (!properties.Roles.some((role) => role.Ref === roleLogicalId)) continue;
    for (const granted of properties.PolicyDocument.Statement) {
      if (granted.Effect !== 'Allow') continue;
      const actions = Array.isArray(granted.Action) ? granted.Action : [granted.Action];
      const resources = Array.isArray(granted.Resource) ? granted.Resource : [granted.Resource];
      for (const action of actions) {
        for (const resource of resources) {
          permissions.push({
            action,
            resource: designate(synthesized, resource),
            ...(granted.Condition ? { condition: granted.Condition } : {}),
          });
        }
      }
    }
  }
  return permissions;
}

/** The logical id of a model function's execution role. */
export function functionRoleLogicalId(synthesized: Synthesized, functionId: FunctionId): string {
  const { resource } = functionResource(synthesized, functionId);
  const role = z
    .object({ Role: z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) }) })
    .parse(resource.Properties);
  return role.Role['Fn::GetAtt'][0];
}

/** The permissions of a model function's execution role. */
export function functionPermissions(synthesized: Synthesized, functionId: FunctionId): Permission[] {
  return rolePermissions(synthesized, functionRoleLogicalId(synthesized, functionId));
}

/** The environment variables of a model function, each value designated. */
export function functionEnvironment(
  synthesized: Synthesized,
  functionId: FunctionId,
): Record<string, string> {
  const { resource } = functionResource(synthesized, functionId);
  const properties = z
    .looseObject({ Environment: z.object({ Variables: z.record(z.string(), z.unknown()) }) })
    .parse(resource.Properties);
  return Object.fromEntries(
    Object.entries(properties.Environment.Variables).map(([name, value]) => [
      name,
      designate(synthesized, value),
    ]),
  );
}
