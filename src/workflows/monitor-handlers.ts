/**
 * The monitor's message handlers. Every payload is parsed by its schema
 * (messages.ts); operator actions are authorized (domain/operators.ts);
 * governance messages are checked against the store through an activity. A
 * refused message changes nothing and is recorded in `operatorEvents` with who
 * sent what and why. No handler throws: a throw in a handler would fail the
 * workflow task (and, on the dev server, the monitor), ending the safety loop.
 *
 * Operator actions come as signals (Web UI, `temporal` CLI, governance) and as
 * Updates (`client.ts`). An Update's validator refuses a malformed payload
 * before anything enters history (the caller gets the reason, the worker logs
 * it); a well-formed action that is not allowed is refused by the handler,
 * recorded like a signal's, and answered `accepted: false` with the reason.
 * updateConfig's Update, which answers with the configuration, refuses in its
 * validator everything it would not apply.
 */
import {
  ApplicationFailure, condition, getExternalWorkflowHandle, log, patched, proxyActivities, setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { ConfigError, mergeConfig, type Config } from '../config-schema.ts';
import { decideConfigPatch } from '../domain/config-policy.ts';
import { executionDelayHours } from '../domain/governance.ts';
import { HOUR_MS } from '../domain/intervention.ts';
import { authorize, operatorsLine, resumeDecision, signedActionVerdict, signedOperator, signingLine, type MonitorOperatorAction, type Verdict } from '../domain/operators.ts';
import { parseMessage as parseSigned, pruneUsed, signingRequired } from '../domain/operator-message.ts';
import {
  applyProposalUpdate, cancelInterventionSignal, cancelInterventionUpdate, configQuery, configVersionQuery, emergencyStopSignal, emergencyStopUpdate, healthQuery, interventionSettledSignal,
  pauseSignal, pauseUpdate, resumeSignal, resumeUpdate, statusQuery, updateConfigSignal, updateConfigUpdate, wakeSignal,
  type ApplyProposalResult, type MonitorStatus, type OperatorResult, type ProposalChange,
} from './contract.ts';
import {
  CONFIG_POLICY_PATCH, OPERATOR_CHECKS_PATCH, REASON_MAX, SIGNED_ACTIONS_PATCH, applyProposalMessage, cancelInterventionMessage, claimedName, emergencyStopMessage, interventionSettledMessage, parseMessage, pauseMessage, resumeMessage,
  updateConfigMessage, wakeMessage, type OperatorActionMessage, type Parsed,
} from './messages.ts';
import type { MonitorState } from './monitor.ts';
import { controlStatus } from './monitor-control.ts';
import { changeSource, configAdopted, configAuthorityStatus } from './monitor-config.ts';

/**
 * The check of a governance message: a passed proposal's change should survive a store blip, so it is retried for
 * up to five minutes; when the store cannot answer by then the message is refused and recorded (fail closed).
 */
const checks = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Proposals whose change was applied, kept so one proposal applies once (bounded: the latest ones). */
const APPLIED_KEPT = 50;
/** An intervention's swap time may lead the monitor's clock by this much (clocks of two workflow tasks). */
const SETTLE_CLOCK_SLACK_MS = 5 * 60_000;

const bounded = (text: string, max = REASON_MAX) => (text.length > max ? `${text.slice(0, max)}…` : text);

const yes = (why: string): Verdict => ({ ok: true, why });
const no = (why: string): Verdict => ({ ok: false, why });

type Origin = { kind: 'operator' } | { kind: 'governance'; proposalKind: string };

/** One operator action: its schema, the proposal change it stands for, the state check (pure) and the change (applied only after every check). */
interface ActionSpec<M extends OperatorActionMessage> {
  action: MonitorOperatorAction;
  parse: (raw: unknown) => Parsed<M>;
  /** The proposal change this message stands for (compared with the store's); emergencyStop has none any proposal may carry. */
  change: (m: M) => ProposalChange | { action: 'emergencyStop' };
  check: (m: M, origin: Origin) => Verdict;
  apply: (m: M, origin: Origin) => Verdict;
}

export function installMonitorHandlers(s: MonitorState): void {
  const treasuryId = s.config.treasuryId;

  const note = (action: string, who: { by: string | null; reason: string | null }, accepted: boolean, detail: string) => {
    s.operatorEvents = [...s.operatorEvents, { at: Date.now(), action, by: who.by, reason: who.reason, accepted, detail: bounded(detail) }].slice(-20);
    log.info(`operator ${action}`, { treasuryId, by: who.by, accepted, detail: bounded(detail) });
  };
  const who = (m: OperatorActionMessage) => ({ by: m.by, reason: m.reason ?? null });
  const refusedPayload = (action: string, raw: unknown, why: string) => note(action, { by: claimedName(raw, 'by'), reason: null }, false, `refused: malformed ${action}: ${why}`);
  const result = (action: string, v: Verdict): OperatorResult => ({ action, accepted: v.ok, detail: v.why, paused: s.paused, emergencyStop: s.emergencyStop });

  type ConfigVerdict = { ok: true; config: Config; why: string } | { ok: false; why: string };
  /**
   * A patch judged by key class for its origin (operational, tightening only when stricter, governed only by the
   * proposal kind that owns the key; never treasuryId or a key fixed at start-up), after the schema's ceilings.
   * `enforce` false: the rules of histories recorded before the key classes (merge and validate only).
   */
  const configVerdict = (patch: Record<string, unknown>, origin: Origin, enforce: boolean): ConfigVerdict => {
    if (!enforce) {
      const legacy = mergedConfig(patch);
      return legacy.ok ? { ...legacy, why: JSON.stringify(patch) } : legacy;
    }
    const d = decideConfigPatch(s.config, patch, origin);
    return d.ok ? { ok: true, config: d.config, why: `applied: ${d.why}` } : { ok: false, why: d.why };
  };
  const policyEnforced = () => patched(CONFIG_POLICY_PATCH);
  /** The one place a new configuration is adopted (so one more step, such as persisting its version, goes here). */
  const adoptConfig = (next: Config, change: { patch: unknown; source: string; by: string | null }): void => {
    s.config = next;
    // The accepted configuration becomes the next version in the store (src/workflows/monitor-config.ts).
    configAdopted(s, change);
    s.wake = true;
  };

  const mergedConfig = (patch: unknown): { ok: true; config: Config } | { ok: false; why: string } => {
    try {
      const next = mergeConfig(s.config, patch, 'updateConfig');
      if (next.treasuryId !== s.config.treasuryId) return { ok: false, why: 'treasuryId cannot change on a running monitor' };
      return { ok: true, config: next };
    } catch (err) {
      return { ok: false, why: err instanceof ConfigError ? err.message : String(err) };
    }
  };

  const pause: ActionSpec<OperatorActionMessage> = {
    action: 'pause', parse: (raw) => parseMessage(pauseMessage, raw), change: () => ({ action: 'pause' }),
    check: () => yes('paused'),
    apply: () => {
      s.paused = true;
      return yes('paused: no interventions or accumulation until resume');
    },
  };
  const emergencyStop: ActionSpec<OperatorActionMessage> = {
    action: 'emergencyStop', parse: (raw) => parseMessage(emergencyStopMessage, raw), change: () => ({ action: 'emergencyStop' }),
    // No proposal kind may latch the stop (SPEC §9): a governance emergencyStop is refused by the proposal check.
    check: (_m, origin) => (origin.kind === 'operator' ? yes('latched') : no('emergencyStop is an operator action')),
    apply: () => {
      s.emergencyStop = true;
      return yes('emergency stop latched by an operator');
    },
  };
  const resumeVerdictFor = (origin: Origin) => resumeDecision({
    emergencyStop: s.emergencyStop, lastReserveRatio: s.lastReserveRatio, minRrThreshold: s.config.risk.minRrThreshold,
    fromOperator: origin.kind === 'operator', fromEmergencyProposal: origin.kind === 'governance' && origin.proposalKind === 'emergencyAction',
  });
  const resume: ActionSpec<OperatorActionMessage> = {
    action: 'resume', parse: (raw) => parseMessage(resumeMessage, raw), change: () => ({ action: 'resume' }),
    check: (_m, origin) => resumeVerdictFor(origin),
    apply: (_m, origin) => {
      const v = resumeVerdictFor(origin);
      if (!v.ok) return v;
      s.emergencyStop = false;
      s.paused = false;
      return v;
    },
  };
  type ConfigMessage = OperatorActionMessage & { patch: Record<string, unknown> };
  const updateConfig: ActionSpec<ConfigMessage> = {
    action: 'updateConfig', parse: (raw) => parseMessage(updateConfigMessage, raw), change: (m) => ({ action: 'updateConfig', patch: m.patch }),
    check: (m, origin) => {
      const next = configVerdict(m.patch, origin, policyEnforced());
      return next.ok ? yes('valid') : no(`refused: ${next.why}`);
    },
    apply: (m, origin) => {
      const next = configVerdict(m.patch, origin, policyEnforced());
      if (!next.ok) return no(`refused: ${next.why}`);
      adoptConfig(next.config, { patch: m.patch, source: changeSource(m.proposalId), by: m.by });
      return yes(next.why);
    },
  };
  type CancelMessage = OperatorActionMessage & { interventionId: string };
  const inFlight = (id: string) => s.inFlight.includes(id) || !enforced()
    ? yes(id)
    : no(`refused: ${bounded(id, 200)} is not an intervention of ${treasuryId} in flight (in flight: ${s.inFlight.join(', ') || 'none'})`);
  const cancelIntervention: ActionSpec<CancelMessage> = {
    action: 'cancelIntervention', parse: (raw) => parseMessage(cancelInterventionMessage, raw), change: (m) => ({ action: 'cancelIntervention', interventionId: m.interventionId }),
    check: (m) => inFlight(m.interventionId),
    apply: (m) => inFlight(m.interventionId),
  };

  /**
   * Histories recorded before operators were authorized replay as they ran: the check is behind a patch marker.
   * (Validators do not run on replay, so they always check.)
   */
  const enforced = () => patched(OPERATOR_CHECKS_PATCH);

  /**
   * Issue #11: with operator keys configured, an operator's action counts only
   * when signed (domain/operators.ts signedActionVerdict). Histories from
   * before signed actions replay as they ran (a patch marker); validators
   * always check.
   */
  const signedOnly = (check = patched(SIGNED_ACTIONS_PATCH)) => check && signingRequired(s.config.intervention.operatorKeys ?? {});
  const signatureVerdict = <M extends OperatorActionMessage>(spec: ActionSpec<M>, m: M): Verdict => {
    const v = signedActionVerdict({
      action: spec.action, treasuryId, by: m.by, message: m.message, signature: m.signature,
      ...('interventionId' in m ? { interventionId: String(m.interventionId) } : {}), ...('patch' in m ? { patch: m.patch } : {}),
    }, s.config.intervention.operatorKeys ?? {}, s.usedSignatures ?? {}, Date.now());
    return v.ok ? yes(`signed by ${v.operator}`) : no(v.why);
  };
  /** A payload that carries only a signed message is attributed to the operator the message names. */
  const withSignedName = (raw: unknown): unknown => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
    const r = raw as Record<string, unknown>;
    if (r.by !== undefined || typeof r.message !== 'string') return raw;
    const by = signedOperator(r.message);
    return by === null ? raw : { ...r, by };
  };
  /** Remembers an accepted signature until its message expires, so a replay (even after continue-as-new) is refused. */
  const spend = (m: OperatorActionMessage): void => {
    if (!m.signature || !m.message) return;
    const p = parseSigned(m.message);
    if (!p.ok) return;
    s.usedSignatures = { ...pruneUsed(s.usedSignatures ?? {}, Date.now()), [m.signature]: p.value.expires };
  };

  /** Parse, check the signature, authorize: the first half of every operator message. */
  const admit = <M extends OperatorActionMessage>(spec: ActionSpec<M>, raw: unknown, enforce = enforced(), signed = signedOnly()): { ok: true; m: M } | { ok: false; why: string; malformed: boolean } => {
    const p = spec.parse(withSignedName(raw));
    if (!p.ok) return { ok: false, why: `malformed ${spec.action}: ${p.why}`, malformed: true };
    if (p.value.proposalId === undefined && signed) {
      const v = signatureVerdict(spec, p.value);
      if (!v.ok) return { ok: false, why: v.why, malformed: false };
    }
    if (p.value.proposalId === undefined && enforce) {
      const auth = authorize(spec.action, p.value.by, s.config.intervention.operators);
      if (!auth.ok) return { ok: false, why: auth.why, malformed: false };
    }
    return { ok: true, m: p.value };
  };

  /** Applies an admitted operator action and records it. */
  const applyOperator = <M extends OperatorActionMessage>(spec: ActionSpec<M>, m: M): Verdict => {
    spend(m);
    const v = spec.apply(m, { kind: 'operator' });
    note(spec.action, who(m), v.ok, v.why);
    return v;
  };

  /**
   * A passed proposal applies only after the execution delay of this monitor's governance config (not the one its
   * starter put in its input), counted from the end of its vote as the store holds it. Null: not too early.
   */
  const tooEarly = (id: string, kind: string, deadline: number | null | undefined): string | null => {
    if (typeof deadline !== 'number' || !(kind in s.config.governance.thresholds) || !policyEnforced()) return null;
    const due = deadline + executionDelayHours(kind as keyof Config['governance']['thresholds'], s.config.governance) * HOUR_MS;
    return Date.now() < due ? `refused: proposal ${id} may apply from ${new Date(due).toISOString()} (its execution delay after the vote)` : null;
  };

  /** The recorded vote tallied again with this monitor's thresholds (a starter may have put lower ones in its input). */
  const failsHere = async (id: string): Promise<string | null> => {
    if (!policyEnforced()) return null;
    try {
      const v = await checks.proposalPassesHere({ proposalId: id, governance: s.config.governance });
      return v.ok ? null : `refused: ${v.why}`;
    } catch (err) {
      return `refused: the proposal's tally could not be checked against the store: ${bounded(String(err), 200)}`;
    }
  };

  const pendingProposals = new Set<string>();
  /** A governance message: applied only when the store holds that passed proposal with this change, and once. */
  const applyGoverned = async <M extends OperatorActionMessage>(spec: ActionSpec<M>, m: M & { proposalId: string }): Promise<Verdict> => {
    const id = m.proposalId;
    const applied = s.appliedProposals ?? [];
    if (applied.includes(id) || pendingProposals.has(id)) {
      const v = no(`refused: proposal ${id} was already applied`);
      note(spec.action, who(m), false, v.why);
      return v;
    }
    pendingProposals.add(id);
    try {
      let check: Verdict & { kind?: string | null; deadline?: number | null };
      try {
        check = await checks.verifyProposalAction({ treasuryId, proposalId: id, change: spec.change(m) });
      } catch (err) {
        check = no(`the proposal could not be checked against the store: ${bounded(String(err), 200)}`);
      }
      if (!check.ok) {
        note(spec.action, who(m), false, `refused: ${check.why}`);
        return check;
      }
      const early = tooEarly(id, check.kind ?? 'unknown', check.deadline) ?? await failsHere(id);
      if (early !== null) {
        note(spec.action, who(m), false, early);
        return no(early);
      }
      const origin: Origin = { kind: 'governance', proposalKind: check.kind ?? 'unknown' };
      const allowed = spec.check(m, origin);
      const v = allowed.ok ? spec.apply(m, origin) : allowed;
      if (v.ok) s.appliedProposals = [...(s.appliedProposals ?? []), id].slice(-APPLIED_KEPT);
      note(spec.action, who(m), v.ok, `${v.why} (${check.why})`);
      return v;
    } finally {
      pendingProposals.delete(id);
    }
  };

  /** A signal handler for an operator action that never throws and never rejects. */
  const signalFor = <M extends OperatorActionMessage>(spec: ActionSpec<M>, after?: (m: M) => Promise<void>) => async (raw: unknown): Promise<void> => {
    try {
      const a = admit(spec, raw);
      if (!a.ok) {
        if (a.malformed) refusedPayload(spec.action, raw, a.why.replace(`malformed ${spec.action}: `, ''));
        else note(spec.action, { by: claimedName(raw, 'by'), reason: null }, false, a.why);
        return;
      }
      const m = a.m;
      const v = m.proposalId !== undefined ? await applyGoverned(spec, { ...m, proposalId: m.proposalId }) : applyOperator(spec, m);
      if (v.ok && after) await after(m);
    } catch (err) {
      note(spec.action, { by: claimedName(raw, 'by'), reason: null }, false, `refused: unexpected ${bounded(String(err), 200)}`);
    }
  };

  /**
   * The Update's validator: synchronous, throws only ApplicationFailure (the
   * caller's refusal, before anything enters history). It refuses what cannot
   * be attributed or applied at all: a malformed payload, and a governance
   * claim (proposals act through signals). A well-formed action that is not
   * allowed (a non-operator, RR below 1.5, an id not in flight) passes the
   * validator so that its refusal is recorded; the Update then answers
   * `accepted: false` with the reason.
   */
  const validatorFor = <M extends OperatorActionMessage>(spec: ActionSpec<M>) => (raw: unknown): void => {
    const p = spec.parse(withSignedName(raw));
    if (!p.ok) {
      log.info(`operator ${spec.action} update refused`, { treasuryId, by: claimedName(raw, 'by'), why: bounded(p.why) });
      throw ApplicationFailure.nonRetryable(bounded(`malformed ${spec.action}: ${p.why}`), 'OperatorActionRefused');
    }
    if (p.value.proposalId !== undefined) throw ApplicationFailure.nonRetryable('governance changes arrive as signals from their proposal workflow, not as Updates', 'OperatorActionRefused');
    // An unsigned, forged, misdirected, expired or replayed action never enters history: the caller gets the reason.
    if (signedOnly(true)) {
      const v = signatureVerdict(spec, p.value);
      if (!v.ok) {
        log.info(`operator ${spec.action} update refused`, { treasuryId, by: p.value.by, why: bounded(v.why) });
        throw ApplicationFailure.nonRetryable(bounded(v.why), 'OperatorActionRefused');
      }
    }
  };
  const updateFor = <M extends OperatorActionMessage>(spec: ActionSpec<M>, after?: (m: M) => Promise<Verdict>) => async (raw: unknown): Promise<OperatorResult> => {
    try {
      const a = admit(spec, raw);
      if (!a.ok) {
        note(spec.action, { by: claimedName(raw, 'by'), reason: null }, false, a.why);
        return result(spec.action, no(a.why));
      }
      const v = applyOperator(spec, a.m);
      if (!v.ok || !after) return result(spec.action, v);
      return result(spec.action, await after(a.m));
    } catch (err) {
      return result(spec.action, no(`refused: unexpected ${bounded(String(err), 200)}`));
    }
  };

  /** Cancels an intervention in flight; a cancel the server refuses (it closed meanwhile) is recorded, never thrown. */
  const cancel = async (m: CancelMessage): Promise<Verdict> => {
    try {
      await getExternalWorkflowHandle(m.interventionId).cancel();
      return yes(`cancellation requested for ${m.interventionId}`);
    } catch (err) {
      const v = no(`cancel of ${m.interventionId} failed: ${bounded(String(err), 200)}`);
      note('cancelIntervention', who(m), false, v.why);
      return v;
    }
  };
  const cancelAfterSignal = async (m: CancelMessage) => {
    await cancel(m);
  };

  setHandler(pauseSignal, signalFor(pause));
  setHandler(resumeSignal, signalFor(resume));
  setHandler(emergencyStopSignal, signalFor(emergencyStop));
  setHandler(updateConfigSignal, signalFor(updateConfig));
  setHandler(cancelInterventionSignal, signalFor(cancelIntervention, cancelAfterSignal));

  setHandler(pauseUpdate, updateFor(pause), { validator: validatorFor(pause) });
  setHandler(resumeUpdate, updateFor(resume), { validator: validatorFor(resume) });
  setHandler(emergencyStopUpdate, updateFor(emergencyStop), { validator: validatorFor(emergencyStop) });
  setHandler(cancelInterventionUpdate, updateFor(cancelIntervention, cancel), { validator: validatorFor(cancelIntervention) });
  // updateConfig's Update answers with the running configuration (its callers read it back), so its validator refuses
  // everything it would not apply (malformed, not an operator, an invalid config): such a refusal reaches the caller and
  // the worker log, not the state.
  setHandler(updateConfigUpdate, (raw: unknown): Config => {
    let refused: string | null = null;
    try {
      const a = admit(updateConfig, raw);
      if (a.ok) {
        const v = applyOperator(updateConfig, a.m);
        if (!v.ok) refused = v.why;
      }
    } catch (err) {
      log.warn('updateConfig update not applied', { treasuryId, error: bounded(String(err), 200) });
    }
    // A change the key classes refuse is recorded (above) and refused to the caller: an ApplicationFailure thrown by
    // an Update handler fails that Update only, never the monitor.
    if (refused !== null) throw ApplicationFailure.nonRetryable(bounded(refused), 'ConfigChangeRefused');
    return s.config;
  }, {
    validator: (raw: unknown) => {
      validatorFor(updateConfig)(raw);
      const a = admit(updateConfig, raw, true, signedOnly(true));
      // Refused here, before history: what cannot be attributed or is no valid config at all (a ceiling passed). A
      // valid change the key classes refuse passes, so that the handler records its refusal.
      const why = !a.ok ? a.why : (() => {
        const v = mergedConfig(a.m.patch);
        return v.ok ? null : `refused: ${v.why}`;
      })();
      if (why !== null) {
        log.info('operator updateConfig update refused', { treasuryId, by: claimedName(raw, 'by'), why: bounded(why) });
        throw ApplicationFailure.nonRetryable(bounded(why), a.ok ? 'InvalidConfig' : 'OperatorActionRefused');
      }
    },
  });

  /**
   * A passed proposal's change, as an Update from its workflow's activity: the same checks as a governance signal
   * (the store holds it passed with this change; the kind may carry it; the key classes), and the answer tells the
   * proposal whether it was applied. A retried request for a proposal applied before is answered accepted (it
   * changes nothing again); one arriving while the first is still being checked waits for that one's outcome.
   */
  const applyProposal = async (raw: unknown): Promise<ApplyProposalResult> => {
    const p = parseMessage(applyProposalMessage, raw);
    if (!p.ok) {
      refusedPayload('applyProposal', raw, p.why);
      return { accepted: false, detail: `refused: malformed applyProposal: ${p.why}` };
    }
    const { proposalId, change, by } = p.value;
    await condition(() => !pendingProposals.has(proposalId));
    if ((s.appliedProposals ?? []).includes(proposalId)) return { accepted: true, alreadyApplied: true, detail: `proposal ${proposalId} was already applied` };
    const base = { by, proposalId, ...(p.value.reason !== undefined ? { reason: p.value.reason } : {}) };
    let v: Verdict;
    if (change.action === 'updateConfig') v = await applyGoverned(updateConfig, { ...base, patch: change.patch });
    else if (change.action === 'pause') v = await applyGoverned(pause, base);
    else if (change.action === 'resume') v = await applyGoverned(resume, base);
    else {
      const m = { ...base, interventionId: change.interventionId };
      v = await applyGoverned(cancelIntervention, m);
      if (v.ok) v = await cancel(m);
    }
    return { accepted: v.ok, detail: v.why };
  };
  setHandler(applyProposalUpdate, async (raw: unknown): Promise<ApplyProposalResult> => {
    try {
      return await applyProposal(raw);
    } catch (err) {
      return { accepted: false, detail: `refused: unexpected ${bounded(String(err), 200)}` };
    }
  }, {
    validator: (raw: unknown) => {
      const p = parseMessage(applyProposalMessage, raw);
      if (!p.ok) throw ApplicationFailure.nonRetryable(bounded(`malformed applyProposal: ${p.why}`), 'OperatorActionRefused');
    },
  });

  setHandler(wakeSignal, (raw: unknown) => {
    const p = parseMessage(wakeMessage, raw);
    if (!p.ok) return note('wake', { by: null, reason: null }, false, `refused: malformed wake: ${p.why}`);
    log.info('woken for an early cycle', { treasuryId, reason: p.value.reason ?? null });
    s.wake = true;
  });
  setHandler(interventionSettledSignal, (raw: unknown) => {
    const p = parseMessage(interventionSettledMessage, raw);
    if (!p.ok) return note('interventionSettled', { by: null, reason: null }, false, `refused: malformed interventionSettled: ${p.why}`);
    const e = p.value;
    if (!e.interventionId.startsWith(`intervention/${treasuryId}/`)) {
      return note('interventionSettled', { by: null, reason: null }, false, `refused: ${bounded(e.interventionId, 200)} is not an intervention of ${treasuryId}`);
    }
    if (e.executedAt !== null && e.executedAt > Date.now() + SETTLE_CLOCK_SLACK_MS) {
      return note('interventionSettled', { by: null, reason: null }, false, `refused: executedAt ${e.executedAt} is in the future`);
    }
    s.inFlight = s.inFlight.filter((id) => id !== e.interventionId);
    if (e.executedAt !== null && (s.lastExecutedSwapAt === null || e.executedAt > s.lastExecutedSwapAt)) {
      s.lastExecutedSwapAt = e.executedAt;
    }
  });

  setHandler(statusQuery, (): MonitorStatus => ({
    treasuryId, mode: s.config.mode, paused: s.paused, emergencyStop: s.emergencyStop, cycles: s.cycles, lastCycle: s.lastCycle,
    pendingInterventions: [...s.inFlight], interventionCount: s.nextSeq - 1, lastExecutedSwapAt: s.lastExecutedSwapAt,
    noValidPriceStreak: s.noValidPriceStreak, recentOperatorEvents: s.operatorEvents, cycleIntervalSeconds: s.config.monitor.cycleIntervalSeconds,
    undeliveredCritical: s.undeliveredCritical ?? { count: 0, oldest: null },
    operators: operatorsLine(s.config.intervention.operators),
    signing: signingLine(s.config.intervention.operatorKeys ?? {}, s.config.mode),
    control: controlStatus(s),
    configAuthority: configAuthorityStatus(s),
  }));
  setHandler(healthQuery, () => s.health);
  setHandler(configQuery, () => s.config);
  setHandler(configVersionQuery, () => ({ version: configAuthorityStatus(s)?.version ?? null, config: s.config }));
}
