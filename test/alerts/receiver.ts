/** A real HTTP receiver on 127.0.0.1 for the alert sink tests: records every request, answers from a script. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
}

export interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Answer only after this long (a slow service). */
  delayMs?: number;
}

export interface Receiver {
  /** http://127.0.0.1:<port> */
  base: string;
  requests: Received[];
  /** Replies for the next requests, in order; after them every request gets `fallback`. */
  script(...replies: Reply[]): void;
  fallback: Reply;
  /** Requests whose path starts with `prefix`. */
  to(prefix: string): Received[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const queue: Reply[] = [];
  const requests: Received[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const receiver: Receiver = {
    base: '',
    requests,
    fallback: { status: 200, body: 'ok' },
    script: (...replies) => { queue.push(...replies); },
    to: (prefix) => requests.filter((r) => r.path.startsWith(prefix)),
    close: () => new Promise((resolve) => {
      timers.forEach(clearTimeout);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try { json = JSON.parse(body); } catch { /* not JSON */ }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json });
      const reply = queue.shift() ?? receiver.fallback;
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      };
      if (reply.delayMs) {
        const timer = setTimeout(() => { timers.delete(timer); send(); }, reply.delayMs);
        timers.add(timer);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
