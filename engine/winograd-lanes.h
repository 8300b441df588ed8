/* winograd-lanes.h — the vectorised tile transforms of winograd.c, one build per
 * instruction set (winograd-lanes.c).  Not installed. */
#ifndef NS_WINOGRAD_LANES_H
#define NS_WINOGRAD_LANES_H

#include <glib.h>

#define LANES 16          /* tiles transformed together: one AVX-512 register of floats */
#define N_ELEM 36         /* 6 × 6 transformed elements per tile */

typedef struct
{
  /* Filters of n ≤ LANES consecutive inputs into one output: tap k (row-major 3×3) of lane l
   * is g[l·lane_stride + k·tap_step]; writes elements [e0, e1) to u[(e − e0)·stride + l]. */
  void (*weight) (const float *g, gsize lane_stride, int tap_step, int n, int e0, int e1,
                  float *u, gsize stride);
  /* n ≤ LANES input tiles side by side from six padded rows; writes v[e·stride + l]. */
  void (*input)  (const float * const rows[6], int n, float *v, gsize stride);
  /* n ≤ LANES output tiles of one channel from m[e·stride + l] into a 4-row strip. */
  void (*output) (const float *m, gsize stride, int n, float bias, float *strip,
                  gsize strip_w);
} NsWinogradLanes;

extern const NsWinogradLanes ns_winograd_lanes_portable;
#ifdef NS_HAVE_X86_LANES
extern const NsWinogradLanes ns_winograd_lanes_avx2;
extern const NsWinogradLanes ns_winograd_lanes_avx512;
#endif

#endif
