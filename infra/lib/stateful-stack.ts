import {
  type AttributeType,
  type GlobalIndex,
  stackOutputs,
  type TableDefinition,
  type TableId,
  tableIds,
  tables,
} from '@qunfa/resources';
import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import {
  type Attribute,
  Billing,
  AttributeType as DynamoAttributeType,
  type GlobalSecondaryIndexPropsV2,
  type ITableV2,
  ProjectionType,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { modelTag } from './model-tags';
import { pascalCase, recordOf } from './records';
import type { StageSettings } from './stage';

// The data that outlives deployments: one DynamoDB table per model table. Kept apart from
// the functions so that redeploying or even deleting the stateless stack never touches it.

/**
 * What the stateless stack may do with a table: learn its name and ARN, and grant access.
 * (A slice of ITableV2: the CDK's own interfaces do not type-check against the concrete
 * classes under `exactOptionalPropertyTypes`, and nothing else is needed across stacks.)
 */
export type SharedTable = Pick<
  ITableV2,
  'tableName' | 'tableArn' | 'grantReadData' | 'grantWriteData' | 'grantReadWriteData'
>;

export interface StatefulStackProps extends StackProps {
  readonly settings: StageSettings;
}

export class StatefulStack extends Stack {
  readonly tables: Readonly<Record<TableId, SharedTable>>;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.tables = recordOf(tableIds, (tableId) => {
      const table = modelTable({ scope: this, definition: tables[tableId], settings });
      new CfnOutput(this, stackOutputs.tableName(tableId), {
        value: table.tableName,
        description: `Name of the ${tableId} table.`,
      });
      return table;
    });
  }
}

function modelTable({
  scope,
  definition,
  settings,
}: {
  scope: Construct;
  definition: TableDefinition;
  settings: StageSettings;
}): TableV2 {
  const table = new TableV2(scope, `${pascalCase(definition.id)}Table`, {
    partitionKey: attribute(definition.partitionKey),
    ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
    globalSecondaryIndexes: definition.globalIndexes.map(globalIndex),
    ...(definition.timeToLiveAttribute ? { timeToLiveAttribute: definition.timeToLiveAttribute } : {}),
    billing: Billing.onDemand(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: settings.pointInTimeRecovery },
    deletionProtection: settings.deletionProtection,
    removalPolicy: settings.removalPolicy,
  });
  Tags.of(table).add(modelTag.table, definition.id);
  return table;
}

function globalIndex(index: GlobalIndex): GlobalSecondaryIndexPropsV2 {
  return {
    indexName: index.name,
    partitionKey: attribute(index.partitionKey),
    ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
    projectionType: index.projection === 'all' ? ProjectionType.ALL : ProjectionType.KEYS_ONLY,
  };
}

function attribute(key: { readonly name: string; readonly type: AttributeType }): Attribute {
  return { name: key.name, type: key.type === 'S' ? DynamoAttributeType.STRING : DynamoAttributeType.NUMBER };
}
