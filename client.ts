/**
 * The operator's tool: `npx tsx client.ts <command>` against the same Temporal
 * server the agent runs on (TEMPORAL_ADDRESS, default 127.0.0.1:7233;
 * TEMPORAL_NAMESPACE, default `default`). Commander wiring only: the commands
 * live in src/client/.
 */
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { Output, quietOnClosedPipe } from './src/cli/output.ts';
import type { Ctx } from './src/client/context.ts';
import type { MonitorAction } from './src/domain/operator-message.ts';
import { PROPOSAL_TYPES } from './src/client/proposal-types.ts';

// Command modules load when their command runs: `--help` and a typo answer without loading the Temporal client.
const intervention = () => import('./src/client/commands-intervention.ts');
const monitor = () => import('./src/client/commands-monitor.ts');
const governance = () => import('./src/client/commands-governance.ts');
const auditing = () => import('./src/client/commands-audit.ts');

quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);

const program = new Command()
  .name('pstr')
  .description('Operate the PSTR treasury agent through Temporal (TEMPORAL_ADDRESS, default 127.0.0.1:7233; TEMPORAL_NAMESPACE, default "default").')
  .option('--treasury <id>', 'the treasury to act on', treasuryId, 'pstr-main')
  .option('--json', 'print one JSON document (the command\'s result, or its lines; errors as {"error": …})')
  .showHelpAfterError('(run with --help for usage)');

function treasuryId(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(value)) throw new InvalidArgumentError('lowercase letters, digits and dashes, e.g. pstr-main');
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1');
  return n;
}

const output = (json = false) => new Output(json || Boolean(program.opts<{ json?: boolean }>().json));
let current: Output | null = null;

/** Connects, runs one command, and always closes the connection; under --json prints one document at the end. */
async function run(action: (ctx: Ctx) => Promise<void>, opts: { json?: boolean | undefined } = {}): Promise<void> {
  const o = (current = output(opts.json));
  const { connect, targetFromEnv } = await import('./src/client/connect.ts');
  const session = await connect(targetFromEnv(process.env));
  try {
    await action({ ...session, treasuryId: program.opts<{ treasury: string }>().treasury, out: o.out, emit: o.emit, now: () => Date.now() });
    o.finish();
  } finally {
    await session.close();
  }
}

/** A command that needs no Temporal (prices, a history file, the signing helpers' help). */
async function offline(action: (o: Output) => Promise<void> | void, opts: { json?: boolean | undefined } = {}): Promise<void> {
  const o = (current = output(opts.json));
  await action(o);
  o.finish();
}

program.command('status')
  .description("the monitor's status and health: mode, pause/emergency stop, the last cycle, pending interventions, recent operator events")
  .option('--json', 'print the raw status and health as JSON')
  .action((o: { json?: boolean }) => run(async (ctx) => (await monitor()).status(ctx, { json: Boolean(o.json ?? program.opts<{ json?: boolean }>().json) }), o));

program.command('interventions')
  .description("the treasury's interventions with status, stage, tier and size")
  .action(() => run(async (ctx) => (await intervention()).interventions(ctx)));

program.command('approve')
  .description('approve an intervention waiting in its timelock (id intervention/<treasury>/<n>, or just <n>): signs its current plan with the operator\'s key')
  .argument('<id>', 'intervention workflow id or number')
  .requiredOption('--operator <name>', 'who approves (must be a configured operator)')
  .option('--key <file>', "the operator's Solana CLI keypair file (default: $PSTR_DATA_DIR/operator-keys/<operator>.json when it exists; data/ by default)")
  .option('--reason <text>', 'why')
  .action((id: string, o: { operator: string; reason?: string; key?: string }) => run(async (ctx) => (await intervention()).decide(ctx, 'approve', id, o)));

program.command('reject')
  .description('reject an intervention before its swap (it ends without moving funds)')
  .argument('<id>', 'intervention workflow id or number')
  .requiredOption('--operator <name>', 'who rejects (must be a configured operator)')
  .option('--key <file>', "the operator's Solana CLI keypair file (default: $PSTR_DATA_DIR/operator-keys/<operator>.json when it exists)")
  .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
  .action((id: string, o: { operator: string; reason: string; key?: string }) => run(async (ctx) => (await intervention()).decide(ctx, 'reject', id, o)));

program.command('sign-plan')
  .description("print the signed approve (or --reject) payload for an intervention's current plan, as one line of JSON to paste into the Temporal Web UI's signal box or `temporal workflow signal --input`; sends nothing")
  .argument('<id>', 'intervention workflow id or number')
  .requiredOption('--operator <name>', 'who signs')
  .option('--key <file>', "the operator's Solana CLI keypair file (default: $PSTR_DATA_DIR/operator-keys/<operator>.json when it exists)")
  .option('--reject', 'sign a rejection instead of an approval')
  .option('--reason <text>', 'why (signed with the decision)')
  .action((id: string, o: { operator: string; reason?: string; key?: string; reject?: boolean }) => run(async (ctx) => (await intervention()).signPlan(ctx, id, o)));

const monitorActions = [
  ['pause', 'pause', 'pause interventions and accumulation until resume'],
  ['resume', 'resume', 'resume after a pause or an emergency stop (refused while RR < 1.5)'],
  ['emergency-stop', 'emergencyStop', 'latch the emergency stop: no interventions or accumulation until an operator resumes'],
] as const;
for (const [name, action, description] of monitorActions) {
  program.command(name)
    .description(description)
    .requiredOption('--by <name>', 'who does it')
    .option('--key <file>', "the operator's Solana CLI keypair file, to sign (default: $PSTR_DATA_DIR/operator-keys/<by>.json when it exists)")
    .option('--reason <text>', 'why (recorded with the event)')
    .action((o: { by: string; reason?: string; key?: string }) => run(async (ctx) => (await monitor()).operate(ctx, action, o)));
}

program.command('sign-action')
  .description('print a signed monitor action (pause, resume, emergencyStop, cancelIntervention, updateConfig) as one line of JSON to paste into the Temporal Web UI or `temporal workflow signal --input`; valid 10 minutes, once; sends nothing')
  .addArgument(new Argument('<action>', 'the action').choices(['pause', 'resume', 'emergencyStop', 'cancelIntervention', 'updateConfig']))
  .requiredOption('--by <name>', 'who signs')
  .option('--key <file>', "the operator's Solana CLI keypair file (default: $PSTR_DATA_DIR/operator-keys/<by>.json when it exists)")
  .option('--reason <text>', 'why (signed with the action)')
  .option('--intervention <id>', 'cancelIntervention: the intervention id')
  .option('--patch <json>', 'updateConfig: the config patch, as JSON')
  .action((action: string, o: { by: string; reason?: string; key?: string; intervention?: string; patch?: string }) => run(async (ctx) => (await import('./src/client/sign-action.ts')).signAction(ctx, action as MonitorAction, {
    by: o.by, ...(o.reason ? { reason: o.reason } : {}), ...(o.key ? { key: o.key } : {}),
    ...(o.intervention ? { interventionId: (await intervention()).interventionId(ctx, o.intervention) } : {}), ...(o.patch !== undefined ? { patchJson: o.patch } : {}),
  })));

program.command('cancel-intervention')
  .description('cancel an intervention of this treasury that is in flight, before its swap (refused for any other id)')
  .argument('<id>', 'intervention workflow id or number')
  .requiredOption('--by <name>', 'who does it (must be a configured operator)')
  .option('--key <file>', "the operator's Solana CLI keypair file, to sign (default: $PSTR_DATA_DIR/operator-keys/<by>.json when it exists)")
  .option('--reason <text>', 'why (recorded with the event)')
  .action((id: string, o: { by: string; reason?: string; key?: string }) => run(async (ctx) => (await monitor()).cancelIntervention(ctx, (await intervention()).interventionId(ctx, id), o)));

program.command('propose')
  .description('open a governance proposal (proposal/<n>) with the running governance settings')
  .addArgument(new Argument('<type>', 'proposal type').choices(Object.keys(PROPOSAL_TYPES)))
  .option('--change <json>', 'the change: {"action":"updateConfig","patch":{...}} | {"action":"pause"} | {"action":"resume"} | {"action":"cancelIntervention","interventionId":"..."}')
  .requiredOption('--description <text>', 'what and why')
  .requiredOption('--proposer <name>', 'who proposes')
  .action((type: string, o: { change?: string; description: string; proposer: string }) => run(async (ctx) => (await governance()).propose(ctx, type, o)));

program.command('vote')
  .description('vote on an open proposal (a later vote by the same holder replaces the earlier)')
  .argument('<proposal>', 'proposal workflow id or number')
  .requiredOption('--voter <name>', 'the holder voting')
  .addOption(new Option('--choice <choice>', 'the vote').choices(['yes', 'no', 'abstain']).makeOptionMandatory())
  .action((id: string, o: { voter: string; choice: string }) => run(async (ctx) => (await governance()).vote(ctx, id, o)));

program.command('proposals')
  .description('every proposal with its tally, votes and outcome')
  .action(() => run(async (ctx) => (await governance()).proposals(ctx)));

program.command('report')
  .description('run the operator report once, now: interventions, growth, Sharpe, drawdown, VaR/ES, RR and health trends, oracle deviation, accumulation, liquidity')
  .option('--html <file>', 'also write the report with its charts as one self-contained HTML page')
  .option('--days <n>', 'the period, in days up to now (default 30)', positiveInt)
  .action((o: { html?: string; days?: number }) => run(async (ctx) => (await monitor()).report(ctx, o)));

program.command('prices')
  .description("each oracle source's reading, which were excluded and why, and the consensus, from the configured endpoints (no Temporal needed)")
  .option('--config <file>', 'the agent\'s config file (its oracle endpoints and feeds); default: the defaults')
  .option('--json', 'print the report as JSON')
  .action((o: { config?: string; json?: boolean }) => offline(async (out) => {
    const { defaultConfig, loadConfigFile } = await import('./src/config.ts');
    const { formatPricesReport, readPricesReport } = await import('./src/oracles/prices-command.ts');
    const config = o.config ? loadConfigFile(o.config) : defaultConfig();
    const reportOf = await readPricesReport(config);
    out.out(formatPricesReport(reportOf));
    out.emit(reportOf);
    if (!reportOf.consensus.ok) process.exitCode = 1;
  }, o));

program.command('audit')
  .description("a workflow's history as a timeline (UTC): a monitor's cycles, or an intervention's steps, approvals and swap")
  .argument('<workflowId>', 'e.g. intervention/pstr-main/1 or monitor/pstr-main')
  .option('--run <runId>', 'a specific run (a monitor continues as new; default: the latest run)')
  .option('--last <n>', 'monitor: only the last n cycles of the run', positiveInt)
  .option('--file <history.json>', 'audit a history exported with `temporal workflow show --output json` instead of asking the server')
  .action((id: string, o: { run?: string; last?: number; file?: string }) => {
    if (o.file) return offline(async (out) => (await auditing()).auditFile(out, id, o.file as string, o));
    return run(async (ctx) => (await auditing()).audit(ctx, id, o));
  });

program.parseAsync().catch(async (err: unknown) => {
  const { CliError } = await import('./src/client/errors.ts');
  const o = current ?? output();
  if (err instanceof CliError) {
    o.fail(err.message);
    process.exitCode = err.exitCode;
  } else {
    // An unexpected failure: its message, and the stack only when asked for (DEBUG=1).
    o.fail(err instanceof Error ? ((process.env.DEBUG ? err.stack : undefined) ?? err.message) : String(err));
    process.exitCode = 1;
  }
});
