/* image.c — NsImage: interleaved float images, copying and resampling.
 *
 * Resampling is separable.  Each axis gets a table of (first source index, weights) per
 * output index: exact area coverage when the axis shrinks, pixel-centre-aligned linear
 * interpolation with clamped edges when it grows.  The two axes are independent, so a
 * resize that shrinks one and grows the other needs no special case.
 */
#include "ns-internal.h"

#include <math.h>
#include <string.h>

static gboolean
image_size_ok (int width, int height, int channels)
{
  return width > 0 && height > 0 && (channels == 1 || channels == 3)
         && (gsize) width <= G_MAXSIZE / sizeof (float) / (gsize) height / (gsize) channels;
}

NsImage *
ns_image_new (int width, int height, int channels)
{
  NsImage *image;

  g_return_val_if_fail (image_size_ok (width, height, channels), NULL);

  image = g_new0 (NsImage, 1);
  image->width = width;
  image->height = height;
  image->channels = channels;
  image->data = g_new0 (float, (gsize) width * height * channels);
  return image;
}

static gsize
image_len (const NsImage *image)
{
  return (gsize) image->width * image->height * image->channels;
}

NsImage *
ns_image_copy (const NsImage *image)
{
  NsImage *copy;

  g_return_val_if_fail (image != NULL, NULL);

  copy = ns_image_new (image->width, image->height, image->channels);
  if (copy != NULL)
    memcpy (copy->data, image->data, image_len (image) * sizeof (float));
  return copy;
}

void
ns_image_free (NsImage *image)
{
  if (image == NULL)
    return;
  g_free (image->data);
  g_free (image);
}

/* ---- one axis of a resampling ---------------------------------------------------------- */

void
ns_axis_clear (NsAxis *t)
{
  g_free (t->first);
  g_free (t->count);
  g_free (t->offset);
  g_free (t->weight);
}

/* Room for `out` outputs of at most `taps` weights each (zeroed: the B-spline adds into
 * them). */
static void
axis_alloc (NsAxis *t, int out, int taps)
{
  t->first = g_new (int, out);
  t->count = g_new (int, out);
  t->offset = g_new (int, out);
  t->weight = g_new0 (float, (gsize) out * taps);
}

/* Output pixel o covers [o·in/out, (o+1)·in/out) in source pixels; each source pixel
 * counts with the length of its overlap.  Integer arithmetic on the scaled axis
 * (source pixel i = [i·out, (i+1)·out)) keeps the weights exact. */
static void
axis_area (NsAxis *t, int in, int out)
{
  int max_taps = in / out + 2;
  int n = 0;

  axis_alloc (t, out, max_taps);

  for (int o = 0; o < out; o++)
    {
      gint64 lo = (gint64) o * in;           /* in units of 1/out source pixels */
      gint64 hi = (gint64) (o + 1) * in;
      int i0 = (int) (lo / out);
      int i1 = (int) ((hi + out - 1) / out);  /* exclusive */

      t->first[o] = i0;
      t->count[o] = i1 - i0;
      t->offset[o] = n;
      for (int i = i0; i < i1; i++)
        {
          gint64 a = MAX (lo, (gint64) i * out);
          gint64 b = MIN (hi, (gint64) (i + 1) * out);
          t->weight[n++] = (float) ((double) (b - a) / (double) in);
        }
    }
}

/* Pixel centres aligned: output o samples source position (o + ½)·in/out − ½, clamped. */
static void
axis_linear (NsAxis *t, int in, int out)
{
  axis_alloc (t, out, 2);

  for (int o = 0; o < out; o++)
    {
      double s = ((double) o + 0.5) * in / out - 0.5;
      int i0;
      double frac;

      s = CLAMP (s, 0.0, (double) (in - 1));
      i0 = MIN ((int) floor (s), in - 1);
      frac = s - i0;

      t->first[o] = i0;
      t->offset[o] = 2 * o;
      t->weight[2 * o] = (float) (1.0 - frac);
      if (i0 + 1 < in)
        {
          t->count[o] = 2;
          t->weight[2 * o + 1] = (float) frac;
        }
      else
        {
          t->count[o] = 1;
          t->weight[2 * o] = 1.0f;
        }
    }
}

/* Source index k of an n-pixel axis mirrored at the end pixels (… 2 1 | 0 1 2 … n−1 | n−2 …),
 * the extension ns_spline_prefilter assumes. */
static int
mirror (int k, int n)
{
  int period = 2 * (n - 1);

  if (n == 1)
    return 0;
  k %= period;
  if (k < 0)
    k += period;
  return k < n ? k : period - k;
}

/* Enlarging with the cubic B-spline: weights C²-smooth in the output position, positive, four
 * taps (mirrored at the ends).  Linear interpolation puts a crease at every source pixel,
 * which at a large factor is a lattice that edge detectors (and so a refinement's first
 * layer) see; the B-spline has none.  On prefiltered data (ns_spline_prefilter) it
 * interpolates: the cubic spline through the samples. */
static void
axis_bspline (NsAxis *t, int in, int out)
{
  axis_alloc (t, out, 4);

  for (int o = 0; o < out; o++)
    {
      double s = ((double) o + 0.5) * in / out - 0.5, u, w[4];
      int i = (int) floor (s), lo = in, hi = 0;

      u = s - i;
      w[0] = (1.0 - u) * (1.0 - u) * (1.0 - u) / 6.0;
      w[1] = (3.0 * u * u * u - 6.0 * u * u + 4.0) / 6.0;
      w[2] = (-3.0 * u * u * u + 3.0 * u * u + 3.0 * u + 1.0) / 6.0;
      w[3] = u * u * u / 6.0;
      for (int k = 0; k < 4; k++)
        {
          lo = MIN (lo, mirror (i - 1 + k, in));
          hi = MAX (hi, mirror (i - 1 + k, in));
        }
      t->first[o] = lo;
      t->count[o] = hi - lo + 1;
      t->offset[o] = 4 * o;
      for (int k = 0; k < 4; k++)
        t->weight[4 * o + mirror (i - 1 + k, in) - lo] += (float) w[k];
    }
}

/* One line of n values `stride` apart, in place: the B-spline coefficients whose spline
 * passes through them (Unser 1999, "Splines: a perfect fit"; the recursive filter with the
 * pole √3 − 2, its initial values exact for the mirrored extension). */
static void
prefilter_line (float *v, int n, gsize stride, double *c)
{
  const double z = sqrt (3.0) - 2.0;
  double zk = 1.0, z2n = pow (z, 2 * n - 2), sum;

  if (n < 2)
    return;
  for (int k = 0; k < n; k++)
    c[k] = 6.0 * v[k * stride];
  /* c⁺[0] = Σ over the mirrored line's period of z^k c[k]. */
  sum = c[0] + pow (z, n - 1) * c[n - 1];
  for (int k = 1; k < n - 1; k++)
    {
      zk *= z;
      sum += (zk + z2n / zk) * c[k];
    }
  c[0] = sum / (1.0 - z2n);
  for (int k = 1; k < n; k++)
    c[k] += z * c[k - 1];
  c[n - 1] = z / (z * z - 1.0) * (c[n - 1] + z * c[n - 2]);
  for (int k = n - 2; k >= 0; k--)
    c[k] = z * (c[k + 1] - c[k]);
  for (int k = 0; k < n; k++)
    v[k * stride] = (float) c[k];
}

void
ns_spline_prefilter (float *data, int w, int h, int ch, gboolean across, gboolean down)
{
  g_autofree double *line = g_new (double, MAX (w, h));

  for (int y = 0; across && y < h; y++)
    for (int c = 0; c < ch; c++)
      prefilter_line (data + (gsize) y * w * ch + c, w, ch, line);
  for (int x = 0; down && x < w; x++)
    for (int c = 0; c < ch; c++)
      prefilter_line (data + (gsize) x * ch + c, h, (gsize) w * ch, line);
}

void
ns_axis_init_smooth (NsAxis *t, int in, int out)
{
  if (out <= in)
    ns_axis_init (t, in, out);
  else
    axis_bspline (t, in, out);
}

void
ns_axis_init (NsAxis *t, int in, int out)
{
  if (out < in)
    axis_area (t, in, out);
  else
    axis_linear (t, in, out);   /* out == in gives the identity */
}

void
ns_axis_resample_across (const NsAxis *t, const float *src, int ch, int o0, int o1, float *dst)
{
  for (int o = o0; o < o1; o++)
    for (int c = 0; c < ch; c++)
      {
        const float *w = t->weight + t->offset[o];
        double acc = 0.0;

        for (int k = 0; k < t->count[o]; k++)
          acc += (double) w[k] * src[(gsize) (t->first[o] + k) * ch + c];
        dst[(gsize) (o - o0) * ch + c] = (float) acc;
      }
}

void
ns_axis_resample_down (const NsAxis *t, const float *src, int src_y0, gsize row,
                       int o0, int o1, float *dst)
{
  double *acc = g_new (double, row);

  for (int o = o0; o < o1; o++)
    {
      const float *wt = t->weight + t->offset[o];

      memset (acc, 0, row * sizeof (double));
      for (int k = 0; k < t->count[o]; k++)
        {
          const float *srow = src + (gsize) (t->first[o] + k - src_y0) * row;

          for (gsize j = 0; j < row; j++)
            acc[j] += (double) wt[k] * srow[j];
        }
      for (gsize j = 0; j < row; j++)
        dst[(gsize) (o - o0) * row + j] = (float) acc[j];
    }
  g_free (acc);
}

NsImage *
ns_image_resize (const NsImage *image, int width, int height)
{
  NsAxis tx, ty;
  NsImage *out;
  float *tmp;
  int ch;

  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (image_size_ok (width, height, image->channels), NULL);

  if (width == image->width && height == image->height)
    return ns_image_copy (image);

  ch = image->channels;
  out = ns_image_new (width, height, ch);
  ns_axis_init (&tx, image->width, width);
  ns_axis_init (&ty, image->height, height);

  /* Across into tmp (width × image height), then down into out. */
  tmp = g_new (float, (gsize) width * image->height * ch);
  for (int y = 0; y < image->height; y++)
    ns_axis_resample_across (&tx, image->data + (gsize) y * image->width * ch, ch, 0, width,
                             tmp + (gsize) y * width * ch);
  ns_axis_resample_down (&ty, tmp, 0, (gsize) width * ch, 0, height, out->data);

  g_free (tmp);
  ns_axis_clear (&tx);
  ns_axis_clear (&ty);
  return out;
}

NsImage *
ns_image_resize_longest (const NsImage *image, int longest)
{
  double scale;
  int w, h;

  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (longest > 0, NULL);

  scale = (double) longest / MAX (image->width, image->height);
  if (image->width >= image->height)
    {
      w = longest;
      h = (int) MAX (1.0, floor (image->height * scale + 0.5));
    }
  else
    {
      h = longest;
      w = (int) MAX (1.0, floor (image->width * scale + 0.5));
    }
  return ns_image_resize (image, w, h);
}

NsImage *
ns_image_to_rgb (const NsImage *image)
{
  NsImage *rgb;
  gsize n;

  g_return_val_if_fail (image != NULL, NULL);

  if (image->channels == 3)
    return ns_image_copy (image);

  rgb = ns_image_new (image->width, image->height, 3);
  if (rgb == NULL)
    return NULL;
  n = (gsize) image->width * image->height;
  for (gsize i = 0; i < n; i++)
    rgb->data[3 * i] = rgb->data[3 * i + 1] = rgb->data[3 * i + 2] = image->data[i];
  return rgb;
}
