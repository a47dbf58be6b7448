// CDK feature flags, set in code (not cdk.json) so that the CLI and the tests' `buildApp`
// synthesize the very same templates. These are the values CDK recommends for new projects,
// for the services qunfa uses; they are written out, not taken from the library's current
// recommendations, so an aws-cdk-lib upgrade cannot change a template on its own.

export const featureFlags = {
  // Tables and functions are referenced across the two stacks. Weak references read the
  // producer's outputs (Fn::GetStackOutput) instead of Exports, so removing a table from the
  // model never deadlocks the stacks; the tables are protected by RETAIN and deletion protection.
  '@aws-cdk/core:defaultCrossStackReferences': 'weak',
  '@aws-cdk/core:checkSecretUsage': true,
  '@aws-cdk/core:target-partitions': ['aws', 'aws-cn'],
  '@aws-cdk/core:validateSnapshotRemovalPolicy': true,
  '@aws-cdk/core:includePrefixInUniqueNameGeneration': true,
  '@aws-cdk/core:explicitStackTags': true,
  '@aws-cdk/core:aspectStabilization': true,
  '@aws-cdk/core:aspectPrioritiesMutating': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/aws-lambda:recognizeVersionProps': true,
  '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
  '@aws-cdk/aws-lambda:useCdkManagedLogGroup': true,
  '@aws-cdk/aws-dynamodb:retainTableReplica': true,
  '@aws-cdk/aws-dynamodb:resourcePolicyPerReplica': true,
  '@aws-cdk/aws-cloudwatch-actions:changeLambdaPermissionLogicalIdForLambdaAction': true,
} as const;
