/* loss-tv.c — total variation: the mean squared difference of neighbouring pixels, with its
 * gradient (normalisation in neural-style.h; sums in double). */
#include <math.h>

#include "ns-internal.h"

/* Each pixel gathers the four ±2 (a − b) terms of the pairs it is in, in the order a loop
 * scattering them pair by pair would add them (the pair above, the pair to the left, then
 * its own two), so that rows are independent and the gradient keeps its bits. */
double
ns_tv_row (const float *row, const float *above, const float *below, int w, float scale,
           float *grow, double sum)
{
  for (int x = 0; x < w; x++)
    {
      double dx = 0.0, dy = 0.0;

      if (x + 1 < w)
        {
          dx = (double) row[x] - row[x + 1];
          sum += dx * dx;
        }
      if (below != NULL)
        {
          dy = (double) row[x] - below[x];
          sum += dy * dy;
        }
      if (grow == NULL)
        continue;
      if (above != NULL)
        grow[x] -= scale * (float) ((double) above[x] - row[x]);
      if (x > 0)
        grow[x] -= scale * (float) ((double) row[x - 1] - row[x]);
      if (x + 1 < w)
        grow[x] += scale * (float) dx;
      if (below != NULL)
        grow[x] += scale * (float) dy;
    }
  return sum;
}

typedef struct
{
  const NsTensor *img;
  float          *grad;
  float           scale;
} Tv;

/* Rows from … to − 1 of all channels. */
static double
tv_range (gsize from, gsize to, gpointer data)
{
  const Tv *t = data;
  int h = t->img->h, w = t->img->w;
  double sum = 0.0;

  for (gsize r = from; r < to; r++)
    {
      int y = (int) (r % h);
      const float *row = t->img->data + r * w;

      sum = ns_tv_row (row, y > 0 ? row - w : NULL, y + 1 < h ? row + w : NULL, w, t->scale,
                       t->grad != NULL ? t->grad + r * w : NULL, sum);
    }
  return sum;
}

/* Σ over horizontal and vertical neighbour pairs of (a − b)², divided by c·h·w.
 * Each pair adds ±2 (a − b) / (c·h·w) to the gradients of its two pixels. */
double
ns_tv_loss (const NsTensor *img, double weight, NsTensor *grad)
{
  Tv t;
  gsize n;
  double sum;

  g_return_val_if_fail (img != NULL, NAN);
  g_return_val_if_fail (grad == NULL || ns_tensor_same_shape (img, grad), NAN);

  n = ns_tensor_len (img);
  if (n == 0)
    return 0.0;
  t.img = img;
  t.grad = grad != NULL ? grad->data : NULL;
  t.scale = grad != NULL ? (float) (2.0 * weight / (double) n) : 0.0f;
  sum = ns_parallel_sum ((gsize) img->c * img->h, ns_chunk_rows (img->w), img->w, tv_range, &t);
  return weight * sum / (double) n;
}
