/* winograd.c — 3×3 convolution (stride 1, zero padding 1) by Winograd's minimal filtering
 * F(4×4, 3×3) (Lavin & Gray 2016).
 *
 * Each 4×4 block of output ("tile") is computed from the 6×6 input patch around it:
 *   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 * so that a 3×3 filter costs 36 multiplications per 16 outputs instead of 144.  Over the
 * channels, the 36 element-wise products become 36 matrix products,
 *   M[e] (cout × tiles) = U[e] (cout × cin) · V[e] (cin × tiles),   e = 0 … 35,
 * which OpenBLAS runs at full speed; the transforms in and out are O(channels · pixels).
 * Tiles are processed in bands of tile rows so that V and M stay a few MiB.
 *
 * The input gradient of the convolution is itself a 3×3 convolution of the output gradient
 * with the weights transposed (in ↔ out) and turned by 180°; the weight transform reads the
 * original weights in that order, so no second copy of the weights is needed.
 *
 * Accuracy: the transforms multiply by up to 5 (B), 8 (A) and 1/24 (G), so float32 round-off
 * is about ten times that of a direct sum; test-conv checks it against a double-precision
 * direct convolution and the PyTorch reference test checks whole VGG-19 gradients. */

#include <string.h>

#include <cblas.h>

#include "ns-internal.h"

#define LANES 16          /* tiles transformed together: one AVX-512 register of floats */
#define N_ELEM 36         /* 6 × 6 transformed elements per tile */

/* Bytes of V and M per band (beyond which bands get more tile rows no longer pays off:
 * measured on VGG-19 layers, 16–64 MiB were equally fast and 4 MiB slower). */
#define NS_WINOGRAD_BAND_BYTES (24u << 20)

/* Bytes of transformed weights per block of output channels: small enough to stay in the
 * heap (glibc maps larger blocks afresh, and page faults then cost as much as the
 * transform). */
#define NS_WINOGRAD_U_BYTES (4u << 20)

/* Vectorised for AVX-512 when the CPU has it, with portable fallbacks.  The project builds
 * without -march, so the loops over LANES tiles would otherwise get SSE2 only. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(NS_NO_TARGET_CLONES)
#define NS_VECTOR __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#else
#define NS_VECTOR
#endif

/* ---- weights: U[e][o][i] = (G g Gᵀ)[e] for the filter from input i to output o ------------ */

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
 * (row-major 3×3) of lane l is g[l·lane_stride + k·tap_step]; writes u[e·stride + l]. */
NS_VECTOR static void
weight_lanes (const float *g, gsize lane_stride, int tap_step, int n, float *u, gsize stride)
{
  float k9[9][LANES], t[6][3][LANES], r[6][6][LANES];

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
  for (int i = 0; i < 6; i++)
    for (int l = 0; l < LANES; l++)
      {
        float o[6];

        G3 (t[i][0][l], t[i][1][l], t[i][2][l], o);
        for (int j = 0; j < 6; j++)
          r[i][j][l] = o[j];
      }
  for (int e = 0; e < N_ELEM; e++)
    {
      float *dst = u + (gsize) e * stride;

      if (n == LANES)
        for (int l = 0; l < LANES; l++)
          dst[l] = r[e / 6][e % 6][l];
      else
        for (int l = 0; l < n; l++)
          dst[l] = r[e / 6][e % 6][l];
    }
}

/* U (36 × (o1 − o0) × n_in) for outputs [o0, o1) of the convolution from n_in to n_out
 * channels (the rows of outputs [s0, s1) of it).  weight is [cout][cin][3][3]; for the adjoint n_in = cout, n_out = cin and the
 * filter from i to o is weight[i][o] turned by 180° (tap k read at 8 − k). */
static void
weight_transform (const float *weight, int cin, int cout, gboolean adjoint, int o0, int o1,
                  int s0, int s1, float *u)
{
  int n_in = adjoint ? cout : cin;
  gsize stride = (gsize) (o1 - o0) * n_in;

  /* Only outputs [s0, s1) of the block [o0, o1), for one worker's share. */
  for (int o = s0; o < s1; o++)
    for (int i = 0; i < n_in; i += LANES)
      {
        float *dst = u + (gsize) (o - o0) * n_in + i;
        int n = MIN (LANES, n_in - i);

        if (adjoint)
          weight_lanes (weight + ((gsize) i * cin + o) * 9 + 8, (gsize) cin * 9, -1, n, dst, stride);
        else
          weight_lanes (weight + ((gsize) o * cin + i) * 9, 9, 1, n, dst, stride);
      }
}

/* ---- input: V[e][c][t] = (Bᵀ d B)[e] for the 6×6 patch d of tile t in channel c ---------- */

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
NS_VECTOR static void
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

        if (n == LANES)
          for (int l = 0; l < LANES; l++)
            dst[l] = d[r][j][l];
        else
          for (int l = 0; l < n; l++)
            dst[l] = d[r][j][l];
      }
}

/* V for tile rows [ty0, ty1) of channels [c0, c1); tiles are numbered row by row, tw per row.
 * pad holds one zero-padded input row (4·tw + 2 floats). */
static void
input_transform (const NsTensor *in, int c0, int c1, int ty0, int ty1, int tw, float *v,
                 gsize n_tiles, float *pad)
{
  int h = in->h, w = in->w;
  gsize pad_w = (gsize) 4 * tw + 2;
  float *padded = pad;           /* six rows of pad_w */

  for (int c = c0; c < c1; c++)
    {
      const float *plane = in->data + (gsize) c * h * w;

      for (int ty = ty0; ty < ty1; ty++)
        {
          const float *rows[6];
          gsize t0 = (gsize) (ty - ty0) * tw;

          for (int r = 0; r < 6; r++)
            {
              int y = 4 * ty - 1 + r;
              float *dst = padded + r * pad_w;

              memset (dst, 0, pad_w * sizeof (float));
              if (y >= 0 && y < h)
                memcpy (dst + 1, plane + (gsize) y * w, w * sizeof (float));
              rows[r] = dst;
            }
          for (int tx = 0; tx < tw; tx += LANES)
            {
              const float *lane_rows[6];

              for (int r = 0; r < 6; r++)
                lane_rows[r] = rows[r] + 4 * tx;
              input_lanes (lane_rows, MIN (LANES, tw - tx),
                           v + (gsize) c * n_tiles + t0 + tx, (gsize) in->c * n_tiles);
            }
        }
    }
}

/* ---- output: Y = Aᵀ M A (+ bias) ------------------------------------------------------------ */

#define AT6(m0, m1, m2, m3, m4, m5, o)                   \
  do {                                                   \
    o[0] = m0 + m1 + m2 + m3 + m4;                       \
    o[1] = m1 - m2 + 2.0f * m3 - 2.0f * m4;              \
    o[2] = m1 + m2 + 4.0f * m3 + 4.0f * m4;              \
    o[3] = m1 - m2 + 8.0f * m3 - 8.0f * m4 + m5;         \
  } while (0)

/* Inverse-transforms LANES tiles of one channel from m[e·stride + l] into a 4-row strip:
 * strip[i·strip_w + 4·l + j] = Y_l[i][j] + bias. */
NS_VECTOR static void
output_lanes (const float *m, gsize stride, int n, float bias, float *strip, gsize strip_w)
{
  float a[6][6][LANES], t[4][6][LANES];

  for (int e = 0; e < N_ELEM; e++)
    {
      const float *src = m + (gsize) e * stride;

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

/* Output rows [4·ty0, min(4·ty1, h)) of channels [s0, s1) from M (36 × (k1 − k0) × tiles,
 * for the block of channels [k0, k1)). */
static void
output_transform (const float *m, gsize n_tiles, int ty0, int ty1, int tw, int k0, int k1,
                  int s0, int s1, const float *bias, NsTensor *out, float *strip)
{
  int h = out->h, w = out->w;
  gsize strip_w = (gsize) 4 * tw;
  gsize stride = (gsize) (k1 - k0) * n_tiles;

  for (int k = s0; k < s1; k++)
    {
      float *plane = out->data + (gsize) k * h * w;
      const float *mk = m + (gsize) (k - k0) * n_tiles;
      float b = bias != NULL ? bias[k] : 0.0f;

      for (int ty = ty0; ty < ty1; ty++)
        {
          gsize t0 = (gsize) (ty - ty0) * tw;
          int rows = MIN (4, h - 4 * ty);

          for (int tx = 0; tx < tw; tx += LANES)
            output_lanes (mk + t0 + tx, stride, MIN (LANES, tw - tx), b, strip + 4 * tx, strip_w);
          for (int i = 0; i < rows; i++)
            memcpy (plane + (gsize) (4 * ty + i) * w, strip + i * strip_w, w * sizeof (float));
        }
    }
}

/* ---- the convolution ----------------------------------------------------------------------- */

/* Output channels per block: all of them when their U fits NS_WINOGRAD_U_BYTES (then it is
 * computed once per call), else blocks of a multiple of LANES that do, recomputed per band. */
static int
out_block (int n_in, int n_out)
{
  gsize per_out = (gsize) N_ELEM * n_in * sizeof (float);
  gsize ob = NS_WINOGRAD_U_BYTES / per_out;

  if (ob >= (gsize) n_out)
    return n_out;
  return (int) MAX (LANES, ob / LANES * LANES);
}

/* Tile rows per band, within NS_WINOGRAD_BAND_BYTES of V and M; max_band_rows > 0 caps it
 * (tests). */
static int
band_tile_rows (int n_in, int ob, int th, int tw, int max_band_rows)
{
  return ns_band_rows (NS_WINOGRAD_BAND_BYTES, (gsize) N_ELEM * (n_in + ob) * tw * sizeof (float),
                       th, max_band_rows);
}

gsize
ns_winograd_workspace_floats (int n_in, int n_out, int h, int w)
{
  int th = (h + 3) / 4, tw = (w + 3) / 4;
  int ob = out_block (n_in, n_out);
  int rows;

  if (th == 0 || tw == 0)
    return 0;
  rows = band_tile_rows (n_in, ob, th, tw, 0);

  return (gsize) N_ELEM * n_in * ob                       /* U */
         + (gsize) N_ELEM * (n_in + ob) * rows * tw       /* V, M */
         + (gsize) 6 * (4 * tw + 2) + (gsize) 4 * 4 * tw + 4 * LANES;
}

/* ---- threads ------------------------------------------------------------------------------- */

/* The call splits its own work over the threads OpenBLAS would use (the channels of each
 * transform, the 36 products), with OpenBLAS itself single-threaded meanwhile: one
 * synchronisation per phase instead of one inside each of 36 small products, which on
 * busy cores made threads wait on each other for whole time slices.  The switch of
 * OpenBLAS's process-wide thread count is counted, so that overlapping calls restore it
 * once. */
static GMutex blas_lock;
static int    blas_users, blas_threads;

static int
blas_single_begin (void)
{
  int threads;

  g_mutex_lock (&blas_lock);
  if (blas_users++ == 0)
    {
      blas_threads = openblas_get_num_threads ();
      openblas_set_num_threads (1);
    }
  threads = blas_threads;
  g_mutex_unlock (&blas_lock);
  return threads;
}

static void
blas_single_end (void)
{
  g_mutex_lock (&blas_lock);
  if (--blas_users == 0)
    openblas_set_num_threads (blas_threads);
  g_mutex_unlock (&blas_lock);
}

typedef struct
{
  const float    *weight, *bias;
  int             cin, cout, n_in, n_out;
  gboolean        adjoint;
  const NsTensor *in;
  NsTensor       *out;
  int             th, tw, rows, ob;
  float          *u, *v, *m;
  int             n_workers;
  GMutex          lock;
  GCond           cond;
  int             waiting, generation;
} Job;

typedef struct
{
  Job *job;
  int  id;
} Worker;

static void
barrier (Job *j)
{
  int generation;

  if (j->n_workers == 1)
    return;
  g_mutex_lock (&j->lock);
  generation = j->generation;
  if (++j->waiting == j->n_workers)
    {
      j->waiting = 0;
      j->generation++;
      g_cond_broadcast (&j->cond);
    }
  else
    while (generation == j->generation)
      g_cond_wait (&j->cond, &j->lock);
  g_mutex_unlock (&j->lock);
}

/* Worker id's share [*a, *b) of n items. */
static void
share (int n, int id, int workers, int *a, int *b)
{
  *a = (int) ((gint64) n * id / workers);
  *b = (int) ((gint64) n * (id + 1) / workers);
}

static void
work (Job *j, int id)
{
  float *pad = ns_floats_alloc ((gsize) 6 * (4 * j->tw + 2));
  float *strip = ns_floats_alloc ((gsize) 4 * 4 * j->tw + 4 * LANES);
  int a, b, nw = j->n_workers;

  if (j->ob == j->n_out)
    {
      share (j->n_out, id, nw, &a, &b);
      weight_transform (j->weight, j->cin, j->cout, j->adjoint, 0, j->n_out, a, b, j->u);
    }
  for (int ty0 = 0; ty0 < j->th; ty0 += j->rows)
    {
      int ty1 = MIN (j->th, ty0 + j->rows);
      gsize n_tiles = (gsize) (ty1 - ty0) * j->tw;

      share (j->n_in, id, nw, &a, &b);
      input_transform (j->in, a, b, ty0, ty1, j->tw, j->v, n_tiles, pad);
      barrier (j);        /* V complete (and U, and the last block's output read M) */
      for (int o0 = 0; o0 < j->n_out; o0 += j->ob)
        {
          int o1 = MIN (j->n_out, o0 + j->ob), nb = o1 - o0;

          if (j->ob != j->n_out)
            {
              share (nb, id, nw, &a, &b);
              weight_transform (j->weight, j->cin, j->cout, j->adjoint, o0, o1, o0 + a, o0 + b,
                                j->u);
              barrier (j);
            }
          share (N_ELEM, id, nw, &a, &b);
          for (int e = a; e < b; e++)
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, (int) n_tiles, j->n_in,
                         1.0f, j->u + (gsize) e * nb * j->n_in, j->n_in,
                         j->v + (gsize) e * j->n_in * n_tiles, (int) n_tiles,
                         0.0f, j->m + (gsize) e * nb * n_tiles, (int) n_tiles);
          barrier (j);    /* M complete */
          share (nb, id, nw, &a, &b);
          output_transform (j->m, n_tiles, ty0, ty1, j->tw, o0, o1, o0 + a, o0 + b,
                            j->adjoint ? NULL : j->bias, j->out, strip);
        }
    }
  ns_floats_free (strip);
  ns_floats_free (pad);
}

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;

  work (w->job, w->id);
  return NULL;
}

/* The transformed weights and data of a call (U, V, M: up to NS_WINOGRAD_U_BYTES +
 * NS_WINOGRAD_BAND_BYTES), kept per calling thread from one call to the next: allocated
 * afresh they were mapped anew each time (they are above glibc's mapping threshold), and
 * the page faults of 30 MiB per convolution cost as much as the transforms. */
typedef struct
{
  float *buf;
  gsize  floats;
} Workspace;

static void
workspace_free (gpointer data)
{
  Workspace *w = data;

  ns_floats_free (w->buf);
  g_free (w);
}

static GPrivate workspace_key = G_PRIVATE_INIT (workspace_free);

static float *
workspace (gsize floats)
{
  Workspace *w = g_private_get (&workspace_key);

  if (w == NULL)
    {
      w = g_new0 (Workspace, 1);
      g_private_set (&workspace_key, w);
    }
  if (w->floats < floats)
    {
      ns_floats_free (w->buf);
      w->buf = ns_floats_alloc (floats);
      w->floats = floats;
    }
  return w->buf;
}

gsize
ns_winograd_cached_bytes (void)
{
  /* U of one block, V and M of one band (each at least one tile row, which for the
   * largest crops is still far below the band budget). */
  return NS_WINOGRAD_U_BYTES + NS_WINOGRAD_BAND_BYTES + 256;
}

/* Below this many multiply-adds a call runs on one thread: starting one costs more. */
#define NS_WINOGRAD_THREAD_MIN_MACS 20000000.0

void
ns_winograd_conv3x3 (const float *weight, const float *bias, int cin, int cout,
                     gboolean adjoint, const NsTensor *in, NsTensor *out, int max_band_rows)
{
  Job j = { 0 };
  GThread *threads[15];
  Worker workers[16];
  double macs;

  g_return_if_fail (in->c == (adjoint ? cout : cin) && out->c == (adjoint ? cin : cout));
  g_return_if_fail (out->h == in->h && out->w == in->w);
  if (in->h == 0 || in->w == 0 || out->c == 0)
    return;

  j.weight = weight;
  j.bias = bias;
  j.cin = cin;
  j.cout = cout;
  j.n_in = adjoint ? cout : cin;
  j.n_out = adjoint ? cin : cout;
  j.adjoint = adjoint;
  j.in = in;
  j.out = out;
  j.th = (in->h + 3) / 4;
  j.tw = (in->w + 3) / 4;
  j.ob = out_block (j.n_in, j.n_out);
  j.rows = band_tile_rows (j.n_in, j.ob, j.th, j.tw, max_band_rows);
  {
    gsize nu = (gsize) N_ELEM * j.ob * j.n_in, nv = (gsize) N_ELEM * j.n_in * j.rows * j.tw;
    gsize nm = (gsize) N_ELEM * j.ob * j.rows * j.tw;
    /* 16-float (64-byte) boundaries between the three. */
    gsize au = (nu + 15) / 16 * 16, av = (nv + 15) / 16 * 16;

    j.u = workspace (au + av + nm);
    j.v = j.u + au;
    j.m = j.v + av;
  }
  g_mutex_init (&j.lock);
  g_cond_init (&j.cond);

  j.n_workers = CLAMP (blas_single_begin (), 1, 16);
  macs = (double) N_ELEM * j.n_in * j.n_out * j.th * j.tw;
  if (macs < NS_WINOGRAD_THREAD_MIN_MACS)
    j.n_workers = 1;
  for (int i = 1; i < j.n_workers; i++)
    {
      workers[i].job = &j;
      workers[i].id = i;
      threads[i - 1] = g_thread_new ("ns-winograd", worker_main, &workers[i]);
    }
  work (&j, 0);
  for (int i = 1; i < j.n_workers; i++)
    g_thread_join (threads[i - 1]);
  blas_single_end ();

  g_cond_clear (&j.cond);
  g_mutex_clear (&j.lock);
}
