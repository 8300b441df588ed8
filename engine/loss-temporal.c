/* loss-temporal.c — the temporal loss of Ruder et al. (2016): the reliability-weighted mean
 * squared difference of a frame from the previous frame's result warped onto it, with its
 * gradient (sums in double).
 *
 * It is a mean over all c·h·w values like the other losses, so its weight means the same at
 * every size, and it is per pixel, so tiles need nothing from each other. */
#include <math.h>

#include "ns-internal.h"

double
ns_temporal_row (const float *x, const float *warped, const float *reliability, int w,
                 float scale, float *grow, double sum)
{
  for (int i = 0; i < w; i++)
    {
      double d = (double) x[i] - warped[i];

      sum += reliability[i] * d * d;
      if (grow != NULL)
        grow[i] += scale * (float) (reliability[i] * d);
    }
  return sum;
}

double
ns_temporal_rows (const float *x, const float *warped, const float *reliability, int planes,
                  int w, int h, int y0, int y1, float scale, float *band, int band_y0,
                  gsize band_plane)
{
  double sum = 0.0;

  for (int c = 0; c < planes; c++)
    for (int y = y0; y < y1; y++)
      {
        gsize o = ((gsize) c * h + y) * w;

        sum = ns_temporal_row (x + o, warped + o, reliability + (gsize) y * w, w, scale,
                               band != NULL ? band + c * band_plane + (gsize) (y - band_y0) * w
                                            : NULL,
                               sum);
      }
  return sum;
}

typedef struct
{
  const NsTensor *x, *warped, *reliability;
  float          *grad;
  float           scale;
} Temporal;

/* Rows from … to − 1 of all planes. */
static double
temporal_range (gsize from, gsize to, gpointer data)
{
  const Temporal *t = data;
  int h = t->x->h, w = t->x->w;
  double sum = 0.0;

  for (gsize r = from; r < to; r++)
    {
      gsize o = r * w;

      sum = ns_temporal_row (t->x->data + o, t->warped->data + o,
                             t->reliability->data + (r % h) * w, w, t->scale,
                             t->grad != NULL ? t->grad + o : NULL, sum);
    }
  return sum;
}

/* mean over c·h·w of r (x − ω)²;  ∂/∂x = 2 r (x − ω) / (c·h·w) */
double
ns_temporal_loss (const NsTensor *x, const NsTensor *warped, const NsTensor *reliability,
                  double weight, NsTensor *grad)
{
  Temporal t;
  gsize n;
  double sum;

  g_return_val_if_fail (x != NULL && warped != NULL && ns_tensor_same_shape (x, warped), NAN);
  g_return_val_if_fail (reliability != NULL && reliability->c == 1 && reliability->h == x->h
                        && reliability->w == x->w, NAN);
  g_return_val_if_fail (grad == NULL || ns_tensor_same_shape (x, grad), NAN);

  n = ns_tensor_len (x);
  if (n == 0)
    return 0.0;
  t.x = x;
  t.warped = warped;
  t.reliability = reliability;
  t.grad = grad != NULL ? grad->data : NULL;
  t.scale = grad != NULL ? (float) (2.0 * weight / (double) n) : 0.0f;
  sum = ns_parallel_sum ((gsize) x->c * x->h, ns_chunk_rows (x->w), x->w, temporal_range, &t);
  return weight * sum / (double) n;
}
