#!/usr/bin/env bash
# check.sh: lints the container files without a Docker engine.
#
#   deploy/docker/check.sh [--bin DIR] [--root DIR] [--only SERVICE]
#
# --root: the repository (default: two folders up from this script).
# --bin:  where the built binaries are, DIR/services/<svc>/<svc> (default:
#         ROOT/bazel-bin).
# --only: check one service's image (the .dockerignore files are always
#         compared, all three).
#
# For each of graphstore, ingest and scorer it checks that:
#  - every FROM is a Debian 12 image (debian:12*, debian:bookworm*), none
#    "latest", and the final stage is a slim one;
#  - the build stage installs exactly the "Build:" packages of
#    deploy/install-deps.sh and builds //services/<svc> with -c opt;
#  - the final stage runs as a numeric non-root USER, copies the binary from the
#    build stage to the ENTRYPOINT's path (exec form), EXPOSEs the gRPC and
#    metrics ports its CMD listens on, and those are the ports of the
#    Kubernetes manifests (deploy/k8s/base/<svc>.yaml);
#  - every runtime package exists in Debian (apt-cache policy has a
#    candidate) and the packages that own every library `ldd` lists for the
#    built binary (dpkg -S) are all installed by the final stage;
#  - nothing is downloaded outside apt (no ADD URL, curl or wget);
#  - the per-Dockerfile .dockerignore files are identical and keep out
#    .git and bazel-*.
# Prints one line per problem and exits 1 if there is any.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=""
services="graphstore ingest scorer"
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --root) root="$2"; shift 2 ;;
    --only) services="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$bin" ] || bin="$root/bazel-bin"
case "$services" in
  graphstore|ingest|scorer|"graphstore ingest scorer") ;;
  *) echo "check.sh: --only takes graphstore, ingest or scorer, not '$services'" >&2; exit 2 ;;
esac
docker_dir="$root/deploy/docker"
problems=0
problem() { echo "FAIL: $*"; problems=$((problems + 1)); }
note() { echo "note: $*"; }

# The words of a Dockerfile's instruction lines, continuation lines joined.
joined() { sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$1" | grep -v '^[[:space:]]*#'; }

# Packages named after "apt-get install ... " in one RUN line (flags dropped).
apt_packages() {
  sed -n 's/.*apt-get install \(.*\)/\1/p' | sed 's/&&.*//' | tr ' ' '\n' |
    { grep -v -e '^-' -e '^$' || true; } | sort -u
}

# The "Build:" group of deploy/install-deps.sh: the lines after the comment
# "# Build:" up to the next comment.
build_group=$(awk '/^ *# Build:/{on=1; next} on && (/^ *#/ || /^ *\)/){exit} on' \
  "$root/deploy/install-deps.sh" | tr ' ' '\n' | grep -v '^$' | sort -u)
[ -n "$build_group" ] || problem "deploy/install-deps.sh has no '# Build:' package group"

# Which package owns each library the binaries link, and which packages have
# a candidate in apt: asked once each (both tools are slow to start).
# Asked once for every binary together, in few processes (a fork per library
# took most of a minute on a loaded machine, and tests run this eleven times).
declare -A owner_of candidate_of libs_of package_of
for svc in $services; do
  b="$bin/services/$svc/$svc"
  [ -x "$b" ] && libs_of[$svc]=$(ldd "$b" | awk '/=> \//{print $3}')
done
mapfile -t libs < <(printf '%s\n' "${libs_of[@]}" | grep -v '^$' | sort -u)
if [ ${#libs[@]} -gt 0 ]; then
  mapfile -t reals < <(readlink -f "${libs[@]}")
  paths=()
  for i in "${!libs[@]}"; do  # usrmerge: dpkg knows a library by one of these
    l=${libs[$i]} real=${reals[$i]}
    paths+=("$l" "/usr$l" "$real" "${real#/usr}")
  done
  while IFS= read -r line; do
    pkg=${line%%: /*}; pkg=${pkg%%:*}; path=${line#*: }
    owner_of["$path"]=$pkg
  done < <(dpkg -S "${paths[@]}" 2>/dev/null | grep ': /' || true)
  for i in "${!libs[@]}"; do
    l=${libs[$i]} real=${reals[$i]}
    for p in "$l" "/usr$l" "$real" "${real#/usr}"; do
      if [ -n "${owner_of[$p]:-}" ]; then package_of["$l"]=${owner_of[$p]}; break; fi
    done
  done
fi
all_runtime=$(for svc in $services; do
  f="$docker_dir/$svc.Dockerfile"; [ -f "$f" ] || continue
  joined "$f" | awk '/^FROM /{n++} {print n, $0}' | awk -v s="$(grep -c '^FROM ' "$f")" '$1==s' |
    cut -d' ' -f2- | grep 'apt-get install' | apt_packages
done | sort -u)
if [ -n "$all_runtime" ]; then
  # shellcheck disable=SC2086
  while read -r pkg cand; do candidate_of["$pkg"]=$cand; done < <(
    apt-cache policy $all_runtime 2>/dev/null |
      awk '/^[^ ].*:$/{sub(":$", ""); p=$0} /^ *Candidate:/{print p, $2}')
fi

for svc in $services; do
  df="$docker_dir/$svc.Dockerfile"
  if [ ! -f "$df" ]; then problem "$svc: $df missing"; continue; fi
  text=$(joined "$df")
  stages=$(grep -c '^FROM ' <<<"$text" || true)
  [ "$stages" -ge 2 ] || problem "$svc: not multi-stage ($stages FROM lines)"

  # FROM lines.
  while read -r _ image rest; do
    case "$image" in
      debian:12|debian:12[.-]*|debian:bookworm|debian:bookworm-*) ;;
      *) problem "$svc: FROM $image is not a Debian 12 image" ;;
    esac
    case "$image" in *:latest|*latest*) problem "$svc: FROM $image uses latest" ;; esac
  done < <(grep '^FROM ' <<<"$text")
  final_from=$(grep '^FROM ' <<<"$text" | tail -n1 | awk '{print $2}')
  case "$final_from" in *slim*) ;; *) problem "$svc: final stage $final_from is not a slim image" ;; esac

  build=$(awk '/^FROM /{n++} n==1' <<<"$text")
  final=$(awk -v s="$stages" '/^FROM /{n++} n==s' <<<"$text")

  # Build stage.
  got=$({ grep 'apt-get install' <<<"$build" || true; } | apt_packages)
  if [ "$got" != "$build_group" ]; then
    problem "$svc: build-stage packages differ from install-deps.sh's Build group:" \
      "$(diff <(echo "$build_group") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
  fi
  grep -q "bazel build -c opt //services/$svc\b" <<<"$build" ||
    problem "$svc: build stage does not run 'bazel build -c opt //services/$svc'"

  # Final stage: user, binary, entrypoint, ports.
  user=$(grep '^USER ' <<<"$final" | tail -n1 | awk '{print $2}' || true)
  uid=${user%%:*}
  if [ -z "$user" ]; then
    problem "$svc: final stage sets no USER (runs as root)"
  elif ! [[ "$uid" =~ ^[0-9]+$ ]] || [ "$uid" -eq 0 ]; then
    problem "$svc: USER $user is not a numeric non-root uid (Kubernetes runAsNonRoot needs one)"
  fi
  grep -q "^COPY --from=build /out/$svc /usr/local/bin/$svc\$" <<<"$final" ||
    problem "$svc: final stage does not copy the built binary to /usr/local/bin/$svc"
  grep -qx "ENTRYPOINT \[\"/usr/local/bin/$svc\"\]" <<<"$final" ||
    problem "$svc: ENTRYPOINT is not [\"/usr/local/bin/$svc\"]"
  exposed=$({ grep '^EXPOSE ' <<<"$final" || true; } | cut -d' ' -f2- | tr ' ' '\n' | sort -n | tr '\n' ' ')
  cmd=$(grep '^CMD ' <<<"$final" || true)
  grpc_port=$(sed -n 's/.*--listen=[^:]*:\([0-9]*\).*/\1/p' <<<"$cmd")
  metrics_port=$(sed -n 's/.*--metrics_listen=[^:]*:\([0-9]*\).*/\1/p' <<<"$cmd")
  listens=$(printf '%s\n' "$grpc_port" "$metrics_port" | sort -n | tr '\n' ' ')
  [ "$exposed" = "$listens" ] ||
    problem "$svc: EXPOSE [$exposed] differs from the ports CMD listens on [$listens]"
  manifest="$root/deploy/k8s/base/$svc.yaml"
  if [ -f "$manifest" ]; then
    k8s=$(grep -A1 -E 'name: (grpc|metrics)$' "$manifest" | sed -n 's/.*containerPort: //p' |
      sort -n | tr '\n' ' ')
    [ "$k8s" = "$listens" ] ||
      problem "$svc: image ports [$listens] differ from deploy/k8s/base/$svc.yaml [$k8s]"
  fi

  # Nothing fetched outside apt.
  if grep -Eq '^ADD +https?://|curl |wget ' <<<"$text"; then
    problem "$svc: downloads outside apt (ADD URL, curl or wget)"
  fi

  # Runtime packages: they exist, and they cover what the binary links.
  runtime=$({ grep 'apt-get install' <<<"$final" || true; } | apt_packages)
  [ -n "$runtime" ] || problem "$svc: final stage installs no runtime packages"
  for p in $runtime; do
    cand=${candidate_of[$p]:-}
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
      problem "$svc: runtime package $p is not in Debian (apt-cache policy: no candidate)"
    fi
  done
  binary="$bin/services/$svc/$svc"
  if [ ! -x "$binary" ]; then
    problem "$svc: $binary not built: cannot compare its libraries"
    continue
  fi
  needed=""
  while read -r lib; do
    [ -n "$lib" ] || continue
    if [ -n "${package_of[$lib]:-}" ]; then
      needed="$needed ${package_of[$lib]}"
    else
      problem "$svc: no Debian package owns $lib (ldd of $binary)"
    fi
  done <<<"${libs_of[$svc]:-}"
  needed=$(tr ' ' '\n' <<<"$needed" | grep -v '^$' | sort -u)
  missing=0
  for p in $needed; do
    grep -qx "$p" <<<"$runtime" && continue
    problem "$svc: links a library from $p, which the image does not install"
    missing=$((missing + 1))
  done
  extra=$(comm -13 <(echo "$needed") <(echo "$runtime") | tr '\n' ' ')
  [ -z "${extra// /}" ] || note "$svc: installs packages the built binary does not link: $extra"
  installed="all installed"
  [ "$missing" -eq 0 ] || installed="$missing not installed"
  echo "$svc: $(wc -w <<<"$needed") runtime packages needed by ldd, $installed; FROM $final_from; USER $user"
done

# .dockerignore files.
first="$docker_dir/graphstore.Dockerfile.dockerignore"
for svc in graphstore ingest scorer; do
  f="$docker_dir/$svc.Dockerfile.dockerignore"
  if [ ! -f "$f" ]; then problem "$svc: $f missing"; continue; fi
  cmp -s "$first" "$f" || problem "$svc: $f differs from graphstore's"
  for pattern in .git 'bazel-*'; do
    grep -qxF "$pattern" "$f" || problem "$svc: $f does not exclude $pattern"
  done
done

if [ "$problems" -gt 0 ]; then
  echo "check.sh: $problems problems"
  exit 1
fi
echo "check.sh: container files OK"
