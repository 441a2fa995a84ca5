/**
 * The backtest's interpreter for the programs of src/programs: a
 * discrete-event loop on a virtual clock. A `call` is answered at once by the
 * backtest's ports (synchronously: they compute from the price file and the
 * model pool), a `sleep` goes on the timer heap, a `wait` parks the program
 * until a message makes its condition true (`notify`) or its timeout fires.
 * Timers due at the same instant fire in the order they were set, so a run is
 * deterministic.
 */
import type { Program, ProgramEnv, Step } from '../programs/steps.ts';

const NO_LOG = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Task {
  readonly program: Program<unknown>;
  done: boolean;
  /** The wait it is parked on, if any (a timer may also be pending for it). */
  waiting: { until: () => boolean; timer: Timer } | null;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly task: Task;
  cancelled: boolean;
  /** What the program receives when it fires: undefined after a sleep, false after a wait's timeout. */
  readonly answer: unknown;
}

export class Scheduler {
  private clock: number;
  private seq = 0;
  /** Sorted by (at, seq); few at a time (one per running intervention), so an ordered insert is enough. */
  private readonly timers: Timer[] = [];
  private readonly parked = new Set<Task>();

  /** `onPark`: called each time a program parks (the scripted operator looks at what is waiting then). */
  constructor(start: number, private readonly onPark: () => void = () => undefined) {
    this.clock = start;
  }

  now(): number {
    return this.clock;
  }

  /** What the programs it runs read besides their steps: its clock, the newest code (every patch), no cancellation, no logs. */
  readonly env: ProgramEnv = { now: () => this.clock, patched: () => true, isCancellation: () => false, log: NO_LOG };

  /** Starts a program and runs it until it first sleeps or waits. */
  spawn(program: Program<unknown>): void {
    this.resume({ program, done: false, waiting: null }, { value: undefined });
  }

  /** Fires every timer due before `t` (each at its own time), then moves the clock to `t`. */
  runUntilBefore(t: number): void {
    while (this.timers.length > 0 && (this.timers[0] as Timer).at < t) this.fireNext();
    if (t > this.clock) this.clock = t;
  }

  /** Fires every timer due at or before the clock. */
  runDue(): void {
    while (this.timers.length > 0 && (this.timers[0] as Timer).at <= this.clock) this.fireNext();
  }

  /** A message arrived: every parked program whose condition now holds goes on. */
  notify(): void {
    for (const task of [...this.parked]) {
      const w = task.waiting;
      if (!w || !w.until()) continue;
      w.timer.cancelled = true;
      this.parked.delete(task);
      task.waiting = null;
      this.resume(task, { value: true });
    }
  }

  /** Programs not finished yet (still sleeping or waiting). */
  get pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }

  private fireNext(): void {
    const timer = this.timers.shift() as Timer;
    if (timer.cancelled) return;
    if (timer.at > this.clock) this.clock = timer.at;
    const task = timer.task;
    if (task.waiting) {
      this.parked.delete(task);
      task.waiting = null;
    }
    this.resume(task, { value: timer.answer });
  }

  private addTimer(task: Task, at: number, answer: unknown): Timer {
    const timer: Timer = { at, seq: this.seq++, task, cancelled: false, answer };
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1] as Timer).at > at) i--;
    this.timers.splice(i, 0, timer);
    return timer;
  }

  /** Runs the program with `input` until it parks or ends; a call's thrown error goes back into it. */
  private resume(task: Task, input: { value: unknown } | { error: unknown }): void {
    let next = 'error' in input ? task.program.throw(input.error) : task.program.next(input.value);
    while (!next.done) {
      const answer = this.perform(task, next.value);
      if (answer === PARKED) {
        this.onPark();
        return;
      }
      next = 'error' in answer ? task.program.throw(answer.error) : task.program.next(answer.value);
    }
    task.done = true;
  }

  private perform(task: Task, step: Step): { value: unknown } | { error: unknown } | typeof PARKED {
    switch (step.op) {
      case 'call':
        try {
          const value = step.run();
          if (value instanceof Promise) throw new Error('a backtest port answered with a promise: backtest ports answer synchronously');
          return { value };
        } catch (error) {
          return { error };
        }
      case 'sleep':
        this.addTimer(task, this.clock + Math.max(0, step.ms), undefined);
        return PARKED;
      case 'wait':
        if (step.until()) return { value: true };
        task.waiting = { until: step.until, timer: this.addTimer(task, this.clock + Math.max(0, step.timeoutMs), false) };
        this.parked.add(task);
        return PARKED;
    }
  }
}

const PARKED = Symbol('parked');
