/**
 * Runs a program of src/programs on Temporal: a `call` is awaited as it is
 * (an activity, a child, a signal; shielded ones in a non-cancellable scope),
 * `sleep` is a durable timer and `wait` a `condition()`. The program's answer
 * or error goes back into it, so its try/catch sees what the activity threw.
 * The commands are the program's, in its order: replay sees the same history.
 */
import { CancellationScope, condition, isCancellation, log, patched, sleep } from '@temporalio/workflow';
import type { Program, ProgramEnv, Step } from '../programs/steps.ts';

export const temporalEnv: ProgramEnv = {
  now: () => Date.now(),
  patched: (id) => patched(id),
  isCancellation: (err) => isCancellation(err),
  log: { info: (m, a) => log.info(m, a), warn: (m, a) => log.warn(m, a), error: (m, a) => log.error(m, a) },
};

function perform(step: Step): Promise<unknown> {
  switch (step.op) {
    case 'call':
      // Invoked now, inside the scope it should run in (the activity takes the scope current when it is scheduled).
      return step.shielded ? CancellationScope.nonCancellable(async () => step.run()) : (async () => step.run())();
    case 'sleep':
      return sleep(step.ms);
    case 'wait':
      return condition(step.until, step.timeoutMs);
  }
}

export async function runProgram<T>(program: Program<T>): Promise<T> {
  let next = program.next();
  while (!next.done) {
    let answer: unknown;
    let failure: { error: unknown } | null = null;
    try {
      answer = await perform(next.value);
    } catch (error) {
      failure = { error };
    }
    next = failure ? program.throw(failure.error) : program.next(answer);
  }
  return next.value;
}
