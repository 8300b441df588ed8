/* winograd.c — 3×3 convolution (stride 1, padding 1) by Winograd's minimal filtering
 * F(4×4, 3×3) (Lavin & Gray 2016).
 *
 * Each 4×4 block of output ("tile") is computed from the 6×6 input patch around it:
 *   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 * so that a 3×3 filter costs 36 multiplications per 16 outputs instead of 144.  Over the
 * channels, the 36 element-wise products become 36 matrix products,
 *   M[e] (cout × tiles) = U[e] (cout × cin) · V[e] (cin × tiles),   e = 0 … 35,
 * which OpenBLAS runs at full speed; the transforms in and out are O(channels · pixels).
 * Tiles are processed in bands of tile rows so that V and M stay a few MiB.  Each product
 * covers all output channels (one packing of V per element and band, and OpenBLAS's kernels
 * at their best shapes); the weights transformed for a call are made a group of elements at
 * a time, so that the call needs a few MiB of them rather than all 36 × cout × cin.
 *
 * The input gradient of the convolution is itself a 3×3 convolution of the output gradient
 * with the weights transposed (in ↔ out) and turned by 180°; the weight transform reads the
 * original weights in that order, so no second copy of the weights is needed.
 *
 * The work is split over the engine's threads (parallel.c) by channel for the transforms and
 * by element e for the 36 products, each a single-threaded sgemm: the result does not depend
 * on the thread count.
 *
 * The weight transform depends on the weights alone, so a caller that runs the same
 * convolution many times keeps it (ns_winograd_weights, conv-cache.c): the same values, and
 * the same products (shapes, operands, strides) as a call that transforms a group at a time,
 * so the result is the same bits either way.  Nothing here depends on how OpenBLAS sums a
 * product (its kernels' results depend on the product's shape: rows taken in blocks do not
 * give the bits of one product over all of them, docs/performance.md): both paths run the
 * same products.
 *
 * Accuracy: the transforms multiply by up to 5 (B), 8 (A) and 1/24 (G), so float32 round-off
 * is about ten times that of a direct sum; test-conv checks it against a double-precision
 * direct convolution and the PyTorch reference test checks whole VGG-19 gradients. */

#include <string.h>

#include <cblas.h>

#include "ns-internal.h"
#include "winograd-lanes.h"

/* Bytes of V and M per band (beyond which bands get more tile rows no longer pays off:
 * measured on VGG-19 layers, 16–64 MiB were equally fast and 4 MiB slower). */
#define NS_WINOGRAD_BAND_BYTES (24u << 20)

/* Bytes of transformed weights a call makes at once (a group of elements for all outputs),
 * when the caller does not keep them: kept per thread with V and M (below), so that they are
 * not mapped afresh (page faults cost as much as the transform).  12 MiB: two rows of the
 * 6 × 6 elements for 512 × 512 filters, three groups in all (with 8 MiB, five groups made
 * such a call 20–40% slower than one transform into blocks of outputs had been). */
#define NS_WINOGRAD_U_BYTES (12u << 20)

/* Floats between consecutive elements of V and M beyond their channels × tiles.  The
 * transforms read or write the 36 elements of a tile group at once (and prefetch them,
 * winograd-lanes.c); with channels × tiles a multiple of 4 KiB (most layers) all 36 lines
 * fell into the same sets of the L1 and L2 caches and evicted each other before use.  One
 * cache line more per element spreads them over 36 sets. */
#define NS_WINOGRAD_SKEW 16

/* Floats from one element of V (channels = n_in) or M (n_out) to the next, in a band. */
static gsize
elem_stride (int channels, gsize n_tiles)
{
  return (gsize) channels * n_tiles + NS_WINOGRAD_SKEW;
}

/* ---- the transforms, one channel at a time ---------------------------------------------- */

static const NsWinogradLanes *
lanes (void)
{
#ifdef NS_HAVE_X86_LANES
  switch (ns_simd_level ())
    {
    case NS_SIMD_AVX512: return &ns_winograd_lanes_avx512;
    case NS_SIMD_AVX2:   return &ns_winograd_lanes_avx2;
    default:             break;
    }
#endif
  return &ns_winograd_lanes_portable;
}

/* Row o of U[e] for the elements [e0, e1) (each n_out × n_in, written to u + (e − e0) · n_out
 * · n_in), U[e][o][i] = (G g Gᵀ)[e] for the filter from input i to output o.  weight is
 * [cout][cin][3][3]; for the adjoint n_in = cout and the filter from i to o is weight[i][o]
 * turned by 180° (tap k read at 8 − k). */
static void
weight_transform (const NsWinogradLanes *l, const float *weight, int cin, int cout,
                  gboolean adjoint, int e0, int e1, int o, float *u)
{
  int n_in = adjoint ? cout : cin, n_out = adjoint ? cin : cout;
  gsize stride = (gsize) n_out * n_in;

  for (int i = 0; i < n_in; i += LANES)
    {
      float *dst = u + (gsize) o * n_in + i;
      int n = MIN (LANES, n_in - i);

      if (adjoint)
        l->weight (weight + ((gsize) i * cin + o) * 9 + 8, (gsize) cin * 9, -1, n, e0, e1, dst,
                   stride);
      else
        l->weight (weight + ((gsize) o * cin + i) * 9, 9, 1, n, e0, e1, dst, stride);
    }
}

/* V[e][c][t] = (Bᵀ d B)[e] for the 6×6 patch d of tile t in channel c, for tile rows
 * [ty0, ty1) (tiles numbered row by row, tw per row).  pad holds six padded input rows
 * (4·tw + 2 floats each).  Rows and columns beyond the one padded on each side only feed
 * outputs past the edge, which are dropped: they stay zero. */
static void
input_transform (const NsWinogradLanes *l, const NsTensor *in, NsPadding padding, int c,
                 int ty0, int ty1, int tw, float *v, gsize n_tiles, gsize v_stride, float *pad)
{
  int h = in->h, w = in->w;
  gsize pad_w = (gsize) 4 * tw + 2;
  const float *plane = in->data + (gsize) c * h * w;

  for (int ty = ty0; ty < ty1; ty++)
    {
      const float *rows[6];
      gsize t0 = (gsize) (ty - ty0) * tw;

      for (int r = 0; r < 6; r++)
        {
          int y = 4 * ty - 1 + r;
          float *dst = pad + r * pad_w;

          const float *src = NULL;

          memset (dst, 0, pad_w * sizeof (float));
          if (y >= 0 && y < h)
            src = plane + (gsize) y * w;
          else if (padding != NS_PADDING_ZERO && y >= -1 && y <= h)
            src = plane + (gsize) ns_pad_index (y, h, padding) * w;
          if (src != NULL)
            {
              memcpy (dst + 1, src, w * sizeof (float));
              if (padding != NS_PADDING_ZERO)
                {
                  dst[0] = src[ns_pad_index (-1, w, padding)];
                  dst[w + 1] = src[ns_pad_index (w, w, padding)];
                }
            }
          rows[r] = dst;
        }
      for (int tx = 0; tx < tw; tx += LANES)
        {
          const float *lane_rows[6];

          for (int r = 0; r < 6; r++)
            lane_rows[r] = rows[r] + 4 * tx;
          l->input (lane_rows, MIN (LANES, tw - tx), v + (gsize) c * n_tiles + t0 + tx,
                    v_stride);
        }
    }
}

/* Output rows [4·ty0, min(4·ty1, h)) of channel k, Y = Aᵀ M A (+ bias), from M
 * (36 × channels × tiles, elements m_stride apart). */
static void
output_transform (const NsWinogradLanes *l, const float *m, gsize n_tiles, gsize m_stride,
                  int ty0, int ty1, int tw, int k, const float *bias, NsTensor *out,
                  float *strip)
{
  int h = out->h, w = out->w;
  gsize strip_w = (gsize) 4 * tw;
  float *plane = out->data + (gsize) k * h * w;
  const float *mk = m + (gsize) k * n_tiles;
  float b = bias != NULL ? bias[k] : 0.0f;

  for (int ty = ty0; ty < ty1; ty++)
    {
      gsize t0 = (gsize) (ty - ty0) * tw;
      int rows = MIN (4, h - 4 * ty);

      for (int tx = 0; tx < tw; tx += LANES)
        l->output (mk + t0 + tx, m_stride, MIN (LANES, tw - tx), b, strip + 4 * tx, strip_w);
      for (int i = 0; i < rows; i++)
        memcpy (plane + (gsize) (4 * ty + i) * w, strip + i * strip_w, w * sizeof (float));
    }
}

/* ---- the convolution ----------------------------------------------------------------------- */

/* U of all n_out outputs, 36 × n_out × n_in floats: U[e] is n_out rows of n_in. */
gsize
ns_winograd_weights_floats (int n_in, int n_out)
{
  return (gsize) N_ELEM * n_out * n_in;
}

/* Elements per group of U made by a call that does not keep it: as many as fit
 * NS_WINOGRAD_U_BYTES (all 36 for all but the widest layers, then made once per call), at
 * least one, whole rows of the 6 × 6 when there is room for one (a group reads the
 * weights and computes G g again, and each row's G g Gᵀ once). */
static int
elem_group (int n_in, int n_out)
{
  gsize per_elem = (gsize) n_out * n_in * sizeof (float);
  int group = (int) CLAMP (NS_WINOGRAD_U_BYTES / MAX (per_elem, 1), 1, N_ELEM);

  return group >= 6 ? group / 6 * 6 : group;
}

/* Tile rows per band, within NS_WINOGRAD_BAND_BYTES of V and M; max_band_rows > 0 caps it
 * (tests). */
static int
band_tile_rows (int n_in, int n_out, int th, int tw, int max_band_rows)
{
  return ns_band_rows (NS_WINOGRAD_BAND_BYTES,
                       (gsize) N_ELEM * (n_in + n_out) * tw * sizeof (float), th, max_band_rows);
}

gsize
ns_winograd_workspace_floats (int n_in, int n_out, int h, int w)
{
  int th = (h + 3) / 4, tw = (w + 3) / 4;
  int rows;

  if (th == 0 || tw == 0)
    return 0;
  rows = band_tile_rows (n_in, n_out, th, tw, 0);

  return (gsize) elem_group (n_in, n_out) * n_out * n_in    /* U */
         + (gsize) N_ELEM * ((n_in + n_out) * rows * tw + 2 * NS_WINOGRAD_SKEW) /* V, M */
         + (gsize) 6 * (4 * tw + 2) + (gsize) 4 * 4 * tw + 4 * LANES;
}

/* One call: what the loops over channels and elements share.  The band (ty0, ty1) and the
 * group of elements (e0, e1) are those being worked on. */
typedef struct
{
  const NsWinogradLanes *l;
  const float    *weight, *bias;
  int             cin, cout, n_in, n_out;
  gboolean        adjoint;
  NsPadding       padding;
  const NsTensor *in;
  NsTensor       *out;
  int             th, tw, n_workers;
  const float    *u;            /* U[e0] (kept, or u_group); U[e] follows n_out · n_in later */
  float          *u_group;      /* where weight_item writes the group's U */
  float          *v, *m;
  float          *scratch;      /* per worker: a padded input (6 rows) and an output strip */
  gsize           scratch_floats;
  int             ty0, ty1, e0, e1;
  gsize           n_tiles, v_stride, m_stride;   /* elements of V and M are a stride apart */
} Job;

static float *
job_pad (const Job *j, int worker)
{
  return j->scratch + (gsize) worker * j->scratch_floats;
}

static float *
job_strip (const Job *j, int worker)
{
  return job_pad (j, worker) + (gsize) 6 * (4 * j->tw + 2);
}

static void
weight_item (int o, int worker, gpointer data)
{
  const Job *j = data;

  weight_transform (j->l, j->weight, j->cin, j->cout, j->adjoint, j->e0, j->e1, o, j->u_group);
}

static void
input_item (int c, int worker, gpointer data)
{
  const Job *j = data;

  input_transform (j->l, j->in, j->padding, c, j->ty0, j->ty1, j->tw, j->v, j->n_tiles,
                   j->v_stride, job_pad (j, worker));
}

/* M[e] = U[e] · V[e] for e = e0 + item: every output at once, the same call whether U is
 * kept or made for this group. */
static void
product_item (int item, int worker, gpointer data)
{
  const Job *j = data;
  int e = j->e0 + item;

  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, j->n_out, (int) j->n_tiles, j->n_in,
               1.0f, j->u + (gsize) item * j->n_out * j->n_in, j->n_in,
               j->v + (gsize) e * j->v_stride, (int) j->n_tiles,
               0.0f, j->m + (gsize) e * j->m_stride, (int) j->n_tiles);
}

static void
output_item (int k, int worker, gpointer data)
{
  const Job *j = data;

  output_transform (j->l, j->m, j->n_tiles, j->m_stride, j->ty0, j->ty1, j->tw, k,
                    j->adjoint ? NULL : j->bias, j->out, job_strip (j, worker));
}

/* The transformed weights and data of a call (U, V, M: up to NS_WINOGRAD_U_BYTES +
 * NS_WINOGRAD_BAND_BYTES; no U when the caller keeps it), kept per calling thread from one
 * call to the next: allocated afresh they were mapped anew each time (they are above glibc's
 * mapping threshold), and the page faults of 30 MiB per convolution cost as much as the
 * transforms. */
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
  /* U of one group of elements, V and M of one band (each at least one tile row, which for
   * the largest crops is still far below the band budget). */
  return NS_WINOGRAD_U_BYTES + NS_WINOGRAD_BAND_BYTES
         + 2 * N_ELEM * NS_WINOGRAD_SKEW * sizeof (float) + 256;
}

/* Below this many multiply-adds a call runs on one thread: starting one costs more. */
#define NS_WINOGRAD_THREAD_MIN_MACS 20000000.0

/* What a call and ns_winograd_weights share: the convolution's shape and weights. */
static void
job_init (Job *j, const float *weight, int cin, int cout, gboolean adjoint)
{
  j->l = lanes ();
  j->weight = weight;
  j->cin = cin;
  j->cout = cout;
  j->n_in = adjoint ? cout : cin;
  j->n_out = adjoint ? cin : cout;
  j->adjoint = adjoint;
}

/* U[e] for e in [e0, e1) into j->u_group, over the threads (one item per output). */
static void
transform_group (Job *j, int e0, int e1, int n_workers)
{
  j->e0 = e0;
  j->e1 = e1;
  ns_parallel_for (j->n_out, n_workers, weight_item, j);
}

float *
ns_winograd_weights (const float *weight, int cin, int cout, gboolean adjoint)
{
  Job j = { 0 };
  gsize n;

  job_init (&j, weight, cin, cout, adjoint);
  n = ns_winograd_weights_floats (j.n_in, j.n_out);
  j.u_group = ns_floats_alloc (n);
  if (n > 0)
    transform_group (&j, 0, N_ELEM, ns_parallel_workers (j.n_out, (double) n * 9));
  return j.u_group;
}

void
ns_winograd_conv3x3 (const float *weight, const float *bias, int cin, int cout,
                     gboolean adjoint, const float *u, NsPadding padding,
                     const NsTensor *in, NsTensor *out,
                     int max_band_rows)
{
  Job j = { 0 };
  int rows, group;
  double macs;

  g_return_if_fail (in->c == (adjoint ? cout : cin) && out->c == (adjoint ? cin : cout));
  g_return_if_fail (out->h == in->h && out->w == in->w);
  if (in->h == 0 || in->w == 0 || out->c == 0)
    return;

  job_init (&j, weight, cin, cout, adjoint);
  j.bias = bias;
  j.padding = adjoint ? NS_PADDING_ZERO : padding;
  j.in = in;
  j.out = out;
  j.th = (in->h + 3) / 4;
  j.tw = (in->w + 3) / 4;
  /* The same bands with U kept or not, so that every product has the same shape and
   * operands: the same bits.  Without U, it is made a group of elements at a time. */
  group = u != NULL ? N_ELEM : elem_group (j.n_in, j.n_out);
  rows = band_tile_rows (j.n_in, j.n_out, j.th, j.tw, max_band_rows);
  {
    gsize nu = u != NULL ? 0 : (gsize) group * j.n_out * j.n_in;
    gsize nv = (gsize) N_ELEM * elem_stride (j.n_in, (gsize) rows * j.tw);
    gsize nm = (gsize) N_ELEM * elem_stride (j.n_out, (gsize) rows * j.tw);
    /* 16-float (64-byte) boundaries between the three. */
    gsize au = (nu + 15) / 16 * 16, av = (nv + 15) / 16 * 16;
    float *ws = workspace (au + av + nm);

    j.u_group = u != NULL ? NULL : ws;
    j.v = ws + au;
    j.m = j.v + av;
  }

  macs = (double) N_ELEM * j.n_in * j.n_out * j.th * j.tw;
  j.n_workers = macs < NS_WINOGRAD_THREAD_MIN_MACS ? 1 : ns_parallel_workers (N_ELEM, macs);
  j.scratch_floats = ((gsize) 6 * (4 * j.tw + 2) + (gsize) 4 * 4 * j.tw + 4 * LANES + 15) / 16 * 16;
  j.scratch = ns_floats_alloc (j.scratch_floats * j.n_workers);

  if (u == NULL && group == N_ELEM)
    transform_group (&j, 0, N_ELEM, j.n_workers);
  for (j.ty0 = 0; j.ty0 < j.th; j.ty0 += rows)
    {
      j.ty1 = MIN (j.th, j.ty0 + rows);
      j.n_tiles = (gsize) (j.ty1 - j.ty0) * j.tw;
      j.v_stride = elem_stride (j.n_in, j.n_tiles);
      j.m_stride = elem_stride (j.n_out, j.n_tiles);
      ns_parallel_for (j.n_in, j.n_workers, input_item, &j);
      for (int e0 = 0; e0 < N_ELEM; e0 += group)
        {
          int e1 = MIN (N_ELEM, e0 + group);

          if (u != NULL)
            j.u = u + (gsize) e0 * j.n_out * j.n_in;
          else
            {
              /* This group's U, made now unless it is the only one (made above). */
              if (group != N_ELEM)
                transform_group (&j, e0, e1, j.n_workers);
              j.u = j.u_group;
            }
          j.e0 = e0;
          j.e1 = e1;
          ns_parallel_for (e1 - e0, j.n_workers, product_item, &j);
        }
      ns_parallel_for (j.n_out, j.n_workers, output_item, &j);
    }
  ns_floats_free (j.scratch);
}
