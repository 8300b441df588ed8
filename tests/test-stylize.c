/* test-stylize.c — whole runs: the loss falls, progress and previews arrive, cancel and
 * bad input give clear errors, seeds reproduce, colour modes keep what they promise. */
#include <math.h>
#include <string.h>
#include "neural-style.h"
#include "testutil.h"

/* The tests' images: sines of frequencies fx, fy. */
static NsImage *
pattern (int w, int h, int channels, double fx, double fy)
{
  return ns_test_pattern (w, h, channels, fx, fy, 0.4f, 0.0f);
}

typedef struct
{
  int     calls, previews, last_iter;
  double  first_rel, last_rel;
  int     cancel_at;
  NsStylizer *st;
} Seen;

static void
on_progress (const NsProgress *p, gpointer data)
{
  Seen *s = data;

  g_assert_cmpint (p->iteration, ==, s->last_iter + 1);
  g_assert_true (isfinite (p->loss));
  g_assert_cmpfloat (p->elapsed, >=, 0.0);
  s->last_iter = p->iteration;
  if (s->calls++ == 0)
    s->first_rel = p->relative_loss;
  s->last_rel = p->relative_loss;
  if (p->preview)
    {
      s->previews++;
      g_assert_cmpint (p->preview->width, ==, 40);
    }
  if (s->cancel_at && p->iteration == s->cancel_at)
    ns_stylizer_cancel (s->st);
}

static NsImage *
run (NsOptions *opt, const NsImage *content, const NsImage *style, Seen *seen, GError **error)
{
  g_autoptr (NsNetwork) net = ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);
  g_autoptr (NsStylizer) st = ns_stylizer_new (net, opt);
  const NsImage *styles[] = { style };

  if (seen)
    {
      seen->st = st;
      ns_stylizer_set_progress (st, on_progress, seen);
    }
  return ns_stylizer_run (st, content, styles, NULL, 1, error);
}

static void
test_loss_falls (void)
{
  g_autoptr (NsImage) content = pattern (40, 32, 3, 0.2, 0.1);
  g_autoptr (NsImage) style = pattern (48, 48, 3, 1.1, 0.7);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (NsImage) out = NULL;
  Seen seen = { 0 };

  ns_options_set_iterations (opt, 10);
  ns_options_set_preview_every (opt, 4);
  out = run (opt, content, style, &seen, &error);
  g_assert_no_error (error);
  g_assert_cmpint (out->width, ==, 40);
  g_assert_cmpint (out->height, ==, 32);
  g_assert_cmpint (out->channels, ==, 3);
  g_assert_cmpint (seen.calls, ==, 10);
  g_assert_cmpint (seen.previews, ==, 3);       /* 4, 8 and the last */
  g_assert_cmpfloat (seen.last_rel, <, 0.5 * seen.first_rel);
  for (gsize i = 0; i < (gsize) 40 * 32 * 3; i++)
    g_assert_true (out->data[i] >= 0.0f && out->data[i] <= 1.0f);
}

static void
test_cancel (void)
{
  g_autoptr (NsImage) content = pattern (32, 32, 3, 0.2, 0.1);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (GError) error = NULL;
  Seen seen = { 0 };
  NsImage *out;

  ns_options_set_iterations (opt, 50);
  seen.cancel_at = 3;
  out = run (opt, content, content, &seen, &error);
  g_assert_null (out);
  g_assert_error (error, NS_ERROR, NS_ERROR_CANCELLED);
  g_assert_cmpint (seen.last_iter, ==, 3);
}

/* A cancel that comes before the run (while the caller was still setting up) stops it
 * before any iteration; the stylizer then runs again. */
static void
test_cancel_before_run (void)
{
  g_autoptr (NsImage) content = pattern (32, 32, 3, 0.2, 0.1);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsNetwork) net = ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);
  g_autoptr (NsStylizer) st = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NsImage) again = NULL;
  const NsImage *styles[] = { content };
  Seen seen = { 0 };

  ns_options_set_iterations (opt, 4);
  st = ns_stylizer_new (net, opt);
  ns_stylizer_set_progress (st, on_progress, &seen);

  ns_stylizer_cancel (st);
  g_assert_null (ns_stylizer_run (st, content, styles, NULL, 1, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_CANCELLED);
  g_assert_cmpint (seen.calls, ==, 0);

  again = ns_stylizer_run (st, content, styles, NULL, 1, NULL);
  g_assert_nonnull (again);
  g_assert_cmpint (seen.calls, ==, 4);
}

static void
test_tiny_image (void)
{
  g_autoptr (NsImage) tiny = pattern (1, 1, 3, 0, 0);
  g_autoptr (NsImage) style = pattern (32, 32, 3, 1, 1);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (GError) error = NULL;

  g_assert_null (run (opt, tiny, style, NULL, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "1×1"));
  g_assert_nonnull (strstr (error->message, "at least"));
}

static void
test_numeric_guard (void)
{
  g_autoptr (NsImage) content = pattern (32, 32, 3, 0.2, 0.1);
  g_autoptr (NsImage) style = pattern (32, 32, 3, 1, 1);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (GError) error = NULL;

  ns_options_set_style_weight (opt, 1e308);     /* the loss overflows to +Inf */
  ns_options_set_iterations (opt, 3);
  g_assert_null (run (opt, content, style, NULL, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_NUMERIC);
}

static void
test_bad_options (void)
{
  g_autoptr (NsImage) content = pattern (32, 32, 3, 0.2, 0.1);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (GError) error = NULL;

  ns_options_set_style_weight (opt, -1.0);
  g_assert_null (run (opt, content, content, NULL, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "style weight"));
}

/* ns_stylizer_estimate_seconds plans from the sizes alone: the same line as
 * ns_stylizer_estimate_memory on real pixels, a photo-sized content without any, the
 * enlargement far cheaper than the full-size run, and the budget error. */
static void
test_estimate_seconds (void)
{
  g_autoptr (NsNetwork) net = ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);
  g_autoptr (NsImage) content = pattern (64, 48, 3, 0.2, 0.1);
  g_autoptr (NsImage) style = pattern (40, 40, 3, 0.5, 0.3);
  const NsImage content_size = { 64, 48, 3, NULL };
  const NsImage photo = { 3000, 2000, 3, NULL };
  const NsImage style_size = { 40, 40, 3, NULL };
  const NsImage *styles[] = { style };
  const NsImage *style_sizes[] = { &style_size };
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsOptions) full = NULL;
  g_autoptr (NsStylizer) st = NULL;
  g_autoptr (NsStylizer) st_full = NULL;
  g_autoptr (NsStylizer) st_tiny = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *from_pixels = NULL;
  g_autofree char *from_sizes = NULL;
  g_autofree char *large = NULL;
  double seconds, small, at_full;

  ns_options_set_max_memory (opt, (guint64) 16 << 30);
  ns_options_set_optimize_size (opt, 256);
  full = ns_options_copy (opt);
  ns_options_set_optimize_size (full, 0);
  st = ns_stylizer_new (net, opt);

  g_assert_cmpuint (ns_stylizer_estimate_memory (st, content, styles, 1, &from_pixels, &error),
                    >, 0);
  g_assert_no_error (error);
  seconds = ns_stylizer_estimate_seconds (st, &content_size, style_sizes, 1, &from_sizes, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (seconds, >, 0.0);
  g_assert_cmpstr (from_sizes, ==, from_pixels);

  small = ns_stylizer_estimate_seconds (st, &photo, style_sizes, 1, &large, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (large, "then enlarged to 3000×2000"));
  g_assert_nonnull (strstr (large, "expected time about"));
  st_full = ns_stylizer_new (net, full);
  at_full = ns_stylizer_estimate_seconds (st_full, &photo, style_sizes, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (small, >, seconds);
  g_assert_cmpfloat (at_full, >, 2.0 * small);

  ns_options_set_max_memory (full, 1 << 20);
  st_tiny = ns_stylizer_new (net, full);
  g_assert_cmpfloat (ns_stylizer_estimate_seconds (st_tiny, &photo, style_sizes, 1, NULL, &error),
                     <, 0.0);
  g_assert_error (error, NS_ERROR, NS_ERROR_MEMORY);
}

static void
test_seed (void)
{
  g_autoptr (NsImage) content = pattern (32, 32, 3, 0.2, 0.1);
  g_autoptr (NsImage) style = pattern (32, 32, 3, 1, 1);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) a = NULL, b = NULL, c = NULL;
  gsize n = (gsize) 32 * 32 * 3;

  ns_options_set_init (opt, NS_INIT_NOISE);
  ns_options_set_iterations (opt, 3);
  ns_options_set_seed (opt, 42);
  a = run (opt, content, style, NULL, NULL);
  b = run (opt, content, style, NULL, NULL);
  ns_options_set_seed (opt, 43);
  c = run (opt, content, style, NULL, NULL);
  g_assert_cmpmem (a->data, n * sizeof (float), b->data, n * sizeof (float));
  g_assert_true (memcmp (a->data, c->data, n * sizeof (float)) != 0);
}

/* A run gives the same bits at any thread count: the engine cuts its work by shape alone. */
static void
test_threads (void)
{
  g_autoptr (NsImage) content = pattern (56, 48, 3, 0.2, 0.1);
  g_autoptr (NsImage) style = pattern (40, 40, 3, 1, 1);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) one = NULL;
  gsize n = (gsize) 56 * 48 * 3;

  ns_options_set_iterations (opt, 3);
  ns_options_set_threads (opt, 1);
  one = run (opt, content, style, NULL, NULL);
  for (int t = 2; t <= 3; t++)
    {
      g_autoptr (NsImage) more = NULL;

      ns_options_set_threads (opt, t);
      more = run (opt, content, style, NULL, NULL);
      g_assert_cmpmem (one->data, n * sizeof (float), more->data, n * sizeof (float));
    }
}

static void
test_grey_and_luminance (void)
{
  g_autoptr (NsImage) grey = pattern (32, 32, 1, 0.2, 0.1);
  g_autoptr (NsImage) content = pattern (32, 32, 3, 0.2, 0.1);
  g_autoptr (NsImage) style = pattern (32, 32, 3, 1, 1);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) g = NULL, lum = NULL;
  double worst = 0.0;

  ns_options_set_iterations (opt, 3);
  g = run (opt, grey, style, NULL, NULL);
  g_assert_cmpint (g->channels, ==, 1);

  ns_options_set_color_mode (opt, NS_COLOR_LUMINANCE);
  lum = run (opt, content, style, NULL, NULL);
  /* The chrominance (YIQ's I and Q) of the result is the content's, where nothing clipped. */
  for (int i = 0; i < 32 * 32; i++)
    {
      const float *r = lum->data + 3 * i, *o = content->data + 3 * i;
      double ir = 0.596 * r[0] - 0.274 * r[1] - 0.322 * r[2];
      double io = 0.596 * o[0] - 0.274 * o[1] - 0.322 * o[2];
      gboolean clipped = FALSE;

      for (int c = 0; c < 3; c++)
        clipped |= r[c] <= 0.0f || r[c] >= 1.0f;
      if (! clipped)
        worst = MAX (worst, fabs (ir - io));
    }
  g_assert_cmpfloat (worst, <, 2e-3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stylize/loss-falls", test_loss_falls);
  g_test_add_func ("/stylize/cancel", test_cancel);
  g_test_add_func ("/stylize/cancel-before-run", test_cancel_before_run);
  g_test_add_func ("/stylize/tiny-image", test_tiny_image);
  g_test_add_func ("/stylize/numeric-guard", test_numeric_guard);
  g_test_add_func ("/stylize/bad-options", test_bad_options);
  g_test_add_func ("/stylize/estimate-seconds", test_estimate_seconds);
  g_test_add_func ("/stylize/seed", test_seed);
  g_test_add_func ("/stylize/threads", test_threads);
  g_test_add_func ("/stylize/grey-and-luminance", test_grey_and_luminance);
  return g_test_run ();
}
