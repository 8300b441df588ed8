/* multires.c — coarse to fine: the sizes a run optimises at, and moving an image between them.
 *
 * A run starts at NS_SCALE_START pixels (longest side) and doubles up to the requested
 * size, each size starting from the previous result enlarged.  The sizes do not depend on
 * the target beyond where they stop (256, 512, 1024, …, then the target), and neither do
 * the iterations per size, so a run at 2048 px passes through exactly the states of a
 * preview at 512 px with the same seed and weights: the large result looks like the
 * preview.  Most iterations run at the small sizes, where they are cheap. */

#include <math.h>

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

/* ---- resampling without the whole result ------------------------------------------------- */

struct _NsResampler
{
  const NsImage *src;
  int            width, height;
  NsAxis         x, y;  /* ns_image_resize's, so that every pixel equals its own */
};

NsResampler *
ns_resampler_new (const NsImage *src, int width, int height)
{
  NsResampler *r = g_new0 (NsResampler, 1);

  r->src = src;
  r->width = width;
  r->height = height;
  ns_axis_init (&r->x, src->width, width);
  ns_axis_init (&r->y, src->height, height);
  return r;
}

void
ns_resampler_free (NsResampler *r)
{
  if (r == NULL)
    return;
  ns_axis_clear (&r->x);
  ns_axis_clear (&r->y);
  g_free (r);
}

void
ns_resampler_rect (const NsResampler *r, const NsRect *rect, float *dst)
{
  int ch = r->src->channels, cw = rect->x1 - rect->x0;
  int s0 = r->y.first[rect->y0];
  int s1 = s0;
  gsize row = (gsize) cw * ch;
  float *across;

  /* Only the source rows the rect's output rows read, resampled across for its columns. */
  for (int o = rect->y0; o < rect->y1; o++)
    s1 = MAX (s1, r->y.first[o] + r->y.count[o]);
  across = g_new (float, (gsize) (s1 - s0) * row);
  for (int sy = s0; sy < s1; sy++)
    ns_axis_resample_across (&r->x, r->src->data + (gsize) sy * r->src->width * ch, ch,
                             rect->x0, rect->x1, across + (gsize) (sy - s0) * row);
  ns_axis_resample_down (&r->y, across, s0, row, rect->y0, rect->y1, dst);
  g_free (across);
}

float *
ns_planes_resize (const float *x, int planes, int w, int h, int w2, int h2)
{
  gsize n2 = (gsize) w2 * h2;
  float *out = g_new (float, planes * n2);
  /* In bands of rows, so that no whole intermediate image is needed besides the result:
   * at the largest sizes there is no room for ns_image_resize's two. */
  int band = MAX (1, (int) ((4u << 20) / MAX (w2, 1)));

  for (int c = 0; c < planes; c++)
    {
      NsImage view = { w, h, 1, (float *) x + (gsize) c * w * h };
      g_autoptr (NsResampler) r = ns_resampler_new (&view, w2, h2);

      for (int y0 = 0; y0 < h2; y0 += band)
        {
          NsRect rect = { 0, y0, w2, MIN (h2, y0 + band) };

          ns_resampler_rect (r, &rect, out + c * n2 + (gsize) y0 * w2);
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

int
ns_style_longest (const NsImage *style, int content_w, int content_h, double style_scale)
{
  int own = MAX (style->width, style->height);
  int wanted = (int) lround (MAX (content_w, content_h) * style_scale);
  int limit = MAX (own, (int) lround (NS_STYLE_ENLARGE_LIMIT * style_scale));

  return MAX (1, MIN (wanted, limit));
}
