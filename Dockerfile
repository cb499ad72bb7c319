# Build: docker build -t clickup-iam-router .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/clickup-iam-router /usr/local/bin/clickup-iam-router
RUN useradd --system --home /var/lib/router router && mkdir -p /var/lib/router && chown router /var/lib/router
USER router
WORKDIR /var/lib/router
ENTRYPOINT ["clickup-iam-router"]
CMD ["run"]
