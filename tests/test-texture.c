/* test-texture.c — the quality harness's descriptor (tools/texture.c): a distance of 0 for
 * identical statistics, small for two crops of one texture and large between different
 * textures, a region's statistics; SSIM and the CIELAB histogram baseline. */
#include <math.h>
#include <string.h>
#include "ns-internal.h"
#include "texture.h"
#include "testutil.h"

/* A w×h crop, at (x0, y0), of an endless procedural texture: `kind` 0 is short dark strokes
 * at about 30° on a warm ground, 1 is soft round blue-green blobs. */
static NsImage *
texture (int kind, int x0, int y0, int w, int h)
{
  NsImage *img = ns_image_new (w, h, 3);
  GRand *r = g_rand_new_with_seed (kind == 0 ? 11 : 12);
  int n = kind == 0 ? 900 : 260;
  int world = 400;

  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      float *p = img->data + 3 * i;

      p[0] = kind == 0 ? 0.85f : 0.30f;
      p[1] = kind == 0 ? 0.70f : 0.55f;
      p[2] = kind == 0 ? 0.45f : 0.60f;
    }
  for (int k = 0; k < n; k++)
    {
      double cx = g_rand_double_range (r, 0, world), cy = g_rand_double_range (r, 0, world);
      double angle = kind == 0 ? 0.52 + g_rand_double_range (r, -0.15, 0.15) : 0.0;
      double len = kind == 0 ? 9.0 : 0.0, rad = kind == 0 ? 1.2 : g_rand_double_range (r, 3, 8);
      double shade = g_rand_double_range (r, 0.3, 0.9);

      for (int y = (int) (cy - 12 - y0); y <= (int) (cy + 12 - y0); y++)
        for (int x = (int) (cx - 12 - x0); x <= (int) (cx + 12 - x0); x++)
          {
            double dx = x + x0 - cx, dy = y + y0 - cy;
            double along = dx * cos (angle) + dy * sin (angle);
            double across = -dx * sin (angle) + dy * cos (angle);
            double d = kind == 0 ? (fabs (along) <= len ? fabs (across) : 99.0)
                                 : sqrt (dx * dx + dy * dy);
            float *p;

            if (x < 0 || y < 0 || x >= w || y >= h || d > rad)
              continue;
            p = img->data + 3 * ((gsize) y * w + x);
            if (kind == 0)
              for (int c = 0; c < 3; c++)
                p[c] *= (float) (1.0 - shade);
            else
              {
                p[0] = (float) (0.1 * shade);
                p[1] = (float) (0.4 + 0.4 * shade);
                p[2] = (float) (0.5 + 0.3 * shade);
              }
          }
    }
  g_rand_free (r);
  return img;
}

static void
test_identical (void)
{
  g_autoptr (NsImage) a = texture (0, 0, 0, 96, 80);
  EvStats s, t;
  double groups[EV_N_GROUPS];

  ev_stats_compute (a, &s);
  ev_stats_compute (a, &t);
  g_assert_cmpfloat (ev_distance (&s, &t, groups), ==, 0.0);
  for (int g = 0; g < EV_N_GROUPS; g++)
    g_assert_cmpfloat (groups[g], ==, 0.0);
}

/* Two overlapping crops of the strokes are close; the strokes and the blobs are not, in
 * texture alone (colour groups excluded) as well as overall. */
static void
test_same_texture_closer (void)
{
  g_autoptr (NsImage) a = texture (0, 0, 0, 160, 128);
  g_autoptr (NsImage) shifted = texture (0, 57, 41, 160, 128);
  g_autoptr (NsImage) other = texture (1, 0, 0, 160, 128);
  EvStats sa, ss, so;
  double g_same[EV_N_GROUPS], g_other[EV_N_GROUPS], t_same = 0, t_other = 0;
  double d_same, d_other;

  ev_stats_compute (a, &sa);
  ev_stats_compute (shifted, &ss);
  ev_stats_compute (other, &so);
  d_same = ev_distance (&sa, &ss, g_same);
  d_other = ev_distance (&sa, &so, g_other);
  for (int g = EV_GROUP_ENERGY; g <= EV_GROUP_SPATIAL; g++)
    {
      t_same += g_same[g] * g_same[g];
      t_other += g_other[g] * g_other[g];
    }
  g_test_message ("shifted crop %.3f, other texture %.3f (texture groups only %.3f vs %.3f)",
                  d_same, d_other, sqrt (t_same), sqrt (t_other));
  g_assert_cmpfloat (d_same, >, 0.0);
  g_assert_cmpfloat (3.0 * d_same, <, d_other);
  g_assert_cmpfloat (2.0 * sqrt (t_same), <, sqrt (t_other));
}

/* Rotating the strokes by 90° leaves the colours alone but moves the oriented energy. */
static void
test_orientation_matters (void)
{
  g_autoptr (NsImage) a = texture (0, 0, 0, 128, 128);
  g_autoptr (NsImage) rot = ns_image_new (128, 128, 3);
  EvStats sa, sr;
  double groups[EV_N_GROUPS];

  for (int y = 0; y < 128; y++)
    for (int x = 0; x < 128; x++)
      memcpy (rot->data + 3 * (y * 128 + x), a->data + 3 * (x * 128 + (127 - y)), 3 * sizeof (float));
  ev_stats_compute (a, &sa);
  ev_stats_compute (rot, &sr);
  ev_distance (&sa, &sr, groups);
  g_test_message ("rotated: energy %.3f colour %.3f", groups[EV_GROUP_ENERGY], groups[EV_GROUP_COLOUR]);
  g_assert_cmpfloat (groups[EV_GROUP_COLOUR], <, 1e-6);
  g_assert_cmpfloat (groups[EV_GROUP_ENERGY], >, 0.2);
}

static void
test_lab_round_trip (void)
{
  GRand *r = g_rand_new_with_seed (3);

  for (int k = 0; k < 500; k++)
    {
      float rgb[3], back[3];
      double lab[3];

      for (int c = 0; c < 3; c++)
        rgb[c] = (float) g_rand_double (r);
      ev_rgb_to_lab (rgb, lab);
      ev_lab_to_rgb (lab, back);
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat (fabs (back[c] - rgb[c]), <, 1e-4);
    }
  g_rand_free (r);
  {
    float white[3] = { 1, 1, 1 };
    double lab[3];

    ev_rgb_to_lab (white, lab);
    g_assert_cmpfloat (fabs (lab[0] - 100.0), <, 1e-3);
    g_assert_cmpfloat (fabs (lab[1]), <, 1e-2);
    g_assert_cmpfloat (fabs (lab[2]), <, 1e-2);
  }
}

/* The baseline takes the style's colour distribution (up to rounding and gamut clipping)
 * and keeps the content's layout. */
static void
test_histogram_baseline (void)
{
  g_autoptr (NsImage) content = texture (0, 0, 0, 120, 90);
  g_autoptr (NsImage) style = texture (1, 0, 0, 100, 110);
  g_autoptr (NsImage) matched = ev_match_histogram_lab (content, style);
  EvStats sm, ss, sc;
  double gm[EV_N_GROUPS], gc[EV_N_GROUPS];

  ev_stats_compute (matched, &sm);
  ev_stats_compute (style, &ss);
  ev_stats_compute (content, &sc);
  ev_distance (&sm, &ss, gm);
  ev_distance (&sc, &ss, gc);
  g_test_message ("colour group: matched %.3f, content %.3f", gm[EV_GROUP_COLOUR], gc[EV_GROUP_COLOUR]);
  g_assert_cmpfloat (gm[EV_GROUP_COLOUR], <, 0.1 * gc[EV_GROUP_COLOUR]);
  g_assert_cmpfloat (ev_ssim_blurred (matched, content), >, 0.3);
}

static void
test_ssim (void)
{
  g_autoptr (NsImage) a = texture (0, 0, 0, 128, 96);
  g_autoptr (NsImage) noisy = ns_image_copy (a);
  g_autoptr (NsImage) other = texture (1, 0, 0, 128, 96);
  double same, fine_noise, different;

  {
    GRand *r = g_rand_new_with_seed (5);

    /* Pixel-scale noise: the blur before SSIM removes most of it. */
    for (gsize i = 0; i < (gsize) 128 * 96 * 3; i++)
      noisy->data[i] = CLAMP (noisy->data[i] + (float) g_rand_double_range (r, -0.1, 0.1), 0.0f, 1.0f);
    g_rand_free (r);
  }
  same = ev_ssim_blurred (a, a);
  fine_noise = ev_ssim_blurred (a, noisy);
  different = ev_ssim_blurred (a, other);
  g_test_message ("SSIM: same %.4f, fine noise %.3f, other image %.3f", same, fine_noise, different);
  g_assert_cmpfloat (fabs (same - 1.0), <, 1e-6);
  g_assert_cmpfloat (fine_noise, >, 0.7);
  g_assert_cmpfloat (different, <, 0.3);
}

/* A region's statistics (ev_stats_compute_masked): the strokes on the left and the blobs on
 * the right of one image; the left half's mask is near the strokes' own statistics and far
 * from the blobs', and a mask of ones is the unmasked statistics; the masked SSIM of an
 * image half replaced by another counts that half alone. */
static void
test_masked (void)
{
  int w = 256, h = 128;
  g_autoptr (NsImage) strokes = texture (0, 0, 0, w, h);
  g_autoptr (NsImage) blobs = texture (1, 0, 0, w, h);
  g_autoptr (NsImage) both = ns_image_copy (strokes);
  g_autoptr (NsImage) left = ns_image_new (w, h, 1);
  g_autoptr (NsImage) right = ns_image_new (w, h, 1);
  g_autoptr (NsImage) ones = ns_image_new (w, h, 1);
  EvStats s_strokes, s_blobs, s_left, s_all, s_ones;
  double near, far, ssim_left, ssim_right;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gsize i = (gsize) y * w + x;

        if (x >= w / 2)
          memcpy (both->data + 3 * i, blobs->data + 3 * i, 3 * sizeof (float));
        left->data[i] = x < w / 2 - 16 ? 1.0f : 0.0f;
        right->data[i] = x >= w / 2 + 16 ? 1.0f : 0.0f;
        ones->data[i] = 1.0f;
      }
  ev_stats_compute (strokes, &s_strokes);
  ev_stats_compute (blobs, &s_blobs);
  ev_stats_compute_masked (both, left, &s_left);
  near = ev_distance (&s_left, &s_strokes, NULL);
  far = ev_distance (&s_left, &s_blobs, NULL);
  ev_stats_compute (both, &s_all);
  ev_stats_compute_masked (both, ones, &s_ones);
  ssim_left = ev_ssim_blurred_masked (both, strokes, left);
  ssim_right = ev_ssim_blurred_masked (both, strokes, right);
  g_test_message ("left half: %.3f to the strokes, %.3f to the blobs; SSIM to the strokes "
                  "left %.3f, right %.3f", near, far, ssim_left, ssim_right);
  g_assert_cmpfloat (3.0 * near, <, far);
  g_assert_cmpfloat (ev_distance (&s_ones, &s_all, NULL), <, 1e-9);
  g_assert_cmpfloat (ssim_left, >, 0.99);
  g_assert_cmpfloat (ssim_right, <, 0.5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/texture/identical", test_identical);
  g_test_add_func ("/texture/same-texture-closer", test_same_texture_closer);
  g_test_add_func ("/texture/orientation", test_orientation_matters);
  g_test_add_func ("/texture/lab-round-trip", test_lab_round_trip);
  g_test_add_func ("/texture/histogram-baseline", test_histogram_baseline);
  g_test_add_func ("/texture/ssim", test_ssim);
  g_test_add_func ("/texture/masked", test_masked);
  return g_test_run ();
}
