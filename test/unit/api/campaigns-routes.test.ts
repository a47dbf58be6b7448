import { describeCampaignsApi } from '../../support/campaigns-spec';
import { memoryStores } from '../../support/fakes/memory-member-store';

describeCampaignsApi('HTTP API campaigns (in-memory stores)', async (now) => memoryStores(now));
