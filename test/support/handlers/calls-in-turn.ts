import type { SQSEvent } from 'aws-lambda';

// A queue handler for the pollers' `kill` fault (test/integration/local-pollers.test.ts),
// loaded by entry like a function's handler: for each record it calls the URL in the
// record's body three times, one call after the other.

export async function handler(event: SQSEvent): Promise<void> {
  for (const record of event.Records) {
    for (let call = 1; call <= 3; call++) {
      const response = await fetch(`${record.body}?call=${call}`);
      await response.body?.cancel();
    }
  }
}
