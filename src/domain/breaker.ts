/**
 * A circuit breaker as a pure state machine (closed → open → half-open).
 * An oracle source that keeps failing is left alone for a cooldown instead
 * of being hammered every cycle; after the cooldown one trial read decides
 * whether it closes again. The caller owns the state and passes `now` (epoch
 * ms) in; nothing here reads a clock.
 *
 *   closed    — reads pass; `failureThreshold` consecutive failures open it.
 *   open      — reads are refused until `cooldownMs` after it opened.
 *   half-open — exactly one trial read passes; its success closes the
 *               breaker, its failure opens it again for a fresh cooldown.
 */

export interface BreakerParams {
  /** Consecutive failures that open a closed breaker (config `oracle.breaker.failures`). */
  readonly failureThreshold: number;
  /** How long an open breaker refuses reads (config `oracle.breaker.cooldownSeconds`, in ms). */
  readonly cooldownMs: number;
}

export type BreakerState =
  | { readonly status: 'closed'; readonly consecutiveFailures: number }
  | { readonly status: 'open'; readonly openedAt: number; readonly consecutiveFailures: number }
  | { readonly status: 'half-open'; readonly trialInFlight: boolean; readonly consecutiveFailures: number };

export type BreakerDecision =
  | { readonly allowed: true; readonly state: BreakerState }
  | { readonly allowed: false; readonly state: BreakerState; readonly retryAt: number | null; readonly reason: string };

export const CLOSED_BREAKER: BreakerState = Object.freeze({ status: 'closed', consecutiveFailures: 0 });

export function checkBreakerParams(p: BreakerParams): BreakerParams {
  if (!Number.isInteger(p.failureThreshold) || p.failureThreshold < 1) {
    throw new RangeError(`breaker: failureThreshold = ${p.failureThreshold} must be an integer ≥ 1`);
  }
  if (!Number.isFinite(p.cooldownMs) || p.cooldownMs <= 0) {
    throw new RangeError(`breaker: cooldownMs = ${p.cooldownMs} must be a positive finite number of milliseconds`);
  }
  return p;
}

/** May a read start at `now`? Returns the state to keep (an expired open breaker becomes half-open with its trial taken). */
export function requestPermission(state: BreakerState, now: number, params: BreakerParams): BreakerDecision {
  checkNow(now);
  checkBreakerParams(params);
  switch (state.status) {
    case 'closed':
      return { allowed: true, state };
    case 'open': {
      const retryAt = state.openedAt + params.cooldownMs;
      if (now < retryAt) {
        return { allowed: false, state, retryAt, reason: `circuit open after ${state.consecutiveFailures} consecutive failure(s); next trial in ${seconds(retryAt - now)} s` };
      }
      return { allowed: true, state: { status: 'half-open', trialInFlight: true, consecutiveFailures: state.consecutiveFailures } };
    }
    case 'half-open':
      if (state.trialInFlight) {
        return { allowed: false, state, retryAt: null, reason: 'circuit half-open: a trial read is already in flight' };
      }
      return { allowed: true, state: { ...state, trialInFlight: true } };
  }
}

/** A read succeeded: whatever the state, the source is healthy again. */
export function recordSuccess(_state: BreakerState): BreakerState {
  return CLOSED_BREAKER;
}

/** A read failed at `now`: count it, and open the breaker at the threshold or when a half-open trial fails. */
export function recordFailure(state: BreakerState, now: number, params: BreakerParams): BreakerState {
  checkNow(now);
  checkBreakerParams(params);
  const consecutiveFailures = state.consecutiveFailures + 1;
  if (state.status === 'open') {
    // A failure reported while open (a read that began before it opened) only extends the count, not the cooldown.
    return { ...state, consecutiveFailures };
  }
  if (state.status === 'half-open' || consecutiveFailures >= params.failureThreshold) {
    return { status: 'open', openedAt: now, consecutiveFailures };
  }
  return { status: 'closed', consecutiveFailures };
}

/**
 * A read that neither succeeded nor failed in a way that says anything about the
 * source's health (e.g. it was refused before it started): a half-open trial slot is
 * given back so the next read can take it.
 */
export function releaseTrial(state: BreakerState): BreakerState {
  return state.status === 'half-open' ? { ...state, trialInFlight: false } : state;
}

function checkNow(now: number): void {
  if (!Number.isFinite(now)) throw new RangeError(`breaker: now = ${now} is not a finite epoch-ms timestamp`);
}

function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(3));
}
