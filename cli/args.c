/* args.c — the command's options: parsing them, checking their values and combinations,
 * and turning them into the engine's options (validate_run). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <neural-style.h>

#include "cli.h"
#include "regions.h"

/* The preview's size in the plug-in: larger results are optimised at it and enlarged. */
#define CLI_OPTIMIZE_SIZE 512

/* ---- option parsing -------------------------------------------------------------------- */

void
cli_args_clear (CliArgs *a)
{
  char **strings[] = {
    &a->output, &a->size, &a->iterations, &a->content_weight, &a->style_weight, &a->tv_weight,
    &a->style_blend, &a->style_scale, &a->preserve_colors, &a->optimizer, &a->init, &a->seed,
    &a->network, &a->weights, &a->threads, &a->content_layer, &a->style_layers,
    &a->learning_rate, &a->lbfgs_history, &a->save_every, &a->weights_url, &a->weights_sha256,
    &a->max_memory, &a->scales, &a->scale_iterations, &a->optimize_size, &a->upscale,
    &a->refine_iterations, &a->temporal_weight, &a->later_iterations, &a->later_sizes,
    &a->style_mask, &a->rest, &a->region_carry,
    &a->padding,
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
char **
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

gboolean
parse_args (char ***args, CliArgs *a, GError **error)
{
  g_autofree char *temporal_help =
    g_strdup_printf ("With --frames: how strongly each frame is held to the previous one's "
                     "result where the optical flow follows it (default %g; 0: each frame "
                     "on its own)", NS_TEMPORAL_WEIGHT_DEFAULT);
  g_autofree char *later_help =
    g_strdup_printf ("With --frames: the share of the iterations that the frames after the "
                     "first run at each size (they start from the previous result, which has "
                     "the style already; default %g; 1: as many as the first)",
                     NS_LATER_ITERATIONS_DEFAULT);
  g_autofree char *sizes_help =
    g_strdup_printf ("With --frames: the sizes the frames after the first optimise at: all "
                     "the coarse-to-fine sizes, as the first frame does, or only the last "
                     "(default %s)", NS_LATER_COARSE_SIZES_DEFAULT ? "all" : "last");
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
    { "region-carry", 0, 0, G_OPTION_ARG_STRING, &a->region_carry,
      "With --style-mask, which features count toward a region's style: feathered (default: "
      "by the share of what they see that is in the mask) or inside (only those that see "
      "nothing outside it)", "feathered|inside" },
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
    { "padding", 0, 0, G_OPTION_ARG_STRING, &a->padding,
      "What the network's convolutions see beyond the image's edge: zero, replicate or "
      "reflect, with :N for the first N convolutions only (default: the network's)",
      "KIND[:N]" },
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
    { "later-iterations", 0, 0, G_OPTION_ARG_STRING, &a->later_iterations, later_help,
      "SHARE" },
    { "later-sizes", 0, 0, G_OPTION_ARG_STRING, &a->later_sizes, sizes_help, "all|last" },
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
gboolean
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
  int i = 0;   /* set by each parse_* before use; GCC cannot always see that */
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
  if (a->padding)
    {
      NsPadding padding;
      int n_convs;
      g_autoptr (GError) local = NULL;

      if (!ns_padding_parse (a->padding, &padding, &n_convs, &local))
        return fail (error, "--padding: %s", local->message);
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

/* Rejects combinations that parse_args cannot see.  Returns -1 to go on, else an exit code. */
int
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
  if (!a->frames && (a->temporal_weight || a->long_term || a->resume || a->later_iterations
                     || a->later_sizes))
    return usage_error ("--temporal-weight, --later-iterations, --later-sizes, --long-term "
                        "and --resume only apply to --frames");
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
