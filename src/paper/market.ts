/**
 * A simulated market for paper mode: PSTR, PUMP and SOL prices in USD and the
 * USD volume traded in the PSTR pool, as pure functions of time. Nothing is
 * stored between calls, so any t, asked in any order, by any process, gets the
 * same answer: that is what makes demos and workflow tests repeatable given
 * (seed, originMs, clock).
 *
 * Shape of a price path, with τ = t − originMs:
 *
 *   price(t) = price0 · exp(Σᵢ aᵢ·sin(2π·τ/Pᵢ + φᵢ)) · envelope(t)
 *
 * Five seeded sinusoids with periods from minutes to days (each jittered by
 * the seed) and log-amplitudes summing to a small total (PSTR 1.2 %, PUMP
 * 1.5 %, SOL 1 %). They average out over 30 days, so the 30-day VWAP stays
 * within a fraction of a percent of pstr0, and ordinary noise never comes near
 * the 15 % drawdown trigger. Only PSTR has an envelope (1 without a drawdown):
 *
 *   1 ┐‾‾‾‾‾‾‾‾\                          /‾‾‾‾‾‾
 *     │         \________________________/
 *   1−depth      ramp       hold          recover
 *     startMs ─┘
 *
 * linear from 1 to 1 − depth over rampSeconds, flat for holdSeconds, linear
 * back to 1 over recoverSeconds. With depth 0.17 and the 1.2 % wiggle the
 * drawdown against the 30-day VWAP stays in [15 %, 20 %): SPEC §4's tier 1.
 *
 * Volume: a rate of volumeUsdPerDay/1440 USD per minute modulated by a daily
 * cycle and two faster sinusoids (their amplitudes sum to 0.8 < 1, so the rate
 * stays ≥ 20 % of its mean); volumeUsd integrates it in closed form, so
 * volume(a, b) + volume(b, c) = volume(a, c) up to rounding.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const TWO_PI = 2 * Math.PI;

export interface DrawdownSpec {
  /** Epoch ms at which the fall begins. */
  readonly startMs: number;
  /** Fraction of the price lost at the bottom, e.g. 0.17. */
  readonly depth: number;
  readonly rampSeconds: number;
  readonly holdSeconds: number;
  readonly recoverSeconds: number;
}

export interface SimulatedMarketOptions {
  seed: number;
  /** τ = 0 of every sinusoid: the moment the simulation is anchored to (e.g. the demo's start). */
  originMs: number;
  pstr0?: number;
  pump0?: number;
  sol0?: number;
  /** Mean USD volume traded per day in the PSTR pool. */
  volumeUsdPerDay?: number;
  drawdown?: DrawdownSpec;
}

/** The demo's drawdown: 17 % deep after a one-minute ramp from `startMs`, held 30 min, recovered over 10 min. */
export function demoDrawdown(startMs: number): DrawdownSpec {
  return { startMs, depth: 0.17, rampSeconds: 60, holdSeconds: 1800, recoverSeconds: 600 };
}

/**
 * A stateless hash of integers to [0, 1): the seeded randomness of the paper
 * market (a murmur3-style finalizer over the combined words). Same words, same
 * number, in any process.
 */
export function hash01(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // Words beyond 32 bits (minute indices, seeds) keep their high part too.
    const high = Math.floor(w / 4294967296) | 0;
    h = Math.imul(h ^ high, 0x27d4eb2f);
    h ^= h >>> 15;
  }
  return (h >>> 0) / 4294967296;
}

interface Wave {
  readonly amplitude: number;
  /** Angular frequency, radians per ms. */
  readonly omega: number;
  readonly phase: number;
}

/** Seeded waves: each nominal period jittered by ×[0.8, 1.25]; amplitudes random weights scaled to `total`. */
function seededWaves(seed: number, salt: number, periodsMs: readonly number[], total: number): Wave[] {
  const weights = periodsMs.map((_, i) => 0.3 + hash01(seed, salt, i, 1));
  const weightSum = weights.reduce((s, w) => s + w, 0);
  return periodsMs.map((period, i) => ({
    amplitude: (total * (weights[i] as number)) / weightSum,
    omega: TWO_PI / (period * (0.8 + 0.45 * hash01(seed, salt, i, 2))),
    phase: TWO_PI * hash01(seed, salt, i, 3),
  }));
}

function waveSum(waves: readonly Wave[], tau: number): number {
  let s = 0;
  for (const w of waves) s += w.amplitude * Math.sin(w.omega * tau + w.phase);
  return s;
}

const PRICE_PERIODS_MS = [11 * MINUTE_MS, 47 * MINUTE_MS, 5.3 * HOUR_MS, 1.9 * DAY_MS, 8.7 * DAY_MS];
const PSTR_WIGGLE = 0.012;
const PUMP_WIGGLE = 0.015;
const SOL_WIGGLE = 0.01;
const VOLUME_PERIODS_MS = [DAY_MS, 3.1 * HOUR_MS, 37 * MINUTE_MS];
const VOLUME_AMPLITUDES = [0.5, 0.2, 0.1];

function requirePositive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`SimulatedMarket: ${field} must be a finite number > 0, got ${value}`);
}

function requireTime(field: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`SimulatedMarket: ${field} must be finite epoch ms, got ${value}`);
}

function checkDrawdown(d: DrawdownSpec): void {
  requireTime('drawdown.startMs', d.startMs);
  if (!(d.depth > 0 && d.depth < 1)) throw new RangeError(`SimulatedMarket: drawdown.depth must be in (0, 1), got ${d.depth}`);
  for (const key of ['rampSeconds', 'holdSeconds', 'recoverSeconds'] as const) {
    if (!Number.isFinite(d[key]) || d[key] < 0) {
      throw new RangeError(`SimulatedMarket: drawdown.${key} must be a finite number ≥ 0, got ${d[key]}`);
    }
  }
}

export class SimulatedMarket {
  readonly seed: number;
  readonly originMs: number;
  readonly pstr0: number;
  readonly pump0: number;
  readonly sol0: number;
  readonly volumeUsdPerDay: number;
  readonly drawdown: DrawdownSpec | undefined;
  private readonly pstrWaves: readonly Wave[];
  private readonly pumpWaves: readonly Wave[];
  private readonly solWaves: readonly Wave[];
  private readonly volumeWaves: readonly Wave[];

  constructor(opts: SimulatedMarketOptions) {
    if (!Number.isSafeInteger(opts.seed)) throw new RangeError(`SimulatedMarket: seed must be a safe integer, got ${opts.seed}`);
    requireTime('originMs', opts.originMs);
    this.seed = opts.seed;
    this.originMs = opts.originMs;
    this.pstr0 = opts.pstr0 ?? 0.0002;
    this.pump0 = opts.pump0 ?? 0.005;
    this.sol0 = opts.sol0 ?? 150;
    this.volumeUsdPerDay = opts.volumeUsdPerDay ?? 60_000;
    requirePositive('pstr0', this.pstr0);
    requirePositive('pump0', this.pump0);
    requirePositive('sol0', this.sol0);
    requirePositive('volumeUsdPerDay', this.volumeUsdPerDay);
    if (opts.drawdown) checkDrawdown(opts.drawdown);
    this.drawdown = opts.drawdown ? { ...opts.drawdown } : undefined;
    this.pstrWaves = seededWaves(opts.seed, 1, PRICE_PERIODS_MS, PSTR_WIGGLE);
    this.pumpWaves = seededWaves(opts.seed, 2, PRICE_PERIODS_MS, PUMP_WIGGLE);
    this.solWaves = seededWaves(opts.seed, 3, PRICE_PERIODS_MS, SOL_WIGGLE);
    this.volumeWaves = VOLUME_PERIODS_MS.map((period, i) => ({
      amplitude: VOLUME_AMPLITUDES[i] as number,
      omega: TWO_PI / period,
      phase: TWO_PI * hash01(opts.seed, 4, i),
    }));
  }

  pstrPrice(t: number): number {
    requireTime('t', t);
    return this.pstr0 * Math.exp(waveSum(this.pstrWaves, t - this.originMs)) * this.drawdownFactor(t);
  }

  pumpPrice(t: number): number {
    requireTime('t', t);
    return this.pump0 * Math.exp(waveSum(this.pumpWaves, t - this.originMs));
  }

  solPrice(t: number): number {
    requireTime('t', t);
    return this.sol0 * Math.exp(waveSum(this.solWaves, t - this.originMs));
  }

  /** The envelope multiplying PSTR: 1, down to 1 − depth over the ramp, held, and back up (see the diagram above). */
  drawdownFactor(t: number): number {
    const d = this.drawdown;
    if (!d) return 1;
    const since = t - d.startMs;
    const ramp = d.rampSeconds * 1000;
    const hold = d.holdSeconds * 1000;
    const recover = d.recoverSeconds * 1000;
    let share: number;
    if (since < 0) share = 0;
    else if (since < ramp) share = since / ramp;
    else if (since < ramp + hold) share = 1;
    else if (since < ramp + hold + recover) share = 1 - (since - ramp - hold) / recover;
    else share = 0;
    return 1 - d.depth * share;
  }

  /** USD traded in the PSTR pool in (fromMs, toMs]: the closed-form integral of the per-minute rate, ≥ 0. */
  volumeUsd(fromMs: number, toMs: number): number {
    requireTime('fromMs', fromMs);
    requireTime('toMs', toMs);
    if (toMs < fromMs) throw new RangeError(`SimulatedMarket.volumeUsd: toMs ${toMs} is before fromMs ${fromMs}`);
    const a = fromMs - this.originMs;
    const b = toMs - this.originMs;
    const perMs = this.volumeUsdPerDay / DAY_MS;
    // ∫ (1 + Σ bᵢ·sin(ωᵢτ + φᵢ)) dτ = (b − a) − Σ (bᵢ/ωᵢ)·(cos(ωᵢb + φᵢ) − cos(ωᵢa + φᵢ)).
    let integral = b - a;
    for (const w of this.volumeWaves) {
      integral -= (w.amplitude / w.omega) * (Math.cos(w.omega * b + w.phase) - Math.cos(w.omega * a + w.phase));
    }
    // The rate is never negative; rounding in the cosine differences of a tiny interval could be.
    return Math.max(0, perMs * integral);
  }

  /** The instantaneous volume rate in USD per minute at t (what volumeUsd integrates). */
  volumeRatePerMinute(t: number): number {
    requireTime('t', t);
    return (this.volumeUsdPerDay / 1440) * (1 + waveSum(this.volumeWaves, t - this.originMs));
  }
}
