"""Checks the objects `kubectl kustomize` renders for a georisk overlay.

    /usr/bin/python3 tests/k8s_check.py --overlay dev rendered.yaml \
        [--binary graphstore=PATH ...] [--readme deploy/k8s/README.md] \
        [--self-test]

Exits 0 when every check passes, 1 with one line per problem otherwise.
--binary: the built service, asked for its flags (--helpfull) so that every
flag a manifest passes is one the binary takes (or one listed in PENDING_FLAGS,
printed as pending). --self-test: also breaks copies of the objects in known
ways and fails unless each breakage is caught.

The expectations below are the contract deploy/k8s/README.md describes.
"""

import argparse
import copy
import re
import subprocess
import sys

import yaml

# Per workload: kind, ports, health service name, start-up budget; `binary`
# (default the workload's name) is the service it runs, which names its one
# container and the flags it takes.
SERVICES = {
    "graphstore": dict(kind="StatefulSet", grpc=50051, metrics=9464, health=50151,
                       health_service="georisk.v1.GraphStore", startup_s=300),
    "ingest": dict(kind="Deployment", grpc=50052, metrics=9465, health=50152,
                   health_service="georisk.v1.Ingest", startup_s=60),
    # ingest with the scheduled sources (docs/scheduled-sources.md): one
    # replica, always (the StatefulSet's pod identity is the fencing).
    "ingest-sources": dict(kind="StatefulSet", grpc=50052, metrics=9465, health=50152,
                           health_service="georisk.v1.Ingest", startup_s=60, binary="ingest"),
    "scorer": dict(kind="StatefulSet", grpc=50053, metrics=9466, health=50153,
                   health_service="georisk.v1.Scorer", startup_s=600),
}

OVERLAYS = {
    "dev": dict(namespace="georisk-dev", image_tag="dev", secrets="generated",
                replicas={"graphstore": 1, "scorer": 1, "ingest-sources": 1}, hpa=(1, 2),
                spread=False),
    "prod": dict(namespace="georisk", image_tag=None, secrets="external",
                 replicas={"graphstore": 3, "scorer": 2, "ingest-sources": 1}, hpa=(2, 10),
                 spread=True,
                 # Partitioned graphstore: the map its shards and ingest read.
                 objects={("ConfigMap", "graphstore-partition-map")}),
}

# Objects every overlay renders: (kind, name). Generated ConfigMaps and
# Secrets carry a content hash suffix, stripped before comparing.
COMMON_OBJECTS = {
    ("ServiceAccount", "graphstore"), ("ServiceAccount", "ingest"), ("ServiceAccount", "scorer"),
    ("StatefulSet", "graphstore"), ("Deployment", "ingest"), ("StatefulSet", "scorer"),
    ("StatefulSet", "ingest-sources"), ("Service", "ingest-sources"),
    ("NetworkPolicy", "ingest-sources"),
    ("Service", "graphstore-headless"), ("Service", "graphstore"),
    ("Service", "ingest"), ("Service", "ingest-headless"),
    ("Service", "scorer-headless"), ("Service", "scorer"),
    ("PodDisruptionBudget", "graphstore"), ("PodDisruptionBudget", "ingest"),
    ("PodDisruptionBudget", "scorer"),
    ("HorizontalPodAutoscaler", "ingest"),
    ("NetworkPolicy", "graphstore"), ("NetworkPolicy", "ingest"), ("NetworkPolicy", "scorer"),
    ("ConfigMap", "georisk-model"),
    # ingest-sources' --sources_config (docs/scheduled-sources.md).
    ("ConfigMap", "georisk-sources"),
}

# The Secrets the pods mount and the keys they read. dev generates them;
# prod expects them to exist (README "Secrets").
SECRETS = {
    "graphstore-tls": {"tls.crt", "tls.key", "ca.crt"},
    "ingest-tls": {"tls.crt", "tls.key", "ca.crt"},
    "scorer-tls": {"tls.crt", "tls.key", "ca.crt"},
    "graphstore-auth": {"tokens"},
    "ingest-auth": {"tokens", "graphstore.token"},
    "scorer-auth": {"tokens", "graphstore.token"},
}

# Flags whose value is a file the pod must mount.
FILE_FLAGS = {"data_dir", "model_config", "tls_cert", "tls_key", "tls_client_ca", "token_file",
              "graphstore_tls_ca", "client_tls_cert", "client_tls_key", "graphstore_token_file",
              "partition_map_file", "sources_config", "sources_state_dir"}
# Directories a pod writes: on a volumeClaimTemplate, mounted read-write.
STATE_FLAGS = {"data_dir", "sources_state_dir"}
# Files that come from a generated ConfigMap, by flag: the ConfigMap's base name.
CONFIGMAP_FLAGS = {"model_config": "georisk-model", "sources_config": "georisk-sources"}

# Partitioned graphstore (docs/scale-out.md): the partition count, the
# ConfigMap that carries the map, and the label the StatefulSet controller
# sets to a pod's ordinal.
PARTITIONS = 1024
PARTITION_MAP_CONFIGMAP = "graphstore-partition-map"
POD_INDEX_FIELD = "metadata.labels['apps.kubernetes.io/pod-index']"

# Flags the manifests pass that a binary may not take yet: the TLS/auth and
# client flags being added to services/common, --health_listen (a plaintext
# health-only port: kubelet gRPC probes cannot speak TLS), and the real
# scorer's --model_config (the built scorer is still main_stub.cc).
PENDING_FLAGS = {
    "graphstore": set(),
    "ingest": set(),
    "scorer": set(),
}


def binary_of(svc):
    return SERVICES[svc].get("binary", svc)

GRACE_MARGIN_S = 5


class Checker:
    def __init__(self, docs, overlay, binary_flags=None, readme_text=None):
        self.docs = [d for d in docs if d]
        self.overlay = overlay
        self.want = OVERLAYS[overlay]
        self.binary_flags = binary_flags or {}
        self.readme = readme_text
        self.problems = []
        self.notes = []

    # -- helpers ---------------------------------------------------------
    def fail(self, msg):
        self.problems.append(msg)

    def objs(self, kind):
        return [d for d in self.docs if d.get("kind") == kind]

    def get(self, kind, name):
        for d in self.objs(kind):
            if d["metadata"]["name"] == name:
                return d
        return None

    def generated(self, kind, base):
        """The generated object whose name is `base` plus a hash suffix."""
        for d in self.objs(kind):
            if re.fullmatch(re.escape(base) + r"-[a-z0-9]{10}", d["metadata"]["name"]):
                return d
        return None

    @staticmethod
    def base_name(d):
        name = d["metadata"]["name"]
        if d["kind"] in ("ConfigMap", "Secret"):
            return re.sub(r"-[a-z0-9]{10}$", "", name)
        return name

    @staticmethod
    def selects(selector, labels):
        """Whether a LabelSelector (matchLabels/matchExpressions) selects labels."""
        if selector is None:
            return False
        for k, v in (selector.get("matchLabels") or {}).items():
            if labels.get(k) != v:
                return False
        for e in selector.get("matchExpressions") or []:
            k, op, vals = e["key"], e["operator"], e.get("values") or []
            if op == "In" and labels.get(k) not in vals:
                return False
            if op == "NotIn" and labels.get(k) in vals:
                return False
            if op == "Exists" and k not in labels:
                return False
            if op == "DoesNotExist" and k in labels:
                return False
        return True

    def workloads(self):
        out = {}
        for svc, spec in SERVICES.items():
            w = self.get(spec["kind"], svc)
            if w is not None:
                out[svc] = w
        return out

    def pod_labels(self, w):
        return w["spec"]["template"]["metadata"].get("labels") or {}

    def selected_workloads(self, selector):
        return sorted(s for s, w in self.workloads().items()
                      if self.selects(selector, self.pod_labels(w)))

    @staticmethod
    def flags(container):
        out, dups = {}, []
        for a in container.get("args") or []:
            m = re.fullmatch(r"--([a-z0-9_]+)(?:=(.*))?", a)
            if not m:
                continue
            if m.group(1) in out:
                dups.append(m.group(1))
            out[m.group(1)] = m.group(2) if m.group(2) is not None else "true"
        return out, dups

    @staticmethod
    def port_of(address):
        m = re.fullmatch(r"(.*):(\d+)", address or "")
        return (m.group(1), int(m.group(2))) if m else (None, None)

    @staticmethod
    def seconds(duration):
        m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration or "")
        if not m:
            return None
        return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]

    @staticmethod
    def mebibytes(quantity):
        m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti)?", str(quantity))
        if not m:
            return None
        return int(m.group(1)) * {None: 1 / 2**20, "Ki": 1 / 1024, "Mi": 1, "Gi": 1024,
                                  "Ti": 1024 * 1024}[m.group(2)]

    @staticmethod
    def millicores(quantity):
        q = str(quantity)
        return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)

    # -- checks ----------------------------------------------------------
    def run(self):
        self.check_inventory()
        for svc in SERVICES:
            self.check_workload(svc)
        self.check_services()
        self.check_pdbs()
        self.check_hpa()
        self.check_network_policies()
        self.check_secrets()
        self.check_shards()
        return self.problems

    def check_inventory(self):
        ns = self.want["namespace"]
        got = {(d["kind"], self.base_name(d)) for d in self.docs}
        want = set(COMMON_OBJECTS) | {("Namespace", ns)} | self.want.get("objects", set())
        if self.want["secrets"] == "generated":
            want |= {("Secret", s) for s in SECRETS}
        for k in sorted(want - got):
            self.fail(f"missing object {k[0]}/{k[1]}")
        for k in sorted(got - want):
            self.fail(f"unexpected object {k[0]}/{k[1]}")
        for d in self.docs:
            kind, md = d["kind"], d["metadata"]
            if kind == "Namespace":
                labels = md.get("labels") or {}
                if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
                    self.fail(f"Namespace/{md['name']}: not labelled for the restricted Pod Security Standard")
            elif md.get("namespace") != ns:
                self.fail(f"{kind}/{md['name']}: namespace {md.get('namespace')!r}, want {ns!r}")
            if (md.get("labels") or {}).get("app.kubernetes.io/part-of") != "georisk":
                self.fail(f"{kind}/{md['name']}: no app.kubernetes.io/part-of=georisk label")

    def check_workload(self, svc):
        spec = SERVICES[svc]
        w = self.get(spec["kind"], svc)
        if w is None:
            return
        where = f"{spec['kind']}/{svc}"
        tmpl = w["spec"]["template"]
        labels = self.pod_labels(w)
        pod = tmpl["spec"]
        if not self.selects(w["spec"].get("selector"), labels):
            self.fail(f"{where}: selector does not select its own pod template")
        if labels.get("app.kubernetes.io/name") != svc:
            self.fail(f"{where}: pod label app.kubernetes.io/name != {svc}")

        # Replicas.
        if spec["kind"] == "StatefulSet":
            want = self.want["replicas"][svc]
            if w["spec"].get("replicas") != want:
                self.fail(f"{where}: replicas {w['spec'].get('replicas')}, want {want}")
        elif "replicas" in w["spec"]:
            self.fail(f"{where}: sets spec.replicas although its HorizontalPodAutoscaler owns them")
        if svc == "ingest-sources" and w["spec"].get("replicas") != 1:
            self.fail(f"{where}: replicas {w['spec'].get('replicas')}, want exactly 1: each pod would "
                      "import every source (docs/scheduled-sources.md, one importer at a time)")

        # Pod security.
        psc = pod.get("securityContext") or {}
        if psc.get("runAsNonRoot") is not True or not psc.get("runAsUser"):
            self.fail(f"{where}: pod must set runAsNonRoot: true and a non-zero runAsUser")
        if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            self.fail(f"{where}: pod seccompProfile is not RuntimeDefault")
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(key):
                self.fail(f"{where}: {key} is set")
        if any("hostPath" in v for v in pod.get("volumes") or []):
            self.fail(f"{where}: mounts a hostPath volume")
        sa = pod.get("serviceAccountName")
        if not self.get("ServiceAccount", sa or ""):
            self.fail(f"{where}: serviceAccountName {sa!r} is not a rendered ServiceAccount")
        if pod.get("automountServiceAccountToken") is not False:
            self.fail(f"{where}: mounts a service account token it does not need")

        containers = pod.get("containers") or []
        if [c["name"] for c in containers] != [binary_of(svc)]:
            self.fail(f"{where}: want exactly one container named {binary_of(svc)}")
            return
        c = containers[0]
        self.check_image(where, c)
        csc = c.get("securityContext") or {}
        if csc.get("allowPrivilegeEscalation") is not False:
            self.fail(f"{where}: allowPrivilegeEscalation is not false")
        if csc.get("readOnlyRootFilesystem") is not True:
            self.fail(f"{where}: root filesystem is not read-only")
        caps = csc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []) or caps.get("add"):
            self.fail(f"{where}: capabilities must drop ALL and add none")
        if csc.get("privileged"):
            self.fail(f"{where}: privileged")
        if csc.get("runAsUser") == 0:
            self.fail(f"{where}: container runs as root")

        flags, dups = self.flags(c)
        for f in dups:
            self.fail(f"{where}: flag --{f} given twice")
        self.check_flags_known(binary_of(svc), flags)
        ports = {p["name"]: p["containerPort"] for p in c.get("ports") or []}

        # Listen addresses, container ports, scrape annotations.
        host, port = self.port_of(flags.get("listen"))
        if host != "0.0.0.0" or port != spec["grpc"]:
            self.fail(f"{where}: --listen={flags.get('listen')}, want 0.0.0.0:{spec['grpc']}")
        if ports.get("grpc") != port:
            self.fail(f"{where}: containerPort 'grpc' {ports.get('grpc')} != --listen port {port}")
        mhost, mport = self.port_of(flags.get("metrics_listen"))
        if mhost != "0.0.0.0" or mport != spec["metrics"]:
            self.fail(f"{where}: --metrics_listen={flags.get('metrics_listen')}, want 0.0.0.0:{spec['metrics']}")
        if ports.get("metrics") != mport:
            self.fail(f"{where}: containerPort 'metrics' {ports.get('metrics')} != --metrics_listen port {mport}")
        ann = tmpl["metadata"].get("annotations") or {}
        if ann.get("prometheus.io/scrape") != "true" or ann.get("prometheus.io/port") != str(mport) \
                or ann.get("prometheus.io/path") != "/metrics":
            self.fail(f"{where}: prometheus.io annotations must scrape /metrics on port {mport}")

        # Probes: native gRPC on grpc.health.v1, on the port health is served
        # in plaintext (the gRPC port, or --health_listen when TLS is on).
        if "health_listen" in flags:
            hhost, health_port = self.port_of(flags["health_listen"])
            if ports.get("health") != health_port or health_port != spec["health"]:
                self.fail(f"{where}: --health_listen port {health_port} must be containerPort "
                          f"'health' ({ports.get('health')}) and {spec['health']}")
        else:
            if "tls_cert" in flags:
                self.fail(f"{where}: serves TLS but has no --health_listen: kubelet gRPC probes "
                          "cannot speak TLS")
            health_port = port
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = c.get(kind)
            if not probe:
                self.fail(f"{where}: no {kind}")
                continue
            others = {"httpGet", "tcpSocket", "exec"} & set(probe)
            if "grpc" not in probe or others:
                self.fail(f"{where}: {kind} is not a gRPC probe")
                continue
            if probe["grpc"].get("port") != health_port:
                self.fail(f"{where}: {kind} port {probe['grpc'].get('port')}, want {health_port}")
            if probe["grpc"].get("service") != spec["health_service"]:
                self.fail(f"{where}: {kind} service {probe['grpc'].get('service')!r}, "
                          f"want {spec['health_service']!r}")
        startup = c.get("startupProbe") or {}
        budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
        if budget < spec["startup_s"]:
            self.fail(f"{where}: startup probe allows {budget}s, want >= {spec['startup_s']}s")
        live = c.get("livenessProbe") or {}
        if live.get("periodSeconds", 10) * live.get("failureThreshold", 3) < 30:
            self.fail(f"{where}: liveness probe kills after less than 30s of failures")

        # Resources.
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in (res.get(part) or {}):
                    self.fail(f"{where}: no {part}.{r}")
        try:
            if self.millicores(res["requests"]["cpu"]) > self.millicores(res["limits"]["cpu"]) or \
                    self.mebibytes(res["requests"]["memory"]) > self.mebibytes(res["limits"]["memory"]):
                self.fail(f"{where}: requests exceed limits")
        except (KeyError, TypeError, ValueError):
            pass
        if svc == "graphstore":
            cache = int(flags.get("block_cache_mb", "128"))
            limit = self.mebibytes((res.get("limits") or {}).get("memory", "0"))
            if limit is None or limit < cache + 256:
                self.fail(f"{where}: memory limit {limit}Mi leaves < 256Mi beyond the "
                          f"{cache}Mi block cache")

        # Graceful shutdown fits the grace period.
        drain = self.seconds(flags.get("drain_delay", "0s"))
        grace = self.seconds(flags.get("shutdown_grace", "10s"))
        tgps = pod.get("terminationGracePeriodSeconds", 30)
        if drain is None or grace is None:
            self.fail(f"{where}: cannot read --drain_delay/--shutdown_grace")
        elif tgps < drain + grace + GRACE_MARGIN_S:
            self.fail(f"{where}: terminationGracePeriodSeconds {tgps} < drain_delay {drain:g} + "
                      f"shutdown_grace {grace:g} + {GRACE_MARGIN_S}")
        elif drain <= 0:
            self.fail(f"{where}: --drain_delay is 0: endpoints need time to drop the pod")

        # Files the flags name are mounted, from the right volume.
        mounts = c.get("volumeMounts") or []
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        claims = {t["metadata"]["name"]: t for t in w["spec"].get("volumeClaimTemplates") or []}
        for f in sorted(FILE_FLAGS & set(flags)):
            path = flags[f]
            mount = max((m for m in mounts if path == m["mountPath"] or
                         path.startswith(m["mountPath"].rstrip("/") + "/")),
                        key=lambda m: len(m["mountPath"]), default=None)
            if mount is None:
                self.fail(f"{where}: --{f}={path} is on no mounted volume")
                continue
            key = path[len(mount["mountPath"].rstrip("/")) + 1:]
            if f in STATE_FLAGS:
                if mount["name"] not in claims:
                    self.fail(f"{where}: --{f} is not on a volumeClaimTemplate")
                elif mount.get("readOnly"):
                    self.fail(f"{where}: --{f} is mounted read-only")
                continue
            vol = volumes.get(mount["name"])
            if vol is None:
                self.fail(f"{where}: volumeMount {mount['name']} has no volume")
            elif "configMap" in vol:
                cm = self.get("ConfigMap", vol["configMap"]["name"])
                if cm is None:
                    self.fail(f"{where}: ConfigMap {vol['configMap']['name']} is not rendered")
                elif key not in (cm.get("data") or {}):
                    self.fail(f"{where}: --{f}: ConfigMap {cm['metadata']['name']} has no key {key}")
                elif f in CONFIGMAP_FLAGS and self.base_name(cm) != CONFIGMAP_FLAGS[f]:
                    self.fail(f"{where}: --{f} reads ConfigMap {self.base_name(cm)}, "
                              f"want {CONFIGMAP_FLAGS[f]}")
            elif "secret" in vol:
                self.check_secret_key(where, f, vol["secret"]["secretName"], key)
            else:
                self.fail(f"{where}: --{f} is on volume {mount['name']}, neither Secret nor ConfigMap")
        if svc in ("graphstore", "scorer"):
            if "data_dir" not in flags:
                self.fail(f"{where}: no --data_dir")
            t = claims.get("data")
            if not t or "storage" not in ((t.get("spec") or {}).get("resources") or {}).get("requests", {}):
                self.fail(f"{where}: no volumeClaimTemplate 'data' with a storage request")
        if svc == "scorer" and "model_config" not in flags:
            self.fail(f"{where}: no --model_config")
        # Scheduled sources run in ingest-sources only: in the autoscaled
        # Deployment every replica would import every source.
        if svc == "ingest-sources":
            for f in ("sources_config", "sources_state_dir"):
                if f not in flags:
                    self.fail(f"{where}: no --{f}")
            t = claims.get("state")
            if not t or "storage" not in ((t.get("spec") or {}).get("resources") or {}).get("requests", {}):
                self.fail(f"{where}: no volumeClaimTemplate 'state' with a storage request")
        elif "sources_config" in flags:
            self.fail(f"{where}: runs scheduled sources (--sources_config); only the one-replica "
                      "StatefulSet ingest-sources may")
        if svc == "scorer" and self.overlay == "prod" and \
                not flags.get("alertmanager_url", "").startswith("http://"):
            self.fail(f"{where}: prod scorer delivers no alerts (no --alertmanager_url)")

        # Clients of graphstore.
        if svc in ("ingest", "ingest-sources", "scorer"):
            self.check_graphstore_client(where, c, flags)

        # Spread (prod).
        # (One pod, whatever the overlay, has nothing to spread.)
        tsc = pod.get("topologySpreadConstraints") or []
        if self.want["spread"] and svc != "ingest-sources":
            keys = {t["topologyKey"] for t in tsc}
            if not {"topology.kubernetes.io/zone", "kubernetes.io/hostname"} <= keys:
                self.fail(f"{where}: no topology spread over zones and nodes")
        for t in tsc:
            if not self.selects(t.get("labelSelector"), labels):
                self.fail(f"{where}: a topologySpreadConstraint does not select its own pods")

    @staticmethod
    def parse_partition_map(text):
        """{shard: set of partitions} of a map's text, or an error string.

        The syntax of storage/partition_map.h: one "<shard> = <ranges>" per
        line or ';', '#' comments, a shard named i or graphstore-i, ranges
        "a-b" or "a", comma-separated. Only what the checks need: the
        shards, and that every partition is owned exactly once.
        """
        owners, shards = {}, {}
        for line in re.split(r"[\n;]", text):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            m = re.fullmatch(r"(?:graphstore-)?(\d+)\s*=\s*(.*)", line)
            if not m:
                return f"cannot read line {line!r}"
            shard = int(m.group(1))
            if shard in shards:
                return f"shard {shard} is listed twice"
            shards[shard] = set()
            for r in filter(None, (x.strip() for x in m.group(2).split(","))):
                a, _, b = r.partition("-")
                if not a.isdigit() or (b and not b.isdigit()):
                    return f"cannot read range {r!r}"
                for p in range(int(a), int(b or a) + 1):
                    if p in owners:
                        return f"partition {p} is owned by shards {owners[p]} and {shard}"
                    owners[p] = shard
                    shards[shard].add(p)
        missing = PARTITIONS - len([p for p in owners if 0 <= p < PARTITIONS])
        if missing or len(owners) != PARTITIONS:
            return f"{missing} of the {PARTITIONS} partitions are owned by no shard"
        return shards

    def mounted_configmap(self, w, path):
        """The base name of the ConfigMap `path` is mounted from, and its key."""
        pod = w["spec"]["template"]["spec"]
        c = pod["containers"][0]
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for m in c.get("volumeMounts") or []:
            root = m["mountPath"].rstrip("/") + "/"
            vol = volumes.get(m["name"]) or {}
            if path.startswith(root) and "configMap" in vol:
                cm = self.get("ConfigMap", vol["configMap"]["name"])
                return (self.base_name(cm) if cm else None), path[len(root):]
        return None, None

    def check_shards(self):
        """The partition map, graphstore's replicas and its clients' shard
        targets agree: N replicas, a map of shards 0..N-1 in the ConfigMap
        every shard and both ingest workloads mount, each pod's --shard_index
        its ordinal, and graphstore's --shard_peers and --graphstore_shards of
        ingest, ingest-sources and the scorer naming pods 0..N-1 of
        the headless Service, in order. A change to one of them alone fails.
        """
        gs = self.get("StatefulSet", "graphstore")
        if gs is None:
            return
        n = gs["spec"].get("replicas") or 1
        gc = gs["spec"]["template"]["spec"]["containers"][0]
        gflags, _ = self.flags(gc)
        where = "StatefulSet/graphstore"
        if n == 1 and "partition_map_file" not in gflags and "partition_map" not in gflags:
            for svc in ("ingest", "ingest-sources", "scorer"):
                w = self.get(SERVICES[svc]["kind"], svc)
                if w and "graphstore_shards" in self.flags(w["spec"]["template"]["spec"]["containers"][0])[0]:
                    self.fail(f"{SERVICES[svc]['kind']}/{svc}: --graphstore_shards, but graphstore is one "
                              "unpartitioned replica")
            return
        # The map: in the ConfigMap, read by every shard.
        path = gflags.get("partition_map_file")
        if path is None:
            self.fail(f"{where}: {n} shards but no --partition_map_file (the map must come from "
                      f"ConfigMap {PARTITION_MAP_CONFIGMAP})")
            return
        cm_name, key = self.mounted_configmap(gs, path)
        if cm_name != PARTITION_MAP_CONFIGMAP:
            self.fail(f"{where}: --partition_map_file={path} is not from ConfigMap {PARTITION_MAP_CONFIGMAP}")
            return
        cm = self.generated("ConfigMap", PARTITION_MAP_CONFIGMAP) or self.get("ConfigMap", PARTITION_MAP_CONFIGMAP)
        shards = self.parse_partition_map((cm.get("data") or {}).get(key, ""))
        if isinstance(shards, str):
            self.fail(f"ConfigMap {PARTITION_MAP_CONFIGMAP}: the partition map is invalid: {shards}")
            return
        if sorted(shards) != list(range(n)):
            self.fail(f"ConfigMap {PARTITION_MAP_CONFIGMAP}: the partition map names shards "
                      f"{sorted(shards)}, but StatefulSet/graphstore has {n} replicas (shards 0..{n - 1}): "
                      "change the map, the replicas and the clients' shard targets together")
        # Each pod's shard index is its ordinal.
        index = gflags.get("shard_index", "")
        m = re.fullmatch(r"\$\(([A-Z_]+)\)", index)
        env = {e["name"]: e for e in gc.get("env") or []} if m else {}
        ref = ((env.get(m.group(1)) or {}).get("valueFrom") or {}).get("fieldRef") or {} if m else {}
        if ref.get("fieldPath") != POD_INDEX_FIELD:
            self.fail(f"{where}: --shard_index={index!r} is not the pod's ordinal (an env var from "
                      f"fieldRef {POD_INDEX_FIELD})")
        # The clients: one target per shard, in order; ingest reads the same map.
        gs_port = SERVICES["graphstore"]["grpc"]
        want = [f"dns:///graphstore-{i}.{gs['spec']['serviceName']}.$(POD_NAMESPACE).svc.cluster.local:{gs_port}"
                for i in range(n)]
        # Each shard's outbox delivers to the same pods (--shard_peers).
        peers = [t for t in gflags.get("shard_peers", "").split(",") if t]
        if peers != want:
            self.fail(f"{where}: --shard_peers lists {len(peers)} shard targets {peers}, want the "
                      f"{n} shards of StatefulSet/graphstore in order (where each shard's outbox "
                      f"delivers): {want}")
        for svc in ("ingest", "ingest-sources", "scorer"):
            w = self.get(SERVICES[svc]["kind"], svc)
            if w is None:
                continue
            cw = f"{SERVICES[svc]['kind']}/{svc}"
            flags, _ = self.flags(w["spec"]["template"]["spec"]["containers"][0])
            got = [t for t in flags.get("graphstore_shards", "").split(",") if t]
            if got != want:
                self.fail(f"{cw}: --graphstore_shards lists {len(got)} shard targets {got}, want the "
                          f"{n} shards of StatefulSet/graphstore in order: {want}")
            if svc in ("ingest", "ingest-sources"):
                cpath = flags.get("partition_map_file")
                if cpath is None or self.mounted_configmap(w, cpath) != (PARTITION_MAP_CONFIGMAP, key):
                    self.fail(f"{cw}: does not route by graphstore's partition map (--partition_map_file "
                              f"from ConfigMap {PARTITION_MAP_CONFIGMAP}, key {key})")

    def check_image(self, where, c):
        image = c.get("image", "")
        m = re.fullmatch(r"([a-z0-9./-]+)(?::([A-Za-z0-9._-]+))?(?:@sha256:[0-9a-f]{64})?", image)
        if not m or not (m.group(2) or "@sha256:" in image):
            self.fail(f"{where}: image {image!r} has no tag or digest")
            return
        tag = m.group(2)
        if tag == "latest":
            self.fail(f"{where}: image {image!r} uses the 'latest' tag")
        want = self.want["image_tag"]
        if want and tag != want:
            self.fail(f"{where}: image tag {tag!r}, want {want!r}")
        if self.overlay == "prod" and tag == "dev":
            self.fail(f"{where}: prod runs a 'dev' image")

    def check_flags_known(self, svc, flags):
        known = self.binary_flags.get(svc)
        if known is None:
            return
        for f in sorted(flags):
            if f in known:
                if f in PENDING_FLAGS[svc]:
                    self.notes.append(f"{svc}: --{f} is now provided by the binary "
                                      "(remove it from PENDING_FLAGS)")
            elif f in PENDING_FLAGS[svc]:
                self.notes.append(f"{svc}: --{f} is pending (the binary does not take it yet)")
            else:
                self.fail(f"{svc}: the manifests pass --{f}, which the built binary does not take")

    def check_graphstore_client(self, where, c, flags):
        target = flags.get("graphstore", "")
        m = re.fullmatch(r"dns:///([a-z0-9-]+)\.([^.]+)\.svc\.cluster\.local:(\d+)", target)
        if not m:
            self.fail(f"{where}: --graphstore={target!r} is not dns:///<svc>.<ns>.svc.cluster.local:<port>")
            return
        svc_name, ns, port = m.group(1), m.group(2), int(m.group(3))
        if ns == "$(POD_NAMESPACE)":
            env = {e["name"]: e for e in c.get("env") or []}
            ref = ((env.get("POD_NAMESPACE") or {}).get("valueFrom") or {}).get("fieldRef") or {}
            if ref.get("fieldPath") != "metadata.namespace":
                self.fail(f"{where}: --graphstore uses $(POD_NAMESPACE) but the env var is not "
                          "the pod's namespace")
        elif ns != self.want["namespace"]:
            self.fail(f"{where}: --graphstore names namespace {ns}, objects are in {self.want['namespace']}")
        s = self.get("Service", svc_name)
        if s is None:
            self.fail(f"{where}: --graphstore names Service {svc_name}, which is not rendered")
            return
        if s["spec"].get("clusterIP") != "None":
            self.fail(f"{where}: --graphstore dials {svc_name}, not a headless Service: "
                      "round_robin would see one virtual IP")
        if self.selected_workloads({"matchLabels": s["spec"].get("selector")}) != ["graphstore"]:
            self.fail(f"{where}: Service {svc_name} does not select the graphstore pods")
        if port not in [p["port"] for p in s["spec"].get("ports") or []] or port != SERVICES["graphstore"]["grpc"]:
            self.fail(f"{where}: --graphstore port {port} is not graphstore's gRPC port on {svc_name}")
        if flags.get("graphstore_lb_policy") != "round_robin":
            self.fail(f"{where}: --graphstore_lb_policy is not round_robin")
        gs = self.get("StatefulSet", "graphstore")
        if gs is None:
            return
        gflags, _ = self.flags(gs["spec"]["template"]["spec"]["containers"][0])
        if "tls_cert" in gflags and "graphstore_tls_ca" not in flags:
            self.fail(f"{where}: graphstore serves TLS but this client has no --graphstore_tls_ca")
        if "tls_client_ca" in gflags and not {"client_tls_cert", "client_tls_key"} <= set(flags):
            self.fail(f"{where}: graphstore requires client certificates but this client has none")
        if "token_file" in gflags and "graphstore_token_file" not in flags:
            self.fail(f"{where}: graphstore checks tokens but this client sends none")
        if "tls_cert" not in gflags and "graphstore_tls_ca" in flags:
            self.fail(f"{where}: dials graphstore with TLS, but graphstore serves plaintext")

    def check_secret_key(self, where, flag, secret, key):
        base = re.sub(r"-[a-z0-9]{10}$", "", secret)
        if self.want["secrets"] == "generated":
            s = self.get("Secret", secret)
            if s is None:
                self.fail(f"{where}: --{flag}: Secret {secret} is not rendered")
            elif key not in (s.get("data") or {}):
                self.fail(f"{where}: --{flag}: Secret {secret} has no key {key}")
        else:
            if self.get("Secret", secret) is not None:
                self.fail(f"{where}: prod renders Secret {secret}: it must come from outside")
            if key not in SECRETS.get(base, set()):
                self.fail(f"{where}: --{flag}: {base}/{key} is not in the documented Secret contract")
            if self.readme is not None and base not in self.readme:
                self.fail(f"{where}: Secret {base} is not documented in deploy/k8s/README.md")

    def check_secrets(self):
        used = set()
        for w in self.workloads().values():
            for v in w["spec"]["template"]["spec"].get("volumes") or []:
                if "secret" in v:
                    used.add(v["secret"]["secretName"])
        for s in self.objs("Secret"):
            if s["metadata"]["name"] not in used:
                self.fail(f"Secret/{s['metadata']['name']}: mounted by no pod")
        if self.want["secrets"] == "generated":
            # One CA: what a server's clients trust is what signed its peers.
            cas = {s["data"].get("ca.crt") for s in self.objs("Secret") if "ca.crt" in (s.get("data") or {})}
            if len(cas) != 1:
                self.fail(f"the TLS Secrets carry {len(cas)} different CAs, want 1")
        cm = self.generated("ConfigMap", "georisk-model")
        if cm is not None and "PLACEHOLDER" in (cm.get("data") or {}).get("model.textproto", ""):
            self.notes.append("ConfigMap georisk-model is built from the PLACEHOLDER "
                              "deploy/config/model.textproto")

    def check_services(self):
        for s in self.objs("Service"):
            name = s["metadata"]["name"]
            where = f"Service/{name}"
            sel = s["spec"].get("selector")
            if not sel:
                self.fail(f"{where}: no selector")
                continue
            hits = self.selected_workloads({"matchLabels": sel})
            if len(hits) != 1:
                self.fail(f"{where}: selects the pods of {hits or 'nothing'}, want exactly one workload")
                continue
            w = self.workloads()[hits[0]]
            c = w["spec"]["template"]["spec"]["containers"][0]
            cports = {p["name"]: p["containerPort"] for p in c.get("ports") or []}
            for p in s["spec"].get("ports") or []:
                tp = p.get("targetPort", p["port"])
                number = cports.get(tp) if isinstance(tp, str) else tp
                if number not in cports.values():
                    self.fail(f"{where}: port {p['port']} targets {tp!r}, not a port of {hits[0]}")
                elif number != p["port"]:
                    self.fail(f"{where}: port {p['port']} forwards to {number}: keep them equal")
                if number == cports.get("grpc") and p.get("appProtocol") != "grpc":
                    self.fail(f"{where}: gRPC port without appProtocol: grpc")
                if number == cports.get("metrics"):
                    self.fail(f"{where}: exposes the metrics port (Prometheus scrapes pods)")
            if name.endswith("-headless") and s["spec"].get("clusterIP") != "None":
                self.fail(f"{where}: named headless but has a cluster IP")
        for svc, w in self.workloads().items():
            if w["kind"] != "StatefulSet":
                continue
            gov = self.get("Service", w["spec"].get("serviceName", ""))
            if gov is None or gov["spec"].get("clusterIP") != "None":
                self.fail(f"StatefulSet/{svc}: serviceName {w['spec'].get('serviceName')!r} "
                          "is not a rendered headless Service")
            elif self.selected_workloads({"matchLabels": gov["spec"].get("selector")}) != [svc]:
                self.fail(f"StatefulSet/{svc}: its governing Service does not select its pods")

    def check_pdbs(self):
        for p in self.objs("PodDisruptionBudget"):
            name = p["metadata"]["name"]
            hits = self.selected_workloads(p["spec"].get("selector"))
            if hits != [name]:
                self.fail(f"PodDisruptionBudget/{name}: selects {hits or 'nothing'}, want [{name}]")
                continue
            spec = p["spec"]
            if ("maxUnavailable" in spec) == ("minAvailable" in spec):
                self.fail(f"PodDisruptionBudget/{name}: set exactly one of maxUnavailable, minAvailable")
            if spec.get("maxUnavailable") == 0:
                self.fail(f"PodDisruptionBudget/{name}: maxUnavailable 0 blocks every node drain")

    def check_hpa(self):
        h = self.get("HorizontalPodAutoscaler", "ingest")
        if h is None:
            return
        if h.get("apiVersion") != "autoscaling/v2":
            self.fail("HorizontalPodAutoscaler/ingest: not autoscaling/v2")
        ref = h["spec"].get("scaleTargetRef") or {}
        if (ref.get("kind"), ref.get("name"), ref.get("apiVersion")) != ("Deployment", "ingest", "apps/v1"):
            self.fail(f"HorizontalPodAutoscaler/ingest: targets {ref}, want apps/v1 Deployment ingest")
        got = (h["spec"].get("minReplicas"), h["spec"].get("maxReplicas"))
        if got != self.want["hpa"]:
            self.fail(f"HorizontalPodAutoscaler/ingest: replicas {got[0]}..{got[1]}, "
                      f"want {self.want['hpa'][0]}..{self.want['hpa'][1]}")
        cpu = [m for m in h["spec"].get("metrics") or []
               if m.get("type") == "Resource" and m["resource"]["name"] == "cpu"
               and m["resource"]["target"].get("type") == "Utilization"]
        if not cpu:
            self.fail("HorizontalPodAutoscaler/ingest: no CPU utilisation target")

    def check_network_policies(self):
        wl = self.workloads()
        for np_ in self.objs("NetworkPolicy"):
            name = np_["metadata"]["name"]
            where = f"NetworkPolicy/{name}"
            hits = self.selected_workloads(np_["spec"].get("podSelector"))
            if hits != [name]:
                self.fail(f"{where}: applies to {hits or 'nothing'}, want [{name}]")
                continue
            if "Ingress" not in (np_["spec"].get("policyTypes") or []):
                self.fail(f"{where}: does not restrict ingress")
            c = wl[name]["spec"]["template"]["spec"]["containers"][0]
            cports = {p["containerPort"]: p["name"] for p in c.get("ports") or []}
            allowed = {}  # port name -> list of peers (None = anyone)
            for rule in np_["spec"].get("ingress") or []:
                peers = rule.get("from")
                for p in rule.get("ports") or [{"port": None}]:
                    port = p["port"]
                    pname = cports.get(port) if isinstance(port, int) else port
                    if port is not None and pname not in cports.values():
                        self.fail(f"{where}: allows port {port}, which {name} does not serve")
                    allowed.setdefault(pname, []).append(peers)
            grpc_peers = allowed.get("grpc", [])
            metrics_peers = allowed.get("metrics", [])
            if None in allowed:
                self.fail(f"{where}: a rule allows every port")
            if not metrics_peers or any(p is None or any("namespaceSelector" not in x for x in p)
                                        for p in metrics_peers):
                self.fail(f"{where}: metrics port must be open to the monitoring namespace only")
            if name == "graphstore":
                sources = set()
                for peers in grpc_peers:
                    if peers is None:
                        self.fail(f"{where}: gRPC port open to anyone")
                        continue
                    for peer in peers:
                        if set(peer) != {"podSelector"}:
                            self.fail(f"{where}: gRPC peer {peer} is not a same-namespace pod selector")
                            continue
                        sources |= set(self.selected_workloads(peer["podSelector"]))
                # Partitioned, the shards deliver their outboxes to each other.
                gs = self.get("StatefulSet", "graphstore")
                want = {"ingest", "ingest-sources", "scorer"}
                if gs is not None and (gs["spec"].get("replicas") or 1) > 1:
                    want.add("graphstore")
                if sources != want:
                    self.fail(f"{where}: gRPC reachable from {sorted(sources)}, want {sorted(want)}")
            elif not grpc_peers:
                self.fail(f"{where}: clients cannot reach the gRPC port")
            if name == "ingest-sources":
                self.check_sources_egress(where, np_)

    def check_sources_egress(self, where, np_):
        """ingest-sources reaches DNS, graphstore and the publishers (HTTPS), nothing else."""
        if "Egress" not in (np_["spec"].get("policyTypes") or []):
            self.fail(f"{where}: does not restrict egress")
            return
        https = False
        for rule in np_["spec"].get("egress") or []:
            ports = {(p.get("protocol", "TCP"), p.get("port")) for p in rule.get("ports") or []}
            peers = rule.get("to")
            if not ports:
                self.fail(f"{where}: an egress rule allows every port")
            elif ports <= {("UDP", 53), ("TCP", 53)}:
                continue  # DNS, to wherever the resolver listens.
            elif ports == {("TCP", SERVICES["graphstore"]["grpc"])}:
                hits = set()
                for peer in peers or [{}]:
                    hits |= set(self.selected_workloads(peer.get("podSelector")))
                if hits != {"graphstore"}:
                    self.fail(f"{where}: graphstore's port open to {sorted(hits) or 'anyone'}")
            elif ports == {("TCP", 443)}:
                https = True
                for peer in peers or [{}]:
                    block = peer.get("ipBlock") or {}
                    if "169.254.0.0/16" not in (block.get("except") or []) or \
                            "10.0.0.0/8" not in (block.get("except") or []):
                        self.fail(f"{where}: HTTPS egress reaches private or link-local "
                                  "addresses (cloud metadata); want public addresses only")
            else:
                self.fail(f"{where}: egress to ports {sorted(ports, key=str)}: want DNS, graphstore "
                          "and HTTPS only")
        if not https:
            self.fail(f"{where}: no HTTPS (443) egress: the sources cannot be fetched")


def binary_flags(path):
    out = subprocess.run([path, "--helpfull"], capture_output=True, text=True, timeout=60)
    return set(re.findall(r"^\s+--([a-z0-9_]+) \(", out.stdout + out.stderr, re.M))


def self_test(docs, overlay, binary, readme):
    """Each breakage must be caught: the checks can fail."""

    def first(ds, kind, name):
        return next(d for d in ds if d.get("kind") == kind and d["metadata"]["name"] == name)

    def container(ds, kind, name):
        return first(ds, kind, name)["spec"]["template"]["spec"]["containers"][0]

    def set_args(c, flag, value):
        c["args"] = [a for a in c["args"] if not a.startswith(f"--{flag}=")] + [f"--{flag}={value}"]

    breakages = {
        "readiness probe on the wrong port":
            lambda ds: container(ds, "StatefulSet", "graphstore")["readinessProbe"]["grpc"].update(port=1),
        "liveness probe with the wrong service name":
            lambda ds: container(ds, "Deployment", "ingest")["livenessProbe"]["grpc"].update(service="x"),
        "an httpGet startup probe":
            lambda ds: container(ds, "StatefulSet", "scorer").update(
                startupProbe={"httpGet": {"port": 9466, "path": "/"}}),
        "a Service selecting nothing":
            lambda ds: first(ds, "Service", "scorer")["spec"].update(selector={"app": "nope"}),
        "a Service port that is not the container's":
            lambda ds: first(ds, "Service", "graphstore-headless")["spec"]["ports"][0].update(targetPort=1234),
        "the latest tag":
            lambda ds: container(ds, "Deployment", "ingest").update(image="georisk/ingest:latest"),
        "graphstore replicas changed alone":
            lambda ds: first(ds, "StatefulSet", "graphstore")["spec"].update(
                replicas=(first(ds, "StatefulSet", "graphstore")["spec"].get("replicas") or 1) + 1),
        "graphstore gRPC open to everyone":
            lambda ds: first(ds, "NetworkPolicy", "graphstore")["spec"]["ingress"][0].pop("from"),
        "a root container":
            lambda ds: container(ds, "StatefulSet", "scorer")["securityContext"].update(runAsUser=0),
        "no memory limit":
            lambda ds: container(ds, "StatefulSet", "scorer")["resources"]["limits"].pop("memory"),
        "a grace period shorter than drain + grace":
            lambda ds: first(ds, "StatefulSet", "graphstore")["spec"]["template"]["spec"].update(
                terminationGracePeriodSeconds=10),
        "a PDB for a workload that does not exist":
            lambda ds: first(ds, "PodDisruptionBudget", "graphstore")["spec"]["selector"].update(
                matchLabels={"app.kubernetes.io/name": "graphstor"}),
        "an HPA aimed at a StatefulSet":
            lambda ds: first(ds, "HorizontalPodAutoscaler", "ingest")["spec"]["scaleTargetRef"].update(
                kind="StatefulSet"),
        "no PVC template on the scorer":
            lambda ds: first(ds, "StatefulSet", "scorer")["spec"].pop("volumeClaimTemplates"),
        "two ingest-sources replicas":
            lambda ds: first(ds, "StatefulSet", "ingest-sources")["spec"].update(replicas=2),
        "ingest-sources as a Deployment":
            lambda ds: first(ds, "StatefulSet", "ingest-sources").update(kind="Deployment"),
        "the sources ConfigMap not mounted":
            lambda ds: container(ds, "StatefulSet", "ingest-sources").update(volumeMounts=[
                m for m in container(ds, "StatefulSet", "ingest-sources")["volumeMounts"]
                if m["mountPath"] != "/etc/georisk/sources"]),
        "the sources state on no PVC":
            lambda ds: first(ds, "StatefulSet", "ingest-sources")["spec"].pop("volumeClaimTemplates"),
        "sources in the autoscaled Deployment":
            lambda ds: set_args(container(ds, "Deployment", "ingest"), "sources_config",
                                "/etc/georisk/sources/sources.textproto"),
        "sources egress to any port":
            lambda ds: first(ds, "NetworkPolicy", "ingest-sources")["spec"]["egress"][2].pop("ports"),
        "sources egress to the metadata endpoint":
            lambda ds: first(ds, "NetworkPolicy", "ingest-sources")["spec"]["egress"][2]["to"][0]
            ["ipBlock"].update(**{"except": []}),
        "a client dialling the ClusterIP Service":
            lambda ds: set_args(container(ds, "Deployment", "ingest"), "graphstore",
                                "dns:///graphstore.$(POD_NAMESPACE).svc.cluster.local:50051"),
        "a flag no binary takes":
            lambda ds: set_args(container(ds, "StatefulSet", "graphstore"), "no_such_flag", "1"),
        "a mounted file from an unknown Secret key":
            lambda ds: set_args(container(ds, "StatefulSet", "scorer"), "tls_key", "/etc/georisk/tls/nope.key"),
    }
    def partition_map(ds):
        return next(d for d in ds if d.get("kind") == "ConfigMap" and
                    d["metadata"]["name"].startswith(PARTITION_MAP_CONFIGMAP + "-"))

    def add_shard_to_map(ds):
        data = partition_map(ds)["data"]
        key = next(iter(data))
        data[key] += "\n99 =\n"

    def drop_last_target(c):
        flags = Checker.flags(c)[0]
        set_args(c, "graphstore_shards", ",".join(flags["graphstore_shards"].split(",")[:-1]))

    def swap_targets(c):
        t = Checker.flags(c)[0]["graphstore_shards"].split(",")
        set_args(c, "graphstore_shards", ",".join([t[1], t[0]] + t[2:]))

    # The map, the replicas and the shard targets: each changed alone is caught
    # by the agreement check itself (the message must say so).
    shard_breakages = {
        "graphstore replicas changed alone (the agreement check)":
            (breakages["graphstore replicas changed alone"], "the partition map names shards"),
        "the partition map changed alone":
            (add_shard_to_map, "the partition map"),
        "ingest's shard targets changed alone":
            (lambda ds: drop_last_target(container(ds, "Deployment", "ingest")), "--graphstore_shards lists"),
        "the scorer's shard targets out of order":
            (lambda ds: swap_targets(container(ds, "StatefulSet", "scorer")), "--graphstore_shards lists"),
        "graphstore's outbox peers changed alone":
            (lambda ds: set_args(container(ds, "StatefulSet", "graphstore"), "shard_peers",
                                 ",".join(Checker.flags(container(ds, "StatefulSet", "graphstore"))[0]
                                          ["shard_peers"].split(",")[:-1])),
             "--shard_peers lists"),
        "a shard index that is not the pod's ordinal":
            (lambda ds: set_args(container(ds, "StatefulSet", "graphstore"), "shard_index", "0"),
             "is not the pod's ordinal"),
        "ingest routing without the map":
            (lambda ds: set_args(container(ds, "Deployment", "ingest"), "partition_map_file",
                                 "/etc/georisk/model/model.textproto"),
             "does not route by graphstore's partition map"),
    }
    if (first(docs, "StatefulSet", "graphstore")["spec"].get("replicas") or 1) == 1:
        shard_breakages = {}
    if not binary:
        del breakages["a flag no binary takes"]
    failures = []
    for what, breakage in breakages.items():
        broken = copy.deepcopy(docs)
        breakage(broken)
        problems = Checker(broken, overlay, binary, readme).run()
        if not problems:
            failures.append(f"self-test: {what} was not caught")
    for what, (breakage, says) in shard_breakages.items():
        broken = copy.deepcopy(docs)
        breakage(broken)
        problems = Checker(broken, overlay, binary, readme).run()
        if not any(says in p for p in problems):
            failures.append(f"self-test: {what} was not caught (no problem saying {says!r}: {problems})")
    return len(breakages) + len(shard_breakages), failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rendered")
    ap.add_argument("--overlay", required=True, choices=sorted(OVERLAYS))
    ap.add_argument("--binary", action="append", default=[], help="SERVICE=PATH")
    ap.add_argument("--readme")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    with open(args.rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    flags = {}
    for b in args.binary:
        svc, path = b.split("=", 1)
        flags[svc] = binary_flags(path)
    readme = open(args.readme).read() if args.readme else None

    checker = Checker(docs, args.overlay, flags, readme)
    problems = checker.run()
    for n in sorted(set(checker.notes)):
        print(f"note: {n}")
    if args.self_test:
        count, failures = self_test(docs, args.overlay, flags, readme)
        problems += failures
        print(f"self-test: {count - len(failures)}/{count} breakages caught")
    for p in problems:
        print(f"FAIL [{args.overlay}]: {p}")
    print(f"{args.overlay}: {len(docs)} objects, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
