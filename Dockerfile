# access-audit in a container: a static (musl) binary on an empty image, run as a non-root user.
#
#   docker build -t access-audit .
#   docker run --rm -v "$PWD:/src:ro" access-audit check .
#   docker run --rm -v "$PWD:/src:ro" access-audit report . > comfyui-api-audit.md

FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /build
# Manifests first, so the dependency layer is reused while only the sources change.
COPY Cargo.toml Cargo.lock ./
COPY benches benches
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo fetch --locked
COPY src src
COPY rules rules
COPY README.md LICENSE ./
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin access-audit \
    && strip target/release/access-audit \
    && ./target/release/access-audit --version

FROM scratch
COPY --from=build /build/target/release/access-audit /usr/local/bin/access-audit
COPY --from=build /build/LICENSE /usr/share/doc/access-audit/LICENSE
# An unprivileged user (no /etc/passwd needed for a numeric id).
USER 65532:65532
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/access-audit"]
CMD ["check", "."]
