# The router's image: `serve`, `worker`, `run` and the operators' commands of one binary.
# Build: docker build -t clickup-iam-router . (docker-compose.yml builds it too)
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/clickup-iam-router /usr/local/bin/clickup-iam-router
# The shipped rules as an example; mount your own over this folder (read-only is enough).
COPY rules /etc/clickup-iam-router/rules
ENV RULES_DIR=/etc/clickup-iam-router/rules
RUN useradd --system --home /var/lib/router router && mkdir -p /var/lib/router && chown router /var/lib/router
USER router
WORKDIR /var/lib/router
# The receivers' port and a worker's usual METRICS_LISTEN port.
EXPOSE 8080 9464
ENTRYPOINT ["clickup-iam-router"]
CMD ["run"]
