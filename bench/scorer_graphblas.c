// bench/scorer_graphblas.c: a second PageRank reference for
// bench/scorer_run.sh, on SuiteSparse:GraphBLAS (Debian libgraphblas-dev).
//
//   cc -O2 -o scorer_graphblas bench/scorer_graphblas.c -lgraphblas
//   scorer_graphblas EDGE_LIST [ROUNDS] [IGRAPH_RANKS]
//
// EDGE_LIST is scorer_bench's --edge_list output (int64 n, int64 m, int32
// src[m], int32 dst[m], float64 weight[m], little-endian): the propagation
// graph igraph's PageRank runs on. LAGraph is not packaged in Debian, so this
// is a plain power iteration written with GrB_mxv, with igraph's parameters:
// damping 0.85, the dangling nodes' rank spread uniformly, edge weights
// normalised per source (parallel edges add up), and igraph's prpack
// tolerance 1e-10, here on the L1 norm of one iteration's change:
//
//   r' = d P r + ((1 - d) + d * sum of r over dangling nodes) / n,
//   P(j, i) = w(i -> j) / (sum of i's out-weights)
//
// Times the iterations only (the matrix build is excluded, as igraph's graph
// construction is), wall and process CPU time, median of ROUNDS (default
// 3), and prints "RESULT
// name=value" lines. With IGRAPH_RANKS (float64[n], written by
// scorer_pagerank.py) it prints the largest difference from igraph's ranks,
// a check that both references compute the same PageRank.
#include <GraphBLAS.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call)                                                       \
  do {                                                                    \
    GrB_Info info_ = (call);                                              \
    if (info_ != GrB_SUCCESS) {                                           \
      fprintf(stderr, "scorer_graphblas: %s failed: %d\n", #call, info_); \
      exit(1);                                                            \
    }                                                                     \
  } while (0)

static const double kDamping = 0.85;
static const double kTolerance = 1e-10;
static const int kMaxIterations = 1000;

static double Clock(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double Now(void) { return Clock(CLOCK_MONOTONIC); }

static void ReadExactly(FILE* f, void* to, size_t size, size_t count) {
  if (fread(to, size, count, f) != count) {
    fprintf(stderr, "scorer_graphblas: short read\n");
    exit(1);
  }
}

static int CompareDoubles(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

// One PageRank from the uniform vector; returns the iterations taken and
// leaves the ranks in *ranks (a full vector).
static int PageRank(GrB_Matrix p, GrB_Vector dangling, GrB_Index n,
                    GrB_Vector* ranks) {
  GrB_Vector r, next, scratch;
  CHECK(GrB_Vector_new(&r, GrB_FP64, n));
  CHECK(GrB_Vector_new(&next, GrB_FP64, n));
  CHECK(GrB_Vector_new(&scratch, GrB_FP64, n));
  CHECK(
      GrB_Vector_assign_FP64(r, NULL, NULL, 1.0 / (double)n, GrB_ALL, n, NULL));
  int iterations = 0;
  double change = 1;
  while (change >= kTolerance && iterations < kMaxIterations) {
    ++iterations;
    // The rank held by dangling nodes, spread over every node.
    double dangling_rank = 0;
    CHECK(GrB_Vector_eWiseMult_BinaryOp(scratch, NULL, NULL, GrB_TIMES_FP64, r,
                                        dangling, NULL));
    CHECK(GrB_Vector_reduce_FP64(&dangling_rank, NULL, GrB_PLUS_MONOID_FP64,
                                 scratch, NULL));
    const double base = ((1 - kDamping) + kDamping * dangling_rank) / (double)n;
    CHECK(GrB_Vector_assign_FP64(next, NULL, NULL, base, GrB_ALL, n, NULL));
    // next += d P r (d is folded into p).
    CHECK(GrB_mxv(next, NULL, GrB_PLUS_FP64, GrB_PLUS_TIMES_SEMIRING_FP64, p, r,
                  NULL));
    // The L1 norm of the change.
    CHECK(GrB_Vector_eWiseAdd_BinaryOp(scratch, NULL, NULL, GrB_MINUS_FP64,
                                       next, r, NULL));
    CHECK(GrB_Vector_apply(scratch, NULL, NULL, GrB_ABS_FP64, scratch, NULL));
    CHECK(GrB_Vector_reduce_FP64(&change, NULL, GrB_PLUS_MONOID_FP64, scratch,
                                 NULL));
    GrB_Vector t = r;
    r = next;
    next = t;
  }
  GrB_Vector_free(&next);
  GrB_Vector_free(&scratch);
  *ranks = r;
  return iterations;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s EDGE_LIST [ROUNDS] [IGRAPH_RANKS]\n", argv[0]);
    return 2;
  }
  const int rounds = argc > 2 ? atoi(argv[2]) : 3;
  FILE* f = fopen(argv[1], "rb");
  if (f == NULL) {
    perror(argv[1]);
    return 1;
  }
  int64_t n64, m64;
  ReadExactly(f, &n64, sizeof(n64), 1);
  ReadExactly(f, &m64, sizeof(m64), 1);
  const GrB_Index n = (GrB_Index)n64, m = (GrB_Index)m64;
  int32_t* src = malloc(m * sizeof(int32_t));
  int32_t* dst = malloc(m * sizeof(int32_t));
  double* w = malloc(m * sizeof(double));
  ReadExactly(f, src, sizeof(int32_t), m);
  ReadExactly(f, dst, sizeof(int32_t), m);
  ReadExactly(f, w, sizeof(double), m);
  fclose(f);

  CHECK(GrB_init(GrB_NONBLOCKING));
  int threads = 0;
  CHECK(GxB_Global_Option_get(GxB_NTHREADS, &threads));

  const double start = Now();
  // P(j, i) = d * w(i -> j) / out(i), built as (row j, column i) tuples.
  double* out = calloc(n, sizeof(double));
  for (GrB_Index e = 0; e < m; ++e) out[src[e]] += w[e];
  GrB_Index* rows = malloc(m * sizeof(GrB_Index));
  GrB_Index* cols = malloc(m * sizeof(GrB_Index));
  double* values = malloc(m * sizeof(double));
  GrB_Index kept = 0;
  for (GrB_Index e = 0; e < m; ++e) {
    if (w[e] <= 0) continue;  // igraph: a 0-weight edge carries nothing
    rows[kept] = (GrB_Index)dst[e];
    cols[kept] = (GrB_Index)src[e];
    values[kept] = kDamping * w[e] / out[src[e]];
    ++kept;
  }
  GrB_Matrix p;
  CHECK(GrB_Matrix_new(&p, GrB_FP64, n, n));
  CHECK(GrB_Matrix_build_FP64(p, rows, cols, values, kept, GrB_PLUS_FP64));
  CHECK(GrB_Matrix_wait(p, GrB_MATERIALIZE));
  GrB_Vector dangling;
  CHECK(GrB_Vector_new(&dangling, GrB_FP64, n));
  GrB_Index dangling_count = 0;
  for (GrB_Index i = 0; i < n; ++i) {
    if (out[i] <= 0) {
      CHECK(GrB_Vector_setElement_FP64(dangling, 1.0, i));
      ++dangling_count;
    }
  }
  CHECK(GrB_Vector_wait(dangling, GrB_MATERIALIZE));
  free(rows);
  free(cols);
  free(values);
  printf(
      "GraphBLAS %d.%d.%d (%d threads): matrix of %llu vertices, %llu "
      "entries, %llu dangling, built in %.1f s\n",
      GxB_IMPLEMENTATION_MAJOR, GxB_IMPLEMENTATION_MINOR,
      GxB_IMPLEMENTATION_SUB, threads, (unsigned long long)n,
      (unsigned long long)kept, (unsigned long long)dangling_count,
      Now() - start);

  double* times = malloc((size_t)rounds * sizeof(double));
  double* cpu = malloc((size_t)rounds * sizeof(double));
  GrB_Vector ranks = NULL;
  int iterations = 0;
  printf("pagerank (power iteration, GrB_mxv) runs:");
  for (int k = 0; k < rounds; ++k) {
    if (ranks != NULL) GrB_Vector_free(&ranks);
    const double t0 = Now();
    const double c0 = Clock(CLOCK_PROCESS_CPUTIME_ID);
    iterations = PageRank(p, dangling, n, &ranks);
    times[k] = (Now() - t0) * 1000;
    cpu[k] = (Clock(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1000;
    printf("%s %.0f ms", k == 0 ? "" : ",", times[k]);
  }
  printf(" (%d iterations to an L1 change below %g)\n", iterations, kTolerance);
  qsort(times, (size_t)rounds, sizeof(double), CompareDoubles);
  qsort(cpu, (size_t)rounds, sizeof(double), CompareDoubles);
  printf("RESULT graphblas_pagerank_ms=%.3f\n", times[rounds / 2]);
  printf("RESULT graphblas_pagerank_min_ms=%.3f\n", times[0]);
  printf("RESULT graphblas_pagerank_cpu_ms=%.3f\n", cpu[rounds / 2]);
  printf("RESULT graphblas_iterations=%d\n", iterations);
  printf("RESULT graphblas_threads=%d\n", threads);

  if (argc > 3) {
    // The same PageRank as igraph's? Their largest difference, beside the
    // largest rank.
    double* theirs = malloc(n * sizeof(double));
    FILE* g = fopen(argv[3], "rb");
    if (g == NULL) {
      perror(argv[3]);
      return 1;
    }
    ReadExactly(g, theirs, sizeof(double), n);
    fclose(g);
    double largest = 0, diff = 0;
    for (GrB_Index i = 0; i < n; ++i) {
      double x = 0;
      CHECK(GrB_Vector_extractElement_FP64(&x, ranks, i));
      if (x > largest) largest = x;
      if (fabs(x - theirs[i]) > diff) diff = fabs(x - theirs[i]);
    }
    printf("largest difference from igraph's ranks: %.3g (largest rank %.3g)\n",
           diff, largest);
    printf("RESULT graphblas_igraph_max_diff=%.6g\n", diff);
    free(theirs);
  }
  GrB_Vector_free(&ranks);
  GrB_Vector_free(&dangling);
  GrB_Matrix_free(&p);
  GrB_finalize();
  free(times);
  free(cpu);
  free(out);
  free(src);
  free(dst);
  free(w);
  return 0;
}
