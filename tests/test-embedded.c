/* test-embedded.c — the built-in networks (embedded.c), the NS_LAYER_CONV_KEEP layer and
 * the per-channel loss normalisation: forward passes against hand-made compositions,
 * backward passes against finite differences, the wavelet filters' defining properties,
 * and the normalised losses recomputed independently in double precision. */
#include <math.h>
#include <string.h>
#include "ns-internal.h"
#include "testutil.h"
#include "positive-weights.h"

/* ---- NS_LAYER_CONV_KEEP ---------------------------------------------------------------------- */

/* One CONV_KEEP layer on a 6-channel input: conv of channels 2…4 to 4 outputs, then input
 * channels 1…3 kept (overlapping the convolved ones, so that the backward pass must add). */
static NsNetwork *
conv_keep_network (void)
{
  NsNetwork *net = g_new0 (NsNetwork, 1);
  NsLayer *l;

  net->ref_count = 1;
  net->kind = NS_NETWORK_EMBEDDED;
  net->name = g_strdup ("test");
  net->n_layers = 1;
  net->layers = l = g_new0 (NsLayer, 1);
  l->kind = NS_LAYER_CONV_KEEP;
  g_strlcpy (l->name, "conv1_1", sizeof l->name);
  l->conv_first = 2;
  l->keep_first = 1;
  l->keep_count = 3;
  l->conv.cin = 3;
  l->conv.cout = 4;
  l->conv.weight = ns_floats_new (4 * 3 * 9);
  l->conv.bias = ns_floats_new (4);
  ns_test_fill (l->conv.weight, 4 * 3 * 9, 1, -1.0f, 1.0f);
  ns_test_fill (l->conv.bias, 4, 2, -0.5f, 0.5f);
  ns_conv_prepare (&l->conv);
  return net;
}

static void
test_conv_keep_forward (void)
{
  g_autoptr (NsNetwork) net = conv_keep_network ();
  int h = 7, w = 9;
  gsize hw = (gsize) h * w;
  g_autoptr (NsTensor) x = ns_tensor_new (6, h, w);
  g_autoptr (NsTensor) part = ns_tensor_new (3, h, w);
  g_autoptr (NsTensor) conv = ns_tensor_new (4, h, w);
  NsActivations *acts;
  const NsTensor *out;

  ns_test_fill (x->data, ns_tensor_len (x), 3, -1.0f, 1.0f);
  memcpy (part->data, x->data + 2 * hw, 3 * hw * sizeof (float));
  ns_conv3x3_forward (&net->layers[0].conv, NULL, part, conv);
  acts = ns_network_forward (net, NULL, x, 0);
  out = acts->act[0];
  g_assert_cmpint (out->c, ==, 7);
  for (gsize i = 0; i < 4 * hw; i++)
    g_assert_cmpfloat (out->data[i], ==, conv->data[i]);
  for (gsize i = 0; i < 3 * hw; i++)
    g_assert_cmpfloat (out->data[4 * hw + i], ==, x->data[hw + i]);
  ns_activations_free (acts);
}

typedef struct
{
  NsNetwork *net;
  int        c, h, w, last;
  int        n_taps;
  int        taps[4];
  float     *r[4];        /* a linear loss Σ r·act at each tap */
  guint64    signature;   /* ReLU on/off pattern of the last forward pass */
  gboolean   border_only; /* check_pieces checks pixels on the image's border only */
} NetCase;

/* FNV-1a over every ReLU's on/off state: the linear piece of the network x lies on. */
static guint64
relu_pattern (const NsNetwork *net, const NsActivations *acts)
{
  guint64 h = G_GUINT64_CONSTANT (1469598103934665603);

  for (int i = 0; i < acts->n; i++)
    if (net->layers[i].kind == NS_LAYER_RELU)
      for (gsize k = 0; k < ns_tensor_len (acts->act[i]); k++)
        h = (h ^ (acts->act[i]->data[k] > 0.0f)) * G_GUINT64_CONSTANT (1099511628211);
  return h;
}

static double
linear_loss (const float *x, float *grad, gpointer data)
{
  NetCase *nc = data;
  gsize n = (gsize) nc->c * nc->h * nc->w;
  NsTensor in = { nc->c, nc->h, nc->w, g_memdup2 (x, n * sizeof (float)) };
  NsActivations *acts = ns_network_forward (nc->net, NULL, &in, nc->last);
  NsTensor **grads = g_new0 (NsTensor *, nc->net->n_layers);
  double L = 0.0;

  for (int k = 0; k < nc->n_taps; k++)
    {
      const NsTensor *a = acts->act[nc->taps[k]];

      for (gsize i = 0; i < ns_tensor_len (a); i++)
        L += (double) nc->r[k][i] * a->data[i];
      if (grad)
        {
          grads[nc->taps[k]] = ns_tensor_new_like (a);
          memcpy (grads[nc->taps[k]]->data, nc->r[k], ns_tensor_len (a) * sizeof (float));
        }
    }
  if (grad)
    {
      NsTensor gi = { nc->c, nc->h, nc->w, grad };

      ns_network_backward (nc->net, NULL, acts, grads, &gi);
    }
  for (int i = 0; i < nc->net->n_layers; i++)
    ns_tensor_free (grads[i]);
  g_free (grads);
  nc->signature = relu_pattern (nc->net, acts);
  ns_activations_free (acts);
  g_free (in.data);
  return L;
}

static void
net_case_init (NetCase *nc)
{
  gsize n = (gsize) nc->c * nc->h * nc->w;
  NsTensor probe = { nc->c, nc->h, nc->w, ns_floats_new (n) };
  NsActivations *acts = ns_network_forward (nc->net, NULL, &probe, nc->last);

  for (int k = 0; k < nc->n_taps; k++)
    {
      gsize len = ns_tensor_len (acts->act[nc->taps[k]]);

      nc->r[k] = g_new (float, len);
      ns_test_fill (nc->r[k], len, 20 + k, -1.0f, 1.0f);
    }
  ns_activations_free (acts);
  ns_floats_free (probe.data);
}

static void
net_case_clear (NetCase *nc)
{
  for (int k = 0; k < nc->n_taps; k++)
    g_free (nc->r[k]);
}

/* Central differences at `want` coordinates where x ± eps stay on x's linear piece (there
 * they are exact up to round-off).  Returns ‖analytic − numeric‖ / ‖numeric‖. */
static double
check_pieces (NetCase *nc, float *x, double eps, gsize want, gsize *checked)
{
  gsize n = (gsize) nc->c * nc->h * nc->w;
  g_autofree float *g = g_new0 (float, n);
  g_autoptr (GRand) r = g_rand_new_with_seed (4);
  double diff2 = 0.0, num2 = 0.0;
  guint64 sig0;

  linear_loss (x, g, nc);
  sig0 = nc->signature;
  *checked = 0;
  for (gsize tries = 0; tries < 40 * want && *checked < want; tries++)
    {
      gsize i = (gsize) g_rand_int_range (r, 0, (gint32) n);
      int px = (int) (i % nc->w), py = (int) (i / nc->w % nc->h);
      float saved = x[i];
      double fp, fm, num;
      gboolean same;

      if (nc->border_only && px > 0 && px < nc->w - 1 && py > 0 && py < nc->h - 1)
        continue;
      x[i] = saved + (float) eps;
      fp = linear_loss (x, NULL, nc);
      same = nc->signature == sig0;
      x[i] = saved - (float) eps;
      fm = linear_loss (x, NULL, nc);
      same = same && nc->signature == sig0;
      num = (fp - fm) / ((double) (saved + (float) eps) - (double) (saved - (float) eps));
      x[i] = saved;
      if (! same)
        continue;
      diff2 += (g[i] - num) * (g[i] - num);
      num2 += num * num;
      (*checked)++;
    }
  return sqrt (diff2 / MAX (num2, 1e-300));
}

static void
test_conv_keep_backward (void)
{
  NetCase nc = { .c = 6, .h = 6, .w = 8, .last = 0, .n_taps = 1, .taps = { 0 } };
  g_autofree float *x = g_new (float, 6 * 6 * 8);
  gsize checked;
  double err;

  nc.net = conv_keep_network ();
  net_case_init (&nc);
  ns_test_fill (x, 6 * 6 * 8, 9, -1.0f, 1.0f);
  /* Linear: every coordinate can be checked, including channel 0 (neither convolved nor
   * kept, gradient 0) and channels 2, 3 (convolved and kept). */
  err = check_pieces (&nc, x, 1e-2, 6 * 6 * 8, &checked);
  g_test_message ("CONV_KEEP: relative gradient error %.3g over %zu coordinates", err, checked);
  g_assert_cmpuint (checked, ==, 6 * 6 * 8);
  g_assert_cmpfloat (err, <, 1e-4);
  net_case_clear (&nc);
  ns_network_unref (nc.net);
}

/* ---- the pyramid networks ----------------------------------------------------------------- */

/* The whole network (every layer kind it uses: CONV, CONV_KEEP, ReLU, average pooling)
 * against finite differences, with losses at three depths. */
static void
check_network_backward (const char *variant, const char *tap_names[3], NsPadding padding)
{
  NetCase nc = { .c = 3, .h = 19, .w = 22, .n_taps = 3,
                 .border_only = padding != NS_PADDING_ZERO };
  g_autoptr (GError) error = NULL;
  g_autofree float *x = g_new (float, 3 * 19 * 22);
  gsize checked;
  double err;

  nc.net = ns_network_new_embedded_variant (variant, &error);
  g_assert_no_error (error);
  if (padding != NS_PADDING_ZERO)        /* else the network's own */
    ns_network_set_padding (nc.net, padding, -1);
  for (int k = 0; k < 3; k++)
    {
      nc.taps[k] = ns_network_layer_index (nc.net, tap_names[k]);
      g_assert_cmpint (nc.taps[k], >=, 0);
    }
  nc.last = nc.taps[2];
  net_case_init (&nc);
  ns_test_fill (x, 3 * 19 * 22, 7, -1.5f, 1.5f);
  err = check_pieces (&nc, x, 1e-3, 30, &checked);
  g_test_message ("%s, padding %d: relative gradient error %.3g over %zu coordinates%s", variant,
                  padding, err, checked, nc.border_only ? " on the border" : "");
  g_assert_cmpuint (checked, ==, 30);
  g_assert_cmpfloat (err, <, 1e-2);
  net_case_clear (&nc);
  ns_network_unref (nc.net);
}

static void
test_wavelet_backward (void)
{
  const char *taps[3] = { "relu1_1", "relu2_2", "relu3_2" };

  check_network_backward ("wavelet,scales=3,shifts=4", taps, NS_PADDING_ZERO);
}

static void
test_random_pyramid_backward (void)
{
  const char *taps[3] = { "relu1_1", "pool1", "relu3_1" };

  check_network_backward ("random-pyramid,scales=3", taps, NS_PADDING_ZERO);
}

/* Replicate and reflect padding in every convolution (CONV and CONV_KEEP, forward by im2col
 * and Winograd, input gradient by col2im), checked on the border pixels, where they differ. */
static void
test_padding_backward (void)
{
  const char *taps[3] = { "relu1_2", "pool1", "relu2_2" };

  check_network_backward ("random-pyramid,scales=3,shifts=2", taps, NS_PADDING_REPLICATE);
  check_network_backward ("random-pyramid,scales=3,shifts=2", taps, NS_PADDING_REFLECT);
}

/* On a flat image every band filter gives 0 away from the borders (the zero padding makes
 * edges there), and the low-pass pairs give ±(opponent colour of the normalised input). */
static void
test_wavelet_flat_image (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("wavelet,scales=2", NULL);
  int h = 12, w = 14, relu = ns_network_layer_index (net, "relu1_1");
  float rgb[3] = { 0.8f, 0.3f, 0.1f };
  g_autoptr (NsTensor) x = ns_tensor_new (3, h, w);
  NsActivations *acts;
  const NsTensor *a;
  double opp[3] = { 0 };
  static const double axes[3][3] = {
    { 1 / 1.7320508075688772, 1 / 1.7320508075688772, 1 / 1.7320508075688772 },
    { 1 / 1.4142135623730951, -1 / 1.4142135623730951, 0 },
    { 1 / 2.4494897427875, 1 / 2.4494897427875, -2 / 2.4494897427875 },
  };

  g_assert_cmpint (relu, >=, 0);
  for (int c = 0; c < 3; c++)
    {
      float v = (rgb[c] - net->mean[c]) / net->std[c];

      for (gsize i = 0; i < (gsize) h * w; i++)
        x->data[c * h * w + i] = v;
      for (int k = 0; k < 3; k++)
        opp[k] += axes[k][c] * v;
    }
  acts = ns_network_forward (net, NULL, x, relu);
  a = acts->act[relu];
  g_assert_cmpint (a->c, >, 6);
  for (int ch = 0; ch < a->c; ch++)
    for (int y = 1; y < h - 1; y++)
      for (int xx = 1; xx < w - 1; xx++)
        {
          float v = a->data[((gsize) ch * h + y) * w + xx];
          double want = ch >= 6 ? 0.0 : MAX (0.0, (ch % 2 ? -1 : 1) * opp[ch / 2]);

          g_assert_cmpfloat (fabs (v - want), <, 1e-5);
        }
  ns_activations_free (acts);
}

/* Vertical stripes excite the filters tuned to horizontal change far more than those tuned
 * to vertical change: the bands are oriented. */
static void
test_wavelet_orientation (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("wavelet,scales=2,orients=4", NULL);
  int h = 16, w = 16, relu = ns_network_layer_index (net, "relu1_1");
  g_autoptr (NsTensor) x = ns_tensor_new (3, h, w);
  NsActivations *acts;
  double energy[4] = { 0 };

  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int xx = 0; xx < w; xx++)
        x->data[((gsize) c * h + y) * w + xx] = (float) cos (G_PI * xx / 2.0);
  acts = ns_network_forward (net, NULL, x, relu);
  /* Brightness bands: channels 6 …, 4 per orientation (2 phases × 2 signs). */
  for (int r = 0; r < 4; r++)
    for (int k = 0; k < 4; k++)
      for (int y = 2; y < h - 2; y++)
        for (int xx = 2; xx < w - 2; xx++)
          {
            double v = acts->act[relu]->data[((gsize) (6 + 4 * r + k) * h + y) * w + xx];

            energy[r] += v * v;
          }
  g_test_message ("energy by orientation: %.3g %.3g %.3g %.3g", energy[0], energy[1],
                  energy[2], energy[3]);
  g_assert_cmpfloat (energy[0], >, 10.0 * energy[2]);
  ns_activations_free (acts);
}

static void
test_deterministic (void)
{
  const char * const *names = ns_network_embedded_variants ();

  for (int v = 0; names[v]; v++)
    {
      g_autoptr (NsNetwork) a = ns_network_new_embedded_variant (names[v], NULL);
      g_autoptr (NsNetwork) b = ns_network_new_embedded_variant (names[v], NULL);

      g_assert_cmpint (a->n_layers, ==, b->n_layers);
      for (int i = 0; i < a->n_layers; i++)
        if (a->layers[i].kind == NS_LAYER_CONV || a->layers[i].kind == NS_LAYER_CONV_KEEP)
          g_assert_cmpmem (a->layers[i].conv.weight,
                           (gsize) a->layers[i].conv.cout * a->layers[i].conv.cin * 9 * sizeof (float),
                           b->layers[i].conv.weight,
                           (gsize) b->layers[i].conv.cout * b->layers[i].conv.cin * 9 * sizeof (float));
    }
}

/* Every candidate builds, names existing ReLU layers as its defaults and describes itself;
 * unknown names and parameters are refused with the choices listed. */
static void
test_variants (void)
{
  const char * const *names = ns_network_embedded_variants ();
  g_autoptr (GError) error = NULL;
  NsNetwork *bad;
  int n = 0;

  for (int v = 0; names[v]; v++, n++)
    {
      g_autoptr (NsNetwork) net = ns_network_new_embedded_variant (names[v], &error);
      g_auto (GStrv) layers = NULL;

      g_assert_no_error (error);
      g_assert_cmpint (ns_network_get_kind (net), ==, NS_NETWORK_EMBEDDED);
      g_assert_nonnull (ns_network_get_description (net));
      g_assert_true (ns_network_has_layer (net, ns_network_default_content_layer (net)));
      layers = g_strsplit (ns_network_default_style_layers (net), ",", -1);
      for (int k = 0; layers[k]; k++)
        {
          int i = ns_network_layer_index (net, layers[k]);

          g_assert_cmpint (i, >=, 0);
          g_assert_cmpint (net->layers[i].kind, ==, NS_LAYER_RELU);
        }
    }
  g_assert_cmpint (n, >=, 3);

  bad = ns_network_new_embedded_variant ("no-such-network", &error);
  g_assert_null (bad);
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "wavelet"));
  g_clear_error (&error);
  bad = ns_network_new_embedded_variant ("wavelet,colours=2", &error);
  g_assert_null (bad);
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  bad = ns_network_new_embedded_variant ("wavelet,nonsense=1", &error);
  g_assert_null (bad);
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
}

/* The network the engine uses with no download: small images (the CLI tests use 48 px)
 * must work with its defaults, and it should cost far less than VGG-19 per pixel. */
static void
test_default (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = ns_image_new (48, 40, 3);
  g_autoptr (NsImage) style = ns_image_new (40, 48, 3);
  const NsImage *styles[] = { style };
  g_autoptr (GError) error = NULL;
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL, *g = NULL;
  int deepest = 0;
  double f;

  g_assert_cmpstr (ns_network_get_name (net), ==, "embedded");
  ns_options_apply_network_defaults (opt, net);
  for (int k = 0; k < opt->n_style_layers; k++)
    deepest = MAX (deepest, ns_network_layer_index (net, opt->style_layers[k].name));
  g_assert_cmpint (ns_network_layer_stride_log2 (net, deepest), <=, 5);
  ns_test_fill (content->data, 48 * 40 * 3, 1, 0.0f, 1.0f);
  ns_test_fill (style->data, 48 * 40 * 3, 2, 0.0f, 1.0f);
  obj = ns_objective_new (net, opt, content, styles, NULL, 1, &error);
  g_assert_no_error (error);
  x = ns_objective_initial (obj);
  g = g_new (float, ns_objective_len (obj));
  f = ns_objective_eval (obj, x, g, NULL);
  g_assert_true (isfinite (f) && f > 0.0);
  for (gsize i = 0; i < ns_objective_len (obj); i++)
    g_assert_true (isfinite (g[i]));
}

/* ---- per-channel normalisation --------------------------------------------------------------- */

/* random-vgg19-chan with positive weights and biases: every ReLU stays on, so the objective
 * is smooth and central differences are meaningful. */
static NsNetwork *
smooth_channel_network (void)
{
  NsNetwork *net = ns_network_new_embedded_variant ("random-vgg19-chan", NULL);

  g_assert_true (net->normalize_channels);
  for (int i = 0; i < net->n_layers; i++)
    {
      NsLayer *l = &net->layers[i];

      if (l->kind != NS_LAYER_CONV)
        continue;
      ns_test_positive_conv (l, i);
      /* Very unequal channel magnitudes, which the normalisation is there to even out. */
      for (int o = 0; o < l->conv.cout; o++)
        l->conv.bias[o] += i == 0 ? 3.0f + 0.5f * (o % 7) : 0.0f;
      ns_conv_prepare (&l->conv);
    }
  return net;
}

static double
eval_cb (const float *x, float *grad, gpointer data)
{
  return ns_objective_eval (data, x, grad, NULL);
}

static void
test_channel_normalisation_gradient (void)
{
  g_autoptr (NsNetwork) net = smooth_channel_network ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = ns_image_new (19, 17, 3);
  g_autoptr (NsImage) style = ns_image_new (23, 16, 3);
  const NsImage *styles[] = { style };
  g_autoptr (GError) error = NULL;
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL;
  double err;

  ns_test_fill (content->data, 19 * 17 * 3, 1, 0.05f, 0.95f);
  ns_test_fill (style->data, 23 * 16 * 3, 2, 0.05f, 0.95f);
  ns_options_set_style_layers (opt, "relu1_1,relu2_1:0.5,relu3_1", NULL);
  ns_options_set_content_layer (opt, "relu2_2");
  ns_options_set_tv_weight (opt, 0.5);
  obj = ns_objective_new (net, opt, content, styles, NULL, 1, &error);
  g_assert_no_error (error);
  x = ns_objective_initial (obj);
  for (gsize i = 0; i < ns_objective_len (obj); i++)
    x[i] += 0.1f * sinf ((float) i);
  /* The large positive offsets that keep every ReLU on make the Gram and content terms
   * differences of nearly equal floats: single-coordinate differences then measure the BLAS
   * kernel's round-off (2–5% on OpenBLAS's Cooperlake kernels at any step).  Directional
   * derivatives move every coordinate and stay far above it (measured: ≤ 0.21% on the
   * Cooperlake, Haswell and SkylakeX kernels). */
  err = ns_test_gradcheck_directional (eval_cb, obj, x, ns_objective_len (obj), 1e-2, 8, 9);
  g_test_message ("per-channel normalisation: worst directional gradient error %.3g", err);
  g_assert_cmpfloat (err, <, 1e-2);
}

/* Per-channel gains 1 / sqrt (ms_c + 1% of the mean ms), as documented in ns-internal.h. */
static void
gains (const double *ms, int c, double *s)
{
  double mean = 0.0;

  for (int i = 0; i < c; i++)
    mean += ms[i] / c;
  for (int i = 0; i < c; i++)
    s[i] = 1.0 / sqrt (ms[i] + 1e-2 * mean);
}

static void
gram_d (const NsTensor *f, double *g)
{
  gsize hw = (gsize) f->h * f->w;

  for (int i = 0; i < f->c; i++)
    for (int j = 0; j < f->c; j++)
      {
        double s = 0.0;

        for (gsize k = 0; k < hw; k++)
          s += (double) f->data[i * hw + k] * f->data[j * hw + k];
        g[i * f->c + j] = s / ((double) f->c * hw);
      }
}

/* The normalised style and content terms recomputed from the features in double, with the
 * per-layer normalisation (divide by the mean square of the scaled target) on top. */
static void
test_channel_normalisation_value (void)
{
  g_autoptr (NsNetwork) net = smooth_channel_network ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = ns_image_new (16, 16, 3);
  g_autoptr (NsImage) style = ns_image_new (16, 16, 3);
  g_autoptr (NsImage) other = ns_image_new (16, 16, 3);
  const NsImage *styles[] = { style };
  g_autoptr (NsObjective) obj = NULL;
  g_autoptr (NsTensor) xs = NULL, xo = NULL, xc = NULL;
  NsActivations *as, *ao, *ac;
  int layer = 0;
  double parts[3], style_want = 0.0, content_want = 0.0;

  ns_test_fill (content->data, 16 * 16 * 3, 3, 0.0f, 1.0f);
  ns_test_fill (style->data, 16 * 16 * 3, 4, 0.0f, 1.0f);
  ns_test_fill (other->data, 16 * 16 * 3, 5, 0.0f, 1.0f);
  ns_options_set_style_layers (opt, "relu1_1", NULL);
  ns_options_set_content_layer (opt, "relu1_1");
  ns_options_set_content_weight (opt, 2.0);
  ns_options_set_style_weight (opt, 3.0);
  ns_options_set_tv_weight (opt, 0.0);
  obj = ns_objective_new (net, opt, content, styles, NULL, 1, NULL);
  g_assert_nonnull (obj);
  layer = ns_network_layer_index (net, "relu1_1");

  xs = ns_color_to_network (style, net->mean, net->std);
  xo = ns_color_to_network (other, net->mean, net->std);
  xc = ns_color_to_network (content, net->mean, net->std);
  as = ns_network_forward (net, NULL, xs, layer);
  ao = ns_network_forward (net, NULL, xo, layer);
  ac = ns_network_forward (net, NULL, xc, layer);
  {
    const NsTensor *fs = as->act[layer], *fo = ao->act[layer], *fc = ac->act[layer];
    int c = fs->c;
    gsize hw = (gsize) fs->h * fs->w;
    g_autofree double *a = g_new (double, c * c), *g = g_new (double, c * c);
    g_autofree double *ms = g_new (double, c), *s = g_new (double, c);
    double norm = 0.0, diff = 0.0;

    gram_d (fs, a);
    gram_d (fo, g);
    for (int i = 0; i < c; i++)
      ms[i] = a[i * c + i];
    gains (ms, c, s);
    for (int i = 0; i < c; i++)
      for (int j = 0; j < c; j++)
        {
          double t = a[i * c + j] * s[i] * s[j], u = g[i * c + j] * s[i] * s[j];

          norm += t * t;
          diff += (u - t) * (u - t);
        }
    style_want = 3.0 * net->style_gain * diff / norm;   /* β on VGG-19's scale */

    for (int i = 0; i < c; i++)
      {
        double m = 0.0;

        for (gsize k = 0; k < hw; k++)
          m += (double) fc->data[i * hw + k] * fc->data[i * hw + k] / hw;
        ms[i] = m;
      }
    gains (ms, c, s);
    norm = diff = 0.0;
    for (int i = 0; i < c; i++)
      for (gsize k = 0; k < hw; k++)
        {
          double t = fc->data[i * hw + k] * s[i], u = fo->data[i * hw + k] * s[i];

          norm += t * t;
          diff += (u - t) * (u - t);
        }
    content_want = 2.0 * net->content_gain * diff / norm;
  }
  ns_activations_free (as);
  ns_activations_free (ao);
  ns_activations_free (ac);

  {
    g_autofree float *x = g_new (float, 3 * 16 * 16);

    /* x is planar [0,1] RGB: the other image. */
    for (int c = 0; c < 3; c++)
      for (int i = 0; i < 16 * 16; i++)
        x[c * 256 + i] = other->data[3 * i + c];
    ns_objective_eval (obj, x, NULL, parts);
  }
  g_test_message ("style %.6g (want %.6g), content %.6g (want %.6g)", parts[1], style_want,
                  parts[0], content_want);
  g_assert_cmpfloat (fabs (parts[1] - style_want), <, 1e-4 * style_want);
  g_assert_cmpfloat (fabs (parts[0] - content_want), <, 1e-4 * content_want);
}

/* ---- one scale of weights for every network --------------------------------------------- */

/* The loss parts (content, style, tv) of the built-in network at α, β, TV. */
static void
weighted_parts (NsNetwork *net, double alpha, double beta, double tv, double parts[3])
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = ns_image_new (40, 32, 3);
  g_autoptr (NsImage) style = ns_image_new (36, 36, 3);
  const NsImage *styles[] = { style };
  g_autoptr (GError) error = NULL;
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL;

  ns_test_fill (content->data, 40 * 32 * 3, 11, 0.0f, 1.0f);
  ns_test_fill (style->data, 36 * 36 * 3, 12, 0.0f, 1.0f);
  ns_options_set_content_weight (opt, alpha);
  ns_options_set_style_weight (opt, beta);
  ns_options_set_tv_weight (opt, tv);
  obj = ns_objective_new (net, opt, content, styles, NULL, 1, &error);
  g_assert_no_error (error);
  x = ns_objective_initial (obj);
  for (gsize i = 0; i < ns_objective_len (obj); i++)
    x[i] += 0.05f * sinf ((float) i);
  ns_objective_eval (obj, x, NULL, parts);
}

/* The user's α, β and TV weight are on VGG-19's scale; the built-in network applies its gains,
 * so its defaults need not differ (and the plug-in's registered defaults fit both). */
static void
test_weight_gains (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  double gain_c = net->content_gain, gain_s = net->style_gain, gain_tv = net->tv_gain;
  double a[3], b[3];

  /* Defaults do not depend on the network. */
  ns_options_apply_network_defaults (opt, net);
  g_assert_cmpfloat (ns_options_get_content_weight (opt), ==, 1.0);
  g_assert_cmpfloat (ns_options_get_style_weight (opt), ==, 1e6);
  g_assert_cmpfloat (ns_options_get_tv_weight (opt), ==, 1.0);
  g_assert_cmpfloat (gain_s, !=, 1.0);

  weighted_parts (net, 2.0, 3e6, 0.5, a);
  net->content_gain = net->style_gain = net->tv_gain = 1.0;
  weighted_parts (net, 2.0 * gain_c, 3e6 * gain_s, 0.5 * gain_tv, b);
  for (int k = 0; k < 3; k++)
    {
      g_test_message ("part %d: %.9g with gains, %.9g with the weights scaled", k, a[k], b[k]);
      g_assert_cmpfloat (a[k], >, 0.0);
      g_assert_cmpfloat (fabs (a[k] - b[k]), <=, 1e-6 * fabs (b[k]));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/embedded/conv-keep/forward", test_conv_keep_forward);
  g_test_add_func ("/embedded/conv-keep/backward", test_conv_keep_backward);
  g_test_add_func ("/embedded/wavelet/backward", test_wavelet_backward);
  g_test_add_func ("/embedded/random-pyramid/backward", test_random_pyramid_backward);
  g_test_add_func ("/embedded/padding/backward", test_padding_backward);
  g_test_add_func ("/embedded/wavelet/flat-image", test_wavelet_flat_image);
  g_test_add_func ("/embedded/wavelet/orientation", test_wavelet_orientation);
  g_test_add_func ("/embedded/deterministic", test_deterministic);
  g_test_add_func ("/embedded/variants", test_variants);
  g_test_add_func ("/embedded/default", test_default);
  g_test_add_func ("/embedded/weight-gains", test_weight_gains);
  g_test_add_func ("/embedded/channel-normalisation/gradient", test_channel_normalisation_gradient);
  g_test_add_func ("/embedded/channel-normalisation/value", test_channel_normalisation_value);
  return g_test_run ();
}
