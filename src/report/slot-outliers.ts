/**
 * Which slots are far below the others (a bad cable, pogo pin or hub port). Each slot's attempt yield is
 * compared with all other slots pooled, using a one-sided two-proportion z-test. A slot is flagged when
 *   - it and the rest both have at least MIN_ATTEMPTS attempts (smaller samples are too noisy to judge),
 *   - z ≤ Z_LIMIT (-3: about 1 in 740 by chance for one slot, so a 24-slot line raises a false alarm on
 *     roughly 3 % of healthy reports), and
 *   - its yield is at least MIN_GAP below the rest (a statistically clear but tiny gap is not actionable).
 */
export const OUTLIER_RULE = { minAttempts: 20, zLimit: -3, minGap: 0.05 } as const;

export interface SlotCounts {
  attempts: number;
  passed: number;
}

export interface OutlierVerdict {
  /** 'low' = flagged; 'ok' = judged and fine; 'too-few' = not enough attempts here or elsewhere to judge. */
  verdict: 'low' | 'ok' | 'too-few';
  /** z statistic of this slot vs the rest (negative = worse), when judged. */
  z: number | null;
  /** Attempt yield of all other slots pooled, when judged. */
  restYield: number | null;
}

export function judgeSlots(slots: readonly SlotCounts[]): OutlierVerdict[] {
  const totalAttempts = slots.reduce((s, x) => s + x.attempts, 0);
  const totalPassed = slots.reduce((s, x) => s + x.passed, 0);
  return slots.map((slot) => {
    const restAttempts = totalAttempts - slot.attempts;
    const restPassed = totalPassed - slot.passed;
    if (slot.attempts < OUTLIER_RULE.minAttempts || restAttempts < OUTLIER_RULE.minAttempts) {
      return { verdict: 'too-few', z: null, restYield: restAttempts > 0 ? restPassed / restAttempts : null };
    }
    const p1 = slot.passed / slot.attempts;
    const p2 = restPassed / restAttempts;
    const pooled = totalPassed / totalAttempts;
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / slot.attempts + 1 / restAttempts));
    // All pass or all fail everywhere: no difference to find.
    const z = se === 0 ? 0 : (p1 - p2) / se;
    const low = z <= OUTLIER_RULE.zLimit && p2 - p1 >= OUTLIER_RULE.minGap;
    return { verdict: low ? 'low' : 'ok', z, restYield: p2 };
  });
}
