import { memoryStores } from '../../support/fakes/memory-member-store';
import { describeOptOutsApi } from '../../support/opt-outs-spec';

describeOptOutsApi('HTTP API opt-outs (in-memory stores)', async () => memoryStores());
