/* test-regions.c — regions with their own style (ns_stylizer_set_regions): the guided
 * style loss and its gradient, masks carried down the network, a full mask as the plain
 * loss, tiled as whole with masks, the shallow path as the network pass with masks, the API's checks, and a run with two regions whose
 * textures follow their own styles (tools/texture.c's descriptor). */
#include <math.h>
#include <string.h>
#include "objective-internal.h"
#include "texture.h"
#include "testutil.h"

/* ---- the guided loss ---------------------------------------------------------------------- */

typedef struct
{
  int          c, h, w;
  const float *mask, *gram, *scale;
} GuidedCase;

static double
guided_func (const float *x, float *grad, gpointer data)
{
  const GuidedCase *k = data;
  NsTensor f = { k->c, k->h, k->w, (float *) x };
  g_autoptr (NsTensor) g = grad ? ns_tensor_new (k->c, k->h, k->w) : NULL;
  double loss = ns_style_guided_loss (&f, k->mask, k->scale, k->gram, 3.0, g);

  if (grad)
    memcpy (grad, g->data, ns_tensor_len (g) * sizeof (float));
  return loss;
}

static void
test_guided_gradient (void)
{
  /* Small, so that a step of eps moves the float Gram by far more than its rounding. */
  int c = 4, h = 5, w = 6;
  gsize n = (gsize) c * h * w;
  g_autofree float *x = g_new (float, n);
  g_autofree float *mask = g_new (float, h * w);
  g_autofree float *gram = g_new (float, c * c);
  float scale[4] = { 0.5f, 1.0f, 2.0f, 0.7f };
  GuidedCase k = { c, h, w, mask, gram, NULL };

  ns_test_fill (x, n, 1, 0.25f, 1.25f);
  ns_test_fill (mask, h * w, 2, 0.2f, 1.5f);
  {
    /* A target like a real one: half the Gram of other features. */
    g_autofree float *other = g_new (float, n);
    NsTensor t = { c, h, w, other };

    ns_test_fill (other, n, 3, 0.25f, 1.25f);
    ns_gram (&t, gram);
    for (int i = 0; i < c * c; i++)
      gram[i] *= 0.5f;
  }
  for (int pass = 0; pass < 2; pass++)
    {
      double err;

      k.scale = pass ? scale : NULL;
      err = ns_test_gradcheck (guided_func, &k, x, n, 1e-2, n, 4);
      g_test_message ("gains %d: gradient rel. error %.2e", pass, err);
      g_assert_cmpfloat (err, <, 2e-3);
    }
  /* The mask matters: a mask of zeros on half the pixels changes the loss. */
  {
    double full, half;
    g_autofree float *ones = g_new (float, h * w);

    for (int i = 0; i < h * w; i++)
      ones[i] = 1.0f;
    k.scale = NULL;
    k.mask = ones;
    full = guided_func (x, NULL, &k);
    for (int i = 0; i < h * w / 2; i++)
      ones[i] = 0.0f;
    half = guided_func (x, NULL, &k);
    g_assert_cmpfloat (fabs (full - half), >, 1e-3 * full);
  }
}

/* ---- masks down the network --------------------------------------------------------------- */

/* conv, relu, pool, conv, relu: the layer kinds are all the masks read. */
static NsNetwork *
kinds_network (void)
{
  static const NsLayerKind kinds[] = { NS_LAYER_CONV, NS_LAYER_RELU, NS_LAYER_MAXPOOL,
                                       NS_LAYER_CONV, NS_LAYER_RELU };
  NsNetwork *net = g_new0 (NsNetwork, 1);

  net->n_layers = G_N_ELEMENTS (kinds);
  net->layers = g_new0 (NsLayer, net->n_layers);
  for (int i = 0; i < net->n_layers; i++)
    net->layers[i].kind = kinds[i];
  return net;
}

static void
kinds_network_free (NsNetwork *net)
{
  g_free (net->layers);
  g_free (net);
}

/* A mask at layer `layer`, row 0, column x, relative to its column 0 (normalisation aside). */
static double
ratio (const NsLayerMasks *m, int layer, int x)
{
  return m->at[layer][x] / m->at[layer][0];
}

static void
test_carry (void)
{
  NsNetwork *net = kinds_network ();
  gboolean hooked[5] = { FALSE, TRUE, FALSE, FALSE, TRUE };
  int w = 12, h = 6;
  g_autofree float *step = g_new (float, w * h);
  g_autofree float *ones = g_new (float, w * h);

  /* Left half 1, right half 0: the edge is between columns 5 and 6. */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        step[y * w + x] = x < 6 ? 1.0f : 0.0f;
        ones[y * w + x] = 1.0f;
      }
  {
    g_autoptr (NsLayerMasks) m = ns_layer_masks_new (net, step, w, h, 4, hooked,
                                                     NS_MASK_CARRY_FEATHER);

    g_assert_null (m->at[0]);
    g_assert_cmpint (m->w[4], ==, 6);
    g_assert_cmpint (m->h[4], ==, 3);
    /* 3×3 averages: 2/3 and 1/3 beside the edge. */
    g_assert_cmpfloat (fabs (ratio (m, 1, 5) - 2.0 / 3), <, 1e-6);
    g_assert_cmpfloat (fabs (ratio (m, 1, 6) - 1.0 / 3), <, 1e-6);
    g_assert_cmpfloat (m->at[1][7], ==, 0.0f);
    /* Mean square 1. */
    {
      double ms = 0.0;

      for (int i = 0; i < m->w[1] * m->h[1]; i++)
        ms += (double) m->at[1][i] * m->at[1][i];
      g_assert_cmpfloat (fabs (ms / (m->w[1] * m->h[1]) - 1.0), <, 1e-6);
    }
    /* After the pooling (pairs (4,5) = (1 + 2/3)/2, (6,7) = (1/3 + 0)/2) and a 3×3 average:
     * the column of pair (4,5) is the mean of pairs (2,3), (4,5), (6,7): (1 + 5/6 + 1/6)/3. */
    g_assert_cmpfloat (fabs (ratio (m, 4, 2) - (1.0 + 5.0 / 6 + 1.0 / 6) / 3), <, 1e-6);
    g_assert_cmpfloat (fabs (ratio (m, 4, 3) - (5.0 / 6 + 1.0 / 6 + 0.0) / 3), <, 1e-6);
    g_assert_false (m->empty[4]);
  }
  {
    g_autoptr (NsLayerMasks) in = ns_layer_masks_new (net, step, w, h, 4, hooked,
                                                      NS_MASK_CARRY_INSIDE);
    g_autoptr (NsLayerMasks) all = ns_layer_masks_new (net, step, w, h, 4, hooked,
                                                       NS_MASK_CARRY_ALL);
    g_autoptr (NsLayerMasks) simple = ns_layer_masks_new (net, step, w, h, 4, hooked,
                                                          NS_MASK_CARRY_SIMPLE);

    /* Inside: the edge moves in by one pixel per convolution; all: out by one. */
    g_assert_cmpfloat (in->at[1][4], >, 0.0f);
    g_assert_cmpfloat (in->at[1][5], ==, 0.0f);
    g_assert_cmpfloat (all->at[1][6], >, 0.0f);
    g_assert_cmpfloat (all->at[1][7], ==, 0.0f);
    g_assert_cmpfloat (in->at[4][0], >, 0.0f);
    g_assert_cmpfloat (in->at[4][1], ==, 0.0f);
    g_assert_cmpfloat (all->at[4][4], >, 0.0f);
    g_assert_cmpfloat (all->at[4][5], ==, 0.0f);
    /* Simple: the step itself, then its 2×2 averages. */
    g_assert_cmpfloat (simple->at[1][5], ==, simple->at[1][0]);
    g_assert_cmpfloat (simple->at[1][6], ==, 0.0f);
    g_assert_cmpfloat (simple->at[4][2], ==, simple->at[4][0]);
    g_assert_cmpfloat (simple->at[4][3], ==, 0.0f);
  }
  /* A full mask stays exactly ones with every variant. */
  for (int carry = NS_MASK_CARRY_FEATHER; carry <= NS_MASK_CARRY_ALL; carry++)
    {
      g_autoptr (NsLayerMasks) m = ns_layer_masks_new (net, ones, w, h, 4, hooked, carry);

      for (int i = 0; i < m->w[4] * m->h[4]; i++)
        g_assert_cmpfloat (m->at[4][i], ==, 1.0f);
    }
  /* A region of one pixel vanishes at the pooled layer with INSIDE. */
  {
    g_autofree float *dot = g_new0 (float, w * h);
    g_autoptr (NsLayerMasks) m = NULL;

    dot[2 * w + 3] = 1.0f;
    m = ns_layer_masks_new (net, dot, w, h, 4, hooked, NS_MASK_CARRY_INSIDE);
    g_assert_true (m->empty[4]);
  }
  kinds_network_free (net);
}

/* ---- objectives with regions -------------------------------------------------------------- */

/* Images of different seeds differ in structure too. */
static NsImage *
make_image (int w, int h, guint32 seed)
{
  return ns_test_image (w, h, seed, 0.05f * seed);
}

/* A feathered mask: 1 left of column `edge`, 0 right of it, a linear ramp `feather` wide. */
static NsImage *
ramp_mask (int w, int h, int edge, int feather, gboolean invert)
{
  NsImage *m = ns_image_new (w, h, 1);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float v = CLAMP (0.5f + (float) (edge - x) / feather, 0.0f, 1.0f);

        m->data[(gsize) y * w + x] = invert ? 1.0f - v : v;
      }
  return m;
}

/* `general`: untiled through the network pass even where objective-shallow.c applies. */
static NsObjective *
objective_by (NsNetwork *net, NsOptions *opt, const NsImage *content,
              const NsImage * const *styles, int n_styles, const NsRegions *regions, int tile,
              gboolean general)
{
  NsObjectiveConfig config = { tile, 0, TRUE, TRUE, NULL, general, regions };
  g_autoptr (GError) error = NULL;
  NsObjective *obj = ns_objective_new_full (net, opt, content, styles, NULL, n_styles, &config,
                                            &error);

  g_assert_no_error (error);
  return obj;
}

static NsObjective *
objective (NsNetwork *net, NsOptions *opt, const NsImage *content, const NsImage * const *styles,
           int n_styles, const NsRegions *regions, int tile)
{
  return objective_by (net, opt, content, styles, n_styles, regions, tile, TRUE);
}

/* Every loss at the first ReLU, as the refinement at full size has it. */
static void
shallow_layers (NsOptions *opt)
{
  ns_options_set_style_layers (opt, "relu1_1", NULL);
  ns_options_set_content_layer (opt, "relu1_1");
}

/* Loss and gradient at a point near the content. */
static double
eval_at (NsObjective *obj, float *grad, double parts[3])
{
  gsize n = ns_objective_len (obj);
  g_autofree float *x = ns_objective_initial (obj);

  for (gsize i = 0; i < n; i++)
    x[i] += 0.05f * sinf ((float) i * 0.37f);
  return ns_objective_eval (obj, x, grad, parts);
}

/* shallow: every loss at relu1_1, evaluated by objective-shallow.c. */
static void
check_full_mask (NsNetwork *net, int tile, gboolean shallow)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (64, 48, 1);
  g_autoptr (NsImage) style = make_image (56, 60, 2);
  g_autoptr (NsImage) ones = ns_image_new (64, 48, 1);
  const NsImage *styles[] = { style };
  const NsImage *masks[] = { ones };
  g_autoptr (NsRegions) regions = NULL;
  g_autoptr (NsObjective) plain = NULL;
  g_autoptr (NsObjective) guided = NULL;
  g_autofree float *gp = NULL;
  g_autofree float *gg = NULL;
  double pp[3], pg[3], err;
  gsize n;

  for (gsize i = 0; i < (gsize) 64 * 48; i++)
    ones->data[i] = 1.0f;
  regions = ns_regions_new (masks, NULL, 1, NS_REGION_REST_STYLES, NULL);
  g_assert_nonnull (regions);
  if (shallow)
    shallow_layers (opt);
  plain = objective_by (net, opt, content, styles, 1, NULL, tile, ! shallow);
  guided = objective_by (net, opt, content, styles, 1, regions, tile, ! shallow);
  g_assert_true ((guided->shallow != NULL) == shallow);
  n = ns_objective_len (plain);
  gp = g_new (float, n);
  gg = g_new (float, n);
  eval_at (plain, gp, pp);
  eval_at (guided, gg, pg);
  err = ns_test_rel_norm (gg, gp, n);
  g_test_message ("tile %d: style %.9g vs %.9g, gradient rel. error %.2e", tile, pg[1], pp[1],
                  err);
  g_assert_cmpfloat (pp[1], >, 0.0);
  g_assert_cmpfloat (fabs (pg[1] - pp[1]), <=, 1e-6 * pp[1]);
  g_assert_cmpfloat (pg[0], ==, pp[0]);
  g_assert_cmpfloat (err, <, 1e-6);
}

static void
test_full_mask (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();

  check_full_mask (net, 0, FALSE);
  check_full_mask (net, 32, FALSE);
  check_full_mask (net, 0, TRUE);
}

/* A content, two styles and two feathered regions: left of edge_l and right of edge_r, the
 * rest between them. */
typedef struct
{
  NsImage *content, *style[2], *mask[2];
} TwoRegions;

static void
two_regions_init (TwoRegions *t, int w, int h, int edge_l, int edge_r, int feather)
{
  t->content = make_image (w, h, 1);
  t->style[0] = make_image (60, 70, 2);
  t->style[1] = make_image (80, 50, 3);
  t->mask[0] = ramp_mask (w, h, edge_l, feather, FALSE);
  t->mask[1] = ramp_mask (w, h, edge_r, feather, TRUE);
}

static void
two_regions_clear (TwoRegions *t)
{
  ns_image_free (t->content);
  for (int i = 0; i < 2; i++)
    {
      ns_image_free (t->style[i]);
      ns_image_free (t->mask[i]);
    }
}

/* a's loss terms within tol of b's (relative) and its gradient within tol_grad (relative
 * norm), at the same point; b's style term is not zero. */
static void
check_same (NsObjective *a, NsObjective *b, double tol, double tol_grad, const char *what)
{
  gsize n = ns_objective_len (a);
  g_autofree float *ga = g_new (float, n);
  g_autofree float *gb = g_new (float, n);
  double pa[3], pb[3], err;

  eval_at (a, ga, pa);
  eval_at (b, gb, pb);
  err = ns_test_rel_norm (ga, gb, n);
  g_test_message ("%s: style %.9g vs %.9g, content %.6g vs %.6g, gradient rel. error %.2e",
                  what, pa[1], pb[1], pa[0], pb[0], err);
  g_assert_cmpfloat (pb[1], >, 0.0);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (fabs (pa[i] - pb[i]), <=, tol * fabs (pb[i]) + 1e-12);
  g_assert_cmpfloat (err, <, tol_grad);
}

/* objective-shallow.c with regions = the network pass with regions, within float rounding,
 * on an image wider than a segment (1024 pixels) and taller than a group of rows (16). */
static void
check_shallow (NsNetwork *net, NsColorMode mode, NsRegionRest rest)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsRegions) regions = NULL;
  g_autoptr (NsObjective) fast = NULL;
  g_autoptr (NsObjective) general = NULL;
  g_autofree char *what = g_strdup_printf ("shallow, mode %d rest %d", mode, rest);
  TwoRegions t;

  two_regions_init (&t, 1100, 37, 450, 650, 40);
  regions = ns_regions_new ((const NsImage * const *) t.mask, NULL, 2, rest, NULL);
  ns_options_set_color_mode (opt, mode);
  ns_options_set_tv_weight (opt, 5.0);
  shallow_layers (opt);
  fast = objective_by (net, opt, t.content, (const NsImage * const *) t.style, 2, regions, 0,
                       FALSE);
  general = objective_by (net, opt, t.content, (const NsImage * const *) t.style, 2, regions,
                          0, TRUE);
  g_assert_nonnull (fast->shallow);
  g_assert_null (general->shallow);
  g_assert_cmpint (fast->n_regions, ==, rest == NS_REGION_REST_STYLES ? 3 : 2);
  check_same (fast, general, 1e-5, 1e-5, what);
  {
    /* The same bits on one thread and on two (the items are fixed by the image's size). */
    gsize n = ns_objective_len (fast);
    g_autofree float *g1 = g_new (float, n);
    g_autofree float *g2 = g_new (float, n);
    int before = ns_parallel_set_threads (1);
    double f1 = eval_at (fast, g1, NULL), f2;

    ns_parallel_set_threads (2);
    f2 = eval_at (fast, g2, NULL);
    ns_parallel_set_threads (before);
    g_assert_cmpmem (&f1, sizeof f1, &f2, sizeof f2);
    g_assert_cmpmem (g1, n * sizeof (float), g2, n * sizeof (float));
  }
  two_regions_clear (&t);
}

static void
test_shallow (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();

  check_shallow (net, NS_COLOR_STYLE, NS_REGION_REST_STYLES);
  check_shallow (net, NS_COLOR_LUMINANCE, NS_REGION_REST_CONTENT);
}

typedef struct
{
  NsColorMode  mode;
  NsRegionRest rest;
  gboolean     style_mask;
  int          tile;
} TiledCase;

static void
check_tiled (NsNetwork *net, const TiledCase *k)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) style_mask = ramp_mask (60, 70, 30, 6, FALSE);
  const NsImage *style_masks[] = { style_mask, NULL };
  g_autoptr (NsRegions) regions = NULL;
  g_autoptr (NsObjective) whole = NULL;
  g_autoptr (NsObjective) tiled = NULL;
  g_autofree char *what = g_strdup_printf ("tiled, mode %d rest %d", k->mode, k->rest);
  TwoRegions t;

  two_regions_init (&t, 72, 53, 25, 47, 8);
  ns_options_set_color_mode (opt, k->mode);
  ns_options_set_content_weight (opt, 300.0);
  ns_options_set_tv_weight (opt, 10.0);
  regions = ns_regions_new ((const NsImage * const *) t.mask, k->style_mask ? style_masks : NULL,
                            2, k->rest, NULL);
  whole = objective (net, opt, t.content, (const NsImage * const *) t.style, 2, regions, 0);
  tiled = objective (net, opt, t.content, (const NsImage * const *) t.style, 2, regions,
                     k->tile);
  check_same (tiled, whole, 1e-5, 1e-4, what);
  two_regions_clear (&t);
}

static void
test_tiled (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  const TiledCase cases[] = {
    { NS_COLOR_STYLE, NS_REGION_REST_STYLES, FALSE, 32 },
    { NS_COLOR_STYLE, NS_REGION_REST_CONTENT, TRUE, 32 },
    { NS_COLOR_LUMINANCE, NS_REGION_REST_STYLES, TRUE, 32 },
    { NS_COLOR_HISTOGRAM, NS_REGION_REST_CONTENT, FALSE, 32 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    check_tiled (net, &cases[c]);
}

/* The rest region: a second term set with REST_STYLES when the masks leave pixels. */
static void
test_rest (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) content = make_image (64, 48, 1);
  g_autoptr (NsImage) style = make_image (56, 60, 2);
  g_autoptr (NsImage) left = ramp_mask (64, 48, 20, 4, FALSE);
  const NsImage *styles[] = { style };
  const NsImage *masks[] = { left };
  g_autoptr (NsRegions) with_rest = ns_regions_new (masks, NULL, 1, NS_REGION_REST_STYLES, NULL);
  g_autoptr (NsRegions) no_rest = ns_regions_new (masks, NULL, 1, NS_REGION_REST_CONTENT, NULL);
  g_autoptr (NsObjective) a = objective (net, opt, content, styles, 1, with_rest, 0);
  g_autoptr (NsObjective) b = objective (net, opt, content, styles, 1, no_rest, 0);
  double pa[3], pb[3];

  g_assert_cmpint (a->n_regions, ==, 2);
  g_assert_cmpint (b->n_regions, ==, 1);
  eval_at (a, NULL, pa);
  eval_at (b, NULL, pb);
  g_assert_cmpfloat (pa[1], >, pb[1]);
  g_assert_cmpfloat (pa[0], ==, pb[0]);
}

/* ---- the API ------------------------------------------------------------------------------ */

static void
test_api (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsStylizer) st = NULL;
  g_autoptr (NsImage) content = make_image (64, 48, 1);
  g_autoptr (NsImage) style = make_image (56, 60, 2);
  g_autoptr (NsImage) black = ns_image_new (64, 48, 1);
  g_autoptr (NsImage) rgb = ns_image_new (64, 48, 3);
  g_autoptr (NsImage) square = ramp_mask (32, 32, 10, 4, FALSE);
  g_autoptr (NsImage) good = ramp_mask (64, 48, 20, 4, FALSE);
  g_autoptr (NsImage) over = ramp_mask (64, 48, 20, 4, FALSE);
  const NsImage *styles[] = { style, style };
  const NsImage *none[] = { NULL, NULL };
  GError *error = NULL;
  NsImage *out;

  ns_options_set_iterations (opt, 2);
  ns_options_set_scales (opt, 1);
  st = ns_stylizer_new (net, opt);
  over->data[7] = 1.5f;
  {
    const NsImage *bad[][1] = { { black }, { rgb }, { over } };
    const char *says[] = { "empty", "one-channel", "outside" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_assert_false (ns_stylizer_set_regions (st, bad[i], NULL, 1, NS_REGION_REST_CONTENT,
                                                 &error));
        g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull (strstr (error->message, says[i]));
        g_clear_error (&error);
        g_assert_false (ns_stylizer_set_regions (st, NULL, bad[i], 1, NS_REGION_REST_CONTENT,
                                                 &error));
        g_clear_error (&error);
      }
  }
  /* All NULL: no regions. */
  g_assert_true (ns_stylizer_set_regions (st, none, none, 2, NS_REGION_REST_STYLES, &error));
  g_assert_no_error (error);

  /* Shapes and counts are checked when the run starts (test-region-masks.c has more). */
  {
    const NsImage *masks[] = { square };

    g_assert_true (ns_stylizer_set_regions (st, masks, NULL, 1, NS_REGION_REST_CONTENT, NULL));
    out = ns_stylizer_run (st, content, styles, NULL, 1, &error);
    g_assert_null (out);
    g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "32×32"));
    g_clear_error (&error);
    g_assert_cmpfloat (ns_stylizer_estimate_memory (st, content, styles, 1, NULL, &error), ==, 0);
    g_clear_error (&error);
  }
  {
    const NsImage *masks[] = { good };

    g_assert_true (ns_stylizer_set_regions (st, masks, NULL, 1, NS_REGION_REST_CONTENT, NULL));
    out = ns_stylizer_run (st, content, styles, NULL, 2, &error);
    g_assert_null (out);
    g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    out = ns_stylizer_run (st, content, styles, NULL, 1, &error);
    g_assert_no_error (error);
    g_assert_cmpint (out->width, ==, 64);
    ns_image_free (out);
    g_assert_cmpuint (ns_stylizer_estimate_memory (st, content, styles, 1, NULL, NULL), >, 0);
  }
  {
    const NsImage *style_masks[] = { good };

    /* A style mask must have its style's shape. */
    g_assert_true (ns_stylizer_set_regions (st, NULL, style_masks, 1, NS_REGION_REST_CONTENT,
                                            NULL));
    out = ns_stylizer_run (st, content, styles, NULL, 1, &error);
    g_assert_null (out);
    g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  ns_stylizer_clear_regions (st);
  out = ns_stylizer_run (st, content, styles, NULL, 2, &error);
  g_assert_no_error (error);
  ns_image_free (out);
}

/* ---- two regions, two styles ---------------------------------------------------------------- */

/* Diagonal dark-red strokes on yellow (kind 0), or soft blue dots on pale green (kind 1). */
static NsImage *
painting (int kind, int w, int h)
{
  NsImage *img = ns_image_new (w, h, 3);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float *p = img->data + 3 * ((gsize) y * w + x);

        if (kind == 0)
          {
            float s = ((x + y) / 4) % 2 ? 1.0f : 0.0f;

            p[0] = 0.95f - 0.4f * s;
            p[1] = 0.85f - 0.7f * s;
            p[2] = 0.2f;
          }
        else
          {
            float dx = (x % 12) - 5.5f, dy = (y % 12) - 5.5f;
            float d = expf (-(dx * dx + dy * dy) / 12.0f);

            p[0] = 0.7f - 0.6f * d;
            p[1] = 0.9f - 0.4f * d;
            p[2] = 0.6f + 0.4f * d;
          }
      }
  return img;
}

static NsImage *
crop (const NsImage *img, int y0, int y1)
{
  NsImage *c = ns_image_new (img->width, y1 - y0, img->channels);

  memcpy (c->data, img->data + (gsize) y0 * img->width * img->channels,
          (gsize) (y1 - y0) * img->width * img->channels * sizeof (float));
  return c;
}

static void
test_two_regions (void)
{
  int w = 96, h = 96;
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsStylizer) st = NULL;
  g_autoptr (NsImage) content = ns_test_pattern (w, h, 3, 0.05, 0.03, 0.2f, 0.0f);
  g_autoptr (NsImage) a = painting (0, 128, 128);
  g_autoptr (NsImage) b = painting (1, 128, 128);
  g_autoptr (NsImage) top = ns_image_new (w, h, 1);
  g_autoptr (NsImage) bottom = ns_image_new (w, h, 1);
  g_autoptr (NsImage) out = NULL;
  const NsImage *styles[] = { a, b };
  const NsImage *masks[] = { top, bottom };
  g_autoptr (GError) error = NULL;
  EvStats sa, sb;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        top->data[y * w + x] = y < h / 2 ? 1.0f : 0.0f;
        bottom->data[y * w + x] = y < h / 2 ? 0.0f : 1.0f;
      }
  ns_options_set_iterations (opt, 200);
  ns_options_set_scales (opt, 1);
  ns_options_set_content_weight (opt, 0.02);
  st = ns_stylizer_new (net, opt);
  g_assert_true (ns_stylizer_set_regions (st, masks, NULL, 2, NS_REGION_REST_CONTENT, NULL));
  out = ns_stylizer_run (st, content, styles, NULL, 2, &error);
  g_assert_no_error (error);
  ev_stats_compute (a, &sa);
  ev_stats_compute (b, &sb);
  for (int r = 0; r < 2; r++)
    {
      /* The region away from the boundary. */
      g_autoptr (NsImage) part = crop (out, r == 0 ? 0 : h / 2 + 8, r == 0 ? h / 2 - 8 : h);
      EvStats sp;
      double own, other;

      ev_stats_compute (part, &sp);
      own = ev_distance (&sp, r == 0 ? &sa : &sb, NULL);
      other = ev_distance (&sp, r == 0 ? &sb : &sa, NULL);
      g_test_message ("region %d: distance to its own style %.3f, to the other %.3f", r, own,
                      other);
      g_assert_cmpfloat (own, <, other);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/regions/guided-gradient", test_guided_gradient);
  g_test_add_func ("/regions/carry", test_carry);
  g_test_add_func ("/regions/full-mask", test_full_mask);
  g_test_add_func ("/regions/tiled", test_tiled);
  g_test_add_func ("/regions/shallow", test_shallow);
  g_test_add_func ("/regions/rest", test_rest);
  g_test_add_func ("/regions/api", test_api);
  g_test_add_func ("/regions/two-regions", test_two_regions);
  return g_test_run ();
}
