/* test-image.c — NsImage allocation, copying, resampling and grey → RGB.  Expected values
 * come from formulas written out here (block means, exact area weights, linear
 * interpolation between pixel centres). */
#include <string.h>

#include "neural-style.h"
#include "testutil.h"

static NsImage *
random_image (int w, int h, int ch, guint32 seed)
{
  NsImage *img = ns_image_new (w, h, ch);
  ns_test_fill (img->data, (gsize) w * h * ch, seed, 0.0f, 1.0f);
  return img;
}

static float
px (const NsImage *img, int x, int y, int c)
{
  return img->data[((gsize) y * img->width + x) * img->channels + c];
}

static void
test_new_copy_free (void)
{
  g_autoptr (NsImage) img = ns_image_new (7, 5, 3);
  g_autoptr (NsImage) copy = NULL;

  g_assert_nonnull (img);
  g_assert_cmpint (img->width, ==, 7);
  g_assert_cmpint (img->height, ==, 5);
  g_assert_cmpint (img->channels, ==, 3);
  for (int i = 0; i < 105; i++)
    g_assert_cmpfloat (img->data[i], ==, 0.0f);

  ns_test_fill (img->data, 105, 1, 0.0f, 1.0f);
  copy = ns_image_copy (img);
  g_assert_true (copy->data != img->data);
  g_assert_cmpint (copy->width, ==, 7);
  g_assert_cmpint (copy->height, ==, 5);
  g_assert_cmpint (copy->channels, ==, 3);
  g_assert_cmpmem (copy->data, 105 * sizeof (float), img->data, 105 * sizeof (float));
  copy->data[0] = 5.0f;
  g_assert_cmpfloat (img->data[0], !=, 5.0f);

  ns_image_free (NULL);   /* allowed, like g_free */
}

/* Programmer errors give a critical and NULL, not a crash.  Run in a subprocess with
 * criticals made non-fatal so that the NULL return itself is checked. */
static void
test_invalid_sizes (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr (NsImage) img = ns_image_new (4, 4, 3);

      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      g_assert_null (ns_image_new (0, 5, 3));
      g_assert_null (ns_image_new (5, -1, 3));
      g_assert_null (ns_image_new (5, 5, 2));
      g_assert_null (ns_image_resize (img, 0, 3));
      g_assert_null (ns_image_resize (img, 3, -2));
      g_assert_null (ns_image_resize_longest (img, 0));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*CRITICAL*");
}

static void
test_constant_stays_constant (void)
{
  const int sizes[][2] = {
    { 1, 1 }, { 2, 2 }, { 3, 7 }, { 10, 10 }, { 13, 4 }, { 31, 17 }, { 64, 1 }, { 1, 40 },
  };

  for (int ch = 1; ch <= 3; ch += 2)
    for (guint a = 0; a < G_N_ELEMENTS (sizes); a++)
      for (guint b = 0; b < G_N_ELEMENTS (sizes); b++)
        {
          g_autoptr (NsImage) img = ns_image_new (sizes[a][0], sizes[a][1], ch);
          g_autoptr (NsImage) out = NULL;
          gsize n = (gsize) sizes[a][0] * sizes[a][1] * ch;

          for (gsize i = 0; i < n; i++)
            img->data[i] = ch == 1 ? 0.7f : (i % 3 == 0 ? 0.1f : i % 3 == 1 ? 0.5f : 0.9f);
          out = ns_image_resize (img, sizes[b][0], sizes[b][1]);
          g_assert_cmpint (out->width, ==, sizes[b][0]);
          g_assert_cmpint (out->height, ==, sizes[b][1]);
          g_assert_cmpint (out->channels, ==, ch);
          for (int y = 0; y < out->height; y++)
            for (int x = 0; x < out->width; x++)
              for (int c = 0; c < ch; c++)
                {
                  float want = ch == 1 ? 0.7f : c == 0 ? 0.1f : c == 1 ? 0.5f : 0.9f;
                  g_assert_cmpfloat (fabs (px (out, x, y, c) - want), <, 1e-6);
                }
        }
}

static void
test_area_block_means (void)
{
  g_autoptr (NsImage) img = random_image (4, 4, 3, 2);
  g_autoptr (NsImage) out = ns_image_resize (img, 2, 2);

  for (int by = 0; by < 2; by++)
    for (int bx = 0; bx < 2; bx++)
      for (int c = 0; c < 3; c++)
        {
          double want = (px (img, 2 * bx, 2 * by, c) + px (img, 2 * bx + 1, 2 * by, c)
                         + px (img, 2 * bx, 2 * by + 1, c) + px (img, 2 * bx + 1, 2 * by + 1, c)) / 4.0;
          g_assert_cmpfloat (fabs (px (out, bx, by, c) - want), <, 1e-6);
        }
}

/* Non-integer ratio, 3 → 2 along x: output 0 covers pixel 0 and half of pixel 1. */
static void
test_area_fractional (void)
{
  g_autoptr (NsImage) img = random_image (3, 1, 1, 3);
  g_autoptr (NsImage) out = ns_image_resize (img, 2, 1);
  const float *p = img->data;

  g_assert_cmpfloat (fabs (out->data[0] - (p[0] + 0.5 * p[1]) / 1.5), <, 1e-6);
  g_assert_cmpfloat (fabs (out->data[1] - (0.5 * p[1] + p[2]) / 1.5), <, 1e-6);
}

/* Area averaging keeps the mean of the whole image exactly, at any ratio. */
static void
test_area_keeps_mean (void)
{
  g_autoptr (NsImage) img = random_image (37, 23, 3, 4);
  g_autoptr (NsImage) out = ns_image_resize (img, 10, 7);

  for (int c = 0; c < 3; c++)
    {
      double a = 0.0, b = 0.0;
      for (int i = 0; i < 37 * 23; i++)
        a += img->data[3 * i + c];
      for (int i = 0; i < 10 * 7; i++)
        b += out->data[3 * i + c];
      g_assert_cmpfloat (fabs (a / (37 * 23) - b / 70), <, 1e-5);
    }
}

static double
ref_linear (const float *row, int in, int out, int o)
{
  double s = ((double) o + 0.5) * in / out - 0.5;
  int i0;

  s = CLAMP (s, 0.0, in - 1.0);
  i0 = (int) floor (s);
  if (i0 >= in - 1)
    return row[in - 1];
  return (1.0 - (s - i0)) * row[i0] + (s - i0) * row[i0 + 1];
}

static void
test_bilinear_enlarge (void)
{
  g_autoptr (NsImage) img = random_image (2, 1, 1, 5);
  g_autoptr (NsImage) out = ns_image_resize (img, 4, 1);
  g_autoptr (NsImage) row = random_image (5, 1, 1, 6);
  g_autoptr (NsImage) row_out = ns_image_resize (row, 13, 1);
  const float *p = img->data;

  /* centres at −¼ (clamped), ¼, ¾, 1¼ (clamped) */
  g_assert_cmpfloat (fabs (out->data[0] - p[0]), <, 1e-6);
  g_assert_cmpfloat (fabs (out->data[1] - (0.75 * p[0] + 0.25 * p[1])), <, 1e-6);
  g_assert_cmpfloat (fabs (out->data[2] - (0.25 * p[0] + 0.75 * p[1])), <, 1e-6);
  g_assert_cmpfloat (fabs (out->data[3] - p[1]), <, 1e-6);

  for (int o = 0; o < 13; o++)
    g_assert_cmpfloat (fabs (row_out->data[o] - ref_linear (row->data, 5, 13, o)), <, 1e-6);
}

/* Shrink x, grow y: each axis is done on its own, so the result is area in x applied to
 * linear in y. */
static void
test_mixed (void)
{
  g_autoptr (NsImage) img = random_image (4, 2, 3, 7);
  g_autoptr (NsImage) out = ns_image_resize (img, 2, 5);

  g_assert_cmpint (out->width, ==, 2);
  g_assert_cmpint (out->height, ==, 5);
  for (int c = 0; c < 3; c++)
    for (int x = 0; x < 2; x++)
      {
        float col[2];
        for (int y = 0; y < 2; y++)
          col[y] = (px (img, 2 * x, y, c) + px (img, 2 * x + 1, y, c)) / 2.0f;
        for (int y = 0; y < 5; y++)
          g_assert_cmpfloat (fabs (px (out, x, y, c) - ref_linear (col, 2, 5, y)), <, 1e-6);
      }
}

static void
test_one_pixel (void)
{
  g_autoptr (NsImage) one = ns_image_new (1, 1, 3);
  g_autoptr (NsImage) big = NULL;
  g_autoptr (NsImage) src = random_image (6, 9, 3, 8);
  g_autoptr (NsImage) small = ns_image_resize (src, 1, 1);

  one->data[0] = 0.2f;
  one->data[1] = 0.4f;
  one->data[2] = 0.8f;
  big = ns_image_resize (one, 5, 3);
  for (int i = 0; i < 15; i++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat (big->data[3 * i + c], ==, one->data[c]);

  for (int c = 0; c < 3; c++)
    {
      double mean = 0.0;
      for (int i = 0; i < 54; i++)
        mean += src->data[3 * i + c];
      g_assert_cmpfloat (fabs (small->data[c] - mean / 54), <, 1e-6);
    }
}

static void
test_same_size_is_copy (void)
{
  g_autoptr (NsImage) img = random_image (5, 4, 3, 9);
  g_autoptr (NsImage) out = ns_image_resize (img, 5, 4);

  g_assert_true (out != img);
  g_assert_cmpmem (out->data, 60 * sizeof (float), img->data, 60 * sizeof (float));
}

static void
test_resize_longest (void)
{
  const struct { int w, h, longest, ew, eh; } cases[] = {
    { 400, 200, 100, 100, 50 },
    { 200, 400, 100, 50, 100 },
    { 300, 300, 64, 64, 64 },
    { 1000, 3, 10, 10, 1 },      /* 0.03 rounds to 0: at least one pixel */
    { 3, 1000, 10, 1, 10 },
    { 1, 1, 7, 7, 7 },
    { 640, 427, 512, 512, 342 }, /* 427 · 0.8 = 341.6 */
    { 427, 640, 512, 342, 512 },
    { 5, 2, 2, 2, 1 },           /* 0.8 rounds to 1 */
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr (NsImage) img = ns_image_new (cases[k].w, cases[k].h, 1);
      g_autoptr (NsImage) out = ns_image_resize_longest (img, cases[k].longest);
      g_assert_cmpint (out->width, ==, cases[k].ew);
      g_assert_cmpint (out->height, ==, cases[k].eh);
    }
}

static void
test_to_rgb (void)
{
  g_autoptr (NsImage) grey = random_image (4, 3, 1, 10);
  g_autoptr (NsImage) rgb = ns_image_to_rgb (grey);
  g_autoptr (NsImage) rgb2 = ns_image_to_rgb (rgb);

  g_assert_cmpint (rgb->channels, ==, 3);
  g_assert_cmpint (rgb->width, ==, 4);
  g_assert_cmpint (rgb->height, ==, 3);
  for (int i = 0; i < 12; i++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat (rgb->data[3 * i + c], ==, grey->data[i]);
  /* RGB in: a copy */
  g_assert_true (rgb2->data != rgb->data);
  g_assert_cmpmem (rgb2->data, 36 * sizeof (float), rgb->data, 36 * sizeof (float));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/new-copy-free", test_new_copy_free);
  g_test_add_func ("/image/invalid-sizes", test_invalid_sizes);
  g_test_add_func ("/image/resize/constant", test_constant_stays_constant);
  g_test_add_func ("/image/resize/area-block-means", test_area_block_means);
  g_test_add_func ("/image/resize/area-fractional", test_area_fractional);
  g_test_add_func ("/image/resize/area-keeps-mean", test_area_keeps_mean);
  g_test_add_func ("/image/resize/bilinear", test_bilinear_enlarge);
  g_test_add_func ("/image/resize/mixed", test_mixed);
  g_test_add_func ("/image/resize/one-pixel", test_one_pixel);
  g_test_add_func ("/image/resize/same-size", test_same_size_is_copy);
  g_test_add_func ("/image/resize-longest", test_resize_longest);
  g_test_add_func ("/image/to-rgb", test_to_rgb);
  return g_test_run ();
}
