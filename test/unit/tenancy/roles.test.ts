import { role, roleAllows } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';

describe('roleAllows', () => {
  it.each([
    ['viewer', 'viewer', true],
    ['viewer', 'marketer', false],
    ['viewer', 'admin', false],
    ['marketer', 'viewer', true],
    ['marketer', 'marketer', true],
    ['marketer', 'admin', false],
    ['admin', 'viewer', true],
    ['admin', 'marketer', true],
    ['admin', 'admin', true],
  ] as const)('lets a %s call a %s route: %s', (held, required, allowed) => {
    expect(roleAllows({ held, required })).toBe(allowed);
  });
});

describe('role', () => {
  it('knows exactly viewer, marketer and admin', () => {
    expect(role.options).toEqual(['viewer', 'marketer', 'admin']);
  });

  it('refuses any other role', () => {
    expect(role.safeParse('owner').success).toBe(false);
    expect(role.safeParse('Admin').success).toBe(false);
  });
});
