/* test-upsample.c — guided upsampling (engine/upsample.c) against a naive double-precision
 * reference written out here (direct window sums, a 3×3 solve by Gaussian elimination,
 * explicit linear or cubic B-spline interpolation between pixel centres), and its defining
 * properties:
 * identity, constants and affine colour maps are reproduced at full size; the same bits at
 * any thread count; degenerate sizes. */
#include <math.h>
#include <string.h>

#include "ns-internal.h"
#include "testutil.h"

static NsImage *
random_image (int w, int h, int ch, guint32 seed)
{
  NsImage *img = ns_image_new (w, h, ch);

  ns_test_fill (img->data, (gsize) w * h * ch, seed, 0.0f, 1.0f);
  return img;
}

/* A result that depends on the content (so A is far from 0) plus noise of its own. */
static NsImage *
stylized (const NsImage *content, int channels, guint32 seed)
{
  NsImage *r = random_image (content->width, content->height, channels, seed);
  gsize n = (gsize) content->width * content->height;

  for (gsize i = 0; i < n; i++)
    for (int m = 0; m < channels; m++)
      {
        const float *c = content->data + i * content->channels;
        float luma = content->channels == 3 ? 0.2f * c[0] + 0.5f * c[1] + 0.3f * c[2] : c[0];

        r->data[i * channels + m] = 0.6f * (m == 1 ? 1.0f - luma : luma) + 0.4f * r->data[i * channels + m];
      }
  return r;
}

static double
max_abs_diff (const float *a, const float *b, gsize n)
{
  double worst = 0.0;

  for (gsize i = 0; i < n; i++)
    worst = MAX (worst, fabs ((double) a[i] - b[i]));
  return worst;
}

/* ---- the reference ------------------------------------------------------------------------------ */

/* Solves s·x = v (n × n, n ≤ 3) by Gaussian elimination with partial pivoting. */
static void
solve (int n, double s[3][3], double v[3], double x[3])
{
  for (int col = 0; col < n; col++)
    {
      int piv = col;

      for (int row = col + 1; row < n; row++)
        if (fabs (s[row][col]) > fabs (s[piv][col]))
          piv = row;
      for (int j = 0; j < n; j++)
        {
          double t = s[col][j];
          s[col][j] = s[piv][j];
          s[piv][j] = t;
        }
      {
        double t = v[col];
        v[col] = v[piv];
        v[piv] = t;
      }
      for (int row = col + 1; row < n; row++)
        {
          double f = s[row][col] / s[col][col];

          for (int j = col; j < n; j++)
            s[row][j] -= f * s[col][j];
          v[row] -= f * v[col];
        }
    }
  for (int row = n - 1; row >= 0; row--)
    {
      double t = v[row];

      for (int j = row + 1; j < n; j++)
        t -= s[row][j] * x[j];
      x[row] = t / s[row][row];
    }
}

static double
at (const NsImage *img, int x, int y, int c)
{
  return img->data[((gsize) y * img->width + x) * img->channels + c];
}

/* Coefficients per small pixel: for result channel m, A[m][0..g) then b[m]. */
static double *
reference_coefficients (const NsImage *r, const NsImage *c, int rad, double eps,
                        gboolean residual)
{
  int w = c->width, h = c->height, g = c->channels, k = r->channels, nc = k * (g + 1);
  double *coef = g_new0 (double, (gsize) w * h * nc);
  double *mean = g_new0 (double, (gsize) w * h * nc);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        double mi[3] = { 0 }, mp[3] = { 0 }, mii[3][3] = { { 0 } }, mip[3][3] = { { 0 } };
        int n = 0;

        for (int yy = MAX (0, y - rad); yy <= MIN (h - 1, y + rad); yy++)
          for (int xx = MAX (0, x - rad); xx <= MIN (w - 1, x + rad); xx++, n++)
            for (int j = 0; j < g; j++)
              {
                mi[j] += at (c, xx, yy, j);
                for (int l = 0; l < g; l++)
                  mii[j][l] += at (c, xx, yy, j) * at (c, xx, yy, l);
                for (int m = 0; m < k; m++)
                  mip[m][j] += at (c, xx, yy, j) * at (r, xx, yy, m);
              }
        for (int yy = MAX (0, y - rad); yy <= MIN (h - 1, y + rad); yy++)
          for (int xx = MAX (0, x - rad); xx <= MIN (w - 1, x + rad); xx++)
            for (int m = 0; m < k; m++)
              mp[m] += at (r, xx, yy, m);
        for (int j = 0; j < 3; j++)
          {
            mi[j] /= n;
            mp[j] /= n;
          }
        for (int m = 0; m < k; m++)
          {
            double s[3][3], v[3], a[3];
            double *out = coef + ((gsize) y * w + x) * nc + m * (g + 1);

            for (int j = 0; j < g; j++)
              {
                for (int l = 0; l < g; l++)
                  s[j][l] = mii[j][l] / n - mi[j] * mi[l] + (j == l ? eps : 0.0);
                v[j] = mip[m][j] / n - mi[j] * mp[m];
              }
            solve (g, s, v, a);
            out[g] = mp[m];
            for (int j = 0; j < g; j++)
              {
                out[j] = a[j];
                out[g] -= a[j] * mi[j];
              }
          }
      }

  /* Every pixel takes the mean of the models of the windows that cover it. */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        double *dst = mean + ((gsize) y * w + x) * nc;
        int n = 0;

        for (int yy = MAX (0, y - rad); yy <= MIN (h - 1, y + rad); yy++)
          for (int xx = MAX (0, x - rad); xx <= MIN (w - 1, x + rad); xx++, n++)
            for (int j = 0; j < nc; j++)
              dst[j] += coef[((gsize) yy * w + xx) * nc + j];
        for (int j = 0; j < nc; j++)
          dst[j] /= n;
        if (residual)
          for (int m = 0; m < k; m++)
            {
              double *a = dst + m * (g + 1);

              a[g] = at (r, x, y, m);
              for (int j = 0; j < g; j++)
                a[g] -= a[j] * at (c, x, y, j);
            }
      }
  g_free (coef);
  return mean;
}

static int
reflect (int k, int n)
{
  while (k < 0 || k >= n)
    k = k < 0 ? -k : 2 * (n - 1) - k;
  return n == 1 ? 0 : k;
}

/* Pixel centres aligned: output o samples s = (o + ½)·in/out − ½.  Linear: the two pixels
 * around s, clamped at the edges (at the same size, the pixel itself).  Smooth, when
 * enlarging: the cubic B-spline's four pixels around s, mirrored at the edges.  Returns the
 * number of taps. */
static int
reference_taps (int o, int in, int out, gboolean smooth, int idx[4], double wt[4])
{
  double s = (o + 0.5) * in / out - 0.5, u;
  int i;

  if (! smooth || out <= in)
    {
      s = CLAMP (s, 0.0, in - 1.0);
      idx[0] = (int) floor (s);
      idx[1] = MIN (idx[0] + 1, in - 1);
      wt[1] = s - idx[0];
      wt[0] = 1.0 - wt[1];
      return 2;
    }
  i = (int) floor (s);
  u = s - i;
  for (int k = 0; k < 4; k++)
    idx[k] = in == 1 ? 0 : reflect (i - 1 + k, in);
  wt[0] = pow (1 - u, 3) / 6;
  wt[1] = (3 * pow (u, 3) - 6 * u * u + 4) / 6;
  wt[2] = (-3 * pow (u, 3) + 3 * u * u + 3 * u + 1) / 6;
  wt[3] = pow (u, 3) / 6;
  return 4;
}

/* The B-spline coefficients c of one line of n values f (stride apart), in place: the
 * solution of (c[k−1] + 4 c[k] + c[k+1]) / 6 = f[k], mirrored at the ends, by Gaussian
 * elimination on the whole n × n system. */
static void
reference_prefilter (double *f, int n, gsize stride)
{
  g_autofree double *m = g_new0 (double, (gsize) n * n);
  g_autofree double *b = g_new (double, n);

  if (n < 2)
    return;
  for (int k = 0; k < n; k++)
    {
      m[(gsize) k * n + reflect (k - 1, n)] += 1.0 / 6;
      m[(gsize) k * n + k] += 4.0 / 6;
      m[(gsize) k * n + reflect (k + 1, n)] += 1.0 / 6;
      b[k] = f[k * stride];
    }
  for (int col = 0; col < n; col++)
    for (int row = col + 1; row < n; row++)
      {
        double q = m[(gsize) row * n + col] / m[(gsize) col * n + col];

        for (int j = col; j < n; j++)
          m[(gsize) row * n + j] -= q * m[(gsize) col * n + j];
        b[row] -= q * b[col];
      }
  for (int row = n - 1; row >= 0; row--)
    {
      double v = b[row];

      for (int j = row + 1; j < n; j++)
        v -= m[(gsize) row * n + j] * f[j * stride];
      f[row * stride] = v / m[(gsize) row * n + row];
    }
}

static double *
reference_upsample (const NsImage *r, const NsImage *c, const NsImage *hi, int rad, double eps,
                    gboolean residual, gboolean smooth)
{
  int w = c->width, h = c->height, g = c->channels, k = r->channels, nc = k * (g + 1);
  int W = hi->width, H = hi->height;
  g_autofree double *coef = reference_coefficients (r, c, rad, eps, residual);
  double *out = g_new (double, (gsize) W * H * k);

  for (int y = 0; smooth && W > w && y < h; y++)
    for (int j = 0; j < nc; j++)
      reference_prefilter (coef + (gsize) y * w * nc + j, w, nc);
  for (int x = 0; smooth && H > h && x < w; x++)
    for (int j = 0; j < nc; j++)
      reference_prefilter (coef + (gsize) x * nc + j, h, (gsize) w * nc);

  for (int Y = 0; Y < H; Y++)
    for (int X = 0; X < W; X++)
      {
        int xi[4], yi[4];
        double xw[4], yw[4];
        int nx = reference_taps (X, w, W, smooth, xi, xw);
        int ny = reference_taps (Y, h, H, smooth, yi, yw);

        for (int m = 0; m < k; m++)
          {
            double q = 0.0;

            for (int j = 0; j <= g; j++)
              {
                int i = m * (g + 1) + j;
                double v = 0.0;

                for (int b = 0; b < ny; b++)
                  for (int a = 0; a < nx; a++)
                    v += yw[b] * xw[a] * coef[((gsize) yi[b] * w + xi[a]) * nc + i];
                q += j < g ? v * at (hi, X, Y, j) : v;
              }
            out[((gsize) Y * W + X) * k + m] = CLAMP (q, 0.0, 1.0);
          }
      }
  return out;
}

/* ---- tests ---------------------------------------------------------------------------------------- */

static void
test_reference (void)
{
  static const struct { int g, k, w, h, W, H, r; double eps; } cases[] = {
    { 3, 3, 13, 9, 40, 31, 2, 1e-3 },
    { 3, 3, 11, 14, 23, 29, 1, 1e-2 },
    { 3, 3, 9, 7, 9, 7, 2, 1e-4 },        /* same size */
    { 1, 1, 12, 10, 37, 33, 2, 1e-3 },
    { 1, 3, 10, 11, 31, 25, 3, 1e-3 },
    { 3, 1, 8, 13, 27, 40, 1, 1e-3 },
    { 3, 3, 4, 3, 17, 11, 4, 1e-3 },      /* windows larger than the image */
  };
  double worst = 0.0;

  for (guint t = 0; t < G_N_ELEMENTS (cases); t++)
    for (int mode = 0; mode < 4; mode++)
      {
        gboolean residual = mode & 1, smooth = mode >> 1;
        g_autoptr (NsImage) hi = random_image (cases[t].W, cases[t].H, cases[t].g, 10 + t);
        g_autoptr (NsImage) lo = ns_image_resize (hi, cases[t].w, cases[t].h);
        g_autoptr (NsImage) r = stylized (lo, cases[t].k, 30 + t);
        g_autoptr (NsImage) out = NULL;
        g_autofree double *ref = NULL;
        g_autoptr (GError) error = NULL;
        NsUpsampleParams p;
        gsize n = (gsize) cases[t].W * cases[t].H * cases[t].k;
        double diff = 0.0, spread = 0.0;

        ns_upsample_params_init (&p);
        p.radius = cases[t].r;
        p.eps = cases[t].eps;
        p.residual = residual;
        p.smooth = smooth;
        out = ns_upsample_guided (r, lo, hi, &p, &error);
        g_assert_no_error (error);
        g_assert_cmpint (out->width, ==, cases[t].W);
        g_assert_cmpint (out->height, ==, cases[t].H);
        g_assert_cmpint (out->channels, ==, cases[t].k);
        ref = reference_upsample (r, lo, hi, cases[t].r, cases[t].eps, residual, smooth);
        for (gsize i = 0; i < n; i++)
          {
            diff = MAX (diff, fabs (out->data[i] - ref[i]));
            spread = MAX (spread, fabs (ref[i] - ref[0]));
          }
        g_test_message ("case %u%s%s: max |engine − reference| = %.2g", t,
                        residual ? " (residual)" : "", smooth ? " (B-spline)" : "", diff);
        g_assert_cmpfloat (spread, >, 0.1);     /* not a trivial output */
        g_assert_cmpfloat (diff, <=, 1e-5);
        worst = MAX (worst, diff);
      }
  g_test_message ("largest difference to the reference: %.2g", worst);
}

/* result = content at the small size: the full-size content comes back, to within what eps
 * takes from A (eps / the content's variance in a window). */
static void
test_identity (void)
{
  for (int ch = 1; ch <= 3; ch += 2)
    for (int residual = 0; residual <= 1; residual++)
      {
        g_autoptr (NsImage) hi = random_image (61, 47, ch, 3 + ch);
        g_autoptr (NsImage) lo = ns_image_resize (hi, 20, 15);
        g_autoptr (NsImage) bilinear = ns_image_resize (lo, 61, 47);
        g_autoptr (NsImage) out = NULL;
        NsUpsampleParams p;
        gsize n = (gsize) 61 * 47 * ch;
        double d, d_bilinear;

        ns_upsample_params_init (&p);
        p.eps = 1e-6;
        p.residual = residual;
        out = ns_upsample_guided (lo, lo, hi, &p, NULL);
        d = max_abs_diff (out->data, hi->data, n);
        d_bilinear = max_abs_diff (bilinear->data, hi->data, n);
        g_test_message ("channels %d%s: max |out − content| = %.2g (bilinear %.2g)", ch,
                        residual ? ", residual" : "", d, d_bilinear);
        g_assert_cmpfloat (d, <=, 1e-3);
        g_assert_cmpfloat (d_bilinear, >, 0.2);
      }
}

/* A constant result stays that constant everywhere (A = 0, b = the constant). */
static void
test_constant (void)
{
  static const float value[3] = { 0.3f, 0.65f, 0.9f };

  for (int g = 1; g <= 3; g += 2)
    for (int k = 1; k <= 3; k += 2)
      for (int residual = 0; residual <= 1; residual++)
        {
          g_autoptr (NsImage) hi = random_image (53, 38, g, 7);
          g_autoptr (NsImage) lo = ns_image_resize (hi, 17, 12);
          g_autoptr (NsImage) r = ns_image_new (17, 12, k);
          g_autoptr (NsImage) out = NULL;
          NsUpsampleParams p;

          for (gsize i = 0; i < (gsize) 17 * 12 * k; i++)
            r->data[i] = value[i % k];
          ns_upsample_params_init (&p);
          p.residual = residual;
          out = ns_upsample_guided (r, lo, hi, &p, NULL);
          for (gsize i = 0; i < (gsize) 53 * 38 * k; i++)
            g_assert_cmpfloat_with_epsilon (out->data[i], value[i % k], 1e-6);
        }
}

/* result = M·content + t at the small size gives M·content + t at full size. */
static void
test_affine (void)
{
  static const float M[3][3] = { { 0.5f, 0.2f, 0.1f }, { -0.2f, 0.6f, 0.1f }, { 0.1f, -0.1f, 0.4f } };
  static const float t[3] = { 0.1f, 0.25f, 0.2f };
  static const int shapes[][2] = { { 3, 3 }, { 1, 1 }, { 1, 3 }, { 3, 1 } };

  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int residual = 0; residual <= 1; residual++)
      {
        int g = shapes[s][0], k = shapes[s][1];
        g_autoptr (NsImage) hi = random_image (70, 51, g, 11 + s);
        g_autoptr (NsImage) lo = ns_image_resize (hi, 23, 17);
        g_autoptr (NsImage) r = ns_image_new (23, 17, k);
        g_autoptr (NsImage) out = NULL;
        g_autoptr (NsImage) bilinear = NULL;
        g_autofree float *want = g_new (float, (gsize) 70 * 51 * k);
        NsUpsampleParams p;
        double d, d_bilinear;

        /* The map, with grey read as (c, c, c) and a grey result as its first row. */
        for (int pass = 0; pass < 2; pass++)
          {
            const NsImage *src = pass == 0 ? lo : hi;
            float *dst = pass == 0 ? r->data : want;

            for (gsize i = 0; i < (gsize) src->width * src->height; i++)
              for (int m = 0; m < k; m++)
                {
                  const float *c = src->data + i * g;
                  float v = t[m];

                  for (int j = 0; j < 3; j++)
                    v += M[m][j] * c[g == 3 ? j : 0];
                  dst[i * k + m] = v;
                }
          }
        ns_upsample_params_init (&p);
        p.eps = 1e-7;
        p.residual = residual;
        out = ns_upsample_guided (r, lo, hi, &p, NULL);
        bilinear = ns_image_resize (r, 70, 51);
        d = max_abs_diff (out->data, want, (gsize) 70 * 51 * k);
        d_bilinear = max_abs_diff (bilinear->data, want, (gsize) 70 * 51 * k);
        g_test_message ("%d → %d channels%s: max |out − M·content − t| = %.2g (bilinear %.2g)",
                        g, k, residual ? ", residual" : "", d, d_bilinear);
        g_assert_cmpfloat (d, <=, 1e-4);
        g_assert_cmpfloat (d_bilinear, >, 0.05);
      }
}

/* Big enough that every stage runs on several threads. */
static void
test_threads (void)
{
  g_autoptr (NsImage) hi = random_image (700, 531, 3, 21);
  g_autoptr (NsImage) lo = ns_image_resize (hi, 260, 197);
  g_autoptr (NsImage) r = stylized (lo, 3, 22);
  g_autoptr (NsImage) one = NULL;
  g_autoptr (NsImage) three = NULL;
  NsUpsampleParams p;

  ns_upsample_params_init (&p);
  p.threads = 1;
  one = ns_upsample_guided (r, lo, hi, &p, NULL);
  p.threads = 3;
  ns_parallel_set_threads (2);
  three = ns_upsample_guided (r, lo, hi, &p, NULL);
  g_assert_cmpmem (one->data, (gsize) 700 * 531 * 3 * sizeof (float),
                   three->data, (gsize) 700 * 531 * 3 * sizeof (float));
  /* The caller's thread count is left as it was. */
  g_assert_cmpint (ns_parallel_set_threads (0), ==, 2);
}

/* Writing over the full-size content gives the same as a separate output. */
static void
test_in_place (void)
{
  g_autoptr (NsImage) hi = random_image (300, 211, 3, 31);
  g_autoptr (NsImage) lo = ns_image_resize (hi, 41, 29);
  g_autoptr (NsImage) r = stylized (lo, 3, 32);
  g_autoptr (NsImage) separate = ns_upsample_guided (r, lo, hi, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (ns_upsample_guided_into (r, lo, hi, NULL, hi, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (hi->data, (gsize) 300 * 211 * 3 * sizeof (float),
                   separate->data, (gsize) 300 * 211 * 3 * sizeof (float));
}

/* 1×1, single rows and columns, odd sizes and shrinking: no crash, finite values in [0,1];
 * a 1×1 result enlarges to its one colour (nothing to fit: the bilinear enlargement). */
static void
test_small_sizes (void)
{
  static const int sizes[][4] = {
    { 1, 1, 1, 1 }, { 1, 1, 7, 5 }, { 1, 7, 3, 19 }, { 9, 1, 31, 2 }, { 2, 3, 5, 5 },
    { 3, 1, 10, 4 }, { 15, 11, 4, 3 }, { 15, 11, 1, 1 }, { 5, 5, 5, 5 },
  };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int radius = 0; radius <= 5; radius += 5)
      {
        int w = sizes[s][0], h = sizes[s][1], W = sizes[s][2], H = sizes[s][3];
        g_autoptr (NsImage) hi = random_image (W, H, 3, 41 + s);
        g_autoptr (NsImage) lo = random_image (w, h, 3, 51 + s);
        g_autoptr (NsImage) r = stylized (lo, 3, 61 + s);
        g_autoptr (NsImage) out = NULL;
        NsUpsampleParams p;

        ns_upsample_params_init (&p);
        p.radius = radius;
        out = ns_upsample_guided (r, lo, hi, &p, NULL);
        g_assert_nonnull (out);
        for (gsize i = 0; i < (gsize) W * H * 3; i++)
          {
            g_assert_true (isfinite (out->data[i]));
            g_assert_cmpfloat (out->data[i], >=, 0.0f);
            g_assert_cmpfloat (out->data[i], <=, 1.0f);
            if (w == 1 && h == 1)
              g_assert_cmpfloat_with_epsilon (out->data[i], r->data[i % 3], 1e-6);
          }
      }
}

static void
test_errors (void)
{
  g_autoptr (NsImage) hi = random_image (20, 10, 3, 1);
  g_autoptr (NsImage) lo = random_image (10, 5, 3, 2);
  g_autoptr (NsImage) lo_other = random_image (9, 5, 3, 3);
  g_autoptr (NsImage) grey_lo = random_image (10, 5, 1, 4);
  g_autoptr (NsImage) grey_out = ns_image_new (20, 10, 1);
  g_autoptr (NsImage) wrong_out = ns_image_new (19, 10, 3);
  NsUpsampleParams p;
  struct { const NsImage *r, *c, *h; double eps; int radius; } bad[] = {
    { lo_other, lo, hi, 1e-3, 2 },     /* result and content differ in size */
    { lo, grey_lo, hi, 1e-3, 2 },      /* small and full-size content differ in channels */
    { lo, lo, hi, 0.0, 2 },            /* eps must be positive */
    { lo, lo, hi, NAN, 2 },
    { lo, lo, hi, 1e-3, -1 },
    { NULL, lo, hi, 1e-3, 2 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      ns_upsample_params_init (&p);
      p.eps = bad[i].eps;
      p.radius = bad[i].radius;
      g_assert_null (ns_upsample_guided (bad[i].r, bad[i].c, bad[i].h, &p, &error));
      g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
    }
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (ns_upsample_guided_into (lo, lo, hi, NULL, wrong_out, &error));
    g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) error = NULL;

    /* A grey result cannot be written over an RGB content. */
    g_assert_false (ns_upsample_guided_into (grey_lo, lo, hi, NULL,
                                             &(NsImage) { 20, 10, 1, hi->data }, &error));
    g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_true (ns_upsample_guided_into (grey_lo, lo, hi, NULL, grey_out, &error));
    g_assert_no_error (error);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/upsample/reference", test_reference);
  g_test_add_func ("/upsample/identity", test_identity);
  g_test_add_func ("/upsample/constant", test_constant);
  g_test_add_func ("/upsample/affine", test_affine);
  g_test_add_func ("/upsample/threads", test_threads);
  g_test_add_func ("/upsample/in-place", test_in_place);
  g_test_add_func ("/upsample/small-sizes", test_small_sizes);
  g_test_add_func ("/upsample/errors", test_errors);

  return g_test_run ();
}
