import { compileRoutes, matchRoute } from '@qunfa/local';
import { httpRoutes } from '@qunfa/resources';
import { describe, expect, it } from 'vitest';

// The local gateway routes as API Gateway does: literal paths, then greedy ones, then $default.

describe('matchRoute', () => {
  const routes = compileRoutes(httpRoutes);
  const target = (path: string) => matchRoute(routes, path)?.route.functionId;

  it.each([
    ['/campaigns', 'planner'],
    ['/campaigns/cmp_1/schedule', 'planner'],
    ['/campaigns/cmp_1/test-send', 'tester'],
    ['/campaigns/cmp_1/test-send/x', 'planner'],
    ['/templates', 'planner'],
    ['/templates/starter', 'planner'],
    ['/callbacks/simulator/acme', 'callbacks'],
    ['/members/C1', 'api'],
    ['/campaignsx', 'api'],
    ['/me', 'api'],
  ])('sends %s to the %s function', (path, functionId) => {
    expect(target(path)).toBe(functionId);
  });

  it('gives a literal route no path parameters, and a greedy one its proxy', () => {
    expect(matchRoute(routes, '/campaigns')?.pathParameters).toBeUndefined();
    expect(matchRoute(routes, '/campaigns/cmp_1/pause')?.pathParameters).toEqual({ proxy: 'cmp_1/pause' });
  });
});
