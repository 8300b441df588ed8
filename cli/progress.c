/* progress.c — the terminal progress bar and the plain progress lines. */
#include "progress.h"

#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Redraws closer together than this only flicker (tiny images run hundreds of steps/s). */
#define REDRAW_INTERVAL_US  (G_USEC_PER_SEC / 10)

struct _CliProgress
{
  FILE    *stream;
  gboolean interactive;
  gboolean quiet;
  gboolean on_line;        /* the cursor sits at the end of a drawn bar */
  gint64   last_draw;      /* g_get_monotonic_time () of the last redraw */
  int      last_step;      /* last tenth (or download step) printed in plain mode */
  int      frame;          /* the frame whose tenths last_step counts */
};

CliProgress *
cli_progress_new (FILE *stream, gboolean interactive, gboolean quiet)
{
  CliProgress *p = g_new0 (CliProgress, 1);

  p->stream = stream;
  p->interactive = interactive;
  p->quiet = quiet;
  p->last_step = -1;
  return p;
}

void
cli_progress_free (CliProgress *progress)
{
  if (progress == NULL)
    return;
  cli_progress_break (progress);
  g_free (progress);
}

void
cli_progress_break (CliProgress *progress)
{
  if (progress->on_line)
    {
      fputc ('\n', progress->stream);
      fflush (progress->stream);
      progress->on_line = FALSE;
    }
}

char *
cli_format_duration (double seconds)
{
  long s;

  if (!(seconds >= 0.0) || !isfinite (seconds))
    return g_strdup ("?");
  s = lround (seconds);
  if (s >= 3600)
    return g_strdup_printf ("%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return g_strdup_printf ("%ld:%02ld", s / 60, s % 60);
}

static int
terminal_width (FILE *stream)
{
  struct winsize ws;

  if (ioctl (fileno (stream), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
    return ws.ws_col;
  return 80;
}

/* Draws "NN% [####----] TEXT" over the current line, the bar taking what TEXT leaves. */
static void
draw_bar (CliProgress *p, double fraction, const char *text)
{
  int width = terminal_width (p->stream);
  int bar = CLAMP (width - (int) g_utf8_strlen (text, -1) - 9, 0, 40);
  int filled;
  GString *line = g_string_new ("\r");

  fraction = CLAMP (fraction, 0.0, 1.0);
  filled = (int) (fraction * bar + 0.5);
  g_string_append_printf (line, "%3d%% ", (int) (fraction * 100.0));
  if (bar >= 5)
    {
      g_string_append_c (line, '[');
      for (int i = 0; i < bar; i++)
        g_string_append_c (line, i < filled ? '#' : '-');
      g_string_append (line, "] ");
    }
  g_string_append (line, text);
  g_string_append (line, "\033[K");         /* clear what a longer previous line left */
  fputs (line->str, p->stream);
  fflush (p->stream);
  g_string_free (line, TRUE);
  p->on_line = TRUE;
  p->last_draw = g_get_monotonic_time ();
}

static gboolean
redraw_due (CliProgress *p, gboolean final)
{
  return final || g_get_monotonic_time () - p->last_draw >= REDRAW_INTERVAL_US;
}

/* Whether to report now: a bar is redrawn at most every REDRAW_INTERVAL_US (and at the end),
 * a plain line printed once per tenth of `fraction`. */
static gboolean
report_due (CliProgress *p, gboolean final, double fraction)
{
  int tenth = (int) (fraction * 10.0);

  if (p->interactive)
    return redraw_due (p, final);
  if (tenth <= p->last_step)
    return FALSE;
  p->last_step = tenth;
  return TRUE;
}

void
cli_progress_iteration (CliProgress *progress, const NsProgress *state)
{
  g_autofree char *elapsed = cli_format_duration (state->elapsed);
  g_autofree char *eta = cli_format_duration (state->eta);
  int total = MAX (state->iterations, 1);
  double fraction = (double) state->iteration / total;
  gboolean final = state->iteration >= total;

  if (progress->quiet || !report_due (progress, final, fraction))
    return;

  if (progress->interactive)
    {
      g_autofree char *text =
        g_strdup_printf ("%d/%d at %d×%d  loss %.3g  %s elapsed  ETA %s",
                         state->scale_iteration, state->scale_iterations, state->width,
                         state->height, state->relative_loss, elapsed, eta);

      draw_bar (progress, fraction, text);
    }
  else
    {
      fprintf (progress->stream,
               "neural-style: iteration %d/%d at %d×%d (%d%% of the run), loss %.3g of the "
               "initial, %s elapsed, %s left\n", state->scale_iteration,
               state->scale_iterations, state->width, state->height, (int) (fraction * 100.0),
               state->relative_loss, elapsed, eta);
      fflush (progress->stream);
    }
}

void
cli_progress_frame (CliProgress *progress, const NsSequenceProgress *state)
{
  const NsProgress *run = state->run;
  g_autofree char *elapsed = cli_format_duration (state->elapsed);
  g_autofree char *eta = cli_format_duration (state->eta);
  g_autofree char *frame = state->n_frames > 0
                           ? g_strdup_printf ("%d/%d", state->frame, state->n_frames)
                           : g_strdup_printf ("%d", state->frame);
  int total = MAX (run->iterations, 1);
  double fraction = CLAMP ((double) run->iteration / total, 0.0, 1.0);
  gboolean final = run->iteration >= total;

  if (progress->quiet)
    return;
  if (state->frame != progress->frame)
    {
      progress->frame = state->frame;
      progress->last_step = -1;
    }
  if (!report_due (progress, final, fraction))
    return;

  if (progress->interactive)
    {
      /* The bar is the sequence's: the frames before this one count as done. */
      double done = state->n_frames > 0
                    ? (state->frame - 1 + fraction) / state->n_frames : fraction;
      g_autofree char *text =
        g_strdup_printf ("frame %s, %d/%d at %d×%d  loss %.3g  %s elapsed  ETA %s", frame,
                         run->scale_iteration, run->scale_iterations, run->width,
                         run->height, run->relative_loss, elapsed, eta);

      draw_bar (progress, done, text);
    }
  else
    {
      fprintf (progress->stream,
               "neural-style: frame %s, iteration %d/%d at %d×%d (%d%% of the frame), loss "
               "%.3g of the initial, %s elapsed, %s left for the sequence\n", frame,
               run->scale_iteration, run->scale_iterations, run->width, run->height,
               (int) (fraction * 100.0), run->relative_loss, elapsed, eta);
      fflush (progress->stream);
    }
}

/* "12.3 MB", or kB for small files (mirrors and tests). */
static char *
format_bytes (guint64 bytes, guint64 scale_by)
{
  if (scale_by >= 1000000)
    return g_strdup_printf ("%.1f MB", bytes / 1e6);
  return g_strdup_printf ("%.1f kB", bytes / 1e3);
}

void
cli_progress_bytes (CliProgress *progress, guint64 done, guint64 total)
{
  guint64 scale_by = MAX (done, total);
  g_autofree char *done_text = format_bytes (done, scale_by);
  g_autofree char *total_text = format_bytes (total, scale_by);

  if (progress->quiet)
    return;

  if (progress->interactive)
    {
      g_autofree char *text = NULL;
      gboolean final = total > 0 && done >= total;

      if (!redraw_due (progress, final))
        return;
      if (total > 0)
        text = g_strdup_printf ("%s of %s", done_text, total_text);
      else
        text = g_strdup_printf ("%s", done_text);
      draw_bar (progress, total > 0 ? (double) done / total : 0.0, text);
    }
  else
    {
      /* Tenths when the size is known, else every 50 MB. */
      int step = total > 0 ? (int) (10.0 * done / total) : (int) (done / 50000000);

      if (step <= progress->last_step)
        return;
      progress->last_step = step;
      if (total > 0)
        fprintf (progress->stream, "neural-style: downloaded %s of %s (%d%%)\n", done_text,
                 total_text, (int) (100.0 * done / total));
      else
        fprintf (progress->stream, "neural-style: downloaded %s\n", done_text);
      fflush (progress->stream);
    }
}
