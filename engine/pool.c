/* pool.c — 2×2 stride-2 max and average pooling, floor output size (torch ceil_mode=False). */

#include <math.h>
#include <string.h>

#include "ns-internal.h"

/* Offset (0‥3, row-major in the window) of the first maximum, as PyTorch's CPU kernel:
 * a later value wins only if strictly greater, and a NaN wins (and stays). */
static int
window_argmax (const float *p, int w)
{
  const float v[4] = { p[0], p[1], p[w], p[w + 1] };
  int best = 0;

  for (int k = 1; k < 4; k++)
    if (!isnan (v[best]) && (v[k] > v[best] || isnan (v[k])))
      best = k;
  return best;
}

static inline gsize
window_offset (int k, int w)
{
  return (gsize) (k >> 1) * w + (k & 1);
}

static gboolean
shapes_ok (const NsTensor *in, const NsTensor *out)
{
  return out->c == in->c && out->h == in->h / 2 && out->w == in->w / 2;
}

void
ns_pool2_forward (NsPoolKind kind, const NsTensor *in, NsTensor *out)
{
  g_return_if_fail (in != NULL && out != NULL && shapes_ok (in, out));

  for (int c = 0; c < out->c; c++)
    for (int y = 0; y < out->h; y++)
      {
        const float *src = in->data + ((gsize) c * in->h + 2 * y) * in->w;
        float *dst = out->data + ((gsize) c * out->h + y) * out->w;

        for (int x = 0; x < out->w; x++)
          {
            const float *p = src + 2 * x;

            if (kind == NS_POOL_MAX)
              dst[x] = p[window_offset (window_argmax (p, in->w), in->w)];
            else
              dst[x] = 0.25f * ((p[0] + p[1]) + (p[in->w] + p[in->w + 1]));
          }
      }
}

void
ns_pool2_backward (NsPoolKind kind, const NsTensor *in, const NsTensor *grad_out,
                   NsTensor *grad_in)
{
  g_return_if_fail (in != NULL && grad_out != NULL && grad_in != NULL);
  g_return_if_fail (shapes_ok (in, grad_out));
  g_return_if_fail (grad_in->c == in->c && grad_in->h == in->h && grad_in->w == in->w);

  /* Zeroing first covers the dropped odd row/column and the non-maximal entries. */
  memset (grad_in->data, 0, ns_tensor_len (grad_in) * sizeof (float));

  for (int c = 0; c < grad_out->c; c++)
    for (int y = 0; y < grad_out->h; y++)
      {
        gsize row = ((gsize) c * in->h + 2 * y) * in->w;
        const float *src = in->data + row;
        const float *g = grad_out->data + ((gsize) c * grad_out->h + y) * grad_out->w;
        float *dst = grad_in->data + row;

        for (int x = 0; x < grad_out->w; x++)
          {
            float *d = dst + 2 * x;

            if (kind == NS_POOL_MAX)
              d[window_offset (window_argmax (src + 2 * x, in->w), in->w)] = g[x];
            else
              {
                float q = 0.25f * g[x];

                d[0] = q;
                d[1] = q;
                d[in->w] = q;
                d[in->w + 1] = q;
              }
          }
      }
}
