/* test-objective.c — the total loss against finite differences, in every colour mode, and
 * its parts against the loss functions applied by hand. */
#include <math.h>
#include <string.h>
#include "objective-internal.h"
#include "testutil.h"
#include "positive-weights.h"

static NsImage *
make_image (int w, int h, int channels, guint32 seed)
{
  NsImage *img = ns_image_new (w, h, channels);

  ns_test_fill (img->data, (gsize) w * h * channels, seed, 0.05f, 0.95f);
  return img;
}

/* The random VGG-19 candidate of embedded.c (VGG-19's topology) with positive weights,
 * positive biases and average pooling: every ReLU stays on, so the objective is smooth and
 * central differences are meaningful.  The kinks themselves are covered by test-network. */
static NsNetwork *
smooth_network (void)
{
  NsNetwork *net = ns_network_new_embedded_variant ("random-vgg19", NULL);

  for (int i = 0; i < net->n_layers; i++)
    {
      NsLayer *l = &net->layers[i];

      if (l->kind == NS_LAYER_MAXPOOL)
        l->kind = NS_LAYER_AVGPOOL;
      if (l->kind != NS_LAYER_CONV)
        continue;
      ns_test_positive_conv (l, i);
      if (i == 0)
        for (int o = 0; o < l->conv.cout; o++)
          l->conv.bias[o] += 3.0f;    /* above the most negative normalised input */
      ns_conv_prepare (&l->conv);
    }
  return net;
}

static double
eval_cb (const float *x, float *grad, gpointer data)
{
  return ns_objective_eval (data, x, grad, NULL);
}

/* Two temporal terms (a previous result warped, and one from further back) with
 * reliabilities in [0, 1], of the objective's size. */
static void
add_temporal (NsObjective *obj, double weight)
{
  int w, h;

  ns_objective_size (obj, &w, &h);
  for (int k = 0; k < 2; k++)
    {
      g_autoptr (NsImage) warped = make_image (w, h, 3, 40 + k);
      g_autoptr (NsImage) reliability = make_image (w, h, 1, 50 + k);
      g_autoptr (GError) error = NULL;

      g_assert_true (ns_objective_add_temporal (obj, warped, reliability, weight, &error));
      g_assert_no_error (error);
    }
}

static void
check_mode (NsColorMode mode, double tv)
{
  g_autoptr (NsNetwork) net = smooth_network ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (19, 17, 3, 1);
  g_autoptr (NsImage) style = make_image (23, 16, 3, 2);
  const NsImage *styles[] = { style };
  g_autoptr (GError) error = NULL;
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL;
  double err;

  ns_options_set_color_mode (opt, mode);
  ns_options_set_tv_weight (opt, tv);
  ns_options_set_style_layers (opt, "relu1_1,relu2_1:0.5,relu3_1", NULL);
  ns_options_set_content_layer (opt, "relu2_2");
  obj = ns_objective_new (net, opt, content, styles, NULL, 1, &error);
  g_assert_no_error (error);
  x = ns_objective_initial (obj);
  /* Move away from the content so the content term has a gradient too. */
  for (gsize i = 0; i < ns_objective_len (obj); i++)
    x[i] += 0.1f * sinf ((float) i);
  /* Smooth here (every ReLU on, average pooling), so a wide step is accurate; a narrow one
   * measures float round-off, which depends on the BLAS kernel (measured at 1e-3: up to 2.7%
   * on OpenBLAS's Cooperlake kernels, 1.6% on Haswell's; at 1e-2: at most 0.25% on each). */
  err = ns_test_gradcheck (eval_cb, obj, x, ns_objective_len (obj), 1e-2, 80, 9);
  g_test_message ("colour mode %d: worst relative gradient error %.3g", mode, err);
  g_assert_cmpfloat (err, <, 2e-2);
}

/* The temporal terms add γ · mean over x's values of c · (x − ω)² and its gradient, computed
 * here from the images (ω as luminance in luminance mode), and nothing else: the parts
 * stay. */
static void
check_temporal_value (NsColorMode mode)
{
  g_autoptr (NsNetwork) net = smooth_network ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (21, 17, 3, 1);
  g_autoptr (NsImage) style = make_image (30, 24, 3, 2);
  g_autoptr (NsImage) warped = make_image (21, 17, 3, 3);
  g_autoptr (NsImage) reliability = make_image (21, 17, 1, 4);
  g_autoptr (NsImage) bad = make_image (20, 17, 1, 4);
  const NsImage *styles[] = { style };
  g_autoptr (GError) error = NULL;
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL;
  g_autofree float *g0 = NULL;
  g_autofree float *g1 = NULL;
  double p0[3], p1[3], f0, f1, want = 0.0, worst = 0.0, largest = 0.0;
  int planes = mode == NS_COLOR_LUMINANCE ? 1 : 3;
  gsize np = 21 * 17;

  ns_options_set_color_mode (opt, mode);
  obj = ns_objective_new (net, opt, content, styles, NULL, 1, &error);
  g_assert_no_error (error);
  x = ns_objective_initial (obj);
  for (gsize i = 0; i < ns_objective_len (obj); i++)
    x[i] += 0.1f * sinf ((float) i);
  g0 = g_new (float, ns_objective_len (obj));
  g1 = g_new (float, ns_objective_len (obj));
  f0 = ns_objective_eval (obj, x, g0, p0);
  g_assert_false (ns_objective_add_temporal (obj, warped, bad, 1.0, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_assert_true (ns_objective_add_temporal (obj, warped, reliability, 3.0, NULL));
  f1 = ns_objective_eval (obj, x, g1, p1);
  for (int c = 0; c < planes; c++)
    for (gsize i = 0; i < np; i++)
      {
        const float *px = warped->data + 3 * i;
        double omega = planes == 1 ? 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2] : px[c];
        double d = x[c * np + i] - omega;
        /* ∂/∂x of 3 · mean (r d²) */
        double dg = 6.0 * reliability->data[i] * d / (planes * np);

        want += reliability->data[i] * d * d;
        worst = MAX (worst, fabs ((g1[c * np + i] - g0[c * np + i]) - dg));
        largest = MAX (largest, fabs (dg));
      }
  want *= 3.0 / (planes * np);
  g_test_message ("gradient: the term's part within %.3g of %.3g", worst, largest);
  g_assert_cmpfloat (largest, >, 0.0);
  g_assert_cmpfloat (worst, <=, 1e-4 * largest);
  g_test_message ("mode %d: temporal %.9g, expected %.9g", mode, f1 - f0, want);
  g_assert_cmpfloat (want, >, 0.0);
  g_assert_cmpfloat (fabs ((f1 - f0) - want), <=, 1e-5 * want);
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat (p1[k], ==, p0[k]);
}

/* The objective of a sequence's frame (temporal terms about a third of the loss) against
 * directional finite differences: every coordinate moves, so entries where the terms'
 * gradients cancel do not dominate as they do coordinate by coordinate. */
static void
check_temporal_gradient (NsColorMode mode)
{
  g_autoptr (NsNetwork) net = smooth_network ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (19, 17, 3, 1);
  g_autoptr (NsImage) style = make_image (23, 16, 3, 2);
  const NsImage *styles[] = { style };
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL;
  double f0, err;

  ns_options_set_color_mode (opt, mode);
  ns_options_set_style_layers (opt, "relu1_1,relu2_1:0.5,relu3_1", NULL);
  ns_options_set_content_layer (opt, "relu2_2");
  obj = ns_objective_new (net, opt, content, styles, NULL, 1, NULL);
  g_assert_nonnull (obj);
  x = ns_objective_initial (obj);
  for (gsize i = 0; i < ns_objective_len (obj); i++)
    x[i] += 0.1f * sinf ((float) i);
  f0 = ns_objective_eval (obj, x, NULL, NULL);
  add_temporal (obj, 3.0 * f0);
  g_test_message ("loss %.4g without the temporal terms, %.4g with", f0,
                  ns_objective_eval (obj, x, NULL, NULL));
  err = ns_test_gradcheck_directional (eval_cb, obj, x, ns_objective_len (obj), 1e-2, 8, 21);
  g_test_message ("worst relative error of a directional derivative %.3g", err);
  /* Float round-off of the network's terms is about 1e-3 here; a temporal gradient off by
   * any factor would be off by a good part of the third of the loss it makes. */
  g_assert_cmpfloat (err, <, 5e-3);
}

static void test_temporal_gradient (void) { check_temporal_gradient (NS_COLOR_STYLE); }
static void test_temporal_gradient_y (void) { check_temporal_gradient (NS_COLOR_LUMINANCE); }
static void test_temporal_colour (void) { check_temporal_value (NS_COLOR_STYLE); }
static void test_temporal_luminance (void) { check_temporal_value (NS_COLOR_LUMINANCE); }

static void test_grad_style_colours (void) { check_mode (NS_COLOR_STYLE, 1.0); }
static void test_grad_luminance (void) { check_mode (NS_COLOR_LUMINANCE, 1.0); }
static void test_grad_histogram (void) { check_mode (NS_COLOR_HISTOGRAM, 0.0); }

/* At the content image with init=content the content term is zero; the style term equals
 * the style loss of the content's features against the style's Gram, recomputed here. */
static void
test_parts (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("random-vgg19", NULL);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (16, 16, 3, 3);
  g_autoptr (NsImage) style = make_image (16, 16, 3, 4);
  const NsImage *styles[] = { style };
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL;
  double parts[3], total;

  ns_options_set_style_layers (opt, "relu1_1", NULL);
  ns_options_set_content_layer (opt, "relu1_1");
  ns_options_set_tv_weight (opt, 2.0);
  obj = ns_objective_new (net, opt, content, styles, NULL, 1, NULL);
  g_assert_nonnull (obj);
  x = ns_objective_initial (obj);
  total = ns_objective_eval (obj, x, NULL, parts);
  g_assert_cmpfloat (parts[0], ==, 0.0);
  g_assert_cmpfloat (parts[1], >, 0.0);
  g_assert_cmpfloat (fabs (total - parts[0] - parts[1] - parts[2]), <, 1e-9 * fabs (total));
  {
    NsTensor t = { 3, 16, 16, x };

    g_assert_cmpfloat (fabs (parts[2] - ns_tv_loss (&t, 2.0, NULL)), <, 1e-9);
  }
}

static void
test_bad_layers (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("random-vgg19", NULL);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (32, 32, 3, 3);
  const NsImage *styles[] = { content };
  g_autoptr (GError) error = NULL;
  NsObjective *obj;

  ns_options_set_content_layer (opt, "relu9_9");
  obj = ns_objective_new (net, opt, content, styles, NULL, 1, &error);
  g_assert_null (obj);
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "relu9_9"));
}

/* The buffer cache: a freed large buffer is handed out again for its size, small ones and
 * those of other threads' allocations are not taken in, what is kept never exceeds the most
 * handed out at once, and buffers may outlive their cache. */
static void
test_buffer_cache (void)
{
  const gsize big = (gsize) 1 << 20;           /* 4 MiB of floats */
  NsBufferCache *cache = ns_buffer_cache_new (0);
  NsBufferCache *outer = ns_buffer_cache_use (cache);
  float *a = ns_floats_alloc (big), *b, *c, *small = ns_floats_alloc (100), *late;

  ns_floats_free (a);
  b = ns_floats_alloc (big);
  g_assert_true (b == a);                       /* reused */
  c = ns_floats_alloc (big / 2);                /* fresh: the kept one is in use */
  g_assert_true (c != b);
  ns_floats_free (b);
  ns_floats_free (c);
  /* Both kept (4 + 2 MiB, the most ever handed out at once); a 6 MiB buffer makes room by
   * letting them go, and is itself kept. */
  a = ns_floats_alloc (big + big / 2);
  ns_floats_free (a);
  b = ns_floats_alloc (big + big / 2);
  g_assert_true (b == a);
  late = ns_floats_alloc (big);
  ns_floats_free (small);
  late[0] = 42.0f;
  ns_floats_free (late);
  /* Kept: b (6 MiB), late (4 MiB), the most handed out at once (10 MiB).  With b back in use,
   * a 1 MiB buffer would only fit if a kept one three times its size went: it is handed out
   * outside the cache instead, and the kept 4 MiB buffer, with its contents, is reused. */
  c = ns_floats_alloc (big / 4);
  a = ns_floats_alloc (big);
  g_assert_true (a == late);
  g_assert_cmpfloat (a[0], ==, 42.0f);
  ns_floats_free (c);
  late = a;
  g_assert_true (ns_buffer_cache_use (outer) == cache);
  ns_floats_free (b);                            /* back to the cache from outside its use */
  ns_buffer_cache_free (cache);
  ns_floats_free (late);                         /* after its cache */
}

/* The slack: a large buffer kept idle while smaller ones come and go (an evaluation's
 * pattern) leaves them no room within the most ever handed out at once; with a slack they
 * are kept too and handed out again. */
static void
test_buffer_cache_slack (void)
{
  const gsize mib = (gsize) 1 << 18;            /* 1 MiB of floats */

  for (int with_slack = 0; with_slack <= 1; with_slack++)
    {
      NsBufferCache *cache = ns_buffer_cache_new (with_slack ? 4 * mib * sizeof (float) : 0);
      NsBufferCache *outer = ns_buffer_cache_use (cache);
      float *big = ns_floats_alloc (8 * mib), *live = ns_floats_alloc (4 * mib);
      guint before;

      ns_floats_free (big);                     /* kept, idle: 8 + 4 MiB is the most */
      before = ns_buffer_cache_fresh (cache);
      for (int round = 0; round < 3; round++)
        ns_floats_free (ns_floats_alloc (2 * mib));
      g_assert_cmpuint (ns_buffer_cache_fresh (cache) - before, ==, with_slack ? 1 : 3);
      big = ns_floats_alloc (8 * mib);          /* and the idle one is still there */
      g_assert_cmpuint (ns_buffer_cache_fresh (cache) - before, ==, with_slack ? 1 : 3);
      ns_floats_free (big);
      ns_floats_free (live);
      g_assert_true (ns_buffer_cache_use (outer) == cache);
      ns_buffer_cache_free (cache);
    }
}

/* An objective given the plan's slack fetches no fresh buffer after its first evaluations
 * (without one, the built-in network's evaluations fetched a quarter of theirs every time). */
static void
test_buffer_reuse (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (320, 240, 3, 5);
  g_autoptr (NsImage) style = make_image (200, 160, 3, 6);
  const NsImage *styles[] = { style };
  guint fresh[2][3];

  for (int with_slack = 0; with_slack <= 1; with_slack++)
    {
      NsObjectiveConfig config = { 0 };
      g_autoptr (NsObjective) obj = NULL;
      g_autofree float *x = NULL, *g = NULL;

      config.buffer_slack = with_slack ? (guint64) 1 << 30 : 0;
      obj = ns_objective_new_full (net, opt, content, styles, NULL, 1, &config, NULL);
      x = ns_objective_initial (obj);
      g = g_new (float, ns_objective_len (obj));
      for (int i = 0; i < 3; i++)
        {
          ns_objective_eval (obj, x, g, NULL);
          fresh[with_slack][i] = ns_buffer_cache_fresh (obj->buffers);
        }
      g_test_message ("slack %d: fresh buffers after each evaluation %u %u %u", with_slack,
                      fresh[with_slack][0], fresh[with_slack][1], fresh[with_slack][2]);
    }
  g_assert_cmpuint (fresh[1][2], ==, fresh[1][1]);
  g_assert_cmpuint (fresh[0][2], >, fresh[0][1]);    /* what the slack is for */
}

/* Evaluations that reuse the cache's buffers (holding the last evaluation's values) give the
 * bits of the first, whole and tiled. */
static void
test_repeat_bits (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (150, 130, 3, 5);
  g_autoptr (NsImage) style = make_image (120, 100, 3, 6);
  const NsImage *styles[] = { style };

  for (int tiled = 0; tiled <= 1; tiled++)
    {
      NsObjectiveConfig config = { tiled ? NS_TILE_GRID : 0, 0, TRUE, FALSE, NULL };
      g_autoptr (NsObjective) obj = ns_objective_new_full (net, opt, content, styles, NULL, 1,
                                                          &config, NULL);
      gsize n = ns_objective_len (obj);
      g_autofree float *x = ns_objective_initial (obj);
      g_autofree float *g1 = g_new (float, n), *g2 = g_new (float, n);
      double f1, f2, f3;

      for (gsize i = 0; i < n; i++)
        x[i] += 0.05f * sinf ((float) i);
      f1 = ns_objective_eval (obj, x, g1, NULL);
      f2 = ns_objective_eval (obj, x, g2, NULL);
      f3 = ns_objective_eval (obj, x, NULL, NULL);
      g_assert_cmpmem (&f1, sizeof f1, &f2, sizeof f2);
      g_assert_cmpmem (&f1, sizeof f1, &f3, sizeof f3);
      g_assert_cmpmem (g1, n * sizeof (float), g2, n * sizeof (float));
    }
}

/* A cancelled run's next evaluation returns at once, untiled too (an L-BFGS line search
 * makes many before the run hears of the cancel at the iteration's end), and so does its
 * set-up. */
static void
test_cancel (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (64, 48, 3, 5);
  const NsImage *styles[] = { content };
  gint cancel = 0;
  NsObjectiveConfig config = { 0, 0, TRUE, FALSE, &cancel };
  g_autoptr (NsObjective) obj = ns_objective_new_full (net, opt, content, styles, NULL, 1,
                                                      &config, NULL);
  g_autofree float *x = ns_objective_initial (obj);
  g_autofree float *g = g_new (float, ns_objective_len (obj));

  g_autoptr (GError) error = NULL;

  g_assert_true (isfinite (ns_objective_eval (obj, x, g, NULL)));
  g_atomic_int_set (&cancel, 1);
  g_assert_true (isnan (ns_objective_eval (obj, x, g, NULL)));

  /* Cancelled while it sets up: no style pass, a clear error. */
  g_assert_null (ns_objective_new_full (net, opt, content, styles, NULL, 1, &config, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_CANCELLED);
}

/* ---- every loss at the first ReLU (objective-shallow.c) -------------------------------------- */

/* An objective on the built-in network with every loss at relu1_1, as refinement has it;
 * `general` takes the network pass instead. */
static NsObjective *
shallow_objective (const NsNetwork *net, NsColorMode mode, int w, int h, gboolean general)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (w, h, 3, 11);
  g_autoptr (NsImage) style = make_image (90, 70, 3, 12);
  const NsImage *styles[] = { style };
  NsObjectiveConfig config = { 0, 0, TRUE, FALSE, NULL, general };
  g_autoptr (GError) error = NULL;
  NsObjective *obj;

  ns_options_set_color_mode (opt, mode);
  ns_options_set_tv_weight (opt, 5.0);
  ns_options_set_style_layers (opt, "relu1_1", NULL);
  ns_options_set_content_layer (opt, "relu1_1");
  obj = ns_objective_new_full (net, opt, content, styles, NULL, 1, &config, &error);
  g_assert_no_error (error);
  g_assert_true ((obj->shallow != NULL) == ! general);
  return obj;
}

static void
away_from_content (float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    x[i] += 0.08f * sinf (0.37f * (float) i);
}

/* The same loss and gradient as the network pass, within float rounding, in colour and in
 * luminance, on an image wider than a segment and taller than a group of rows; the
 * content term is zero at the content itself. */
static void
check_shallow_same (NsColorMode mode)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsObjective) fast = shallow_objective (net, mode, 1100, 37, FALSE);
  g_autoptr (NsObjective) general = shallow_objective (net, mode, 1100, 37, TRUE);
  gsize n = ns_objective_len (fast);
  g_autofree float *x = ns_objective_initial (fast);
  g_autofree float *g1 = g_new (float, n), *g2 = g_new (float, n);
  double p1[3], p2[3], worst = 0.0, largest = 0.0;

  ns_objective_eval (fast, x, NULL, p1);
  g_assert_cmpfloat (p1[0], ==, 0.0);
  g_assert_cmpfloat (p1[1], >, 0.0);
  away_from_content (x, n);
  ns_objective_eval (fast, x, g1, p1);
  ns_objective_eval (general, x, g2, p2);
  for (int k = 0; k < 3; k++)
    {
      g_test_message ("term %d: %.9g shallow, %.9g general", k, p1[k], p2[k]);
      g_assert_cmpfloat (p1[k], >, 0.0);
      g_assert_cmpfloat (fabs (p1[k] - p2[k]), <=, 1e-5 * p2[k]);
    }
  for (gsize i = 0; i < n; i++)
    {
      worst = MAX (worst, fabs (g1[i] - g2[i]));
      largest = MAX (largest, fabs (g2[i]));
    }
  g_test_message ("gradient: largest difference %.3g of %.3g", worst, largest);
  g_assert_cmpfloat (worst, <=, 1e-4 * largest);
}

static void test_shallow_colour (void) { check_shallow_same (NS_COLOR_STYLE); }
static void test_shallow_luminance (void) { check_shallow_same (NS_COLOR_LUMINANCE); }

/* Against finite differences, on the smooth network (every ReLU on), with the gains of
 * the built-in network turned on. */
static void
test_shallow_gradient (void)
{
  g_autoptr (NsNetwork) net = smooth_network ();
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL;
  double f0, err;

  net->normalize_channels = net->normalize_layers = TRUE;
  obj = shallow_objective (net, NS_COLOR_STYLE, 23, 19, FALSE);
  x = ns_objective_initial (obj);
  away_from_content (x, ns_objective_len (obj));
  /* A sequence's frame: the temporal terms (most of the loss) are added to this path too. */
  f0 = ns_objective_eval (obj, x, NULL, NULL);
  add_temporal (obj, 20.0 * f0);
  g_test_message ("loss %.4g without the temporal terms, %.4g with", f0,
                  ns_objective_eval (obj, x, NULL, NULL));
  err = ns_test_gradcheck (eval_cb, obj, x, ns_objective_len (obj), 1e-2, 80, 13);
  g_test_message ("worst relative gradient error %.3g", err);
  g_assert_cmpfloat (err, <, 2e-2);
}

/* The same bits on one thread and on two (the items are fixed by the image's size). */
static void
test_shallow_threads (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsObjective) obj = shallow_objective (net, NS_COLOR_STYLE, 700, 90, FALSE);
  gsize n = ns_objective_len (obj);
  g_autofree float *x = ns_objective_initial (obj);
  g_autofree float *g1 = g_new (float, n), *g2 = g_new (float, n);
  int before = ns_parallel_set_threads (1);
  double f1, f2;

  away_from_content (x, n);
  f1 = ns_objective_eval (obj, x, g1, NULL);
  ns_parallel_set_threads (2);
  f2 = ns_objective_eval (obj, x, g2, NULL);
  ns_parallel_set_threads (before);
  g_assert_cmpmem (&f1, sizeof f1, &f2, sizeof f2);
  g_assert_cmpmem (g1, n * sizeof (float), g2, n * sizeof (float));
}

/* Deeper layers take the network pass. */
static void
test_shallow_applies (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsNetwork) vgg = ns_network_new_embedded_variant ("random-vgg19", NULL);

  g_assert_true (ns_objective_shallow_applies (net, ns_network_layer_index (net, "relu1_1")));
  g_assert_false (ns_objective_shallow_applies (net, ns_network_layer_index (net, "relu1_2")));
  g_assert_true (ns_objective_shallow_applies (vgg, ns_network_layer_index (vgg, "relu1_1")));
  g_assert_false (ns_objective_shallow_applies (vgg, ns_network_layer_index (vgg, "relu2_1")));
}

/* ---- Winograd's transformed weights, kept (conv-cache.c) ------------------------------------ */

/* VGG-19's topology (random weights, max pooling): the evaluations of a KEPT_W × KEPT_H
 * content run conv1_2 … conv3_4 by Winograd, and the set-up's forward pass of a KEPT_STYLE-px
 * style conv4_x too (whose weights a call without the cache makes in several groups of
 * elements). */
#define KEPT_W     128
#define KEPT_H     112
#define KEPT_STYLE 200

static void
kept_options (NsOptions *opt)
{
  ns_options_set_content_layer (opt, "relu4_2");
  g_assert_true (ns_options_set_style_layers (opt, "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1",
                                              NULL));
  /* The style at its own size beside this content. */
  ns_options_set_style_scale (opt, (double) KEPT_STYLE / KEPT_W);
}

static NsObjective *
kept_objective (const NsNetwork *net, int tile, gboolean per_call)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (KEPT_W, KEPT_H, 3, 21);
  g_autoptr (NsImage) style = make_image (KEPT_STYLE, KEPT_STYLE, 3, 22);
  const NsImage *styles[] = { style };
  NsObjectiveConfig config = { tile, 0, TRUE, FALSE, NULL };
  g_autoptr (GError) error = NULL;
  NsObjective *obj;

  config.transform_per_call = per_call;
  kept_options (opt);
  obj = ns_objective_new_full (net, opt, content, styles, NULL, 1, &config, &error);
  g_assert_no_error (error);
  g_assert_true ((obj->convs == NULL) == per_call);
  return obj;
}

/* An evaluation with the transformed weights kept gives the bits of one that transforms them
 * in every call, whole and in tiles, on one thread and on two (the weights made on the first
 * are used on the second); the cache then holds what the memory plan counts. */
static void
test_kept_transforms (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("random-vgg19", NULL);

  for (int tiled = 0; tiled <= 1; tiled++)
    {
      g_autoptr (NsObjective) kept = kept_objective (net, tiled ? 64 : 0, FALSE);
      g_autoptr (NsObjective) per_call = kept_objective (net, tiled ? 64 : 0, TRUE);
      gsize n = ns_objective_len (kept);
      g_autofree float *x = ns_objective_initial (kept);
      g_autofree float *g1 = g_new (float, n), *g2 = g_new (float, n);
      guint64 held;

      away_from_content (x, n);
      for (int threads = 1; threads <= 2; threads++)
        {
          double f1, f2;

          ns_parallel_set_threads (threads);
          f1 = ns_objective_eval (kept, x, g1, NULL);
          f2 = ns_objective_eval (per_call, x, g2, NULL);
          g_test_message ("%s, %d threads: loss %.9g kept, %.9g per call",
                          tiled ? "tiled" : "whole", threads, f1, f2);
          g_assert_true (isfinite (f1) && f1 > 0.0);
          g_assert_cmpmem (&f1, sizeof f1, &f2, sizeof f2);
          g_assert_cmpmem (g1, n * sizeof (float), g2, n * sizeof (float));
        }
      held = ns_conv_cache_bytes (kept->convs);
      g_test_message ("%s: %" G_GUINT64_FORMAT " bytes of transformed weights",
                      tiled ? "tiled" : "whole", held);
      if (! tiled)
        {
          g_assert_cmpuint (held, ==, ns_conv_cache_plan_bytes (net, kept->last, KEPT_H, KEPT_W,
                                                                KEPT_STYLE, KEPT_STYLE));
          /* The style's pass adds conv4_x forward, and no input gradient. */
          g_assert_cmpuint (held, >, ns_conv_cache_plan_bytes (net, kept->last, KEPT_H, KEPT_W,
                                                               KEPT_H, KEPT_W));
        }
    }
  ns_parallel_set_threads (0);
}

/* The memory plan counts the transformed weights in the size's peak, as much as the cache
 * holds (above), and a budget without room for them gives them up first: the same
 * arrangement, transforming per call. */
static void
test_kept_transforms_plan (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("random-vgg19", NULL);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (NsRunPlan) roomy = NULL;
  g_autoptr (NsRunPlan) tight = NULL;
  const NsImage content = { KEPT_W, KEPT_H, 3, NULL };
  const NsImage style = { KEPT_STYLE, KEPT_STYLE, 3, NULL };
  const NsImage *styles[] = { &style };
  int last = ns_network_layer_index (net, "relu5_1");
  guint64 transforms = ns_conv_cache_plan_bytes (net, last, KEPT_H, KEPT_W, KEPT_STYLE,
                                                 KEPT_STYLE);
  const NsScalePlan *p, *q;

  kept_options (opt);
  ns_options_set_scales (opt, 1);
  ns_options_set_iterations (opt, 10);
  ns_options_set_max_memory (opt, (guint64) 8 << 30);
  roomy = ns_run_plan_new (net, opt, &content, styles, 1, NULL, &error);
  g_assert_no_error (error);
  p = &roomy->scales[0];
  g_assert_true (p->keep_transforms);
  g_assert_cmpint (p->tile, ==, 0);
  g_assert_cmpuint (transforms, >, 50 << 20);

  /* Room for all but half of them (the plan keeps 5% of the budget in reserve). */
  ns_options_set_max_memory (opt, (guint64) ((p->peak_bytes - transforms / 2) / 0.95));
  tight = ns_run_plan_new (net, opt, &content, styles, 1, NULL, &error);
  g_assert_no_error (error);
  q = &tight->scales[0];
  g_test_message ("peak %" G_GUINT64_FORMAT " MiB kept, %" G_GUINT64_FORMAT " MiB per call, "
                  "transformed weights %" G_GUINT64_FORMAT " MiB", p->peak_bytes >> 20,
                  q->peak_bytes >> 20, transforms >> 20);
  g_assert_false (q->keep_transforms);
  g_assert_cmpint (q->tile, ==, 0);
  g_assert_cmpint (q->optimizer, ==, p->optimizer);
  g_assert_cmpint (q->lbfgs_history, ==, p->lbfgs_history);
  g_assert_cmpuint (p->peak_bytes - q->peak_bytes, ==, transforms);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/objective/parts", test_parts);
  g_test_add_func ("/objective/buffer-cache", test_buffer_cache);
  g_test_add_func ("/objective/buffer-cache-slack", test_buffer_cache_slack);
  g_test_add_func ("/objective/buffer-reuse", test_buffer_reuse);
  g_test_add_func ("/objective/repeat-bits", test_repeat_bits);
  g_test_add_func ("/objective/bad-layers", test_bad_layers);
  g_test_add_func ("/objective/cancel", test_cancel);
  g_test_add_func ("/objective/kept-transforms", test_kept_transforms);
  g_test_add_func ("/objective/kept-transforms-plan", test_kept_transforms_plan);
  g_test_add_func ("/objective/shallow/same-colour", test_shallow_colour);
  g_test_add_func ("/objective/shallow/same-luminance", test_shallow_luminance);
  g_test_add_func ("/objective/shallow/gradient", test_shallow_gradient);
  g_test_add_func ("/objective/shallow/threads", test_shallow_threads);
  g_test_add_func ("/objective/shallow/applies", test_shallow_applies);
  g_test_add_func ("/objective/temporal/colour", test_temporal_colour);
  g_test_add_func ("/objective/temporal/luminance", test_temporal_luminance);
  g_test_add_func ("/objective/temporal/gradient-colour", test_temporal_gradient);
  g_test_add_func ("/objective/temporal/gradient-luminance", test_temporal_gradient_y);
  g_test_add_func ("/objective/gradient/style-colours", test_grad_style_colours);
  g_test_add_func ("/objective/gradient/luminance", test_grad_luminance);
  g_test_add_func ("/objective/gradient/histogram", test_grad_histogram);
  return g_test_run ();
}
