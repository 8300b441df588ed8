/* frames.c — `neural-style --frames FRAME… STYLE -o OUT`: the frames of an animation
 * stylized in order, each held to the previous ones' results (NsSequence).
 *
 * Whatever can be wrong with the inputs is found before the first frame is stylized
 * (frame-list.c: the frames listed and numbered, every output checked against every input,
 * every frame decoded once for its size).  Then each frame is stylized and written at once,
 * atomically as a single result is, so that after an interruption --resume goes on from
 * the frames already written.
 */
#include "frames.h"

#include <unistd.h>

#include "frame-list.h"
#include "interrupt.h"

/* ---- the run --------------------------------------------------------------------------------- */

typedef struct
{
  CliProgress *bar;
  NsSequence  *sequence;
  RunContext   snapshot;       /* --save-every of the frame being stylized */
} FramesContext;

static void
cancel_sequence (gpointer sequence)
{
  ns_sequence_cancel (sequence);
}

static void
on_frame_progress (const NsSequenceProgress *state, gpointer user_data)
{
  FramesContext *ctx = user_data;

  /* Should the signal have come just before the frame began (which forgets it). */
  if (interrupt_count > 0)
    ns_sequence_cancel (ctx->sequence);
  if (state->run == NULL || state->run->stage == NS_STAGE_ENLARGE)
    return;                     /* no iteration of its own */
  ctx->snapshot.last_iteration = state->run->iteration;
  cli_progress_frame (ctx->bar, state);
  save_snapshot (&ctx->snapshot, state->run);
}

/* --later-iterations and --later-sizes (ns_sequence_set_later_frames). */
static gboolean
parse_later (const CliArgs *a, double *share, gboolean *coarse, GError **error)
{
  static const char * const sizes[] = { "last", "all", NULL };
  int i = NS_LATER_COARSE_SIZES_DEFAULT;

  *share = NS_LATER_ITERATIONS_DEFAULT;
  if (a->later_iterations
      && !parse_double ("--later-iterations", a->later_iterations, 0.0, TRUE, 1.0, share,
                        error))
    return FALSE;
  if (a->later_sizes && !parse_word ("--later-sizes", a->later_sizes, sizes, &i, error))
    return FALSE;
  *coarse = i == 1;
  return TRUE;
}

/* The expected time of the frames to stylize: a full run for the first (unless it is
 * kept) and for every frame without temporal weight, the later frames' share else. */
static void
say_time (NsStylizer *stylizer, const NsImage *frame, const NsImage *style, int n_stylize,
          gboolean first_kept, double temporal, double share, gboolean coarse)
{
  const NsImage *styles[] = { style };
  g_autoptr (NsPlan) plan = ns_stylizer_plan (stylizer, frame, styles, 1, TRUE, NULL);
  double full, later, all;
  g_autofree char *each_text = NULL, *later_text = NULL, *all_text = NULL;

  if (plan == NULL || (full = ns_plan_get_seconds (plan)) < 0.0)
    return;
  later = temporal > 0.0 ? ns_plan_get_later_seconds (plan, share, coarse) : full;
  all = first_kept ? n_stylize * later : full + (n_stylize - 1) * later;
  each_text = cli_format_duration (full);
  later_text = cli_format_duration (later);
  all_text = cli_format_duration (all);
  if (temporal > 0.0 && (share < 1.0 || !coarse) && n_stylize > 1 - first_kept)
    say ("expected: about %s in all (the first frame %s, each after it %s: %g%% of the "
         "iterations%s)", all_text, each_text, later_text, 100 * share,
         coarse ? "" : ", the last size only");
  else
    say ("expected: about %s in all (%s a frame)", all_text, each_text);
}

static void
say_no_flow (void)
{
  say ("this neural-style was built without optical flow, which --frames needs: install "
       "libopencv-video-dev (and g++), then rebuild it (meson setup --reconfigure BUILD-DIR, "
       "meson compile -C BUILD-DIR)");
}

/* Gives every frame to the sequence in order: the kept outputs as they are, the others
 * stylized and written at once.  Returns an exit status. */
static int
stylize_frames (const CliArgs *a, CliRun *run, GPtrArray *frames, NsSequence *sequence,
                guint64 budget, Interrupt *interrupt)
{
  g_autoptr (CliProgress) bar = cli_progress_new (stderr, isatty (STDERR_FILENO), a->quiet);
  FramesContext ctx = { .bar = bar, .sequence = sequence };
  int n = (int) frames->len;
  int written = 0, kept = 0;
  gint64 start = g_get_monotonic_time ();
  int status = EXIT_OK;

  ns_sequence_set_progress (sequence, on_frame_progress, &ctx);
  for (int i = 0; i < n && status == EXIT_OK; i++)
    {
      Frame *f = FRAME (frames, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (NsImage) result = NULL;
      g_autoptr (NsImage) small_alpha = NULL;
      CliImage frame = { 0 };

      if (interrupt_count > 0)
        break;
      if (!load_image ("frame", f->input, budget, &frame))
        {
          status = EXIT_RUNTIME;
          break;
        }
      prepare_content (&frame, run->size);
      if (f->keep)
        {
          CliImage done = { 0 };
          gboolean ok = cli_image_load (f->output, budget, &done, &error);

          if (ok && done.color->channels == 1)
            {
              NsImage *rgb = ns_image_to_rgb (done.color);

              ns_image_free (done.color);
              done.color = rgb;
            }
          ok = ok && ns_sequence_resume (sequence, frame.color, done.color, &error);
          cli_image_clear (&done);
          cli_image_clear (&frame);
          if (!ok)
            {
              say ("cannot resume from “%s” (frame %d/%d): %s", f->output, i + 1, n,
                   error->message);
              status = EXIT_RUNTIME;
              break;
            }
          kept++;
          if (!a->quiet)
            say ("frame %d/%d: kept %s (--resume)", i + 1, n, f->output);
          continue;
        }

      ctx.snapshot = (RunContext) { .bar = bar, .output = f->output, .alpha = frame.alpha,
                                    .depth = frame.bit_depth, .quiet = a->quiet };
      if (run->save_every > 0 && frame.alpha && run->optimize_size > 0
          && run->optimize_size < MAX (frame.color->width, frame.color->height))
        ctx.snapshot.alpha_small = small_alpha = ns_image_resize_longest (frame.alpha,
                                                                          run->optimize_size);
      interrupt_attach (interrupt, cancel_sequence, sequence);
      if (interrupt_count == 0)
        result = ns_sequence_next (sequence, frame.color, &error);
      interrupt_attach (interrupt, NULL, NULL);
      cli_progress_break (bar);
      if (result == NULL)
        {
          if (!(interrupt_count > 0 || g_error_matches (error, NS_ERROR, NS_ERROR_CANCELLED)))
            {
              if (g_error_matches (error, NS_ERROR, NS_ERROR_UNSUPPORTED))
                say_no_flow ();
              else
                say ("frame %d/%d (“%s”) failed: %s", i + 1, n, f->input, error->message);
              status = EXIT_RUNTIME;
            }
          cli_image_clear (&frame);
          break;
        }
      /* A signal now lets the frame be completed, or a second one deletes it. */
      if (!cli_image_save_png (f->output, result, frame.alpha, frame.bit_depth, &error))
        {
          say ("cannot save frame %d/%d: %s", i + 1, n, error->message);
          status = EXIT_RUNTIME;
        }
      else
        {
          written++;
          if (!a->quiet)
            say ("wrote %s (frame %d/%d, %d×%d, %s) after %d iteration%s", f->output, i + 1, n,
                 result->width, result->height, describe_format (frame.alpha, frame.bit_depth),
                 ctx.snapshot.last_iteration, ctx.snapshot.last_iteration == 1 ? "" : "s");
        }
      cli_image_clear (&frame);
    }
  ns_sequence_set_progress (sequence, NULL, NULL);
  if (status != EXIT_OK)
    return status;
  if (written + kept < n)
    {
      say ("interrupted; %d frame%s written in this run %s kept (%d of %d in all): run the same "
           "command with --resume to go on", written, written == 1 ? "" : "s",
           written == 1 ? "is" : "are", written + kept, n);
      return interrupt_status (interrupt_signal);
    }
  if (!a->quiet)
    {
      g_autofree char *peak = peak_memory_text ();
      g_autofree char *took = cli_format_duration ((g_get_monotonic_time () - start) / 1e6);
      g_autofree char *how = kept > 0 ? g_strdup_printf ("%d stylized, %d kept", written, kept)
                                      : g_strdup_printf ("all stylized");

      say ("wrote %d frame%s (%s) in %s%s", n, n == 1 ? "" : "s", how, took, peak);
    }
  return EXIT_OK;
}

int
run_frames (const CliArgs *a, CliRun *run)
{
  int n_operands = (int) g_strv_length (a->operands);
  char **style = &a->operands[n_operands - 1];
  g_autoptr (GPtrArray) frames = g_ptr_array_new_with_free_func (frame_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (NsNetwork) net = NULL;
  g_autoptr (NsSequence) sequence = NULL;
  Interrupt interrupt = { { -1, -1 } };
  CliImage first = { 0 };
  CliImage style_image = { 0 };
  double temporal = NS_TEMPORAL_WEIGHT_DEFAULT;
  double later_share;
  gboolean later_coarse;
  guint64 budget;
  gboolean typed;
  int existing = 0, n_keep = 0;
  int width = 0, height = 0;
  int status;

  /* What was typed, before any file is read. */
  if (a->output == NULL)
    return usage_error ("no output given; add -o OUT/%04d.png (a pattern) or -o OUT/ (a "
                        "folder)");
  if (!validate_run (a, 1, run, &error))
    return usage_error (error->message);
  if (a->temporal_weight
      && !parse_double ("--temporal-weight", a->temporal_weight, 0.0, FALSE, 1e9, &temporal,
                        &error))
    return usage_error (error->message);
  if (!parse_later (a, &later_share, &later_coarse, &error))
    return usage_error (error->message);
  if (!ns_sequence_available ())
    {
      say_no_flow ();
      return EXIT_RUNTIME;
    }
  budget = memory_budget (run);

  /* From the first file created (the output folder's test) to the last one written. */
  if (!interrupt_start (&interrupt, "stopping; the frames written so far are kept (press "
                        "Ctrl-C again to quit at once)", TRUE, &error))
    {
      say ("cannot set up Ctrl-C handling: %s", error->message);
      return EXIT_RUNTIME;
    }
  status = EXIT_RUNTIME;
  if (!list_frames (a->operands, n_operands - 1, frames, &typed, &error)
      || !name_outputs (a->output, frames, &error)
      || !check_files (a, frames, typed, *style, &existing, &error))
    {
      status = report_frames_error (error);
      goto out;
    }
  status = check_frames (frames, run->size, budget, &first, &width, &height);
  if (status >= 0)
    goto out;
  status = check_kept (frames, first.color->width, first.color->height, budget);
  if (status >= 0)
    goto out;
  for (guint i = 0; i < frames->len; i++)
    n_keep += FRAME (frames, i)->keep;
  if (!a->quiet)
    {
      Frame *last = FRAME (frames, frames->len - 1);

      if (frames->len == 1)
        say ("1 frame (%d×%d), “%s”, written to “%s”", width, height, last->input,
             last->output);
      else
        say ("%u frames (%d×%d), “%s” to “%s”, written to “%s” to “%s”", frames->len, width,
             height, FRAME (frames, 0)->input, last->input, FRAME (frames, 0)->output,
             last->output);
      if (a->resume)
        say ("resuming: %d of the %u frames %s written already and kept", n_keep, frames->len,
             n_keep == 1 ? "is" : "are");
      else if (existing > 0)
        say ("%d of the outputs exist already and will be replaced (--resume keeps them)",
             existing);
    }
  if (n_keep == (int) frames->len)
    {
      if (!a->quiet)
        say ("all frames are written already; nothing to do");
      status = EXIT_OK;
      goto out;
    }

  status = prepare_styles_and_network (a, run, style, 1, budget, &style_image, &net);
  if (status >= 0)
    goto out;
  status = EXIT_RUNTIME;
  {
    g_autoptr (NsStylizer) stylizer = ns_stylizer_new (net, run->options);
    const NsImage *styles[] = { style_image.color };
    g_autofree char *plan = NULL;

    /* The plan of the first frame: the temporal term adds little to it; the later frames
     * run a part of it. */
    if (ns_stylizer_estimate_memory (stylizer, first.color, styles, 1, &plan, &error) == 0)
      {
        say ("cannot run: %s", error->message);
        goto out;
      }
    if (!a->quiet)
      {
        say ("stylizing %u frame%s of %d×%d with temporal weight %g%s", frames->len - n_keep,
             frames->len - n_keep == 1 ? "" : "s", first.color->width, first.color->height,
             temporal, a->long_term ? " (long-term too)" : "");
        say ("plan for the first frame: %s", plan);
        say_time (stylizer, first.color, style_image.color, (int) frames->len - n_keep,
                  FRAME (frames, 0)->keep, temporal, later_share, later_coarse);
      }
    sequence = ns_sequence_new (net, run->options, styles, run->blend, 1, &error);
  }
  cli_image_clear (&first);
  if (sequence == NULL)
    {
      if (g_error_matches (error, NS_ERROR, NS_ERROR_UNSUPPORTED))
        say_no_flow ();
      else
        say ("cannot stylize the frames: %s", error->message);
      goto out;
    }
  ns_sequence_set_temporal_weight (sequence, temporal);
  ns_sequence_set_long_term (sequence, a->long_term);
  ns_sequence_set_later_frames (sequence, later_share, later_coarse);
  ns_sequence_set_n_frames (sequence, (int) frames->len);
  status = stylize_frames (a, run, frames, sequence, budget, &interrupt);

out:
  interrupt_stop (&interrupt);
  cli_image_clear (&first);
  cli_image_clear (&style_image);
  return status;
}
