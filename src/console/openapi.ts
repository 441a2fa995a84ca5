/**
 * The console's HTTP API, described once (OpenAPI 3.1, served at
 * /openapi.json): the schemas here are what test/console/api.test.ts checks
 * every real response against. Objects the workflows define (MonitorStatus,
 * InterventionState, PlanView) are described by the fields integrators rely
 * on; further fields may appear.
 */
const str = { type: 'string' } as const;
const num = { type: 'number' } as const;
const int = { type: 'integer' } as const;
const nullable = (s: object) => ({ anyOf: [s, { type: 'null' }] });
const obj = (required: string[], properties: Record<string, unknown>) => ({ type: 'object', required, properties });

const plan = obj(['treasuryId', 'interventionId', 'revision', 'tier', 'pumpIn', 'minPstrOut', 'consensusPrice', 'configVersion', 'expiresAt'], {
  treasuryId: str, interventionId: str, revision: int, tier: int, pumpIn: { type: 'string', pattern: '^\\d+$' }, minPstrOut: { type: 'string', pattern: '^\\d+$' },
  consensusPrice: num, configVersion: nullable(int), expiresAt: int,
});
const decision = obj(['operator', 'at'], { operator: str, at: int, reason: str, signature: str, plan: int });
const approvals = obj(['approvals', 'rejection', 'refused'], {
  approvals: { type: 'array', items: decision }, rejection: nullable(decision),
  refused: { type: 'array', items: obj(['signal', 'why'], { signal: obj(['kind', 'operator', 'at'], { kind: { enum: ['approve', 'reject'] }, operator: str, at: int }), why: str }) },
});
const interventionState = obj(['id', 'stage', 'status', 'startedAt', 'approvals', 'steps', 'timelock'], {
  id: str, stage: { enum: ['validate', 'assess', 'size', 'timelock', 'swap', 'track', 'done'] },
  status: { enum: ['running', 'executed', 'invalidated', 'expired', 'rejected', 'aborted'] }, startedAt: int,
  tier: nullable(int), pumpAmount: nullable(str), usdSize: nullable(num), approvals, plan: nullable(plan),
  timelock: obj(['required', 'unlockAt', 'expiresAt'], { required: { type: 'boolean' }, unlockAt: nullable(int), expiresAt: nullable(int) }),
  steps: { type: 'array', items: obj(['step', 'at', 'verdict'], { step: str, at: int, verdict: str }) },
  result: nullable(obj(['pumpSpent', 'pstrBought'], { pumpSpent: str, pstrBought: str, realizedPrice: nullable(num) })), reason: nullable(str),
});
const signedMessage = obj(['message'], {
  message: { ...str, description: 'the exact one-line text signed (pstr-treasury-agent v1; action=…)' },
  signature: { ...str, description: 'base58 ed25519 signature of the message in its Solana off-chain envelope (what `pstr sign-plan` and `pstr sign-action` produce)' },
  signatureBase64: { ...str, description: 'the same signature as base64 (what a wallet\'s signMessage returns); one of signature or signatureBase64' },
});
const error = obj(['error'], { error: str });

export const schemas = {
  Treasuries: obj(['treasuries'], { treasuries: { type: 'array', items: obj(['id'], { id: str }) } }),
  Status: obj(['treasuryId', 'status', 'health', 'bands'], {
    treasuryId: str,
    status: obj(['treasuryId', 'mode', 'paused', 'emergencyStop', 'cycles', 'lastCycle', 'pendingInterventions'], {
      treasuryId: str, mode: str, paused: { type: 'boolean' }, emergencyStop: { type: 'boolean' }, cycles: int, signing: str,
      lastCycle: nullable(obj(['at', 'validPrice', 'decision'], { at: int, validPrice: { type: 'boolean' }, consensusPrice: nullable(num), vwap30: nullable(num), reserveRatio: nullable(num), health: nullable(num), healthLevel: nullable(str), decision: str })),
      pendingInterventions: { type: 'array', items: str },
    }),
    health: obj(['score', 'level'], { score: nullable(num), level: nullable(str) }),
    bands: { type: 'array', items: obj(['label', 'price'], { label: str, price: num }) },
    consensus: {},
  }),
  History: obj(['treasuryId', 'points'], { treasuryId: str, points: { type: 'array', items: obj(['at', 'price'], { at: int, price: num }) } }),
  Interventions: obj(['treasuryId', 'interventions'], { treasuryId: str, interventions: { type: 'array', items: obj(['id', 'execution', 'state'], { id: str, execution: str, state: nullable(interventionState) }) } }),
  Intervention: interventionState,
  Plan: obj(['id', 'plan', 'signing', 'approvals', 'approvalsRequired', 'stage', 'status'], {
    id: str, plan: nullable(plan), signing: { type: 'boolean' }, approvals: int, approvalsRequired: int, stage: str, status: str,
    toSign: obj(['message', 'cli'], { message: str, envelopeBase64: str, cli: str }),
  }),
  Report: obj(['settings', 'figures', 'series', 'interventions', 'bucketMs'], {
    settings: { type: 'object' }, figures: { type: 'object' }, bucketMs: int, interventions: { type: 'array' },
    series: obj(['t', 'pstrUsd', 'vwap30', 'valueUsd', 'reserveRatio', 'health'], {
      t: { type: 'array', items: num }, pstrUsd: { type: 'array' }, vwap30: { type: 'array' }, valueUsd: { type: 'array' }, reserveRatio: { type: 'array' }, health: { type: 'array' },
    }),
  }),
  Audit: obj(['id', 'lines'], { id: str, lines: { type: 'array', items: str } }),
  Alerts: obj(['treasuryId', 'alerts'], { treasuryId: str, alerts: { type: 'array', items: obj(['at', 'level', 'kind', 'message'], { at: int, level: str, kind: str, message: str, delivered: { type: 'boolean' } }) } }),
  Proposals: obj(['treasuryId', 'proposals'], { treasuryId: str, proposals: { type: 'array', items: obj(['id', 'execution', 'tally'], { id: str, execution: str, tally: nullable({ type: 'object' }) }) } }),
  Decision: obj(['accepted', 'why', 'approvals'], { accepted: { type: 'boolean' }, why: str, approvals }),
  ActionResult: obj(['action', 'accepted', 'detail', 'paused', 'emergencyStop'], { action: str, accepted: { type: 'boolean' }, detail: str, paused: { type: 'boolean' }, emergencyStop: { type: 'boolean' } }),
  SignedMessage: signedMessage,
  Error: error,
} as const;

type SchemaName = keyof typeof schemas;
const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: SchemaName, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const treasury = { name: 'treasury', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' } };
const n = { name: 'n', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d+$' }, description: 'the intervention number (intervention/<treasury>/<n>)' };
const get = (summary: string, name: SchemaName, parameters: unknown[] = [treasury]) => ({ get: { summary, parameters, responses: { 200: json(name, summary), 404: json('Error', 'unknown treasury or workflow') } } });
const post = (summary: string, name: SchemaName, parameters: unknown[]) => ({
  post: {
    summary, parameters, requestBody: { required: true, content: { 'application/json': { schema: ref('SignedMessage') } } },
    responses: { 200: json(name, 'the workflow accepted it'), 400: json('Error', 'not a signed operator message for this action'), 409: json('Error', 'the workflow refused it, with its reason') },
  },
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'PSTR treasury agent console API', version: '1', description: 'Read the treasury agent, and act on it with signed operator messages only (src/domain/operator-message.ts).' },
  paths: {
    '/api/treasuries': get('the treasuries this fleet runs', 'Treasuries', []),
    '/api/treasuries/{treasury}/status': get('monitor status, health, trigger and tier bands, the latest consensus', 'Status'),
    '/api/treasuries/{treasury}/history': get('PSTR price history for the chart (thinned)', 'History'),
    '/api/treasuries/{treasury}/interventions': get('every intervention with its state', 'Interventions'),
    '/api/treasuries/{treasury}/interventions/{n}': get("one intervention's state", 'Intervention', [treasury, n]),
    '/api/treasuries/{treasury}/interventions/{n}/plan': get('the plan to approve; with ?operator=NAME the exact message to sign (and with &publicKey=… its envelope)', 'Plan', [treasury, n,
      { name: 'operator', in: 'query', schema: { type: 'string' } }, { name: 'action', in: 'query', schema: { enum: ['approve', 'reject'] } },
      { name: 'publicKey', in: 'query', schema: { type: 'string' } }, { name: 'reason', in: 'query', schema: { type: 'string' } }]),
    '/api/treasuries/{treasury}/interventions/{n}/audit': get('the audit timeline (the text `pstr audit` prints)', 'Audit', [treasury, n]),
    '/api/treasuries/{treasury}/interventions/{n}/approve': post('approve the current plan (signed)', 'Decision', [treasury, n]),
    '/api/treasuries/{treasury}/interventions/{n}/reject': post('reject the current plan (signed)', 'Decision', [treasury, n]),
    '/api/treasuries/{treasury}/actions/{action}': post('a signed monitor action', 'ActionResult', [treasury, { name: 'action', in: 'path', required: true, schema: { enum: ['pause', 'resume', 'emergencyStop', 'cancelIntervention'] } }]),
    '/api/treasuries/{treasury}/report': get("the operator report's figures and chart series, computed now (the HTML page is /treasuries/{treasury}/report)", 'Report'),
    '/api/treasuries/{treasury}/alerts': get('recent alerts, newest first', 'Alerts'),
    '/api/treasuries/{treasury}/proposals': get('governance proposals with tallies and deadlines', 'Proposals'),
    '/api/treasuries/{treasury}/events': { get: { summary: 'server-sent events: `status` and `intervention` as they change', parameters: [treasury], responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } } } },
  },
  components: { schemas },
} as const;
