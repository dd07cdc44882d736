# persona-stream: one image, every role (`docker run IMAGE processor`, `… flusher`, …; `all` by default).
#
#   docker build -t persona-stream .
#   docker run --read-only --tmpfs /tmp -v ps-state:/var/lib/persona-stream/state \
#     -e KAFKA_BROKERS=kafka:9092 persona-stream processor
#
# The runtime image holds no compiler and no librdkafka: the librdkafka mock broker (src/local-broker) exists for
# the tests and a laptop `demo`, never for a deployed role, which always talks to the Kafka named by KAFKA_BROKERS.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
# Everything `npm ci` needs, including what the `prepare` script compiles, so the install and the build see one tree.
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY src ./src
COPY bench ./bench
RUN --mount=type=cache,target=/root/.npm npm ci
RUN npm run build
# Only production dependencies reach the runtime stage (lmdb and the other natives ship prebuilt linux-x64 binaries).
RUN npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
ARG UID=10001
ARG GID=10001
# Nothing may write to a home directory: the root filesystem is read-only in production, and /tmp is a volume.
# kafkajs 2.2.4 sets a negative timer when its request queue is idle; Node 24 warns on each process's first one and
# runs it after 1 ms, as older Node did silently. The flag drops that one warning, not others.
ENV NODE_ENV=production \
    NODE_OPTIONS=--disable-warning=TimeoutNegativeWarning \
    HOME=/tmp \
    TMPDIR=/tmp \
    NPM_CONFIG_CACHE=/tmp/.npm \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    STATE_DIR=/var/lib/persona-stream/state \
    HTTP_PORT=8080 \
    METRICS_PORT=9464 \
    SHUTDOWN_GRACE_MS=25000
RUN groupadd --system --gid "${GID}" persona-stream \
 && useradd --system --uid "${UID}" --gid "${GID}" --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin persona-stream \
 && mkdir -p /var/lib/persona-stream/state \
 && chown -R "${UID}:${GID}" /var/lib/persona-stream
WORKDIR /app
COPY --from=build --chown=0:0 /app/package.json ./package.json
COPY --from=build --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/schemas ./schemas
COPY --from=build --chown=0:0 /app/dist/src ./dist/src
# The application files stay root-owned and read-only to the runtime user; only the state directory is its own.
USER 10001:10001
# Docker creates an anonymous volume here when none is mounted, so `--read-only` still leaves the state writable.
VOLUME ["/var/lib/persona-stream/state"]
EXPOSE 8080 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || '9464') + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["all"]
