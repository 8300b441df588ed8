/* activation.c — ReLU. */

#include "ns-internal.h"

void
ns_relu_forward (NsTensor *t)
{
  gsize n = ns_tensor_len (t);
  float *x = t->data;

  /* Written as "x < 0 ? 0 : x" so a NaN passes through (as in torch) and the optimiser
   * sees that the point is unusable instead of a silently zeroed activation. */
  for (gsize i = 0; i < n; i++)
    x[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void
ns_relu_backward (const NsTensor *out, NsTensor *grad)
{
  gsize n = ns_tensor_len (grad);
  const float *y = out->data;
  float *g = grad->data;

  g_return_if_fail (ns_tensor_len (out) == n);

  for (gsize i = 0; i < n; i++)
    g[i] = y[i] <= 0.0f ? 0.0f : g[i];
}
