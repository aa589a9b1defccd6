# imagebump container image: build with the Swift toolchain, run on slim Debian with only the
# runtime libraries, as a non-root user.
ARG SWIFT_VERSION=6.3
FROM swift:${SWIFT_VERSION}-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgit2-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Package.swift names the test targets, so their folders must exist for the manifest to load.
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product imagebump --static-swift-stdlib \
 && install -D "$(swift build -c release --show-bin-path)/imagebump" /out/imagebump

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgit2-1.5 libcurl4 libssl3 libsqlite3-0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /var/lib/imagebump imagebump
COPY --from=build /out/imagebump /usr/local/bin/imagebump
COPY config/imagebump.yaml /etc/imagebump/imagebump.yaml
USER 10001
WORKDIR /var/lib/imagebump
# The journal and repository caches live in stateDir (the example config: /var/lib/imagebump,
# this user's home); mount a volume there to keep them across restarts.
VOLUME ["/var/lib/imagebump"]
EXPOSE 8080
ENTRYPOINT ["imagebump"]
CMD ["serve", "--config", "/etc/imagebump/imagebump.yaml"]
