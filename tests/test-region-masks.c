/* test-region-masks.c — the masks of regions at any size of their image's shape
 * (ns_stylizer_set_regions, ns_region_mask_fits): a mask at half or double the content's
 * size gives the loss of the same mask resized by the caller, hard edges resized keep
 * [0,1], a mask of another shape is refused naming the sizes; and the plan's time counts
 * every style and the guided terms of every region. */
#include <math.h>
#include <string.h>
#include "objective-internal.h"
#include "testutil.h"

/* ---- shapes ---------------------------------------------------------------------------- */

static void
test_fits (void)
{
  /* The same size, and sizes one resize away (rounded either way). */
  g_assert_true (ns_region_mask_fits (101, 51, 101, 51));
  g_assert_true (ns_region_mask_fits (51, 26, 101, 51));
  g_assert_true (ns_region_mask_fits (50, 25, 101, 51));
  g_assert_true (ns_region_mask_fits (202, 102, 101, 51));
  g_assert_true (ns_region_mask_fits (101, 51, 51, 26));
  g_assert_true (ns_region_mask_fits (1024, 683, 512, 341));
  g_assert_true (ns_region_mask_fits (7, 3000, 28, 12000));
  /* A pixel off at the same size is a rounding; two are not. */
  g_assert_true (ns_region_mask_fits (64, 49, 64, 48));
  g_assert_false (ns_region_mask_fits (64, 50, 64, 48));
  /* Other shapes. */
  g_assert_false (ns_region_mask_fits (64, 64, 64, 48));
  g_assert_false (ns_region_mask_fits (48, 64, 64, 48));
  g_assert_false (ns_region_mask_fits (32, 32, 64, 48));
  g_assert_false (ns_region_mask_fits (128, 48, 64, 48));
  g_assert_false (ns_region_mask_fits (0, 0, 64, 48));
}

/* ---- runs ------------------------------------------------------------------------------ */

/* A feathered mask: 1 left of the fraction `edge` of the width, 0 right of it, a linear ramp
 * a tenth of the width wide; the same shape at every size. */
static NsImage *
ramp (int w, int h, double edge)
{
  NsImage *m = ns_image_new (w, h, 1);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      m->data[(gsize) y * w + x] = CLAMP (0.5f + (float) ((edge - (x + 0.5) / w) * 10.0),
                                          0.0f, 1.0f);
  return m;
}

/* mask made w × h as a caller would: resized, clipped to [0,1]. */
static NsImage *
caller_resized (const NsImage *mask, int w, int h)
{
  NsImage *m = ns_image_resize (mask, w, h);

  for (gsize i = 0; i < (gsize) w * h; i++)
    m->data[i] = CLAMP (m->data[i], 0.0f, 1.0f);
  return m;
}

typedef struct
{
  double style_loss;   /* of the first iteration reported */
  gboolean seen;
} FirstLoss;

static void
on_progress (const NsProgress *p, gpointer data)
{
  FirstLoss *first = data;

  if (! first->seen && p->iteration >= 1)
    {
      first->style_loss = p->style_loss;
      first->seen = TRUE;
    }
}

/* A run of 2 iterations at one size with these content masks (2 styles); its result, and
 * the style loss of its first iteration in *style_loss.  NULL with `error` when refused. */
static NsImage *
run_with (NsNetwork *net, const NsImage *content, const NsImage * const *styles,
          const NsImage * const *masks, NsRegionRest rest, double *style_loss, GError **error)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsStylizer) st = NULL;
  FirstLoss first = { 0.0, FALSE };
  NsImage *out;

  ns_options_set_iterations (opt, 2);
  ns_options_set_scales (opt, 1);
  st = ns_stylizer_new (net, opt);
  ns_stylizer_set_progress (st, on_progress, &first);
  if (! ns_stylizer_set_regions (st, masks, NULL, 2, rest, error))
    return NULL;
  out = ns_stylizer_run (st, content, styles, NULL, 2, error);
  if (out != NULL)
    {
      g_assert_true (first.seen);
      *style_loss = first.style_loss;
    }
  return out;
}

static void
test_any_size (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsImage) content = ns_test_image (64, 48, 1, 0.05f);
  g_autoptr (NsImage) style_a = ns_test_image (60, 70, 2, 0.10f);
  g_autoptr (NsImage) style_b = ns_test_image (80, 50, 3, 0.15f);
  const NsImage *styles[] = { style_a, style_b };
  /* Half, double, and sizes the content's shape rounds to. */
  const int sizes[][2] = { { 32, 24 }, { 128, 96 }, { 33, 25 }, { 97, 73 } };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      int w = sizes[i][0], h = sizes[i][1];
      g_autoptr (NsImage) left = ramp (w, h, 0.4);
      g_autoptr (NsImage) right = ramp (w, h, 0.7);
      g_autoptr (NsImage) left_c = NULL;
      g_autoptr (NsImage) right_c = NULL;
      g_autoptr (NsImage) out = NULL;
      g_autoptr (NsImage) ref = NULL;
      g_autoptr (GError) error = NULL;
      double loss = 0.0, ref_loss = 0.0;

      /* The region right of 0.7: 1 − the ramp. */
      for (gsize p = 0; p < (gsize) w * h; p++)
        right->data[p] = 1.0f - right->data[p];
      left_c = caller_resized (left, 64, 48);
      right_c = caller_resized (right, 64, 48);
      {
        const NsImage *masks[] = { left, right };
        const NsImage *given[] = { left_c, right_c };

        out = run_with (net, content, styles, masks, NS_REGION_REST_STYLES, &loss, &error);
        g_assert_no_error (error);
        ref = run_with (net, content, styles, given, NS_REGION_REST_STYLES, &ref_loss, &error);
        g_assert_no_error (error);
      }
      g_test_message ("masks at %d×%d: style loss %.9g, resized by the caller %.9g", w, h,
                      loss, ref_loss);
      g_assert_cmpint (out->width, ==, 64);
      g_assert_cmpint (out->height, ==, 48);
      g_assert_cmpfloat (ref_loss, >, 0.0);
      g_assert_cmpfloat (fabs (loss - ref_loss), <=, 1e-6 * ref_loss);
      g_assert_cmpfloat (ns_test_rel_norm (out->data, ref->data, (gsize) 64 * 48 * 3), <,
                         1e-5);
    }
}

/* Hard 0/1 masks (a vertical edge) at sizes from a third to three times a content's, of its
 * shape: each is taken (the plan checks the shapes), and the engine's copy at the content's
 * size keeps [0,1], 0 and 1 on either side of the edge and the edge's place.  (The engine's
 * resampler sums in double, and on these and some 47 000 other pairs of sizes, hard, ramped
 * and random masks, it gave no value above 1: the clipping after it guards a resampler that
 * would, such as a spline's.) */
static void
test_hard_edges (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsStylizer) st = NULL;
  const NsImage content = { 150, 100, 3, NULL }, style = { 60, 70, 3, NULL };
  const NsImage *styles[] = { &style };
  const int sizes[][2] = { { 50, 33 }, { 51, 34 }, { 75, 50 }, { 149, 99 }, { 151, 101 },
                           { 300, 200 }, { 301, 201 }, { 450, 300 }, { 449, 299 } };

  st = ns_stylizer_new (net, opt);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      int mw = sizes[i][0], mh = sizes[i][1];
      g_autoptr (NsImage) mask = ns_image_new (mw, mh, 1);
      g_autofree float *at = NULL;
      const NsImage *masks[] = { mask };
      GError *error = NULL;
      double sum = 0.0;

      for (int y = 0; y < mh; y++)
        for (int x = 0; x < mw; x++)
          mask->data[(gsize) y * mw + x] = x < mw * 2 / 5 ? 1.0f : 0.0f;
      g_assert_true (ns_stylizer_set_regions (st, masks, NULL, 1, NS_REGION_REST_CONTENT,
                                              &error));
      g_assert_no_error (error);
      g_assert_cmpuint (ns_stylizer_estimate_memory (st, &content, styles, 1, NULL, &error),
                        >, 0);
      g_assert_no_error (error);

      at = ns_region_mask_at (mask, content.width, content.height);
      for (gsize p = 0; p < (gsize) content.width * content.height; p++)
        {
          g_assert_true (at[p] >= 0.0f && at[p] <= 1.0f);
          sum += at[p];
        }
      g_assert_cmpfloat (at[0], ==, 1.0f);
      g_assert_cmpfloat (at[content.width - 1], ==, 0.0f);
      /* The edge where the mask has it: 2/5 of the width, within a pixel of either. */
      g_assert_cmpfloat (fabs (sum / content.height - (double) (mw * 2 / 5) * content.width / mw),
                         <=, 1.0 + (double) content.width / mw);
    }
}

static void
test_wrong_shape (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsImage) content = ns_test_image (64, 48, 1, 0.05f);
  g_autoptr (NsImage) style = ns_test_image (60, 70, 2, 0.10f);
  g_autoptr (NsImage) square = ramp (32, 32, 0.5);
  g_autoptr (NsImage) wide = ramp (120, 70, 0.5);
  g_autoptr (NsImage) style_half = ramp (30, 35, 0.5);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsStylizer) st = NULL;
  const NsImage *styles[] = { style };
  GError *error = NULL;
  NsImage *out;

  ns_options_set_iterations (opt, 1);
  ns_options_set_scales (opt, 1);
  st = ns_stylizer_new (net, opt);
  {
    const NsImage *masks[] = { square };

    g_assert_true (ns_stylizer_set_regions (st, masks, NULL, 1, NS_REGION_REST_CONTENT, NULL));
    out = ns_stylizer_run (st, content, styles, NULL, 1, &error);
    g_assert_null (out);
    g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "32×32"));
    g_assert_nonnull (strstr (error->message, "64×48"));
    g_clear_error (&error);
    /* The estimates refuse it too, before any work. */
    g_assert_cmpuint (ns_stylizer_estimate_memory (st, content, styles, 1, NULL, &error), ==, 0);
    g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  {
    /* A style mask of another shape than its style (60×70) is refused; half its size is
     * not. */
    const NsImage *style_masks[] = { wide };
    const NsImage *half[] = { style_half };

    g_assert_true (ns_stylizer_set_regions (st, NULL, style_masks, 1, NS_REGION_REST_CONTENT,
                                            NULL));
    out = ns_stylizer_run (st, content, styles, NULL, 1, &error);
    g_assert_null (out);
    g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "120×70"));
    g_assert_nonnull (strstr (error->message, "60×70"));
    g_clear_error (&error);
    g_assert_true (ns_stylizer_set_regions (st, NULL, half, 1, NS_REGION_REST_CONTENT, NULL));
    out = ns_stylizer_run (st, content, styles, NULL, 1, &error);
    g_assert_no_error (error);
    ns_image_free (out);
  }
}

/* ---- the plan's work -------------------------------------------------------------------- */

/* A hard mask: 1 for x in [x0, x1) as fractions of the width, else 0. */
static NsImage *
band (int w, int h, double x0, double x1)
{
  NsImage *m = ns_image_new (w, h, 1);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      m->data[(gsize) y * w + x] = x >= x0 * w && x < x1 * w ? 1.0f : 0.0f;
  return m;
}

/* The plan's work (pixel evaluations) for content and styles given by their sizes. */
static double
plan_work (NsNetwork *net, const NsOptions *opt, int n_styles, const NsRegions *regions,
           int *tile)
{
  const NsImage content = { 1024, 768, 3, NULL };
  const NsImage style_a = { 600, 500, 3, NULL }, style_b = { 800, 600, 3, NULL };
  const NsImage *styles[] = { &style_a, &style_b };
  g_autoptr (GError) error = NULL;
  g_autoptr (NsRunPlan) plan = ns_run_plan_new (net, opt, &content, styles, n_styles, regions,
                                                &error);

  g_assert_no_error (error);
  *tile = plan->scales[plan->n_scales - 1].tile;
  return plan->work;
}

static void
test_plan_work (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  /* Masks at a size of their own: only their shape and share of the image matter. */
  g_autoptr (NsImage) left = band (128, 96, 0.0, 0.6);
  g_autoptr (NsImage) right = band (128, 96, 0.4, 1.0);
  g_autoptr (NsImage) top = band (128, 96, 0.0, 0.5);
  g_autoptr (NsImage) rest_of_top = band (128, 96, 0.5, 1.0);
  const NsImage *overlapping[] = { left, right };
  const NsImage *partition[] = { top, rest_of_top };
  const NsImage *one[] = { left, NULL };
  g_autoptr (NsRegions) over = ns_regions_new (overlapping, NULL, 2, NS_REGION_REST_STYLES,
                                               NULL);
  g_autoptr (NsRegions) split = ns_regions_new (partition, NULL, 2, NS_REGION_REST_CONTENT,
                                                NULL);
  g_autoptr (NsRegions) left_only = ns_regions_new (one, NULL, 2, NS_REGION_REST_CONTENT, NULL);

  /* Coverage: 0.6 + 0.6 (no rest: the masks cover everything); 0.5 + 0.5; 0.6 + 1 (the
   * second style everywhere). */
  g_assert_cmpfloat (fabs (ns_regions_coverage (over) - 1.2), <, 0.02);
  g_assert_cmpfloat (fabs (ns_regions_coverage (split) - 1.0), <, 0.02);
  g_assert_cmpfloat (fabs (ns_regions_coverage (left_only) - 1.6), <, 0.02);
  g_assert_cmpfloat (ns_regions_coverage (NULL), ==, 1.0);

  ns_options_set_iterations (opt, 100);
  for (int tiled = 0; tiled < 2; tiled++)
    {
      double one_style, two, two_over, two_split, two_left;
      int tile, t;

      /* Small enough a budget for tiles. */
      ns_options_set_max_memory (opt, tiled ? (guint64) 700 << 20 : (guint64) 8 << 30);
      one_style = plan_work (net, opt, 1, NULL, &tile);
      two = plan_work (net, opt, 2, NULL, &t);
      two_over = plan_work (net, opt, 2, over, &t);
      two_split = plan_work (net, opt, 2, split, &t);
      two_left = plan_work (net, opt, 2, left_only, &t);
      g_test_message ("%s (tile %d): work 1 style %.4g, 2 styles %.4g; with regions: "
                      "overlapping %.4g, a partition %.4g, one region and one style "
                      "everywhere %.4g", tiled ? "tiled" : "whole", tile, one_style, two,
                      two_over, two_split, two_left);
      g_assert_cmpint (tile > 0, ==, tiled);
      /* Every style's statistics, and the guided terms by the share their masks cover. */
      g_assert_cmpfloat (two, >, one_style);
      g_assert_cmpfloat (two_over, >, two);
      g_assert_cmpfloat (two_left, >, two_over);
      g_assert_cmpfloat (fabs (two_split - two), <, 0.01 * two);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/region-masks/fits", test_fits);
  g_test_add_func ("/region-masks/any-size", test_any_size);
  g_test_add_func ("/region-masks/hard-edges", test_hard_edges);
  g_test_add_func ("/region-masks/wrong-shape", test_wrong_shape);
  g_test_add_func ("/region-masks/plan-work", test_plan_work);
  return g_test_run ();
}
