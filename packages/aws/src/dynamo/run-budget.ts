import { fitInBudget, type RunBudgetStore } from '@qunfa/domain';
import {
  ConditionalCheckFailedException,
  type DocumentClient,
  GetCommand,
  UpdateCommand,
} from '../wire/dynamodb';

// Layout (metrics table):
//   run budget   pk = <tenant>#RUN#<campaignId>#<runId>#BUDGET   sk = RESERVED
//                reservedMicros   what the run holds reserved (spent, in flight or unknown)
//                capMicros        the cap it was reserved against (for whoever inspects it)
//
// A reservation is one UpdateItem: ADD reservedMicros :total, conditional on the room left
// (`attribute_not_exists(reservedMicros) OR reservedMicros <= :cap - :total`). DynamoDB
// applies the condition and the ADD atomically, so however many senders race, the run's
// reservations never pass its cap. When the batch's total does not fit, the item is read
// (strongly consistent) and as many messages as fit are reserved with the same conditional
// add; another sender getting in between makes the condition fail, and the read and the fit
// are done again. Give-backs and corrections are unconditional ADDs.
//
// The numbers: the cap check needs the run's whole reservation in one item, so it is one key
// per run, written at most twice per send batch of up to 100 members (a reserve, and a give-back
// when something was not sent): at 5,000 messages/s, 50 batches/s, at most 100 writes/s on the
// key, far below a partition's 1,000 WCU. Only near the cap do reads and failed conditions
// (each charged as a write) add a few more per batch. A run without a budget never writes it.

/** Rounds of read, fit and conditional add before a reservation gives up (the batch is retried). */
const maxFitRounds = 8;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export class DynamoRunBudget implements RunBudgetStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
  }

  #key(tenantId: string, campaignId: string, runId: string): { pk: string; sk: string } {
    return { pk: `${tenantId}#RUN#${campaignId}#${runId}#BUDGET`, sk: 'RESERVED' };
  }

  async reserve(
    tenantId: string,
    campaignId: string,
    runId: string,
    { capMicros, costs }: { capMicros: number; costs: readonly number[] },
  ): Promise<boolean[]> {
    const key = this.#key(tenantId, campaignId, runId);
    const total = sum(costs);
    if (total === 0) return costs.map(() => true);
    if (total <= capMicros && (await this.#add(key, { capMicros, micros: total })))
      return costs.map(() => true);
    for (let round = 0; round < maxFitRounds; round++) {
      const available = capMicros - (await this.#read(key));
      const fits = fitInBudget({ availableMicros: available, costs });
      const fitting = sum(costs.filter((_, i) => fits[i]));
      if (fitting === 0 || (await this.#add(key, { capMicros, micros: fitting }))) return fits;
    }
    throw new Error(`The budget of run ${runId} stayed contended for ${maxFitRounds} rounds.`);
  }

  async adjust(tenantId: string, campaignId: string, runId: string, byMicros: number): Promise<void> {
    if (byMicros === 0) return;
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: this.#key(tenantId, campaignId, runId),
        UpdateExpression: 'ADD reservedMicros :by',
        ExpressionAttributeValues: { ':by': byMicros },
      }),
    );
  }

  reserved(tenantId: string, campaignId: string, runId: string): Promise<number> {
    return this.#read(this.#key(tenantId, campaignId, runId));
  }

  /** The conditional add: false when the cap would be passed (nothing is written then). */
  async #add(
    key: { pk: string; sk: string },
    { capMicros, micros }: { capMicros: number; micros: number },
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: key,
          UpdateExpression: 'ADD reservedMicros :micros SET capMicros = :cap',
          ConditionExpression: 'attribute_not_exists(reservedMicros) OR reservedMicros <= :room',
          ExpressionAttributeValues: { ':micros': micros, ':cap': capMicros, ':room': capMicros - micros },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async #read(key: { pk: string; sk: string }): Promise<number> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: key, ConsistentRead: true }),
    );
    const reserved = Item?.reservedMicros;
    return typeof reserved === 'number' ? reserved : 0;
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
