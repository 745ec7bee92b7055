/* A compiled yardstick for the executor benchmark (`automl-zero bench network`).
 *
 * The hand-designed 2-layer network of `automl-zero example neural_net`
 * (memory 5 scalars / 9 vectors / 2 matrices), written as a plain C loop with
 * the executor's semantics: per training example Predict, the early-stopping
 * check (|label - prediction| must be <= max_abs_error, NaN stops), Learn;
 * then Predict on every validation example and the RMS fitness
 * 1 - (2/pi) atan(RMSE). One epoch; fitness 0 for a task stopped early.
 * The original C++ runs close to this loop at F = 16 (docs/semantics.md §4).
 *
 * Build: cc -O3 -march=native -ffast-math -DF=16 nn_reference.c -o nn16 -lm
 * Input (binary, native endianness), written by automl_zero/run/bench.py:
 *   int64 T, NT, NV, repeats; double lr, max_abs_error;
 *   per task: double m0[F*F] (row-major), v2[F] (Setup's draws),
 *             train_x[NT*F], train_y[NT], valid_x[NV*F], valid_y[NV].
 * Output: one line of JSON: the median and minimum time of one evaluation
 * (all T tasks) over the repeats, the train steps run and each task's fitness.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef F
#error "compile with -DF=<features size>"
#endif

typedef struct {
  double *m0, *v2, *tx, *ty, *vx, *vy;
} TaskData;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Setup's Gaussian draws (v2, m0 = gaussian(0, 0.1)) cost what they cost in the
 * original (absl's ziggurat on a mersenne twister, a few ns each): drawn here
 * with xoshiro256+ and the polar method, then replaced by the weights our
 * executor drew, so that both compute the same numbers. */
static uint64_t rng_state[4] = {0x9E3779B97F4A7C15ull, 0xBF58476D1CE4E5B9ull,
                                0x94D049BB133111EBull, 0x2545F4914F6CDD1Dull};

static double uniform01(void) {
  uint64_t *s = rng_state;
  uint64_t result = s[0] + s[3], t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return (result >> 11) * 0x1.0p-53;
}

static volatile double draw_sink; /* keeps the draws from being optimised away */

static void draw_gaussians(double *out, int n, double stdev) {
  double sum = 0.0;
  for (int k = 0; k < n; k += 2) {
    double x, y, r;
    do {
      x = 2.0 * uniform01() - 1.0;
      y = 2.0 * uniform01() - 1.0;
      r = x * x + y * y;
    } while (r >= 1.0 || r == 0.0);
    double f = sqrt(-2.0 * log(r) / r);
    out[k] = stdev * x * f;
    if (k + 1 < n) out[k + 1] = stdev * y * f;
    sum += out[k];
  }
  draw_sink = sum;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#ifdef FUSED
/* Fused: Predict in one pass (v3 = m0 v0 + v1; v4 = max(v3, 0); s1 = v4.v2 + s2),
 * Learn without the m1 temporary. Faster than the program as written at
 * large F (fewer memory passes); no interpreter can fuse instructions. */
static double predict(const double *restrict m0, const double *restrict x,
                      const double *restrict v1, const double *restrict v2,
                      double s2, double *restrict v3, double *restrict v4) {
  for (int i = 0; i < F; i++) {
    double acc = 0.0;
    for (int j = 0; j < F; j++) acc += m0[i * F + j] * x[j];
    v3[i] = acc + v1[i];
  }
  double s1 = 0.0;
  for (int i = 0; i < F; i++) {
    v4[i] = v3[i] < 0.0 ? 0.0 : v3[i];
    s1 += v4[i] * v2[i];
  }
  return s1 + s2;
}

/* One evaluation of one task; returns its fitness, adds the train steps run. */
static double run_task(const TaskData *d, int64_t nt, int64_t nv, double lr,
                       double max_abs_error, int64_t *steps) {
  double m0[F * F], v1[F], v2[F], v3[F], v4[F], v7[F];
  double s2 = 0.0;
  draw_gaussians(v2, F, 0.1);
  draw_gaussians(m0, F * F, 0.1);
  memcpy(m0, d->m0, sizeof m0);
  memcpy(v2, d->v2, sizeof v2);
  memset(v1, 0, sizeof v1);
  for (int64_t e = 0; e < nt; e++) {
    const double *x = d->tx + e * F;
    double s1 = predict(m0, x, v1, v2, s2, v3, v4);
    ++*steps;
    if (!(fabs(d->ty[e] - s1) <= max_abs_error)) return 0.0;
    double s4 = lr * (d->ty[e] - s1);
    s2 += s4;
    for (int i = 0; i < F; i++) v2[i] += s4 * v4[i];
    for (int i = 0; i < F; i++) {
      v7[i] = (v3[i] > 0.0 ? 1.0 : 0.0) * (s4 * v2[i]);
      v1[i] += v7[i];
    }
    for (int i = 0; i < F; i++)
      for (int j = 0; j < F; j++) m0[i * F + j] += v7[i] * x[j];
  }
  double loss = 0.0;
  for (int64_t e = 0; e < nv; e++) {
    double s1 = predict(m0, d->vx + e * F, v1, v2, s2, v3, v4);
    double diff = d->vy[e] - s1;
    if (!(fabs(diff) <= max_abs_error)) return 0.0;
    loss += diff * diff;
  }
  return 1.0 - (2.0 / M_PI) * atan(sqrt(loss / (double)nv));
}
#else
/* The program as written: memory s[5], v[9][F], m[2][F][F]; every instruction
 * one loop over its operands, as the original executes it (an Eigen
 * expression per instruction), compiled with F constant and no interpreter. */
typedef struct {
  double s[5];
  double v[9][F];
  double m[2][F][F];
} Memory;

static void predict(Memory *restrict mem) {
  double *s = mem->s;
  double(*v)[F] = mem->v;
  double(*m)[F][F] = mem->m;
  for (int i = 0; i < F; i++) { /* v3 = dot(m0, v0) */
    double acc = 0.0;
    for (int j = 0; j < F; j++) acc += m[0][i][j] * v[0][j];
    v[3][i] = acc;
  }
  for (int i = 0; i < F; i++) v[3][i] = v[3][i] + v[1][i];            /* v3 = v3 + v1 */
  for (int i = 0; i < F; i++) v[4][i] = v[3][i] < v[5][i] ? v[5][i] : v[3][i];
  double acc = 0.0; /* s1 = dot(v4, v2) */
  for (int i = 0; i < F; i++) acc += v[4][i] * v[2][i];
  s[1] = acc;
  s[1] = s[1] + s[2]; /* s1 = s1 + s2 */
}

static void learn(Memory *restrict mem) {
  double *s = mem->s;
  double(*v)[F] = mem->v;
  double(*m)[F][F] = mem->m;
  s[4] = s[0] - s[1];
  s[4] = s[3] * s[4];
  s[2] = s[2] + s[4];
  for (int i = 0; i < F; i++) v[6][i] = s[4] * v[4][i];               /* v6 = s4 * v4 */
  for (int i = 0; i < F; i++) v[2][i] = v[2][i] + v[6][i];            /* v2 = v2 + v6 */
  for (int i = 0; i < F; i++) v[7][i] = s[4] * v[2][i];               /* v7 = s4 * v2 */
  for (int i = 0; i < F; i++) v[8][i] = v[3][i] > 0.0 ? 1.0 : 0.0;    /* v8 = heaviside(v3) */
  for (int i = 0; i < F; i++) v[7][i] = v[8][i] * v[7][i];            /* v7 = v8 * v7 */
  for (int i = 0; i < F; i++) v[1][i] = v[1][i] + v[7][i];            /* v1 = v1 + v7 */
  for (int i = 0; i < F; i++)                                          /* m1 = outer(v7, v0) */
    for (int j = 0; j < F; j++) m[1][i][j] = v[7][i] * v[0][j];
  for (int i = 0; i < F; i++)                                          /* m0 = m0 + m1 */
    for (int j = 0; j < F; j++) m[0][i][j] = m[0][i][j] + m[1][i][j];
}

/* One evaluation of one task; returns its fitness, adds the train steps run. */
static double run_task(const TaskData *d, int64_t nt, int64_t nv, double lr,
                       double max_abs_error, int64_t *steps) {
  static Memory mem;
  memset(&mem, 0, sizeof mem);
  draw_gaussians(mem.v[2], F, 0.1); /* Setup: v2, m0 = gaussian(0, 0.1); s3 = lr */
  draw_gaussians(&mem.m[0][0][0], F * F, 0.1);
  memcpy(mem.v[2], d->v2, sizeof mem.v[2]);
  memcpy(mem.m[0], d->m0, sizeof mem.m[0]);
  mem.s[3] = lr;
  for (int64_t e = 0; e < nt; e++) {
    mem.s[0] = 0.0;
    memcpy(mem.v[0], d->tx + e * F, sizeof mem.v[0]);
    predict(&mem);
    ++*steps;
    if (!(fabs(d->ty[e] - mem.s[1]) <= max_abs_error)) return 0.0;
    mem.s[0] = d->ty[e];
    learn(&mem);
  }
  double loss = 0.0;
  for (int64_t e = 0; e < nv; e++) {
    mem.s[0] = 0.0;
    memcpy(mem.v[0], d->vx + e * F, sizeof mem.v[0]);
    predict(&mem);
    double diff = d->vy[e] - mem.s[1];
    if (!(fabs(diff) <= max_abs_error)) return 0.0;
    loss += diff * diff;
  }
  return 1.0 - (2.0 / M_PI) * atan(sqrt(loss / (double)nv));
}
#endif

static double *read_doubles(FILE *f, int64_t n) {
  double *p = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  if (!p || fread(p, sizeof(double), (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "nn_reference: input too short\n");
    exit(2);
  }
  return p;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s INPUT\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  int64_t header[4];
  double params[2];
  if (fread(header, sizeof header, 1, f) != 1 || fread(params, sizeof params, 1, f) != 1) {
    fprintf(stderr, "nn_reference: bad header\n");
    return 2;
  }
  int64_t T = header[0], NT = header[1], NV = header[2], repeats = header[3];
  TaskData *tasks = calloc((size_t)T, sizeof(TaskData));
  for (int64_t t = 0; t < T; t++) {
    tasks[t].m0 = read_doubles(f, F * F);
    tasks[t].v2 = read_doubles(f, F);
    tasks[t].tx = read_doubles(f, NT * F);
    tasks[t].ty = read_doubles(f, NT);
    tasks[t].vx = read_doubles(f, NV * F);
    tasks[t].vy = read_doubles(f, NV);
  }
  fclose(f);
  double *times = malloc(sizeof(double) * (size_t)repeats);
  double *fitness = malloc(sizeof(double) * (size_t)T);
  int64_t steps = 0;
  for (int64_t r = 0; r < repeats; r++) {
    steps = 0;
    double t0 = now();
    for (int64_t t = 0; t < T; t++)
      fitness[t] = run_task(&tasks[t], NT, NV, params[0], params[1], &steps);
    times[r] = now() - t0;
  }
  qsort(times, (size_t)repeats, sizeof(double), cmp);
  printf("{\"median_us\": %.3f, \"min_us\": %.3f, \"train_steps\": %lld, \"fitness\": [",
         1e6 * times[repeats / 2], 1e6 * times[0], (long long)steps);
  for (int64_t t = 0; t < T; t++) printf("%s%.17g", t ? ", " : "", fitness[t]);
  printf("]}\n");
  return 0;
}
