/**
 * The step protocol of the programs in this folder: the monitor cycle and the
 * intervention lifecycle are written once, as generators that yield what they
 * need from the world and receive its answer. Two interpreters run them:
 *
 * - on Temporal (src/workflows/run-program.ts), a `call` is an activity (or a
 *   child, a signal), `sleep` a durable timer, `wait` a `condition()`;
 * - in the backtest (src/backtest/interpreter.ts), a discrete-event loop
 *   with a virtual clock and a timer heap answers each step synchronously.
 *
 * The program never sees which one runs it: the same lines decide in
 * production and in the backtest.
 */

export type Step =
  /** Do something in the world (its answer, or a thrown error, goes back); shielded: a cancellation does not stop it. */
  | { readonly op: 'call'; readonly run: () => unknown; readonly shielded: boolean }
  /** Let `ms` of (virtual) time pass. */
  | { readonly op: 'sleep'; readonly ms: number }
  /** Until `until()` holds (true) or `timeoutMs` passed (false); `until` changes only when a message arrives. */
  | { readonly op: 'wait'; readonly until: () => boolean; readonly timeoutMs: number };

export type Program<T> = Generator<Step, T, unknown>;

/** One call into the world; `yield* call(…)` gives its answer with its type. */
export function* call<T>(run: () => T | Promise<T>, opts: { shielded?: boolean } = {}): Program<Awaited<T>> {
  return (yield { op: 'call', run, shielded: opts.shielded ?? false }) as Awaited<T>;
}

/** The same call, not stopped by a cancellation (a slice in flight, the settlement of an intervention). */
export function shielded<T>(run: () => T | Promise<T>): Program<Awaited<T>> {
  return call(run, { shielded: true });
}

export function* sleep(ms: number): Program<void> {
  yield { op: 'sleep', ms };
}

/** True when `until()` held before `timeoutMs` passed. */
export function* waitUntil(until: () => boolean, timeoutMs: number): Program<boolean> {
  return (yield { op: 'wait', until, timeoutMs }) as boolean;
}

/** What every program reads from its interpreter besides its steps: the clock, patch markers, cancellation, logging. */
export interface ProgramEnv {
  now(): number;
  /** Temporal's `patched(id)`; the backtest runs the newest code (true). */
  patched(id: string): boolean;
  /** True for a cancellation (of the workflow, or of an activity by it), which ends what it stops instead of being handled. */
  isCancellation(err: unknown): boolean;
  log: {
    info(message: string, attrs?: Record<string, unknown>): void;
    warn(message: string, attrs?: Record<string, unknown>): void;
    error(message: string, attrs?: Record<string, unknown>): void;
  };
}
