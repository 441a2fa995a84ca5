/**
 * The operator's tool: `npx tsx client.ts <command>` against the same Temporal
 * server the agent runs on (TEMPORAL_ADDRESS, default 127.0.0.1:7233;
 * TEMPORAL_NAMESPACE, default `default`). Commander wiring only: the commands
 * live in src/client/.
 */
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { audit, auditFile } from './src/client/commands-audit.ts';
import { proposals, propose, vote } from './src/client/commands-governance.ts';
import { decide, interventionId, interventions, signPlan } from './src/client/commands-intervention.ts';
import { cancelIntervention, operate, report, status } from './src/client/commands-monitor.ts';
import { connect, targetFromEnv } from './src/client/connect.ts';
import { signAction } from './src/client/sign-action.ts';
import type { MonitorAction } from './src/domain/operator-message.ts';
import type { Ctx } from './src/client/context.ts';
import { CliError } from './src/client/errors.ts';
import { PROPOSAL_TYPES } from './src/client/proposal.ts';
import { defaultConfig, loadConfigFile } from './src/config.ts';
import { formatPricesReport, readPricesReport } from './src/oracles/prices-command.ts';

const program = new Command()
  .name('client.ts')
  .description('Operate the PSTR treasury agent through Temporal (TEMPORAL_ADDRESS, default 127.0.0.1:7233; TEMPORAL_NAMESPACE, default "default").')
  .option('--treasury <id>', 'the treasury to act on', treasuryId, 'pstr-main')
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

/** Connects, runs one command, and always closes the connection. */
async function run(action: (ctx: Ctx) => Promise<void>): Promise<void> {
  const session = await connect(targetFromEnv(process.env));
  try {
    await action({ ...session, treasuryId: program.opts<{ treasury: string }>().treasury, out: (line) => console.log(line), now: () => Date.now() });
  } finally {
    await session.close();
  }
}

program.command('status')
  .description("the monitor's status and health: mode, pause/emergency stop, the last cycle, pending interventions, recent operator events")
  .option('--json', 'print the raw status and health as JSON')
  .action((o: { json?: boolean }) => run((ctx) => status(ctx, o)));

program.command('interventions')
  .description("the treasury's interventions with status, stage, tier and size")
  .action(() => run(interventions));

program.command('approve')
  .description('approve an intervention waiting in its timelock (id intervention/<treasury>/<n>, or just <n>): signs its current plan with the operator\'s key')
  .argument('<id>', 'intervention workflow id or number')
  .requiredOption('--operator <name>', 'who approves (must be a configured operator)')
  .option('--key <file>', "the operator's Solana CLI keypair file (default: $PSTR_DATA_DIR/operator-keys/<operator>.json when it exists; data/ by default)")
  .option('--reason <text>', 'why')
  .action((id: string, o: { operator: string; reason?: string; key?: string }) => run((ctx) => decide(ctx, 'approve', id, o)));

program.command('reject')
  .description('reject an intervention before its swap (it ends without moving funds)')
  .argument('<id>', 'intervention workflow id or number')
  .requiredOption('--operator <name>', 'who rejects (must be a configured operator)')
  .option('--key <file>', "the operator's Solana CLI keypair file (default: $PSTR_DATA_DIR/operator-keys/<operator>.json when it exists)")
  .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
  .action((id: string, o: { operator: string; reason: string; key?: string }) => run((ctx) => decide(ctx, 'reject', id, o)));

program.command('sign-plan')
  .description("print the signed approve (or --reject) payload for an intervention's current plan, as one line of JSON to paste into the Temporal Web UI's signal box or `temporal workflow signal --input`; sends nothing")
  .argument('<id>', 'intervention workflow id or number')
  .requiredOption('--operator <name>', 'who signs')
  .option('--key <file>', "the operator's Solana CLI keypair file (default: $PSTR_DATA_DIR/operator-keys/<operator>.json when it exists)")
  .option('--reject', 'sign a rejection instead of an approval')
  .option('--reason <text>', 'why (signed with the decision)')
  .action((id: string, o: { operator: string; reason?: string; key?: string; reject?: boolean }) => run((ctx) => signPlan(ctx, id, o)));

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
    .action((o: { by: string; reason?: string; key?: string }) => run((ctx) => operate(ctx, action, o)));
}

program.command('sign-action')
  .description('print a signed monitor action (pause, resume, emergencyStop, cancelIntervention, updateConfig) as one line of JSON to paste into the Temporal Web UI or `temporal workflow signal --input`; valid 10 minutes, once; sends nothing')
  .addArgument(new Argument('<action>', 'the action').choices(['pause', 'resume', 'emergencyStop', 'cancelIntervention', 'updateConfig']))
  .requiredOption('--by <name>', 'who signs')
  .option('--key <file>', "the operator's Solana CLI keypair file (default: $PSTR_DATA_DIR/operator-keys/<by>.json when it exists)")
  .option('--reason <text>', 'why (signed with the action)')
  .option('--intervention <id>', 'cancelIntervention: the intervention id')
  .option('--patch <json>', 'updateConfig: the config patch, as JSON')
  .action((action: string, o: { by: string; reason?: string; key?: string; intervention?: string; patch?: string }) => run((ctx) => signAction(ctx, action as MonitorAction, {
    by: o.by, ...(o.reason ? { reason: o.reason } : {}), ...(o.key ? { key: o.key } : {}),
    ...(o.intervention ? { interventionId: interventionId(ctx, o.intervention) } : {}), ...(o.patch !== undefined ? { patchJson: o.patch } : {}),
  })));

program.command('cancel-intervention')
  .description('cancel an intervention of this treasury that is in flight, before its swap (refused for any other id)')
  .argument('<id>', 'intervention workflow id or number')
  .requiredOption('--by <name>', 'who does it (must be a configured operator)')
  .option('--key <file>', "the operator's Solana CLI keypair file, to sign (default: $PSTR_DATA_DIR/operator-keys/<by>.json when it exists)")
  .option('--reason <text>', 'why (recorded with the event)')
  .action((id: string, o: { by: string; reason?: string; key?: string }) => run((ctx) => cancelIntervention(ctx, interventionId(ctx, id), o)));

program.command('propose')
  .description('open a governance proposal (proposal/<n>) with the running governance settings')
  .addArgument(new Argument('<type>', 'proposal type').choices(Object.keys(PROPOSAL_TYPES)))
  .option('--change <json>', 'the change: {"action":"updateConfig","patch":{...}} | {"action":"pause"} | {"action":"resume"} | {"action":"cancelIntervention","interventionId":"..."}')
  .requiredOption('--description <text>', 'what and why')
  .requiredOption('--proposer <name>', 'who proposes')
  .action((type: string, o: { change?: string; description: string; proposer: string }) => run((ctx) => propose(ctx, type, o)));

program.command('vote')
  .description('vote on an open proposal (a later vote by the same holder replaces the earlier)')
  .argument('<proposal>', 'proposal workflow id or number')
  .requiredOption('--voter <name>', 'the holder voting')
  .addOption(new Option('--choice <choice>', 'the vote').choices(['yes', 'no', 'abstain']).makeOptionMandatory())
  .action((id: string, o: { voter: string; choice: string }) => run((ctx) => vote(ctx, id, o)));

program.command('proposals')
  .description('every proposal with its tally, votes and outcome')
  .action(() => run(proposals));

program.command('report')
  .description('run the operator report once, now: interventions, growth, Sharpe, drawdown, VaR/ES, RR and health trends, oracle deviation, accumulation, liquidity')
  .option('--html <file>', 'also write the report with its charts as one self-contained HTML page')
  .option('--days <n>', 'the period, in days up to now (default 30)', positiveInt)
  .action((o: { html?: string; days?: number }) => run((ctx) => report(ctx, o)));

program.command('prices')
  .description("each oracle source's reading, which were excluded and why, and the consensus, from the configured endpoints (no Temporal needed)")
  .option('--config <file>', 'the agent\'s config file (its oracle endpoints and feeds); default: the defaults')
  .option('--json', 'print the report as JSON')
  .action(async (o: { config?: string; json?: boolean }) => {
    const config = o.config ? loadConfigFile(o.config) : defaultConfig();
    const reportOf = await readPricesReport(config);
    console.log(o.json ? JSON.stringify(reportOf, null, 2) : formatPricesReport(reportOf));
    if (!reportOf.consensus.ok) process.exitCode = 1;
  });

program.command('audit')
  .description("a workflow's history as a timeline (UTC): a monitor's cycles, or an intervention's steps, approvals and swap")
  .argument('<workflowId>', 'e.g. intervention/pstr-main/1 or monitor/pstr-main')
  .option('--run <runId>', 'a specific run (a monitor continues as new; default: the latest run)')
  .option('--last <n>', 'monitor: only the last n cycles of the run', positiveInt)
  .option('--file <history.json>', 'audit a history exported with `temporal workflow show --output json` instead of asking the server')
  .action((id: string, o: { run?: string; last?: number; file?: string }) => {
    if (o.file) return auditFile({ out: (l) => console.log(l) }, id, o.file, o);
    return run((ctx) => audit(ctx, id, o));
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CliError) {
    console.error(`error: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    // An unexpected failure: its message, and the stack only when asked for (DEBUG=1).
    console.error(`error: ${err instanceof Error ? ((process.env.DEBUG ? err.stack : undefined) ?? err.message) : String(err)}`);
    process.exitCode = 1;
  }
});
