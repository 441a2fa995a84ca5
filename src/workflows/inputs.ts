/**
 * Workflow inputs are checked at the start with the schemas of messages.ts:
 * a malformed input fails the workflow at once with a non-retryable failure
 * naming the field, instead of a plain error that retries the first workflow
 * task forever (a wedged workflow nobody is told about).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { parseMessage } from './messages.ts';

export function checkInput<S extends z.ZodType>(schema: S, raw: unknown, workflowType: string): z.output<S> {
  const p = parseMessage(schema, raw);
  if (!p.ok) throw ApplicationFailure.nonRetryable(`${workflowType} input refused: ${p.why}`, 'InvalidWorkflowInput');
  return p.value;
}
