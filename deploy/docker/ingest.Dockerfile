# georisk ingest: built with Bazel on Debian 12, run on debian:12-slim with only
# the shared libraries it links (deploy/docker/README.md).
#
#   docker build -f deploy/docker/ingest.Dockerfile -t georisk/ingest:dev .
#
# Build context: the repository root (ingest.Dockerfile.dockerignore applies).
# Needs BuildKit (the default since Docker 23) for the Bazel cache mount.

FROM debian:12 AS build
# The "Build:" packages of deploy/install-deps.sh (deploy/docker/check.sh
# keeps the two lists equal).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bazel-bootstrap g++ pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev librocksdb-dev libssl-dev libyaml-cpp-dev \
      libgtest-dev libgmock-dev libbenchmark-dev \
      libcurl4-openssl-dev libcpp-httplib-dev \
      libicu-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/bazel \
    bazel build -c opt //services/ingest \
 && install -D -m 0755 bazel-bin/services/ingest/ingest /out/ingest

FROM debian:12-slim
# Exactly the packages that own the libraries `ldd` lists for the binary
# (deploy/docker/check.sh verifies it), and ca-certificates: the scheduled
# sources' fetcher (libcurl) verifies the publishers' HTTPS certificates
# against /etc/ssl/certs/ca-certificates.crt, Debian's default bundle, which
# --no-install-recommends would leave out (docs/scheduled-sources.md).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libabsl20220623 libbrotli1 libbz2-1.0 libc-ares2 libc6 libcom-err2 \
      libcpp-httplib0.11 libcurl4 libffi8 libgcc-s1 libgflags2.2 libgmp10 \
      libgnutls30 libgrpc++1.51 libgrpc29 libgssapi-krb5-2 libhogweed6 \
      libicu72 libidn2-0 libk5crypto3 libkeyutils1 libkrb5-3 \
      libkrb5support0 libldap-2.5-0 liblz4-1 libnettle8 libnghttp2-14 \
      libp11-kit0 libprotobuf32 libpsl5 libre2-9 librocksdb7.8 librtmp1 \
      libsasl2-2 libsnappy1v5 libssh2-1 libssl3 libstdc++6 libtasn1-6 \
      libunistring2 libzstd1 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 georisk \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin georisk
COPY --from=build /out/ingest /usr/local/bin/ingest
USER 65532:65532
EXPOSE 50052 9465
ENTRYPOINT ["/usr/local/bin/ingest"]
CMD ["--listen=0.0.0.0:50052", "--metrics_listen=0.0.0.0:9465", "--graphstore=dns:///graphstore:50051"]
