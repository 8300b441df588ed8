/* texture.c — the harness's fixed texture descriptor, SSIM and colour baseline.
 *
 * Descriptor.  Luminance is CIELAB L* divided by 100.  A pyramid of EV_SCALES octaves is made with the
 * 5-tap binomial filter and decimation by 2.  On every octave, complex Gabor filters (centre
 * frequency 1/4 cycle per pixel, Gaussian envelope σ = 2 px, about one octave of bandwidth,
 * DC response removed exactly) at EV_ORIENTS orientations give coefficients z; every
 * statistic is about the magnitudes |z|, the envelope of the oriented structure:
 *   energy     log RMS |z| per band (how much structure there is at that scale/orientation)
 *   sparsity   mean |z| / RMS |z| (low: a few strong strokes or edges; high: even noise)
 *   orient     correlation of |z| between orientations of an octave (corners, crossings)
 *   scale      correlation of |z| of one octave, pooled to the next, with the next octave's
 *              (edges and strokes line up across scales; Gaussian noise does not)
 *   spatial    correlation of |z| with itself 2 px away (diagonals: 2 px along each axis)
 *              across and along the band's orientation (stroke length and spacing)
 * plus the colour distribution: EV_QUANTILES quantiles of each of L*, a*, b* and their three
 * correlation coefficients.  Borders are reflected.
 *
 * Masked (a region of an image): every mean and correlation is weighted by the mask, carried
 * down the pyramid as the luminance is; the quantiles take the pixels of weight ≥ 1/2.  The
 * filters still see the pixels around the region (up to 6·2^octave px away).
 */
#include "texture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char * const ev_group_names[EV_N_GROUPS] = {
  "energy", "sparsity", "orient", "scale", "spatial", "colour", "colour-corr",
};

/* RMS of each group's raw distance over the 136 pairs of distinct images among the 17 in
 * data/samples at 512 px (ns-eval --calibrate --size 512 prints them), so that each group
 * counts alike and 1 is the typical difference between two unrelated pictures. */
const double ev_group_scale[EV_N_GROUPS] = {
  0.509, 0.1226, 0.2113, 0.2006, 0.0929, 14.91, 0.642,
};

#define GABOR_SIGMA   2.0
#define GABOR_FREQ    0.25
#define GABOR_RADIUS  6

typedef struct
{
  int    w, h;
  float *d;
} Plane;

static Plane *
plane_new (int w, int h)
{
  Plane *p = g_new (Plane, 1);

  p->w = w;
  p->h = h;
  p->d = g_new0 (float, (gsize) w * h);
  return p;
}

static void
plane_free (Plane *p)
{
  if (p == NULL)
    return;
  g_free (p->d);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Plane, plane_free)

/* Half-sample symmetric reflection; loops so that kernels wider than the image work. */
static int
reflect (int i, int n)
{
  if (n == 1)
    return 0;
  for (;;)
    {
      if (i < 0)
        i = -i - 1;
      else if (i >= n)
        i = 2 * n - i - 1;
      else
        return i;
    }
}

/* Separable correlation of a complex plane pair (im may be NULL for a real input) with a
 * complex 1-D kernel (ki may be NULL for a real kernel) along x (axis 0) or y (axis 1). */
static void
correlate_1d (const Plane *re, const Plane *im, const double *kr, const double *ki, int radius,
              int axis, Plane *out_re, Plane *out_im)
{
  int w = re->w, h = re->h;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        double sr = 0.0, si = 0.0;

        for (int t = -radius; t <= radius; t++)
          {
            int xx = axis == 0 ? reflect (x + t, w) : x;
            int yy = axis == 1 ? reflect (y + t, h) : y;
            gsize i = (gsize) yy * w + xx;
            double a = re->d[i], b = im ? im->d[i] : 0.0;
            double c = kr[t + radius], d = ki ? ki[t + radius] : 0.0;

            sr += a * c - b * d;
            si += a * d + b * c;
          }
        out_re->d[(gsize) y * w + x] = (float) sr;
        if (out_im)
          out_im->d[(gsize) y * w + x] = (float) si;
      }
}

static void
gaussian_kernel (double sigma, int radius, double *k)
{
  double s = 0.0;

  for (int t = -radius; t <= radius; t++)
    s += k[t + radius] = exp (-0.5 * t * t / (sigma * sigma));
  for (int t = 0; t <= 2 * radius; t++)
    k[t] /= s;
}

static Plane *
blur (const Plane *in, double sigma)
{
  int radius = MAX (1, (int) ceil (3.0 * sigma));
  g_autofree double *k = g_new (double, 2 * radius + 1);
  g_autoptr (Plane) tmp = plane_new (in->w, in->h);
  Plane *out = plane_new (in->w, in->h);

  gaussian_kernel (sigma, radius, k);
  correlate_1d (in, NULL, k, NULL, radius, 0, tmp, NULL);
  correlate_1d (tmp, NULL, k, NULL, radius, 1, out, NULL);
  return out;
}

/* Binomial [1 4 6 4 1]/16 low-pass, then every second sample (at least 1×1). */
static Plane *
reduce (const Plane *in)
{
  static const double k[5] = { 1 / 16.0, 4 / 16.0, 6 / 16.0, 4 / 16.0, 1 / 16.0 };
  g_autoptr (Plane) a = plane_new (in->w, in->h);
  g_autoptr (Plane) b = plane_new (in->w, in->h);
  Plane *out = plane_new (MAX (1, in->w / 2), MAX (1, in->h / 2));

  correlate_1d (in, NULL, k, NULL, 2, 0, a, NULL);
  correlate_1d (a, NULL, k, NULL, 2, 1, b, NULL);
  for (int y = 0; y < out->h; y++)
    for (int x = 0; x < out->w; x++)
      out->d[(gsize) y * out->w + x] = b->d[(gsize) MIN (2 * y, in->h - 1) * in->w + MIN (2 * x, in->w - 1)];
  return out;
}

/* |z| of the zero-DC complex Gabor at orientation `theta` on one octave. */
static Plane *
gabor_magnitude (const Plane *lum, const Plane *lowpass, double theta)
{
  int r = GABOR_RADIUS, n = 2 * r + 1;
  double kx = 2.0 * G_PI * GABOR_FREQ * cos (theta), ky = 2.0 * G_PI * GABOR_FREQ * sin (theta);
  double g[2 * GABOR_RADIUS + 1], xr[2 * GABOR_RADIUS + 1], xi[2 * GABOR_RADIUS + 1];
  double yr[2 * GABOR_RADIUS + 1], yi[2 * GABOR_RADIUS + 1];
  double sxr = 0, sxi = 0, syr = 0, syi = 0, kappa_r, kappa_i;
  g_autoptr (Plane) ar = plane_new (lum->w, lum->h);
  g_autoptr (Plane) ai = plane_new (lum->w, lum->h);
  g_autoptr (Plane) br = plane_new (lum->w, lum->h);
  g_autoptr (Plane) bi = plane_new (lum->w, lum->h);
  Plane *m = plane_new (lum->w, lum->h);

  gaussian_kernel (GABOR_SIGMA, r, g);
  for (int t = 0; t < n; t++)
    {
      double u = t - r;

      xr[t] = g[t] * cos (kx * u);
      xi[t] = g[t] * sin (kx * u);
      yr[t] = g[t] * cos (ky * u);
      yi[t] = g[t] * sin (ky * u);
      sxr += xr[t];
      sxi += xi[t];
      syr += yr[t];
      syi += yi[t];
    }
  /* The separable kernel's DC gain is the product of the two 1-D sums; subtracting that
   * times the Gaussian low-pass (whose gain is 1) leaves a filter blind to flat areas. */
  kappa_r = sxr * syr - sxi * syi;
  kappa_i = sxr * syi + sxi * syr;
  correlate_1d (lum, NULL, xr, xi, r, 0, ar, ai);
  correlate_1d (ar, ai, yr, yi, r, 1, br, bi);
  for (gsize i = 0; i < (gsize) lum->w * lum->h; i++)
    {
      double re = br->d[i] - kappa_r * lowpass->d[i];
      double im = bi->d[i] - kappa_i * lowpass->d[i];

      m->d[i] = (float) sqrt (re * re + im * im);
    }
  return m;
}

/* Pearson correlation of a(x) and b(x + (dx, dy)) over the positions where both exist,
 * each weighted by wt(x)·wt(x + (dx, dy)) (wt NULL: 1; a, b and wt of one size). */
static double
correlation (const Plane *a, const Plane *b, const Plane *wt, int dx, int dy)
{
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0, va, vb;

  for (int y = MAX (0, -dy); y < a->h && y + dy < b->h; y++)
    for (int x = MAX (0, -dx); x < a->w && x + dx < b->w; x++)
      {
        double u = a->d[(gsize) y * a->w + x], v = b->d[(gsize) (y + dy) * b->w + x + dx];
        double k = wt ? (double) wt->d[(gsize) y * wt->w + x]
                        * wt->d[(gsize) (y + dy) * wt->w + x + dx] : 1.0;

        sa += k * u;
        sb += k * v;
        saa += k * u * u;
        sbb += k * v * v;
        sab += k * u * v;
        n += k;
      }
  if (n < 2)
    return 0.0;
  va = saa / n - (sa / n) * (sa / n);
  vb = sbb / n - (sb / n) * (sb / n);
  if (va <= 1e-20 || vb <= 1e-20)
    return 0.0;
  return (sab / n - (sa / n) * (sb / n)) / sqrt (va * vb);
}

void
ev_rgb_to_lab (const float rgb[3], double lab[3])
{
  double lin[3], xyz[3], f[3];
  static const double white[3] = { 0.95047, 1.0, 1.08883 };

  for (int c = 0; c < 3; c++)
    {
      double v = CLAMP (rgb[c], 0.0f, 1.0f);

      lin[c] = v <= 0.04045 ? v / 12.92 : pow ((v + 0.055) / 1.055, 2.4);
    }
  xyz[0] = 0.4124564 * lin[0] + 0.3575761 * lin[1] + 0.1804375 * lin[2];
  xyz[1] = 0.2126729 * lin[0] + 0.7151522 * lin[1] + 0.0721750 * lin[2];
  xyz[2] = 0.0193339 * lin[0] + 0.1191920 * lin[1] + 0.9503041 * lin[2];
  for (int c = 0; c < 3; c++)
    {
      double t = xyz[c] / white[c];

      f[c] = t > 216.0 / 24389.0 ? cbrt (t) : t * (24389.0 / 27.0 / 116.0) + 16.0 / 116.0;
    }
  lab[0] = 116.0 * f[1] - 16.0;
  lab[1] = 500.0 * (f[0] - f[1]);
  lab[2] = 200.0 * (f[1] - f[2]);
}

void
ev_lab_to_rgb (const double lab[3], float rgb[3])
{
  static const double white[3] = { 0.95047, 1.0, 1.08883 };
  double f[3], xyz[3], lin[3];

  f[1] = (lab[0] + 16.0) / 116.0;
  f[0] = f[1] + lab[1] / 500.0;
  f[2] = f[1] - lab[2] / 200.0;
  for (int c = 0; c < 3; c++)
    xyz[c] = white[c] * (f[c] > 6.0 / 29.0 ? f[c] * f[c] * f[c]
                                           : (f[c] - 16.0 / 116.0) * (116.0 * 27.0 / 24389.0));
  lin[0] = 3.2404542 * xyz[0] - 1.5371385 * xyz[1] - 0.4985314 * xyz[2];
  lin[1] = -0.9692660 * xyz[0] + 1.8760108 * xyz[1] + 0.0415560 * xyz[2];
  lin[2] = 0.0556434 * xyz[0] - 0.2040259 * xyz[1] + 1.0572252 * xyz[2];
  for (int c = 0; c < 3; c++)
    {
      double v = CLAMP (lin[c], 0.0, 1.0);

      v = v <= 0.0031308 ? 12.92 * v : 1.055 * pow (v, 1.0 / 2.4) - 0.055;
      rgb[c] = (float) CLAMP (v, 0.0, 1.0);
    }
}

/* Planar L*, a*, b* of an image (grey counts as R = G = B). */
static Plane **
image_to_lab (const NsImage *img)
{
  Plane **lab = g_new (Plane *, 3);
  gsize n = (gsize) img->width * img->height;

  for (int c = 0; c < 3; c++)
    lab[c] = plane_new (img->width, img->height);
  for (gsize i = 0; i < n; i++)
    {
      float rgb[3];
      double v[3];

      for (int c = 0; c < 3; c++)
        rgb[c] = img->data[i * img->channels + (img->channels == 3 ? c : 0)];
      ev_rgb_to_lab (rgb, v);
      for (int c = 0; c < 3; c++)
        lab[c]->d[i] = (float) v[c];
    }
  return lab;
}

static void
lab_free (Plane **lab)
{
  for (int c = 0; c < 3; c++)
    plane_free (lab[c]);
  g_free (lab);
}

static int
cmp_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;

  return (x > y) - (x < y);
}

static void
colour_stats (Plane **lab, const Plane *wt, EvStats *s)
{
  gsize all = (gsize) lab[0]->w * lab[0]->h, n;
  g_autofree float *sorted = g_new (float, all);
  static const int pairs[3][2] = { { 0, 1 }, { 0, 2 }, { 1, 2 } };

  for (int c = 0; c < 3; c++)
    {
      n = 0;
      for (gsize i = 0; i < all; i++)
        if (wt == NULL || wt->d[i] >= 0.5f)
          sorted[n++] = lab[c]->d[i];
      if (n == 0)
        continue;
      qsort (sorted, n, sizeof (float), cmp_float);
      for (int q = 0; q < EV_QUANTILES; q++)
        s->quantile[c][q] = sorted[MIN (n - 1, (gsize) ((q + 0.5) / EV_QUANTILES * n))];
    }
  for (int k = 0; k < 3; k++)
    s->lab_corr[k] = correlation (lab[pairs[k][0]], lab[pairs[k][1]], wt, 0, 0);
}

/* Step of 2 px (per axis) in direction theta, rounded to the pixel grid. */
static void
step (double theta, int *dx, int *dy)
{
  double c = cos (theta), s = sin (theta), m = MAX (fabs (c), fabs (s));

  *dx = (int) lround (2.0 * c / m);
  *dy = (int) lround (2.0 * s / m);
}

/* A grey image as a plane (NULL for NULL). */
static Plane *
mask_plane (const NsImage *mask)
{
  Plane *p;

  if (mask == NULL)
    return NULL;
  p = plane_new (mask->width, mask->height);
  for (gsize i = 0; i < (gsize) mask->width * mask->height; i++)
    p->d[i] = mask->data[i * mask->channels];
  return p;
}

void
ev_stats_compute (const NsImage *image, EvStats *s)
{
  ev_stats_compute_masked (image, NULL, s);
}

void
ev_stats_compute_masked (const NsImage *image, const NsImage *mask, EvStats *s)
{
  Plane **lab = image_to_lab (image);
  Plane *level = plane_new (lab[0]->w, lab[0]->h);
  Plane *wt = mask_plane (mask);
  Plane *mag[EV_SCALES][EV_ORIENTS];
  Plane *wts[EV_SCALES];

  g_return_if_fail (mask == NULL || (mask->width == image->width
                                     && mask->height == image->height));
  memset (s, 0, sizeof *s);
  for (gsize i = 0; i < (gsize) level->w * level->h; i++)
    level->d[i] = lab[0]->d[i] / 100.0f;
  colour_stats (lab, wt, s);
  lab_free (lab);

  for (int sc = 0; sc < EV_SCALES; sc++)
    {
      g_autoptr (Plane) lowpass = blur (level, GABOR_SIGMA);
      int k = 0;

      wts[sc] = wt;
      for (int o = 0; o < EV_ORIENTS; o++)
        {
          double theta = G_PI * o / EV_ORIENTS;
          Plane *m = mag[sc][o] = gabor_magnitude (level, lowpass, theta);
          gsize n = (gsize) m->w * m->h;
          double s1 = 0, s2 = 0, sw = 0;
          int dx, dy;

          for (gsize i = 0; i < n; i++)
            {
              double wk = wt ? wt->d[i] : 1.0;

              s1 += wk * m->d[i];
              s2 += wk * m->d[i] * m->d[i];
              sw += wk;
            }
          s1 /= MAX (sw, 1e-12);
          s2 /= MAX (sw, 1e-12);
          s->energy[sc][o] = 0.5 * log (s2 + 1e-12);
          s->sparsity[sc][o] = s1 / sqrt (s2 + 1e-24);
          step (theta, &dx, &dy);
          s->spatial[sc][o][0] = correlation (m, m, wt, dx, dy);
          step (theta + G_PI / 2, &dx, &dy);
          s->spatial[sc][o][1] = correlation (m, m, wt, dx, dy);
        }
      for (int o = 0; o < EV_ORIENTS; o++)
        for (int p = o + 1; p < EV_ORIENTS; p++)
          s->orient[sc][k++] = correlation (mag[sc][o], mag[sc][p], wt, 0, 0);
      if (sc + 1 < EV_SCALES)
        {
          Plane *next = reduce (level);

          plane_free (level);
          level = next;
          wt = wt ? reduce (wt) : NULL;
        }
    }
  for (int sc = 0; sc + 1 < EV_SCALES; sc++)
    for (int o = 0; o < EV_ORIENTS; o++)
      {
        g_autoptr (Plane) pooled = reduce (mag[sc][o]);

        for (int p = 0; p < EV_ORIENTS; p++)
          s->scale[sc][o][p] = correlation (pooled, mag[sc + 1][p], wts[sc + 1], 0, 0);
      }
  for (int sc = 0; sc < EV_SCALES; sc++)
    {
      for (int o = 0; o < EV_ORIENTS; o++)
        plane_free (mag[sc][o]);
      plane_free (wts[sc]);
    }
  plane_free (level);
}

static double
rms_diff (const double *a, const double *b, gsize n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += (a[i] - b[i]) * (a[i] - b[i]);
  return sqrt (s / n);
}

/* RMS difference of two statistics arrays of the same shape. */
#define RMS_FIELD(a, b, field) \
  rms_diff ((const double *) (a)->field, (const double *) (b)->field, \
            sizeof (a)->field / sizeof (double))

void
ev_group_distances (const EvStats *a, const EvStats *b, double d[EV_N_GROUPS])
{
  double w1 = 0.0;

  d[EV_GROUP_ENERGY] = RMS_FIELD (a, b, energy);
  d[EV_GROUP_SPARSITY] = RMS_FIELD (a, b, sparsity);
  d[EV_GROUP_ORIENT] = RMS_FIELD (a, b, orient);
  d[EV_GROUP_SCALE] = RMS_FIELD (a, b, scale);
  d[EV_GROUP_SPATIAL] = RMS_FIELD (a, b, spatial);
  for (int c = 0; c < 3; c++)
    for (int q = 0; q < EV_QUANTILES; q++)
      w1 += fabs (a->quantile[c][q] - b->quantile[c][q]);
  d[EV_GROUP_COLOUR] = w1 / (3.0 * EV_QUANTILES);
  d[EV_GROUP_COLOUR_CORR] = RMS_FIELD (a, b, lab_corr);
}

double
ev_distance (const EvStats *a, const EvStats *b, double groups[EV_N_GROUPS])
{
  double d[EV_N_GROUPS], s = 0.0;

  ev_group_distances (a, b, d);
  for (int g = 0; g < EV_N_GROUPS; g++)
    {
      double v = d[g] / ev_group_scale[g];

      if (groups)
        groups[g] = v;
      s += v * v;
    }
  return sqrt (s / EV_N_GROUPS);
}

NsImage *
ev_blur_grey (const NsImage *grey, double sigma)
{
  g_autoptr (Plane) in = mask_plane (grey);
  g_autoptr (Plane) out = blur (in, sigma);
  NsImage *img = ns_image_new (grey->width, grey->height, 1);

  memcpy (img->data, out->d, (gsize) grey->width * grey->height * sizeof (float));
  return img;
}

/* ---- SSIM -------------------------------------------------------------------------------- */

static Plane *
luma (const NsImage *img)
{
  Plane *p = plane_new (img->width, img->height);

  for (gsize i = 0; i < (gsize) img->width * img->height; i++)
    {
      const float *v = img->data + i * img->channels;

      p->d[i] = img->channels == 3 ? 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2] : v[0];
    }
  return p;
}

/* Mean SSIM of two luminance planes of the same size (Gaussian window σ = 1.5), weighted
 * by wt (NULL: 1). */
static double
ssim_planes (const Plane *x, const Plane *y, const Plane *wt)
{
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  g_autoptr (Plane) xx = plane_new (x->w, x->h);
  g_autoptr (Plane) yy = plane_new (x->w, x->h);
  g_autoptr (Plane) xy = plane_new (x->w, x->h);
  g_autoptr (Plane) mx = NULL, my = NULL, mxx = NULL, myy = NULL, mxy = NULL;
  gsize n = (gsize) x->w * x->h;
  double sum = 0.0, sw = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      xx->d[i] = x->d[i] * x->d[i];
      yy->d[i] = y->d[i] * y->d[i];
      xy->d[i] = x->d[i] * y->d[i];
    }
  mx = blur (x, 1.5);
  my = blur (y, 1.5);
  mxx = blur (xx, 1.5);
  myy = blur (yy, 1.5);
  mxy = blur (xy, 1.5);
  for (gsize i = 0; i < n; i++)
    {
      double ux = mx->d[i], uy = my->d[i];
      double vx = mxx->d[i] - ux * ux, vy = myy->d[i] - uy * uy, cxy = mxy->d[i] - ux * uy;
      double k = wt ? wt->d[i] : 1.0;

      sum += k * ((2 * ux * uy + c1) * (2 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      sw += k;
    }
  return sum / sw;
}

double
ev_ssim_blurred (const NsImage *a, const NsImage *b)
{
  return ev_ssim_blurred_masked (a, b, NULL);
}

double
ev_ssim_blurred_masked (const NsImage *a, const NsImage *b, const NsImage *mask)
{
  double sigma_b = MAX (a->width, a->height) / 256.0;
  g_autoptr (Plane) la = luma (a);
  g_autoptr (Plane) lb = luma (b);
  g_autoptr (Plane) wt = mask_plane (mask);
  g_autoptr (Plane) x = NULL, y = NULL;

  g_return_val_if_fail (a->width == b->width && a->height == b->height, NAN);
  x = blur (la, sigma_b);
  y = blur (lb, sigma_b);
  return ssim_planes (x, y, wt);
}

double
ev_ssim (const NsImage *a, const NsImage *b)
{
  g_autoptr (Plane) x = luma (a);
  g_autoptr (Plane) y = luma (b);

  g_return_val_if_fail (a->width == b->width && a->height == b->height, NAN);
  return ssim_planes (x, y, NULL);
}

float *
ev_highpass_energy (const NsImage *image, double sigma, double *mean)
{
  g_autoptr (Plane) l = luma (image);
  g_autoptr (Plane) b = blur (l, sigma);
  gsize n = (gsize) image->width * image->height;
  float *e = g_new (float, n);
  double sum = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      double d = (double) l->d[i] - b->d[i];

      e[i] = (float) (d * d);
      sum += d * d;
    }
  if (mean)
    *mean = sum / n;
  return e;
}

/* ---- histogram specification ------------------------------------------------------------- */

typedef struct
{
  float v;
  guint idx;
} Ranked;

static int
cmp_ranked (const void *a, const void *b)
{
  const Ranked *x = a, *y = b;

  if (x->v != y->v)
    return (x->v > y->v) - (x->v < y->v);
  return (x->idx > y->idx) - (x->idx < y->idx);
}

NsImage *
ev_match_histogram_lab (const NsImage *content, const NsImage *style)
{
  Plane **lc = image_to_lab (content);
  Plane **ls = image_to_lab (style);
  gsize nc = (gsize) content->width * content->height;
  gsize ns = (gsize) style->width * style->height;
  g_autofree Ranked *rank = g_new (Ranked, nc);
  g_autofree float *sorted = g_new (float, ns);
  NsImage *out = ns_image_new (content->width, content->height, 3);

  for (int c = 0; c < 3; c++)
    {
      memcpy (sorted, ls[c]->d, ns * sizeof (float));
      qsort (sorted, ns, sizeof (float), cmp_float);
      for (gsize i = 0; i < nc; i++)
        {
          rank[i].v = lc[c]->d[i];
          rank[i].idx = (guint) i;
        }
      qsort (rank, nc, sizeof (Ranked), cmp_ranked);
      for (gsize r = 0; r < nc; r++)
        lc[c]->d[rank[r].idx] = sorted[MIN (ns - 1, (gsize) ((r + 0.5) / nc * ns))];
    }
  for (gsize i = 0; i < nc; i++)
    {
      double lab[3] = { lc[0]->d[i], lc[1]->d[i], lc[2]->d[i] };

      ev_lab_to_rgb (lab, out->data + 3 * i);
    }
  lab_free (lc);
  lab_free (ls);
  return out;
}
