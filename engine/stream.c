/* stream.c — optimising an image too large to keep an optimiser's vectors beside it.
 *
 * At 67 megapixels one float vector of the image is 805 MB: x, its gradient and Adam's two
 * moments would take 3.2 GB.  Here the objective hands out the gradient by bands of rows
 * as soon as they are complete (ns_objective_eval_rows), and each band is applied to x at
 * once:
 *   x −= rate · g / (√v̂ + ε),
 * where v is the mean square of the gradient per channel, averaged over the image and
 * smoothed over iterations like Adam's second moment (β2, with bias correction).  Within
 * an iteration v uses the bands seen so far, so the first band of the first iteration is
 * normalised by its own statistics.  The step is Adam's without momentum and with one
 * scale per channel instead of per pixel: the memory is that of x alone.  It is meant for
 * the last few iterations of a coarse-to-fine run, which start close to the result. */

#include <math.h>
#include <string.h>

#include "ns-internal.h"

typedef struct
{
  const NsStreamParams *p;
  float    *x;
  int       planes, w, h;
  int       k;                /* iteration, from 1 */
  double    v[3];             /* smoothed mean square, per channel */
  double    sum[3];           /* this iteration: Σ g², and the count */
  gsize     count;
  gboolean  bad;              /* a non-finite gradient value was skipped */
} Stream;

static void
apply_rows (int y0, int y1, const float *band, gsize plane, gpointer data)
{
  Stream *s = data;
  gsize n = (gsize) (y1 - y0) * s->w;
  double b2 = s->p->beta2;

  for (int c = 0; c < s->planes; c++)
    {
      const float *g = band + c * plane;

      for (gsize i = 0; i < n; i++)
        if (isfinite (g[i]))
          s->sum[c] += (double) g[i] * g[i];
    }
  s->count += n;

  for (int c = 0; c < s->planes; c++)
    {
      const float *g = band + c * plane;
      float *x = s->x + ((gsize) c * s->h + y0) * s->w;
      double ms = s->sum[c] / (double) s->count;
      double v = b2 * s->v[c] + (1.0 - b2) * ms;
      double v_hat = v / (1.0 - pow (b2, s->k));
      float step = (float) (s->p->learning_rate / (sqrt (v_hat) + s->p->epsilon));

      for (gsize i = 0; i < n; i++)
        {
          if (! isfinite (g[i]))
            {
              s->bad = TRUE;
              continue;
            }
          x[i] -= step * g[i];
        }
    }
}

NsOptimStatus
ns_stream_minimize (NsObjective *obj, float *x, const NsStreamParams *params,
                    NsIterationFunc iter, gpointer user_data, double *f_out, double parts[3])
{
  Stream s = { 0 };
  gsize n = ns_objective_len (obj);
  double f = NAN;

  s.p = params;
  s.x = x;
  ns_objective_size (obj, &s.w, &s.h);
  s.planes = (int) (n / ((gsize) s.w * s.h));
  g_return_val_if_fail (s.planes >= 1 && s.planes <= 3, NS_OPTIM_NUMERIC);

  for (s.k = 1; s.k <= params->max_iterations; s.k++)
    {
      memset (s.sum, 0, sizeof s.sum);
      s.count = 0;
      f = ns_objective_eval_rows (obj, x, apply_rows, &s, parts);
      for (int c = 0; c < s.planes; c++)
        s.v[c] = params->beta2 * s.v[c] + (1.0 - params->beta2) * s.sum[c] / MAX (s.count, 1);
      if (f_out)
        *f_out = f;
      if (! isfinite (f) || s.bad)
        return NS_OPTIM_NUMERIC;
      if (iter && ! iter (s.k, x, f, user_data))
        return NS_OPTIM_STOPPED;
    }
  return NS_OPTIM_MAX_ITERATIONS;
}
