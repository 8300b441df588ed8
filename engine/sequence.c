/* sequence.c — the frames of an animation stylized in order, each held to the results before
 * it (Ruder et al. 2016): optical flow between the original frames (flow.c), the earlier
 * results warped onto the frame, their reliability, and a run whose objective has the
 * temporal terms and whose first size starts from the warped result (stylize.c).
 *
 * The sequence keeps the last HISTORY original frames and results: long-term consistency
 * reads frames i − 1, i − 2 and i − 4. */
#include <string.h>

#include "ns-internal.h"

#define HISTORY 4

/* New content (a pan's entering strip) is held fully only after this many frames in view
 * (ns_flow_ease_in): measured on the pan of tools/run eval-frames, docs/animation.md. */
#define EASE_IN_FRAMES 7.0

/* The frames a term is taken from, nearest first: i − 1, then (long-term) i − 2 and i − 4. */
static const int offsets[] = { 1, 2, 4 };

struct _NsSequence
{
  NsStylizer            *st;
  NsImage              **styles;
  double                *blend;
  int                    n_styles;
  double                 weight;
  gboolean               long_term;
  NsLaterFrames          later;             /* what frames held to a result run */
  double                 later_ratio;       /* a later frame's expected time over the
                                             * first's, or 0 before a frame is planned */
  int                    n_frames;
  int                    position;          /* frames given so far */
  int                    width, height, channels;   /* the first frame's */
  NsImage               *frames[HISTORY];   /* [j − 1]: original frame position − j + 1 … */
  NsImage               *results[HISTORY];  /* … and its result */
  NsSequenceProgressFunc progress;
  gpointer               progress_data;
  gint64                 start_us;          /* the first stylized frame's start, or 0 */
  double                 seconds_full;      /* for the ETA: frames stylized by full runs … */
  int                    frames_full;
  double                 seconds_later;     /* … and as later frames (not resumed) */
  int                    frames_later;
};

gboolean
ns_sequence_available (void)
{
  return ns_flow_available ();
}

NsSequence *
ns_sequence_new (NsNetwork             *network,
                 const NsOptions       *options,
                 const NsImage * const *styles,
                 const double          *blend,
                 int                    n_styles,
                 GError               **error)
{
  NsSequence *seq;

  g_return_val_if_fail (network != NULL && options != NULL, NULL);

  if (! ns_sequence_available ())
    {
      g_set_error (error, NS_ERROR, NS_ERROR_UNSUPPORTED,
                   "This engine was built without optical flow, which animation frames need: "
                   "install libopencv-video-dev and build it again");
      return NULL;
    }
  if (styles == NULL || n_styles < 1)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT, "No style image was given");
      return NULL;
    }
  for (int k = 0; k < n_styles; k++)
    if (styles[k] == NULL)
      {
        g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT, "Style image %d is missing",
                     k + 1);
        return NULL;
      }

  seq = g_new0 (NsSequence, 1);
  seq->st = ns_stylizer_new (network, options);
  seq->styles = g_new0 (NsImage *, n_styles);
  for (int k = 0; k < n_styles; k++)
    seq->styles[k] = ns_image_copy (styles[k]);
  seq->blend = blend ? g_memdup2 (blend, n_styles * sizeof (double)) : NULL;
  seq->n_styles = n_styles;
  seq->weight = NS_TEMPORAL_WEIGHT_DEFAULT;
  seq->later.share = NS_LATER_ITERATIONS_DEFAULT;
  seq->later.coarse_sizes = NS_LATER_COARSE_SIZES_DEFAULT;
  return seq;
}

static void
forget (NsSequence *seq)
{
  for (int j = 0; j < HISTORY; j++)
    {
      g_clear_pointer (&seq->frames[j], ns_image_free);
      g_clear_pointer (&seq->results[j], ns_image_free);
    }
}

void
ns_sequence_free (NsSequence *seq)
{
  if (seq == NULL)
    return;
  forget (seq);
  for (int k = 0; k < seq->n_styles; k++)
    ns_image_free (seq->styles[k]);
  g_free (seq->styles);
  g_free (seq->blend);
  ns_stylizer_free (seq->st);
  g_free (seq);
}

void
ns_sequence_set_temporal_weight (NsSequence *seq, double weight)
{
  g_return_if_fail (seq != NULL && weight >= 0.0);
  seq->weight = weight;
}

double
ns_sequence_get_temporal_weight (const NsSequence *seq)
{
  return seq->weight;
}

void
ns_sequence_set_long_term (NsSequence *seq, gboolean long_term)
{
  seq->long_term = long_term;
}

void
ns_sequence_set_later_frames (NsSequence *seq, double share, gboolean coarse_sizes)
{
  g_return_if_fail (seq != NULL && share > 0.0 && share <= 1.0);
  seq->later.share = share;
  seq->later.coarse_sizes = coarse_sizes;
  seq->later_ratio = 0.0;
}

double
ns_sequence_get_later_iterations (const NsSequence *seq)
{
  return seq->later.share;
}

gboolean
ns_sequence_get_later_coarse_sizes (const NsSequence *seq)
{
  return seq->later.coarse_sizes;
}

void
ns_sequence_set_n_frames (NsSequence *seq, int n_frames)
{
  seq->n_frames = MAX (n_frames, 0);
}

void
ns_sequence_cancel (NsSequence *seq)
{
  ns_stylizer_cancel (seq->st);
}

int
ns_sequence_get_position (const NsSequence *seq)
{
  return seq->position;
}

/* ---- progress ------------------------------------------------------------------------------ */

/* Whether the frame being stylized is a later one (held to a result: NsLaterFrames). */
static gboolean
is_later (const NsSequence *seq)
{
  return seq->weight > 0.0 && seq->position > 0;
}

/* The frame's own report, with the frame and the whole sequence's ETA: the frames still to
 * come at the average time of those of their kind (later or full runs) stylized so far,
 * else at this frame's expected time, scaled by what a later frame runs if this one is a
 * full run and they are not. */
static void
frame_progress (const NsProgress *run, gpointer data)
{
  NsSequence *seq = data;
  NsSequenceProgress p = { seq->position + 1, seq->n_frames, 0.0, -1.0, run };
  int after = seq->n_frames > 0 ? MAX (seq->n_frames - seq->position - 1, 0) : -1;
  gboolean later_after = seq->weight > 0.0;
  int done = later_after ? seq->frames_later : seq->frames_full;
  double per_frame = -1.0;

  p.elapsed = (g_get_monotonic_time () - seq->start_us) / 1e6;
  if (done > 0)
    per_frame = (later_after ? seq->seconds_later : seq->seconds_full) / done;
  else if (run->eta >= 0.0)
    per_frame = (run->elapsed + run->eta)
                * (later_after && ! is_later (seq) && seq->later_ratio > 0.0
                   ? seq->later_ratio : 1.0);
  if (after >= 0 && run->eta >= 0.0 && per_frame >= 0.0)
    p.eta = run->eta + after * per_frame;
  seq->progress (&p, seq->progress_data);
}

void
ns_sequence_set_progress (NsSequence *seq, NsSequenceProgressFunc func, gpointer user_data)
{
  seq->progress = func;
  seq->progress_data = user_data;
  ns_stylizer_set_progress (seq->st, func ? frame_progress : NULL, seq);
}

/* ---- frames -------------------------------------------------------------------------------- */

static gboolean
check_frame (NsSequence *seq, const NsImage *frame, const char *what, GError **error)
{
  if (frame == NULL || frame->width < 1 || frame->height < 1 || frame->data == NULL ||
      (frame->channels != 1 && frame->channels != 3))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT, "The %s is empty or has %d "
                   "channels (1 or 3 are needed)", what, frame ? frame->channels : 0);
      return FALSE;
    }
  if (seq->position > 0 && (frame->width != seq->width || frame->height != seq->height))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The %s %d is %d×%d, but the sequence's frames are %d×%d: all frames "
                   "must have one size", what, seq->position + 1, frame->width,
                   frame->height, seq->width, seq->height);
      return FALSE;
    }
  return TRUE;
}

/* Frame and result become the latest of the history. */
static void
push (NsSequence *seq, const NsImage *frame, NsImage *result)
{
  if (seq->position == 0)
    {
      seq->width = frame->width;
      seq->height = frame->height;
      seq->channels = frame->channels;
    }
  ns_image_free (seq->frames[HISTORY - 1]);
  ns_image_free (seq->results[HISTORY - 1]);
  memmove (seq->frames + 1, seq->frames, (HISTORY - 1) * sizeof (NsImage *));
  memmove (seq->results + 1, seq->results, (HISTORY - 1) * sizeof (NsImage *));
  seq->frames[0] = ns_image_copy (frame);
  seq->results[0] = result;
  seq->position++;
}

static NsImage *
tensor_plane_image (const NsTensor *t)
{
  NsImage *image = ns_image_new (t->w, t->h, 1);

  memcpy (image->data, t->data, (gsize) t->w * t->h * sizeof (float));
  return image;
}

/* One term: frame i − j's result warped onto `frame` (`frame_t` is it as a tensor) by the
 * flow between the original frames, and the warp's reliability. */
static gboolean
make_term (NsSequence *seq, const NsImage *frame, const NsTensor *frame_t, int j,
           NsImage **warped, NsTensor **reliability, GError **error)
{
  const NsImage *before = seq->frames[j - 1];
  g_autoptr (NsTensor) forward = ns_flow_compute (before, frame, NS_FLOW_MEDIUM, error);
  g_autoptr (NsTensor) backward = NULL;
  g_autoptr (NsTensor) result = NULL;
  g_autoptr (NsTensor) moved = NULL;

  if (forward == NULL)
    return FALSE;
  backward = ns_flow_compute (frame, before, NS_FLOW_MEDIUM, error);
  if (backward == NULL)
    return FALSE;
  result = ns_color_image_to_tensor (seq->results[j - 1]);
  moved = ns_flow_warp_cubic (result, backward);
  *warped = ns_color_tensor_to_image (moved);
  *reliability = ns_flow_reliability (forward, backward);
  {
    g_autoptr (NsTensor) from = ns_color_image_to_tensor (before);

    ns_flow_check_colours (*reliability, from, frame_t, backward);
  }
  /* The flow spans j frames: its steps count j frames each. */
  ns_flow_ease_in (*reliability, backward, EASE_IN_FRAMES / j);
  return TRUE;
}

static guint64
image_bytes (const NsImage *image)
{
  return image ? (guint64) image->width * image->height * image->channels * sizeof (float) : 0;
}

/* What the sequence holds while a frame with n terms runs: the history, the styles, and per
 * term the warped result and reliability at full size, the objective's copies of them and
 * their resized copies at a smaller size (at most as large). */
static guint64
held_bytes (const NsSequence *seq, const NsImage *frame, int n)
{
  guint64 pixels = (guint64) frame->width * frame->height * sizeof (float);
  guint64 bytes = 0;

  for (int j = 0; j < HISTORY; j++)
    bytes += image_bytes (seq->frames[j]) + image_bytes (seq->results[j]);
  for (int k = 0; k < seq->n_styles; k++)
    bytes += image_bytes (seq->styles[k]);
  return bytes + (guint64) n * 3 * (3 + 1) * pixels;
}

static NsImage *
stylize (NsSequence *seq, const NsImage *frame, GError **error)
{
  const NsImage *warped[G_N_ELEMENTS (offsets)] = { NULL };
  const NsImage *reliability[G_N_ELEMENTS (offsets)] = { NULL };
  NsTensor *c[G_N_ELEMENTS (offsets)] = { NULL };
  NsFrameTerms terms = { 0, warped, reliability, seq->weight, 0, NULL };
  NsImage *result = NULL;
  gboolean ok = TRUE;
  int n = 0;

  if (seq->weight > 0.0 && seq->position > 0)
    {
      g_autoptr (NsTensor) frame_t = ns_color_image_to_tensor (frame);

      for (guint k = 0; k < G_N_ELEMENTS (offsets) && ok; k++)
        {
          if (offsets[k] > seq->position || (k > 0 && ! seq->long_term))
            break;
          ok = make_term (seq, frame, frame_t, offsets[k], (NsImage **) &warped[k], &c[k],
                          error);
          n += ok;
        }
    }
  if (ok)
    {
      ns_flow_long_term (c, n);
      for (int k = 0; k < n; k++)
        reliability[k] = tensor_plane_image (c[k]);
      terms.n = n;
      terms.held_bytes = held_bytes (seq, frame, n);
      /* It starts from the earlier result warped, which has the style already. */
      terms.later = n > 0 ? &seq->later : NULL;
      result = ns_stylizer_run_frame (seq->st, frame, (const NsImage * const *) seq->styles,
                                      seq->blend, seq->n_styles, &terms, error);
    }
  for (guint k = 0; k < G_N_ELEMENTS (offsets); k++)
    {
      ns_image_free ((NsImage *) warped[k]);
      ns_image_free ((NsImage *) reliability[k]);
      ns_tensor_free (c[k]);
    }
  return result;
}

/* A later frame's planned work over a full run's, for the ETA before a later frame ran
 * (0 when the frame cannot be planned: the run then says why). */
static double
later_ratio (NsSequence *seq, const NsImage *frame)
{
  g_autoptr (NsRunPlan) plan = ns_stylizer_estimate_plan (seq->st, frame,
                                                          (const NsImage * const *) seq->styles,
                                                          seq->n_styles, FALSE, NULL);

  return plan != NULL ? ns_run_plan_later_share (plan, &seq->later) : 0.0;
}

NsImage *
ns_sequence_next (NsSequence *seq, const NsImage *frame, GError **error)
{
  gint64 t0 = g_get_monotonic_time ();
  NsImage *result;
  gboolean later;

  g_return_val_if_fail (seq != NULL, NULL);

  if (! check_frame (seq, frame, "frame", error))
    return NULL;
  if (seq->start_us == 0)
    seq->start_us = t0;
  later = is_later (seq);
  if (! later && seq->weight > 0.0 && seq->later_ratio == 0.0)
    seq->later_ratio = later_ratio (seq, frame);
  result = stylize (seq, frame, error);
  if (result == NULL)
    return NULL;
  if (later)
    {
      seq->seconds_later += (g_get_monotonic_time () - t0) / 1e6;
      seq->frames_later++;
    }
  else
    {
      seq->seconds_full += (g_get_monotonic_time () - t0) / 1e6;
      seq->frames_full++;
    }
  push (seq, frame, ns_image_copy (result));
  return result;
}

gboolean
ns_sequence_resume (NsSequence *seq, const NsImage *frame, const NsImage *stylized,
                    GError **error)
{
  g_return_val_if_fail (seq != NULL, FALSE);

  if (! check_frame (seq, frame, "frame", error) ||
      ! check_frame (seq, stylized, "stylized frame", error))
    return FALSE;
  if (stylized->width != frame->width || stylized->height != frame->height)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The stylized frame %d is %d×%d, but its frame is %d×%d", seq->position + 1,
                   stylized->width, stylized->height, frame->width, frame->height);
      return FALSE;
    }
  push (seq, frame, ns_image_copy (stylized));
  return TRUE;
}
