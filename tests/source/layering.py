#!/usr/bin/env python3
"""Checks the include graph against the layers of docs/architecture.md.

Each C++ file may include only the georisk packages its layer allows (the
table below is the one in docs/architecture.md, "Layers"). Tests, benches and
test-only helpers (`*_test.cc`, `testing/`) may also include what they test.
Usage: layering.py ROOT   (exit 1 and a list of the arrows that break a rule)
"""
import os
import re
import sys

# layer: (path prefixes, georisk include prefixes it may use besides its own)
PROTO = ("georisk/v1/",)
LAYERS = [
    ("base", ("base/",), ()),
    ("domain", ("domain/",), ("base/",) + PROTO),
    ("formats", ("formats/",), ("base/", "domain/") + PROTO),
    # storage indexes identifiers with resolve's one normalisation rule.
    ("storage", ("storage/",), ("base/", "domain/", "resolve/") + PROTO),
    ("resolve", ("resolve/",), ("base/",) + PROTO),
    ("model", ("services/scorer/model/",), ("base/", "domain/") + PROTO),
    ("common", ("services/common/",), ("base/", "domain/") + PROTO),
    ("graphstore", ("services/graphstore/",),
     ("base/", "domain/", "storage/", "resolve/", "services/common/") + PROTO),
    # The import driver, shared by georiskctl import and ingest's sources.
    ("importer", ("services/importer/",),
     ("base/", "domain/", "formats/", "services/common/") + PROTO),
    # ingest routes by the partition map (a pure library of storage's).
    ("ingest", ("services/ingest/",),
     ("base/", "domain/", "formats/", "resolve/", "services/common/",
      "services/importer/", "storage/partition_map.h") + PROTO),
    ("scorer", ("services/scorer/",),
     ("base/", "domain/", "storage/", "resolve/", "services/common/") + PROTO),
    # georisk-bulkload: the importer's file formats into storage's loader.
    ("bulkload", ("services/bulkload/",),
     ("base/", "domain/", "formats/", "storage/", "services/common/") + PROTO),
    ("georiskctl", ("services/georiskctl/",),
     ("base/", "domain/", "formats/", "resolve/", "services/common/",
      "services/importer/") + PROTO),
]
# Generated RPC headers are for the RPC edge only: the libraries below the
# services never include them.
NO_GRPC = ("base", "domain", "formats", "storage", "resolve", "model")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path):
    best = None
    for name, prefixes, allowed in LAYERS:
        for p in prefixes:
            if path.startswith(p) and (best is None or len(p) > len(best[1])):
                best = (name, p, allowed)
    return best


def is_test_code(path):
    base = os.path.basename(path)
    return (base.endswith(("_test.cc", "_test_util.h", "_benchmark.cc",
                           "_fuzzer.cc")) or "/testing/" in path)


def main(root):
    problems = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames
                       if not d.startswith((".", "bazel-")) and
                       d != "third_party"]
        for f in filenames:
            if not f.endswith((".h", ".cc")):
                continue
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, root)
            layer = layer_of(rel)
            if layer is None:
                continue  # tests/, bench/: may include anything.
            name, own, allowed = layer
            text = open(full, encoding="utf-8", errors="replace").read()
            for inc in INCLUDE.findall(text):
                if inc.startswith(own):
                    continue
                if inc.endswith(".grpc.pb.h") and name in NO_GRPC:
                    problems.append("%s (%s) includes the RPC header %s" %
                                    (rel, name, inc))
                    continue
                if not inc.startswith(("base/", "domain/", "formats/",
                                       "storage/", "resolve/", "services/",
                                       "georisk/")):
                    continue  # absl, grpc, rocksdb, gtest...
                if inc.startswith(allowed):
                    continue
                if is_test_code(rel):
                    continue  # A test may use what it tests against.
                problems.append("%s (%s) includes %s" % (rel, name, inc))
    for p in problems:
        print("layering:", p)
    print("layering: %d file(s) break a rule" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
