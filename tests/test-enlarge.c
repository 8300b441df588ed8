/* test-enlarge.c — a run that optimises below the content's size: it is the small run
 * enlarged (bilinear or guided, the same bits as doing it by hand), the refinement starts
 * from the guided result and stays near it, the plan and the progress count every stage,
 * and the style is never enlarged past its limit. */
#include <math.h>
#include <string.h>
#include "ns-internal.h"
#include "testutil.h"

/* The tests' images: sines of frequencies fx, fy, and a checker. */
static NsImage *
pattern (int w, int h, int channels, double fx, double fy)
{
  return ns_test_pattern (w, h, channels, fx, fy, 0.3f, 0.15f);
}

static NsNetwork *
network (void)
{
  return ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);
}

typedef struct
{
  int       optimize, enlarge, refine, last_iteration, iterations;
  int       refine_width, cancel_in_refine;
  double    refine_first_loss, refine_last_loss;
  NsStylizer *st;
} Stages;

static void
on_progress (const NsProgress *p, gpointer data)
{
  Stages *s = data;

  g_assert_cmpint (p->iterations, ==, s->iterations);
  switch (p->stage)
    {
    case NS_STAGE_OPTIMIZE:
      g_assert_cmpint (s->enlarge, ==, 0);
      g_assert_cmpint (p->iteration, ==, s->last_iteration + 1);
      s->optimize++;
      break;
    case NS_STAGE_ENLARGE:
      g_assert_cmpint (p->iteration, ==, s->last_iteration);
      s->enlarge++;
      break;
    case NS_STAGE_REFINE:
      g_assert_cmpint (s->enlarge, ==, 1);
      g_assert_cmpint (p->iteration, ==, s->last_iteration + 1);
      g_assert_cmpint (p->scale, ==, p->n_scales);
      s->refine_width = p->width;
      if (s->refine++ == 0)
        s->refine_first_loss = p->loss;
      s->refine_last_loss = p->loss;
      if (s->cancel_in_refine)
        ns_stylizer_cancel (s->st);
      break;
    }
  s->last_iteration = p->iteration;
}

static NsImage *
run (const NsOptions *opt, const NsImage *content, const NsImage *style, Stages *stages,
     GError **error)
{
  g_autoptr (NsNetwork) net = network ();
  g_autoptr (NsStylizer) st = ns_stylizer_new (net, opt);
  const NsImage *styles[] = { style };

  if (stages)
    {
      stages->st = st;
      ns_stylizer_set_progress (st, on_progress, stages);
    }
  return ns_stylizer_run (st, content, styles, NULL, 1, error);
}

static NsOptions *
small_options (int iterations)
{
  NsOptions *opt = ns_options_new ();

  ns_options_set_iterations (opt, iterations);
  ns_options_set_scales (opt, 1);
  ns_options_set_threads (opt, 2);
  return opt;
}

static void
assert_same (const NsImage *a, const NsImage *b)
{
  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->height, ==, b->height);
  g_assert_cmpint (a->channels, ==, b->channels);
  g_assert_cmpmem (a->data, (gsize) a->width * a->height * a->channels * sizeof (float),
                   b->data, (gsize) b->width * b->height * b->channels * sizeof (float));
}

/* Bilinear and guided: the small run, then the enlargement, bit for bit. */
static void
test_same_as_by_hand (void)
{
  g_autoptr (NsImage) content = pattern (160, 96, 3, 0.3, 0.2);
  g_autoptr (NsImage) style = pattern (64, 64, 3, 1.1, 0.7);
  g_autoptr (NsImage) small = ns_image_resize_longest (content, 64);
  g_autoptr (NsOptions) opt = small_options (6);
  g_autoptr (GError) error = NULL;
  g_autoptr (NsImage) small_result = run (opt, small, style, NULL, &error);
  NsUpsampleParams params;

  g_assert_no_error (error);
  ns_options_set_optimize_size (opt, 64);
  {
    g_autoptr (NsImage) by_hand = ns_image_resize (small_result, 160, 96);
    g_autoptr (NsImage) out = NULL;

    ns_options_set_upscale (opt, NS_UPSCALE_BILINEAR);
    out = run (opt, content, style, NULL, &error);
    g_assert_no_error (error);
    assert_same (out, by_hand);
  }
  {
    g_autoptr (NsImage) by_hand = NULL;
    g_autoptr (NsImage) out = NULL;

    ns_upsample_params_init (&params);
    by_hand = ns_upsample_guided (small_result, small, content, &params, &error);
    g_assert_no_error (error);
    ns_options_set_upscale (opt, NS_UPSCALE_GUIDED);
    out = run (opt, content, style, NULL, &error);
    g_assert_no_error (error);
    assert_same (out, by_hand);
    /* No refinement iterations: refine is guided. */
    ns_options_set_upscale (opt, NS_UPSCALE_REFINE);
    ns_options_set_refine_iterations (opt, 0);
    g_clear_pointer (&out, ns_image_free);
    out = run (opt, content, style, NULL, &error);
    g_assert_no_error (error);
    assert_same (out, by_hand);
  }
  /* At or above the content's size, optimize-size changes nothing. */
  {
    g_autoptr (NsImage) plain = run (opt, small, style, NULL, &error);

    ns_options_set_optimize_size (opt, 64);
    g_assert_no_error (error);
    assert_same (plain, small_result);
  }
}

static double
mean_abs_diff (const NsImage *a, const NsImage *b)
{
  gsize n = (gsize) a->width * a->height * a->channels;
  double d = 0.0;

  for (gsize i = 0; i < n; i++)
    d += fabs (a->data[i] - b->data[i]);
  return d / n;
}

/* High-frequency energy: mean squared difference to a 3×3 box blur, over the channels. */
static double
detail (const NsImage *img)
{
  int w = img->width, h = img->height, c = img->channels;
  double e = 0.0;

  for (int y = 1; y < h - 1; y++)
    for (int x = 1; x < w - 1; x++)
      for (int k = 0; k < c; k++)
        {
          double s = 0.0, d;

          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
              s += img->data[((y + dy) * w + x + dx) * c + k];
          d = img->data[(y * w + x) * c + k] - s / 9.0;
          e += d * d;
        }
  return e / ((double) (w - 2) * (h - 2) * c);
}

/* Refinement: the stages arrive in order, at full size, it changes the guided result but
 * stays near it, and lowers its own loss (the shallow layers' style statistics). */
static void
test_refine (void)
{
  g_autoptr (NsImage) content = pattern (192, 128, 3, 0.05, 0.03);
  g_autoptr (NsImage) style = pattern (96, 96, 3, 2.3, 1.9);
  g_autoptr (NsOptions) opt = small_options (8);
  g_autoptr (GError) error = NULL;
  g_autoptr (NsImage) guided = NULL;
  g_autoptr (NsImage) refined = NULL;
  Stages stages = { 0 };

  ns_options_set_optimize_size (opt, 64);
  ns_options_set_upscale (opt, NS_UPSCALE_GUIDED);
  guided = run (opt, content, style, NULL, &error);
  g_assert_no_error (error);

  ns_options_set_upscale (opt, NS_UPSCALE_REFINE);
  ns_options_set_refine_iterations (opt, 6);
  stages.iterations = 8 + 6;
  refined = run (opt, content, style, &stages, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stages.optimize, ==, 8);
  g_assert_cmpint (stages.enlarge, ==, 1);
  g_assert_cmpint (stages.refine, ==, 6);
  g_assert_cmpint (stages.refine_width, ==, 192);
  g_assert_cmpint (refined->width, ==, 192);
  g_assert_cmpint (refined->height, ==, 128);
  g_assert_cmpfloat (mean_abs_diff (refined, guided), >, 1e-4);
  g_assert_cmpfloat (mean_abs_diff (refined, guided), <, 0.15);
  g_assert_cmpfloat (stages.refine_last_loss, <, 0.9 * stages.refine_first_loss);
  g_assert_cmpfloat (detail (refined), >, 0.0);

  /* Cancelled during the refinement: an error, no image. */
  memset (&stages, 0, sizeof stages);
  stages.iterations = 8 + 6;
  stages.cancel_in_refine = 1;
  g_clear_pointer (&refined, ns_image_free);
  refined = run (opt, content, style, &stages, &error);
  g_assert_null (refined);
  g_assert_error (error, NS_ERROR, NS_ERROR_CANCELLED);
}

/* The plan has the refinement as its last size, at full size, and says so. */
static void
test_plan (void)
{
  g_autoptr (NsNetwork) net = network ();
  g_autoptr (NsImage) content = pattern (400, 300, 3, 0.3, 0.2);
  g_autoptr (NsImage) style = pattern (64, 64, 3, 1.1, 0.7);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (GError) error = NULL;
  const NsImage *styles[] = { style };
  g_autoptr (NsRunPlan) plan = NULL;
  g_autoptr (NsStylizer) st = NULL;
  g_autofree char *text = NULL;

  ns_options_set_iterations (opt, 20);
  ns_options_set_optimize_size (opt, 200);
  ns_options_set_refine_iterations (opt, 7);
  plan = ns_run_plan_new (net, opt, content, styles, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (plan->n_optimized, ==, 1);
  g_assert_cmpint (plan->n_scales, ==, 2);
  g_assert_cmpint (plan->scales[0].width, ==, 200);
  g_assert_cmpint (plan->scales[1].width, ==, 400);
  g_assert_true (plan->scales[1].refine);
  g_assert_cmpint (plan->scales[1].iterations, ==, 7);
  /* The refinement's pass stops early, so it counts as less work than a full one. */
  g_assert_cmpfloat (plan->scales[1].work_eval, <, 0.5 * 400 * 300);

  st = ns_stylizer_new (net, opt);
  g_assert_cmpuint (ns_stylizer_estimate_memory (st, content, styles, 1, &text, &error), >, 0);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "enlarged to 400×300"));
  g_assert_nonnull (strstr (text, "refined there"));
  g_assert_nonnull (strstr (text, "expected time"));
}

/* The refinement's layers: the cheap shallow style layers, the deepest as content. */
static void
test_refine_layers (void)
{
  g_autoptr (NsNetwork) vgg = ns_network_new_vgg19_topology (NS_NETWORK_VGG19, "vgg19");
  g_autoptr (NsNetwork) embedded = network ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsOptions) r = NULL;
  g_autoptr (GError) error = NULL;

  r = ns_refine_options (vgg, opt, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->n_style_layers, ==, 2);
  g_assert_cmpstr (r->style_layers[0].name, ==, "relu1_1");
  g_assert_cmpstr (r->style_layers[1].name, ==, "relu2_1");
  g_assert_cmpstr (r->content_layer, ==, "relu2_1");
  g_assert_cmpint (r->n_scale_iterations, ==, 1);
  g_assert_cmpint (r->scale_iterations[0], ==, NS_REFINE_ITERATIONS);
  g_assert_cmpint (r->init, ==, NS_INIT_CONTENT);
  g_clear_pointer (&r, ns_options_free);

  /* Only deep layers asked for: the cheapest shallow features instead. */
  g_assert_true (ns_options_set_style_layers (opt, "relu4_1,relu5_1", NULL));
  r = ns_refine_options (vgg, opt, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->n_style_layers, ==, 1);
  g_assert_cmpstr (r->style_layers[0].name, ==, "relu1_1");
  g_clear_pointer (&r, ns_options_free);

  /* The built-in network spends most of its work in its first scale: its first ReLU only. */
  ns_options_free (opt);
  opt = ns_options_new ();
  r = ns_refine_options (embedded, opt, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->n_style_layers, ==, 1);
  g_assert_cmpint (ns_network_layer_index (embedded, r->style_layers[0].name), ==,
                   ns_network_layer_index (embedded, "relu1_1"));
  g_assert_cmpfloat (ns_network_cost_share (embedded, embedded->n_layers - 1), ==, 1.0);
}

/* A pass that stops early costs what it was measured to (CPU time, cost.c): VGG-19 to
 * relu2_1 0.25–0.31 of its whole pass a pixel, to relu3_1 0.44, the built-in network to its
 * first ReLU 0.25–0.38 and to its second 0.69.  By multiply-adds alone VGG-19's were 0.16
 * and 0.31: the shallow layers' work on each element was missing. */
static void
test_cost_share_measured (void)
{
  g_autoptr (NsNetwork) vgg = ns_network_new_vgg19_topology (NS_NETWORK_VGG19, "vgg19");
  g_autoptr (NsNetwork) embedded = ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);
  struct { NsNetwork *net; const char *layer; double lo, hi; } m[] = {
    { vgg, "relu2_1", 0.2, 0.35 },
    { vgg, "relu3_1", 0.35, 0.5 },
    { embedded, "relu1_1", 0.2, 0.45 },
    { embedded, "relu1_2", 0.6, 0.8 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (m); i++)
    {
      double share = ns_network_cost_share (m[i].net, ns_network_layer_index (m[i].net,
                                                                             m[i].layer));

      g_assert_cmpfloat (share, >=, m[i].lo);
      g_assert_cmpfloat (share, <=, m[i].hi);
    }
}

/* The cost of an evaluation: the pass, plus the Gram matrices at their layers' resolution
 * (c² products a position: relu1_1's 64² at full resolution as much as relu2_1's 128² at a
 * quarter of it), plus element-wise work on each loss layer's c values a position and on
 * the image. */
static void
test_cost_share (void)
{
  g_autoptr (NsNetwork) vgg = ns_network_new_vgg19_topology (NS_NETWORK_VGG19, "vgg19");
  int r11 = ns_network_layer_index (vgg, "relu1_1"), r21 = ns_network_layer_index (vgg, "relu2_1");
  int r31 = ns_network_layer_index (vgg, "relu3_1");
  int one[] = { r11 }, two[] = { r21 }, both[] = { r11, r21 }, three[] = { r31 };
  double base = ns_objective_cost_share (vgg, r31, -1, NULL, 0);
  double g11 = ns_objective_cost_share (vgg, r31, -1, one, 1) - base;
  double g21 = ns_objective_cost_share (vgg, r31, -1, two, 1) - base;
  double g31 = ns_objective_cost_share (vgg, r31, -1, three, 1) - base;
  double c11 = ns_objective_cost_share (vgg, r31, r11, NULL, 0) - base;
  double c21 = ns_objective_cost_share (vgg, r31, r21, NULL, 0) - base;

  /* The image's own passes, however small beside VGG-19's. */
  g_assert_cmpfloat (base, >, ns_network_cost_share (vgg, r31));
  g_assert_cmpfloat (base, <, 1.01 * ns_network_cost_share (vgg, r31));
  g_assert_cmpfloat (g31, >, 0.0);
  /* Equal Grams; element-wise 64, 32 and 16 values a position. */
  g_assert_cmpfloat (fabs ((g11 - g21) - 2 * (g21 - g31)), <, 1e-12);
  g_assert_cmpfloat (g11 - g21, >, 0.0);
  g_assert_cmpfloat (fabs (c11 - 2 * c21), <, 1e-12);
  g_assert_cmpfloat (c21, >, 0.0);
  g_assert_cmpfloat (fabs (ns_objective_cost_share (vgg, r31, -1, both, 2) - base - g11 - g21),
                     <, 1e-12);
  g_assert_cmpfloat (ns_network_cost_share (vgg, r11), <, ns_network_cost_share (vgg, r21));
}

/* Style scale at large sizes: never enlarged past its own size or its size at 512 px. */
static void
test_style_longest (void)
{
  g_autoptr (NsImage) s512 = ns_image_new (512, 400, 3);
  g_autoptr (NsImage) s300 = ns_image_new (200, 300, 3);
  g_autoptr (NsImage) s2000 = ns_image_new (2000, 1500, 3);

  g_assert_cmpint (ns_style_longest (s512, 4000, 3000, 1.0), ==, 512);
  g_assert_cmpint (ns_style_longest (s512, 300, 200, 1.0), ==, 300);
  g_assert_cmpint (ns_style_longest (s300, 400, 300, 1.0), ==, 400);    /* as before */
  g_assert_cmpint (ns_style_longest (s300, 4000, 3000, 1.0), ==, 512);
  g_assert_cmpint (ns_style_longest (s300, 4000, 3000, 2.0), ==, 1024);
  g_assert_cmpint (ns_style_longest (s2000, 4000, 3000, 1.0), ==, 2000);
  g_assert_cmpint (ns_style_longest (s2000, 1000, 800, 1.5), ==, 1500);
  g_assert_cmpint (ns_style_longest (s2000, 4000, 3000, 0.25), ==, 1000);
}

/* A style image too small for the layers is refused naming its size, whole and tiled; a
 * style scale that makes it too small names the scale. */
static void
test_small_style (void)
{
  g_autoptr (NsNetwork) net = network ();
  g_autoptr (NsImage) content = pattern (256, 192, 3, 0.3, 0.2);
  g_autoptr (NsImage) dot = pattern (1, 1, 3, 0.0, 0.0);
  g_autoptr (NsImage) style = pattern (64, 64, 3, 1.1, 0.7);
  g_autoptr (NsOptions) opt = ns_options_new ();

  for (int tile = 0; tile <= 128; tile += 128)
    {
      NsObjectiveConfig config = { tile, 0, TRUE, TRUE, NULL };
      const NsImage *tiny[] = { dot }, *styles[] = { style };
      g_autoptr (GError) error = NULL;
      NsObjective *obj;

      ns_options_set_style_scale (opt, 1.0);
      obj = ns_objective_new_full (net, opt, content, tiny, NULL, 1, &config, &error);
      g_assert_null (obj);
      g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "only 1×1 pixels"));
      g_clear_error (&error);

      ns_options_set_style_scale (opt, 0.05);
      obj = ns_objective_new_full (net, opt, content, styles, NULL, 1, &config, &error);
      g_assert_null (obj);
      g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "At style scale 0.05"));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/enlarge/same-as-by-hand", test_same_as_by_hand);
  g_test_add_func ("/enlarge/refine", test_refine);
  g_test_add_func ("/enlarge/plan", test_plan);
  g_test_add_func ("/enlarge/refine-layers", test_refine_layers);
  g_test_add_func ("/enlarge/style-longest", test_style_longest);
  g_test_add_func ("/enlarge/cost-share", test_cost_share);
  g_test_add_func ("/enlarge/cost-share-measured", test_cost_share_measured);
  g_test_add_func ("/enlarge/small-style", test_small_style);
  return g_test_run ();
}
