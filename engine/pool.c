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

/* Both directions run over the threads by output rows (all channels' rows in one list):
 * each output row reads and writes only its own two input rows. */
typedef struct
{
  NsPoolKind      kind;
  const NsTensor *in, *grad_out;
  NsTensor       *out, *grad_in;
  guint8         *argmax;       /* max: the winners by output element, or NULL */
} Pool;

static void
forward_rows (gsize from, gsize to, gpointer data)
{
  const Pool *p = data;
  const NsTensor *in = p->in;
  NsTensor *out = p->out;

  for (gsize r = from; r < to; r++)
    {
      gsize c = r / out->h, y = r % out->h;
      const float *src = in->data + (c * in->h + 2 * y) * in->w;
      float *dst = out->data + r * out->w;

      for (int x = 0; x < out->w; x++)
        {
          const float *q = src + 2 * x;

          if (p->kind == NS_POOL_MAX)
            {
              int k = window_argmax (q, in->w);

              if (p->argmax != NULL)
                p->argmax[r * out->w + x] = (guint8) k;
              dst[x] = q[window_offset (k, in->w)];
            }
          else
            dst[x] = 0.25f * ((q[0] + q[1]) + (q[in->w] + q[in->w + 1]));
        }
    }
}

static void
forward (NsPoolKind kind, const NsTensor *in, NsTensor *out, guint8 *argmax)
{
  Pool p = { kind, in, NULL, out, NULL, argmax };

  g_return_if_fail (in != NULL && out != NULL && shapes_ok (in, out));

  if (out->w > 0)
    ns_parallel_range ((gsize) out->c * out->h, ns_chunk_rows (2 * (gsize) in->w),
                       2 * (gsize) in->w, forward_rows, &p);
}

void
ns_pool2_forward (NsPoolKind kind, const NsTensor *in, NsTensor *out)
{
  forward (kind, in, out, NULL);
}

void
ns_pool2_max_forward_argmax (const NsTensor *in, NsTensor *out, guint8 *argmax)
{
  g_return_if_fail (argmax != NULL);
  forward (NS_POOL_MAX, in, out, argmax);
}

/* The winner of output element o (at x of its row), recorded or found again in src. */
static inline int
winner (const Pool *p, gsize o, const float *src, int x, int w)
{
  return p->argmax != NULL ? p->argmax[o] : window_argmax (src + 2 * x, w);
}

static void
backward_rows (gsize from, gsize to, gpointer data)
{
  const Pool *p = data;
  const NsTensor *grad_out = p->grad_out;
  int w = p->grad_in->w, h = p->grad_in->h;

  for (gsize r = from; r < to; r++)
    {
      gsize c = r / grad_out->h, y = r % grad_out->h;
      gsize row = (c * h + 2 * y) * w;
      const float *src = p->in != NULL ? p->in->data + row : NULL;
      const float *g = grad_out->data + r * grad_out->w;
      float *dst = p->grad_in->data + row;
      /* Zeroing the rows here covers the non-maximal entries and the dropped odd column,
       * and the dropped odd row with the channel's last output row. */
      gsize rows = y + 1 == (gsize) grad_out->h && h % 2 ? 3 : 2;

      memset (dst, 0, rows * w * sizeof (float));
      for (int x = 0; x < grad_out->w; x++)
        {
          float *d = dst + 2 * x;

          if (p->kind == NS_POOL_MAX)
            d[window_offset (winner (p, r * grad_out->w + x, src, x, w), w)] = g[x];
          else
            {
              float q = 0.25f * g[x];

              d[0] = q;
              d[1] = q;
              d[w] = q;
              d[w + 1] = q;
            }
        }
    }
}

static void
backward (const Pool *p)
{
  gsize w = p->grad_in->w;

  if (p->grad_out->h == 0)
    {
      ns_floats_zero (p->grad_in->data, ns_tensor_len (p->grad_in));
      return;
    }
  ns_parallel_range ((gsize) p->grad_out->c * p->grad_out->h, ns_chunk_rows (2 * w), 2 * w,
                     backward_rows, (gpointer) p);
}

void
ns_pool2_backward (NsPoolKind kind, const NsTensor *in, const NsTensor *grad_out,
                   NsTensor *grad_in)
{
  Pool p = { kind, in, grad_out, NULL, grad_in, NULL };

  g_return_if_fail (in != NULL && grad_out != NULL && grad_in != NULL);
  g_return_if_fail (shapes_ok (in, grad_out));
  g_return_if_fail (grad_in->c == in->c && grad_in->h == in->h && grad_in->w == in->w);

  backward (&p);
}

void
ns_pool2_backward_argmax (NsPoolKind kind, const guint8 *argmax, const NsTensor *grad_out,
                          NsTensor *grad_in)
{
  Pool p = { kind, NULL, grad_out, NULL, grad_in, (guint8 *) argmax };

  g_return_if_fail (grad_out != NULL && grad_in != NULL && shapes_ok (grad_in, grad_out));
  g_return_if_fail (kind == NS_POOL_AVG || argmax != NULL);

  backward (&p);
}
