# The worker image; the compose file also runs the AgentPhone simulator from it.
# Debian slim, not Alpine: Temporal's native core (@temporalio/core-bridge) is built against glibc.

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# Emits lib/ and prebundles the workflow code (lib/workflow-bundle.js): the worker never runs webpack at start-up.
RUN npm run build && test -s lib/workflow-bundle.js

FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/lib ./lib
COPY deploy/worker-healthcheck.js ./deploy/worker-healthcheck.js
# The base image's unprivileged user (uid 1000). Keys arrive as environment variables at run time, never at build.
USER node
# npm forwards SIGTERM to the worker, which drains its in-flight tasks before exiting.
CMD ["npm", "run", "worker"]
