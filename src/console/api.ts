/**
 * The console's HTTP API (Hono): reads from the workflows and the store, and
 * writes ONLY signed operator messages, forwarded as the same Updates the CLI
 * sends. The workflow verifies every signature; this layer refuses early
 * (400) what is not a signed message for the action asked, and answers the
 * workflow's refusal as 409 with its reason.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { base58, base64 } from '@scure/base';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { auditTimeline } from '../client/audit.ts';
import { decodeHistory } from '../client/history.ts';
import { parseMessage } from '../domain/operator-message.ts';
import {
  approveUpdate, cancelInterventionUpdate, emergencyStopUpdate, interventionWorkflowId, monitorWorkflowId, pauseUpdate, rejectUpdate, resumeUpdate, statusQuery,
} from '../workflows/contract.ts';
import {
  alertsView, historyView, interventionState, interventionsView, planView, proposalsView, reportView, statusView, type ConsoleSources,
} from './data.ts';
import { openApiDocument } from './openapi.ts';

const ACTION_UPDATES = { pause: pauseUpdate, resume: resumeUpdate, emergencyStop: emergencyStopUpdate, cancelIntervention: cancelInterventionUpdate } as const;
type ActionEndpoint = keyof typeof ACTION_UPDATES;
const isActionEndpoint = (a: string): a is ActionEndpoint => Object.hasOwn(ACTION_UPDATES, a);

class HttpError extends Error {
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message);
  }
}

/** The signed message of a write request: its text parses, names `action`, and carries a signature. */
async function signedBody(c: Context, action: string): Promise<{ message: string; signature: string; operator: string; fields: Record<string, string> }> {
  const body = await c.req.json().catch(() => null) as Record<string, unknown> | null;
  if (!body || typeof body !== 'object') throw new HttpError(400, 'body: expected a JSON object {message, signature}');
  const parsed = parseMessage(body.message);
  if (!parsed.ok) throw new HttpError(400, parsed.why);
  if (parsed.value.action !== action) throw new HttpError(400, `action: the message is signed for "${parsed.value.action}", this endpoint is "${action}"`);
  let signature = typeof body.signature === 'string' ? body.signature : null;
  if (!signature && typeof body.signatureBase64 === 'string') {
    try {
      signature = base58.encode(base64.decode(body.signatureBase64));
    } catch {
      throw new HttpError(400, 'signatureBase64: not base64');
    }
  }
  if (!signature) throw new HttpError(400, 'signature: missing; the console accepts only signed operator messages');
  return { message: body.message as string, signature, operator: parsed.value.operator, fields: parsed.value.fields };
}

/** Runs an Update and maps a refusal to 409 with the workflow's reason. */
async function update<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new HttpError(409, err.cause?.message ?? err.message);
    throw err;
  }
}

export function consoleApi(src: ConsoleSources): Hono {
  const app = new Hono();
  const known = (t: string) => {
    if (!src.treasuries.includes(t)) throw new HttpError(404, `treasury "${t}" is not run by this fleet (${src.treasuries.join(', ')})`);
    return t;
  };
  const ivId = (c: Context) => {
    const n = c.req.param('n') ?? '';
    if (!/^\d+$/.test(n)) throw new HttpError(400, `n: "${n}" is not an intervention number`);
    return interventionWorkflowId(known(c.req.param('treasury') ?? ''), Number(n));
  };

  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json({ error: err.message }, err.status);
    if (err instanceof WorkflowNotFoundError) return c.json({ error: err.message }, 404);
    return c.json({ error: `unexpected: ${err instanceof Error ? err.message : String(err)}`.slice(0, 400) }, 500 as never);
  });

  app.get('/openapi.json', (c) => c.json(openApiDocument));
  app.get('/api/treasuries', (c) => c.json({ treasuries: src.treasuries.map((id) => ({ id })) }));
  app.get('/api/treasuries/:treasury/status', async (c) => c.json(await statusView(src, known(c.req.param('treasury')))));
  app.get('/api/treasuries/:treasury/history', async (c) => c.json(await historyView(src, known(c.req.param('treasury')), Date.now())));
  app.get('/api/treasuries/:treasury/interventions', async (c) => c.json(await interventionsView(src, known(c.req.param('treasury')))));
  app.get('/api/treasuries/:treasury/interventions/:n', async (c) => c.json(await interventionState(src, ivId(c))));
  app.get('/api/treasuries/:treasury/interventions/:n/plan', async (c) => {
    const action = c.req.query('action') === 'reject' ? 'reject' : 'approve';
    return c.json(await planView(src, ivId(c), { operator: c.req.query('operator'), action, publicKey: c.req.query('publicKey'), reason: c.req.query('reason') }));
  });
  app.get('/api/treasuries/:treasury/interventions/:n/audit', async (c) => {
    const id = ivId(c);
    const history = await src.client.workflow.getHandle(id).fetchHistory();
    return c.json({ id, lines: auditTimeline(id, null, decodeHistory(history)) });
  });
  for (const kind of ['approve', 'reject'] as const) {
    app.post(`/api/treasuries/:treasury/interventions/:n/${kind}`, async (c) => {
      const id = ivId(c);
      const signed = await signedBody(c, kind);
      const def = kind === 'approve' ? approveUpdate : rejectUpdate;
      const r = await update(() => src.client.workflow.getHandle(id).executeUpdate(def, { args: [{ operator: signed.operator, message: signed.message, signature: signed.signature }] }));
      return r.accepted ? c.json(r) : c.json({ error: r.why }, 409);
    });
  }
  app.post('/api/treasuries/:treasury/actions/:action', async (c) => {
    const treasuryId = known(c.req.param('treasury'));
    const action = c.req.param('action');
    if (!isActionEndpoint(action)) throw new HttpError(400, `action: "${action}" is not one of ${Object.keys(ACTION_UPDATES).join(', ')}`);
    const signed = await signedBody(c, action);
    const payload = { by: signed.operator, message: signed.message, signature: signed.signature, ...(signed.fields.reason ? { reason: signed.fields.reason } : {}), ...(action === 'cancelIntervention' ? { interventionId: signed.fields.intervention ?? '' } : {}) };
    const handle = src.client.workflow.getHandle(monitorWorkflowId(treasuryId));
    const r = await update(() => handle.executeUpdate(ACTION_UPDATES[action], { args: [payload] }));
    return r.accepted ? c.json(r) : c.json({ error: r.detail }, 409);
  });
  app.get('/api/treasuries/:treasury/report', async (c) => c.json(await reportView(src, known(c.req.param('treasury')), Date.now())));
  app.get('/api/treasuries/:treasury/alerts', async (c) => c.json(await alertsView(src, known(c.req.param('treasury')))));
  app.get('/api/treasuries/:treasury/proposals', async (c) => c.json(await proposalsView(src, known(c.req.param('treasury')))));
  app.get('/api/treasuries/:treasury/events', (c) => {
    const treasuryId = known(c.req.param('treasury'));
    return streamSSE(c, async (stream) => {
      let last = '';
      const seen = new Map<string, string>();
      while (!stream.aborted) {
        const status = await src.client.workflow.getHandle(monitorWorkflowId(treasuryId)).query(statusQuery).catch(() => null);
        const key = status ? `${status.cycles}/${status.paused}/${status.emergencyStop}/${status.pendingInterventions.join(',')}` : 'unreachable';
        if (key !== last) {
          last = key;
          await stream.writeSSE({ event: 'status', data: JSON.stringify({ cycles: status?.cycles ?? null, paused: status?.paused ?? null, emergencyStop: status?.emergencyStop ?? null }) });
        }
        const list = await interventionsView(src, treasuryId).catch(() => ({ interventions: [] }));
        for (const iv of list.interventions) {
          const sig = JSON.stringify([iv.state?.status, iv.state?.stage, iv.state?.steps.length, iv.state?.approvals.approvals.length]);
          if (seen.get(iv.id) !== sig) {
            seen.set(iv.id, sig);
            await stream.writeSSE({ event: 'intervention', data: JSON.stringify({ id: iv.id, status: iv.state?.status ?? null, stage: iv.state?.stage ?? null, lastStep: iv.state?.steps.at(-1) ?? null }) });
          }
        }
        await stream.sleep(1000);
      }
    });
  });
  return app;
}
