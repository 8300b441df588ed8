/* loss-style.c — the style loss: the mean squared difference of Gram matrices from their
 * target, with its gradient (normalisation in neural-style.h; sums in double). */
#include <math.h>

#include "ns-internal.h"

/* d ← D + Dᵀ, in place, one pair at a time. */
static void
symmetrize (float *d, int c)
{
  for (int i = 0; i < c; i++)
    {
      d[(gsize) i * c + i] *= 2.0f;
      for (int j = i + 1; j < c; j++)
        {
          float s = d[(gsize) i * c + j] + d[(gsize) j * c + i];

          d[(gsize) i * c + j] = d[(gsize) j * c + i] = s;
        }
    }
}

double
ns_style_gram_loss (float *d, const float *target_gram, int c, double weight,
                    gboolean gradient)
{
  gsize cc = (gsize) c * c;
  double sum = 0.0;

  if (cc == 0)
    return 0.0;
  for (gsize i = 0; i < cc; i++)
    {
      double diff = (double) d[i] - target_gram[i];

      sum += diff * diff;
      d[i] = (float) diff;
    }
  if (gradient)
    symmetrize (d, c);
  return weight * sum / (double) cc;
}

/* mean over c² of (G − A)², G = F·Fᵀ / N with N = c·h·w.
 * ∂/∂F = 2 (D + Dᵀ) F / (c²·N) with D = G − A, which is 4 D F / (c²·N) for a symmetric
 * target; the symmetrised form stays exact if the target is not quite symmetric. */
double
ns_style_loss (const NsTensor *f, const float *target_gram, double weight, NsTensor *grad)
{
  int c;
  gsize hw, cc;
  double n, loss;
  float *d;

  g_return_val_if_fail (f != NULL && target_gram != NULL, NAN);
  g_return_val_if_fail (grad == NULL || ns_tensor_same_shape (f, grad), NAN);

  c = f->c;
  hw = (gsize) f->h * f->w;
  cc = (gsize) c * c;
  if (c == 0 || hw == 0)
    return 0.0;
  n = (double) c * (double) hw;

  d = ns_floats_new (cc);
  ns_gram (f, d);
  loss = ns_style_gram_loss (d, target_gram, c, weight, grad != NULL);
  if (grad != NULL)
    ns_sgemm (FALSE, c, (int) hw, c, (float) (2.0 * weight / ((double) cc * n)), d, c,
              f->data, (int) hw, 1.0f, grad->data, (int) hw);
  ns_floats_free (d);
  return loss;
}
