/* main.c — the `neural-style` command: the run and writing the result (options are read
 * in args.c, --frames is in frames.c, Ctrl-C and SIGTERM in interrupt.c).
 *
 * A thin layer over neural-style.h.  Exit status: 0 success, 1 a runtime failure (an image
 * or the weights cannot be read, the run failed), 2 a usage error, 130 interrupted (SIGINT),
 * 143 terminated (SIGTERM).
 */
#include <errno.h>
#include <locale.h>
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
  if (a->padding)
    {
      NsPadding padding;
      int n_convs;

      if (!ns_padding_parse (a->padding, &padding, &n_convs, &error))
        {
          say ("--padding: %s", error->message);
          ns_network_unref (net);
          return NULL;
        }
      ns_network_set_padding (net, padding, n_convs);
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
