# imagebump container image: build with the Swift toolchain, run on slim Debian with only the
# runtime libraries, as a non-root user.
ARG SWIFT_VERSION=6.3
FROM swift:${SWIFT_VERSION}-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgit2-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is rebuilt only when Package.swift changes, not with every
# source edit. The manifest names the test targets, so their folders must exist for it to load.
COPY Package.swift ./
RUN mkdir -p Sources Tests && swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product imagebump --static-swift-stdlib \
 && install -D "$(swift build -c release --show-bin-path)/imagebump" /out/imagebump \
 && strip /out/imagebump

FROM debian:bookworm-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="imagebump" \
      org.opencontainers.image.description="Closes the GitOps loop: image pushes become commits and merge requests in the environment repository" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.documentation="README.md, docs/"
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgit2-1.5 libcurl4 libssl3 libsqlite3-0 libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /var/lib/imagebump imagebump
COPY --from=build /out/imagebump /usr/local/bin/imagebump
COPY config/imagebump.yaml /etc/imagebump/imagebump.yaml
USER 10001
WORKDIR /var/lib/imagebump
# The journal and repository caches live in stateDir (the example config: /var/lib/imagebump,
# this user's home); mount a volume there to keep them across restarts.
VOLUME ["/var/lib/imagebump"]
EXPOSE 8080 8081
# No curl in the image: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 \
  CMD ["imagebump", "healthcheck", "--url", "http://127.0.0.1:8080/healthz", "--timeout", "5"]
ENTRYPOINT ["imagebump"]
CMD ["serve", "--config", "/etc/imagebump/imagebump.yaml"]
