/* winograd-lanes.c — the per-tile transforms of Winograd F(4×4, 3×3) (winograd.c), on LANES
 * tiles side by side so that the compiler vectorises across tiles.
 *
 * Built once per instruction set (engine/meson.build: portable, AVX2, AVX-512, each with
 * NS_LANES_SUFFIX) and chosen at run time (simd.c).  Only additions and multiplications in
 * the same order, never contracted into FMA: every build gives the same bits. */

#include "winograd-lanes.h"

/* How far ahead (floats) the transforms ask for the next tiles' lines of each of their 36
 * elements: V and M are written and read element by element, 36 streams a band's channels ×
 * tiles apart (winograd.c), too many for the hardware's prefetchers.  The loads of M were
 * then over half of the output transform's time.  A prefetch changes no result. */
#define NS_PREFETCH_AHEAD (4 * LANES)

#define NS_CAT_(a, b) a##b
#define NS_CAT(a, b)  NS_CAT_ (a, b)

/* G (6×3) times three values a stride apart. */
#define G3(g0, g1, g2, o)                                \
  do {                                                   \
    o[0] = (g0) * 0.25f;                                 \
    o[1] = ((g0) + (g1) + (g2)) * (-1.0f / 6.0f);        \
    o[2] = ((g0) - (g1) + (g2)) * (-1.0f / 6.0f);        \
    o[3] = (g0) * (1.0f / 24.0f) + (g1) * (1.0f / 12.0f) + (g2) * (1.0f / 6.0f); \
    o[4] = (g0) * (1.0f / 24.0f) - (g1) * (1.0f / 12.0f) + (g2) * (1.0f / 6.0f); \
    o[5] = (g2);                                         \
  } while (0)

/* Transforms the filters of n ≤ LANES consecutive inputs i into one output o: tap k
 * (row-major 3×3) of lane l is g[l·lane_stride + k·tap_step]; writes elements [e0, e1) to
 * u[(e − e0)·stride + l].  Each element is the same expression whichever range is asked
 * for, so a range gives the same bits as the whole transform. */
static void
weight_lanes (const float *g, gsize lane_stride, int tap_step, int n, int e0, int e1, float *u,
              gsize stride)
{
  float k9[9][LANES], t[6][3][LANES], r[6][6][LANES];
  int i0 = e0 / 6, i1 = (e1 + 5) / 6;

  if (n == LANES)
    for (int k = 0; k < 9; k++)
      for (int l = 0; l < LANES; l++)
        k9[k][l] = g[l * lane_stride + k * tap_step];
  else
    for (int k = 0; k < 9; k++)
      for (int l = 0; l < LANES; l++)
        k9[k][l] = l < n ? g[l * lane_stride + k * tap_step] : 0.0f;
  for (int kx = 0; kx < 3; kx++)
    for (int l = 0; l < LANES; l++)
      {
        float o[6];

        G3 (k9[kx][l], k9[3 + kx][l], k9[6 + kx][l], o);
        for (int i = 0; i < 6; i++)
          t[i][kx][l] = o[i];
      }
  /* Only the rows of G g Gᵀ that hold the elements asked for (loops of fixed length, which
   * the compiler unrolls). */
  for (int i = 0; i < 6; i++)
    if (i >= i0 && i < i1)
      for (int l = 0; l < LANES; l++)
        {
          float o[6];

          G3 (t[i][0][l], t[i][1][l], t[i][2][l], o);
          for (int j = 0; j < 6; j++)
            r[i][j][l] = o[j];
        }
  for (int e = 0; e < N_ELEM; e++)
    if (e >= e0 && e < e1)
      {
        float *dst = u + (gsize) (e - e0) * stride;

        if (n == LANES)
          for (int l = 0; l < LANES; l++)
            dst[l] = r[e / 6][e % 6][l];
        else
          for (int l = 0; l < n; l++)
            dst[l] = r[e / 6][e % 6][l];
      }
}

/* Bᵀ applied to six values a stride apart (in place on out). */
#define BT6(d0, d1, d2, d3, d4, d5, o)                   \
  do {                                                   \
    o[0] = 4.0f * d0 - 5.0f * d2 + d4;                   \
    o[1] = -4.0f * d1 - 4.0f * d2 + d3 + d4;             \
    o[2] = 4.0f * d1 - 4.0f * d2 - d3 + d4;              \
    o[3] = -2.0f * d1 - d2 + 2.0f * d3 + d4;             \
    o[4] = 2.0f * d1 - d2 - 2.0f * d3 + d4;              \
    o[5] = 4.0f * d1 - 5.0f * d3 + d5;                   \
  } while (0)

/* Transforms LANES tiles side by side.  rows[r] points at input row 4·ty − 1 + r of a
 * zero-padded copy (index 0 is column −1); tile l starts at column 4·l.  Writes 36 × n
 * values to v[e·stride + l]. */
static void
input_lanes (const float * const rows[6], int n, float *v, gsize stride)
{
  float d[6][6][LANES], t[6][6][LANES];

  /* Full groups of tiles (all but the last of a row) without a test per lane. */
  if (n == LANES)
    for (int r = 0; r < 6; r++)
      for (int j = 0; j < 6; j++)
        for (int l = 0; l < LANES; l++)
          d[r][j][l] = rows[r][4 * l + j];
  else
    for (int r = 0; r < 6; r++)
      for (int j = 0; j < 6; j++)
        for (int l = 0; l < LANES; l++)
          d[r][j][l] = l < n ? rows[r][4 * l + j] : 0.0f;

  /* Bᵀ · d (over rows), then · B (over columns) */
  for (int j = 0; j < 6; j++)
    for (int l = 0; l < LANES; l++)
      {
        float o[6];

        BT6 (d[0][j][l], d[1][j][l], d[2][j][l], d[3][j][l], d[4][j][l], d[5][j][l], o);
        for (int r = 0; r < 6; r++)
          t[r][j][l] = o[r];
      }
  for (int r = 0; r < 6; r++)
    for (int l = 0; l < LANES; l++)
      {
        float o[6];

        BT6 (t[r][0][l], t[r][1][l], t[r][2][l], t[r][3][l], t[r][4][l], t[r][5][l], o);
        for (int j = 0; j < 6; j++)
          d[r][j][l] = o[j];
      }

  for (int r = 0; r < 6; r++)
    for (int j = 0; j < 6; j++)
      {
        float *dst = v + (gsize) (r * 6 + j) * stride;

        __builtin_prefetch (dst + NS_PREFETCH_AHEAD, 1);
        if (n == LANES)
          for (int l = 0; l < LANES; l++)
            dst[l] = d[r][j][l];
        else
          for (int l = 0; l < n; l++)
            dst[l] = d[r][j][l];
      }
}

#define AT6(m0, m1, m2, m3, m4, m5, o)                   \
  do {                                                   \
    o[0] = m0 + m1 + m2 + m3 + m4;                       \
    o[1] = m1 - m2 + 2.0f * m3 - 2.0f * m4;              \
    o[2] = m1 + m2 + 4.0f * m3 + 4.0f * m4;              \
    o[3] = m1 - m2 + 8.0f * m3 - 8.0f * m4 + m5;         \
  } while (0)

/* Inverse-transforms LANES tiles of one channel from m[e·stride + l] into a 4-row strip:
 * strip[i·strip_w + 4·l + j] = Y_l[i][j] + bias. */
static void
output_lanes (const float *m, gsize stride, int n, float bias, float *strip, gsize strip_w)
{
  float a[6][6][LANES], t[4][6][LANES];

  for (int e = 0; e < N_ELEM; e++)
    {
      const float *src = m + (gsize) e * stride;

      __builtin_prefetch (src + NS_PREFETCH_AHEAD);
      if (n == LANES)
        for (int l = 0; l < LANES; l++)
          a[e / 6][e % 6][l] = src[l];
      else
        for (int l = 0; l < LANES; l++)
          a[e / 6][e % 6][l] = l < n ? src[l] : 0.0f;
    }
  for (int j = 0; j < 6; j++)
    for (int l = 0; l < LANES; l++)
      {
        float o[4];

        AT6 (a[0][j][l], a[1][j][l], a[2][j][l], a[3][j][l], a[4][j][l], a[5][j][l], o);
        for (int i = 0; i < 4; i++)
          t[i][j][l] = o[i];
      }
  for (int i = 0; i < 4; i++)
    for (int l = 0; l < LANES; l++)
      {
        float o[4];

        AT6 (t[i][0][l], t[i][1][l], t[i][2][l], t[i][3][l], t[i][4][l], t[i][5][l], o);
        for (int j = 0; j < 4; j++)
          a[i][j][l] = o[j] + bias;
      }
  /* Only n lanes: the strip of the next rows continues right after this one's end. */
  if (n == LANES)
    for (int i = 0; i < 4; i++)
      for (int l = 0; l < LANES; l++)
        for (int j = 0; j < 4; j++)
          strip[i * strip_w + 4 * l + j] = a[i][j][l];
  else
    for (int i = 0; i < 4; i++)
      for (int l = 0; l < n; l++)
        for (int j = 0; j < 4; j++)
          strip[i * strip_w + 4 * l + j] = a[i][j][l];
}

const NsWinogradLanes NS_CAT (ns_winograd_lanes_, NS_LANES_SUFFIX) =
{
  weight_lanes,
  input_lanes,
  output_lanes,
};
