/* main.c — the `neural-style` command: option handling, the run, and writing the result
 * (--frames is in frames.c, Ctrl-C and SIGTERM in interrupt.c).
 *
 * A thin layer over neural-style.h.  Exit status: 0 success, 1 a runtime failure (an image
 * or the weights cannot be read, the run failed), 2 a usage error, 130 interrupted (SIGINT),
 * 143 terminated (SIGTERM).
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include <neural-style.h>

#include "cli.h"
#include "frames.h"
#include "imageio.h"
#include "interrupt.h"
#include "progress.h"
#include "regions.h"

/* The preview's size in the plug-in: larger results are optimised at it and enlarged. */
#define CLI_OPTIMIZE_SIZE 512

/* ---- messages ------------------------------------------------------------------------- */

void
say (const char *format, ...)
{
  va_list args;

  fputs (PROGRAM ": ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  fflush (stderr);
}

int
usage_error (const char *message)
{
  say ("%s", message);
  fprintf (stderr, "Try “%s --help” for more information.\n", PROGRAM);
  return EXIT_USAGE;
}

gboolean
fail (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                                format, args));
  va_end (args);
  return FALSE;
}

/* ---- option parsing -------------------------------------------------------------------- */

static void
cli_args_clear (CliArgs *a)
{
  char **strings[] = {
    &a->output, &a->size, &a->iterations, &a->content_weight, &a->style_weight, &a->tv_weight,
    &a->style_blend, &a->style_scale, &a->preserve_colors, &a->optimizer, &a->init, &a->seed,
    &a->network, &a->weights, &a->threads, &a->content_layer, &a->style_layers,
    &a->learning_rate, &a->lbfgs_history, &a->save_every, &a->weights_url, &a->weights_sha256,
    &a->max_memory, &a->scales, &a->scale_iterations, &a->optimize_size, &a->upscale,
    &a->refine_iterations, &a->temporal_weight, &a->style_mask, &a->rest,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    g_clear_pointer (strings[i], g_free);
  g_clear_pointer (&a->operands, g_strfreev);
}

static gboolean
on_preserve_colors (const char *name, const char *value, gpointer data, GError **error)
{
  CliArgs *a = data;

  g_free (a->preserve_colors);
  a->preserve_colors = g_strdup (value != NULL ? value : "luminance");
  return TRUE;
}

static const char *help_description =
  "Paints the content image in the style of the style image(s) (Gatys et al. neural style\n"
  "transfer on the CPU) and writes a PNG.\n"
  "\n"
  "Networks: VGG-19 gives the best results; it needs a one-time download of about 575 MB\n"
  "(neural-style --download-weights, kept as an 80 MB file).  Without it the built-in\n"
  "“embedded” network is used.  The weights are looked up in --weights, then\n"
  "$NEURAL_STYLE_WEIGHTS, then $XDG_DATA_HOME/neural-style/, then the system data dirs.\n"
  "\n"
  "Weights and layers default to the network's own values.  Layer specs look like\n"
  "“relu1_1,relu2_1:0.5,relu3_1” (optional :weight per layer).\n"
  "\n"
  "Animations: --frames FRAME… STYLE stylizes a sequence of frames in order, each held to\n"
  "the previous ones' results where the optical flow says the same thing is seen, so that\n"
  "the style does not flicker.  FRAME… is the frames in order, one folder (its PNG and JPEG\n"
  "images sorted by name) or one pattern such as in/%04d.png (numbered from 0 or 1, with\n"
  "no gaps).  -o is a pattern with one %d or %0Nd (out/%04d.png: the frames keep their\n"
  "numbers) or a folder (the frames keep their names, as .png).  Each frame is written\n"
  "when it is done; --resume keeps the frames already written, so that an interrupted run\n"
  "goes on where it stopped.\n"
  "\n"
  "Examples:\n"
  "  neural-style photo.jpg starry-night.png -o out.png\n"
  "  neural-style photo.png a.png b.png --style-blend 0.7,0.3 --preserve-colors -o out.png\n"
  "  neural-style photo.jpg sky.jpg water.jpg --style-mask sky-mask.png,water-mask.png -o out.png\n"
  "  neural-style --frames 'clip/%04d.png' starry-night.png -o 'styled/%04d.png'\n"
  "\n"
  "Exit status: 0 success, 1 failure (unreadable image, weights problem, failed run),\n"
  "2 usage error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).";

/* GOption lets an optional value be the next word ("--preserve-colors photo.png" would eat
 * the photo), so a bare --preserve-colors is spelled out before parsing; only the
 * "=value" form then carries a value.  Returns a new string vector. */
static char **
expand_optional_args (int argc, char **argv)
{
  char **out = g_new0 (char *, argc + 1);
  gboolean options_ended = FALSE;

  for (int i = 0; i < argc; i++)
    {
      if (!options_ended && strcmp (argv[i], "--") == 0)
        options_ended = TRUE;
      if (!options_ended && i > 0 && strcmp (argv[i], "--preserve-colors") == 0)
        out[i] = g_strdup ("--preserve-colors=luminance");
      else
        out[i] = g_strdup (argv[i]);
    }
  return out;
}

static gboolean
parse_args (char ***args, CliArgs *a, GError **error)
{
  g_autofree char *temporal_help =
    g_strdup_printf ("With --frames: how strongly each frame is held to the previous one's "
                     "result where the optical flow follows it (default %g; 0: each frame "
                     "on its own)", NS_TEMPORAL_WEIGHT_DEFAULT);
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &a->output,
      "Write the result to this PNG file (required)", "OUT.png" },
    { "overwrite-input", 0, 0, G_OPTION_ARG_NONE, &a->overwrite_input,
      "Allow -o to name the content or a style image, replacing it with the result", NULL },
    { "size", 's', 0, G_OPTION_ARG_STRING, &a->size,
      "Longest side of the result in pixels; the content is resized to it (default 512)", "N" },
    { "optimize-size", 0, 0, G_OPTION_ARG_STRING, &a->optimize_size,
      "Longest side to optimise at when smaller than --size; the result is then enlarged "
      "to --size by --upscale (default 512; 0: --size itself)", "N" },
    { "upscale", 0, 0, G_OPTION_ARG_STRING, &a->upscale,
      "How a result optimised below --size is enlarged: refine (guided, then a few "
      "iterations at full size that draw the style's fine texture; the default), guided "
      "(edges and fine detail from the full-size content) or bilinear", "refine|guided|bilinear" },
    { "refine-iterations", 0, 0, G_OPTION_ARG_STRING, &a->refine_iterations,
      "Iterations at full size of --upscale refine (default "
      G_STRINGIFY (NS_REFINE_ITERATIONS) ")", "N" },
    { "iterations", 'n', 0, G_OPTION_ARG_STRING, &a->iterations,
      "Optimisation steps (default 500)", "N" },
    { "content-weight", 0, 0, G_OPTION_ARG_STRING, &a->content_weight,
      "Weight of the content loss (default: the network's)", "W" },
    { "style-weight", 0, 0, G_OPTION_ARG_STRING, &a->style_weight,
      "Weight of the style loss (default: the network's)", "W" },
    { "tv-weight", 0, 0, G_OPTION_ARG_STRING, &a->tv_weight,
      "Weight of the smoothness (total variation) term (default: the network's)", "W" },
    { "style-blend", 0, 0, G_OPTION_ARG_STRING, &a->style_blend,
      "Comma-separated weights, one per style image (default: equal)", "W1,W2,…" },
    { "style-mask", 0, 0, G_OPTION_ARG_STRING, &a->style_mask,
      "Comma-separated grey images of the content's shape (any size), one per style: white "
      "where that style applies (an empty entry: everywhere)", "M1,M2,…" },
    { "rest", 0, 0, G_OPTION_ARG_STRING, &a->rest,
      "With --style-mask, what pixels no mask covers get: the content alone (default) or "
      "the styles' blend", "content|styles" },
    { "style-scale", 0, 0, G_OPTION_ARG_STRING, &a->style_scale,
      "Size of the style images relative to the result (default 1)", "S" },
    { "preserve-colors", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
      (gpointer) on_preserve_colors,
      "Keep the content's colours: luminance-only transfer (the default for this option), "
      "or match the style's colour histogram to the content first", "[luminance|histogram]" },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &a->optimizer,
      "lbfgs (default) or adam", "NAME" },
    { "init", 0, 0, G_OPTION_ARG_STRING, &a->init,
      "Start from the content image (default) or from noise", "content|noise" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &a->seed,
      "Random seed, for reproducible noise (default 0)", "N" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &a->network,
      "Feature network: vgg19, embedded, or auto (default: VGG-19 when its weights are found)",
      "NAME" },
    { "weights", 0, 0, G_OPTION_ARG_FILENAME, &a->weights,
      "The VGG-19 weights file (safetensors); with --download-weights, where to save it", "FILE" },
    { "content-layer", 0, 0, G_OPTION_ARG_STRING, &a->content_layer,
      "Layer for the content loss (e.g. relu4_2)", "LAYER" },
    { "style-layers", 0, 0, G_OPTION_ARG_STRING, &a->style_layers,
      "Layers for the style loss, with optional weights", "SPEC" },
    { "learning-rate", 0, 0, G_OPTION_ARG_STRING, &a->learning_rate,
      "Adam step size", "R" },
    { "lbfgs-history", 0, 0, G_OPTION_ARG_STRING, &a->lbfgs_history,
      "L-BFGS memory (default 100)", "N" },
    { "save-every", 0, 0, G_OPTION_ARG_STRING, &a->save_every,
      "Also write OUT-iterNNNN.png every N iterations", "N" },
    { "threads", 0, 0, G_OPTION_ARG_STRING, &a->threads,
      "CPU threads (default: one per processor; the result is the same at any count)", "N" },
    { "max-memory", 0, 0, G_OPTION_ARG_STRING, &a->max_memory,
      "Memory the run may use, e.g. 2G or 1500M (default: 80% of what is available); "
      "large images are then done in tiles", "SIZE" },
    { "scales", 0, 0, G_OPTION_ARG_STRING, &a->scales,
      "Sizes to optimise at, coarse to fine (default 0: from 256 px doubling up to --size; "
      "1: --size only)", "N" },
    { "scale-iterations", 0, 0, G_OPTION_ARG_STRING, &a->scale_iterations,
      "Iterations at each size, coarse to fine (default: --iterations at the first, half "
      "as many at each next)", "N1,N2,…" },
    { "frames", 0, 0, G_OPTION_ARG_NONE, &a->frames,
      "Stylize the frames of an animation: the images before the style are its frames in "
      "order (or one folder, or one pattern such as in/%04d.png); -o is a pattern such as "
      "out/%04d.png or a folder", NULL },
    { "temporal-weight", 0, 0, G_OPTION_ARG_STRING, &a->temporal_weight,
      temporal_help, "G" },
    { "long-term", 0, 0, G_OPTION_ARG_NONE, &a->long_term,
      "With --frames: also hold each frame to frames 2 and 4 back, where the previous one "
      "does not see a place (things that were hidden for a moment)", NULL },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &a->resume,
      "With --frames: keep the output frames already written (read them instead of "
      "stylizing again), to go on with an interrupted run", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &a->quiet,
      "Print only warnings and errors", NULL },
    { "download-weights", 0, 0, G_OPTION_ARG_NONE, &a->download_weights,
      "Download and verify the VGG-19 weights, then exit", NULL },
    { "weights-url", 0, 0, G_OPTION_ARG_STRING, &a->weights_url,
      "With --download-weights: fetch from this URL (a mirror)", "URL" },
    { "weights-sha256", 0, 0, G_OPTION_ARG_STRING, &a->weights_sha256,
      "With --download-weights: expected SHA-256 of the downloaded file", "HEX" },
    { "print-weights-path", 0, 0, G_OPTION_ARG_NONE, &a->print_weights_path,
      "Print where the VGG-19 weights are (or would be downloaded to), then exit", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &a->version,
      "Print the version, then exit", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &a->operands, NULL, NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  GOptionGroup *group;

  context = g_option_context_new ("CONTENT STYLE [STYLE…] -o OUT.png\n"
                                  "  " PROGRAM " [OPTION…] --frames FRAME… STYLE -o "
                                  "OUT/%04d.png");
  g_option_context_set_description (context, help_description);
  /* The main group carries `a` as user data, for the --preserve-colors callback. */
  group = g_option_group_new (PROGRAM, "Options", "Show the options", a, NULL);
  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (context, group);
  return g_option_context_parse_strv (context, args, error);
}

/* ---- validation ------------------------------------------------------------------------ */

static gboolean
parse_int (const char *option, const char *text, gint64 min, gint64 max, int *out,
           GError **error)
{
  gint64 v;

  if (!g_ascii_string_to_signed (text, 10, min, max, &v, NULL))
    return fail (error, "%s must be a whole number from %" G_GINT64_FORMAT " to %"
                 G_GINT64_FORMAT ", not “%s”", option, min, max, text);
  *out = (int) v;
  return TRUE;
}

/* Accepts a finite number in [min, max]; `above_min` excludes min itself. */
gboolean
parse_double (const char *option, const char *text, double min, gboolean above_min, double max,
              double *out, GError **error)
{
  char *end = NULL;
  double v;

  errno = 0;
  v = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !isfinite (v)
      || v < min || (above_min && v == min) || v > max)
    {
      if (above_min)
        return fail (error, "%s must be a number greater than %g and at most %g, not “%s”",
                     option, min, max, text);
      return fail (error, "%s must be a number from %g to %g, not “%s”", option, min, max, text);
    }
  *out = v;
  return TRUE;
}

/* Maps `text` to the index of one of the NULL-terminated `words`. */
static gboolean
parse_word (const char *option, const char *text, const char * const *words, int *out,
            GError **error)
{
  g_autofree char *list = NULL;

  for (int i = 0; words[i] != NULL; i++)
    if (g_ascii_strcasecmp (text, words[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  list = g_strjoinv ("”, “", (char **) words);
  return fail (error, "%s must be one of “%s”, not “%s”", option, list, text);
}

static gboolean
parse_blend (const char *text, int n_styles, double **out, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  guint n = g_strv_length (parts);
  g_autofree double *blend = NULL;
  double sum = 0.0;

  if ((int) n != n_styles)
    return fail (error, "--style-blend has %u weight%s but there %s %d style image%s; give one "
                 "weight per style, e.g. --style-blend %s", n, n == 1 ? "" : "s",
                 n_styles == 1 ? "is" : "are", n_styles, n_styles == 1 ? "" : "s",
                 n_styles == 2 ? "0.5,0.5" : n_styles == 1 ? "1" : "1,1,…");
  blend = g_new (double, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *item = g_strstrip (g_strdup (parts[i]));

      if (!parse_double ("each --style-blend weight", item, 0.0, FALSE, 1e6, &blend[i], error))
        return FALSE;
      sum += blend[i];
    }
  if (!(sum > 0.0))
    return fail (error, "--style-blend weights are all zero; give at least one positive weight");
  *out = g_steal_pointer (&blend);
  return TRUE;
}

static gboolean
is_hex_sha256 (const char *text)
{
  if (strlen (text) != 64)
    return FALSE;
  for (const char *p = text; *p; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

gboolean
has_png_suffix (const char *path)
{
  gsize n = strlen (path);

  return n > 4 && g_ascii_strcasecmp (path + n - 4, ".png") == 0;
}

/* "2G", "1500M", "512MiB", "3000000000": bytes (K, M, G, T are powers of 1024); 0 = auto. */
static gboolean
parse_memory (const char *text, guint64 *bytes, GError **error)
{
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);
  guint64 unit = 1;

  if (end != text && *end != '\0')
    {
      switch (g_ascii_toupper (*end))
        {
        case 'K': unit = (guint64) 1 << 10; break;
        case 'M': unit = (guint64) 1 << 20; break;
        case 'G': unit = (guint64) 1 << 30; break;
        case 'T': unit = (guint64) 1 << 40; break;
        default: unit = 0; break;
        }
      if (unit != 0)
        {
          end++;
          if (g_ascii_strcasecmp (end, "iB") == 0 || g_ascii_strcasecmp (end, "B") == 0)
            end += strlen (end);
        }
    }
  if (end == text || *end != '\0' || unit == 0 || !(v >= 0.0) || v * unit > 1e18
      || (v > 0.0 && v * unit < (double) (64 << 20)))
    return fail (error, "--max-memory must be 0 (automatic) or a size of at least 64M, such "
                 "as 2G or 1500M, not “%s”", text);
  *bytes = (guint64) (v * unit);
  return TRUE;
}

/* Checks everything that does not need the images or the network. */
gboolean
validate_run (const CliArgs *a, int n_styles, CliRun *run, GError **error)
{
  static const char * const optimizers[] = { "lbfgs", "adam", NULL };
  static const char * const inits[] = { "content", "noise", NULL };
  static const char * const networks[] = { "auto", "vgg19", "embedded", NULL };
  static const char * const colors[] = { "luminance", "histogram", NULL };
  static const char * const upscales[] = { "refine", "guided", "bilinear", NULL };
  NsOptions *o = run->options;
  int i;
  double d;

  run->size = 512;
  if (a->size && !parse_int ("--size", a->size, 16, 16384, &run->size, error))
    return FALSE;
  run->optimize_size = CLI_OPTIMIZE_SIZE;
  if (a->optimize_size)
    {
      if (!parse_int ("--optimize-size", a->optimize_size, 0, 16384, &run->optimize_size, error))
        return FALSE;
      if (run->optimize_size > 0 && run->optimize_size < 16)
        return fail (error, "--optimize-size must be 0 (the output size) or from 16 to 16384, "
                     "not “%s”", a->optimize_size);
    }
  ns_options_set_optimize_size (o, run->optimize_size);
  if (a->upscale)
    {
      if (!parse_word ("--upscale", a->upscale, upscales, &i, error))
        return FALSE;
      ns_options_set_upscale (o, (NsUpscale) i);
    }
  if (a->refine_iterations)
    {
      if (!parse_int ("--refine-iterations", a->refine_iterations, 0, 100000, &i, error))
        return FALSE;
      ns_options_set_refine_iterations (o, i);
    }
  if (a->iterations)
    {
      if (!parse_int ("--iterations", a->iterations, 1, 1000000, &i, error))
        return FALSE;
      ns_options_set_iterations (o, i);
    }
  if (a->content_weight)
    {
      if (!parse_double ("--content-weight", a->content_weight, 0.0, FALSE, 1e12, &d, error))
        return FALSE;
      ns_options_set_content_weight (o, d);
    }
  if (a->style_weight)
    {
      if (!parse_double ("--style-weight", a->style_weight, 0.0, FALSE, 1e12, &d, error))
        return FALSE;
      ns_options_set_style_weight (o, d);
    }
  if (a->tv_weight)
    {
      if (!parse_double ("--tv-weight", a->tv_weight, 0.0, FALSE, 1e12, &d, error))
        return FALSE;
      ns_options_set_tv_weight (o, d);
    }
  if (a->style_scale)
    {
      if (!parse_double ("--style-scale", a->style_scale, 0.0, TRUE, 10.0, &d, error))
        return FALSE;
      ns_options_set_style_scale (o, d);
    }
  if (!cli_regions_parse (a, n_styles, run, error))
    return FALSE;
  if (a->style_blend && !parse_blend (a->style_blend, n_styles, &run->blend, error))
    return FALSE;
  if (a->preserve_colors)
    {
      if (!parse_word ("--preserve-colors", a->preserve_colors, colors, &i, error))
        return FALSE;
      ns_options_set_color_mode (o, i == 0 ? NS_COLOR_LUMINANCE : NS_COLOR_HISTOGRAM);
    }
  if (a->optimizer)
    {
      if (!parse_word ("--optimizer", a->optimizer, optimizers, &i, error))
        return FALSE;
      ns_options_set_optimizer (o, i == 0 ? NS_OPTIMIZER_LBFGS : NS_OPTIMIZER_ADAM);
    }
  if (a->init)
    {
      if (!parse_word ("--init", a->init, inits, &i, error))
        return FALSE;
      ns_options_set_init (o, i == 0 ? NS_INIT_CONTENT : NS_INIT_NOISE);
    }
  if (a->seed)
    {
      guint64 seed;

      if (!g_ascii_string_to_unsigned (a->seed, 10, 0, G_MAXUINT64, &seed, NULL))
        return fail (error, "--seed must be a whole number from 0 to %" G_GUINT64_FORMAT
                     ", not “%s”", G_MAXUINT64, a->seed);
      ns_options_set_seed (o, seed);
    }
  run->network = NS_NETWORK_AUTO;
  if (a->network)
    {
      if (!parse_word ("--network", a->network, networks, &i, error))
        return FALSE;
      run->network = i == 0 ? NS_NETWORK_AUTO : i == 1 ? NS_NETWORK_VGG19 : NS_NETWORK_EMBEDDED;
    }
  /* A weights file given by name must be used or reported, never silently replaced. */
  if (a->weights && run->network == NS_NETWORK_AUTO)
    run->network = NS_NETWORK_VGG19;
  if (a->learning_rate)
    {
      if (!parse_double ("--learning-rate", a->learning_rate, 0.0, TRUE, 10.0, &d, error))
        return FALSE;
      ns_options_set_learning_rate (o, d);
    }
  if (a->lbfgs_history)
    {
      if (!parse_int ("--lbfgs-history", a->lbfgs_history, 1, 1000, &i, error))
        return FALSE;
      ns_options_set_lbfgs_history (o, i);
    }
  if (a->threads)
    {
      if (!parse_int ("--threads", a->threads, 0, 1024, &i, error))
        return FALSE;
      ns_options_set_threads (o, i);
      run->threads = i;
    }
  if (a->max_memory)
    {
      guint64 bytes = 0;

      if (!parse_memory (a->max_memory, &bytes, error))
        return FALSE;
      ns_options_set_max_memory (o, bytes);
    }
  if (a->scales)
    {
      if (!parse_int ("--scales", a->scales, 0, 16, &i, error))
        return FALSE;
      ns_options_set_scales (o, i);
    }
  if (a->scale_iterations)
    {
      g_auto (GStrv) parts = g_strsplit (a->scale_iterations, ",", -1);
      guint n = g_strv_length (parts);
      g_autofree int *iters = g_new0 (int, MAX (n, 1));

      if (n == 0 || n > 16)
        return fail (error, "--scale-iterations takes 1 to 16 comma-separated counts, "
                     "e.g. 300,150,50, not “%s”", a->scale_iterations);
      for (guint k = 0; k < n; k++)
        if (!parse_int ("each --scale-iterations count", g_strstrip (parts[k]), 0, 1000000,
                        &iters[k], error))
          return FALSE;
      ns_options_set_scale_iterations (o, iters, (int) n);
    }
  run->save_every = 0;
  if (a->save_every)
    {
      if (!parse_int ("--save-every", a->save_every, 0, 1000000, &run->save_every, error))
        return FALSE;
      ns_options_set_preview_every (o, run->save_every);
    }
  if (a->content_layer)
    ns_options_set_content_layer (o, a->content_layer);
  if (a->style_layers && !ns_options_set_style_layers (o, a->style_layers, error))
    return FALSE;
  return TRUE;
}

/* Layer names are checked here rather than by the run, so that a typo is a usage error
 * reported before any work, with the network's own names as a hint. */
static gboolean
check_layers (const CliArgs *a, const NsNetwork *net, GError **error)
{
  if (a->content_layer && !ns_network_has_layer (net, a->content_layer))
    return fail (error, "the %s network has no layer “%s” for --content-layer; its default is "
                 "“%s”", ns_network_get_name (net), a->content_layer,
                 ns_network_default_content_layer (net));
  if (a->style_layers)
    {
      g_auto (GStrv) items = g_strsplit (a->style_layers, ",", -1);

      for (int i = 0; items[i] != NULL; i++)
        {
          char *colon = strchr (items[i], ':');

          if (colon)
            *colon = '\0';
          g_strstrip (items[i]);
          if (*items[i] != '\0' && !ns_network_has_layer (net, items[i]))
            return fail (error, "the %s network has no layer “%s” in --style-layers; its "
                         "defaults are “%s”", ns_network_get_name (net), items[i],
                         ns_network_default_style_layers (net));
        }
    }
  return TRUE;
}

/* ---- the run --------------------------------------------------------------------------- */

/* OUT.png → OUT-iter0050.png */
static char *
snapshot_path (const char *output, int iteration)
{
  gsize stem = strlen (output) - 4;   /* validated to end in .png */

  return g_strdup_printf ("%.*s-iter%04d.png", (int) stem, output, iteration);
}

static void
cancel_stylizer (gpointer stylizer)
{
  ns_stylizer_cancel (stylizer);
}

static void
on_progress (const NsProgress *state, gpointer user_data)
{
  RunContext *ctx = user_data;

  /* Should the signal have come just before the run began (which forgets it). */
  if (interrupt_count > 0)
    ns_stylizer_cancel (ctx->stylizer);
  ctx->last_iteration = state->iteration;
  if (state->stage == NS_STAGE_ENLARGE)
    {
      cli_progress_break (ctx->bar);
      if (!ctx->quiet)
        say ("enlarging to %d×%d", state->width, state->height);
      return;
    }
  if (state->n_scales > 1 && state->scale != ctx->scale)
    {
      /* A line per size, so that the log says where the time went. */
      ctx->scale = state->scale;
      cli_progress_break (ctx->bar);
      if (!ctx->quiet)
        say ("size %d/%d: %d×%d%s", state->scale, state->n_scales, state->width, state->height,
             state->stage == NS_STAGE_REFINE ? " (refining with the shallow style layers)" : "");
    }
  cli_progress_iteration (ctx->bar, state);
  save_snapshot (ctx, state);
}

void
save_snapshot (RunContext *ctx, const NsProgress *state)
{
  if (state->preview != NULL && !ctx->save_failed)
    {
      g_autofree char *path = snapshot_path (ctx->output, state->iteration);
      g_autoptr (GError) error = NULL;
      const NsImage *alpha = ctx->alpha;

      if (alpha && (alpha->width != state->preview->width
                    || alpha->height != state->preview->height))
        alpha = ctx->alpha_small;
      if (alpha && (alpha->width != state->preview->width
                    || alpha->height != state->preview->height))
        alpha = NULL;
      if (!cli_image_save_png (path, state->preview, alpha, ctx->depth, &error))
        {
          /* The run itself is still worth finishing; warn once and stop saving snapshots. */
          cli_progress_break (ctx->bar);
          say ("warning: cannot save the intermediate result: %s; continuing without "
               "--save-every", error->message);
          ctx->save_failed = TRUE;
        }
    }
}

gboolean
load_image (const char *role, const char *path, guint64 budget, CliImage *image)
{
  g_autoptr (GError) error = NULL;

  if (cli_image_load (path, budget, image, &error))
    return TRUE;
  say ("cannot read the %s image “%s”: %s", role, path, error->message);
  return FALSE;
}

/* The operand that is the same file as `out` (same device and inode, however it is
 * named, hard links included), or NULL. */
static const char *
find_input (char **operands, const GStatBuf *out)
{
  for (int i = 0; operands[i] != NULL; i++)
    {
      GStatBuf in;

      if (g_stat (operands[i], &in) == 0 && in.st_dev == out->st_dev && in.st_ino == out->st_ino)
        return operands[i];
    }
  return NULL;
}

/* -o names a PNG file. */
static gboolean
check_output_name (const CliArgs *a, GError **error)
{
  if (a->output == NULL)
    return fail (error, "no output file; add -o OUT.png");
  if (!has_png_suffix (a->output))
    return fail (error, "the output “%s” must end in .png (only PNG is written)", a->output);
  return TRUE;
}

/* Refuses, before minutes of work, an output that would replace an input or could not be
 * saved anyway.  Returns -1 to go on, else an exit status. */
static int
check_output (const CliArgs *a)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL;
  GStatBuf out;

  if (g_stat (a->output, &out) == 0)
    {
      const char *input = NULL;

      if (S_ISDIR (out.st_mode))
        message = g_strdup_printf ("the output “%s” is a folder; give a file name, e.g. -o "
                                   "%s/result.png", a->output, a->output);
      else if (!S_ISREG (out.st_mode))
        message = g_strdup_printf ("the output “%s” is not a regular file; choose another "
                                   "name with -o", a->output);
      else if (!a->overwrite_input && (input = find_input (a->operands, &out)) != NULL)
        message = g_strdup_printf ("the output “%s” is the %s image “%s”, which the result "
                                   "would replace; choose another name with -o, or add "
                                   "--overwrite-input", a->output,
                                   input == a->operands[0] ? "content" : "style", input);
      if (message != NULL)
        return usage_error (message);
    }
  if (!cli_image_check_writable (a->output, &error))
    {
      say ("cannot write the output “%s”: %s; choose another place with -o", a->output,
           error->message);
      return EXIT_RUNTIME;
    }
  return -1;
}

static NsNetwork *
load_network (const CliArgs *a, NsNetworkKind kind)
{
  g_autoptr (GError) error = NULL;
  NsNetwork *net;

  if (a->weights && kind == NS_NETWORK_EMBEDDED)
    say ("warning: --weights is ignored with --network embedded");
  net = ns_network_load (kind, kind == NS_NETWORK_EMBEDDED ? NULL : a->weights, &error);
  if (net == NULL)
    {
      say ("cannot load the feature network: %s", error->message);
      return NULL;
    }
  if (!a->quiet)
    {
      const char *description = ns_network_get_description (net);

      say ("using %s", description);
      /* The engine's description may already say how to get VGG-19. */
      if (ns_network_get_kind (net) == NS_NETWORK_EMBEDDED
          && strstr (description, "--download-weights") == NULL)
        say ("for better results get VGG-19 once (about 575 MB): %s --download-weights",
             PROGRAM);
    }
  return net;
}

guint64
memory_budget (const CliRun *run)
{
  guint64 budget = ns_options_get_max_memory (run->options);

  return budget != 0 ? budget : ns_memory_default_budget ();
}

int
prepare_styles_and_network (const CliArgs *a, CliRun *run, char **paths, int n_styles,
                            guint64 budget, CliImage *styles, NsNetwork **net)
{
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < n_styles; i++)
    if (!load_image ("style", paths[i], budget, &styles[i]))
      return EXIT_RUNTIME;
  *net = load_network (a, run->network);
  if (*net == NULL)
    return EXIT_RUNTIME;
  if (!check_layers (a, *net, &error))
    return usage_error (error->message);
  ns_options_apply_network_defaults (run->options, *net);
  for (int i = 0; i < n_styles; i++)
    if (styles[i].color->channels == 1)
      {
        NsImage *rgb = ns_image_to_rgb (styles[i].color);

        ns_image_free (styles[i].color);
        styles[i].color = rgb;
      }
  return -1;
}

void
prepare_content (CliImage *content, int size)
{
  NsImage *resized;

  /* Already the size asked for: at print sizes a copy would be hundreds of megabytes. */
  if (MAX (content->color->width, content->color->height) == size)
    resized = content->color;
  else
    {
      resized = ns_image_resize_longest (content->color, size);
      ns_image_free (content->color);
    }
  content->color = resized;
  if (content->alpha && (content->alpha->width != resized->width
                         || content->alpha->height != resized->height))
    {
      NsImage *alpha = ns_image_resize (content->alpha, resized->width, resized->height);

      ns_image_free (content->alpha);
      content->alpha = alpha;
    }
  if (content->color->channels == 1)
    {
      NsImage *rgb = ns_image_to_rgb (content->color);

      ns_image_free (content->color);
      content->color = rgb;
    }
}

const char *
describe_format (const NsImage *alpha, int depth)
{
  if (depth == 16)
    return alpha ? "16-bit RGBA" : "16-bit RGB";
  return alpha ? "8-bit RGBA" : "8-bit RGB";
}


/* ", peak memory N MiB": this process's own peak resident memory (Linux's VmHWM, which
 * unlike getrusage's maximum does not include what the process that started it held), to
 * set against the plan's estimate; "" where the system does not tell. */
char *
peak_memory_text (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      !(line = strstr (status, "VmHWM:")))
    return g_strdup ("");
  return g_strdup_printf (", peak memory %" G_GUINT64_FORMAT " MiB",
                          g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10) / 1024);
}

static const char *
upscale_name (NsUpscale method)
{
  return method == NS_UPSCALE_REFINE ? "refine" : method == NS_UPSCALE_GUIDED ? "guided"
                                                                              : "bilinear";
}

static int
stylize (const CliArgs *a, CliRun *run, CliImage *content, CliImage *styles, int n_styles,
         NsNetwork *net, Interrupt *interrupt)
{
  g_autoptr (NsStylizer) stylizer = ns_stylizer_new (net, run->options);
  g_autoptr (CliProgress) bar = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NsImage) result = NULL;
  g_autoptr (NsImage) small_alpha = NULL;  /* the alpha at --optimize-size, for snapshots */
  g_autofree const NsImage **style_images = g_new (const NsImage *, n_styles);
  RunContext ctx = { .stylizer = stylizer, .output = a->output, .alpha = content->alpha,
                     .depth = content->bit_depth, .quiet = a->quiet };
  gboolean interrupted;
  gboolean smaller = run->optimize_size > 0
                     && run->optimize_size < MAX (content->color->width, content->color->height);

  if (smaller && content->alpha)
    ctx.alpha_small = small_alpha = ns_image_resize_longest (content->alpha, run->optimize_size);
  if (!cli_regions_apply (run, stylizer, n_styles, &error))
    {
      say ("cannot use the masks: %s", error->message);
      return EXIT_RUNTIME;
    }
  for (int i = 0; i < n_styles; i++)
    style_images[i] = styles[i].color;
  bar = cli_progress_new (stderr, isatty (STDERR_FILENO), a->quiet);
  ctx.bar = bar;
  ns_stylizer_set_progress (stylizer, on_progress, &ctx);
  if (!a->quiet)
    {
      /* The iterations over all sizes are in the plan line below. */
      if (smaller)
        say ("stylizing %d×%d with %d style%s at %d px, then enlarging it (--upscale %s)",
             content->color->width, content->color->height, n_styles, n_styles == 1 ? "" : "s",
             run->optimize_size, upscale_name (ns_options_get_upscale (run->options)));
      else
        say ("stylizing %d×%d with %d style%s", content->color->width, content->color->height,
             n_styles, n_styles == 1 ? "" : "s");
    }
  {
    g_autofree char *plan = NULL;

    if (ns_stylizer_estimate_memory (stylizer, content->color, style_images, n_styles, &plan,
                                     &error) == 0)
      {
        say ("cannot run: %s", error->message);
        return EXIT_RUNTIME;
      }
    if (!a->quiet)
      say ("plan: %s", plan);
  }

  interrupt_attach (interrupt, cancel_stylizer, stylizer);
  if (interrupt_count == 0)
    result = ns_stylizer_run (stylizer, content->color, style_images, run->blend, n_styles,
                              &error);
  interrupt_attach (interrupt, NULL, NULL);
  interrupted = interrupt_count > 0;
  cli_progress_break (bar);
  /* The content's colours are no longer needed (its alpha is): free them before the
   * result is written, which matters at print sizes. */
  g_clear_pointer (&content->color, ns_image_free);

  if (result == NULL)
    {
      if (interrupted || g_error_matches (error, NS_ERROR, NS_ERROR_CANCELLED))
        {
          say ("interrupted; nothing was written");
          return interrupt_status (interrupt_signal);
        }
      say ("the run failed: %s", error->message);
      return EXIT_RUNTIME;
    }
  if (interrupted)
    {
      /* Cancelled too late to stop the run: the result is complete, so keep it. */
      say ("the run had already finished; saving the result");
    }

  switch (ns_stylizer_get_stop_reason (stylizer))
    {
    case NS_STOP_CONVERGED:
      if (!a->quiet)
        say ("stopped early: the optimiser could make no further progress");
      break;
    case NS_STOP_NUMERIC:
      say ("warning: the loss became NaN or infinite; saving the last good image (try smaller "
           "weights, --learning-rate, or --optimizer adam)");
      break;
    case NS_STOP_DONE:
      break;
    }

  /* Still under interrupt_start(): a signal now lets the file be completed, or a second
   * one deletes it. */
  if (!cli_image_save_png (a->output, result, content->alpha, content->bit_depth, &error))
    {
      say ("cannot save the result: %s", error->message);
      return EXIT_RUNTIME;
    }
  if (!a->quiet)
    {
      g_autofree char *peak = peak_memory_text ();

      say ("wrote %s (%d×%d, %s) after %d iteration%s%s", a->output, result->width,
           result->height, describe_format (content->alpha, content->bit_depth),
           ctx.last_iteration, ctx.last_iteration == 1 ? "" : "s", peak);
    }
  return EXIT_OK;
}

static int
run_stylize (const CliArgs *a, CliRun *run)
{
  int n_styles = (int) g_strv_length (a->operands) - 1;
  g_autoptr (NsNetwork) net = NULL;
  g_autoptr (GError) error = NULL;
  CliImage content = { 0 };
  CliImage *styles = g_new0 (CliImage, n_styles);
  Interrupt interrupt = { { -1, -1 } };
  guint64 budget = memory_budget (run);
  int status = EXIT_RUNTIME;

  /* From the first file created (check_output's test) to the last one written. */
  if (!interrupt_start (&interrupt, "stopping; the result will not be saved (press Ctrl-C "
                        "again to quit at once)", TRUE, &error))
    {
      say ("cannot set up Ctrl-C handling: %s", error->message);
      goto out;
    }
  status = check_output (a);
  if (status >= 0)
    goto out;
  status = EXIT_RUNTIME;
  if (!load_image ("content", a->operands[0], budget, &content)
      || !cli_regions_load (run, content.color, budget))
    goto out;
  status = prepare_styles_and_network (a, run, a->operands + 1, n_styles, budget, styles, &net);
  if (status >= 0)
    goto out;
  prepare_content (&content, run->size);
  status = stylize (a, run, &content, styles, n_styles, net, &interrupt);

out:
  interrupt_stop (&interrupt);
  cli_image_clear (&content);
  for (int i = 0; i < n_styles; i++)
    cli_image_clear (&styles[i]);
  g_free (styles);
  return status;
}

/* ---- the other modes ------------------------------------------------------------------- */

static gboolean
on_download_progress (guint64 done, guint64 total, gpointer user_data)
{
  cli_progress_bytes (user_data, done, total);
  return interrupt_count == 0;
}

static int
run_download (const CliArgs *a)
{
  g_autofree char *dest = a->weights ? g_strdup (a->weights) : ns_weights_default_path ();
  g_autofree char *dir = g_path_get_dirname (dest);
  const char *url = a->weights_url ? a->weights_url : NS_VGG19_URL;
  const char *sha = a->weights_sha256 ? a->weights_sha256 : NS_VGG19_SHA256;
  g_autoptr (CliProgress) bar = cli_progress_new (stderr, isatty (STDERR_FILENO), a->quiet);
  g_autoptr (GError) error = NULL;
  Interrupt interrupt = { { -1, -1 } };
  gboolean ok, interrupted;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      say ("cannot create the folder “%s”: %s; choose another destination with --weights FILE",
           dir, g_strerror (saved));
      return EXIT_RUNTIME;
    }
  if (!a->quiet)
    say ("downloading the VGG-19 weights%s from %s", a->weights_url ? "" : " (about 575 MB)",
         url);
  /* A signal cancels through on_download_progress, which lets the engine delete its
   * partial file; the download stops within a fraction of a second, so no second signal
   * needs to quit at once (that would leave the file behind). */
  if (!interrupt_start (&interrupt, "stopping the download", FALSE, &error))
    {
      say ("cannot set up Ctrl-C handling: %s", error->message);
      return EXIT_RUNTIME;
    }
  ok = ns_weights_download (url, sha, dest, on_download_progress, bar, &error);
  interrupted = interrupt_count > 0;
  interrupt_stop (&interrupt);
  cli_progress_break (bar);
  if (!ok && interrupted)
    {
      say ("interrupted; the partial download was deleted");
      return interrupt_status (interrupt_signal);
    }
  if (!ok)
    {
      say ("the download failed: %s", error->message);
      return EXIT_RUNTIME;
    }
  if (!a->quiet)
    say ("saved the VGG-19 weights to %s; runs now use them automatically", dest);
  return EXIT_OK;
}

static int
run_print_weights_path (const CliArgs *a)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *found = ns_weights_find (a->weights, &error);

  if (found != NULL)
    {
      printf ("%s\n", found);
      return EXIT_OK;
    }
  if (a->weights)
    {
      say ("%s", error->message);
      return EXIT_RUNTIME;
    }
  /* Not there yet: print where --download-weights would put it, which is what a script
   * asking this question usually wants next. */
  {
    g_autofree char *path = ns_weights_default_path ();

    printf ("%s\n", path);
    if (!a->quiet)
      say ("no VGG-19 weights yet; “%s --download-weights” puts them at the path above",
           PROGRAM);
  }
  return EXIT_OK;
}

/* ---- main ------------------------------------------------------------------------------ */

/* Rejects combinations that parse_args cannot see.  Returns -1 to go on, else an exit code. */
static int
check_mode (const CliArgs *a)
{
  int n_operands = a->operands ? (int) g_strv_length (a->operands) : 0;
  gboolean other_mode = a->download_weights || a->print_weights_path;

  if (a->download_weights && a->print_weights_path)
    return usage_error ("--download-weights and --print-weights-path cannot be combined");
  if ((a->weights_url || a->weights_sha256) && !a->download_weights)
    return usage_error ("--weights-url and --weights-sha256 only apply to --download-weights");
  if (a->weights_sha256 && !is_hex_sha256 (a->weights_sha256))
    return usage_error ("--weights-sha256 must be 64 hexadecimal digits");
  if (other_mode && a->frames)
    return usage_error (a->download_weights ? "--download-weights cannot be combined with --frames"
                        : "--print-weights-path cannot be combined with --frames");
  if (other_mode && n_operands > 0)
    return usage_error (a->download_weights
                        ? "--download-weights takes no image files; run it on its own"
                        : "--print-weights-path takes no image files; run it on its own");
  if (other_mode)
    return -1;
  if (!a->frames && (a->temporal_weight || a->long_term || a->resume))
    return usage_error ("--temporal-weight, --long-term and --resume only apply to --frames");
  if (a->frames && a->overwrite_input)
    return usage_error ("--overwrite-input does not apply to --frames: the frames must stay "
                        "as they are for the optical flow and for --resume");
  if (a->frames && n_operands == 0)
    return usage_error ("no images given; usage: neural-style --frames FRAME… STYLE -o "
                        "OUT/%04d.png");
  if (a->frames && n_operands == 1)
    return usage_error ("no frames given, only a style image; usage: neural-style --frames "
                        "FRAME… STYLE -o OUT/%04d.png");
  if (n_operands == 0)
    return usage_error ("no images given; usage: neural-style CONTENT STYLE [STYLE…] -o OUT.png");
  if (n_operands == 1)
    return usage_error ("no style image given; usage: neural-style CONTENT STYLE [STYLE…] -o "
                        "OUT.png");
  return -1;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  CliArgs args = { 0 };
  CliRun run = { 0 };
  g_auto (GStrv) expanded = NULL;
  int status;

  setlocale (LC_ALL, "");

  expanded = expand_optional_args (argc, argv);
  if (!parse_args (&expanded, &args, &error))
    {
      status = usage_error (error->message);
      goto out;
    }
  if (args.version)
    {
      printf ("%s %s\n", PROGRAM, NS_VERSION_STRING);
      status = EXIT_OK;
      goto out;
    }
  status = check_mode (&args);
  if (status >= 0)
    goto out;
  if (args.download_weights)
    {
      status = run_download (&args);
      goto out;
    }
  if (args.print_weights_path)
    {
      status = run_print_weights_path (&args);
      goto out;
    }

  run.options = ns_options_new ();
  if (args.frames)
    status = run_frames (&args, &run);
  else if (!check_output_name (&args, &error)
           || !validate_run (&args, (int) g_strv_length (args.operands) - 1, &run, &error))
    status = usage_error (error->message);
  else
    status = run_stylize (&args, &run);

out:
  g_clear_pointer (&run.options, ns_options_free);
  g_free (run.blend);
  cli_regions_clear (&run);
  cli_args_clear (&args);
  return status;
}
