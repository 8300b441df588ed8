/* loss-content.c — the content loss: the mean squared difference of features from their
 * target, with its gradient.
 *
 * Every loss is a mean (see neural-style.h), so the weights keep their meaning at every
 * image size.  Sums are accumulated in double: a 512-channel layer has millions of terms.
 */
#include <math.h>

#include "ns-internal.h"

typedef struct
{
  const float *f, *target;
  float       *grad;
  float        scale;
} Content;

/* Σ (F − P)² over a chunk, in four double lanes added in a fixed order (the compiler
 * may not reorder one sum, and these vectorise); the gradient in the same pass. */
static double
content_range (gsize from, gsize to, gpointer data)
{
  const Content *c = data;
  const float *f = c->f, *t = c->target;
  double lane[4] = { 0.0, 0.0, 0.0, 0.0 };
  gsize i = from;

  for (; i + 4 <= to; i += 4)
    for (int k = 0; k < 4; k++)
      {
        double d = (double) f[i + k] - t[i + k];

        lane[k] += d * d;
      }
  for (; i < to; i++)
    {
      double d = (double) f[i] - t[i];

      lane[0] += d * d;
    }
  if (c->grad != NULL)
    for (i = from; i < to; i++)
      c->grad[i] += c->scale * (f[i] - t[i]);
  return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

double
ns_content_sum (const float *f, const float *target, gsize n, float scale, float *grad)
{
  Content c = { f, target, grad, scale };

  return n > 0 ? ns_parallel_sum (n, NS_CHUNK, 1, content_range, &c) : 0.0;
}

/* mean over c·h·w of (F − P)²;  ∂/∂F = 2 (F − P) / (c·h·w) */
double
ns_content_loss (const NsTensor *f, const NsTensor *target, double weight, NsTensor *grad)
{
  gsize n;
  double sum;

  g_return_val_if_fail (f != NULL && target != NULL && ns_tensor_same_shape (f, target), NAN);
  g_return_val_if_fail (grad == NULL || ns_tensor_same_shape (f, grad), NAN);

  n = ns_tensor_len (f);
  if (n == 0)
    return 0.0;
  sum = ns_content_sum (f->data, target->data, n, (float) (2.0 * weight / (double) n),
                        grad != NULL ? grad->data : NULL);
  return weight * sum / (double) n;
}
