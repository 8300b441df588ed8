/* testutil.h — small helpers shared by the C tests (header-only). */
#ifndef NS_TESTUTIL_H
#define NS_TESTUTIL_H

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "neural-style.h"

/* Deterministic uniform values in [lo, hi). */
static inline void
ns_test_fill (float *x, gsize n, guint32 seed, float lo, float hi)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < n; i++)
    x[i] = lo + (hi - lo) * (float) g_rand_double (r);
  g_rand_free (r);
}

/* A smooth test image: 0.5 + amplitude · sin (fx·x + fy·y + 2c) per channel c, plus checker
 * on squares of 9 × 7 pixels (0: none), so that every scale has structure. */
static inline NsImage *
ns_test_pattern (int w, int h, int channels, double fx, double fy, float amplitude,
                 float checker)
{
  NsImage *img = ns_image_new (w, h, channels);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < channels; c++)
        img->data[(y * w + x) * channels + c] =
          0.5f + amplitude * sinf ((float) (fx * x + fy * y + 2.0 * c))
          + checker * ((x / 9 + y / 7) % 2);
  return img;
}

/* Smooth structure plus noise, so that every layer sees varied features: noise in [0, 0.3)
 * plus 0.35 + 0.3 · sin (0.07·x·(c + 1) + fy·y), three channels. */
static inline NsImage *
ns_test_image (int w, int h, guint32 seed, float fy)
{
  NsImage *img = ns_image_new (w, h, 3);

  ns_test_fill (img->data, (gsize) w * h * 3, seed, 0.0f, 0.3f);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        img->data[((gsize) y * w + x) * 3 + c] += 0.35f + 0.3f * sinf (0.07f * x * (c + 1)
                                                                       + fy * y);
  return img;
}

/* ‖a − b‖ / ‖b‖, in double. */
static inline double
ns_test_rel_norm (const float *a, const float *b, gsize n)
{
  double d = 0.0, r = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      d += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
      r += (double) b[i] * b[i];
    }
  return sqrt (d / MAX (r, 1e-300));
}

typedef double (*NsTestFunc) (const float *x, float *grad, gpointer user_data);

/* Central finite differences on `n_probe` coordinates chosen by seed (all if n_probe >= n).
 * Returns the largest |analytic − numeric| / max(|analytic|, |numeric|, floor) seen,
 * where floor = 1e-3 · max |analytic gradient| keeps round-off on tiny entries from
 * dominating.  x is restored. */
static inline double
ns_test_gradcheck (NsTestFunc f, gpointer data, float *x, gsize n, double eps,
                   gsize n_probe, guint32 seed)
{
  float *g = g_new0 (float, n);
  float *scratch = g_new0 (float, n);
  double gmax = 0.0, worst = 0.0;
  GRand *r = g_rand_new_with_seed (seed);

  f (x, g, data);
  for (gsize i = 0; i < n; i++)
    gmax = MAX (gmax, fabs (g[i]));
  if (n_probe > n)
    n_probe = n;
  for (gsize k = 0; k < n_probe; k++)
    {
      gsize i = n_probe == n ? k : (gsize) g_rand_int_range (r, 0, (gint32) n);
      float saved = x[i];
      double fp, fm, num, den, err;

      x[i] = saved + (float) eps;
      fp = f (x, NULL, data);
      x[i] = saved - (float) eps;
      fm = f (x, NULL, data);
      x[i] = saved;
      num = (fp - fm) / (((double) (saved + (float) eps)) - ((double) (saved - (float) eps)));
      den = MAX (MAX (fabs (g[i]), fabs (num)), 1e-3 * gmax + 1e-12);
      err = fabs (g[i] - num) / den;
      worst = MAX (worst, err);
    }
  (void) scratch;
  g_free (scratch);
  g_free (g);
  g_rand_free (r);
  return worst;
}

/* Directional derivatives along `n_dirs` random directions d (independent uniform [−1, 1]
 * entries over every coordinate): (f(x + εd) − f(x − εd)) / 2ε against g·d.  Every
 * coordinate moves, so the change of f is large against float round-off even where single
 * coordinates' gradients are tiny; a wrong entry anywhere shifts g·d, and a random d cannot
 * cancel it systematically.  Returns the largest |g·d − numeric| / max(|g·d|, |numeric|).
 * x is restored. */
static inline double
ns_test_gradcheck_directional (NsTestFunc f, gpointer data, float *x, gsize n, double eps,
                               int n_dirs, guint32 seed)
{
  float *g = g_new0 (float, n);
  float *d = g_new (float, n);
  float *saved = g_memdup2 (x, n * sizeof (float));
  double worst = 0.0;
  GRand *r = g_rand_new_with_seed (seed);

  f (x, g, data);
  for (int k = 0; k < n_dirs; k++)
    {
      double gd = 0.0, fp, fm, num;

      for (gsize i = 0; i < n; i++)
        {
          d[i] = (float) g_rand_double_range (r, -1.0, 1.0);
          gd += (double) g[i] * d[i];
        }
      for (gsize i = 0; i < n; i++)
        x[i] = saved[i] + (float) eps * d[i];
      fp = f (x, NULL, data);
      for (gsize i = 0; i < n; i++)
        x[i] = saved[i] - (float) eps * d[i];
      fm = f (x, NULL, data);
      num = (fp - fm) / (2.0 * eps);
      worst = MAX (worst, fabs (gd - num) / MAX (MAX (fabs (gd), fabs (num)), 1e-30));
    }
  memcpy (x, saved, n * sizeof (float));
  g_free (saved);
  g_free (d);
  g_free (g);
  g_rand_free (r);
  return worst;
}

/* Removes a file or a whole directory tree (symlinks are removed, not followed). */
static inline void
ns_test_rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && ! g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      GDir *dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          ns_test_rm_rf (child);
        }
      if (dir != NULL)
        g_dir_close (dir);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

#endif
