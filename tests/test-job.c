/* test-job.c — the plug-in's worker jobs (plugin/job.c, GIMP-free): the plan comes before
 * the first iteration and tells the memory estimate and budget; a run over the memory
 * budget fails with NS_ERROR_MEMORY before it starts. */
#include <string.h>
#include "neural-style.h"
#include "job.h"
#include "testutil.h"

/* What the plan function was given (the plan itself is only valid during the call). */
typedef struct
{
  int     plans;
  int     progress_before_plan;
  int     progress;
  int     n_sizes;
  int     width, height;            /* of the last size optimised */
  int     result_width, result_height;
  gboolean enlarged;
  gboolean refined;
  guint64 peak, budget;
  double  seconds;
} Seen;

static void
on_plan (NsJob        *job,
         const NsPlan *plan,
         gpointer      data)
{
  Seen *s = data;
  const NsPlanSize *last = ns_plan_get_size (plan, ns_plan_get_n_sizes (plan) - 1);

  s->plans++;
  s->n_sizes = ns_plan_get_n_sizes (plan);
  s->width = last->width;
  s->height = last->height;
  ns_plan_get_result_size (plan, &s->result_width, &s->result_height);
  s->enlarged = ns_plan_get_enlarged (plan, NULL);
  s->refined = ns_plan_get_refinement (plan) != NULL;
  s->peak = ns_plan_get_peak_bytes (plan);
  s->budget = ns_plan_get_budget (plan, NULL);
  s->seconds = ns_plan_get_seconds (plan);
}

static void
on_progress (NsJob            *job,
             const NsProgress *progress,
             gpointer          data)
{
  Seen *s = data;

  if (s->plans == 0)
    s->progress_before_plan++;
  s->progress++;
}

static NsJob *
small_job (NsNetworkCache *cache,
           guint64         max_memory)
{
  NsOptions *options = ns_options_new ();
  NsImage *content = ns_image_new (48, 40, 3);
  NsImage *style = ns_image_new (30, 26, 3);

  ns_test_fill (content->data, 48 * 40 * 3, 1, 0.0f, 1.0f);
  ns_test_fill (style->data, 30 * 26 * 3, 2, 0.0f, 1.0f);
  ns_options_set_iterations (options, 3);
  ns_options_set_scales (options, 1);
  ns_options_set_max_memory (options, max_memory);

  return ns_job_new (cache, NS_NETWORK_EMBEDDED, NS_PADDING_ZERO, options, content,
                     ns_styles_new_single (style), 0);
}

/* Runs a small job with the plan asked for; fills *seen. */
static NsImage *
run_job (guint64   max_memory,
         Seen     *seen,
         GError  **error)
{
  g_autoptr (NsNetworkCache) cache = ns_network_cache_new ();
  g_autoptr (NsJob) job = small_job (cache, max_memory);

  ns_job_set_plan_func (job, on_plan, seen);
  return ns_job_run_sync (job, on_progress, seen, error);
}

static void
test_plan_first (void)
{
  g_autoptr (GError) error = NULL;
  Seen seen = { 0 };
  g_autoptr (NsImage) result = run_job ((guint64) 512 << 20, &seen, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  g_assert_cmpint (result->width, ==, 48);
  g_assert_cmpint (seen.plans, ==, 1);
  g_assert_cmpint (seen.progress, >, 0);
  g_assert_cmpint (seen.progress_before_plan, ==, 0);
  g_assert_cmpint (seen.n_sizes, ==, 1);
  g_assert_cmpint (seen.width, ==, 48);
  g_assert_false (seen.enlarged);
  g_assert_cmpuint (seen.peak, >, 0);
  g_assert_cmpuint (seen.peak, <=, seen.budget);
  g_assert_cmpuint (seen.budget, ==, (guint64) 512 << 20);
  /* The final run's plan is not timed: that would cost it a second. */
  g_assert_cmpfloat (seen.seconds, <, 0.0);
}

static void
test_over_budget (void)
{
  g_autoptr (GError) error = NULL;
  Seen seen = { 0 };
  g_autoptr (NsImage) result = run_job ((guint64) 1 << 20, &seen, &error);

  g_assert_null (result);
  g_assert_error (error, NS_ERROR, NS_ERROR_MEMORY);
  g_assert_nonnull (strstr (error->message, "1 MiB budget"));
  g_assert_cmpint (seen.plans, ==, 0);
  g_assert_cmpint (seen.progress, ==, 0);
}

/* A region larger than the run side goes to the engine whole: the plan enlarges it and the
 * refinement is part of the run; the result has the region's size. */
static void
test_large_region (void)
{
  g_autoptr (NsNetworkCache) cache = ns_network_cache_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (NsImage) result = NULL;
  g_autoptr (NsJob) job = NULL;
  NsOptions *options = ns_options_new ();
  NsImage *content = ns_image_new (120, 96, 3);
  NsImage *style = ns_image_new (30, 26, 3);
  Seen seen = { 0 };

  ns_test_fill (content->data, 120 * 96 * 3, 1, 0.0f, 1.0f);
  ns_test_fill (style->data, 30 * 26 * 3, 2, 0.0f, 1.0f);
  ns_options_set_iterations (options, 2);
  ns_options_set_refine_iterations (options, 2);
  job = ns_job_new (cache, NS_NETWORK_EMBEDDED, NS_PADDING_ZERO, options, content,
                    ns_styles_new_single (style), 60);
  ns_job_set_plan_func (job, on_plan, &seen);
  result = ns_job_run_sync (job, on_progress, &seen, &error);

  g_assert_no_error (error);
  g_assert_cmpint (result->width, ==, 120);
  g_assert_cmpint (result->height, ==, 96);
  g_assert_cmpint (seen.width, ==, 60);
  g_assert_cmpint (seen.height, ==, 48);
  g_assert_true (seen.enlarged);
  g_assert_cmpint (seen.result_width, ==, 120);
  g_assert_cmpint (seen.result_height, ==, 96);
  g_assert_true (seen.refined);
}

/* A style of this size, without pixels (for an estimate). */
static NsImage *
size_only (int width, int height)
{
  NsImage *image = g_new0 (NsImage, 1);

  image->width = width;
  image->height = height;
  image->channels = 3;
  return image;
}

/* Two styles, the first on the left 60 % of a content of w × h, the second everywhere; the
 * mask at w × h. */
static NsStyles *
two_styles (int w, int h, NsImage *first, NsImage *second)
{
  NsStyles *styles = ns_styles_new (2);

  styles->images[0] = first;
  styles->images[1] = second;
  styles->masks[0] = ns_image_new (w, h, 1);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w * 6 / 10; x++)
      styles->masks[0]->data[(gsize) y * w + x] = 1.0f;
  return styles;
}

/* A thin region enlarged for the run, with regions: its masks, over the content as given,
 * are resized by the engine to the size it runs at. */
static void
test_regions_enlarged (void)
{
  g_autoptr (NsNetworkCache) cache = ns_network_cache_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (NsImage) result = NULL;
  g_autoptr (NsJob) job = NULL;
  NsOptions *options = ns_options_new ();
  NsImage *content = ns_image_new (50, 30, 3);
  NsImage *a = ns_image_new (30, 26, 3), *b = ns_image_new (26, 30, 3);
  Seen seen = { 0 };

  ns_test_fill (content->data, 50 * 30 * 3, 1, 0.0f, 1.0f);
  ns_test_fill (a->data, 30 * 26 * 3, 2, 0.0f, 1.0f);
  ns_test_fill (b->data, 26 * 30 * 3, 3, 0.0f, 1.0f);
  ns_options_set_iterations (options, 2);
  job = ns_job_new (cache, NS_NETWORK_EMBEDDED, NS_PADDING_ZERO, options, content,
                    two_styles (50, 30, a, b), 80);
  ns_job_set_plan_func (job, on_plan, &seen);
  result = ns_job_run_sync (job, on_progress, &seen, &error);

  g_assert_no_error (error);
  g_assert_cmpint (seen.width, ==, 80);
  g_assert_cmpint (seen.height, ==, 48);
  g_assert_cmpint (result->width, ==, 50);
  g_assert_cmpint (result->height, ==, 30);
}

static void
estimate_done (NsJob        *job,
               NsImage      *result,
               const GError *error,
               gpointer      data)
{
  g_assert_null (result);
  g_assert_no_error ((GError *) error);
  *(gboolean *) data = TRUE;
}

/* Estimates a 6000 × 4000 run of `styles` (optimised at 512 px, 16 GiB budget), waiting
 * for it on the main context; the plan it reports goes to `seen`, its two times to
 * `seconds` and `full_seconds`. */
static void
run_estimate (NsStyles *styles, Seen *seen, double *seconds, double *full_seconds)
{
  g_autoptr (NsNetworkCache) cache = ns_network_cache_new ();
  g_autoptr (NsJob) job = NULL;
  NsOptions *options = ns_options_new ();
  gboolean done = FALSE;

  ns_options_set_max_memory (options, (guint64) 16 << 30);
  job = ns_job_new_estimate (cache, NS_NETWORK_EMBEDDED, NS_PADDING_ZERO, options, 6000, 4000,
                             styles, 512);
  ns_job_set_plan_func (job, on_plan, seen);
  ns_job_start (job, NULL, NULL, estimate_done, &done);
  while (! done)
    g_main_context_iteration (NULL, TRUE);
  ns_job_join (job);
  ns_job_get_estimate (job, seconds, full_seconds);
}

/* An estimate plans a photo-sized region without its pixels and tells both times. */
static void
test_estimate (void)
{
  Seen seen = { 0 };
  double seconds, full_seconds;

  run_estimate (ns_styles_new_single (size_only (800, 600)), &seen, &seconds, &full_seconds);
  g_assert_cmpint (seen.plans, ==, 1);
  g_assert_cmpint (seen.width, ==, 512);
  g_assert_cmpint (seen.height, ==, 341);
  g_assert_true (seen.enlarged);
  g_assert_cmpint (seen.result_width, ==, 6000);
  g_assert_cmpint (seen.result_height, ==, 4000);
  g_assert_cmpfloat (seconds, >, 0.0);
  g_assert_cmpfloat (seen.seconds, ==, seconds);
  g_assert_cmpfloat (full_seconds, >, 2.0 * seconds);
}

/* An estimate of several styles with regions, the masks read small (60 × 40 for 6000 ×
 * 4000): the engine takes them, and plans every style. */
static void
test_estimate_regions (void)
{
  Seen seen = { 0 };
  double seconds, full_seconds;

  run_estimate (two_styles (60, 40, size_only (800, 600), size_only (700, 900)), &seen,
                &seconds, &full_seconds);
  g_assert_cmpint (seen.plans, ==, 1);
  g_assert_cmpint (seen.width, ==, 512);
  g_assert_cmpfloat (seconds, >, 0.0);
  g_assert_cmpfloat (full_seconds, >, 2.0 * seconds);
}

/* The cache gives the padding asked for: another padding is a network of its own (the
 * padding of a shared one never changes), the same padding the same network again; the
 * engine's default padding keeps the default's extent. */
static void
test_cache_padding (void)
{
  g_autoptr (NsNetworkCache) cache = ns_network_cache_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (NsNetwork) zero = NULL;
  g_autoptr (NsNetwork) replicate = NULL;
  g_autoptr (NsNetwork) again = NULL;
  g_autoptr (NsNetwork) reflect = NULL;
  NsPadding padding, default_padding;
  int n_convs, default_n;

  zero = ns_network_cache_get (cache, NS_NETWORK_EMBEDDED, NS_PADDING_ZERO, NULL, &error);
  g_assert_no_error (error);
  replicate = ns_network_cache_get (cache, NS_NETWORK_EMBEDDED, NS_PADDING_REPLICATE, NULL,
                                    &error);
  g_assert_no_error (error);
  g_assert_true (replicate != zero);
  ns_network_get_padding (zero, &padding, &n_convs);
  g_assert_cmpint (padding, ==, NS_PADDING_ZERO);
  ns_network_get_padding (replicate, &padding, &n_convs);
  g_assert_cmpint (padding, ==, NS_PADDING_REPLICATE);
  ns_network_default_padding (NS_NETWORK_EMBEDDED, &default_padding, &default_n);
  g_assert_cmpint (n_convs, ==, default_padding == NS_PADDING_ZERO ? -1 : default_n);

  again = ns_network_cache_get (cache, NS_NETWORK_EMBEDDED, NS_PADDING_REPLICATE, NULL,
                                &error);
  g_assert_no_error (error);
  g_assert_true (again == replicate);
  reflect = ns_network_cache_get (cache, NS_NETWORK_EMBEDDED, NS_PADDING_REFLECT, NULL, &error);
  g_assert_no_error (error);
  ns_network_get_padding (reflect, &padding, &n_convs);
  g_assert_cmpint (padding, ==, NS_PADDING_REFLECT);
  /* The networks handed out before keep their padding. */
  ns_network_get_padding (replicate, &padding, &n_convs);
  g_assert_cmpint (padding, ==, NS_PADDING_REPLICATE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/job/plan-before-progress", test_plan_first);
  g_test_add_func ("/job/over-budget-fails-before-start", test_over_budget);
  g_test_add_func ("/job/large-region-enlarged-by-the-engine", test_large_region);
  g_test_add_func ("/job/estimate", test_estimate);
  g_test_add_func ("/job/estimate-regions", test_estimate_regions);
  g_test_add_func ("/job/regions-enlarged", test_regions_enlarged);
  g_test_add_func ("/job/cache-padding", test_cache_padding);
  return g_test_run ();
}
