/* test-conv.c — 3×3 convolution against a direct double-precision convolution, its
 * adjoint, and finite differences; small forced bands must give the same answer.  The
 * Winograd F(4×4, 3×3) kernel is checked the same way, directly and where conv.c picks it. */

#include <math.h>
#include <string.h>

#include <cblas.h>

#include "ns-internal.h"
#include "testutil.h"

static const int channel_counts[] = { 1, 3, 4, 17, 64 };
static const int sizes[][2] = { { 1, 1 }, { 1, 9 }, { 9, 1 }, { 7, 5 }, { 13, 11 } };   /* h, w */

/* Single-precision sums of K products of values in [-1, 1] are accurate to about
 * sqrt(K)·2⁻²⁴ of the sum of their magnitudes; 1e-5 of that sum leaves a wide margin
 * while still catching any wrong or missing tap. */
#define REL_TOL 1e-5

/* The padding make_conv gives its convolutions (the padding tests change it). */
static NsPadding padding_now = NS_PADDING_ZERO;

static NsConv
make_conv (int cin, int cout, guint32 seed)
{
  NsConv conv = { cin, cout, ns_floats_new ((gsize) cin * cout * 9), ns_floats_new (cout), NULL,
                  padding_now };

  ns_test_fill (conv.weight, (gsize) cin * cout * 9, seed, -1.0f, 1.0f);
  ns_test_fill (conv.bias, cout, seed + 1, -1.0f, 1.0f);
  ns_conv_prepare (&conv);
  return conv;
}

static NsTensor *
random_tensor (int c, int h, int w, guint32 seed)
{
  NsTensor *t = ns_tensor_new (c, h, w);

  ns_test_fill (t->data, ns_tensor_len (t), seed, -1.0f, 1.0f);
  return t;
}

static inline float
weight_at (const NsConv *conv, int co, int ci, int ky, int kx)
{
  return conv->weight[(((gsize) co * conv->cin + ci) * 3 + ky) * 3 + kx];
}

/* Where tap (sy, sx) reads, or FALSE for a zero: out-of-image taps of replicate and reflect
 * padding read the edge pixel or its neighbour, written here without ns_pad_index. */
static gboolean
tap_source (const NsConv *conv, int h, int w, int *sy, int *sx)
{
  gboolean reflect = conv->padding == NS_PADDING_REFLECT;
  int ry = reflect && h > 1, rx = reflect && w > 1;

  if (*sy >= 0 && *sy < h && *sx >= 0 && *sx < w)
    return TRUE;
  if (conv->padding == NS_PADDING_ZERO)
    return FALSE;
  *sy = *sy < 0 ? ry : *sy >= h ? h - 1 - ry : *sy;
  *sx = *sx < 0 ? rx : *sx >= w ? w - 1 - rx : *sx;
  return TRUE;
}

/* Direct convolution; scale[i] receives the sum of the magnitudes of the terms. */
static void
naive_forward (const NsConv *conv, const NsTensor *in, double *out, double *scale)
{
  int h = in->h, w = in->w;

  for (int co = 0; co < conv->cout; co++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          double s = conv->bias[co], a = fabs (conv->bias[co]);

          for (int ci = 0; ci < conv->cin; ci++)
            for (int ky = 0; ky < 3; ky++)
              for (int kx = 0; kx < 3; kx++)
                {
                  int sy = y + ky - 1, sx = x + kx - 1;
                  double term;

                  if (!tap_source (conv, h, w, &sy, &sx))
                    continue;
                  term = (double) weight_at (conv, co, ci, ky, kx)
                         * in->data[((gsize) ci * h + sy) * w + sx];
                  s += term;
                  a += fabs (term);
                }
          out[((gsize) co * h + y) * w + x] = s;
          scale[((gsize) co * h + y) * w + x] = a;
        }
}

/* The adjoint written as a scatter: output (y, x) of tap (ky, kx) read input
 * (y + ky − 1, x + kx − 1), so its gradient goes back there.  Independent of the
 * flipped-weight formulation used by the engine. */
static void
naive_backward (const NsConv *conv, const NsTensor *grad_out, double *grad_in, double *scale)
{
  int h = grad_out->h, w = grad_out->w;
  gsize n = (gsize) conv->cin * h * w;

  for (gsize i = 0; i < n; i++)
    grad_in[i] = scale[i] = 0.0;

  for (int co = 0; co < conv->cout; co++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          double g = grad_out->data[((gsize) co * h + y) * w + x];

          for (int ci = 0; ci < conv->cin; ci++)
            for (int ky = 0; ky < 3; ky++)
              for (int kx = 0; kx < 3; kx++)
                {
                  int sy = y + ky - 1, sx = x + kx - 1;
                  gsize i;
                  double term;

                  if (!tap_source (conv, h, w, &sy, &sx))
                    continue;
                  i = ((gsize) ci * h + sy) * w + sx;
                  term = g * weight_at (conv, co, ci, ky, kx);
                  grad_in[i] += term;
                  scale[i] += fabs (term);
                }
        }
}

/* Largest |got − ref| relative to the magnitude sum of the reference terms. */
static double
max_rel_error (const float *got, const double *ref, const double *scale, gsize n)
{
  double worst = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      double err = fabs (got[i] - ref[i]) / (scale[i] + 1e-30);

      if (isnan (got[i]))
        return INFINITY;
      worst = MAX (worst, err);
    }
  return worst;
}

/* Runs forward (and backward) at band limit `band` (0 = engine default) and checks
 * both against the direct versions. */
static void
check_case (int cin, int cout, int h, int w, int band, guint32 seed)
{
  NsConv conv = make_conv (cin, cout, seed);
  g_autoptr (NsTensor) in = random_tensor (cin, h, w, seed + 10);
  g_autoptr (NsTensor) out = ns_tensor_new (cout, h, w);
  g_autoptr (NsTensor) grad_out = random_tensor (cout, h, w, seed + 20);
  g_autoptr (NsTensor) grad_in = ns_tensor_new (cin, h, w);
  gsize n_out = ns_tensor_len (out), n_in = ns_tensor_len (in);
  g_autofree double *ref = g_new (double, MAX (n_out, n_in));
  g_autofree double *scale = g_new (double, MAX (n_out, n_in));
  double err;

  /* Garbage in the outputs must be overwritten, not accumulated into. */
  ns_test_fill (out->data, n_out, seed + 30, 100.0f, 200.0f);
  ns_test_fill (grad_in->data, n_in, seed + 31, 100.0f, 200.0f);

  ns_conv3x3_forward_banded (&conv, NULL, in, out, band);
  naive_forward (&conv, in, ref, scale);
  err = max_rel_error (out->data, ref, scale, n_out);
  if (err > REL_TOL)
    g_test_message ("forward %d->%d at %dx%d, band %d: error %g", cin, cout, h, w, band, err);
  g_assert_cmpfloat (err, <=, REL_TOL);

  ns_conv3x3_backward_input_banded (&conv, NULL, grad_out, grad_in, band);
  naive_backward (&conv, grad_out, ref, scale);
  err = max_rel_error (grad_in->data, ref, scale, n_in);
  if (err > REL_TOL)
    g_test_message ("backward %d->%d at %dx%d, band %d: error %g", cin, cout, h, w, band, err);
  g_assert_cmpfloat (err, <=, REL_TOL);

  ns_conv_clear (&conv);
}

static void
test_against_direct (void)
{
  guint32 seed = 1;

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (guint i = 0; i < G_N_ELEMENTS (channel_counts); i++)
      for (guint o = 0; o < G_N_ELEMENTS (channel_counts); o++)
        check_case (channel_counts[i], channel_counts[o], sizes[s][0], sizes[s][1], 0, seed += 100);
}

/* Bands of 1, 2, 3 … rows, including sizes that do not divide the height, in both the
 * transposed-convolution and the col2im (few input channels) backward paths. */
static void
test_forced_bands (void)
{
  static const int pairs[][2] = { { 3, 4 }, { 1, 17 }, { 17, 5 }, { 64, 64 } };
  static const int bands[] = { 1, 2, 3, 4, 6, 12, 13, 100 };
  guint32 seed = 7;

  for (guint p = 0; p < G_N_ELEMENTS (pairs); p++)
    for (guint b = 0; b < G_N_ELEMENTS (bands); b++)
      {
        check_case (pairs[p][0], pairs[p][1], 13, 11, bands[b], seed += 100);
        check_case (pairs[p][0], pairs[p][1], 9, 1, bands[b], seed += 100);
      }
}

/* Wide enough that the engine's own memory budget splits the image into several bands. */
static void
test_budget_bands (void)
{
  check_case (64, 3, 24, 600, 0, 4242);
}

/* Winograd F(4×4, 3×3) directly, at sizes that are not multiples of the 4×4 tile, channel
 * counts that are not multiples of its 16-tile lanes, and forced bands of 1–3 tile rows;
 * its transforms scale values by up to 8 and 1/24, so round-off is about ten times that of
 * a direct sum (measured up to 3e-6 here): WINOGRAD_TOL, far below the effect of a wrong or
 * missing tap (order 1). */
#define WINOGRAD_TOL 3e-5

/* With the weights transformed beforehand (ns_winograd_weights, as conv-cache.c keeps
 * them), the call gives `expected` to the last bit: the same U, the same products (each over
 * all outputs, whether the call made U in groups of elements or not), in the same bands. */
static void
check_kept_weights (const NsConv *conv, gboolean adjoint, const NsTensor *in,
                    const NsTensor *expected, int band)
{
  float *u = ns_winograd_weights (conv->weight, conv->cin, conv->cout, adjoint);
  g_autoptr (NsTensor) out = ns_tensor_new_like (expected);

  ns_test_fill (out->data, ns_tensor_len (out), 77, 100.0f, 200.0f);
  ns_winograd_conv3x3 (conv->weight, adjoint ? NULL : conv->bias, conv->cin, conv->cout,
                       adjoint, u, NS_PADDING_ZERO, in, out, band);
  g_assert_cmpmem (out->data, ns_tensor_len (out) * sizeof (float), expected->data,
                   ns_tensor_len (expected) * sizeof (float));
  ns_floats_free (u);
}

static void
check_winograd (int cin, int cout, int h, int w, int band, guint32 seed)
{
  NsConv conv = make_conv (cin, cout, seed);
  g_autoptr (NsTensor) in = random_tensor (cin, h, w, seed + 10);
  g_autoptr (NsTensor) out = ns_tensor_new (cout, h, w);
  g_autoptr (NsTensor) grad_out = random_tensor (cout, h, w, seed + 20);
  g_autoptr (NsTensor) grad_in = ns_tensor_new (cin, h, w);
  gsize n_out = ns_tensor_len (out), n_in = ns_tensor_len (in);
  g_autofree double *ref = g_new (double, MAX (n_out, n_in));
  g_autofree double *scale = g_new (double, MAX (n_out, n_in));
  double err;

  ns_test_fill (out->data, n_out, seed + 30, 100.0f, 200.0f);
  ns_test_fill (grad_in->data, n_in, seed + 31, 100.0f, 200.0f);

  ns_winograd_conv3x3 (conv.weight, conv.bias, cin, cout, FALSE, NULL, NS_PADDING_ZERO, in, out,
                       band);
  naive_forward (&conv, in, ref, scale);
  err = max_rel_error (out->data, ref, scale, n_out);
  g_test_message ("winograd forward %d->%d at %dx%d, band %d: error %g", cin, cout, h, w, band, err);
  g_assert_cmpfloat (err, <=, WINOGRAD_TOL);
  check_kept_weights (&conv, FALSE, in, out, band);

  ns_winograd_conv3x3 (conv.weight, NULL, cin, cout, TRUE, NULL, NS_PADDING_ZERO, grad_out,
                       grad_in, band);
  naive_backward (&conv, grad_out, ref, scale);
  err = max_rel_error (grad_in->data, ref, scale, n_in);
  g_test_message ("winograd adjoint %d->%d at %dx%d, band %d: error %g", cin, cout, h, w, band, err);
  g_assert_cmpfloat (err, <=, WINOGRAD_TOL);
  check_kept_weights (&conv, TRUE, grad_out, grad_in, band);

  ns_conv_clear (&conv);
}

static void
test_winograd (void)
{
  static const int cases[][5] = {      /* cin, cout, h, w, band */
    { 1, 1, 1, 1, 0 }, { 3, 5, 4, 4, 0 }, { 2, 17, 5, 7, 0 }, { 17, 2, 9, 6, 0 },
    { 16, 16, 13, 11, 1 }, { 5, 33, 23, 70, 0 }, { 33, 5, 23, 70, 2 }, { 20, 24, 31, 9, 3 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    check_winograd (cases[c][0], cases[c][1], cases[c][2], cases[c][3], cases[c][4], 500 + 50 * c);
}

/* Large enough for conv.c to choose Winograd (≥ 16 channels, ≥ 24×24 pixels), and wide
 * enough in channels that a call transforms the weights in several groups of elements (over
 * 12 MiB for all 36): still the same bits as with the weights kept (check_kept_weights). */
static void
test_winograd_dispatch (void)
{
  check_case (16, 24, 26, 29, 0, 8000);
  /* Large enough to be split over threads. */
  check_winograd (600, 64, 24, 24, 0, 8100);
  check_winograd (64, 600, 24, 25, 2, 8200);
  /* 384 × 256 filters: groups of 30 and 6 elements; 512 × 512: three groups of 12. */
  check_winograd (384, 256, 12, 13, 0, 8300);
  check_winograd (256, 384, 9, 30, 1, 8400);
  check_winograd (512, 512, 8, 8, 0, 8500);
  /* The engine splits the work itself: OpenBLAS stays on one thread. */
  g_assert_cmpint (openblas_get_num_threads (), ==, 1);
}

/* ---- the same bits on every path ----------------------------------------------------------- */

typedef struct
{
  NsTensor *out, *grad_in;
} Results;

static Results
conv_both_ways (const NsConv *conv, const NsTensor *in, const NsTensor *grad_out)
{
  Results r = { ns_tensor_new (conv->cout, in->h, in->w), ns_tensor_new (conv->cin, in->h, in->w) };

  ns_conv3x3_forward (conv, NULL, in, r.out);
  ns_conv3x3_backward_input (conv, NULL, grad_out, r.grad_in);
  return r;
}

static void
assert_same_tensor (const NsTensor *a, const NsTensor *b)
{
  g_assert_cmpmem (a->data, ns_tensor_len (a) * sizeof (float), b->data,
                   ns_tensor_len (b) * sizeof (float));
}

/* Every vector path of the engine (simd.c) and every thread count give the portable,
 * single-threaded result to the last bit: Winograd (both directions, its weights transformed
 * per call, in one group of elements or two, or beforehand), im2col with and without
 * col2im, wide enough to be split into several blocks and bands. */
static void
test_same_bits (void)
{
  static const int cases[][4] = {      /* cin, cout, h, w */
    { 20, 40, 37, 70 }, { 3, 64, 50, 41 }, { 64, 96, 12, 12 }, { 600, 32, 24, 26 },
    { 600, 64, 24, 24 }, { 320, 288, 24, 25 },
  };
  static const int threads[] = { 1, 2, 3, 8 };
  NsSimd native = ns_simd_level ();

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      NsConv conv = make_conv (cases[c][0], cases[c][1], 4000 + c);
      g_autoptr (NsTensor) in = random_tensor (cases[c][0], cases[c][2], cases[c][3], 4100 + c);
      g_autoptr (NsTensor) grad_out = random_tensor (cases[c][1], cases[c][2], cases[c][3], 4200 + c);
      Results ref;

      ns_simd_override (NS_SIMD_PORTABLE);
      ns_parallel_set_threads (1);
      ref = conv_both_ways (&conv, in, grad_out);
      for (int level = NS_SIMD_PORTABLE; level <= NS_SIMD_AVX512; level++)
        for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
          {
            Results r;

            ns_simd_override ((NsSimd) level);
            ns_parallel_set_threads (threads[t]);
            r = conv_both_ways (&conv, in, grad_out);
            g_test_message ("%d->%d at %dx%d: vector path %d (asked %d), %d threads",
                            cases[c][0], cases[c][1], cases[c][2], cases[c][3],
                            ns_simd_level (), level, threads[t]);
            assert_same_tensor (r.out, ref.out);
            assert_same_tensor (r.grad_in, ref.grad_in);
            /* And with Winograd's weights transformed beforehand, on this path. */
            for (int adjoint = 0; adjoint <= 1; adjoint++)
              if (ns_conv_uses_winograd (&conv, adjoint, in->h, in->w))
                check_kept_weights (&conv, adjoint, adjoint ? grad_out : in,
                                    adjoint ? ref.grad_in : ref.out, 0);
            ns_tensor_free (r.out);
            ns_tensor_free (r.grad_in);
          }
      ns_tensor_free (ref.out);
      ns_tensor_free (ref.grad_in);
      ns_conv_clear (&conv);
    }
  ns_simd_override (native);
  ns_parallel_set_threads (0);
}

/* ns_sgemm cuts C into blocks fixed by the shape: any thread count gives the same bits, and
 * the values are C + alpha·op(A)·B to float round-off (against double, on a sample). */
static void
test_sgemm_threads (void)
{
  static const int shapes[][4] = {      /* trans_a, m, n, k */
    { 0, 64, 4096, 27 }, { 0, 512, 300, 512 }, { 1, 27, 5000, 64 }, { 0, 7, 3, 5 },
  };

  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int ta = shapes[s][0], m = shapes[s][1], n = shapes[s][2], k = shapes[s][3];
      gsize mn = (gsize) m * n;
      g_autofree float *a = g_new (float, (gsize) m * k);
      g_autofree float *b = g_new (float, (gsize) k * n);
      g_autofree float *c0 = g_new (float, mn);
      g_autofree float *c1 = g_new (float, mn);
      g_autofree float *c3 = g_new (float, mn);
      double worst = 0.0;

      ns_test_fill (a, (gsize) m * k, 60 + s, -1.0f, 1.0f);
      ns_test_fill (b, (gsize) k * n, 70 + s, -1.0f, 1.0f);
      ns_test_fill (c0, mn, 80 + s, -1.0f, 1.0f);
      memcpy (c1, c0, mn * sizeof (float));
      memcpy (c3, c0, mn * sizeof (float));
      ns_parallel_set_threads (1);
      ns_sgemm (ta, m, n, k, 0.5f, a, ta ? m : k, b, n, 1.0f, c1, n);
      ns_parallel_set_threads (3);
      ns_sgemm (ta, m, n, k, 0.5f, a, ta ? m : k, b, n, 1.0f, c3, n);
      g_assert_cmpmem (c1, mn * sizeof (float), c3, mn * sizeof (float));

      for (int i = 0; i < m; i += 1 + m / 7)
        for (int j = 0; j < n; j += 1 + n / 11)
          {
            double ref = c0[(gsize) i * n + j], mag = fabs (ref);

            for (int p = 0; p < k; p++)
              {
                double x = ta ? a[(gsize) p * m + i] : a[(gsize) i * k + p];

                ref += 0.5 * x * b[(gsize) p * n + j];
                mag += fabs (0.5 * x * b[(gsize) p * n + j]);
              }
            worst = MAX (worst, fabs (c3[(gsize) i * n + j] - ref) / mag);
          }
      g_test_message ("sgemm %s %dx%dx%d: error %g", ta ? "Aᵀ" : "A", m, n, k, worst);
      g_assert_cmpfloat (worst, <=, 1e-6);
    }
  ns_parallel_set_threads (0);
}

typedef struct
{
  NsConv    conv;
  NsTensor *in, *out, *r, *grad_in;
  int       band;
} GradData;

/* L(x) = Σ r · conv(x), in double. */
static double
conv_objective (const float *x, float *grad, gpointer user_data)
{
  GradData *d = user_data;
  gsize n_out = ns_tensor_len (d->out);
  double loss = 0.0;

  memcpy (d->in->data, x, ns_tensor_len (d->in) * sizeof (float));
  ns_conv3x3_forward_banded (&d->conv, NULL, d->in, d->out, d->band);
  for (gsize i = 0; i < n_out; i++)
    loss += (double) d->r->data[i] * d->out->data[i];

  if (grad != NULL)
    {
      ns_conv3x3_backward_input_banded (&d->conv, NULL, d->r, d->grad_in, d->band);
      memcpy (grad, d->grad_in->data, ns_tensor_len (d->grad_in) * sizeof (float));
    }
  return loss;
}

/* The input gradient of one convolution (cin, cout, h, w, band; padding_now) against finite
 * differences; seeds seed, seed + 50, seed + 70, seed + 90. */
static void
check_gradient (const int *k, guint seed)
{
  int cin = k[0], cout = k[1], h = k[2], w = k[3];
  GradData d = { make_conv (cin, cout, seed), NULL, NULL, NULL, NULL, k[4] };
  g_autoptr (NsTensor) x = random_tensor (cin, h, w, seed + 50);
  double err;

  d.in = ns_tensor_new (cin, h, w);
  d.out = ns_tensor_new (cout, h, w);
  d.r = random_tensor (cout, h, w, seed + 70);
  d.grad_in = ns_tensor_new (cin, h, w);

  /* L is linear in x, so a large step has no truncation error and keeps the
   * difference far above the single-precision noise of the forward pass. */
  err = ns_test_gradcheck (conv_objective, &d, x->data, ns_tensor_len (x), 0.5, 60, seed + 90);
  g_test_message ("padding %d gradcheck %d->%d at %dx%d: error %g", padding_now, cin, cout, h,
                  w, err);
  g_assert_cmpfloat (err, <=, 1e-3);

  ns_tensor_free (d.in);
  ns_tensor_free (d.out);
  ns_tensor_free (d.r);
  ns_tensor_free (d.grad_in);
  ns_conv_clear (&d.conv);
}

static void
test_gradcheck (void)
{
  static const int cases[][5] = {      /* cin, cout, h, w, band */
    { 3, 4, 7, 5, 0 }, { 3, 4, 7, 5, 2 }, { 17, 5, 6, 9, 0 }, { 17, 5, 6, 9, 1 },
    { 64, 3, 5, 4, 0 }, { 4, 64, 1, 8, 0 }, { 5, 6, 8, 1, 3 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    check_gradient (cases[c], 900 + c);
}

/* Replicate and reflect padding on every path against the direct versions: im2col and
 * col2im (few channels), the transposed convolution and Winograd forward with the folded
 * input gradient (many), single-pixel rows and columns (reflect falls back to replicate),
 * forced bands; and the input gradient against finite differences, at the borders too. */
static void
test_padding (void)
{
  static const int cases[][5] = {      /* cin, cout, h, w, band */
    { 3, 4, 7, 5, 0 }, { 3, 64, 13, 11, 2 }, { 1, 17, 9, 1, 0 }, { 17, 5, 1, 9, 0 },
    { 17, 5, 6, 9, 1 }, { 64, 64, 13, 11, 3 }, { 16, 24, 26, 29, 0 }, { 24, 20, 29, 26, 2 },
    { 33, 5, 23, 70, 0 }, { 5, 33, 2, 2, 0 },
  };
  static const int grad_cases[][5] = {  /* cin, cout, h, w, band */
    { 3, 4, 7, 5, 0 }, { 17, 5, 6, 9, 1 }, { 4, 64, 1, 8, 0 }, { 20, 24, 25, 24, 0 },
  };

  for (NsPadding p = NS_PADDING_REPLICATE; p <= NS_PADDING_REFLECT; p++)
    {
      padding_now = p;
      for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
        check_case (cases[c][0], cases[c][1], cases[c][2], cases[c][3], cases[c][4],
                    3000 + 10 * c + p);
      for (guint c = 0; c < G_N_ELEMENTS (grad_cases); c++)
        check_gradient (grad_cases[c], 3500 + c);
    }
  padding_now = NS_PADDING_ZERO;
}

/* The padding makes a difference, and only at the border: replicate padding of a constant
 * image gives every pixel the interior's response. */
static void
test_padding_constant (void)
{
  NsConv conv;
  g_autoptr (NsTensor) in = ns_tensor_new (20, 30, 27);
  g_autoptr (NsTensor) zero = ns_tensor_new (24, 30, 27);
  g_autoptr (NsTensor) rep = ns_tensor_new (24, 30, 27);
  gsize hw = 30 * 27;

  conv = make_conv (20, 24, 3900);
  for (gsize i = 0; i < ns_tensor_len (in); i++)
    in->data[i] = 0.5f;
  ns_conv3x3_forward (&conv, NULL, in, zero);
  conv.padding = NS_PADDING_REPLICATE;
  ns_conv3x3_forward (&conv, NULL, in, rep);
  for (int c = 0; c < 24; c++)
    {
      float centre = zero->data[c * hw + 15 * 27 + 13];

      g_assert_cmpfloat (fabsf (zero->data[c * hw] - centre), >, 1e-4);
      for (gsize i = 0; i < hw; i++)
        g_assert_cmpfloat (fabsf (rep->data[c * hw + i] - centre), <=, 1e-4);
    }
  ns_conv_clear (&conv);
}

/* weight_t must hold the transposed, 180°-rotated kernels. */
static void
test_prepare_layout (void)
{
  NsConv conv = make_conv (3, 5, 77);

  for (int co = 0; co < 5; co++)
    for (int ci = 0; ci < 3; ci++)
      for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
          g_assert_cmpfloat (conv.weight_t[((ci * 5 + co) * 3 + (2 - ky)) * 3 + (2 - kx)], ==,
                             weight_at (&conv, co, ci, ky, kx));
  ns_conv_clear (&conv);
  g_assert_null (conv.weight);
  g_assert_null (conv.bias);
  g_assert_null (conv.weight_t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/conv/prepare-layout", test_prepare_layout);
  g_test_add_func ("/conv/against-direct", test_against_direct);
  g_test_add_func ("/conv/forced-bands", test_forced_bands);
  g_test_add_func ("/conv/budget-bands", test_budget_bands);
  g_test_add_func ("/conv/gradcheck", test_gradcheck);
  g_test_add_func ("/conv/winograd", test_winograd);
  g_test_add_func ("/conv/winograd-dispatch", test_winograd_dispatch);
  g_test_add_func ("/conv/same-bits", test_same_bits);
  g_test_add_func ("/conv/sgemm-threads", test_sgemm_threads);
  g_test_add_func ("/conv/padding", test_padding);
  g_test_add_func ("/conv/padding-constant", test_padding_constant);

  return g_test_run ();
}
