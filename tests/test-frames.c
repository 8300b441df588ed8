/* test-frames.c — the warping error of tools/frames.c (tools/run eval-frames) on sequences
 * whose flicker is known: none (still frames, a pan), independent noise per frame, and a
 * brightness that alternates from frame to frame; and the streaks measure on noise with and
 * without thin vertical lines. */
#include "frames.h"
#include "ns-internal.h"
#include "testutil.h"

#define N 8
#define W 160
#define H 90

/* Random values on a 40 × 30 grid enlarged to 400 × 300: blobs without the repeats in
 * which a flow could lose its way. */
static NsImage *
photo_new (void)
{
  g_autoptr (NsImage) small = ns_image_new (40, 30, 3);

  ns_test_fill (small->data, (gsize) 40 * 30 * 3, 16, 0.1f, 0.9f);
  return ns_image_resize (small, 400, 300);
}

static NsImage **
pan (void)
{
  g_autoptr (NsImage) photo = photo_new ();
  EvCamera from = { 0.45, 0.5, 0.5, 0 }, to = { 0.52, 0.48, 0.5, 0 };

  return ev_sequence_render (photo, &from, &to, NULL, NULL, N, W, H);
}

static gboolean
no_flow (void)
{
  if (ns_flow_available ())
    return FALSE;
  g_test_skip ("the engine was built without OpenCV's optical flow");
  return TRUE;
}

static void
test_still (void)
{
  g_autoptr (NsImage) photo = photo_new ();
  EvCamera cam = { 0.5, 0.5, 0.5, 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (EvFlows) flows = NULL;
  NsImage **frames;

  if (no_flow ())
    return;
  frames = ev_sequence_render (photo, &cam, &cam, NULL, NULL, N, W, H);
  flows = ev_flows_new (frames, N, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (ev_flows_coverage (flows), >, 0.99);
  g_assert_cmpfloat (ev_warp_error (flows, frames), <, 1e-6);
  ev_sequence_free (frames, N);
}

static void
test_flicker (void)
{
  NsImage **frames, **noisy, **blink;
  g_autoptr (GError) error = NULL;
  g_autoptr (EvFlows) f1 = NULL, f5 = NULL;
  double e, e5, en, eb;

  if (no_flow ())
    return;
  frames = pan ();
  noisy = ev_sequence_add_noise (frames, N, 0.05, 1);
  blink = g_new0 (NsImage *, N);
  f1 = ev_flows_new (frames, N, 1, &error);
  g_assert_no_error (error);
  f5 = ev_flows_new (frames, N, 5, &error);
  g_assert_no_error (error);
  for (int t = 0; t < N; t++)
    {
      gsize len = (gsize) W * H * 3;

      blink[t] = ns_image_copy (frames[t]);
      for (gsize i = 0; i < len; i++)
        blink[t]->data[i] += t % 2 ? 0.05f : -0.05f;
    }
  e = ev_warp_error (f1, frames);
  e5 = ev_warp_error (f5, frames);
  en = ev_warp_error (f1, noisy);
  eb = ev_warp_error (f1, blink);
  g_test_message ("pan: coverage %.3f, E %.6f (5 apart %.6f); with noise %.6f; blinking %.6f",
                  ev_flows_coverage (f1), e, e5, en, eb);
  g_assert_cmpfloat (ev_flows_coverage (f1), >, 0.9);
  g_assert_cmpfloat (e, <, 1e-3);
  g_assert_cmpfloat (e5, <, 1e-3);
  /* Noise of σ per value: about 2σ² per channel, less what the bilinear warp averages away. */
  g_assert_cmpfloat (en, >, 10 * e);
  g_assert_cmpfloat (en, >, 3 * 0.05 * 0.05);
  g_assert_cmpfloat (en, <, 3 * 2 * 0.05 * 0.05);
  /* A step of 0.1 in every channel: 3 × 0.1² on every pixel. */
  g_assert_cmpfloat (fabs (eb - 0.03), <, 0.003 + e);
  ev_sequence_free (frames, N);
  ev_sequence_free (noisy, N);
  ev_sequence_free (blink, N);
}

/* Streaks: detail without a direction (noise) shares 1/EV_STREAK_ROWS of its energy with its
 * block of rows, thin vertical lines all of it; horizontal detail is measured apart, and
 * frame 0 is left out. */
static void
test_streaks (void)
{
  NsImage *frames[N];
  float lines[W];
  double v, h, v_lines, h_lines, v_first;

  for (int t = 0; t < N; t++)
    {
      frames[t] = ns_image_new (W, H, 3);
      ns_test_fill (frames[t]->data, (gsize) W * H * 3, 100 + t, 0.0f, 1.0f);
    }
  v = ev_streaks (frames, N, &h);
  ns_test_fill (lines, W, 7, -2.0f, 2.0f);
  for (int t = 1; t < N; t++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        for (int c = 0; c < 3; c++)
          frames[t]->data[((gsize) y * W + x) * 3 + c] += lines[x];
  v_lines = ev_streaks (frames, N, &h_lines);
  /* The same lines in frame 0 alone (the others' taken off again). */
  for (int t = 0; t < N; t++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        for (int c = 0; c < 3; c++)
          frames[t]->data[((gsize) y * W + x) * 3 + c] += t ? -lines[x] : lines[x];
  v_first = ev_streaks (frames, N, NULL);
  g_test_message ("streaks: noise %.4f / %.4f, with vertical lines %.4f / %.4f, lines in frame "
                  "0 only %.4f (1/%d = %.4f)", v, h, v_lines, h_lines, v_first,
                  EV_STREAK_ROWS, 1.0 / EV_STREAK_ROWS);
  g_assert_cmpfloat (fabs (v - 1.0 / EV_STREAK_ROWS), <, 0.02);
  g_assert_cmpfloat (fabs (h - 1.0 / EV_STREAK_ROWS), <, 0.02);
  g_assert_cmpfloat (v_lines, >, 0.9);
  g_assert_cmpfloat (fabs (h_lines - h), <, 1e-3);
  g_assert_cmpfloat (fabs (v_first - v), <, 1e-3);
  for (int t = 0; t < N; t++)
    ns_image_free (frames[t]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/frames/still", test_still);
  g_test_add_func ("/frames/flicker", test_flicker);
  g_test_add_func ("/frames/streaks", test_streaks);
  return g_test_run ();
}
