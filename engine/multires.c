/* multires.c — coarse to fine: the sizes a run optimises at, and moving an image between them.
 *
 * A run starts at NS_SCALE_START pixels (longest side) and doubles up to the requested
 * size, each size starting from the previous result enlarged.  The sizes do not depend on
 * the target beyond where they stop (256, 512, 1024, …, then the target), and neither do
 * the iterations per size, so a run at 2048 px passes through exactly the states of a
 * preview at 512 px with the same seed and weights: the large result looks like the
 * preview.  Most iterations run at the small sizes, where they are cheap. */

#include <math.h>
#include <string.h>

#include "ns-internal.h"

/* A last step smaller than this factor is merged into the target size. */
#define MIN_LAST_STEP 1.25

static void
size_at_longest (int width, int height, int longest, int *w, int *h)
{
  double s = (double) longest / MAX (width, height);

  *w = MAX (1, (int) lround (width * s));
  *h = MAX (1, (int) lround (height * s));
  if (width >= height)
    *w = longest;
  else
    *h = longest;
}

NsScale *
ns_scales_plan (const NsOptions *opt, int width, int height, int min_side, int *n_scales)
{
  int longest = MAX (width, height), shortest = MIN (width, height);
  int n_explicit = opt->n_scale_iterations > 0 ? opt->n_scale_iterations : opt->scales;
  GArray *sizes = g_array_new (FALSE, FALSE, sizeof (int));
  NsScale *scales;
  int n;

  if (n_explicit > 0)
    {
      /* Halving from the target; sizes the layers cannot use are dropped. */
      for (int k = n_explicit - 1; k >= 0; k--)
        {
          int l = (int) lround (longest / pow (2.0, k));

          if ((double) shortest * l / longest >= min_side && l >= 1)
            g_array_append_val (sizes, l);
        }
    }
  else
    {
      for (int l = NS_SCALE_START; l * MIN_LAST_STEP < longest; l *= 2)
        if ((double) shortest * l / longest >= min_side)
          g_array_append_val (sizes, l);
    }
  if (sizes->len == 0 || g_array_index (sizes, int, sizes->len - 1) != longest)
    g_array_append_val (sizes, longest);

  n = sizes->len;
  scales = g_new0 (NsScale, n);
  for (int k = 0; k < n; k++)
    {
      int l = g_array_index (sizes, int, k);

      if (k == n - 1)
        {
          scales[k].width = width;
          scales[k].height = height;
        }
      else
        size_at_longest (width, height, l, &scales[k].width, &scales[k].height);

      if (opt->n_scale_iterations > 0)
        {
          /* Coarse to fine; a shorter list than there are sizes (some were too small)
           * keeps its finest entries. */
          int i = opt->n_scale_iterations - n + k;

          scales[k].iterations = opt->scale_iterations[MAX (i, 0)];
        }
      else
        scales[k].iterations = k == 0 ? opt->iterations
                                      : MAX (1, (scales[k - 1].iterations + 1) / 2);
      if (opt->iterations == 0)
        scales[k].iterations = 0;
    }
  g_array_free (sizes, TRUE);
  *n_scales = n;
  return scales;
}

/* One output row of a pixel-centre-aligned linear enlargement (image.c's axis table for
 * out ≥ in): sample position (o + ½)·in/out − ½, clamped, between two source values. */
static void
linear_taps (int in, int out, int *first, float *frac)
{
  for (int o = 0; o < out; o++)
    {
      double s = ((double) o + 0.5) * in / out - 0.5;

      s = CLAMP (s, 0.0, (double) (in - 1));
      first[o] = MIN ((int) floor (s), in - 1);
      frac[o] = (float) (s - first[o]);
      if (first[o] + 1 >= in)
        frac[o] = 0.0f;
    }
}

/* Enlarges one plane into dst, rows first then columns as ns_image_resize does, keeping
 * only two horizontally resampled source rows: at the largest sizes there is no room for
 * ns_image_resize's intermediate and result images. */
static void
enlarge_plane (const float *src, int w, int h, float *dst, int w2, int h2)
{
  g_autofree int *fx = g_new (int, w2);
  g_autofree int *fy = g_new (int, h2);
  g_autofree float *ax = g_new (float, w2);
  g_autofree float *ay = g_new (float, h2);
  g_autofree float *rows = g_new (float, 2 * (gsize) w2);
  int have[2] = { -1, -1 };

  linear_taps (w, w2, fx, ax);
  linear_taps (h, h2, fy, ay);
  for (int o = 0; o < h2; o++)
    {
      const float *r[2];

      for (int k = 0; k < 2; k++)
        {
          int y = MIN (fy[o] + k, h - 1), slot = y & 1;
          float *row = rows + (gsize) slot * w2;

          if (have[slot] != y)
            {
              const float *s = src + (gsize) y * w;

              for (int x = 0; x < w2; x++)
                {
                  double acc = (double) (1.0f - ax[x]) * s[fx[x]];

                  if (fx[x] + 1 < w)
                    acc += (double) ax[x] * s[fx[x] + 1];
                  row[x] = (float) acc;
                }
              have[slot] = y;
            }
          r[k] = row;
        }
      for (int x = 0; x < w2; x++)
        {
          double acc = (double) (1.0f - ay[o]) * r[0][x];

          if (fy[o] + 1 < h)
            acc += (double) ay[o] * r[1][x];
          dst[(gsize) o * w2 + x] = (float) acc;
        }
    }
}

float *
ns_planes_resize (const float *x, int planes, int w, int h, int w2, int h2)
{
  gsize n2 = (gsize) w2 * h2;
  float *out = g_new (float, planes * n2);

  for (int c = 0; c < planes; c++)
    {
      const float *plane = x + (gsize) c * w * h;

      if (w2 >= w && h2 >= h)
        enlarge_plane (plane, w, h, out + c * n2, w2, h2);
      else
        {
          NsImage view = { w, h, 1, (float *) plane };
          g_autoptr (NsImage) r = ns_image_resize (&view, w2, h2);

          memcpy (out + c * n2, r->data, n2 * sizeof (float));
        }
    }
  return out;
}

void
ns_planes_interleave (float *x, int planes, gsize n)
{
  gsize total = n * planes;
  guint8 *done;

  if (planes <= 1 || n <= 1)
    return;
  /* Element c·n + i goes to i·planes + c.  Follow each permutation cycle once, marking the
   * positions it fills: a bit per element (1/32 of the image) instead of a copy. */
  done = g_malloc0 ((total + 7) / 8);
  for (gsize start = 0; start < total; start++)
    {
      gsize pos = start;
      float carried;

      if (done[start >> 3] & (1u << (start & 7)))
        continue;
      carried = x[start];
      do
        {
          gsize dest = (pos % n) * planes + pos / n;
          float next = x[dest];

          x[dest] = carried;
          done[dest >> 3] |= (guint8) (1u << (dest & 7));
          carried = next;
          pos = dest;
        }
      while (pos != start);
    }
  g_free (done);
}
