import { inChunks, mapWithConcurrency } from '@qunfa/domain';
import { BatchGetCommand, type Doc, type DocumentClient } from '../wire/dynamodb';

/**
 * Every item of `keys` in one table that exists, by BatchGetItem: 100 keys a request, four
 * requests at once, and the keys DynamoDB hands back unprocessed (under load) asked again
 * after a growing pause, a few times before giving up with an error.
 */
export async function batchGetItems({
  client,
  tableName,
  keys,
  consistentRead = false,
  projection,
}: {
  client: DocumentClient;
  tableName: string;
  keys: readonly Doc[];
  consistentRead?: boolean;
  /** A ProjectionExpression of plain attribute names (no placeholders). */
  projection?: string;
}): Promise<Doc[]> {
  const items: Doc[] = [];
  await mapWithConcurrency(inChunks(keys, 100), 4, async (chunk) => {
    let left: Doc[] = chunk;
    for (let attempt = 0; left.length > 0; attempt++) {
      if (attempt > 6) throw new Error(`BatchGetItem on ${tableName}: keys stayed unprocessed.`);
      if (attempt > 0)
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
      const { Responses, UnprocessedKeys } = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: left,
              ...(consistentRead ? { ConsistentRead: true } : {}),
              ...(projection ? { ProjectionExpression: projection } : {}),
            },
          },
        }),
      );
      items.push(...(Responses?.[tableName] ?? []));
      left = UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  });
  return items;
}
