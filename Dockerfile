# llmgate's container image: built in a Rust image, run from a distroless one (glibc, CA
# certificates, no shell, no package manager) as its non-root user (65532).
# Build: docker build -t llmgate .   Run: docker run -p 4000:4000 -v $PWD/config.yaml:/app/config.yaml:ro llmgate

FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
# Only the gateway binary; the mock, benches and tests stay out of the image.
RUN cargo build --release --locked -p llmgate-server --bin llmgate \
 && strip target/release/llmgate \
 && mkdir -p /out/data/journal /out/app

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /src/target/release/llmgate /usr/local/bin/llmgate
# The data directory, owned by the runtime user (nothing can be run in this stage to make it).
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/app /app
USER 65532:65532
WORKDIR /data
# The embedded SQLite database (when no DATABASE_URL is set) and the spend journal live here.
ENV LLMGATE_DB_PATH=/data/llmgate.db \
    LLMGATE_SPEND_JOURNAL_DIR=/data/journal \
    HOST=0.0.0.0 \
    PORT=4000
VOLUME ["/data"]
EXPOSE 4000
# Liveliness through the binary's own probe (GET /health/liveliness on $PORT, exit 0 or 1):
# there is no shell or curl here. Orchestrators that route traffic should also probe
# /health/readiness (database reachable), as the compose file and the Helm chart do.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/llmgate", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/llmgate"]
CMD ["--config", "/app/config.yaml"]
