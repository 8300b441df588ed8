/* test-regions.c — regions with their own style (ns_stylizer_set_regions): the guided
 * style loss and its gradient, a full mask as the plain loss (with either carry), tiled as
 * whole with masks, the shallow path as the network pass with masks, the API's checks, and
 * a run with two regions whose textures follow their own styles (tools/texture.c's
 * descriptor), and the guided terms' distances the harness's breakdown prints.  How masks are carried down the network: test-region-carry.c. */
#include <math.h>
#include <string.h>
#include "regions-common.h"
#include "texture.h"

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

/* ---- objectives with regions -------------------------------------------------------------- */

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
check_full_mask (NsNetwork *net, int tile, gboolean shallow, NsRegionCarry carry)
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
  regions->carries[0] = carry;
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
  g_test_message ("tile %d, carry %d: style %.9g vs %.9g, gradient rel. error %.2e", tile,
                  carry, pg[1], pp[1], err);
  g_assert_cmpfloat (pp[1], >, 0.0);
  g_assert_cmpfloat (fabs (pg[1] - pp[1]), <=, 1e-6 * pp[1]);
  g_assert_cmpfloat (pg[0], ==, pp[0]);
  g_assert_cmpfloat (err, <, 1e-6);
}

static void
test_full_mask (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();

  for (NsRegionCarry carry = NS_REGION_CARRY_FEATHERED; carry <= NS_REGION_CARRY_INSIDE;
       carry++)
    {
      check_full_mask (net, 0, FALSE, carry);
      check_full_mask (net, 32, FALSE, carry);
      check_full_mask (net, 0, TRUE, carry);
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
  NsColorMode   mode;
  NsRegionRest  rest;
  gboolean      style_mask;
  int           tile;
  NsRegionCarry carry;
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
  g_autofree char *what = g_strdup_printf ("tiled, mode %d rest %d carry %d", k->mode, k->rest,
                                           k->carry);
  TwoRegions t;

  two_regions_init (&t, 72, 53, 25, 47, 8);
  ns_options_set_color_mode (opt, k->mode);
  ns_options_set_content_weight (opt, 300.0);
  ns_options_set_tv_weight (opt, 10.0);
  regions = ns_regions_new ((const NsImage * const *) t.mask, k->style_mask ? style_masks : NULL,
                            2, k->rest, NULL);
  for (int r = 0; r <= 2; r++)
    regions->carries[r] = k->carry;
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
    { NS_COLOR_STYLE, NS_REGION_REST_STYLES, TRUE, 32, NS_REGION_CARRY_INSIDE },
    { NS_COLOR_LUMINANCE, NS_REGION_REST_CONTENT, FALSE, 32, NS_REGION_CARRY_INSIDE },
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

/* ---- the guided terms' distances (ns_objective_term_distances) ------------------------------ */

/* Each term's relative distance times its weight and its target's mean square is its loss:
 * their sum is the objective's style part at the content, with two feathered regions and a
 * rest; with a mask of ones each region term's distance is the plain term's of its layer. */
static void
test_term_distances (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsRegions) regions = NULL;
  g_autoptr (NsRegions) full = NULL;
  g_autoptr (NsObjective) obj = NULL;
  g_autoptr (NsObjective) plain = NULL;
  g_autoptr (NsObjective) ones = NULL;
  g_autoptr (NsImage) one = ns_image_new (72, 56, 1);
  g_autofree float *x = NULL;
  TwoRegions t;
  const NsImage *styles[2], *masks[2], *one_masks[1];
  int layer[64], region[64], pl_layer[64], pl_region[64], n, n_plain, regioned = 0;
  double dist[64], pl_dist[64], parts[3], sum = 0.0;

  two_regions_init (&t, 72, 56, 30, 44, 6);
  styles[0] = t.style[0];
  styles[1] = t.style[1];
  masks[0] = t.mask[0];
  masks[1] = t.mask[1];
  regions = ns_regions_new (masks, NULL, 2, NS_REGION_REST_STYLES, NULL);
  obj = objective (net, opt, t.content, styles, 2, regions, 0);
  n = ns_objective_term_distances (obj, t.content, layer, region, dist);
  g_assert_cmpint (n, ==, obj->n_style);
  x = ns_objective_initial (obj);
  ns_objective_eval (obj, x, NULL, parts);
  for (int k = 0; k < n; k++)
    {
      const NsStyleTerm *term = &obj->style[k];

      g_assert_cmpint (layer[k], ==, term->index);
      g_assert_cmpint (region[k], ==, term->region);
      g_assert_true (isfinite (dist[k]));
      g_assert_cmpfloat (dist[k], >, 0.0);
      sum += dist[k] * term->weight * ns_mean_square (term->gram, (gsize) term->c * term->c);
      regioned += region[k] >= 0;
    }
  g_test_message ("%d terms: Σ weighted distances %.9g, style part %.9g", n, sum, parts[1]);
  g_assert_cmpint (regioned, ==, n);
  g_assert_cmpfloat (fabs (sum - parts[1]), <=, 1e-5 * parts[1]);

  for (gsize i = 0; i < (gsize) 72 * 56; i++)
    one->data[i] = 1.0f;
  one_masks[0] = one;
  full = ns_regions_new (one_masks, NULL, 1, NS_REGION_REST_STYLES, NULL);
  plain = objective (net, opt, t.content, styles, 1, NULL, 0);
  ones = objective (net, opt, t.content, styles, 1, full, 0);
  n_plain = ns_objective_term_distances (plain, t.content, pl_layer, pl_region, pl_dist);
  n = ns_objective_term_distances (ones, t.content, layer, region, dist);
  g_assert_cmpint (n, ==, n_plain);
  for (int k = 0; k < n; k++)
    {
      g_assert_cmpint (pl_region[k], ==, -1);
      g_assert_cmpint (region[k], ==, 0);
      g_assert_cmpint (layer[k], ==, pl_layer[k]);
      g_assert_cmpfloat (fabs (dist[k] - pl_dist[k]), <=, 1e-6 * pl_dist[k]);
    }
  two_regions_clear (&t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/regions/guided-gradient", test_guided_gradient);
  g_test_add_func ("/regions/full-mask", test_full_mask);
  g_test_add_func ("/regions/tiled", test_tiled);
  g_test_add_func ("/regions/shallow", test_shallow);
  g_test_add_func ("/regions/rest", test_rest);
  g_test_add_func ("/regions/api", test_api);
  g_test_add_func ("/regions/two-regions", test_two_regions);
  g_test_add_func ("/regions/term-distances", test_term_distances);
  return g_test_run ();
}
