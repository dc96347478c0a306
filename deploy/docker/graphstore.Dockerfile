# georisk graphstore: built with Bazel on Debian 12, run on debian:12-slim with only
# the shared libraries it links (deploy/docker/README.md).
#
#   docker build -f deploy/docker/graphstore.Dockerfile -t georisk/graphstore:dev .
#
# Build context: the repository root (graphstore.Dockerfile.dockerignore applies).
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
    bazel build -c opt //services/graphstore \
      //services/graphstore:graphstore_move_partitions \
 && install -D -m 0755 bazel-bin/services/graphstore/graphstore /out/graphstore \
 && install -D -m 0755 bazel-bin/services/graphstore/graphstore_move_partitions \
      /out/graphstore_move_partitions

FROM debian:12-slim
# Exactly the packages that own the libraries `ldd` lists for the binary
# (deploy/docker/check.sh verifies it).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20220623 libbrotli1 libbz2-1.0 libc-ares2 libc6 \
      libcpp-httplib0.11 libgcc-s1 libgflags2.2 libgrpc++1.51 libgrpc29 \
      libicu72 liblz4-1 libprotobuf32 libre2-9 librocksdb7.8 libsnappy1v5 \
      libssl3 libstdc++6 libzstd1 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 georisk \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin georisk
# Writable data folder for `docker run` without a volume; Kubernetes mounts
# a PersistentVolume here.
RUN install -d -o 65532 -g 65532 -m 0750 /var/lib/georisk/graphstore
COPY --from=build /out/graphstore /usr/local/bin/graphstore
# The offline partition move, for a maintenance Job on the shards' volumes
# (docs/scale-out.md, "Adding shards"); it links a subset of graphstore's
# libraries.
COPY --from=build /out/graphstore_move_partitions /usr/local/bin/graphstore_move_partitions
USER 65532:65532
EXPOSE 50051 9464
ENTRYPOINT ["/usr/local/bin/graphstore"]
CMD ["--listen=0.0.0.0:50051", "--metrics_listen=0.0.0.0:9464", "--data_dir=/var/lib/georisk/graphstore"]
