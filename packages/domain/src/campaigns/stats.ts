// The little statistics campaign reports need, written out rather than imported (a stats
// library would weigh more than the planner's whole bundle): the normal distribution's CDF
// through erfc, and the pooled two-proportion z-test an A/B comparison runs.

/**
 * The complementary error function, erfc(x) = 1 − erf(x), by the Chebyshev fit of Numerical
 * Recipes (2nd ed., §6.2, `erfcc`): fractional error under 1.2 × 10⁻⁷ for every x, so a tiny
 * p-value keeps its leading digits (1 − erf(x) would cancel them away).
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const fit =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const value = t * Math.exp(fit);
  return x >= 0 ? value : 2 - value;
}

export function erf(x: number): number {
  return 1 - erfc(x);
}

/** P(Z ≤ z) for a standard normal Z. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** One group of a comparison: how many of how many (clicked of delivered, converted of sent). */
export interface Proportion {
  readonly successes: number;
  readonly trials: number;
}

export type ProportionTest =
  | {
      readonly z: number;
      /** Two-sided: the chance of a difference at least this large if both rates were equal. */
      readonly pValue: number;
      /** p < 0.05: the difference is significant at 95%. */
      readonly significant: boolean;
    }
  | { readonly z: null; readonly pValue: null; readonly significant: false; readonly reason: string };

/** The significance level of `significant`. */
export const significanceLevel = 0.05;

/**
 * The pooled two-proportion z-test of `b` against `a`: z = (p_b − p_a) / √(p(1−p)(1/n_a + 1/n_b))
 * with p the pooled rate (s_a + s_b)/(n_a + n_b); positive when `b` does better. No test (a
 * reason instead) when a group is empty, has more successes than trials (counts of events,
 * not of members, can), or the pooled rate is 0 or 1 (nobody, or everybody, succeeded: no
 * spread to test against).
 */
export function twoProportionTest({ a, b }: { a: Proportion; b: Proportion }): ProportionTest {
  const none = (reason: string): ProportionTest => ({ z: null, pValue: null, significant: false, reason });
  if (a.trials <= 0 || b.trials <= 0) return none('a group has no members to compare');
  if (a.successes < 0 || b.successes < 0 || a.successes > a.trials || b.successes > b.trials) {
    return none('more successes than members in a group (events counted more than once per member)');
  }
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const variance = pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials);
  if (variance <= 0) return none(pooled === 0 ? 'no successes in either group' : 'every member succeeded');
  const z = (b.successes / b.trials - a.successes / a.trials) / Math.sqrt(variance);
  const pValue = Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
  return { z, pValue, significant: pValue < significanceLevel };
}
