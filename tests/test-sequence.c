/* test-sequence.c — animation frames (NsSequence): the temporal terms hold a panning
 * sequence together (its warping error falls against independent frames), resuming gives the
 * frames a continuous run gives, the first frame is a plain run, progress counts frames, and
 * bad frames, cancels and engines without optical flow give clear errors. */
#include <math.h>
#include <string.h>
#include "ns-internal.h"
#include "testutil.h"

#define W 48
#define H 40
#define N_FRAMES 4

/* Frame i: a window of a larger picture moved 2 px right and 1 px down per frame. */
static NsImage *
frame_at (int i)
{
  g_autoptr (NsImage) world = ns_test_pattern (W + 16, H + 16, 3, 0.31, 0.17, 0.3f, 0.15f);
  NsImage *frame = ns_image_new (W, H, 3);

  for (int y = 0; y < H; y++)
    memcpy (frame->data + (gsize) y * W * 3,
            world->data + ((gsize) (y + i) * world->width + 2 * i) * 3, W * 3 * sizeof (float));
  return frame;
}

static NsSequence *
sequence_on (NsNetwork *net, double weight, gboolean long_term, int iterations, int scales)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) style = ns_test_pattern (56, 56, 3, 1.3, 0.9, 0.4f, 0.2f);
  const NsImage *styles[] = { style };
  g_autoptr (GError) error = NULL;
  NsSequence *seq;

  ns_options_apply_network_defaults (opt, net);
  ns_options_set_iterations (opt, iterations);
  ns_options_set_scales (opt, scales);
  ns_options_set_threads (opt, 1);
  seq = ns_sequence_new (net, opt, styles, NULL, 1, &error);
  g_assert_no_error (error);
  ns_sequence_set_temporal_weight (seq, weight);
  ns_sequence_set_long_term (seq, long_term);
  return seq;
}

static NsSequence *
sequence (double weight, gboolean long_term, int iterations)
{
  g_autoptr (NsNetwork) net = ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);

  return sequence_on (net, weight, long_term, iterations, 1);
}

/* Lai et al.'s warping error of consecutive results: mean over the reliable pixels of
 * (O_t − warp (O_{t−1}))², with the flow of the original frames. */
static double
warping_error (NsImage **frames, NsImage **out, int n)
{
  double sum = 0.0, count = 0.0;

  for (int t = 1; t < n; t++)
    {
      g_autoptr (NsTensor) fwd = ns_flow_compute (frames[t - 1], frames[t], NS_FLOW_MEDIUM, NULL);
      g_autoptr (NsTensor) bwd = ns_flow_compute (frames[t], frames[t - 1], NS_FLOW_MEDIUM, NULL);
      g_autoptr (NsTensor) c = ns_flow_reliability (fwd, bwd);
      g_autoptr (NsTensor) prev = ns_color_image_to_tensor (out[t - 1]);
      g_autoptr (NsTensor) warped = ns_flow_warp (prev, bwd);
      g_autoptr (NsTensor) cur = ns_color_image_to_tensor (out[t]);
      gsize np = (gsize) W * H;

      for (gsize i = 0; i < np; i++)
        {
          if (c->data[i] < 0.5f)
            continue;
          for (int ch = 0; ch < 3; ch++)
            {
              double d = cur->data[ch * np + i] - warped->data[ch * np + i];

              sum += d * d;
            }
          count += 3;
        }
    }
  g_assert_cmpfloat (count, >, 0.5 * 3 * W * H * (n - 1));
  return sum / count;
}

static void
run_all (NsSequence *seq, NsImage **frames, NsImage **out)
{
  for (int i = 0; i < N_FRAMES; i++)
    {
      g_autoptr (GError) error = NULL;

      out[i] = ns_sequence_next (seq, frames[i], &error);
      g_assert_no_error (error);
      g_assert_cmpint (ns_sequence_get_position (seq), ==, i + 1);
    }
}

static void
free_all (NsImage **images)
{
  for (int i = 0; i < N_FRAMES; i++)
    g_clear_pointer (&images[i], ns_image_free);
}

/* The temporal term makes consecutive results agree where the flow says the same thing is
 * seen: the warping error falls well below independent frames'.  These synthetic patterns'
 * losses are far larger than a photograph's, so they take a stronger γ than the default,
 * which tools/run eval-frames chooses on photographs (docs/animation.md). */
#define STRONG_WEIGHT 2e4

static void
test_consistent (void)
{
  NsImage *frames[N_FRAMES], *alone[N_FRAMES], *held[N_FRAMES], *held_long[N_FRAMES];
  g_autoptr (NsSequence) independent = sequence (0.0, FALSE, 30);
  g_autoptr (NsSequence) temporal = sequence (STRONG_WEIGHT, FALSE, 30);
  g_autoptr (NsSequence) long_term = sequence (STRONG_WEIGHT, TRUE, 30);
  double e_alone, e_held, e_long, e_input;

  for (int i = 0; i < N_FRAMES; i++)
    frames[i] = frame_at (i);
  run_all (independent, frames, alone);
  run_all (temporal, frames, held);
  run_all (long_term, frames, held_long);
  e_input = warping_error (frames, frames, N_FRAMES);
  e_alone = warping_error (frames, alone, N_FRAMES);
  e_held = warping_error (frames, held, N_FRAMES);
  e_long = warping_error (frames, held_long, N_FRAMES);
  g_test_message ("warping error: input %.3g, independent %.3g, temporal %.3g, long-term %.3g",
                  e_input, e_alone, e_held, e_long);
  g_assert_cmpfloat (e_held, <, 0.5 * e_alone);
  g_assert_cmpfloat (e_long, <, 0.5 * e_alone);
  free_all (frames);
  free_all (alone);
  free_all (held);
  free_all (held_long);
}

static void
count_scales (const NsSequenceProgress *p, gpointer data)
{
  *(int *) data = MAX (*(int *) data, p->run->n_scales);
}

/* The same with VGG-19's topology (random weights) and two coarse-to-fine sizes, whose
 * smaller one gets the terms resized. */
static void
test_consistent_vgg19_sizes (void)
{
  NsImage *frames[N_FRAMES], *alone[N_FRAMES], *held[N_FRAMES];
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("random-vgg19", NULL);
  g_autoptr (NsSequence) independent = sequence_on (net, 0.0, FALSE, 10, 2);
  g_autoptr (NsSequence) temporal = sequence_on (net, STRONG_WEIGHT, FALSE, 10, 2);
  double e_alone, e_held;
  int n_scales = 0;

  for (int i = 0; i < N_FRAMES; i++)
    frames[i] = frame_at (i);
  ns_sequence_set_progress (temporal, count_scales, &n_scales);
  run_all (independent, frames, alone);
  run_all (temporal, frames, held);
  e_alone = warping_error (frames, alone, N_FRAMES);
  e_held = warping_error (frames, held, N_FRAMES);
  g_test_message ("warping error: independent %.3g, temporal %.3g", e_alone, e_held);
  g_assert_cmpint (n_scales, ==, 2);
  g_assert_cmpfloat (e_held, <, 0.5 * e_alone);
  free_all (frames);
  free_all (alone);
  free_all (held);
}

/* The first frame has nothing to be held to: it is a plain run of the stylizer. */
static void
test_first_frame_plain (void)
{
  g_autoptr (NsSequence) seq = sequence (NS_TEMPORAL_WEIGHT_DEFAULT, TRUE, 12);
  g_autoptr (NsNetwork) net = ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) style = ns_test_pattern (56, 56, 3, 1.3, 0.9, 0.4f, 0.2f);
  g_autoptr (NsImage) frame = frame_at (0);
  const NsImage *styles[] = { style };
  g_autoptr (NsStylizer) st = NULL;
  g_autoptr (NsImage) a = NULL;
  g_autoptr (NsImage) b = NULL;

  ns_options_set_iterations (opt, 12);
  ns_options_set_threads (opt, 1);
  st = ns_stylizer_new (net, opt);
  a = ns_sequence_next (seq, frame, NULL);
  b = ns_stylizer_run (st, frame, styles, NULL, 1, NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpmem (a->data, (gsize) W * H * 3 * sizeof (float),
                   b->data, (gsize) W * H * 3 * sizeof (float));
}

/* Frames 1–2 given as results of an earlier run, then frame 3 stylized: the same frame 3 as
 * the run that stylized all three. */
static void
test_resume (void)
{
  NsImage *frames[N_FRAMES], *all[N_FRAMES] = { NULL };
  g_autoptr (NsSequence) whole = sequence (NS_TEMPORAL_WEIGHT_DEFAULT, TRUE, 10);
  g_autoptr (NsSequence) resumed = sequence (NS_TEMPORAL_WEIGHT_DEFAULT, TRUE, 10);
  g_autoptr (NsImage) third = NULL;
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < N_FRAMES; i++)
    frames[i] = frame_at (i);
  run_all (whole, frames, all);
  for (int i = 0; i < N_FRAMES - 1; i++)
    {
      g_assert_true (ns_sequence_resume (resumed, frames[i], all[i], &error));
      g_assert_no_error (error);
    }
  g_assert_cmpint (ns_sequence_get_position (resumed), ==, N_FRAMES - 1);
  third = ns_sequence_next (resumed, frames[N_FRAMES - 1], &error);
  g_assert_no_error (error);
  g_assert_cmpmem (third->data, (gsize) W * H * 3 * sizeof (float),
                   all[N_FRAMES - 1]->data, (gsize) W * H * 3 * sizeof (float));
  free_all (frames);
  free_all (all);
}

typedef struct
{
  NsSequence *seq;
  int         calls, last_frame, n_frames, cancel_frame, eta_known;
} Seen;

static void
on_progress (const NsSequenceProgress *p, gpointer data)
{
  Seen *s = data;

  g_assert_nonnull (p->run);
  g_assert_cmpint (p->frame, >=, s->last_frame);
  g_assert_cmpint (p->n_frames, ==, s->n_frames);
  g_assert_cmpfloat (p->elapsed, >=, 0.0);
  s->last_frame = p->frame;
  s->calls++;
  s->eta_known += p->eta >= 0.0;
  if (p->frame == s->cancel_frame && p->run->iteration == 2)
    ns_sequence_cancel (s->seq);
}

/* Progress names the frame and the sequence's length; a cancel during frame 2 fails it with
 * NS_ERROR_CANCELLED and leaves the sequence at frame 1, so frame 2 can be given again. */
static void
test_progress_and_cancel (void)
{
  g_autoptr (NsSequence) seq = sequence (NS_TEMPORAL_WEIGHT_DEFAULT, FALSE, 6);
  g_autoptr (NsImage) f0 = frame_at (0);
  g_autoptr (NsImage) f1 = frame_at (1);
  g_autoptr (NsImage) r0 = NULL;
  g_autoptr (NsImage) r1 = NULL;
  g_autoptr (GError) error = NULL;
  Seen seen = { seq, 0, 0, 5, 2, 0 };

  ns_sequence_set_n_frames (seq, 5);
  ns_sequence_set_progress (seq, on_progress, &seen);
  r0 = ns_sequence_next (seq, f0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (seen.last_frame, ==, 1);
  g_assert_cmpint (seen.calls, ==, 6);
  g_assert_null (ns_sequence_next (seq, f1, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (ns_sequence_get_position (seq), ==, 1);
  seen.cancel_frame = 0;
  r1 = ns_sequence_next (seq, f1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (seen.last_frame, ==, 2);
  g_assert_cmpint (ns_sequence_get_position (seq), ==, 2);
  g_assert_cmpint (seen.eta_known, >, 0);
}

/* What a frame's runs reported: the sizes, their planned iterations and the callbacks. */
typedef struct
{
  int sizes_seen;                /* bit k: size k + 1 reported */
  int planned;                   /* run->iterations */
  int scale_iterations[8];       /* run->scale_iterations per size */
  int calls;
} FrameRun;

/* The runs of a sequence's frames, and its ETA on the first frame against the frames to
 * come at the later frames' share of this frame's expected time. */
typedef struct
{
  FrameRun runs[3];
  double   later_ratio;          /* 0: not checked */
  int      etas_checked;
} Recorded;

static void
record_run (const NsSequenceProgress *p, gpointer data)
{
  Recorded *rec = data;
  FrameRun *r = &rec->runs[p->frame - 1];

  if (p->frame == 1 && rec->later_ratio > 0.0 && p->run->eta >= 0.0)
    {
      double expected = p->run->eta + (p->n_frames - 1) * (p->run->elapsed + p->run->eta)
                                      * rec->later_ratio;

      g_assert_cmpfloat_with_epsilon (p->eta, expected, 1e-9 * expected + 1e-12);
      rec->etas_checked++;
    }

  r->sizes_seen |= 1 << (p->run->scale - 1);
  r->planned = p->run->iterations;
  r->scale_iterations[p->run->scale - 1] = p->run->scale_iterations;
  r->calls++;
}

/* The plan of a plain run of the first frame with these options (timed or not). */
static NsPlan *
plan_of (NsNetwork *net, int iterations, int scales, gboolean timed)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) style = ns_test_pattern (56, 56, 3, 1.3, 0.9, 0.4f, 0.2f);
  g_autoptr (NsImage) frame = frame_at (0);
  const NsImage *styles[] = { style };
  g_autoptr (NsStylizer) st = NULL;
  NsPlan *plan;

  ns_options_apply_network_defaults (opt, net);
  ns_options_set_iterations (opt, iterations);
  ns_options_set_scales (opt, scales);
  st = ns_stylizer_new (net, opt);
  plan = ns_stylizer_plan (st, frame, styles, 1, timed, NULL);
  g_assert_nonnull (plan);
  return plan;
}

/* The iterations of a plain run's sizes with these options (coarse to fine). */
static void
planned_iterations (NsNetwork *net, int iterations, int scales, int *out)
{
  g_autoptr (NsPlan) plan = plan_of (net, iterations, scales, FALSE);

  g_assert_cmpint (ns_plan_get_n_sizes (plan), ==, scales);
  for (int k = 0; k < scales; k++)
    out[k] = ns_plan_get_size (plan, k)->iterations;
}

/* A later frame's expected time over the first's, by a timed plan of these options. */
static double
later_ratio (NsNetwork *net, int iterations, int scales, double share, gboolean coarse)
{
  g_autoptr (NsPlan) plan = plan_of (net, iterations, scales, TRUE);

  return ns_plan_get_later_seconds (plan, share, coarse) / ns_plan_get_seconds (plan);
}

/* The frames after the first run the share of the iterations they are given, at the last
 * size only or at every size; the first frame, and every frame without temporal weight,
 * runs the whole plan.  On the first frame the sequence's ETA counts the frames after it
 * at the later frames' share of its expected time. */
static void
test_later_iterations (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("random-vgg19", NULL);
  g_autoptr (NsSequence) held = sequence_on (net, NS_TEMPORAL_WEIGHT_DEFAULT, FALSE, 12, 2);
  g_autoptr (NsSequence) alone = sequence_on (net, 0.0, FALSE, 12, 2);
  Recorded rec = { { { 0 } } }, alone_rec = { { { 0 } } };
  FrameRun *runs = rec.runs, *alone_runs = alone_rec.runs;
  int it[2], last_quarter, half0, half1;

  planned_iterations (net, 12, 2, it);
  rec.later_ratio = later_ratio (net, 12, 2, 0.25, FALSE);
  g_assert_cmpfloat (rec.later_ratio, <, 1.0);
  g_assert_cmpint (it[1], >, 1);
  last_quarter = MAX (1, (int) lround (0.25 * it[1]));
  half0 = (int) lround (0.5 * it[0]);
  half1 = (int) lround (0.5 * it[1]);
  g_assert_cmpint (last_quarter, <, it[1]);

  ns_sequence_set_n_frames (held, 3);
  ns_sequence_set_progress (held, record_run, &rec);
  ns_sequence_set_progress (alone, record_run, &alone_rec);
  ns_sequence_set_later_frames (held, 0.25, FALSE);
  ns_sequence_set_later_frames (alone, 0.25, FALSE);
  g_assert_cmpfloat (ns_sequence_get_later_iterations (held), ==, 0.25);
  g_assert_false (ns_sequence_get_later_coarse_sizes (held));
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (NsImage) frame = frame_at (i);
      g_autoptr (NsImage) a = NULL;
      g_autoptr (NsImage) b = NULL;

      /* The third frame at half the iterations of every size. */
      if (i == 2)
        ns_sequence_set_later_frames (held, 0.5, TRUE);
      a = ns_sequence_next (held, frame, NULL);
      b = ns_sequence_next (alone, frame, NULL);
      g_assert_nonnull (a);
      g_assert_nonnull (b);
    }

  g_assert_cmpint (rec.etas_checked, >, 0);
  g_assert_cmpint (runs[0].sizes_seen, ==, 3);
  g_assert_cmpint (runs[0].planned, ==, it[0] + it[1]);
  g_assert_cmpint (runs[0].calls, ==, it[0] + it[1]);

  g_assert_cmpint (runs[1].sizes_seen, ==, 2);
  g_assert_cmpint (runs[1].planned, ==, last_quarter);
  g_assert_cmpint (runs[1].scale_iterations[1], ==, last_quarter);
  g_assert_cmpint (runs[1].calls, ==, last_quarter);

  g_assert_cmpint (runs[2].sizes_seen, ==, 3);
  g_assert_cmpint (runs[2].planned, ==, half0 + half1);
  g_assert_cmpint (runs[2].scale_iterations[0], ==, half0);
  g_assert_cmpint (runs[2].scale_iterations[1], ==, half1);
  g_assert_cmpint (runs[2].calls, ==, half0 + half1);

  for (int i = 0; i < 3; i++)
    {
      g_assert_cmpint (alone_runs[i].sizes_seen, ==, 3);
      g_assert_cmpint (alone_runs[i].calls, ==, it[0] + it[1]);
    }
}

/* A later frame's expected time: the whole plan at share 1 with every size; less without
 * the coarse size; linear in the last size's iterations (rounded as the run rounds them);
 * a sequence is the first frame and n − 1 later ones; unknown when the plan is not timed. */
static void
test_later_estimate (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("random-vgg19", NULL);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) style = ns_test_pattern (56, 56, 3, 1.3, 0.9, 0.4f, 0.2f);
  g_autoptr (NsImage) frame = frame_at (0);
  const NsImage *styles[] = { style };
  g_autoptr (NsStylizer) st = NULL;
  g_autoptr (NsPlan) plan = NULL;
  g_autoptr (NsPlan) untimed = NULL;
  double full, l1, l2, l4, every, per1, per2;
  int it[2];

  ns_options_apply_network_defaults (opt, net);
  ns_options_set_iterations (opt, 40);
  ns_options_set_scales (opt, 2);
  st = ns_stylizer_new (net, opt);
  plan = ns_stylizer_plan (st, frame, styles, 1, TRUE, NULL);
  untimed = ns_stylizer_plan (st, frame, styles, 1, FALSE, NULL);
  planned_iterations (net, 40, 2, it);
  full = ns_plan_get_seconds (plan);
  g_assert_cmpfloat (full, >, 0.0);

  every = ns_plan_get_later_seconds (plan, 1.0, TRUE);
  g_assert_cmpfloat_with_epsilon (every, full, 1e-12 * full);
  l1 = ns_plan_get_later_seconds (plan, 1.0, FALSE);
  l2 = ns_plan_get_later_seconds (plan, 0.5, FALSE);
  l4 = ns_plan_get_later_seconds (plan, 0.25, FALSE);
  g_assert_cmpfloat (l1, <, full);
  g_assert_cmpfloat (l2, <, l1);
  g_assert_cmpfloat (l4, <, l2);
  g_assert_cmpfloat (l4, >, 0.0);
  /* The same cost per iteration of the last size between the shares. */
  per1 = (l1 - l2) / (it[1] - lround (0.5 * it[1]));
  per2 = (l2 - l4) / (lround (0.5 * it[1]) - lround (0.25 * it[1]));
  g_assert_cmpfloat_with_epsilon (per1, per2, 1e-9 * per1);
  /* Half the iterations of every size: between the last size alone and the whole plan. */
  g_assert_cmpfloat (ns_plan_get_later_seconds (plan, 0.5, TRUE), <, full);
  g_assert_cmpfloat (ns_plan_get_later_seconds (plan, 0.5, TRUE), >, l2);

  g_assert_cmpfloat_with_epsilon (ns_plan_get_sequence_seconds (plan, 5, 0.25, FALSE),
                                  full + 4 * l4, 1e-12 * full);
  g_assert_cmpfloat_with_epsilon (ns_plan_get_sequence_seconds (plan, 1, 0.25, FALSE), full,
                                  1e-12 * full);
  g_assert_cmpfloat (ns_plan_get_later_seconds (untimed, 0.25, FALSE), <, 0.0);
  g_assert_cmpfloat (ns_plan_get_sequence_seconds (untimed, 5, 0.25, FALSE), <, 0.0);
}

/* Frames of another size, and results that do not fit their frames, are refused with the
 * sizes named; the sequence stays where it was. */
static void
test_bad_frames (void)
{
  g_autoptr (NsSequence) seq = sequence (NS_TEMPORAL_WEIGHT_DEFAULT, FALSE, 3);
  g_autoptr (NsImage) f0 = frame_at (0);
  g_autoptr (NsImage) other = ns_test_pattern (W + 2, H, 3, 0.2, 0.1, 0.3f, 0.0f);
  g_autoptr (NsImage) r0 = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_false (ns_sequence_resume (seq, f0, other, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (ns_sequence_get_position (seq), ==, 0);
  r0 = ns_sequence_next (seq, f0, &error);
  g_assert_no_error (error);
  g_assert_null (ns_sequence_next (seq, other, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "50×40"));
  g_assert_nonnull (strstr (error->message, "48×40"));
  g_assert_cmpint (ns_sequence_get_position (seq), ==, 1);
}

/* Without OpenCV the engine says what to install. */
static void
test_unsupported (void)
{
  g_autoptr (NsNetwork) net = ns_network_load (NS_NETWORK_EMBEDDED, NULL, NULL);
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsImage) style = ns_test_pattern (56, 56, 3, 1.3, 0.9, 0.4f, 0.2f);
  const NsImage *styles[] = { style };
  g_autoptr (GError) error = NULL;

  g_assert_null (ns_sequence_new (net, opt, styles, NULL, 1, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "libopencv-video-dev"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (! ns_sequence_available ())
    {
      g_test_add_func ("/sequence/unsupported", test_unsupported);
      return g_test_run ();
    }
  g_test_add_func ("/sequence/consistent", test_consistent);
  g_test_add_func ("/sequence/consistent-vgg19-sizes", test_consistent_vgg19_sizes);
  g_test_add_func ("/sequence/first-frame-plain", test_first_frame_plain);
  g_test_add_func ("/sequence/resume", test_resume);
  g_test_add_func ("/sequence/progress-and-cancel", test_progress_and_cancel);
  g_test_add_func ("/sequence/bad-frames", test_bad_frames);
  g_test_add_func ("/sequence/later-iterations", test_later_iterations);
  g_test_add_func ("/sequence/later-estimate", test_later_estimate);
  return g_test_run ();
}
