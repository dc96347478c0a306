#!/usr/bin/env bash
# gen-dev-secrets.sh: writes throw-away credentials for the dev overlay over
# the placeholders in secrets/: a CA, a certificate per service (server and
# client use, named for its Services in the namespace), and token files.
#
#   deploy/k8s/overlays/dev/gen-dev-secrets.sh [--out DIR] [--namespace NS]
#
# Defaults: --out is secrets/ beside this script, --namespace georisk-dev.
# In a git work tree it marks the files it overwrote skip-worktree, so the
# generated keys do not show up in `git status` and cannot be committed by
# `git commit -a` (undo: git update-index --no-skip-worktree FILE).
# Prints the dev client tokens (reader for the scorer, writer for ingest).
# Needs openssl.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="$here/secrets"
ns="georisk-dev"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --namespace) ns="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gen-dev-secrets: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v openssl >/dev/null || { echo "gen-dev-secrets: openssl not found" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
days=90

# The CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$work/ca.key" -out "$out/ca.crt" -days "$days" \
  -subj "/O=georisk dev/CN=georisk dev CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# One certificate per service: the names clients dial (the Services, the
# pods of a StatefulSet) and localhost for port-forwards. ingest's also names
# ingest-sources (the same process with scheduled sources, which mounts
# ingest's Secrets): its headless Service and its pod.
cert() {  # cert SERVICE [ALSO]
  local svc="$1" also="${2:-}" d="svc.cluster.local"
  local sans="DNS:$svc,DNS:$svc.$ns.svc,DNS:$svc.$ns.$d"
  sans="$sans,DNS:$svc-headless.$ns.svc,DNS:$svc-headless.$ns.$d"
  sans="$sans,DNS:*.$svc-headless.$ns.svc,DNS:*.$svc-headless.$ns.$d,DNS:localhost,IP:127.0.0.1"
  if [ -n "$also" ]; then
    sans="$sans,DNS:$also.$ns.svc,DNS:$also.$ns.$d,DNS:*.$also.$ns.svc,DNS:*.$also.$ns.$d"
  fi
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$out/$svc.key" -out "$work/$svc.csr" \
    -subj "/O=georisk dev/CN=$svc" 2>/dev/null
  printf '%s\n' "subjectAltName=$sans" "extendedKeyUsage=serverAuth,clientAuth" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "basicConstraints=CA:FALSE" \
    > "$work/$svc.ext"
  openssl x509 -req -in "$work/$svc.csr" -CA "$out/ca.crt" -CAkey "$work/ca.key" \
    -CAserial "$work/ca.srl" -CAcreateserial -days "$days" -extfile "$work/$svc.ext" -out "$out/$svc.crt" 2>/dev/null
}
cert graphstore; cert ingest ingest-sources; cert scorer

# Tokens (services/common/auth.h): "<token> <role> [<name>]" per line.
token() { openssl rand -hex 24; }
ingest_admin=$(token); scorer_admin=$(token); operator=$(token)
reader=$(token); writer=$(token)
header="# georisk dev tokens, generated $(date -u +%Y-%m-%dT%H:%M:%SZ): not for production."
printf '%s\n%s admin ingest\n%s admin scorer\n%s admin operator\n' \
  "$header" "$ingest_admin" "$scorer_admin" "$operator" > "$out/graphstore.tokens"
printf '%s\n%s writer dev-writer\n%s admin operator\n' \
  "$header" "$writer" "$operator" > "$out/ingest.tokens"
printf '%s\n%s reader dev-reader\n%s admin operator\n' \
  "$header" "$reader" "$operator" > "$out/scorer.tokens"
echo "$ingest_admin" > "$out/ingest-graphstore.token"
echo "$scorer_admin" > "$out/scorer-graphstore.token"
chmod 0600 "$out"/*.key "$out"/*.tokens "$out"/*.token

files=(ca.crt graphstore.crt graphstore.key ingest.crt ingest.key scorer.crt scorer.key
  graphstore.tokens ingest.tokens scorer.tokens ingest-graphstore.token scorer-graphstore.token)
if git -C "$out" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  for f in "${files[@]}"; do
    if git -C "$out" ls-files --error-unmatch "$f" >/dev/null 2>&1; then
      git -C "$out" update-index --skip-worktree "$f"
    fi
  done
fi
echo "gen-dev-secrets: wrote ${#files[@]} files to $out for namespace $ns (valid $days days)"
echo "dev reader token (scorer): $reader"
echo "dev writer token (ingest): $writer"
echo "operator admin token:      $operator"
