# syntax=docker/dockerfile:1
# falco-ml sidecar image: `docker build -t falco-ml .`
# Runs `falco-ml serve` on 2803 with the built-in model (models/) and policies (rules/policies/).
# Configure by environment (FALCO_ML_<SETTING>, e.g. FALCO_ML_SIDEKICK, FALCO_ML_FEED_SOCKET,
# FALCO_ML_GRPC_INPUT) or by a mounted file (FALCO_ML_CONFIG=/etc/falco-ml/config.yaml); mount
# your own policies and set FALCO_ML_POLICIES=/etc/falco-ml/policies, your model with FALCO_ML_MODEL.

ARG NODE_VERSION=20

# --- build: compile TypeScript to dist/ -----------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the prepare script would build before the sources are here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies, the built code, model, rules, proto -----------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    FALCO_ML_LISTEN=0.0.0.0:2803 \
    FALCO_ML_SPOOL_DIR=/var/lib/falco-ml/spool \
    FALCO_ML_PROFILES_DIR=/var/lib/falco-ml/profiles
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; no install scripts (the optional tfjs-node native download is
# skipped: serving never trains, and scoring runs in plain TypeScript).
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY models ./models
COPY rules ./rules
COPY proto ./proto
COPY docker/healthcheck.mjs ./docker/healthcheck.mjs
# The feed socket folder (shared with Falco), the spool and the learned profiles (serve --learn),
# writable by the unprivileged user.
RUN mkdir -p /run/falco-ml /var/lib/falco-ml/spool /var/lib/falco-ml/profiles && chown -R node:node /run/falco-ml /var/lib/falco-ml
# The official Node image's unprivileged user (uid 1000).
USER node
EXPOSE 2803
VOLUME ["/var/lib/falco-ml/spool", "/var/lib/falco-ml/profiles"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 CMD ["node", "docker/healthcheck.mjs"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
