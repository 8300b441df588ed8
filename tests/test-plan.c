/* test-plan.c — the public plan (ns_stylizer_plan, engine/plan-info.c): its sizes and
 * iterations are the options', the enlargement and refinement are there exactly when the
 * run optimises small, a budget's tiles and shorter history show, and the numbers are those
 * of ns_stylizer_estimate_memory / _seconds and of the command line's English line. */
#include <string.h>

#include "neural-style.h"

#define MIB ((guint64) 1 << 20)

typedef struct
{
  NsNetwork  *net;
  NsOptions  *opt;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->net = ns_network_load (NS_NETWORK_EMBEDDED, NULL, &error);
  g_assert_no_error (error);
  f->opt = ns_options_new ();
  ns_options_set_max_memory (f->opt, (guint64) 4 << 30);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  ns_options_free (f->opt);
  ns_network_unref (f->net);
}

/* The plan of a run on a w × h content with a 200 × 160 style (sizes only, no pixels), and
 * the command line's line and memory estimate of the same run. */
static NsPlan *
plan (Fixture *f, int w, int h, gboolean timed, char **line, guint64 *estimate,
      GError **error)
{
  g_autoptr (NsStylizer) st = ns_stylizer_new (f->net, f->opt);
  const NsImage content = { w, h, 3, NULL };
  const NsImage style = { 200, 160, 3, NULL };
  const NsImage *styles[] = { &style };
  NsPlan *p = ns_stylizer_plan (st, &content, styles, 1, timed, error);

  if (p && (line || estimate))
    {
      guint64 bytes = ns_stylizer_estimate_memory (st, &content, styles, 1, line, NULL);

      if (estimate)
        *estimate = bytes;
    }
  return p;
}

/* Coarse to fine: the sizes and the iterations per size the options ask for, the whole
 * image at once with the optimiser asked for, nothing enlarged. */
static void
test_sizes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsPlan) p = NULL;
  const int iterations[] = { 7, 3 };
  guint64 estimate = 0, budget;
  gboolean automatic = TRUE;
  NsUpscale upscale;
  int w = 0, h = 0;

  ns_options_set_scale_iterations (f->opt, iterations, 2);
  p = plan (f, 256, 192, FALSE, NULL, &estimate, &error);
  g_assert_no_error (error);

  g_assert_cmpint (ns_plan_get_n_sizes (p), ==, 2);
  for (int k = 0; k < 2; k++)
    {
      const NsPlanSize *s = ns_plan_get_size (p, k);

      g_assert_cmpint (s->width, ==, 128 << k);
      g_assert_cmpint (s->height, ==, 96 << k);
      g_assert_cmpint (s->iterations, ==, iterations[k]);
      g_assert_cmpint (s->tile, ==, 0);
      g_assert_false (s->streaming);
      g_assert_false (s->recompute_content);
      g_assert_cmpint (s->optimizer, ==, NS_OPTIMIZER_LBFGS);
      g_assert_cmpint (s->lbfgs_history, ==, 100);
      g_assert_true (s->as_asked);
      g_assert_cmpuint (s->peak_bytes, >, 0);
      g_assert_cmpuint (s->peak_bytes, <=, ns_plan_get_peak_bytes (p));
    }
  g_assert_cmpint (ns_plan_get_iterations (p), ==, 10);
  ns_plan_get_result_size (p, &w, &h);
  g_assert_cmpint (w, ==, 256);
  g_assert_cmpint (h, ==, 192);
  g_assert_false (ns_plan_get_enlarged (p, &upscale));
  g_assert_null (ns_plan_get_refinement (p));
  g_assert_cmpuint (ns_plan_get_peak_bytes (p), ==, estimate);
  budget = ns_plan_get_budget (p, &automatic);
  g_assert_cmpuint (budget, ==, (guint64) 4 << 30);
  g_assert_false (automatic);
  g_assert_cmpfloat (ns_plan_get_seconds (p), <, 0.0);
}

/* Adam asked for is Adam at every size, and that is as asked. */
static void
test_adam (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsPlan) p = NULL;

  ns_options_set_optimizer (f->opt, NS_OPTIMIZER_ADAM);
  ns_options_set_scales (f->opt, 1);
  p = plan (f, 160, 120, FALSE, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ns_plan_get_n_sizes (p), ==, 1);
  g_assert_cmpint (ns_plan_get_size (p, 0)->optimizer, ==, NS_OPTIMIZER_ADAM);
  g_assert_true (ns_plan_get_size (p, 0)->as_asked);
}

/* Without a budget the plan's is the automatic one. */
static void
test_automatic_budget (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsPlan) p = NULL;
  gboolean automatic = FALSE;

  ns_options_set_max_memory (f->opt, 0);
  ns_options_set_scales (f->opt, 1);
  p = plan (f, 64, 48, FALSE, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ns_plan_get_budget (p, &automatic), >=, ns_plan_get_peak_bytes (p));
  g_assert_true (automatic);
}

/* An optimisation size below the content's: one size at that size, then enlarged by the
 * method asked for, and refined at full size only by NS_UPSCALE_REFINE, with its own
 * iterations (not counted in the optimisation's). */
static void
test_enlarged (Fixture *f, gconstpointer data)
{
  const NsUpscale methods[] = { NS_UPSCALE_REFINE, NS_UPSCALE_GUIDED, NS_UPSCALE_BILINEAR };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (NsPlan) p = NULL;
      g_autofree char *line = NULL;
      const NsPlanSize *refine;
      NsUpscale upscale = -1;
      int w = 0, h = 0;

      ns_options_set_scales (f->opt, 1);
      ns_options_set_iterations (f->opt, 4);
      ns_options_set_optimize_size (f->opt, 120);
      ns_options_set_upscale (f->opt, methods[i]);
      ns_options_set_refine_iterations (f->opt, 3);
      p = plan (f, 240, 160, FALSE, &line, NULL, &error);
      g_assert_no_error (error);
      g_test_message ("%s", line);

      g_assert_cmpint (ns_plan_get_n_sizes (p), ==, 1);
      g_assert_cmpint (ns_plan_get_size (p, 0)->width, ==, 120);
      g_assert_cmpint (ns_plan_get_size (p, 0)->height, ==, 80);
      g_assert_cmpint (ns_plan_get_iterations (p), ==, 4);
      ns_plan_get_result_size (p, &w, &h);
      g_assert_cmpint (w, ==, 240);
      g_assert_cmpint (h, ==, 160);
      g_assert_true (ns_plan_get_enlarged (p, &upscale));
      g_assert_cmpint (upscale, ==, methods[i]);
      /* The command line says the same. */
      g_assert_nonnull (strstr (line, "then enlarged to 240×160"));

      refine = ns_plan_get_refinement (p);
      if (methods[i] != NS_UPSCALE_REFINE)
        {
          g_assert_null (refine);
          g_assert_null (strstr (line, "refined"));
          continue;
        }
      g_assert_nonnull (refine);
      g_assert_cmpint (refine->width, ==, 240);
      g_assert_cmpint (refine->height, ==, 160);
      g_assert_cmpint (refine->iterations, ==, 3);
      g_assert_true (refine->as_asked);
      g_assert_nonnull (strstr (line, "refined there"));
    }
}

/* The run's peak with a generous budget (one size, `iterations`, 640 × 480). */
static guint64
generous_peak (Fixture *f, int iterations)
{
  g_autoptr (NsPlan) p = NULL;

  ns_options_set_scales (f->opt, 1);
  ns_options_set_iterations (f->opt, iterations);
  ns_options_set_max_memory (f->opt, (guint64) 4 << 30);
  p = plan (f, 640, 480, FALSE, NULL, NULL, NULL);
  g_assert_nonnull (p);
  g_assert_true (ns_plan_get_size (p, 0)->as_asked);
  /* The buffers kept for reuse (when the budget leaves room) are not part of the need. */
  return ns_plan_get_peak_bytes (p) - ns_plan_get_size (p, 0)->reuse_bytes / 2;
}

/* Buffers kept for reuse between evaluations come out of what the budget leaves: with room
 * to spare they are part of the peak; with less they shrink to fit, before anything else
 * the budget would change; with none there are none. */
static void
test_reuse (Fixture *f, gconstpointer data)
{
  guint64 need = generous_peak (f, 20), reuse, budgets[3];
  g_autoptr (NsPlan) generous = NULL;

  ns_options_set_max_memory (f->opt, (guint64) 4 << 30);
  generous = plan (f, 640, 480, FALSE, NULL, NULL, NULL);
  reuse = ns_plan_get_size (generous, 0)->reuse_bytes;
  g_assert_cmpuint (reuse, >, 0);
  g_assert_cmpuint (ns_plan_get_peak_bytes (generous), ==, need + reuse / 2);
  /* The plan keeps a reserve of the budget free: budgets for a need of `need`; all of the
   * reuse must fit. */
  budgets[0] = (guint64) ((need + reuse / 2) / 0.95) + 1;
  budgets[1] = (guint64) (need / 0.95) + 1;
  budgets[2] = need;                    /* less than the need: something else gives */
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (NsPlan) p = NULL;
      const NsPlanSize *s;

      ns_options_set_max_memory (f->opt, budgets[i]);
      p = plan (f, 640, 480, FALSE, NULL, NULL, NULL);
      g_assert_nonnull (p);
      s = ns_plan_get_size (p, 0);
      g_test_message ("budget %" G_GUINT64_FORMAT " MiB: reuse %" G_GUINT64_FORMAT " MiB",
                      budgets[i] >> 20, s->reuse_bytes >> 20);
      g_assert_cmpuint (ns_plan_get_peak_bytes (p) + s->reuse_bytes / 2, <=, budgets[i]);
      g_assert_cmpuint (s->reuse_bytes, <, reuse);
      if (i == 0)
        {
          g_assert_true (s->as_asked);
          g_assert_cmpuint (s->reuse_bytes, >=, reuse / 2 - (1 << 20));
        }
      else if (i == 1)
        {
          g_assert_true (s->as_asked);
          g_assert_cmpuint (s->reuse_bytes, <=, 1 << 20);
        }
      else
        g_assert_false (s->as_asked);
    }
}

/* A budget below the whole-image run's: with many iterations L-BFGS's history is what
 * shrinks (it is most of the memory), with two the image goes in tiles.  The line says
 * the same numbers. */
static void
test_budget (Fixture *f, gconstpointer data)
{
  for (int pass = 0; pass < 2; pass++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (NsPlan) p = NULL;
      g_autofree char *line = NULL;
      g_autofree char *said = NULL;
      int iterations = pass == 0 ? 200 : 2;
      guint64 budget = generous_peak (f, iterations) * (pass == 0 ? 20 : 23) / 25;
      const NsPlanSize *s;

      ns_options_set_max_memory (f->opt, budget);
      p = plan (f, 640, 480, FALSE, &line, NULL, &error);
      g_assert_no_error (error);
      g_test_message ("%s", line);
      s = ns_plan_get_size (p, 0);
      g_assert_false (s->as_asked);
      g_assert_cmpuint (ns_plan_get_peak_bytes (p), <=, budget);
      g_assert_cmpuint (ns_plan_get_budget (p, NULL), ==, budget);
      if (pass == 0)
        {
          g_assert_cmpint (s->tile, ==, 0);
          g_assert_cmpint (s->lbfgs_history, <, 100);
          g_assert_cmpint (s->lbfgs_history, >=, 10);
          said = g_strdup_printf ("the whole image at once, L-BFGS with a history of %d",
                                  s->lbfgs_history);
        }
      else
        {
          g_assert_cmpint (s->tile, >, 0);
          g_assert_cmpint (s->tile, <, 640);
          said = g_strdup_printf ("in tiles of %d px", s->tile);
        }
      g_assert_nonnull (strstr (line, said));
    }
}

/* Timed, the plan has the expected time of ns_stylizer_estimate_seconds; untimed, none. */
static void
test_timed (Fixture *f, gconstpointer data)
{
  g_autoptr (NsStylizer) st = NULL;
  g_autoptr (NsPlan) timed = NULL;
  g_autoptr (NsPlan) untimed = NULL;
  g_autoptr (GError) error = NULL;
  const NsImage content = { 200, 150, 3, NULL };
  const NsImage style = { 100, 100, 3, NULL };
  const NsImage *styles[] = { &style };
  double seconds;

  ns_options_set_iterations (f->opt, 20);
  st = ns_stylizer_new (f->net, f->opt);
  untimed = ns_stylizer_plan (st, &content, styles, 1, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (ns_plan_get_seconds (untimed), <, 0.0);
  timed = ns_stylizer_plan (st, &content, styles, 1, TRUE, &error);
  g_assert_no_error (error);
  seconds = ns_stylizer_estimate_seconds (st, &content, styles, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (seconds, >, 0.0);
  g_assert_cmpfloat (ns_plan_get_seconds (timed), ==, seconds);
}

/* A budget nothing fits: no plan, the memory error. */
static void
test_over_budget (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsPlan) p = NULL;

  ns_options_set_max_memory (f->opt, MIB);
  p = plan (f, 256, 192, FALSE, NULL, NULL, &error);
  g_assert_null (p);
  g_assert_error (error, NS_ERROR, NS_ERROR_MEMORY);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) \
  g_test_add ("/plan/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("sizes", test_sizes);
  ADD ("adam", test_adam);
  ADD ("automatic-budget", test_automatic_budget);
  ADD ("enlarged", test_enlarged);
  ADD ("budget", test_budget);
  ADD ("reuse", test_reuse);
  ADD ("timed", test_timed);
  ADD ("over-budget", test_over_budget);
#undef ADD
  return g_test_run ();
}
