/* test-color.c — colour transforms: network normalisation and its gradient, luminance
 * expansion and its gradient, YIQ luminance merge, linear colour transfer and luminance
 * matching.  References are written out here in double. */
#include <string.h>

#include "ns-internal.h"
#include "testutil.h"

static const float net_mean[3] = { 0.485f, 0.456f, 0.406f };
static const float net_std[3] = { 0.229f, 0.224f, 0.225f };

/* YIQ (NTSC 1953), as in Gatys et al. 2016. */
static const double yiq[3][3] = {
  { 0.299, 0.587, 0.114 },
  { 0.595716, -0.274453, -0.321263 },
  { 0.211456, -0.522591, 0.311135 },
};

static NsTensor *
random_tensor (int c, int h, int w, guint32 seed, float lo, float hi)
{
  NsTensor *t = ns_tensor_new (c, h, w);
  ns_test_fill (t->data, ns_tensor_len (t), seed, lo, hi);
  return t;
}

/* ---- planar ↔ interleaved, network normalisation ----------------------------------------- */

static void
test_image_tensor_roundtrip (void)
{
  for (int ch = 1; ch <= 3; ch += 2)
    {
      g_autoptr (NsImage) img = ns_image_new (5, 3, ch);
      g_autoptr (NsTensor) t = NULL;
      g_autoptr (NsImage) back = NULL;

      ns_test_fill (img->data, 15 * ch, 3, 0.0f, 1.0f);
      t = ns_color_image_to_tensor (img);
      g_assert_cmpint (t->c, ==, ch);
      g_assert_cmpint (t->h, ==, 3);
      g_assert_cmpint (t->w, ==, 5);
      for (int c = 0; c < ch; c++)
        for (int y = 0; y < 3; y++)
          for (int x = 0; x < 5; x++)
            g_assert_cmpfloat (t->data[(c * 3 + y) * 5 + x], ==, img->data[(y * 5 + x) * ch + c]);
      back = ns_color_tensor_to_image (t);
      g_assert_cmpint (back->width, ==, 5);
      g_assert_cmpint (back->height, ==, 3);
      g_assert_cmpint (back->channels, ==, ch);
      g_assert_cmpmem (back->data, 15 * ch * sizeof (float), img->data, 15 * ch * sizeof (float));
    }
}

static void
test_to_network_values (void)
{
  g_autoptr (NsImage) img = ns_image_new (4, 3, 3);
  g_autoptr (NsTensor) t = NULL;

  ns_test_fill (img->data, 36, 4, 0.0f, 1.0f);
  t = ns_color_to_network (img, net_mean, net_std);
  g_assert_cmpint (t->c, ==, 3);
  g_assert_cmpint (t->h, ==, 3);
  g_assert_cmpint (t->w, ==, 4);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 12; i++)
      {
        double want = ((double) img->data[3 * i + c] - net_mean[c]) / net_std[c];
        g_assert_cmpfloat (fabs (t->data[c * 12 + i] - want), <, 1e-5);
      }
}

/* f(x) = ½ Σ r ⊙ net(x)², x the planar image; ∂f/∂net = r ⊙ net, pulled back by the
 * code under test. */
typedef struct
{
  int    h, w;
  float *r;
} NetCase;

static double
to_network_func (const float *x, float *grad, gpointer user_data)
{
  NetCase *nc = user_data;
  NsTensor xt = { 3, nc->h, nc->w, (float *) x };
  g_autoptr (NsImage) img = ns_color_tensor_to_image (&xt);
  g_autoptr (NsTensor) net = ns_color_to_network (img, net_mean, net_std);
  gsize n = ns_tensor_len (net);
  double f = 0.0;

  for (gsize i = 0; i < n; i++)
    f += 0.5 * nc->r[i] * (double) net->data[i] * net->data[i];
  if (grad != NULL)
    {
      g_autoptr (NsTensor) gnet = ns_tensor_new_like (net);
      NsTensor gt = { 3, nc->h, nc->w, grad };

      for (gsize i = 0; i < n; i++)
        gnet->data[i] = nc->r[i] * net->data[i];
      ns_color_to_network_backward (gnet, net_std, &gt);
    }
  return f;
}

static void
test_to_network_grad (void)
{
  int sizes[][2] = { { 1, 1 }, { 3, 5 }, { 8, 7 } };

  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      int h = sizes[k][0], w = sizes[k][1];
      gsize n = (gsize) 3 * h * w;
      g_autofree float *x = g_new (float, n);
      g_autofree float *r = g_new (float, n);
      NetCase nc = { h, w, r };
      double err;

      ns_test_fill (x, n, 10 + k, 0.0f, 1.0f);
      ns_test_fill (r, n, 20 + k, -1.0f, 1.0f);
      err = ns_test_gradcheck (to_network_func, &nc, x, n, 1e-2, 500, 1);
      g_test_message ("to_network %dx%d: worst relative error %.2e", h, w, err);
      g_assert_cmpfloat (err, <, 1e-3);
    }
}

/* ---- luminance ---------------------------------------------------------------------------- */

static void
test_luminance_values (void)
{
  g_autoptr (NsTensor) rgb = random_tensor (3, 4, 5, 30, 0.0f, 1.0f);
  g_autoptr (NsTensor) y = ns_color_luminance (rgb);

  g_assert_cmpint (y->c, ==, 1);
  g_assert_cmpint (y->h, ==, 4);
  g_assert_cmpint (y->w, ==, 5);
  for (int i = 0; i < 20; i++)
    {
      double want = yiq[0][0] * rgb->data[i] + yiq[0][1] * rgb->data[20 + i] + yiq[0][2] * rgb->data[40 + i];
      g_assert_cmpfloat (fabs (y->data[i] - want), <, 1e-6);
    }
}

/* f(y) = ½ Σ r ⊙ expand(y)², then through the network normalisation as the luminance
 * mode does: y → (y, y, y) → image → (x − mean)/std. */
static double
expand_func (const float *x, float *grad, gpointer user_data)
{
  NetCase *nc = user_data;
  NsTensor y = { 1, nc->h, nc->w, (float *) x };
  g_autoptr (NsTensor) rgb = ns_tensor_new (3, nc->h, nc->w);
  g_autoptr (NsImage) img = NULL;
  g_autoptr (NsTensor) net = NULL;
  gsize n;
  double f = 0.0;

  ns_color_expand_luminance (&y, rgb);
  img = ns_color_tensor_to_image (rgb);
  net = ns_color_to_network (img, net_mean, net_std);
  n = ns_tensor_len (net);
  for (gsize i = 0; i < n; i++)
    f += 0.5 * nc->r[i] * (double) net->data[i] * net->data[i];
  if (grad != NULL)
    {
      g_autoptr (NsTensor) gnet = ns_tensor_new_like (net);
      g_autoptr (NsTensor) grgb = ns_tensor_new_like (net);
      NsTensor gy = { 1, nc->h, nc->w, grad };

      for (gsize i = 0; i < n; i++)
        gnet->data[i] = nc->r[i] * net->data[i];
      ns_color_to_network_backward (gnet, net_std, grgb);
      ns_color_expand_luminance_backward (grgb, &gy);
    }
  return f;
}

static void
test_expand_luminance (void)
{
  int sizes[][2] = { { 1, 1 }, { 3, 5 }, { 6, 4 } };

  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      int h = sizes[k][0], w = sizes[k][1];
      gsize n = (gsize) h * w;
      g_autoptr (NsTensor) y = random_tensor (1, h, w, 40 + k, 0.0f, 1.0f);
      g_autoptr (NsTensor) rgb = ns_tensor_new (3, h, w);
      g_autofree float *r = g_new (float, 3 * n);
      NetCase nc = { h, w, r };
      double err;

      ns_color_expand_luminance (y, rgb);
      for (int c = 0; c < 3; c++)
        g_assert_cmpmem (rgb->data + c * n, n * sizeof (float), y->data, n * sizeof (float));

      ns_test_fill (r, 3 * n, 50 + k, -1.0f, 1.0f);
      err = ns_test_gradcheck (expand_func, &nc, y->data, n, 1e-2, 500, 2);
      g_test_message ("expand_luminance %dx%d: worst relative error %.2e", h, w, err);
      g_assert_cmpfloat (err, <, 1e-3);
    }
}

static void
yiq_of (const NsTensor *rgb, gsize i, double out[3])
{
  gsize n = (gsize) rgb->h * rgb->w;
  for (int r = 0; r < 3; r++)
    out[r] = yiq[r][0] * rgb->data[i] + yiq[r][1] * rgb->data[n + i] + yiq[r][2] * rgb->data[2 * n + i];
}

static void
test_merge_luminance (void)
{
  g_autoptr (NsTensor) content = random_tensor (3, 7, 9, 60, 0.0f, 1.0f);
  g_autoptr (NsTensor) y = random_tensor (1, 7, 9, 61, 0.0f, 1.0f);
  g_autoptr (NsTensor) out = ns_color_merge_luminance (y, content);
  double moved = 0.0;

  g_assert_cmpint (out->c, ==, 3);
  g_assert_cmpint (out->h, ==, 7);
  g_assert_cmpint (out->w, ==, 9);
  for (gsize i = 0; i < 63; i++)
    {
      double a[3], b[3];

      yiq_of (out, i, a);
      yiq_of (content, i, b);
      g_assert_cmpfloat (fabs (a[0] - y->data[i]), <, 1e-5);    /* Y from y */
      g_assert_cmpfloat (fabs (a[1] - b[1]), <, 1e-5);          /* I from the content */
      g_assert_cmpfloat (fabs (a[2] - b[2]), <, 1e-5);          /* Q from the content */
      moved = MAX (moved, fabs (a[0] - b[0]));
    }
  g_assert_cmpfloat (moved, >, 0.1);   /* the test would be empty if Y had not changed */
}

/* ---- linear colour transfer ---------------------------------------------------------------- */

static void
statistics (const NsTensor *t, double mean[3], double cov[3][3])
{
  gsize n = (gsize) t->h * t->w;

  for (int a = 0; a < 3; a++)
    {
      mean[a] = 0.0;
      for (gsize i = 0; i < n; i++)
        mean[a] += t->data[a * n + i];
      mean[a] /= n;
    }
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++)
      {
        cov[a][b] = 0.0;
        for (gsize i = 0; i < n; i++)
          cov[a][b] += (t->data[a * n + i] - mean[a]) * (t->data[b * n + i] - mean[b]);
        cov[a][b] /= n;
      }
}

/* rgb = m · u + offset for u uniform in [0,1)³: correlated channels. */
static NsTensor *
correlated_rgb (int h, int w, guint32 seed, const double m[3][3], const double offset[3])
{
  g_autoptr (NsTensor) u = random_tensor (3, h, w, seed, 0.0f, 1.0f);
  NsTensor *t = ns_tensor_new (3, h, w);
  gsize n = (gsize) h * w;

  for (gsize i = 0; i < n; i++)
    for (int r = 0; r < 3; r++)
      t->data[r * n + i] = (float) (m[r][0] * u->data[i] + m[r][1] * u->data[n + i]
                                    + m[r][2] * u->data[2 * n + i] + offset[r]);
  return t;
}

static void
test_match_histogram (void)
{
  const double ms[3][3] = { { 0.5, 0.2, 0.0 }, { 0.1, 0.3, 0.1 }, { 0.0, 0.4, 0.2 } };
  const double os[3] = { 0.1, 0.2, 0.05 };
  const double mc[3][3] = { { 0.3, -0.1, 0.05 }, { 0.2, 0.6, 0.0 }, { -0.1, 0.1, 0.25 } };
  const double oc[3] = { 0.4, 0.1, 0.5 };
  g_autoptr (NsTensor) style = correlated_rgb (40, 30, 70, ms, os);
  g_autoptr (NsTensor) content = correlated_rgb (25, 35, 71, mc, oc);
  g_autoptr (NsTensor) out = ns_color_match_histogram (style, content);
  double m_out[3], c_out[3][3], m_c[3], c_c[3][3], m_s[3], c_s[3][3];

  g_assert_cmpint (out->c, ==, 3);
  g_assert_cmpint (out->h, ==, 40);
  g_assert_cmpint (out->w, ==, 30);
  statistics (out, m_out, c_out);
  statistics (content, m_c, c_c);
  statistics (style, m_s, c_s);
  for (int a = 0; a < 3; a++)
    {
      g_assert_cmpfloat (fabs (m_out[a] - m_c[a]), <, 1e-5);
      for (int b = 0; b < 3; b++)
        {
          g_assert_cmpfloat (fabs (c_out[a][b] - c_c[a][b]), <, 1e-3 * fabs (c_c[a][a]));
          g_test_message ("cov[%d][%d]: content %.6f result %.6f style %.6f",
                          a, b, c_c[a][b], c_out[a][b], c_s[a][b]);
        }
    }
  /* the matching did something: the style's covariance was far from the content's */
  g_assert_cmpfloat (fabs (c_s[1][1] - c_c[1][1]), >, 0.01);
}

/* A = Σc^½ Σs^−½ with symmetric roots.  A style whose covariance is exactly a multiple of
 * the identity (the 8 corners of a cube), and a content made from it by a symmetric
 * positive-definite B, give A = B, so the result must be the content pixel for pixel.
 * A Cholesky or other non-symmetric root would match the covariance but not this. */
static void
test_match_histogram_symmetric_root (void)
{
  const double bm[3][3] = { { 1.2, 0.3, 0.1 }, { 0.3, 0.9, -0.2 }, { 0.1, -0.2, 0.7 } };
  const double mu[3] = { 0.4, 0.55, 0.3 };
  g_autoptr (NsTensor) style = ns_tensor_new (3, 2, 4);
  g_autoptr (NsTensor) content = ns_tensor_new (3, 2, 4);
  g_autoptr (NsTensor) out = NULL;

  for (int i = 0; i < 8; i++)
    {
      double d[3];
      for (int c = 0; c < 3; c++)
        {
          d[c] = (i >> c) & 1 ? 0.125 : -0.125;
          style->data[c * 8 + i] = (float) (0.5 + d[c]);
        }
      for (int c = 0; c < 3; c++)
        content->data[c * 8 + i] = (float) (bm[c][0] * d[0] + bm[c][1] * d[1] + bm[c][2] * d[2] + mu[c]);
    }
  out = ns_color_match_histogram (style, content);
  for (int i = 0; i < 24; i++)
    g_assert_cmpfloat (fabs (out->data[i] - content->data[i]), <, 1e-5);

  /* and a style matched to itself is unchanged */
  g_clear_pointer (&out, ns_tensor_free);
  out = ns_color_match_histogram (content, content);
  for (int i = 0; i < 24; i++)
    g_assert_cmpfloat (fabs (out->data[i] - content->data[i]), <, 1e-5);
}

/* A grey style (R = G = B) has a singular covariance: the result must stay finite, take
 * the content's mean, and not blow up. */
static void
test_match_histogram_singular (void)
{
  const double mc[3][3] = { { 0.3, -0.1, 0.05 }, { 0.2, 0.6, 0.0 }, { -0.1, 0.1, 0.25 } };
  const double oc[3] = { 0.4, 0.1, 0.5 };
  g_autoptr (NsTensor) grey = random_tensor (1, 20, 20, 80, 0.0f, 1.0f);
  g_autoptr (NsTensor) style = ns_tensor_new (3, 20, 20);
  g_autoptr (NsTensor) content = correlated_rgb (16, 16, 81, mc, oc);
  g_autoptr (NsTensor) out = NULL;
  double m_out[3], c_out[3][3], m_c[3], c_c[3][3];

  ns_color_expand_luminance (grey, style);
  out = ns_color_match_histogram (style, content);
  for (gsize i = 0; i < ns_tensor_len (out); i++)
    {
      g_assert_true (isfinite (out->data[i]));
      g_assert_cmpfloat (fabs (out->data[i]), <, 10.0);
    }
  statistics (out, m_out, c_out);
  statistics (content, m_c, c_c);
  for (int a = 0; a < 3; a++)
    {
      g_assert_cmpfloat (fabs (m_out[a] - m_c[a]), <, 1e-4);
      /* only one direction of variance exists; it cannot exceed the content's */
      g_assert_cmpfloat (c_out[a][a], <=, c_c[a][a] * 1.001);
    }
}

static void
test_match_luminance (void)
{
  g_autoptr (NsTensor) y = random_tensor (1, 12, 10, 90, 0.2f, 0.5f);
  g_autoptr (NsTensor) ref = random_tensor (1, 7, 9, 91, 0.0f, 1.0f);
  g_autoptr (NsTensor) orig = ns_tensor_copy (y);
  g_autoptr (NsTensor) flat = ns_tensor_new (1, 3, 3);
  double my = 0, sy = 0, mr = 0, sr = 0;

  ns_color_match_luminance (y, ref);
  for (int i = 0; i < 120; i++)
    my += y->data[i];
  my /= 120;
  for (int i = 0; i < 120; i++)
    sy += (y->data[i] - my) * (y->data[i] - my);
  sy = sqrt (sy / 120);
  for (int i = 0; i < 63; i++)
    mr += ref->data[i];
  mr /= 63;
  for (int i = 0; i < 63; i++)
    sr += (ref->data[i] - mr) * (ref->data[i] - mr);
  sr = sqrt (sr / 63);
  g_assert_cmpfloat (fabs (my - mr), <, 1e-5);
  g_assert_cmpfloat (fabs (sy - sr), <, 1e-5);
  /* an increasing map: the order of pixels is kept */
  for (int i = 1; i < 120; i++)
    g_assert_true ((orig->data[i] > orig->data[0]) == (y->data[i] > y->data[0]));

  /* a flat plane only moves to the reference mean */
  for (int i = 0; i < 9; i++)
    flat->data[i] = 0.3f;
  ns_color_match_luminance (flat, ref);
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat (fabs (flat->data[i] - mr), <, 1e-6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/color/image-tensor-roundtrip", test_image_tensor_roundtrip);
  g_test_add_func ("/color/to-network/values", test_to_network_values);
  g_test_add_func ("/color/to-network/grad", test_to_network_grad);
  g_test_add_func ("/color/luminance/values", test_luminance_values);
  g_test_add_func ("/color/luminance/expand", test_expand_luminance);
  g_test_add_func ("/color/luminance/merge", test_merge_luminance);
  g_test_add_func ("/color/match-histogram/statistics", test_match_histogram);
  g_test_add_func ("/color/match-histogram/symmetric-root", test_match_histogram_symmetric_root);
  g_test_add_func ("/color/match-histogram/singular", test_match_histogram_singular);
  g_test_add_func ("/color/match-luminance", test_match_luminance);
  return g_test_run ();
}
