/**
 * Operator actions sent as Updates: the payload is checked with the same
 * schema the workflow parses it with (messages.ts) before anything is sent,
 * and a refusal (the validator's, or the handler's `accepted: false`) comes
 * back with its reason, printed as one line with a non-zero exit.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type UpdateDefinition } from '@temporalio/client';
import type { z } from 'zod';
import { parseMessage } from '../workflows/messages.ts';
import { call } from './connect.ts';
import type { Ctx } from './context.ts';
import { CliError } from './errors.ts';

/** The message as the workflow will parse it; a malformed one is refused here, naming the field. */
export function checked<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const p = parseMessage(schema, raw);
  if (!p.ok) throw new CliError(`${what} not sent: ${p.why}`);
  return p.value;
}

/** Executes an Update and returns its result; a refused one is a CliError with the workflow's reason. */
export async function runUpdate<R, A>(ctx: Ctx, workflowId: string, def: UpdateDefinition<R, [A]>, arg: A, what: string, missing: string): Promise<R> {
  try {
    return await call(ctx, what, () => ctx.client.workflow.getHandle(workflowId).executeUpdate(def, { args: [arg] }));
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new CliError(`${what} refused: ${err.cause?.message ?? err.message}`);
    if (err instanceof WorkflowNotFoundError) throw new CliError(missing);
    throw err;
  }
}
