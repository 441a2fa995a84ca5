/**
 * Treasury health (SPEC §6): one score from reserve ratio, intervention
 * capacity and diversification, and the level it falls in.
 */

export type HealthLevel = 'excellent' | 'good' | 'moderate' | 'poor' | 'critical';

/** Worst to best; the index is the rank compared by "health level improved" alerts (SPEC §7). */
export const HEALTH_LEVELS: readonly HealthLevel[] = Object.freeze(['critical', 'poor', 'moderate', 'good', 'excellent']);

/**
 * SPEC §6: diversification = (1 − Σ s_i²) / (1 − 1/n) over the n asset classes the treasury
 * CAN hold (PUMP, USDC, SOL, LP → n = 4, zeros included), s_i their value shares; 0 for an empty treasury.
 * 0 means everything in one class, 1 an even split.
 */
export function diversification(classValuesUsd: readonly number[]): number {
  const n = classValuesUsd.length;
  if (n < 2) throw new RangeError(`diversification: needs at least 2 asset classes (got ${n})`);
  classValuesUsd.forEach((v, i) => {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`diversification: classValuesUsd[${i}] = ${v} must be a finite number ≥ 0`);
  });
  const total = classValuesUsd.reduce((s, v) => s + v, 0);
  if (total === 0) return 0;
  const concentration = classValuesUsd.reduce((s, v) => s + (v / total) ** 2, 0);
  const score = (1 - concentration) / (1 - 1 / n);
  // Rounding can land an even split a hair outside [0, 1]; the definition cannot.
  return Math.min(1, Math.max(0, score));
}

/** SPEC §6: health = RR·0.333 + interventionCapacity·0.333 + diversification·0.334. */
export function healthScore(input: { reserveRatio: number; interventionCapacity: number; diversification: number }): number {
  const { reserveRatio, interventionCapacity, diversification: div } = input;
  // +Infinity is a real reading: no PSTR float left to defend (market cap 0), so health is unbounded too.
  if (Number.isNaN(reserveRatio) || reserveRatio < 0) {
    throw new RangeError(`healthScore: reserveRatio = ${reserveRatio} must be a number ≥ 0`);
  }
  if (!(interventionCapacity >= 0 && interventionCapacity <= 1)) {
    throw new RangeError(`healthScore: interventionCapacity = ${interventionCapacity} must be in [0, 1]`);
  }
  if (!(div >= 0 && div <= 1)) throw new RangeError(`healthScore: diversification = ${div} must be in [0, 1]`);
  return reserveRatio * 0.333 + interventionCapacity * 0.333 + div * 0.334;
}

/** SPEC §6: ≥ 1.5 excellent, ≥ 1.0 good, ≥ 0.8 moderate, ≥ 0.6 poor, else critical. */
export function healthLevel(score: number): HealthLevel {
  if (Number.isNaN(score)) throw new RangeError(`healthLevel: score = ${score} is not a number`);
  if (score >= 1.5) return 'excellent';
  if (score >= 1.0) return 'good';
  if (score >= 0.8) return 'moderate';
  if (score >= 0.6) return 'poor';
  return 'critical';
}

/** 0 = critical … 4 = excellent; a higher rank than before means health improved. */
export function healthRank(level: HealthLevel): number {
  const rank = HEALTH_LEVELS.indexOf(level);
  if (rank < 0) throw new RangeError(`healthRank: level = ${String(level)} is not one of ${HEALTH_LEVELS.join(', ')}`);
  return rank;
}
