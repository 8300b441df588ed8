/* eval-frames.c — temporal consistency of stylized frame sequences (tools/run eval-frames,
 * docs/animation.md, issue 16).
 *
 * It makes sequences with known camera motion from the sample photos (tools/frames.c: a pan,
 * a zoom, a rotation, and a pan with a zoom under a disc of another photo that crosses the
 * frame, so that some pixels are uncovered), and optionally takes a real clip as a folder of
 * frames (--video).  Each sequence is stylized with the sequence API (ns_sequence_*) at
 * temporal weight γ = 0 (every frame independently, from its own start) and at each γ of
 * --gammas, with the same options otherwise, and measured:
 *   E_warp    Lai et al.'s warping error (tools/frames.h) between consecutive frames, with
 *             the flow and its mask computed on the INPUT frames; also for the input itself
 *             (the floor that the flow's own error sets) and for the input with independent
 *             noise per frame (σ = --noise: the metric must see that flicker);
 *   E_warp 5  the same for frames 5 apart (long-term consistency);
 *   style     the style loss of each frame's last iteration (frames 2 … n: frame 1 is the
 *             same for every γ), summed, over that of γ = 0;
 *   streaks   the share of the finest detail that lies in thin vertical lines (the second
 *             difference along x that blocks of 16 rows have in common; tools/frames.h), and
 *             the same for horizontal lines, over the independent frames': the larger of
 *             the two (a pan used to leave vertical streaks, docs/animation.md);
 *   s/frame   the wall time of ns_sequence_next per frame (its flows included).
 * --later also measures the first γ with the later frames running a share of the
 * iterations and/or only the last size (ns_sequence_set_later_frames), the sequence's own
 * default being another method.
 * Each made sequence also gets an oracle row: the independent first frame moved by the known
 * motion with the generator's resampling (ev_sequence_oracle), a perfectly consistent
 * stylization, i.e. the floor of E_warp for frames with that detail under the metric.
 * Targets (docs/animation.md): E_warp ≤ 0.5 × independent's and ≤ 1.5 × the input's, style
 * loss ≤ 1.10 × independent's.  Writes every frame, a contact sheet per sequence (rows: input,
 * independent, each γ) and, when ImageMagick's convert is there, a GIF with the input, the
 * independent frames and the first γ side by side; --reuse measures frames already written.
 *
 * --validate only checks the metric on the input sequences (no stylization).
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "frames.h"
#include "harness.h"
#include "imageio.h"

#ifndef NS_SAMPLES_DIR
#define NS_SAMPLES_DIR "data/samples"
#endif

#define TARGET_VS_INDEPENDENT 0.5
#define TARGET_VS_INPUT       1.5
#define TARGET_STYLE          1.10
#define LONG_GAP              5
#define SHEET_COLUMNS         6

typedef struct
{
  const char *name, *what;
  const char *photo, *style, *overlay;    /* data/samples names; overlay may be NULL */
  EvCamera    from, to;
  EvOverlay   path;
} Spec;

/* The frame is 16:9; a window of zoom z is z · 512 photo pixels wide, so at 320 × 180 a zoom
 * of 0.62 shows the 512-px photos at about their own pixels, 0.5 enlarged by 1.25. */
static const Spec specs[] = {
  { "pan", "pan left to right and a little up, 1.4% of the width a frame",
    "content-landscape.jpg", "style-starry-night.jpg", NULL,
    { 0.40, 0.52, 0.50, 0 }, { 0.56, 0.48, 0.50, 0 }, { 0 } },
  { "zoom", "zoom in by 1.5×, 1.8% a frame",
    "content-city.jpg", "style-night-cafe.jpg", NULL,
    { 0.50, 0.50, 0.66, 0 }, { 0.50, 0.50, 0.44, 0 }, { 0 } },
  { "rotate", "turn by 12° about the centre",
    "content-flowers.jpg", "style-harvesters.jpg", NULL,
    { 0.50, 0.50, 0.55, -6 }, { 0.50, 0.50, 0.55, 6 }, { 0 } },
  { "pan-zoom-object", "pan and zoom in by 1.3×, a disc of the cat crossing (2.6% of the width a frame)",
    "content-architecture.jpg", "style-hiroshige-snow.jpg", "content-cat.jpg",
    { 0.42, 0.50, 0.64, 0 }, { 0.56, 0.48, 0.50, 0 }, { 0.20, 0.60, 0.80, 0.40, 0.20 } },
};

#define VIDEO_STYLE "style-great-wave.jpg"

typedef struct
{
  char         *samples;
  char         *network;
  EvRunOptions  run;
  int           width, height;
  int           n_frames;
  int           span;           /* the made sequences' motion is spread over this many */
  char         *sequences;
  char         *gammas;
  char         *later;
  char         *video;
  char         *video_what;
  gboolean      long_term;
  double        noise;
  char         *out;
  char         *tsv;
  gboolean      reuse;
  gboolean      validate;
  gboolean      no_gif;
  gboolean      by_stylizer;
  gboolean      stylize_only;
  gboolean      only_later;     /* --later's variants without the default γ runs */
  gboolean      resume_first;   /* the γ runs take the independent frame 1 */
} Args;

/* One stylized (or given) sequence and what was measured on it. */
typedef struct
{
  char     *label;          /* "input", "input + noise", "independent", "γ = 200" */
  double    gamma;          /* < 0 for the input rows */
  double    share;          /* ns_sequence_set_later_frames, for γ > 0 */
  gboolean  coarse;
  int       variant;        /* 0: the sequence's default later frames, k: --later's k-th */
  char     *dir;
  NsImage **frames;
  double    e1, e5;
  double    style;          /* Σ style loss over frames 2 … n, NaN for the input rows */
  double    seconds;        /* mean per frame, NaN for the input rows */
  double    streaks_v, streaks_h;   /* ev_streaks: vertical and horizontal lines */
} Method;

static void
method_free (Method *m, int n)
{
  ev_sequence_free (m->frames, n);
  g_free (m->label);
  g_free (m->dir);
}

/* ---- the sequences ------------------------------------------------------------------------- */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* The first n frames (files in name order) of dir, each resized to `width` wide (its height
 * keeping the aspect ratio, even); *n is lowered when there are fewer. */
static NsImage **
load_video (const char *dir, int width, int *n, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  NsImage **frames;
  const char *name;

  if (d == NULL)
    return NULL;
  while ((name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".png") || g_str_has_suffix (name, ".jpg"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  if (names->len < 2)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "%s has fewer than two frames", dir);
      return NULL;
    }
  *n = MIN (*n, (int) names->len);
  frames = g_new0 (NsImage *, *n);
  for (int t = 0; t < *n; t++)
    {
      g_autoptr (NsImage) f = ev_load_rgb (dir, names->pdata[t], error);
      int h;

      if (f == NULL)
        {
          ev_sequence_free (frames, *n);
          return NULL;
        }
      h = MAX (2, 2 * (int) lround (0.5 * width * f->height / f->width));
      frames[t] = ns_image_resize (f, width, h);
    }
  return frames;
}

static NsImage **
make_sequence (const Args *a, const Spec *s, GError **error)
{
  g_autoptr (NsImage) photo = ev_load_rgb (a->samples, s->photo, error);
  g_autoptr (NsImage) overlay = NULL;
  int n = MAX (a->span, a->n_frames);
  NsImage **all;

  if (photo == NULL)
    return NULL;
  if (s->overlay && !(overlay = ev_load_rgb (a->samples, s->overlay, error)))
    return NULL;
  all = ev_sequence_render (photo, &s->from, &s->to, overlay, s->overlay ? &s->path : NULL,
                            n, a->width, a->height);
  /* Only the first n_frames of a longer move (--span). */
  for (int t = a->n_frames; t < n; t++)
    ns_image_free (all[t]);
  return all;
}

/* ---- files ---------------------------------------------------------------------------------- */

static char *
frame_path (const char *dir, int t)
{
  return g_strdup_printf ("%s/%03d.png", dir, t + 1);
}

static gboolean
save_frames (const char *dir, NsImage * const *frames, int n, GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "cannot create %s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  for (int t = 0; t < n; t++)
    {
      g_autofree char *p = frame_path (dir, t);

      if (!cli_image_save_png (p, frames[t], NULL, 8, error))
        return FALSE;
    }
  return TRUE;
}

/* Frames, style loss and seconds per frame of an earlier run (dir/stats.tsv). */
static gboolean
load_run (const char *dir, int n, Method *m, GError **error)
{
  g_autofree char *stats = g_build_filename (dir, "stats.tsv", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  double secs = 0;

  if (!g_file_get_contents (stats, &text, NULL, error))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  m->style = 0;
  for (int t = 0; t < n; t++)
    {
      double s, sec;

      if (lines[t] == NULL || sscanf (lines[t], "%*d %lf %lf", &s, &sec) != 2)
        {
          g_set_error (error, NS_ERROR, NS_ERROR_IO, "%s: no line for frame %d", stats, t + 1);
          return FALSE;
        }
      if (t > 0)
        m->style += s;
      secs += sec;
    }
  m->seconds = secs / n;
  m->frames = g_new0 (NsImage *, n);
  for (int t = 0; t < n; t++)
    {
      g_autofree char *p = frame_path (dir, t);

      if (!(m->frames[t] = ev_load_rgb (NULL, p, error)))
        return FALSE;
    }
  return TRUE;
}

/* ---- stylizing ------------------------------------------------------------------------------ */

/* The style loss of the last report of a frame's run. */
typedef struct
{
  double style_loss;
} Capture;

static void
on_progress (const NsSequenceProgress *p, gpointer data)
{
  if (p->run)
    ((Capture *) data)->style_loss = p->run->style_loss;
}

/* The same for a plain run (--independent-by-stylizer). */
static void
on_run_progress (const NsProgress *p, gpointer data)
{
  ((Capture *) data)->style_loss = p->style_loss;
}

/* Stylizes the sequence at temporal weight gamma into m, writing dir/NNN.png and
 * dir/stats.tsv (frame, style loss, seconds).  With --independent-by-stylizer, γ = 0 runs
 * each frame with ns_stylizer_run instead of the sequence API. */
static gboolean
stylize (const Args *a, NsNetwork *net, const NsOptions *opt, const NsImage *style,
         NsImage * const *input, int n, const char *dir, const NsImage *first, Method *m,
         GError **error)
{
  const NsImage *styles[] = { style };
  gboolean plain = a->by_stylizer && m->gamma == 0;
  g_autoptr (NsSequence) seq = plain ? NULL : ns_sequence_new (net, opt, styles, NULL, 1, error);
  g_autoptr (NsStylizer) st = plain ? ns_stylizer_new (net, opt) : NULL;
  g_autoptr (GString) stats = g_string_new (NULL);
  g_autofree char *stats_path = g_build_filename (dir, "stats.tsv", NULL);
  Capture cap = { NAN };
  double secs = 0;
  int stylized = 0;

  if (seq == NULL && st == NULL)
    return FALSE;
  if (seq)
    {
      ns_sequence_set_temporal_weight (seq, m->gamma);
      ns_sequence_set_later_frames (seq, m->share, m->coarse);
      ns_sequence_set_long_term (seq, a->long_term);
      ns_sequence_set_n_frames (seq, n);
      ns_sequence_set_progress (seq, on_progress, &cap);
    }
  else
    ns_stylizer_set_progress (st, on_run_progress, &cap);
  m->frames = g_new0 (NsImage *, n);
  m->style = 0;
  /* Frame 1 is a plain run at every γ (/sequence/first-frame-plain): taken, not redone. */
  if (seq && first)
    {
      if (!ns_sequence_resume (seq, input[0], first, error))
        return FALSE;
      m->frames[0] = ns_image_copy (first);
      g_string_append_printf (stats, "1\tnan\t0\n");
    }
  for (int t = m->frames[0] ? 1 : 0; t < n; t++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double s;

      cap.style_loss = NAN;
      m->frames[t] = seq ? ns_sequence_next (seq, input[t], error)
                         : ns_stylizer_run (st, input[t], styles, NULL, 1, error);
      if (m->frames[t] == NULL)
        return FALSE;
      s = (g_get_monotonic_time () - t0) / 1e6;
      secs += s;
      stylized++;
      if (t > 0)
        m->style += cap.style_loss;
      g_string_append_printf (stats, "%d\t%.9g\t%.3f\n", t + 1, cap.style_loss, s);
      g_printerr ("\reval-frames:   frame %d/%d: %.1f s, style loss %.4g", t + 1, n, s,
                  cap.style_loss);
    }
  g_printerr ("\n");
  m->seconds = secs / stylized;
  return save_frames (dir, m->frames, n, error) &&
         g_file_set_contents (stats_path, stats->str, -1, error);
}

/* ---- pictures ------------------------------------------------------------------------------- */

/* Rows: the methods; columns: SHEET_COLUMNS frames spread over the sequence. */
static gboolean
write_sheet (const char *path, Method *methods, int n_methods, int n, GError **error)
{
  int cols = MIN (SHEET_COLUMNS, n);
  g_autoptr (NsImage) sheet = ev_sheet_new (n_methods, cols);

  for (int r = 0; r < n_methods; r++)
    for (int c = 0; c < cols; c++)
      {
        int t = cols > 1 ? (int) lround ((double) c * (n - 1) / (cols - 1)) : 0;

        ev_sheet_paste (sheet, methods[r].frames[t], EV_GAP + c * (EV_CELL_W + EV_GAP),
                        EV_GAP + r * (EV_CELL_H + EV_GAP));
      }
  return cli_image_save_png (path, sheet, NULL, 8, error);
}

/* The frames of the given methods side by side, as dir/side/NNN.png, then a GIF of them by
 * ImageMagick's convert (10 frames a second). */
static void
write_gif (const char *dir, const char *gif, Method * const *shown, int n_shown, int n)
{
  g_autofree char *side = g_build_filename (dir, "side", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *convert = g_find_program_in_path ("convert");
  int w = shown[0]->frames[0]->width, h = shown[0]->frames[0]->height;
  int status = 0;

  if (convert == NULL)
    {
      g_printerr ("eval-frames: no ImageMagick convert here: no GIF\n");
      return;
    }
  g_mkdir_with_parents (side, 0755);
  g_ptr_array_add (argv, g_strdup (convert));
  g_ptr_array_add (argv, g_strdup ("-delay"));
  g_ptr_array_add (argv, g_strdup ("10"));
  g_ptr_array_add (argv, g_strdup ("-loop"));
  g_ptr_array_add (argv, g_strdup ("0"));
  for (int t = 0; t < n; t++)
    {
      g_autoptr (NsImage) frame = ns_image_new (n_shown * w + (n_shown - 1) * EV_GAP, h, 3);
      char *p = frame_path (side, t);

      for (gsize i = 0; i < (gsize) frame->width * h * 3; i++)
        frame->data[i] = 0.2f;
      for (int k = 0; k < n_shown; k++)
        for (int y = 0; y < h; y++)
          memcpy (frame->data + 3 * ((gsize) y * frame->width + k * (w + EV_GAP)),
                  shown[k]->frames[t]->data + 3 * (gsize) y * w, 3 * (gsize) w * sizeof (float));
      if (!cli_image_save_png (p, frame, NULL, 8, &error))
        {
          g_printerr ("eval-frames: %s\n", error->message);
          g_free (p);
          return;
        }
      g_ptr_array_add (argv, p);
    }
  g_ptr_array_add (argv, g_strdup (gif));
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                     &status, &error) || !g_spawn_check_wait_status (status, &error))
    g_printerr ("eval-frames: convert: %s\n", error->message);
}

/* ---- measuring ------------------------------------------------------------------------------ */

/* The numbers of one row of the report. */
typedef struct
{
  char   *sequence, *method;
  double  gamma, e1, e5, r1, r5, vs_input, style, seconds;
  int     variant;        /* Method's */
  double  streaks_v, streaks_h, streaks;   /* streaks: the larger ratio to independent */
  int     met;        /* −1: not applicable (input rows, independent) */
} Row;

static void
row_free (Row *r)
{
  g_free (r->sequence);
  g_free (r->method);
  g_free (r);
}

/* 0 (unless only_listed), then the weights of the list. */
static GArray *
parse_gammas (const char *list, gboolean only_listed, GError **error)
{
  GArray *g = g_array_new (FALSE, FALSE, sizeof (double));
  g_auto (GStrv) v = g_strsplit (list, ",", -1);
  double zero = 0;

  if (!only_listed)
    g_array_append_val (g, zero);
  for (int i = 0; v[i]; i++)
    {
      char *end;
      double x = g_ascii_strtod (v[i], &end);

      if (end == v[i] || *end || !(x >= 0) || !isfinite (x))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "--gammas: \"%s\" is not a weight ≥ 0", v[i]);
          g_array_unref (g);
          return NULL;
        }
      if (x > 0 || only_listed)
        g_array_append_val (g, x);
    }
  return g;
}

/* The first γ > 0 of the list, or 0. */
static double
first_gamma (const GArray *gammas)
{
  for (guint g = 0; g < gammas->len; g++)
    if (g_array_index (gammas, double, g) > 0)
      return g_array_index (gammas, double, g);
  return 0;
}

/* --later: "SHARE" or "SHARE/last" (the last size only), comma-separated. */
static gboolean
parse_later (const char *list, GArray *shares, GArray *coarse, GError **error)
{
  g_auto (GStrv) v = g_strsplit (list, ",", -1);

  for (int i = 0; v[i]; i++)
    {
      char *end;
      double x = g_ascii_strtod (v[i], &end);
      gboolean c = TRUE;

      if (strcmp (end, "/last") == 0)
        c = FALSE;
      else if (*end)
        end = v[i];
      if (end == v[i] || !(x > 0 && x <= 1))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "--later: \"%s\" is not a share in (0, 1], optionally with /last", v[i]);
          return FALSE;
        }
      g_array_append_val (shares, x);
      g_array_append_val (coarse, c);
    }
  return TRUE;
}

/* The label and directory of the method of γ with later frames (share, coarse). */
static void
method_names (Method *k, const char *dir, gboolean variant)
{
  if (k->gamma == 0)
    {
      k->label = g_strdup ("independent");
      k->dir = g_build_filename (dir, "independent", NULL);
    }
  else if (!variant)
    {
      k->label = g_strdup_printf ("γ = %g", k->gamma);
      k->dir = g_strdup_printf ("%s/gamma-%g", dir, k->gamma);
    }
  else
    {
      k->label = g_strdup_printf ("γ = %g, later %g%%%s", k->gamma, 100 * k->share,
                                  k->coarse ? "" : " last size");
      k->dir = g_strdup_printf ("%s/gamma-%g-later-%g%s", dir, k->gamma, k->share,
                                k->coarse ? "" : "-last");
    }
}

/* Streaks against the independent frames (`indep`): the larger of the vertical and the
 * horizontal lines' ratio. */
static double
streaks_vs (double vertical, double horizontal, const Method *indep)
{
  return MAX (vertical / indep->streaks_v, horizontal / indep->streaks_h);
}

/* The oracle row of a made sequence: the independent first frame moved by the sequence's
 * known motion with the generator's resampling (ev_sequence_oracle), a perfectly consistent
 * stylization: how low the warping error can go with that frame's detail under bilinear
 * warps.  Its frames go to dir/oracle. */
static gboolean
add_oracle (const Args *a, const Spec *s, const char *dir, Method *m, int n, EvFlows *f1,
            EvFlows *f5, GPtrArray *rows, GError **error)
{
  g_autoptr (NsImage) photo = ev_load_rgb (a->samples, s->photo, error);
  g_autofree char *sub = g_build_filename (dir, "oracle", NULL);
  Row *r;
  NsImage **frames;
  double sv, sh;

  if (photo == NULL)
    return FALSE;
  frames = ev_sequence_oracle (m[2].frames[0], photo->width, photo->height, &s->from, &s->to,
                               s->overlay ? &s->path : NULL, n);
  r = g_new0 (Row, 1);
  r->sequence = g_strdup (s->name);
  r->method = g_strdup ("oracle: frame 1 moved");
  r->gamma = -1;
  r->met = -1;
  r->e1 = ev_warp_error (f1, frames);
  r->e5 = f5 ? ev_warp_error (f5, frames) : NAN;
  r->r1 = r->e1 / m[2].e1;
  r->r5 = r->e5 / m[2].e5;
  r->vs_input = r->e1 / m[0].e1;
  r->style = r->seconds = NAN;
  sv = ev_streaks (frames, n, &sh);
  r->streaks_v = sv;
  r->streaks_h = sh;
  r->streaks = streaks_vs (sv, sh, &m[2]);
  g_printerr ("eval-frames:   %-22s E_warp %.5f (%d apart %.5f), × input %.2f\n", r->method,
              r->e1, LONG_GAP, r->e5, r->vs_input);
  g_ptr_array_add (rows, r);
  if (!save_frames (sub, frames, n, error))
    {
      ev_sequence_free (frames, n);
      return FALSE;
    }
  ev_sequence_free (frames, n);
  return TRUE;
}

/* Measures (and unless --validate stylizes) one sequence; adds its rows.  spec is NULL for
 * the clip (no known motion: no oracle). */
static gboolean
run_sequence (const Args *a, NsNetwork *net, const NsOptions *opt, const Spec *spec,
              const char *name, const char *what, const char *style_name, NsImage **input,
              int n, const GArray *gammas, const GArray *shares, const GArray *coarse,
              GPtrArray *rows, GError **error)
{
  g_autofree char *dir = g_build_filename (a->out, name, NULL);
  g_autofree char *in_dir = g_build_filename (dir, "input", NULL);
  g_autoptr (EvFlows) f1 = NULL, f5 = NULL;
  g_autoptr (NsImage) style = NULL;
  double later_gamma = first_gamma (gammas);
  int n_later = later_gamma > 0 ? shares->len : 0;
  int n_plain = a->only_later && n_later > 0 ? 1 : (int) gammas->len;
  int n_methods = 2 + (a->validate ? 0 : n_plain + n_later);
  g_autofree Method *m = g_new0 (Method, n_methods);
  gboolean ok = FALSE;
  gint64 t0 = g_get_monotonic_time ();

  g_printerr ("eval-frames: %s (%s): %d frames of %d × %d\n", name, what, n, input[0]->width,
              input[0]->height);
  if (!save_frames (in_dir, input, n, error))
    goto out;
  if (!(f1 = ev_flows_new (input, n, 1, error)))
    goto out;
  if (n > LONG_GAP && !(f5 = ev_flows_new (input, n, LONG_GAP, error)))
    goto out;
  g_printerr ("eval-frames:   flows %.1f s; reliable pixels %.1f%% (1 apart), %.1f%% (%d apart)\n",
              (g_get_monotonic_time () - t0) / 1e6, 100 * ev_flows_coverage (f1),
              f5 ? 100 * ev_flows_coverage (f5) : NAN, LONG_GAP);
  m[0].label = g_strdup ("input");
  m[0].frames = g_new0 (NsImage *, n);
  for (int t = 0; t < n; t++)
    m[0].frames[t] = ns_image_copy (input[t]);
  m[1].label = g_strdup_printf ("input + noise σ %.3g", a->noise);
  m[1].frames = ev_sequence_add_noise (input, n, a->noise, 16);
  m[0].gamma = m[1].gamma = -1;
  m[0].style = m[1].style = m[0].seconds = m[1].seconds = NAN;
  if (!a->validate)
    {
      if (!(style = ev_load_rgb (a->samples, style_name, error)))
        goto out;
      for (int g = 0; g < n_plain + n_later; g++)
        {
          Method *k = &m[2 + g];
          gboolean variant = g >= n_plain;
          const NsImage *first = NULL;

          /* The later frames' variants hold with the first γ > 0. */
          k->gamma = variant ? later_gamma : g_array_index (gammas, double, g);
          k->share = variant ? g_array_index (shares, double, g - n_plain)
                             : NS_LATER_ITERATIONS_DEFAULT;
          k->coarse = variant ? g_array_index (coarse, gboolean, g - n_plain)
                              : NS_LATER_COARSE_SIZES_DEFAULT;
          k->variant = variant ? g - n_plain + 1 : 0;
          if (a->resume_first && g > 0 && m[2].gamma == 0 && m[2].frames)
            first = m[2].frames[0];
          method_names (k, dir, variant);
          if (a->reuse && g_file_test (k->dir, G_FILE_TEST_IS_DIR))
            {
              if (!load_run (k->dir, n, k, error))
                goto out;
            }
          else
            {
              g_printerr ("eval-frames:   %s\n", k->label);
              if (!stylize (a, net, opt, style, input, n, k->dir, first, k, error))
                goto out;
            }
        }
    }
  if (a->stylize_only)
    {
      ok = TRUE;
      goto out;
    }
  for (int i = 0; i < n_methods; i++)
    m[i].streaks_v = ev_streaks (m[i].frames, n, &m[i].streaks_h);
  for (int i = 0; i < n_methods; i++)
    {
      Row *r = g_new0 (Row, 1);

      m[i].e1 = ev_warp_error (f1, m[i].frames);
      m[i].e5 = f5 ? ev_warp_error (f5, m[i].frames) : NAN;
      r->sequence = g_strdup (name);
      r->method = g_strdup (m[i].label);
      r->gamma = m[i].gamma;
      r->variant = m[i].variant;
      r->e1 = m[i].e1;
      r->e5 = m[i].e5;
      r->vs_input = m[i].e1 / m[0].e1;
      r->met = -1;
      r->r1 = r->r5 = r->style = r->streaks = NAN;
      r->streaks_v = m[i].streaks_v;
      r->streaks_h = m[i].streaks_h;
      /* Against the independent frames; the input's lines are the photo's. */
      if (i >= 2)
        r->streaks = streaks_vs (m[i].streaks_v, m[i].streaks_h, &m[2]);
      if (i >= 2)
        {
          r->r1 = m[i].e1 / m[2].e1;
          r->r5 = m[i].e5 / m[2].e5;
          r->style = m[i].style / m[2].style;
          r->seconds = m[i].seconds;
          if (i > 2)
            r->met = r->r1 <= TARGET_VS_INDEPENDENT && r->vs_input <= TARGET_VS_INPUT &&
                     r->style <= TARGET_STYLE;
        }
      else
        r->seconds = NAN;
      g_printerr ("eval-frames:   %-22s E_warp %.5f (%d apart %.5f), streaks %.3f %.3f\n",
                  m[i].label, m[i].e1, LONG_GAP, m[i].e5, m[i].streaks_v, m[i].streaks_h);
      g_ptr_array_add (rows, r);
    }
  /* The oracle moves frame 1 over the frames stylized: not with --span. */
  if (spec && !a->validate && a->span <= n && !add_oracle (a, spec, dir, m, n, f1, f5, rows, error))
    goto out;
  if (!a->validate)
    {
      g_autofree char *sheet = g_strdup_printf ("%s/%s-sheet.png", a->out, name);
      g_autofree char *gif = g_strdup_printf ("%s/%s.gif", a->out, name);
      Method *shown[3] = { &m[0], &m[2], n_methods > 3 ? &m[3] : NULL };
      g_autofree Method *rowsv = g_new (Method, n_methods - 1);

      /* The sheet leaves out the noisy input. */
      rowsv[0] = m[0];
      memcpy (rowsv + 1, m + 2, (n_methods - 2) * sizeof (Method));
      if (!write_sheet (sheet, rowsv, n_methods - 1, n, error))
        goto out;
      if (!a->no_gif)
        write_gif (dir, gif, shown, n_methods > 3 ? 3 : 2, n);
      g_printerr ("eval-frames:   %s, %s\n", sheet, gif);
    }
  ok = TRUE;
out:
  for (int i = 0; i < n_methods; i++)
    method_free (&m[i], n);
  return ok;
}

/* ---- the report ----------------------------------------------------------------------------- */

static void
print_table (const Args *a, GPtrArray *rows)
{
  g_autofree char *tsv_path = a->tsv ? g_strdup (a->tsv)
                                     : g_build_filename (a->out, "table.tsv", NULL);
  FILE *tsv = a->validate ? NULL : fopen (tsv_path, "w");

  printf ("| sequence | method | E_warp | × independent | × input | E_warp %d apart | "
          "× independent | style loss × independent | streaks × independent | s/frame | "
          "targets |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n", LONG_GAP);
  if (tsv)
    fprintf (tsv, "sequence\tmethod\tgamma\te_warp\tvs_independent\tvs_input\te_warp_%d\t"
             "vs_independent_%d\tstyle_ratio\tseconds_per_frame\tmet\tstreaks_v\tstreaks_h\t"
             "streaks_ratio\n", LONG_GAP, LONG_GAP);
  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = rows->pdata[i];
      g_autofree char *r1 = isnan (r->r1) ? g_strdup ("") : g_strdup_printf ("%.2f", r->r1);
      g_autofree char *r5 = isnan (r->r5) ? g_strdup ("") : g_strdup_printf ("%.2f", r->r5);
      g_autofree char *st = isnan (r->style) ? g_strdup ("")
                                             : g_strdup_printf ("%.3f", r->style);
      g_autofree char *sec = isnan (r->seconds) ? g_strdup ("")
                                                : g_strdup_printf ("%.1f", r->seconds);
      g_autofree char *sk = isnan (r->streaks) ? g_strdup ("")
                                               : g_strdup_printf ("%.2f", r->streaks);

      printf ("| %s | %s | %.5f | %s | %.2f | %.5f | %s | %s | %s | %s | %s |\n", r->sequence,
              r->method, r->e1, r1, r->vs_input, r->e5, r5, st, sk, sec,
              r->met < 0 ? "" : r->met ? "met" : "**not met**");
      if (tsv)
        fprintf (tsv, "%s\t%s\t%g\t%.6f\t%.4f\t%.4f\t%.6f\t%.4f\t%.4f\t%.2f\t%d\t%.4f\t%.4f\t"
                 "%.4f\n", r->sequence, r->method, r->gamma, r->e1, r->r1, r->vs_input, r->e5,
                 r->r5, r->style, r->seconds, r->met, r->streaks_v, r->streaks_h, r->streaks);
    }
  if (tsv)
    {
      fclose (tsv);
      g_printerr ("eval-frames: table %s\n", tsv_path);
    }
}

/* One line of the sweep: the rows of γ and variant over the sequences, worst and mean
 * ratios; TRUE when every sequence meets the targets, with the mean style ratio. */
static gboolean
sweep_line (GPtrArray *rows, const char *label, double gamma, int variant, double *style)
{
  double s1 = 0, w1 = 0, si = 0, wi = 0, s5 = 0, ss = 0, ws = 0, sk = 0, wk = 0, sec = 0;
  int k = 0, met = 0;

  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = rows->pdata[i];

      if (r->gamma != gamma || r->variant != variant)
        continue;
      s1 += r->r1;
      w1 = MAX (w1, r->r1);
      si += r->vs_input;
      wi = MAX (wi, r->vs_input);
      s5 += r->r5;
      ss += r->style;
      ws = MAX (ws, r->style);
      sk += r->streaks;
      wk = MAX (wk, r->streaks);
      sec += r->seconds;
      met += r->met > 0;
      k++;
    }
  if (k == 0)
    return FALSE;
  printf ("| %s | %.2f, %.2f | %.2f, %.2f | %.2f | %.3f, %.3f | %.2f, %.2f | %.1f | %d of %d |\n",
          label, s1 / k, w1, si / k, wi, s5 / k, ss / k, ws, sk / k, wk, sec / k, met, k);
  *style = ss / k;
  return met == k;
}

/* Per γ (and per --later variant) over the sequences; recommends the γ that meets the
 * targets with the least change of style loss. */
static void
print_sweep (GPtrArray *rows, const GArray *gammas, const GArray *shares, const GArray *coarse)
{
  double best_style = INFINITY, best = -1, style;

  printf ("\n| γ | E_warp × independent (mean, worst) | E_warp × input (mean, worst) | "
          "E_warp %d apart × independent (mean) | style loss × independent (mean, worst) | "
          "streaks × independent (mean, worst) | s/frame | sequences meeting the targets |\n"
          "|---|---|---|---:|---|---|---:|---|\n", LONG_GAP);
  for (guint g = 1; g < gammas->len; g++)
    {
      double gamma = g_array_index (gammas, double, g);
      g_autofree char *label = g_strdup_printf ("%g", gamma);

      if (sweep_line (rows, label, gamma, 0, &style) && fabs (style - 1) < best_style)
        {
          best_style = fabs (style - 1);
          best = gamma;
        }
    }
  for (guint v = 0; v < shares->len; v++)
    {
      g_autofree char *label = g_strdup_printf ("%g, later %g%%%s", first_gamma (gammas),
                                                100 * g_array_index (shares, double, v),
                                                g_array_index (coarse, gboolean, v)
                                                ? "" : " last size");

      sweep_line (rows, label, first_gamma (gammas), v + 1, &style);
    }
  if (best >= 0)
    printf ("\nγ meeting the targets on every sequence with the least change of style loss: "
            "%g\n", best);
  else
    printf ("\nno γ meets the targets on every sequence\n");
}

static int
evaluate (const Args *a)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsNetwork) net = NULL;
  g_autoptr (NsOptions) opt = NULL;
  g_autoptr (GArray) gammas = parse_gammas (a->gammas, a->stylize_only, &error);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  g_autoptr (GArray) shares = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) coarse = g_array_new (FALSE, FALSE, sizeof (gboolean));
  int failures = 0;

  if (gammas == NULL || (a->later && !parse_later (a->later, shares, coarse, &error)))
    {
      g_printerr ("eval-frames: %s\n", error->message);
      return 2;
    }
  if (!a->validate)
    {
      if (!ns_sequence_available () && !(a->by_stylizer && gammas->len == 1))
        {
          g_printerr ("eval-frames: this engine has no optical flow (build it with "
                      "libopencv-video-dev)\n");
          return 1;
        }
      if (!(net = ev_load_network (a->network, &error)) ||
          !ev_run_options_make (&a->run, net, &opt, &error))
        {
          g_printerr ("eval-frames: %s\n", error->message);
          return 1;
        }
      g_printerr ("eval-frames: %s\n", ns_network_get_description (net));
    }
  for (guint s = 0; s < G_N_ELEMENTS (specs); s++)
    {
      NsImage **input;

      if (!ev_listed (a->sequences, specs[s].name))
        continue;
      if (!(input = make_sequence (a, &specs[s], &error)) ||
          !run_sequence (a, net, opt, &specs[s], specs[s].name, specs[s].what, specs[s].style,
                         input, a->n_frames, gammas, shares, coarse, rows, &error))
        {
          g_printerr ("eval-frames: %s: %s\n", specs[s].name, error->message);
          ev_sequence_free (input, a->n_frames);
          return 1;
        }
      ev_sequence_free (input, a->n_frames);
    }
  if (a->video && ev_listed (a->sequences, "video"))
    {
      int n = a->n_frames;
      NsImage **input = load_video (a->video, a->width, &n, &error);

      if (input == NULL ||
          !run_sequence (a, net, opt, NULL, "video", a->video_what ? a->video_what : a->video,
                         VIDEO_STYLE, input, n, gammas, shares, coarse, rows, &error))
        {
          g_printerr ("eval-frames: video: %s\n", error->message);
          ev_sequence_free (input, n);
          return 1;
        }
      ev_sequence_free (input, n);
    }
  if (a->stylize_only)
    return 0;
  if (rows->len == 0)
    {
      g_printerr ("eval-frames: no sequence matches --sequences %s\n", a->sequences);
      return 2;
    }
  print_table (a, rows);
  if (a->validate)
    {
      /* Pure camera motion must score far below the same frames with noise. */
      for (guint i = 0; i + 1 < rows->len; i += 2)
        {
          Row *in = rows->pdata[i], *noisy = rows->pdata[i + 1];
          gboolean ok = in->e1 < 0.2 * noisy->e1 && in->e5 < 0.2 * noisy->e5;

          printf ("%s: input %.5f, with noise %.5f: %s\n", in->sequence, in->e1, noisy->e1,
                  ok ? "the metric tells them apart" : "NOT told apart");
          failures += !ok;
        }
      return failures ? 1 : 0;
    }
  printf ("targets: E_warp <= %.1f × independent and <= %.1f × the input's; style loss <= "
          "%.2f × independent\n", TARGET_VS_INDEPENDENT, TARGET_VS_INPUT, TARGET_STYLE);
  if (gammas->len > 1)
    print_sweep (rows, gammas, shares, coarse);
  return 0;
}

int
main (int argc, char **argv)
{
  Args a = { 0 };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— temporal consistency of stylized frames");
  g_autoptr (GError) error = NULL;
  g_autofree char *default_gamma = g_strdup_printf ("%g", NS_TEMPORAL_WEIGHT_DEFAULT);
  GOptionEntry entries[] = {
    { "samples", 0, 0, G_OPTION_ARG_FILENAME, &a.samples, "Sample image directory", "DIR" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &a.network, "auto (default), embedded, vgg19 or embedded:VARIANT", "NAME" },
    { "width", 'W', 0, G_OPTION_ARG_INT, &a.width, "Frame width (default 192)", "N" },
    { "height", 'H', 0, G_OPTION_ARG_INT, &a.height, "Frame height of the made sequences (default 108)", "N" },
    { "frames", 'f', 0, G_OPTION_ARG_INT, &a.n_frames, "Frames per sequence (default 24)", "N" },
    { "span", 0, 0, G_OPTION_ARG_INT, &a.span, "Spread the made sequences' motion over N frames and stylize the first --frames of them (a few frames with the motion per frame of a long clip)", "N" },
    { "sequences", 0, 0, G_OPTION_ARG_STRING, &a.sequences, "Only these: pan, zoom, rotate, pan-zoom-object, video", "NAME,…" },
    { "gammas", 'g', 0, G_OPTION_ARG_STRING, &a.gammas, "Temporal weights to measure beside 0 (default NS_TEMPORAL_WEIGHT_DEFAULT)", "W,…" },
    { "later", 0, 0, G_OPTION_ARG_STRING, &a.later, "Also the first γ with later frames running these shares of the iterations (SHARE), or of the last size's only (SHARE/last): ns_sequence_set_later_frames", "S[/last],…" },
    { "only-later", 0, 0, G_OPTION_ARG_NONE, &a.only_later, "With --later: run only its variants and the independent frames, not the default's γ", NULL },
    { "resume-first", 0, 0, G_OPTION_ARG_NONE, &a.resume_first, "Give the γ runs the independent frame 1 (ns_sequence_resume) instead of stylizing it again: it is a plain run at every γ; s/frame is then of frames 2 … n", NULL },
    { "long-term", 0, 0, G_OPTION_ARG_NONE, &a.long_term, "Also hold frames to frames i − 2 and i − 4", NULL },
    { "video", 0, 0, G_OPTION_ARG_FILENAME, &a.video, "Also a real clip: a folder of frames (NNN.png or .jpg)", "DIR" },
    { "video-what", 0, 0, G_OPTION_ARG_STRING, &a.video_what, "What the clip shows, for the report", "TEXT" },
    { "noise", 0, 0, G_OPTION_ARG_DOUBLE, &a.noise, "Deviation of the noise of the check row (default 0.05)", "S" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a.out, "Directory for frames, sheets and GIFs (default eval-frames-out)", "DIR" },
    { "tsv", 0, 0, G_OPTION_ARG_FILENAME, &a.tsv, "The table as tab-separated values (default OUT/table.tsv)", "FILE" },
    { "reuse", 0, 0, G_OPTION_ARG_NONE, &a.reuse, "Measure frames already stylized in OUT instead of stylizing again", NULL },
    { "no-gif", 0, 0, G_OPTION_ARG_NONE, &a.no_gif, "Write no GIFs", NULL },
    { "independent-by-stylizer", 0, 0, G_OPTION_ARG_NONE, &a.by_stylizer, "Stylize γ = 0 with ns_stylizer_run per frame instead of the sequence API (to check that they agree)", NULL },
    { "stylize-only", 0, 0, G_OPTION_ARG_NONE, &a.stylize_only, "Only stylize at the γ of --gammas (0 only when listed) into OUT, to be measured later by --reuse (runs can then share the work)", NULL },
    { "validate", 0, 0, G_OPTION_ARG_NONE, &a.validate, "Only check the metric on the inputs (no stylization)", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");    /* so that "×" and "γ" reach a UTF-8 terminal as themselves */
  a.width = 192;
  a.height = 108;
  a.n_frames = 24;
  a.noise = 0.05;
  ev_run_options_init (&a.run);
  a.run.iterations = 50;
  g_option_context_set_summary (ctx, "Small defaults, so that two cores measure four "
                                "sequences in about half an hour: 50 iterations per frame.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  ev_run_options_add_entries (&a.run, ctx);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("eval-frames: %s\n", error->message);
      return 2;
    }
  if (a.n_frames < 2 || a.width < 16 || a.height < 16)
    {
      g_printerr ("eval-frames: at least 2 frames of 16 × 16 pixels\n");
      return 2;
    }
  if (a.samples == NULL)
    a.samples = g_strdup (NS_SAMPLES_DIR);
  if (a.network == NULL)
    a.network = g_strdup ("auto");
  if (a.gammas == NULL)
    a.gammas = g_strdup (default_gamma);
  if (a.out == NULL)
    a.out = g_strdup ("eval-frames-out");
  return evaluate (&a);
}
