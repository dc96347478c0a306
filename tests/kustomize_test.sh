#!/usr/bin/env bash
# deploy/k8s: renders the dev and prod overlays with `kubectl kustomize` and
# checks the objects (tests/k8s_check.py: kinds, probes, ports, labels,
# selectors, replicas, volumes, security, Secrets, flags the binaries take),
# including a self-test that breaks copies of the objects and expects each
# breakage to be caught. Then runs overlays/dev/gen-dev-secrets.sh, renders
# dev with its output and verifies the certificates and tokens it made.
# Skips (passes, saying so) only when kubectl is not installed.
set -euo pipefail
if ! command -v kubectl >/dev/null 2>&1; then
  echo "SKIP: kubectl not found on PATH: deploy/k8s was not rendered or checked"
  exit 0
fi
root="$TEST_SRCDIR/$TEST_WORKSPACE"
py=/usr/bin/python3
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/k8s.XXXXXX")
export HOME="$tmp"  # kubectl may write a cache under ~/.kube
fail() { echo "FAIL: $*" >&2; exit 1; }

# kustomize refuses files reached through symlinks that leave the
# kustomization's folder, and runfiles are symlinks: render a real copy.
mkdir -p "$tmp/deploy"
cp -rL "$root/deploy/k8s" "$root/deploy/config" "$tmp/deploy/"
binaries=()
for svc in graphstore ingest scorer; do
  binaries+=(--binary "$svc=$root/services/$svc/$svc")
done

for overlay in dev prod; do
  kubectl kustomize "$tmp/deploy/k8s/overlays/$overlay" > "$tmp/$overlay.yaml" ||
    fail "kubectl kustomize overlays/$overlay"
  "$py" "$root/tests/k8s_check.py" --overlay "$overlay" "$tmp/$overlay.yaml" \
    --readme "$root/deploy/k8s/README.md" --self-test "${binaries[@]}" ||
    fail "overlays/$overlay: see the FAIL lines above"
done

# The dev credentials script: real certificates for the dev namespace.
secrets="$tmp/deploy/k8s/overlays/dev/secrets"
"$tmp/deploy/k8s/overlays/dev/gen-dev-secrets.sh" --out "$secrets" > "$tmp/gen.out"
grep -q '^dev reader token (scorer): [0-9a-f]\{48\}$' "$tmp/gen.out" || fail "no reader token printed"
for svc in graphstore ingest scorer; do
  openssl verify -CAfile "$secrets/ca.crt" "$secrets/$svc.crt" >/dev/null ||
    fail "$svc.crt does not chain to ca.crt"
  sans=$(openssl x509 -in "$secrets/$svc.crt" -noout -ext subjectAltName)
  for name in "$svc-headless.georisk-dev.svc.cluster.local" "$svc.georisk-dev.svc.cluster.local" \
      "*.$svc-headless.georisk-dev.svc.cluster.local"; do
    grep -qF "DNS:$name" <<<"$sans" || fail "$svc.crt does not name $name"
  done
  if [ "$svc" = ingest ]; then
    for name in "ingest-sources.georisk-dev.svc.cluster.local" \
        "*.ingest-sources.georisk-dev.svc.cluster.local"; do
      grep -qF "DNS:$name" <<<"$sans" || fail "ingest.crt does not name $name (ingest-sources)"
    done
  fi
  openssl x509 -in "$secrets/$svc.crt" -noout -ext extendedKeyUsage |
    grep -q 'TLS Web Client Authentication' || fail "$svc.crt cannot authenticate a client"
  [ "$(openssl pkey -in "$secrets/$svc.key" -pubout)" = \
    "$(openssl x509 -in "$secrets/$svc.crt" -noout -pubkey)" ] || fail "$svc.key does not match $svc.crt"
done
# Token files: "<token> <role> [<name>]" (services/common/auth.h); each
# client's graphstore token is an admin token graphstore knows.
for f in graphstore ingest scorer; do
  grep -v '^#' "$secrets/$f.tokens" | grep -Evq '^[A-Za-z0-9._~+/=-]{16,} (reader|writer|admin)( [^ ]+)?$' &&
    fail "$f.tokens has a malformed line"
done
for client in ingest scorer; do
  grep -q "^$(cat "$secrets/$client-graphstore.token") admin $client\$" "$secrets/graphstore.tokens" ||
    fail "$client's graphstore token is not an admin token of graphstore"
done
kubectl kustomize "$tmp/deploy/k8s/overlays/dev" > "$tmp/dev-real.yaml"
"$py" "$root/tests/k8s_check.py" --overlay dev "$tmp/dev-real.yaml" | grep -v '^note:' ||
  fail "dev with generated secrets"
"$py" - "$tmp/dev-real.yaml" "$secrets" <<'PY' || fail "rendered Secrets differ from the generated files"
import base64, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "Secret"]
tls = next(d for d in docs if d["metadata"]["name"].startswith("graphstore-tls-"))
assert base64.b64decode(tls["data"]["tls.crt"]) == open(sys.argv[2] + "/graphstore.crt", "rb").read()
assert base64.b64decode(tls["data"]["ca.crt"]) == open(sys.argv[2] + "/ca.crt", "rb").read()
PY
echo PASS
