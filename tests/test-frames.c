/* test-frames.c — the warping error of tools/frames.c (tools/run eval-frames) on sequences
 * whose flicker is known: none (still frames, a pan), independent noise per frame, and a
 * brightness that alternates from frame to frame; and the streaks measure on noise with and
 * without thin vertical lines; and the oracle (the first frame moved by the known motion). */
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

/* Mean absolute difference of a and b over the pixels at least `margin` from the border,
 * leaving out those that a disc of radius r (pixels) centred at (d0x, d0y) in the first
 * frame and at (dx, dy) now covers in only one of the two (r = 0: no disc). */
static double
interior_difference (const NsImage *a, const NsImage *b, int margin, double r, double d0x,
                     double d0y, double dx, double dy)
{
  double sum = 0;
  gsize k = 0;

  for (int y = margin; y < H - margin; y++)
    for (int x = margin; x < W - margin; x++)
      {
        gboolean then = hypot (x - d0x, y - d0y) < r + 1, now = hypot (x - dx, y - dy) < r + 1;

        if (r > 0 && (then || now) && hypot (x - dx, y - dy) > r - 1)
          continue;
        for (int c = 0; c < 3; c++, k++)
          sum += fabs (a->data[((gsize) y * W + x) * 3 + c]
                       - b->data[((gsize) y * W + x) * 3 + c]);
      }
  return sum / k;
}

/* The oracle: the first frame moved by the known motion (a turn, a zoom and a pan; a disc
 * crossing a still view) lands where the generator put the same content; and a first frame
 * with noise moved so has a warping error far below the same noise drawn anew in every
 * frame. */
static void
test_oracle (void)
{
  g_autoptr (NsImage) photo = photo_new ();
  g_autoptr (NsImage) other = photo_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (EvFlows) f1 = NULL;
  EvCamera from = { 0.45, 0.5, 0.5, -4 }, to = { 0.5, 0.48, 0.42, 4 };
  EvOverlay disc = { 0.3, 0.5, 0.7, 0.5, 0.2 };
  NsImage **frames, **oracle, **noisy, **noisy_oracle;
  double e, en, eo;

  /* The disc shows another picture: the blobs mirrored. */
  for (int y = 0; y < other->height; y++)
    for (int x = 0; x < other->width; x++)
      for (int c = 0; c < 3; c++)
        other->data[((gsize) y * other->width + x) * 3 + c] =
          photo->data[((gsize) y * photo->width + photo->width - 1 - x) * 3 + 2 - c];
  for (int with_disc = 0; with_disc < 2; with_disc++)
    {
      const EvCamera *last = with_disc ? &from : &to;
      const EvOverlay *o = with_disc ? &disc : NULL;

      frames = ev_sequence_render (photo, &from, last, other, o, N, W, H);
      oracle = ev_sequence_oracle (frames[0], photo->width, photo->height, &from, last, o, N);
      for (int t = 0; t < N; t++)
        {
          double u = (double) t / (N - 1), y0 = disc.y0 * (H - 1), r = with_disc ? disc.radius * H : 0;
          double x0 = disc.x0 * (W - 1), xt = (disc.x0 + u * (disc.x1 - disc.x0)) * (W - 1);
          double moved = interior_difference (oracle[t], frames[t], 12, r, x0, y0, xt, y0);
          double still = interior_difference (frames[0], frames[t], 12, r, x0, y0, xt, y0);

          g_test_message ("%s, frame %d: oracle − frame %.4f, first frame − frame %.4f",
                          with_disc ? "disc" : "camera", t, moved, still);
          /* Resampled twice: a little blur, no displacement. */
          g_assert_cmpfloat (moved, <, 0.01);
          if (t > 0)
            g_assert_cmpfloat (moved, <, 0.2 * still);
        }
      ev_sequence_free (oracle, N);
      if (!with_disc)
        ev_sequence_free (frames, N);
    }
  if (no_flow ())
    goto out;
  noisy = ev_sequence_add_noise (frames, N, 0.05, 3);
  noisy_oracle = ev_sequence_oracle (noisy[0], photo->width, photo->height, &from, &from,
                                     &disc, N);
  f1 = ev_flows_new (frames, N, 1, &error);
  g_assert_no_error (error);
  e = ev_warp_error (f1, frames);
  en = ev_warp_error (f1, noisy);
  eo = ev_warp_error (f1, noisy_oracle);
  g_test_message ("E_warp: input %.6f, noise per frame %.6f, noise of frame 1 moved %.6f", e,
                  en, eo);
  g_assert_cmpfloat (eo, <, 0.2 * en);
  ev_sequence_free (noisy, N);
  ev_sequence_free (noisy_oracle, N);
out:
  ev_sequence_free (frames, N);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/frames/still", test_still);
  g_test_add_func ("/frames/flicker", test_flicker);
  g_test_add_func ("/frames/streaks", test_streaks);
  g_test_add_func ("/frames/oracle", test_oracle);
  return g_test_run ();
}
