#!/usr/bin/env bash
# deploy/docker: runs deploy/docker/check.sh (Debian 12 FROMs, non-root USER,
# build packages = install-deps.sh's, runtime packages exist in Debian and
# cover every library ldd lists for the binaries built here, ports = the
# Kubernetes manifests'), then breaks copies of the container files and
# expects check.sh to catch each breakage.
set -euo pipefail
runfiles="$TEST_SRCDIR/$TEST_WORKSPACE"
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/docker.XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }

# A copy of what check.sh reads (real files, not runfiles symlinks).
mkdir -p "$tmp/root/deploy/k8s"
cp -rL "$runfiles/deploy/docker" "$tmp/root/deploy/"
cp -rL "$runfiles/deploy/k8s/base" "$tmp/root/deploy/k8s/"
cp -L "$runfiles/deploy/install-deps.sh" "$tmp/root/deploy/"
check="$tmp/root/deploy/docker/check.sh"

"$check" --root "$tmp/root" --bin "$runfiles" || fail "check.sh failed on the container files"

# Each breakage must be caught.
breaks=(  # SERVICE|sed expression|what|the FAIL line expected
  "graphstore|/^USER /d|no USER|sets no USER"
  "ingest|s/^FROM debian:12-slim/FROM ubuntu:22.04/|a non-Debian base|is not a Debian 12 image"
  "scorer|s/^FROM debian:12 AS build/FROM debian:latest AS build/|the latest tag|uses latest"
  "graphstore|s/ libprotobuf32 / /|a missing runtime library package|from libprotobuf32, which the image does not install"
  "ingest|s/libssl3/libssl3 libgrpc-doesnotexist1/|a package Debian does not have|libgrpc-doesnotexist1 is not in Debian"
  "scorer|s/^EXPOSE 50053 9466/EXPOSE 50053/|an EXPOSE that misses a port|differs from the ports CMD listens on"
  "graphstore|s/ libabsl-dev / /|a build stage that drifts from install-deps.sh|differ from install-deps.sh"
  "ingest|s/^USER 65532:65532/USER 0/|USER root|is not a numeric non-root uid"
  "scorer|s/--metrics_listen=0.0.0.0:9466/--metrics_listen=0.0.0.0:9999/;s/^EXPOSE 50053 9466/EXPOSE 50053 9999/|ports that differ from the manifests|differ from deploy/k8s/base/scorer.yaml"
  "graphstore|s/^ENTRYPOINT .*/ENTRYPOINT \/usr\/local\/bin\/graphstore/|a shell-form ENTRYPOINT|ENTRYPOINT is not"
)
for b in "${breaks[@]}"; do
  IFS='|' read -r svc sed_expr what expect <<<"$b"
  rm -rf "$tmp/broken"; cp -r "$tmp/root" "$tmp/broken"
  sed -i "$sed_expr" "$tmp/broken/deploy/docker/$svc.Dockerfile"
  cmp -s "$tmp/root/deploy/docker/$svc.Dockerfile" "$tmp/broken/deploy/docker/$svc.Dockerfile" &&
    fail "breakage '$what' did not change $svc.Dockerfile"
  # Only the broken service's image is checked again (the whole check runs
  # once above); each run asks dpkg and apt-cache, which are slow.
  if "$tmp/broken/deploy/docker/check.sh" --root "$tmp/broken" --bin "$runfiles" \
    --only "$svc" >"$tmp/out" 2>&1; then
    cat "$tmp/out"; fail "check.sh did not catch $what"
  fi
  grep -q "^FAIL: $svc: .*$expect" "$tmp/out" || { cat "$tmp/out"; fail "$what: no FAIL line saying '$expect'"; }
  echo "caught: $what"
done
echo "# a" >> "$tmp/root/deploy/docker/scorer.Dockerfile.dockerignore"
"$check" --root "$tmp/root" --bin "$runfiles" --only scorer >/dev/null && fail "diverging .dockerignore not caught"
"$check" --root "$tmp/root" --only nginx >/dev/null 2>&1 && fail "check.sh took --only nginx"
echo PASS
