/* test-tiling.c — tiles with a halo give the whole image's losses and gradient: the tile
 * grid, the receptive field it relies on, the memory-lean network pass, and tiled against
 * untiled objectives (VGG-19's topology with random weights, and the embedded network). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "ns-internal.h"
#include "testutil.h"

/* VGG-19's topology with He-scaled random weights: activations keep their size through the
 * 16 convolutions, and the many zeros after the ReLUs make ties in the max pooling. */
static NsNetwork *
random_vgg19 (guint32 seed)
{
  NsNetwork *net = ns_network_new_vgg19_topology (NS_NETWORK_VGG19, "vgg19");

  for (int i = 0; i < net->n_layers; i++)
    {
      NsConv *conv = &net->layers[i].conv;
      float r;

      if (net->layers[i].kind != NS_LAYER_CONV)
        continue;
      r = sqrtf (6.0f / (conv->cin * 9));
      ns_test_fill (conv->weight, (gsize) conv->cout * conv->cin * 9, seed + i, -r, r);
      ns_test_fill (conv->bias, conv->cout, seed + 100 + i, -0.05f, 0.1f);
      ns_conv_prepare (conv);
    }
  return net;
}

static NsImage *
make_image (int w, int h, guint32 seed)
{
  return ns_test_image (w, h, seed, 0.05f);
}

/* ---- the grid ------------------------------------------------------------------------------ */

static void
test_plan (void)
{
  static const int cases[][4] = { { 300, 200, 128, 96 }, { 128, 128, 128, 96 }, { 17, 250, 64, 32 },
                                  { 1000, 1, 128, 16 } };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      int w = cases[c][0], h = cases[c][1], tile = cases[c][2], halo = cases[c][3];
      g_autoptr (NsTilePlan) plan = ns_tile_plan_new (w, h, tile, halo);
      g_autofree guint8 *covered = g_new0 (guint8, (gsize) w * h);

      g_assert_cmpint (plan->n, ==, ((w + tile - 1) / tile) * ((h + tile - 1) / tile));
      for (int t = 0; t < plan->n; t++)
        {
          const NsTile *tl = &plan->tiles[t];

          g_assert_cmpint (tl->core.x0 % tile, ==, 0);
          g_assert_cmpint (tl->core.y0 % tile, ==, 0);
          g_assert_cmpint (tl->crop.x0, ==, MAX (0, tl->core.x0 - halo));
          g_assert_cmpint (tl->crop.y0, ==, MAX (0, tl->core.y0 - halo));
          g_assert_cmpint (tl->crop.x1, ==, MIN (w, tl->core.x1 + halo));
          g_assert_cmpint (tl->crop.y1, ==, MIN (h, tl->core.y1 + halo));
          for (int y = tl->core.y0; y < tl->core.y1; y++)
            for (int x = tl->core.x0; x < tl->core.x1; x++)
              covered[(gsize) y * w + x]++;
        }
      /* The cores partition the image. */
      for (gsize i = 0; i < (gsize) w * h; i++)
        g_assert_cmpint (covered[i], ==, 1);
    }
}

/* The receptive radius of VGG-19 up to relu5_1, counted by hand: conv1_x 2·1, pool1 1,
 * conv2_x 2·2, pool2 2, conv3_x 4·4, pool3 4, conv4_x 4·8, pool4 8, conv5_1 16 = 85. */
static void
test_radius_vgg19 (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_vgg19_topology (NS_NETWORK_VGG19, "vgg19");
  int relu5_1 = ns_network_layer_index (net, "relu5_1");

  g_assert_cmpint (ns_network_receptive_radius (net, relu5_1), ==, 85);
  g_assert_cmpint (ns_network_halo (net, relu5_1), ==, 96);
  g_assert_cmpint (ns_network_alignment (net, relu5_1), ==, 16);
  g_assert_cmpint (ns_network_receptive_radius (net, ns_network_layer_index (net, "relu1_1")), ==, 1);
}

/* The radius is an upper bound: changing one input pixel leaves every feature farther away
 * than the radius unchanged (checked on relu3_1, radius 1+1+1+2+2+2+4 = 13). */
static void
test_radius_bound (void)
{
  g_autoptr (NsNetwork) net = random_vgg19 (11);
  int layer = ns_network_layer_index (net, "relu3_1");
  int radius = ns_network_receptive_radius (net, layer);
  int n = 64, px = 29, py = 34, stride = 4, changed_far = 0, changed_near = 0;
  g_autoptr (NsTensor) a = ns_tensor_new (3, n, n);
  g_autoptr (NsTensor) b = NULL;
  g_autoptr (NsActivations) fa = NULL;
  g_autoptr (NsActivations) fb = NULL;

  g_assert_cmpint (radius, ==, 13);
  ns_test_fill (a->data, ns_tensor_len (a), 5, -1.0f, 1.0f);
  b = ns_tensor_copy (a);
  for (int c = 0; c < 3; c++)
    b->data[((gsize) c * n + py) * n + px] += 5.0f;
  fa = ns_network_forward (net, NULL, a, layer);
  fb = ns_network_forward (net, NULL, b, layer);
  for (int c = 0; c < fa->act[layer]->c; c++)
    for (int y = 0; y < fa->act[layer]->h; y++)
      for (int x = 0; x < fa->act[layer]->w; x++)
        {
          gsize i = ((gsize) c * fa->act[layer]->h + y) * fa->act[layer]->w + x;
          /* Feature (x, y) covers input [stride·x, stride·x + stride) ± radius. */
          int dx = px < stride * x ? stride * x - px : MAX (0, px - (stride * x + stride - 1));
          int dy = py < stride * y ? stride * y - py : MAX (0, py - (stride * y + stride - 1));
          gboolean differs = fa->act[layer]->data[i] != fb->act[layer]->data[i];

          if (MAX (dx, dy) > radius)
            changed_far += differs;
          else
            changed_near += differs;
        }
  g_assert_cmpint (changed_far, ==, 0);
  g_assert_cmpint (changed_near, >, 0);    /* the test can fail */
}

/* ---- the lean pass --------------------------------------------------------------------------- */

typedef struct
{
  guint32 seed;
  int     calls;
} HookData;

/* Adds a fixed pseudo-random "loss gradient" at each hooked layer (a hook adds: the
 * gradient it is given may already hold what came from the layers above). */
static void
fill_hook (int layer, const NsTensor *act, NsTensor *grad, gpointer data)
{
  HookData *d = data;

  d->calls++;
  g_assert_nonnull (act);
  if (grad)
    {
      g_autofree float *v = g_new (float, ns_tensor_len (grad));

      ns_test_fill (v, ns_tensor_len (grad), d->seed + layer, -1.0f, 1.0f);
      for (gsize i = 0; i < ns_tensor_len (grad); i++)
        grad->data[i] += v[i];
    }
}

static void
check_pass (NsNetwork *net, int w, int h, const char * const *names)
{
  int last = 0;
  g_autofree gboolean *hooked = g_new0 (gboolean, net->n_layers);
  g_autoptr (NsTensor) in = ns_tensor_new (3, h, w);
  g_autoptr (NsTensor) copy = NULL;
  g_autoptr (NsTensor) g_lean = ns_tensor_new (3, h, w);
  g_autoptr (NsTensor) g_full = ns_tensor_new (3, h, w);
  NsTensor **grads = g_new0 (NsTensor *, net->n_layers);
  HookData d = { 77, 0 };
  int n_hooked = 0;

  for (int k = 0; names[k]; k++)
    {
      int i = ns_network_layer_index (net, names[k]);

      g_assert_cmpint (i, >=, 0);
      hooked[i] = TRUE;
      last = MAX (last, i);
      n_hooked++;
    }
  ns_test_fill (in->data, ns_tensor_len (in), 3, -2.0f, 2.0f);
  copy = ns_tensor_copy (in);
  ns_network_pass (net, NULL, in, last, hooked, fill_hook, &d, g_lean);
  g_assert_cmpint (d.calls, ==, n_hooked);
  g_assert_cmpmem (in->data, ns_tensor_len (in) * sizeof (float), copy->data,
                   ns_tensor_len (copy) * sizeof (float));

  {
    g_autoptr (NsActivations) acts = ns_network_forward (net, NULL, copy, last);

    for (int i = 0; i <= last; i++)
      if (hooked[i])
        {
          grads[i] = ns_tensor_new_like (acts->act[i]);
          fill_hook (i, acts->act[i], grads[i], &d);
        }
    ns_network_backward (net, NULL, acts, grads, g_full);
  }
  /* The same operations in the same order: bit for bit. */
  g_assert_cmpmem (g_lean->data, ns_tensor_len (g_lean) * sizeof (float), g_full->data,
                   ns_tensor_len (g_full) * sizeof (float));
  for (int i = 0; i < net->n_layers; i++)
    ns_tensor_free (grads[i]);
  g_free (grads);
}

static void
test_pass_vgg19 (void)
{
  g_autoptr (NsNetwork) net = random_vgg19 (21);
  const char *all[] = { "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1", NULL };
  const char *pools[] = { "pool2", "relu3_2", NULL };

  check_pass (net, 45, 38, all);
  check_pass (net, 33, 20, pools);
}

static void
test_pass_embedded (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_auto (GStrv) layers = g_strsplit (ns_network_default_style_layers (net), ",", -1);
  GPtrArray *names = g_ptr_array_new ();

  for (int i = 0; layers[i]; i++)
    {
      char *colon = strchr (layers[i], ':');

      if (colon)
        *colon = '\0';
      g_ptr_array_add (names, layers[i]);
    }
  g_ptr_array_add (names, (gpointer) ns_network_default_content_layer (net));
  g_ptr_array_add (names, NULL);
  check_pass (net, 50, 41, (const char * const *) names->pdata);
  g_ptr_array_free (names, TRUE);
}

/* A content loss against a fixed pseudo-random target at each hooked layer: the loss
 * hooks' elementwise work (chunked sums, gradient) inside the pass. */
typedef struct
{
  double loss;
} LossHook;

static void
content_hook (int layer, const NsTensor *act, NsTensor *grad, gpointer data)
{
  LossHook *d = data;
  g_autoptr (NsTensor) target = ns_tensor_new_like (act);

  ns_test_fill (target->data, ns_tensor_len (target), 500 + layer, 0.0f, 1.0f);
  d->loss += ns_content_loss (act, target, 1.0 + layer, grad);
  d->loss += ns_tv_loss (act, 0.5, grad);
}

/* The lean pass (VGG-19's kinds) and network.c's (the embedded network's kept channels)
 * give the same bits, losses and input gradient, at 1, 2 and 3 threads and on every vector
 * path: elementwise loops, poolings and sums are cut by the sizes alone.  The sizes make
 * the first layers large enough to be split. */
static void
check_pass_threads (NsNetwork *net, int w, int h, const char *layer_names)
{
  static const int threads[] = { 1, 2, 3 };
  g_auto (GStrv) names = g_strsplit (layer_names, ",", -1);
  g_autofree gboolean *hooked = g_new0 (gboolean, net->n_layers);
  g_autoptr (NsTensor) in = ns_tensor_new (3, h, w);
  g_autoptr (NsTensor) g_ref = ns_tensor_new (3, h, w);
  NsSimd native = ns_simd_level ();
  LossHook ref = { 0.0 };
  int last = 0;

  for (int k = 0; names[k]; k++)
    {
      char *colon = strchr (names[k], ':');
      int i;

      if (colon)
        *colon = '\0';
      i = ns_network_layer_index (net, names[k]);
      g_assert_cmpint (i, >=, 0);
      hooked[i] = TRUE;
      last = MAX (last, i);
    }
  ns_test_fill (in->data, ns_tensor_len (in), 9, -2.0f, 2.0f);
  ns_simd_override (NS_SIMD_PORTABLE);
  ns_parallel_set_threads (1);
  ns_network_pass (net, NULL, in, last, hooked, content_hook, &ref, g_ref);
  g_assert_true (isfinite (ref.loss));
  for (int level = NS_SIMD_PORTABLE; level <= NS_SIMD_AVX512; level++)
    for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
      {
        g_autoptr (NsTensor) g = ns_tensor_new (3, h, w);
        LossHook d = { 0.0 };

        ns_simd_override ((NsSimd) level);
        ns_parallel_set_threads (threads[t]);
        g_test_message ("%s: vector path %d, %d threads", net->name, ns_simd_level (),
                        threads[t]);
        ns_network_pass (net, NULL, in, last, hooked, content_hook, &d, g);
        g_assert_cmpmem (&d.loss, sizeof d.loss, &ref.loss, sizeof ref.loss);
        g_assert_cmpmem (g->data, ns_tensor_len (g) * sizeof (float), g_ref->data,
                         ns_tensor_len (g_ref) * sizeof (float));
      }
  ns_simd_override (native);
  ns_parallel_set_threads (0);
}

static void
test_pass_threads (void)
{
  g_autoptr (NsNetwork) vgg = random_vgg19 (31);
  g_autoptr (NsNetwork) embedded = ns_network_new_embedded ();
  g_autofree char *layers = g_strconcat (ns_network_default_style_layers (embedded), ",",
                                         ns_network_default_content_layer (embedded), NULL);

  check_pass_threads (vgg, 83, 70, "relu1_1,relu1_2,pool1,relu2_1,relu3_1");
  check_pass_threads (embedded, 131, 97, layers);
}

/* ---- tiled against untiled objectives ----------------------------------------------------------- */

typedef struct
{
  const char  *style_layers, *content_layer;
  NsColorMode  mode;
  int          w, h, tile;
  gboolean     cache;
  double       style_weight;     /* so that the three terms count alike in the gradient */
} Case;

static void
check_tiled (NsNetwork *net, const Case *k)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (k->w, k->h, 1);
  g_autoptr (NsImage) style = make_image (k->w * 3 / 4 + 5, k->h + 9, 2);
  const NsImage *styles[] = { style };
  NsObjectiveConfig config = { k->tile, 0, k->cache, TRUE };
  g_autoptr (GError) error = NULL;
  g_autoptr (NsObjective) whole = NULL;
  g_autoptr (NsObjective) tiled = NULL;
  g_autofree float *x = NULL;
  g_autofree float *gw = NULL;
  g_autofree float *gt = NULL;
  double pw[3], pt[3], fw, ft, err;
  gsize n;

  if (k->style_layers)
    g_assert_true (ns_options_set_style_layers (opt, k->style_layers, NULL));
  if (k->content_layer)
    ns_options_set_content_layer (opt, k->content_layer);
  ns_options_set_color_mode (opt, k->mode);
  ns_options_set_content_weight (opt, 300.0);
  ns_options_set_style_weight (opt, k->style_weight);
  ns_options_set_tv_weight (opt, 10.0);
  whole = ns_objective_new (net, opt, content, styles, NULL, 1, &error);
  g_assert_no_error (error);
  tiled = ns_objective_new_full (net, opt, content, styles, NULL, 1, &config, &error);
  g_assert_no_error (error);
  /* A sequence's frame: temporal terms (per pixel) in both evaluations. */
  for (int t = 0; t < 2; t++)
    {
      g_autoptr (NsImage) warped = make_image (k->w, k->h, 3 + t);
      g_autoptr (NsImage) reliability = ns_image_new (k->w, k->h, 1);

      for (gsize i = 0; i < (gsize) k->w * k->h; i++)
        reliability->data[i] = 0.5f + 0.5f * sinf ((float) i * (0.1f + t));
      g_assert_true (ns_objective_add_temporal (whole, warped, reliability, 200.0, NULL));
      g_assert_true (ns_objective_add_temporal (tiled, warped, reliability, 200.0, NULL));
    }

  n = ns_objective_len (whole);
  g_assert_cmpuint (ns_objective_len (tiled), ==, n);
  x = ns_objective_initial (whole);
  {
    g_autofree float *x2 = ns_objective_initial (tiled);

    g_assert_cmpmem (x, n * sizeof (float), x2, n * sizeof (float));
  }
  for (gsize i = 0; i < n; i++)
    x[i] += 0.05f * sinf ((float) i * 0.37f);
  gw = g_new (float, n);
  gt = g_new (float, n);
  fw = ns_objective_eval (whole, x, gw, pw);
  ft = ns_objective_eval (tiled, x, gt, pt);
  err = ns_test_rel_norm (gt, gw, n);
  g_test_message ("%d×%d, tile %d: loss %.9g vs %.9g (content %.3g style %.3g tv %.3g), "
                  "gradient rel. error %.2e", k->w, k->h, k->tile, ft, fw, pw[0], pw[1], pw[2], err);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (fabs (pt[i] - pw[i]), <=, 1e-5 * fabs (pw[i]) + 1e-12);
  /* The temporal terms: the total beyond the parts, alike. */
  g_assert_cmpfloat (fw - (pw[0] + pw[1] + pw[2]), >, 0.0);
  g_assert_cmpfloat (fabs (ft - fw), <=, 1e-5 * fabs (fw));
  g_assert_cmpfloat (pw[0], >, 0.0);
  g_assert_cmpfloat (pw[1], >, 0.0);
  g_assert_cmpfloat (err, <, 1e-4);
  /* Without a gradient the loss comes from pass 1 alone. */
  g_assert_cmpfloat (fabs (ns_objective_eval (tiled, x, NULL, NULL) - fw), <=, 1e-5 * fabs (fw));
}

/* A cancelled tiled objective stops between tiles and answers NaN. */
static void
test_cancel (void)
{
  g_autoptr (NsNetwork) net = random_vgg19 (71);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (64, 64, 3);
  const NsImage *styles[] = { content };
  gint stop = 0;
  NsObjectiveConfig config = { 32, 0, TRUE, TRUE, &stop };
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL;
  g_autofree float *g = NULL;

  ns_options_set_style_layers (opt, "relu1_1,relu2_1", NULL);
  ns_options_set_content_layer (opt, "relu2_2");
  obj = ns_objective_new_full (net, opt, content, styles, NULL, 1, &config, NULL);
  g_assert_nonnull (obj);
  x = ns_objective_initial (obj);
  g = g_new (float, ns_objective_len (obj));
  g_assert_true (isfinite (ns_objective_eval (obj, x, g, NULL)));
  g_atomic_int_set (&stop, 1);
  g_assert_true (isnan (ns_objective_eval (obj, x, g, NULL)));
  g_assert_true (isnan (ns_objective_eval (obj, x, NULL, NULL)));
}

static void
test_tiled_vgg19 (void)
{
  g_autoptr (NsNetwork) net = random_vgg19 (31);
  /* Shallow layers (halo 32) on a small grid; then every layer VGG-19 has (halo 96) on an
   * image whose sides are not multiples of the pooling stride. */
  const Case cases[] = {
    { "relu1_1,relu2_1:0.5,relu3_1", "relu3_2", NS_COLOR_STYLE, 86, 61, 32, TRUE, 1e5 },
    { "relu1_1,relu2_1:0.5,relu3_1", "relu3_2", NS_COLOR_LUMINANCE, 86, 61, 48, FALSE, 1e6 },
    { "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1", "relu4_2", NS_COLOR_HISTOGRAM, 114, 67, 64, FALSE,
      1e5 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    check_tiled (net, &cases[c]);
}

static void
test_tiled_embedded (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  const Case k = { NULL, NULL, NS_COLOR_STYLE, 72, 53, 32, TRUE, 1.0 };

  check_tiled (net, &k);
}

/* Replicate or reflect padding pads only the image's border: a tile's halo still holds its
 * real neighbours, so tiled = whole as with zeros (which the loss is not equal to). */
static void
test_tiled_padding (void)
{
  g_autoptr (NsNetwork) vgg = random_vgg19 (41);
  g_autoptr (NsNetwork) embedded = ns_network_new_embedded ();
  const Case deep = { "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1", "relu4_2", NS_COLOR_STYLE, 114,
                      67, 64, FALSE, 1e5 };
  const Case shallow = { NULL, NULL, NS_COLOR_STYLE, 72, 53, 32, TRUE, 1.0 };
  g_autoptr (NsImage) content = make_image (72, 53, 1);
  const NsImage *styles[] = { content };
  g_autoptr (NsOptions) opt = ns_options_new ();
  double loss[2];

  ns_network_set_padding (vgg, NS_PADDING_REPLICATE, -1);
  check_tiled (vgg, &deep);
  ns_network_set_padding (vgg, NS_PADDING_REFLECT, 1);
  check_tiled (vgg, &deep);
  ns_network_set_padding (embedded, NS_PADDING_REPLICATE, -1);
  check_tiled (embedded, &shallow);
  ns_network_set_padding (embedded, NS_PADDING_REFLECT, -1);
  check_tiled (embedded, &shallow);

  /* Not vacuous: the padding changes the loss of an image that is not its own style. */
  for (int z = 0; z < 2; z++)
    {
      g_autoptr (NsObjective) obj = NULL;
      g_autofree float *x = NULL;

      ns_network_set_padding (embedded, z ? NS_PADDING_ZERO : NS_PADDING_REPLICATE, -1);
      obj = ns_objective_new (embedded, opt, content, styles, NULL, 1, NULL);
      x = ns_objective_initial (obj);
      for (gsize i = 0; i < ns_objective_len (obj); i++)
        x[i] += 0.05f * sinf ((float) i * 0.37f);
      loss[z] = ns_objective_eval (obj, x, NULL, NULL);
    }
  g_test_message ("embedded loss: replicate %.9g, zero %.9g", loss[0], loss[1]);
  g_assert_cmpfloat (fabs (loss[0] - loss[1]), >, 1e-4 * fabs (loss[1]));
}

/* ---- the gradient by rows ----------------------------------------------------------------------- */

typedef struct
{
  int    next;
  int    planes, w, h;
  float *grad;
  float *x;            /* changed in the rows handed out, as a streaming optimiser would */
} RowsSeen;

static void
on_rows (int y0, int y1, const float *band, gsize plane, gpointer data)
{
  RowsSeen *r = data;

  g_assert_cmpint (y0, ==, r->next);
  g_assert_cmpint (y1, >, y0);
  r->next = y1;
  for (int c = 0; c < r->planes; c++)
    for (int y = y0; y < y1; y++)
      for (int x = 0; x < r->w; x++)
        {
          gsize i = ((gsize) c * r->h + y) * r->w + x;

          r->grad[i] = band[c * plane + (gsize) (y - y0) * r->w + x];
          r->x[i] = -1000.0f;     /* would wreck any later read of these rows */
        }
}

static void
test_rows (void)
{
  g_autoptr (NsNetwork) net = random_vgg19 (41);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (70, 90, 3);
  const NsImage *styles[] = { content };
  NsObjectiveConfig config = { 32, 0, FALSE, TRUE };
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL;
  g_autofree float *x2 = NULL;
  g_autofree float *g_full = NULL;
  RowsSeen seen = { 0 };
  double f1, f2;
  gsize n;

  ns_options_set_style_layers (opt, "relu1_1,relu2_1", NULL);
  ns_options_set_content_layer (opt, "relu2_2");
  obj = ns_objective_new_full (net, opt, content, styles, NULL, 1, &config, NULL);
  g_assert_nonnull (obj);
  n = ns_objective_len (obj);
  x = ns_objective_initial (obj);
  for (gsize i = 0; i < n; i++)
    x[i] += 0.1f * cosf ((float) i);
  x2 = g_memdup2 (x, n * sizeof (float));
  g_full = g_new (float, n);
  f1 = ns_objective_eval (obj, x, g_full, NULL);

  seen.planes = 3;
  seen.w = 70;
  seen.h = 90;
  seen.grad = g_new0 (float, n);
  seen.x = x2;
  f2 = ns_objective_eval_rows (obj, x2, on_rows, &seen, NULL);
  g_assert_cmpint (seen.next, ==, 90);
  g_assert_cmpfloat (f2, ==, f1);
  /* Changing rows after they were handed out did not affect the rest. */
  g_assert_cmpmem (seen.grad, n * sizeof (float), g_full, n * sizeof (float));
  g_free (seen.grad);
}

/* ---- the streamed optimiser --------------------------------------------------------------------- */

typedef struct
{
  int    calls;
  double first, last;
} StreamSeen;

static gboolean
on_stream_iteration (int iteration, const float *x, double f, gpointer data)
{
  StreamSeen *s = data;

  g_assert_cmpint (iteration, ==, s->calls + 1);
  g_assert_true (isfinite (f));
  if (s->calls++ == 0)
    s->first = f;
  s->last = f;
  return TRUE;
}

/* Normalised steps on rows handed out by the tiled objective lower the loss, and the
 * point it reports for iteration k + 1 is the one after step k. */
static void
test_stream (void)
{
  g_autoptr (NsNetwork) net = random_vgg19 (61);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (72, 60, 8);
  g_autoptr (NsImage) style = make_image (70, 70, 9);
  const NsImage *styles[] = { style };
  NsObjectiveConfig config = { 32, 0, TRUE, TRUE };
  NsStreamParams params = { 6, 0.01, 0.999, 1e-8 };
  g_autoptr (NsObjective) obj = NULL;
  g_autofree float *x = NULL;
  StreamSeen seen = { 0 };
  double f = NAN, parts[3], after;

  ns_options_set_style_layers (opt, "relu1_1,relu2_1,relu3_1", NULL);
  ns_options_set_content_layer (opt, "relu3_2");
  ns_options_set_style_weight (opt, 1e5);
  obj = ns_objective_new_full (net, opt, content, styles, NULL, 1, &config, NULL);
  g_assert_nonnull (obj);
  x = ns_objective_initial (obj);
  g_assert_cmpint (ns_stream_minimize (obj, x, &params, on_stream_iteration, &seen, &f, parts),
                   ==, NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpint (seen.calls, ==, 6);
  g_assert_cmpfloat (f, ==, seen.last);
  after = ns_objective_eval (obj, x, NULL, NULL);
  g_test_message ("streamed: loss %.4g at the start, %.4g before the last step, %.4g after it",
                  seen.first, seen.last, after);
  g_assert_cmpfloat (seen.last, <, 0.9 * seen.first);
  g_assert_cmpfloat (after, <, seen.last);
}

/* ---- the memory estimate ------------------------------------------------------------------------ */

static guint64
peak_rss (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmHWM:");
  g_assert_nonnull (line);
  return (guint64) g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10) * 1024;
}

/* Linux (≥ 4.0) resets the peak to the current resident size on "5" in clear_refs. */
static void
reset_peak (void)
{
  FILE *f = fopen ("/proc/self/clear_refs", "w");

  g_assert_nonnull (f);
  g_assert_cmpint (fputs ("5", f), >=, 0);
  g_assert_cmpint (fclose (f), ==, 0);
}

/* Whether the plan of this run keeps Winograd's transformed weights at its (one) size. */
static gboolean
keeps_transforms (NsNetwork *net, NsOptions *opt, const NsImage *content,
                  const NsImage * const *styles, guint64 *reuse)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsRunPlan) plan = ns_run_plan_new (net, opt, content, styles, 1, NULL, &error);

  g_assert_no_error (error);
  if (reuse != NULL)
    *reuse = plan->scales[0].buffer_slack;
  return plan->scales[0].keep_transforms;
}

/* The estimate against the measured peak of the process (which also holds the network and
 * the images, as the estimate counts them), for a whole-image run and for runs on budgets
 * a little below the one before, until one is forced into tiles: a budget first gives up
 * the transformed weights (when they are more than a little of the peak: VGG-19's), then the
 * whole image.  Those runs must also stay within their budgets. */
static void
check_estimate (NsNetwork *net, NsOptions *opt, int w, int h, int style_w, int style_h)
{
  g_autoptr (NsImage) content = make_image (w, h, 5);
  g_autoptr (NsImage) style = make_image (style_w, style_h, 6);
  const NsImage *styles[] = { style };
  guint64 last_need = 0;

  ns_options_set_iterations (opt, 2);
  ns_options_set_scales (opt, 1);
  for (int pass = 0; ; pass++)
    {
      g_autoptr (NsStylizer) st = NULL;
      g_autoptr (NsImage) out = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *plan = NULL;
      guint64 estimate, measured, reuse, budget = last_need * 23 / 25;

      if (pass > 0)
        ns_options_set_max_memory (opt, budget);
      st = ns_stylizer_new (net, opt);
      estimate = ns_stylizer_estimate_memory (st, content, styles, 1, &plan, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (estimate, >, 0);
      reset_peak ();
      out = ns_stylizer_run (st, content, styles, NULL, 1, &error);
      g_assert_no_error (error);
      measured = peak_rss ();
      /* On stderr: the parent test shows the child's stderr, not its messages. */
      g_printerr ("# %s: estimate %" G_GUINT64_FORMAT " MiB, measured peak %" G_GUINT64_FORMAT
                  " MiB\n", plan, estimate >> 20, measured >> 20);
      g_assert_cmpfloat (fabs ((double) estimate - measured), <=, 0.25 * measured);
      if (pass == 0)
        {
          g_assert_null (strstr (plan, "tiles"));
          g_assert_true (keeps_transforms (net, opt, content, styles, &reuse));
        }
      else
        {
          g_assert_cmpuint (measured, <=, budget);
          if (strstr (plan, "tiles") != NULL)
            break;
          /* Still whole: only the first cut, by the transformed weights. */
          g_assert_cmpint (pass, ==, 1);
          g_assert_false (keeps_transforms (net, opt, content, styles, &reuse));
        }
      /* What the run needs: the buffers kept for reuse go first when the budget is tight. */
      last_need = estimate - reuse / 2;
    }
}

/* VGG-19's topology, with only the layers the losses use, so that the weights do not dwarf
 * what is estimated. */
static void
estimate_vgg19 (void)
{
  g_autoptr (NsNetwork) net = random_vgg19 (51);
  g_autoptr (NsOptions) opt = ns_options_new ();
  int keep = ns_network_layer_index (net, "relu3_2") + 1;

  for (int i = keep; i < net->n_layers; i++)
    ns_conv_clear (&net->layers[i].conv);
  net->n_layers = keep;
  ns_options_set_style_layers (opt, "relu1_1,relu2_1,relu3_1", NULL);
  ns_options_set_content_layer (opt, "relu3_2");
  check_estimate (net, opt, 256, 208, 230, 200);
}

/* The built-in network (keep layers, per-channel gains: network.c's full-activation path),
 * at a size where tiles need much less than the whole image. */
static void
estimate_embedded (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();

  check_estimate (net, opt, 640, 480, 500, 400);
}

/* In a fresh process: the memory earlier tests left to the heap would count in the peak. */
static void
in_subprocess (void (*child) (void))
{
  if (g_test_subprocess ())
    {
      child ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void test_memory_estimate_vgg19 (void) { in_subprocess (estimate_vgg19); }
static void test_memory_estimate_embedded (void) { in_subprocess (estimate_embedded); }

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tiling/plan", test_plan);
  g_test_add_func ("/tiling/radius-vgg19", test_radius_vgg19);
  g_test_add_func ("/tiling/radius-bound", test_radius_bound);
  g_test_add_func ("/tiling/pass-vgg19", test_pass_vgg19);
  g_test_add_func ("/tiling/pass-embedded", test_pass_embedded);
  g_test_add_func ("/tiling/pass-threads", test_pass_threads);
  g_test_add_func ("/tiling/tiled-vgg19", test_tiled_vgg19);
  g_test_add_func ("/tiling/tiled-embedded", test_tiled_embedded);
  g_test_add_func ("/tiling/tiled-padding", test_tiled_padding);
  g_test_add_func ("/tiling/rows", test_rows);
  g_test_add_func ("/tiling/cancel", test_cancel);
  g_test_add_func ("/tiling/stream", test_stream);
  g_test_add_func ("/tiling/memory-estimate/vgg19", test_memory_estimate_vgg19);
  g_test_add_func ("/tiling/memory-estimate/embedded", test_memory_estimate_embedded);

  return g_test_run ();
}
