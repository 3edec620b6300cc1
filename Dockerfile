# kubedriver's image: see deploy/ for running it in a cluster.
#   docker build -t ghcr.io/kubedriver/kubedriver:0.1.0 .

# Build: the full dependency set (TypeScript) compiles src/ and gen/ to dist/.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: package.json's `prepare` builds dist/, from sources not copied yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY gen gen
COPY src src
RUN npm run build

# Runtime: production dependencies and the compiled JavaScript only.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist dist
# Numeric (the image's "node" user), so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# 7002: the gRPC API; 7003: grpc.health.v1 for probes (server.healthListen).
EXPOSE 7002 7003
# The commit kubedriver_build_info reports: the build context has no .git, so the build says it:
#   docker build --build-arg KUBEDRIVER_COMMIT=$(git rev-parse HEAD) -t … .
ARG KUBEDRIVER_COMMIT=unknown
ENV KUBEDRIVER_COMMIT=${KUBEDRIVER_COMMIT}
ENTRYPOINT ["node", "dist/src/main.js", "serve"]
