/**
 * npm run replay-check [-- --address HOST:PORT] [--namespace NS] [--since 7d] [--per-type 20] [--json]
 *
 * The deploy gate: replays recent histories of every workflow type on a
 * running cluster against the workflow code in this checkout (the worker's
 * own bundle), before a new worker is rolled out.
 *
 * Exit codes: 0 every history replays; 1 at least one does not (a
 * nondeterminism: rolling out would break it); 2 nothing could be checked
 * (the cluster cannot be reached, the namespace does not exist, a bad
 * option). Prints ids, counts and error summaries, never a payload.
 * TEMPORAL_API_KEY, as for the operator's client, turns on TLS with that key.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option, type CommanderError } from 'commander';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { Output, quietOnClosedPipe } from './output.ts';
import { CONNECT_TIMEOUT_MS, DEFAULT_ADDRESS, explain, connect, type Session, type Target } from '../client/connect.ts';
import { CliError } from '../client/errors.ts';
import { firstLine, formatReport, parseWindow, replayCheck, type ReplayCheckReport } from '../ops/replay-check.ts';

/** Exit codes: the gate passed, a history does not replay, nothing could be checked. */
export const EXIT_OK = 0;
export const EXIT_NONDETERMINISM = 1;
export const EXIT_UNCHECKED = 2;

/** A listing page or a history answers in well under this on a healthy cluster; longer means it is not answering. */
const CALL_TIMEOUT_MS = 60_000;

interface Options {
  address: string;
  namespace: string;
  since: number;
  perType: number;
  json?: boolean;
  workflowsPath?: string;
}

function windowValue(text: string): number {
  const ms = parseWindow(text);
  if (ms === null) throw new InvalidArgumentError('a window such as 7d, 12h, 30m or 2w');
  return ms;
}

function positiveInt(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1');
  return n;
}

function program(env: NodeJS.ProcessEnv): Command {
  return new Command()
    .name('replay-check')
    .description('Replay recent histories of every workflow type on a Temporal cluster against the current workflow code (a deploy gate).\n'
      + 'Exit 0: all replay; 1: a history does not replay (nondeterminism); 2: nothing could be checked (cluster unreachable, bad option).')
    .addOption(new Option('--address <host:port>', 'Temporal frontend').default(env.TEMPORAL_ADDRESS || DEFAULT_ADDRESS, `TEMPORAL_ADDRESS, else ${DEFAULT_ADDRESS}`))
    .addOption(new Option('--namespace <name>', 'namespace').default(env.TEMPORAL_NAMESPACE || 'default', 'TEMPORAL_NAMESPACE, else "default"'))
    .addOption(new Option('--since <window>', 'closed executions count when they closed within this window (running ones always count)')
      .argParser(windowValue).default(windowValue('7d'), '7d'))
    .addOption(new Option('--per-type <n>', 'at most this many histories per workflow type, running ones first').argParser(positiveInt).default(20))
    .option('--json', 'print one JSON document on stdout (errors as {"error": …})')
    // Tests only: check a different workflows module instead of the worker's (e.g. one with an unpatched change).
    .addOption(new Option('--workflows-path <file>', 'replay against this workflows module instead of src/workflows').hideHelp())
    .showHelpAfterError('(run replay-check --help for usage)');
}

const unreachable = (t: Target) => `cannot reach Temporal at ${t.address}: is the cluster up, and is --address (or TEMPORAL_ADDRESS) right?`;

/** The operator client's explanations (src/client/connect.ts), worded for this command's options. */
function explainHere(err: unknown, t: Target): unknown {
  if (!(err instanceof CliError)) return err;
  if (err.message.startsWith('cannot reach Temporal')) return new CliError(unreachable(t));
  if (err.message.startsWith(`namespace "${t.namespace}" does not exist`)) return new CliError(`namespace "${t.namespace}" does not exist at ${t.address}: check --namespace (or TEMPORAL_NAMESPACE)`);
  return err;
}

const SILENT = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

function quietRuntime(): void {
  // The replay worker's logs quote failed workflow tasks (and core writes them to stdout unless forwarded):
  // forwarded here and dropped, so stdout holds the report alone; the report says what failed.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR', () => undefined), telemetryOptions: { logging: { forward: {} } } });
  } catch {
    // already installed in this process
  }
}

/** Runs the gate; resolves with the exit code. */
export async function main(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let opts: Options;
  try {
    opts = program(env).exitOverride().parse(argv).opts<Options>();
  } catch (err) {
    // Commander has already printed the usage error; --help and --version exit 0.
    return (err as CommanderError).exitCode === 0 ? EXIT_OK : EXIT_UNCHECKED;
  }
  const out = new Output(Boolean(opts.json));
  const target: Target = { address: opts.address, namespace: opts.namespace, apiKey: env.TEMPORAL_API_KEY || null };
  let session: Session | null = null;
  try {
    try {
      session = await connect(target, CONNECT_TIMEOUT_MS);
    } catch {
      throw new CliError(unreachable(target));
    }
    const s = session;
    const call = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
      s.connection.withDeadline(Date.now() + CALL_TIMEOUT_MS, fn).catch((err: unknown) => {
        throw explainHere(explain(err, target, what, CALL_TIMEOUT_MS), target);
      });
    quietRuntime();
    // Bundled here, quietly (webpack would write its progress to stdout, into the --json document).
    const workflows = async () => ({
      workflowBundle: opts.workflowsPath
        ? await bundleWorkflowCode({ workflowsPath: resolve(opts.workflowsPath), logger: SILENT })
        : await (await import('../runtime/worker.ts')).workflowBundle(),
    });
    const report: ReplayCheckReport = await replayCheck(s.client, { sinceMs: Date.now() - opts.since, perType: opts.perType, workflows, call });
    for (const line of formatReport(report, target)) out.out(line);
    out.emit({ address: target.address, namespace: target.namespace, ok: report.failed === 0, ...report });
    out.finish();
    return report.failed === 0 ? EXIT_OK : EXIT_NONDETERMINISM;
  } catch (err) {
    // Anything that stopped the check before a verdict (the cluster, the namespace, a history that would not
    // load, the code that would not bundle) means nothing was checked: never a pass, never a "nondeterminism".
    const message = err instanceof CliError ? err.message : `replay-check could not run: ${firstLine(err)}`;
    out.fail(`${message}${/[.?!]$/.test(message) ? '' : '.'} Nothing was checked.`);
    return EXIT_UNCHECKED;
  } finally {
    await session?.close().catch(() => undefined);
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntry) {
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`replay-check failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT_UNCHECKED);
  });
}
