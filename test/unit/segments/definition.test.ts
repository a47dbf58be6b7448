import {
  parseSegmentDefinition,
  type SegmentDefinition,
  segmentDefinition,
  segmentFields,
  segmentLimits,
  ValidationError,
} from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';

// The segment language's grammar: what a merchant may write, and how a mistake is reported.

function problemsOf(input: unknown): { path: string; message: string }[] {
  try {
    parseSegmentDefinition({ input, path: 'body.definition' });
  } catch (error) {
    if (error instanceof ValidationError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the definition to be refused');
}

describe('segmentDefinition', () => {
  describe('accepts', () => {
    it.each<[string, unknown]>([
      ['tags', { tags: { any: ['vip'], none: ['staff'] } }],
      ['a list membership', { tier: { in: ['gold', 'silver'] } }],
      ['an exclusion', { store: { notIn: ['SH-01'] } }],
      ['gender', { gender: { in: ['female'] } }],
      ['consent', { consent: { in: ['granted'] } }],
      ['a number range', { points: { gte: 100, lt: 500 } }],
      ['between', { totalSpend: { between: [100, 500.5] } }],
      ['a relative date', { lastPurchaseAt: { moreThanDaysAgo: 60 } }],
      ['an absolute date', { joinedAt: { between: ['2024-01-01', '2024-12-31'] } }],
      ['a birthday window', { birthday: { withinNextDays: 7 } }],
      ['birthday this month', { birthday: { thisMonth: true } }],
      ['a string attribute', { attribute: { name: 'city', type: 'string', in: ['上海', '杭州'] } }],
      ['a number attribute', { attribute: { name: 'shoeSize', type: 'number', gte: 42 } }],
      ['a boolean attribute', { attribute: { name: 'hasCar', type: 'boolean', is: true } }],
      ['a date attribute', { attribute: { name: 'renewsOn', type: 'date', withinNextDays: 14 } }],
      ['presence', { has: 'birthday' }],
      ['absence of an attribute', { missing: 'attributes.city' }],
      ['a preset with defaults', { preset: 'atRisk' }],
      [
        'a preset with thresholds',
        { preset: 'highValue', params: { minTotalSpend: 8000, minPurchaseCount: null } },
      ],
      [
        'a nested tree',
        {
          and: [
            { or: [{ tags: { any: ['vip'] } }, { preset: 'highValue' }] },
            { not: { lastPurchaseAt: { withinLastDays: 30 } } },
          ],
        },
      ],
    ])('%s', (_, input) => {
      // Act
      const parsed = segmentDefinition.safeParse(input);
      // Assess
      expect(parsed.success).toBe(true);
    });
  });

  it('fills in preset thresholds, so a saved segment keeps its meaning', () => {
    expect(parseSegmentDefinition({ input: { preset: 'atRisk' } })).toEqual({
      preset: 'atRisk',
      params: { moreThanDays: 60, upToDays: 180 },
    });
  });

  describe('refuses, naming the faulty node', () => {
    it.each<[string, unknown, string, RegExp]>([
      [
        'an empty tag',
        { and: [{ tags: { any: ['vip'] } }, { tags: { any: [''] } }] },
        'body.definition.and.1.tags.any.0',
        /at least 1|>=1/,
      ],
      ['an unknown condition', { or: [{ tagz: { any: ['vip'] } }] }, 'body.definition.or.0', /"tagz"/],
      ['an unknown operator', { points: { greaterThan: 3 } }, 'body.definition.points', /greaterThan/],
      [
        'two conditions in one node',
        { tier: { in: ['a'] }, store: { in: ['b'] } },
        'body.definition',
        /one condition/,
      ],
      ['an empty node', { not: {} }, 'body.definition.not', /needs one of/],
      ['a node that is not an object', { and: ['vip'] }, 'body.definition.and.0', /object/],
      ['an empty and', { and: [] }, 'body.definition.and', /1 to 50/],
      ['no operator', { tags: {} }, 'body.definition.tags', /any, all, none/],
      ['a reversed range', { points: { between: [5, 1] } }, 'body.definition.points.between', /low ≤ high/],
      [
        'a reversed date range',
        { joinedAt: { between: ['2024-02-01', '2024-01-01'] } },
        'body.definition.joinedAt.between',
        /from ≤ to/,
      ],
      [
        'an impossible date',
        { joinedAt: { before: '2023-02-29' } },
        'body.definition.joinedAt.before',
        /date/i,
      ],
      [
        'negative days',
        { lastPurchaseAt: { moreThanDaysAgo: -1 } },
        'body.definition.lastPurchaseAt.moreThanDaysAgo',
        /0|small/,
      ],
      [
        'fractional days',
        { joinedAt: { withinLastDays: 1.5 } },
        'body.definition.joinedAt.withinLastDays',
        /integer|int/i,
      ],
      ['an unknown gender', { gender: { in: ['f'] } }, 'body.definition.gender.in.0', /female/],
      ['thisMonth: false', { birthday: { thisMonth: false } }, 'body.definition.birthday.thisMonth', /true/],
      ['an unknown field', { has: 'shoeSize' }, 'body.definition.has', /attributes\.<name>/],
      [
        'a mistyped attribute',
        { attribute: { name: 'size', type: 'number', equals: '42' } },
        'body.definition.attribute',
        /equals/,
      ],
      [
        'an attribute of no type',
        { attribute: { name: 'size', type: 'float', gte: 1 } },
        'body.definition.attribute.type',
        /string|number/,
      ],
      ['an unknown preset', { preset: 'whales' }, 'body.definition.preset', /newMembers/],
      [
        'an unknown preset parameter',
        { preset: 'active', params: { days: 7 } },
        'body.definition.params',
        /days/,
      ],
      [
        'crossed preset thresholds',
        { preset: 'atRisk', params: { moreThanDays: 90, upToDays: 30 } },
        'body.definition.params.upToDays',
        /greater/,
      ],
      [
        'a preset beside a condition',
        { preset: 'active', tier: { in: ['gold'] } },
        'body.definition',
        /tier/,
      ],
    ])('%s', (_, input, path, message) => {
      // Act
      const problems = problemsOf(input);
      // Assess
      expect(problems).toContainEqual({ path, message: expect.stringMatching(message) });
    });

    it('lists every problem, not only the first', () => {
      const problems = problemsOf({ and: [{ tags: { any: [] } }, { points: { gte: 'many' } }, { nope: 1 }] });
      expect(problems.map((problem) => problem.path)).toEqual([
        'body.definition.and.0.tags.any',
        'body.definition.and.1.points.gte',
        'body.definition.and.2',
      ]);
    });
  });

  describe('limits', () => {
    const nest = (levels: number): unknown => {
      let node: unknown = { tags: { any: ['vip'] } };
      for (let level = 0; level < levels; level++) node = { not: node };
      return node;
    };

    it(`nests and / or / not up to ${segmentLimits.maxDepth} levels`, () => {
      expect(segmentDefinition.safeParse(nest(segmentLimits.maxDepth)).success).toBe(true);
      const problems = problemsOf(nest(segmentLimits.maxDepth + 1));
      expect(problems).toEqual([
        {
          path: `body.definition${'.not'.repeat(segmentLimits.maxDepth + 1)}`,
          message: expect.stringMatching(/at most 8 levels/),
        },
      ]);
    });

    it(`refuses more than ${segmentLimits.maxNodes} nodes, once`, () => {
      const wide = {
        or: Array.from({ length: 5 }, () => ({ and: Array.from({ length: 45 }, () => ({ has: 'tier' })) })),
      };
      const problems = problemsOf(wide);
      expect(problems).toHaveLength(1);
      expect(problems[0]?.message).toMatch(/at most 200 nodes/);
    });

    it(`refuses lists of more than ${segmentLimits.maxValues} values`, () => {
      const values = Array.from({ length: segmentLimits.maxValues + 1 }, (_, index) => `S${index}`);
      expect(problemsOf({ store: { in: values } })[0]?.path).toBe('body.definition.store.in');
    });
  });

  describe('inside a request schema', () => {
    it('reports paths relative to where it sits', () => {
      // Prepare
      const body = z.strictObject({ definition: segmentDefinition });
      // Act
      const result = body.safeParse({ definition: { or: [{ points: { gt: null } }] } });
      // Assess
      expect(result.error?.issues.map((issue) => issue.path)).toEqual([
        ['definition', 'or', 0, 'points', 'gt'],
      ]);
    });

    it('types the parsed definition', () => {
      const parsed = segmentFields.parse({ name: 'VIP', definition: { tags: { any: ['vip'] } } });
      const definition: SegmentDefinition = parsed.definition;
      expect(definition).toEqual({ tags: { any: ['vip'] } });
    });
  });
});

describe('segmentFields', () => {
  it('refuses unknown fields and a blank name', () => {
    const result = segmentFields.safeParse({ name: ' ', definition: { has: 'tier' }, colour: 'red' });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(
      expect.arrayContaining(['name', '']),
    );
  });
});
