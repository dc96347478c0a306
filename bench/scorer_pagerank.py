#!/usr/bin/python3
"""igraph's PageRank (prpack) on the scorer benchmark's graph, for comparison.

    /usr/bin/python3 bench/scorer_pagerank.py EDGE_LIST [ROUNDS] [RANKS_OUT]

EDGE_LIST is scorer_bench's --edge_list output: int64 n, int64 m, int32 src[m],
int32 dst[m], float64 weight[m] (the propagation graph, little-endian). Times
only Graph.pagerank(implementation="prpack", weights=..., directed=True), the
median of ROUNDS (default 3) runs (wall and process CPU time), and prints
"RESULT name=value" lines. With
RANKS_OUT it writes the last run's ranks there (float64[n]), for
scorer_graphblas.c to check its PageRank against.
"""
import array
import statistics
import struct
import sys
import time

import igraph


def main():
    path = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with open(path, "rb") as f:
        n, m = struct.unpack("<qq", f.read(16))
        src = array.array("i")
        src.fromfile(f, m)
        dst = array.array("i")
        dst.fromfile(f, m)
        weights = array.array("d")
        weights.fromfile(f, m)
    start = time.perf_counter()
    graph = igraph.Graph(n=n, edges=list(zip(src, dst)), directed=True)
    graph.es["weight"] = weights.tolist()
    build = time.perf_counter() - start
    print(f"igraph {igraph.__version__}: graph of {n} vertices, {m} edges "
          f"built in {build:.1f} s")
    times = []
    cpu = []
    ranks = None
    for _ in range(rounds):
        start = time.perf_counter()
        cpu_start = time.process_time()
        ranks = graph.pagerank(implementation="prpack", weights="weight",
                               directed=True)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    if len(sys.argv) > 3:
        with open(sys.argv[3], "wb") as out:
            array.array("d", ranks).tofile(out)
    print("pagerank (prpack, weighted) runs: " +
          ", ".join(f"{t * 1000:.0f} ms" for t in times))
    print(f"RESULT pagerank_ms={statistics.median(times) * 1000:.3f}")
    print(f"RESULT pagerank_min_ms={min(times) * 1000:.3f}")
    print(f"RESULT pagerank_cpu_ms={statistics.median(cpu) * 1000:.3f}")


if __name__ == "__main__":
    main()
