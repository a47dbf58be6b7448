import { memoryStores } from '../../support/fakes/memory-member-store';
import { describeMembersApi } from '../../support/members-spec';

describeMembersApi('HTTP API members (in-memory stores)', async () => memoryStores());
