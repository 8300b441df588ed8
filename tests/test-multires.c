/* test-multires.c — coarse to fine: the schedule of sizes and iterations, moving images
 * between sizes, and whole runs whose first sizes are a smaller run's: a large result
 * starts from exactly the small preview and stays close to it. */
#include <math.h>
#include <string.h>
#include "ns-internal.h"
#include "testutil.h"

/* ---- the schedule ------------------------------------------------------------------------- */

static void
test_schedule_auto (void)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autofree NsScale *s = NULL;
  g_autofree NsScale *big = NULL;
  int n, n_big;

  ns_options_set_iterations (opt, 100);
  s = ns_scales_plan (opt, 700, 500, 16, &n);
  g_assert_cmpint (n, ==, 3);
  g_assert_cmpint (s[0].width, ==, 256);
  g_assert_cmpint (s[0].height, ==, 183);
  g_assert_cmpint (s[1].width, ==, 512);
  g_assert_cmpint (s[2].width, ==, 700);
  g_assert_cmpint (s[2].height, ==, 500);
  g_assert_cmpint (s[0].iterations, ==, 100);
  g_assert_cmpint (s[1].iterations, ==, 50);
  g_assert_cmpint (s[2].iterations, ==, 25);

  /* A larger target passes through the same sizes and iterations first. */
  big = ns_scales_plan (opt, 2800, 2000, 16, &n_big);
  g_assert_cmpint (n_big, ==, 5);
  for (int k = 0; k < 2; k++)
    {
      g_assert_cmpint (big[k].width, ==, s[k].width);
      g_assert_cmpint (big[k].height, ==, s[k].height);
      g_assert_cmpint (big[k].iterations, ==, s[k].iterations);
    }
  g_assert_cmpint (big[4].width, ==, 2800);

  /* Small images, and a last step too small to be worth a size of its own. */
  g_clear_pointer (&s, g_free);
  s = ns_scales_plan (opt, 300, 200, 16, &n);
  g_assert_cmpint (n, ==, 1);
  g_assert_cmpint (s[0].width, ==, 300);
  g_assert_cmpint (s[0].iterations, ==, 100);
  g_clear_pointer (&s, g_free);
  s = ns_scales_plan (opt, 600, 600, 16, &n);
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpint (s[0].width, ==, 256);
  g_assert_cmpint (s[1].width, ==, 600);
  /* Sizes the layers cannot use are skipped: here 256×16 would be below 32 px high. */
  g_clear_pointer (&s, g_free);
  s = ns_scales_plan (opt, 1024, 64, 32, &n);
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpint (s[0].width, ==, 512);
  g_assert_cmpint (s[0].height, ==, 32);
}

static void
test_schedule_explicit (void)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  const int iters[] = { 30, 20, 10 };
  g_autofree NsScale *s = NULL;
  int n;

  ns_options_set_iterations (opt, 40);
  ns_options_set_scales (opt, 1);
  s = ns_scales_plan (opt, 2000, 1000, 16, &n);
  g_assert_cmpint (n, ==, 1);
  g_assert_cmpint (s[0].iterations, ==, 40);
  g_clear_pointer (&s, g_free);

  ns_options_set_scales (opt, 3);
  s = ns_scales_plan (opt, 2000, 1000, 16, &n);
  g_assert_cmpint (n, ==, 3);
  g_assert_cmpint (s[0].width, ==, 500);
  g_assert_cmpint (s[0].height, ==, 250);
  g_assert_cmpint (s[1].width, ==, 1000);
  g_assert_cmpint (s[0].iterations, ==, 40);
  g_assert_cmpint (s[1].iterations, ==, 20);
  g_assert_cmpint (s[2].iterations, ==, 10);
  g_clear_pointer (&s, g_free);

  /* The list sets the number of sizes and the iterations at each. */
  ns_options_set_scale_iterations (opt, iters, 3);
  ns_options_set_scales (opt, 5);
  s = ns_scales_plan (opt, 800, 800, 16, &n);
  g_assert_cmpint (n, ==, 3);
  for (int k = 0; k < 3; k++)
    g_assert_cmpint (s[k].iterations, ==, iters[k]);
  g_assert_cmpint (s[0].width, ==, 200);
  g_clear_pointer (&s, g_free);
  /* A size too small for the layers is dropped, with its entry of the list. */
  s = ns_scales_plan (opt, 80, 80, 32, &n);
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpint (s[0].width, ==, 40);
  g_assert_cmpint (s[0].iterations, ==, 20);
  g_assert_cmpint (s[1].iterations, ==, 10);

  /* Copies keep the list. */
  {
    g_autoptr (NsOptions) copy = ns_options_copy (opt);
    g_autofree NsScale *c = ns_scales_plan (copy, 800, 800, 16, &n);

    g_assert_cmpint (n, ==, 3);
    g_assert_cmpint (c[2].iterations, ==, 10);
  }
  ns_options_set_scale_iterations (opt, NULL, 0);
  g_clear_pointer (&s, g_free);
  s = ns_scales_plan (opt, 800, 800, 16, &n);
  g_assert_cmpint (n, ==, 5);
}

/* ---- moving images between sizes ----------------------------------------------------------------- */

static void
test_interleave (void)
{
  static const int cases[][2] = { { 3, 1 }, { 3, 2 }, { 3, 1000 }, { 3, 4097 }, { 1, 10 }, { 2, 7 } };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      int planes = cases[c][0];
      gsize n = cases[c][1];
      g_autofree float *x = g_new (float, planes * n);
      g_autofree float *orig = NULL;

      ns_test_fill (x, planes * n, 40 + c, -1.0f, 1.0f);
      orig = g_memdup2 (x, planes * n * sizeof (float));
      ns_planes_interleave (x, planes, n);
      for (int p = 0; p < planes; p++)
        for (gsize i = 0; i < n; i++)
          g_assert_cmpfloat (x[i * planes + p], ==, orig[p * n + i]);
    }
}

static void
test_planes_resize (void)
{
  int w = 13, h = 9, w2 = 30, h2 = 20;
  g_autofree float *x = g_new (float, 3 * w * h);
  g_autofree float *y = NULL;
  g_autoptr (NsImage) img = ns_image_new (w, h, 3);
  g_autoptr (NsImage) ref = NULL;

  ns_test_fill (x, 3 * w * h, 7, 0.0f, 1.0f);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < w * h; i++)
      img->data[i * 3 + c] = x[c * w * h + i];
  y = ns_planes_resize (x, 3, w, h, w2, h2);
  ref = ns_image_resize (img, w2, h2);
  /* The same arithmetic: equal to the last bit. */
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < w2 * h2; i++)
      g_assert_cmpfloat (y[c * w2 * h2 + i], ==, ref->data[i * 3 + c]);
}

/* Rectangles of a resize, enlarging and shrinking, equal ns_image_resize's pixels. */
static void
test_resampler (void)
{
  static const int sizes[][4] = { { 37, 23, 300, 190 }, { 300, 190, 37, 23 }, { 50, 40, 50, 40 },
                                  { 64, 9, 17, 100 } };

  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      int w = sizes[k][0], h = sizes[k][1], w2 = sizes[k][2], h2 = sizes[k][3];
      g_autoptr (NsImage) src = ns_image_new (w, h, 3);
      g_autoptr (NsImage) ref = NULL;
      g_autoptr (NsResampler) r = NULL;
      const NsRect rects[] = { { 0, 0, w2, h2 }, { w2 / 3, h2 / 4, w2 / 3 + 7, h2 / 4 + 5 },
                               { w2 - 3, h2 - 2, w2, h2 }, { 0, h2 / 2, w2, h2 / 2 + 1 } };

      ns_test_fill (src->data, (gsize) w * h * 3, 300 + k, 0.0f, 1.0f);
      ref = ns_image_resize (src, w2, h2);
      r = ns_resampler_new (src, w2, h2);
      for (guint i = 0; i < G_N_ELEMENTS (rects); i++)
        {
          const NsRect *q = &rects[i];
          int cw = q->x1 - q->x0, ch = q->y1 - q->y0;
          g_autofree float *out = g_new (float, (gsize) cw * ch * 3);

          ns_resampler_rect (r, q, out);
          for (int y = 0; y < ch; y++)
            g_assert_cmpmem (out + (gsize) y * cw * 3, cw * 3 * sizeof (float),
                             ref->data + ((gsize) (q->y0 + y) * w2 + q->x0) * 3,
                             cw * 3 * sizeof (float));
        }
    }
}

/* ---- whole runs ---------------------------------------------------------------------------------- */

static NsImage *
picture (int w, int h, guint32 seed)
{
  NsImage *img = ns_image_new (w, h, 3);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        img->data[((gsize) y * w + x) * 3 + c] =
          0.5f + 0.35f * sinf (0.09f * x * (c + 1 + seed) + 0.13f * y) * cosf (0.05f * y * (seed + 1));
  return img;
}

typedef struct
{
  int      calls, last_iteration, last_scale, scale_changes;
  int      last_scale_iteration;
  int      total;
  double   eta_end_of_first, eta_last;
  NsImage *end_of_first;     /* the preview at the last iteration of size 1 */
  int      first_iterations;
} Seen;

static void
on_progress (const NsProgress *p, gpointer data)
{
  Seen *s = data;

  s->calls++;
  g_assert_cmpint (p->iteration, ==, s->last_iteration + 1);
  g_assert_cmpint (p->scale, >=, s->last_scale);
  g_assert_cmpint (p->scale, >=, 1);
  g_assert_cmpint (p->scale, <=, p->n_scales);
  g_assert_cmpuint (p->memory_estimate, >, 0);
  g_assert_true (isfinite (p->eta) && p->eta >= 0.0);
  /* Counted again at each size (what the plug-in's progress shows); the first size runs
   * the iterations that were set. */
  g_assert_cmpint (p->scale_iteration, ==,
                   p->scale != s->last_scale ? 1 : s->last_scale_iteration + 1);
  g_assert_cmpint (p->scale_iteration, <=, p->scale_iterations);
  if (p->scale == 1 && s->first_iterations > 0)
    g_assert_cmpint (p->scale_iterations, ==, s->first_iterations);
  s->last_scale_iteration = p->scale_iteration;
  if (p->scale == 1 && p->iteration == s->first_iterations)
    s->eta_end_of_first = p->eta;
  s->eta_last = p->eta;
  if (p->scale != s->last_scale)
    s->scale_changes++;
  s->last_iteration = p->iteration;
  s->last_scale = p->scale;
  s->total = p->iterations;
  if (p->preview)
    {
      g_assert_cmpint (p->preview->width, ==, p->width);
      g_assert_cmpint (p->preview->height, ==, p->height);
    }
  if (p->scale == 1 && p->iteration == s->first_iterations && p->preview)
    s->end_of_first = ns_image_copy (p->preview);
}

static NsImage *
run (NsNetwork *net, NsOptions *opt, const NsImage *content, const NsImage *style, Seen *seen)
{
  g_autoptr (NsStylizer) st = ns_stylizer_new (net, opt);
  const NsImage *styles[] = { style };
  g_autoptr (GError) error = NULL;
  NsImage *out;

  ns_stylizer_set_progress (st, on_progress, seen);
  out = ns_stylizer_run (st, content, styles, NULL, 1, &error);
  g_assert_no_error (error);
  return out;
}

static double
mean_abs_diff (const NsImage *a, const NsImage *b)
{
  gsize n = (gsize) a->width * a->height * a->channels;
  double s = 0.0;

  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->height, ==, b->height);
  for (gsize i = 0; i < n; i++)
    s += fabs ((double) a->data[i] - b->data[i]);
  return s / n;
}

/* A run at 96×72 in two sizes goes through exactly the states of a 48×36 run (its preview),
 * then refines: its result, brought down to 48×36, is much closer to the preview than
 * either is to the content. */
static void
test_preview_consistency (void)
{
  g_autoptr (NsNetwork) net = ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);
  g_autoptr (NsImage) content = picture (96, 72, 1);
  g_autoptr (NsImage) style = picture (80, 80, 4);
  g_autoptr (NsImage) small_content = ns_image_resize (content, 48, 36);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) preview = NULL;
  g_autoptr (NsImage) big = NULL;
  g_autoptr (NsImage) big_down = NULL;
  Seen a = { 0 }, b = { 0 };
  double d_preview, d_style;

  ns_options_set_iterations (opt, 12);
  ns_options_set_preview_every (opt, 1);
  ns_options_set_scales (opt, 1);
  a.first_iterations = 12;
  preview = run (net, opt, small_content, style, &a);
  g_assert_cmpint (a.total, ==, 12);
  g_assert_cmpint (a.scale_changes, ==, 1);

  ns_options_set_scales (opt, 2);
  b.first_iterations = 12;
  big = run (net, opt, content, style, &b);
  g_assert_cmpint (b.total, ==, 12 + 6);
  g_assert_cmpint (b.calls, ==, 18);
  g_assert_cmpint (b.scale_changes, ==, 2);
  g_assert_cmpint (big->width, ==, 96);
  g_assert_cmpint (big->height, ==, 72);
  /* The ETA counts the larger size still to come, and is 0 at the end. */
  g_assert_cmpfloat (b.eta_end_of_first, >, 0.0);
  g_assert_cmpfloat (b.eta_last, ==, 0.0);

  /* The first size is the preview, bit for bit. */
  g_assert_nonnull (b.end_of_first);
  g_assert_cmpmem (b.end_of_first->data, 48 * 36 * 3 * sizeof (float), preview->data,
                   48 * 36 * 3 * sizeof (float));

  big_down = ns_image_resize (big, 48, 36);
  d_preview = mean_abs_diff (big_down, preview);
  d_style = mean_abs_diff (preview, small_content);
  g_test_message ("mean |result, reduced - preview| %.4f, mean |preview - content| %.4f",
                  d_preview, d_style);
  g_assert_cmpfloat (d_style, >, 0.02);             /* the style did change the image */
  g_assert_cmpfloat (d_preview, <, 0.5 * d_style);
  ns_image_free (a.end_of_first);
  ns_image_free (b.end_of_first);
}

/* ---- what a run costs (cost.c) -------------------------------------------------------------- */

/* Untiled, an evaluation is the image's pixels times its cost; tiled, all crops' pixels
 * (halos included, counted here independently of ns_tile_plan_new) for the gradient pass
 * and the Gram pass and, without cached content features, their recomputation, the last two
 * forward passes of the network alone. */
static void
test_cost_work (void)
{
  NsScalePlan p = { 0 };
  int w = 500, h = 300, tile = 128, halo = 96;
  double crops = 0.0;

  p.width = w;
  p.height = h;
  p.iterations = 10;
  p.optimizer = NS_OPTIMIZER_ADAM;
  /* An evaluation 0.9 of a whole pass a pixel, its pass alone 0.6: the set-up's features
   * and a tiled evaluation's extra passes are forward passes of the pass alone. */
  ns_scale_plan_set_work (&p, halo, 1000.0, 0.9, 0.6);
  g_assert_cmpfloat (fabs (p.work_eval - 0.9 * w * h), <=, 1e-9 * w * h);
  g_assert_cmpfloat (fabs (p.work_setup - NS_FORWARD_SHARE * 0.6 * (1000.0 + (double) w * h)),
                     <=, 1e-9 * w * h);
  g_assert_cmpfloat (ns_scale_plan_work (&p), ==, p.work_setup + 10 * p.work_eval);

  for (int y = 0; y < h; y += tile)
    for (int x = 0; x < w; x += tile)
      crops += (double) (MIN (w, x + tile + halo) - MAX (0, x - halo))
               * (MIN (h, y + tile + halo) - MAX (0, y - halo));
  p.tile = tile;
  p.cache_content = FALSE;
  ns_scale_plan_set_work (&p, halo, 0.0, 0.9, 0.6);
  g_assert_cmpfloat (fabs (p.work_eval - (0.9 + 2 * NS_FORWARD_SHARE * 0.6) * crops), <=,
                     1e-9 * crops);
  p.cache_content = TRUE;
  ns_scale_plan_set_work (&p, halo, 0.0, 0.9, 0.6);
  g_assert_cmpfloat (fabs (p.work_eval - (0.9 + NS_FORWARD_SHARE * 0.6) * crops), <=,
                     1e-9 * crops);
  /* The Grams and losses are not in the extra passes: a dearer evaluation adds its own
   * cost once a crop pixel, not three times. */
  ns_scale_plan_set_work (&p, halo, 0.0, 1.2, 0.6);
  g_assert_cmpfloat (fabs (p.work_eval - (1.2 + NS_FORWARD_SHARE * 0.6) * crops), <=,
                     1e-9 * crops);
  p.optimizer = NS_OPTIMIZER_LBFGS;
  g_assert_cmpfloat (ns_scale_plan_evals_per_iteration (&p), >, 1.0);
  g_assert_cmpfloat (ns_scale_plan_evals (&p), ==, 10 * ns_scale_plan_evals_per_iteration (&p));
  /* Refinement's small first step costs its line search more evaluations (cost.c). */
  p.refine = TRUE;
  g_assert_cmpfloat (ns_scale_plan_evals (&p), >, 10 * ns_scale_plan_evals_per_iteration (&p));
  p.optimizer = NS_OPTIMIZER_ADAM;
  g_assert_cmpfloat (ns_scale_plan_evals (&p), ==, 10.0);
}

/* The plan line states the expected time, measured on this machine. */
static void
test_cost_described (void)
{
  g_autoptr (NsNetwork) net = ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsStylizer) st = NULL;
  g_autoptr (NsImage) content = picture (300, 200, 1);
  g_autoptr (NsImage) style = picture (100, 100, 2);
  const NsImage *styles[] = { style };
  g_autofree char *description = NULL;
  g_autoptr (GError) error = NULL;

  ns_options_set_iterations (opt, 20);
  st = ns_stylizer_new (net, opt);
  g_assert_cmpuint (ns_stylizer_estimate_memory (st, content, styles, 1, &description, &error),
                    >, 0);
  g_assert_no_error (error);
  g_test_message ("%s", description);
  g_assert_nonnull (strstr (description, "; expected time about "));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/multires/schedule-auto", test_schedule_auto);
  g_test_add_func ("/multires/schedule-explicit", test_schedule_explicit);
  g_test_add_func ("/multires/interleave", test_interleave);
  g_test_add_func ("/multires/planes-resize", test_planes_resize);
  g_test_add_func ("/multires/resampler", test_resampler);
  g_test_add_func ("/multires/preview-consistency", test_preview_consistency);
  g_test_add_func ("/multires/cost-work", test_cost_work);
  g_test_add_func ("/multires/cost-described", test_cost_described);

  return g_test_run ();
}
