# The treasury agent's worker: polls the Temporal frontend at TEMPORAL_ADDRESS
# and runs the workflows and activities. Configured by environment:
#   TEMPORAL_ADDRESS   host:port of the Temporal frontend (required; compose sets temporal:7233)
#   TEMPORAL_NAMESPACE namespace (default "default")
#   CONFIG_FILE        JSON config merged over the defaults (empty: the demo profile, paper mode)
#   DATA_DIR           the SQLite store and the paper market's anchor (a volume; default /data)
#   DATABASE_URL       postgres://… : the store (and paper ledger) in PostgreSQL, shared by several workers
#   METRICS_PORT       Prometheus /metrics port (default 9464; "off" disables)
#   LOG_LEVEL          fatal | error | warn | info | debug | trace (JSON lines on stdout)

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- dependencies: compiled here, with the build tools better-sqlite3 needs ----
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp uses the image's own Node headers instead of downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
# Dev dependencies included on purpose: the worker runs TypeScript through tsx.
RUN npm ci --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: no compilers, a non-root user ----
FROM ${NODE_IMAGE} AS runtime
RUN groupadd --system --gid 10001 pstr \
 && useradd --system --uid 10001 --gid pstr --home-dir /app --shell /usr/sbin/nologin pstr \
 && mkdir -p /data \
 && chown pstr:pstr /data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json worker.ts client.ts ./
COPY src ./src
COPY drizzle ./drizzle
COPY drizzle-pg ./drizzle-pg

ENV TEMPORAL_ADDRESS="" \
    TEMPORAL_NAMESPACE=default \
    CONFIG_FILE="" \
    DATA_DIR=/data \
    METRICS_PORT=9464 \
    LOG_LEVEL=info
USER pstr
VOLUME ["/data"]
EXPOSE 9464

# Healthy while /healthz answers on the metrics port (always healthy when metrics are off).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "const p=process.env.METRICS_PORT||'9464';if(/^(off|none|disabled)$/i.test(p))process.exit(0);fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# exec: the worker is PID 1's only child (compose adds init), so SIGTERM drains it.
CMD ["sh", "-c", "exec ./node_modules/.bin/tsx worker.ts --data-dir \"$DATA_DIR\" --log-file - ${CONFIG_FILE:+--config \"$CONFIG_FILE\"}"]
