/* test-texts.c — the plug-in's words for what the engine reports (plugin/texts.c, GIMP-free):
 * durations, and the plan line said from the engine's NsPlan, in English and, with the
 * built catalogs ($NS_LOCALE_DIR), in German and Chinese with their plural forms. */
#include <locale.h>
#include <string.h>
#include <libintl.h>

#include "neural-style.h"
#include "texts.h"

/* Between a number and its unit: no line break there. */
#define NBSP "\u00a0"

typedef struct
{
  int         width, height;
  const int  *iterations;       /* per size */
  int         n_sizes;
  int         optimize_size;    /* 0: none */
  NsUpscale   upscale;
  int         refine_iterations;
  guint64     max_memory;       /* 0: automatic */
  gboolean    timed;
} Run;

/* The plan of `run` on the built-in network with a 200 × 160 style (sizes only). */
static NsPlan *
make_plan (const Run *run)
{
  g_autoptr (NsNetwork) net = ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsStylizer) st = NULL;
  g_autoptr (GError) error = NULL;
  const NsImage content = { run->width, run->height, 3, NULL };
  const NsImage style = { 200, 160, 3, NULL };
  const NsImage *styles[] = { &style };
  NsPlan *plan;

  g_assert_nonnull (net);
  ns_options_set_scale_iterations (opt, run->iterations, run->n_sizes);
  ns_options_set_optimize_size (opt, run->optimize_size);
  ns_options_set_upscale (opt, run->upscale);
  ns_options_set_refine_iterations (opt, run->refine_iterations);
  ns_options_set_max_memory (opt, run->max_memory);
  st = ns_stylizer_new (net, opt);
  plan = ns_stylizer_plan (st, &content, styles, 1, run->timed, &error);
  g_assert_no_error (error);
  return plan;
}

static gulong
mib (guint64 bytes)
{
  return bytes >> 20;
}

static void
test_duration (void)
{
  g_autofree char *unknown = ns_plugin_format_duration (-1.0);
  g_autofree char *tiny = ns_plugin_format_duration (0.2);
  g_autofree char *minute = ns_plugin_format_duration (184.0);
  g_autofree char *hour = ns_plugin_format_duration (3900.0);

  g_assert_cmpstr (unknown, ==, "");
  g_assert_cmpstr (tiny, ==, "1" NBSP "s");
  g_assert_cmpstr (minute, ==, "3" NBSP "min" NBSP "04" NBSP "s");
  g_assert_cmpstr (hour, ==, "1" NBSP "h" NBSP "05" NBSP "min");
}

static const int two_sizes[] = { 7, 3 };

/* Two sizes, the whole image at once: the sizes, the iterations per size, how the last
 * size runs, the memory and budget; no enlargement, no time. */
static void
test_plan_english (void)
{
  Run run = { 256, 192, two_sizes, 2, 0, NS_UPSCALE_REFINE, 0, (guint64) 4 << 30, FALSE };
  g_autoptr (NsPlan) plan = make_plan (&run);
  g_autofree char *text = ns_plugin_plan_text (plan);
  g_autofree char *want = NULL;

  want = g_strdup_printf ("2 sizes (128×96, 256×192), 7 + 3 iterations; at 256×192: the "
                          "whole image at once, L-BFGS remembering 100 steps; estimated peak "
                          "memory %lu" NBSP "MiB of a budget of 4096" NBSP "MiB",
                          mib (ns_plan_get_peak_bytes (plan)));
  g_assert_cmpstr (text, ==, want);
}

/* Optimised small, enlarged and refined, timed, the budget automatic; the summary leaves
 * out how and how long. */
static void
test_plan_enlarged (void)
{
  const int one[] = { 1 };
  Run run = { 240, 160, one, 1, 120, NS_UPSCALE_REFINE, 3, 0, TRUE };
  g_autoptr (NsPlan) plan = make_plan (&run);
  g_autofree char *text = ns_plugin_plan_text (plan);
  g_autofree char *summary = ns_plugin_plan_summary (plan);
  g_autofree char *duration = ns_plugin_format_duration (ns_plan_get_seconds (plan));
  g_autofree char *memory = NULL;
  g_autofree char *want = NULL;

  memory = g_strdup_printf ("estimated peak memory %lu" NBSP "MiB of an automatic budget of "
                            "%lu" NBSP "MiB",
                            mib (ns_plan_get_peak_bytes (plan)),
                            mib (ns_plan_get_budget (plan, NULL)));
  want = g_strdup_printf ("120×80, 1 iteration; at 120×80: the whole image at once, L-BFGS "
                          "remembering 100 steps; then enlarged to 240×160, guided by the "
                          "full-size image; refined there in 3 iterations; %s; expected time "
                          "about %s", memory, duration);
  g_assert_cmpstr (text, ==, want);
  g_free (want);
  want = g_strdup_printf ("120×80, 1 iteration; then enlarged to 240×160, guided by the "
                          "full-size image; %s", memory);
  g_assert_cmpstr (summary, ==, want);
}

/* A budget that forces tiles at the last size: the line says so. */
static void
test_plan_tiles (void)
{
  const int one[] = { 2 };
  Run run = { 640, 480, one, 1, 0, NS_UPSCALE_REFINE, 0, (guint64) 4 << 30, FALSE };
  g_autoptr (NsPlan) whole = make_plan (&run);
  g_autoptr (NsPlan) plan = NULL;
  g_autofree char *text = NULL;
  g_autofree char *said = NULL;

  /* The buffers kept for reuse between evaluations are given up first, so the budget is
   * cut from what the run needs without them. */
  run.max_memory = (ns_plan_get_peak_bytes (whole) - ns_plan_get_size (whole, 0)->reuse_bytes / 2)
                   * 23 / 25;
  plan = make_plan (&run);
  text = ns_plugin_plan_text (plan);
  g_test_message ("%s", text);
  g_assert_cmpint (ns_plan_get_size (plan, 0)->tile, >, 0);
  said = g_strdup_printf ("at 640×480: in tiles of %d px", ns_plan_get_size (plan, 0)->tile);
  g_assert_nonnull (strstr (text, said));
}

/* Switches to `locale` and its catalog; FALSE (the test skipped) when it cannot. */
static gboolean
use_language (const char *locale)
{
  const char *dir = g_getenv ("NS_LOCALE_DIR");

  if (dir == NULL)
    {
      g_test_skip ("no NS_LOCALE_DIR: the catalogs were not built");
      return FALSE;
    }
  /* The catalog follows the locale (meson empties LANGUAGE, which would override it). */
  if (setlocale (LC_ALL, locale) == NULL)
    {
      g_test_skip_printf ("the locale %s is not installed", locale);
      return FALSE;
    }
  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  return TRUE;
}

static void
use_english (void)
{
  setlocale (LC_ALL, "C");
}

/* The plan line of `run` in `locale`: `before`, the estimated peak in MiB, `after`. */
static void
check_language (const Run  *run,
                const char *locale,
                const char *before,
                const char *after)
{
  g_autoptr (NsPlan) plan = make_plan (run);
  g_autofree char *text = NULL;
  g_autofree char *want = NULL;

  if (! use_language (locale))
    return;
  text = ns_plugin_plan_text (plan);
  use_english ();
  want = g_strdup_printf ("%s%lu%s", before, mib (ns_plan_get_peak_bytes (plan)), after);
  g_assert_cmpstr (text, ==, want);
}

/* German, with both plural forms (1 Iteration, 3 Iterationen). */
static void
test_plan_german (void)
{
  const int one[] = { 1 };
  Run run = { 240, 160, one, 1, 120, NS_UPSCALE_REFINE, 3, (guint64) 4 << 30, FALSE };

  check_language (&run, "de_DE.UTF-8",
                  "120×80, 1 Iteration; bei 120×80: das ganze Bild auf einmal, L-BFGS mit 100 "
                  "gespeicherten Schritten; dann auf 240×160 vergrößert, geführt vom Bild in "
                  "voller Größe; dort in 3 Iterationen verfeinert; geschätzter "
                  "Spitzen-Speicherbedarf ", NBSP "MiB von 4096" NBSP "MiB Budget");
}

/* Chinese: one plural form, full-width separators. */
static void
test_plan_chinese (void)
{
  Run run = { 256, 192, two_sizes, 2, 0, NS_UPSCALE_REFINE, 0, (guint64) 4 << 30, FALSE };

  check_language (&run, "zh_CN.UTF-8",
                  "2 个尺寸（128×96、256×192），7 + 3 次迭代；在 256×192 下：整幅图像一次处理，"
                  "L-BFGS（保留 100 步历史）；预计内存峰值 ", NBSP "MiB，预算 4096" NBSP "MiB");
}

/* An engine error: what it means and what to do, in the user's language, then the engine's
 * message; a cancel is only "Stopped."; other errors as they are. */
static void
test_errors (void)
{
  g_autoptr (GError) memory = g_error_new_literal (NS_ERROR, NS_ERROR_MEMORY,
                                                   "needs 900 MiB of a 512 MiB budget");
  g_autoptr (GError) cancelled = g_error_new_literal (NS_ERROR, NS_ERROR_CANCELLED,
                                                      "The run was cancelled");
  g_autoptr (GError) argument = g_error_new_literal (NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                                                     "mask 2 is 10×10, the content 20×20");
  g_autoptr (GError) other = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_NOENT, "gone");
  g_autofree char *english = ns_plugin_error_text (memory);
  g_autofree char *german = NULL;
  g_autofree char *stopped = ns_plugin_error_text (cancelled);
  g_autofree char *said = ns_plugin_error_text (argument);
  g_autofree char *plain = ns_plugin_error_text (other);

  g_assert_true (g_str_has_prefix (english, "This run does not fit in the memory budget."));
  g_assert_true (g_str_has_suffix (english, "(Details: needs 900 MiB of a 512 MiB budget)"));
  g_assert_cmpstr (stopped, ==, "Stopped.");
  g_assert_cmpstr (said, ==, argument->message);
  g_assert_cmpstr (plain, ==, "gone");

  if (! use_language ("de_DE.UTF-8"))
    return;
  german = ns_plugin_error_text (memory);
  use_english ();
  g_assert_true (g_str_has_prefix (german, "Dieser Lauf passt nicht in das Speicherbudget."));
  g_assert_nonnull (strstr (german, "needs 900 MiB of a 512 MiB budget"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/texts/duration", test_duration);
  g_test_add_func ("/texts/plan-english", test_plan_english);
  g_test_add_func ("/texts/plan-enlarged", test_plan_enlarged);
  g_test_add_func ("/texts/plan-tiles", test_plan_tiles);
  g_test_add_func ("/texts/plan-german", test_plan_german);
  g_test_add_func ("/texts/plan-chinese", test_plan_chinese);
  g_test_add_func ("/texts/errors", test_errors);
  return g_test_run ();
}
