# llmgate's container image: built in a Rust image, run from a slim Debian one as a non-root
# user. Build: docker build -t llmgate .   Run: docker run -p 4000:4000 -v $PWD/config.yaml:/app/config.yaml:ro llmgate
# (TLS is rustls with bundled roots' fallback to the system store: ca-certificates is installed.)

FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
# Only the gateway binary; the mock, benches and tests stay out of the image.
RUN cargo build --release --locked -p llmgate-server --bin llmgate \
 && strip target/release/llmgate

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 llmgate \
 && useradd --system --uid 10001 --gid llmgate --home-dir /data --shell /usr/sbin/nologin llmgate \
 && mkdir -p /app /data && chown llmgate:llmgate /data
COPY --from=build /src/target/release/llmgate /usr/local/bin/llmgate
USER 10001:10001
WORKDIR /data
# The embedded SQLite database (when no DATABASE_URL is set) and the spend journal live here.
ENV LLMGATE_DB_PATH=/data/llmgate.db \
    LLMGATE_SPEND_JOURNAL_DIR=/data/journal \
    HOST=0.0.0.0 \
    PORT=4000
VOLUME ["/data"]
EXPOSE 4000
# Liveliness: the process serves HTTP. Orchestrators that route traffic should also probe
# /health/readiness (database reachable), as the compose file and the Helm chart do.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/health/liveliness" || exit 1
ENTRYPOINT ["/usr/local/bin/llmgate"]
CMD ["--config", "/app/config.yaml"]
