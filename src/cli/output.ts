/**
 * How the installed CLI writes (issue #11): a closed pipe (`pstr … | head`)
 * ends the process quietly instead of with an EPIPE stack trace, and
 * `--json` turns every command's output into one JSON document on stdout
 * (the command's own document, or its lines), errors included.
 */

/** Exits quietly when the reader of stdout or stderr has gone away. */
export function quietOnClosedPipe(stream: NodeJS.WriteStream = process.stdout, exit: (code: number) => void = (c) => process.exit(c)): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') exit(0);
    else throw err;
  });
}

/** Collects a command's output: printed line by line, or, under --json, kept for one document at the end. */
export class Output {
  private readonly lines: string[] = [];
  private doc: unknown = undefined;

  constructor(readonly json: boolean, private readonly write: (text: string) => void = (t) => process.stdout.write(`${t}\n`)) {}

  /** One line of text (kept for the document under --json). */
  out = (line: string): void => {
    if (this.json) this.lines.push(line);
    else this.write(line);
  };

  /** The command's machine-readable result; under --json it is what gets printed. */
  emit = (doc: unknown): void => {
    this.doc = doc;
  };

  /** Under --json: the document (or `{ lines }` when the command has none). */
  finish(): void {
    if (!this.json) return;
    this.write(JSON.stringify(this.doc === undefined ? { lines: this.lines } : this.doc, bigintSafe, 2));
  }

  /** Under --json an error is a document too: `{ "error": "…" }`. */
  fail(message: string): void {
    if (this.json) this.write(JSON.stringify({ error: message, ...(this.lines.length ? { lines: this.lines } : {}) }, bigintSafe, 2));
    else process.stderr.write(`error: ${message}\n`);
  }
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
