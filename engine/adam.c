/* adam.c — Adam (Kingma & Ba 2015) with bias correction, in the form torch.optim.Adam
 * computes it: x −= (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε).
 *
 * Every iterate is evaluated, so the iteration callback sees the objective at the new x.
 * The best finite iterate is kept, so that a NaN/Inf can stop the run without losing it. */

#include <math.h>
#include <string.h>

#include "ns-internal.h"

/* TRUE when f and every gradient entry are finite. */
static gboolean
point_is_finite (double f, const float *g, gsize n)
{
  if (!isfinite (f))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!isfinite (g[i]))
      return FALSE;
  return TRUE;
}

/* One Adam step for iteration k (1-based): updates the moments m, v and x. */
static void
adam_step (const NsAdamParams *p, int k, float *x, const float *g, float *m, float *v, gsize n)
{
  float b1 = (float) p->beta1, b2 = (float) p->beta2;
  float step = (float) (p->learning_rate / (1.0 - pow (p->beta1, k)));
  float sqrt_bc2 = (float) sqrt (1.0 - pow (p->beta2, k));
  float eps = (float) p->epsilon;

  for (gsize i = 0; i < n; i++)
    {
      float denom;

      m[i] += (1.0f - b1) * (g[i] - m[i]);
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      denom = sqrtf (v[i]) / sqrt_bc2 + eps;
      /* denom is 0 only when ε = 0 and every gradient so far was 0 (or squared to 0):
       * no step then, rather than 0/0. */
      if (denom > 0.0f)
        x[i] -= step * m[i] / denom;
    }
}

gsize
ns_adam_workspace_floats (gsize n)
{
  /* gradient, two moments, best iterate. */
  return 4 * n;
}

NsOptimStatus
ns_adam_minimize (float *x, gsize n, const NsAdamParams *params,
                  NsObjectiveFunc func, NsIterationFunc iter, gpointer user_data,
                  double *f_out)
{
  NsOptimStatus status = NS_OPTIM_MAX_ITERATIONS;
  float *g, *m, *v, *best;
  double f, best_f;

  g_return_val_if_fail (x != NULL && params != NULL && func != NULL, NS_OPTIM_NUMERIC);
  /* β = 1 would make the bias corrections divide by zero. */
  g_return_val_if_fail (params->beta1 >= 0.0 && params->beta1 < 1.0, NS_OPTIM_NUMERIC);
  g_return_val_if_fail (params->beta2 >= 0.0 && params->beta2 < 1.0, NS_OPTIM_NUMERIC);

  g = ns_floats_new (n);
  f = func (x, g, user_data);
  if (!point_is_finite (f, g, n))
    {
      ns_floats_free (g);
      if (f_out)
        *f_out = f;
      return NS_OPTIM_NUMERIC;
    }

  m = ns_floats_new (n);
  v = ns_floats_new (n);
  best = ns_floats_new (n);
  memcpy (best, x, n * sizeof (float));
  best_f = f;

  for (int k = 1; k <= params->max_iterations; k++)
    {
      adam_step (params, k, x, g, m, v, n);
      f = func (x, g, user_data);
      if (!point_is_finite (f, g, n))
        {
          memcpy (x, best, n * sizeof (float));
          f = best_f;
          status = NS_OPTIM_NUMERIC;
          break;
        }
      if (f < best_f)
        {
          memcpy (best, x, n * sizeof (float));
          best_f = f;
        }
      if (iter && !iter (k, x, f, user_data))
        {
          status = NS_OPTIM_STOPPED;
          break;
        }
    }

  if (f_out)
    *f_out = f;

  ns_floats_free (best);
  ns_floats_free (v);
  ns_floats_free (m);
  ns_floats_free (g);
  return status;
}
