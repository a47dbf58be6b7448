import {
  type Member,
  memberShard,
  memberShardCount,
  previewSavedTemplate,
  type SavedTemplate,
  type Tenant,
  tenantSettings,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { memoryStores } from '../../support/fakes/memory-member-store';
import { describeTemplatesApi } from '../../support/templates-spec';

describeTemplatesApi('HTTP API templates (in-memory stores)', async () => memoryStores());

describe('previewSavedTemplate', () => {
  describe('over a segment larger than the time budget', () => {
    it('extrapolates from the whole shards read, and the totals still add up', async () => {
      // Prepare: 640 members (20 per shard on average), one in four without consent, and a
      // clock that moves a second each time it is read.
      let tick = Date.parse('2026-11-23T08:00:00Z');
      const stores = memoryStores(() => {
        tick += 1_000;
        return new Date(tick);
      });
      const tenant: Tenant = {
        ...tenantSettings.parse({ name: 'Acme Tea', provider: 'aliyun' }),
        tenantId: 'acme',
        createdAt: '2026-01-01T00:00:00Z',
      };
      const template: SavedTemplate = {
        name: '会员日',
        category: 'marketing',
        locale: 'zh-CN',
        body: '会员日8折！{{name|default:"会员"}}您好，欢迎到店。',
        variables: [],
        templateId: 'tpl_000000000001',
        createdAt: '2026-11-01T00:00:00Z',
        updatedAt: '2026-11-01T00:00:00Z',
      };
      await stores.templates.create('acme', template.templateId, template);
      const members = Array.from(
        { length: 640 },
        (_, i): Member => ({
          memberId: `M${i}`,
          phone: `+86138${String(i).padStart(8, '0')}`,
          phoneStatus: 'valid',
          tags: ['vip'],
          consent: { status: i % 4 === 0 ? 'denied' : 'granted' },
          createdAt: '2026-01-01T00:00:00Z',
          updatedAt: '2026-01-01T00:00:00Z',
        }),
      );
      await stores.members.put(
        'acme',
        members.map((member) => ({ member })),
      );
      const inFirstShard = members.filter((m) => memberShard(m.memberId) === 0);

      // Act
      const preview = await previewSavedTemplate(stores, {
        tenant,
        templateId: template.templateId,
        audience: { definition: { tags: { any: ['vip'] } } },
        budgetMs: 0,
        parallelism: 1,
      });

      // Assess
      const denied = inFirstShard.filter((m) => m.consent.status === 'denied').length;
      expect(preview).toMatchObject({
        exact: false,
        shardsRead: 1,
        shardCount: memberShardCount,
        audience: inFirstShard.length * memberShardCount,
        rendered: (inFirstShard.length - denied) * memberShardCount,
        suppressed: { total: denied * memberShardCount },
        partsDistribution: [{ parts: 1, messages: (inFirstShard.length - denied) * memberShardCount }],
      });
      expect(preview.cost.total).toBe((preview.totalParts * 0.045).toFixed(2));
    });
  });
});
