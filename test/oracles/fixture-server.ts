/**
 * A small HTTP server on 127.0.0.1 for adapter tests and the oracle bench:
 * JSON routes (any status, optional delay), and server-sent-event streams the
 * test drives by hand (send an event, end the stream cleanly, or cut the
 * connection). It records every request so tests can check headers and query
 * strings. Recorded provider payloads live in /work/shared/fixtures (or
 * $ORACLE_FIXTURES_DIR) and are read, never modified.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

export const FIXTURES_DIR = process.env.ORACLE_FIXTURES_DIR ?? '/work/shared/fixtures';

export interface Fixture {
  _source: string;
  _note: string;
  status?: number;
  body: unknown;
}

/** A recorded payload, parsed afresh on every call so a test may derive variants without touching the file or other tests. */
export function loadFixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, name), 'utf8')) as Fixture;
}

export interface FixtureResponse {
  status?: number;
  /** Serialized with JSON.stringify; or give `body` for a raw (possibly broken) payload. */
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (a slow upstream). */
  delayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The request body as text ('' for none). */
  body: string;
  at: number;
}

export type Handler = FixtureResponse | ((req: RecordedRequest) => FixtureResponse | Promise<FixtureResponse>);

export interface SseStream {
  readonly request: RecordedRequest;
  /** One `data:` event (JSON-encoded unless a string), optionally with an `event:` name. */
  send(data: unknown, event?: string): void;
  /** Ends the response cleanly (the server closed the stream, as Hermes does after 24 h). */
  end(): void;
  /** Cuts the TCP connection mid-stream (a network drop). */
  disconnect(): void;
  readonly closed: boolean;
}

export class FixtureServer {
  readonly requests: RecordedRequest[] = [];
  readonly streams: SseStream[] = [];
  private readonly routes = new Map<string, Handler>();
  private readonly sseRoutes = new Map<string, (stream: SseStream) => void>();
  private readonly sockets = new Set<Socket>();
  private streamWaiters: (() => void)[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FixtureServer> {
    const server = createServer();
    const fixture = new FixtureServer(server);
    server.on('request', (req, res) => void fixture.handle(req, res));
    server.on('connection', (socket) => {
      fixture.sockets.add(socket);
      socket.on('close', () => fixture.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fixture;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Answers `METHOD path` (query string ignored for matching). A later call replaces the handler. */
  on(method: string, path: string, handler: Handler): this {
    this.routes.set(`${method.toUpperCase()} ${path}`, handler);
    return this;
  }

  off(method: string, path: string): this {
    this.routes.delete(`${method.toUpperCase()} ${path}`);
    return this;
  }

  /** Serves `path` as an SSE stream (a plain route on the same GET path, while set, answers instead); `onOpen` gets each new connection. */
  sse(path: string, onOpen: (stream: SseStream) => void = () => {}): this {
    this.sseRoutes.set(path, onOpen);
    return this;
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Resolves once `count` SSE connections have been opened in total. */
  async waitForStreams(count: number, timeoutMs = 5_000): Promise<SseStream> {
    const deadline = Date.now() + timeoutMs;
    while (this.streams.length < count) {
      if (Date.now() > deadline) throw new Error(`waitForStreams: ${this.streams.length} of ${count} SSE connection(s) after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.streamWaiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.streams[count - 1] as SseStream;
  }

  async close(): Promise<void> {
    for (const s of this.streams) if (!s.closed) s.disconnect();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, at };
    this.requests.push(recorded);
    const handler = this.routes.get(`${recorded.method} ${url.pathname}`);
    const onOpen = this.sseRoutes.get(url.pathname);
    if (!handler && onOpen && recorded.method === 'GET') return this.openStream(recorded, res, onOpen);
    if (!handler) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no fixture route for ${recorded.method} ${url.pathname}` }));
      return;
    }
    try {
      const r = typeof handler === 'function' ? await handler(recorded) : handler;
      if (r.delayMs) await new Promise((resolve) => setTimeout(resolve, r.delayMs));
      if (res.destroyed) return;
      const body = r.body ?? (r.json === undefined ? '' : JSON.stringify(r.json));
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers }).end(body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  }

  private openStream(request: RecordedRequest, res: ServerResponse, onOpen: (stream: SseStream) => void): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    let closed = false;
    res.on('close', () => (closed = true));
    const stream: SseStream = {
      request,
      send(data, event) {
        if (closed) throw new Error('SseStream.send: the stream is closed');
        const text = typeof data === 'string' ? data : JSON.stringify(data);
        res.write(`${event ? `event: ${event}\n` : ''}${text.split('\n').map((l) => `data: ${l}`).join('\n')}\n\n`);
      },
      end() {
        closed = true;
        res.end();
      },
      disconnect() {
        closed = true;
        res.socket?.destroy();
      },
      get closed() {
        return closed;
      },
    };
    this.streams.push(stream);
    onOpen(stream);
    const waiters = this.streamWaiters;
    this.streamWaiters = [];
    waiters.forEach((w) => w());
  }
}
