/**
 * Rolling 30-day VWAP (SPEC §1), incremental: each sample enters once and
 * leaves once, so a push or a read is O(1) amortized, never a rescan.
 *
 *   vwap30(t) = Σ price_i·volume_i / Σ volume_i  over  t − window < timestamp_i ≤ t
 *   (Σ volume_i = 0 → plain mean of the window's prices, marked `volumeless`)
 *
 * Running sums use Neumaier compensation so a year of adds and evictions
 * stays equal to a fresh recomputation to ~1e-12 relative.
 */

export interface VwapSample {
  readonly timestamp: number;
  readonly price: number;
  readonly volume: number;
}

export interface VwapReading {
  readonly vwap: number;
  readonly volumeless: boolean;
  readonly samples: number;
  /** From the oldest sample still in the window to `t`: the warm-up measure. */
  readonly historyMs: number;
}

export const DAY_MS = 86_400_000;

/** A compensated running sum (Neumaier): add and subtract without drift. */
class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(x: number): void {
    const t = this.sum + x;
    if (Math.abs(this.sum) >= Math.abs(x)) this.compensation += this.sum - t + x;
    else this.compensation += x - t + this.sum;
    this.sum = t;
  }

  get value(): number {
    return this.sum + this.compensation;
  }
}

export class RollingVwap {
  private times: Float64Array = new Float64Array(1024);
  private prices: Float64Array = new Float64Array(1024);
  private volumes: Float64Array = new Float64Array(1024);
  private head = 0;
  private tail = 0;
  private priceVolume = new CompensatedSum();
  private volume = new CompensatedSum();
  private priceSum = new CompensatedSum();
  private withVolume = 0;

  constructor(readonly windowMs: number = 30 * DAY_MS) {
    if (!(windowMs > 0)) throw new RangeError(`VWAP window must be positive, got ${windowMs}`);
  }

  get size(): number {
    return this.tail - this.head;
  }

  get lastTimestamp(): number | null {
    return this.size > 0 ? (this.times[this.tail - 1] as number) : null;
  }

  push(sample: VwapSample): void {
    const { timestamp, price, volume } = sample;
    if (!(price > 0) || !Number.isFinite(price)) throw new RangeError(`VWAP sample price must be positive, got ${price}`);
    if (!(volume >= 0) || !Number.isFinite(volume)) throw new RangeError(`VWAP sample volume must be ≥ 0, got ${volume}`);
    const last = this.lastTimestamp;
    if (last !== null && timestamp < last) {
      throw new RangeError(`VWAP samples must not go back in time: ${timestamp} after ${last}`);
    }
    if (this.tail === this.times.length) this.makeRoom();
    this.times[this.tail] = timestamp;
    this.prices[this.tail] = price;
    this.volumes[this.tail] = volume;
    this.tail++;
    this.priceVolume.add(price * volume);
    this.volume.add(volume);
    this.priceSum.add(price);
    if (volume > 0) this.withVolume++;
  }

  /** The VWAP at `t` (≥ the last pushed sample), or null when the window is empty. */
  at(t: number): VwapReading | null {
    const cutoff = t - this.windowMs;
    while (this.head < this.tail && (this.times[this.head] as number) <= cutoff) this.evictOldest();
    const samples = this.size;
    if (samples === 0) return null;
    const historyMs = t - (this.times[this.head] as number);
    if (this.withVolume === 0) return { vwap: this.priceSum.value / samples, volumeless: true, samples, historyMs };
    return { vwap: this.priceVolume.value / this.volume.value, volumeless: false, samples, historyMs };
  }

  private evictOldest(): void {
    const price = this.prices[this.head] as number;
    const volume = this.volumes[this.head] as number;
    this.priceVolume.add(-price * volume);
    this.volume.add(-volume);
    this.priceSum.add(-price);
    if (volume > 0) this.withVolume--;
    this.head++;
    if (this.withVolume === 0) this.resetVolumeSums();
  }

  /** With no volume left in the window the volume sums are exactly zero; clear any residue. */
  private resetVolumeSums(): void {
    this.priceVolume = new CompensatedSum();
    this.volume = new CompensatedSum();
  }

  /** Compacts live entries to the front, doubling capacity only when the live part is over half full. */
  private makeRoom(): void {
    const live = this.size;
    const capacity = live * 2 > this.times.length ? this.times.length * 2 : this.times.length;
    const move = (a: Float64Array): Float64Array => {
      if (capacity === a.length) return a.copyWithin(0, this.head, this.tail);
      const next = new Float64Array(capacity);
      next.set(a.subarray(this.head, this.tail), 0);
      return next;
    };
    this.times = move(this.times);
    this.prices = move(this.prices);
    this.volumes = move(this.volumes);
    this.head = 0;
    this.tail = live;
  }
}

/** The VWAP of a batch of samples (e.g. the window read back from the store) at `t`. */
export function vwapOf(samples: readonly VwapSample[], t: number, windowMs = 30 * DAY_MS): VwapReading | null {
  const rolling = new RollingVwap(windowMs);
  for (const s of samples) if (s.timestamp <= t) rolling.push(s);
  return rolling.at(t);
}

/**
 * drawdown(t) = 1 − price(t) / vwap30(t); negative when the price is above the VWAP. A float, for display and
 * records: 1 − 0.8 is 0.19999999999999996, so decisions at a threshold use the exact rule instead
 * (tierAt / isTriggered in intervention.ts, over exact.ts).
 */
export function drawdown(price: number, vwap: number): number {
  return 1 - price / vwap;
}
