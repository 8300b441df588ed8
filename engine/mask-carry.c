/* mask-carry.c — a region's mask carried down the network to each layer's feature map, so
 * that a guided Gram matrix (loss-style-guided.c) weighs each feature by how much of it
 * lies in the region.
 *
 * Every convolution is 3×3 with padding 1 and keeps the size; a pooling halves it, rounding
 * down (pool.c).  The 3×3 windows take only the pixels inside the map, so that a mask of
 * ones stays ones exactly: a full mask gives the plain style loss. */
#include <math.h>
#include <string.h>

#include "ns-internal.h"

/* The 3×3 window around each pixel of src (w × h): mean, min or max of its in-map pixels. */
static void
window3 (const float *src, int w, int h, NsMaskCarry carry, float *dst)
{
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        double sum = 0.0;
        float lo = INFINITY, hi = -INFINITY;
        int n = 0;

        for (int yy = MAX (0, y - 1); yy <= MIN (h - 1, y + 1); yy++)
          for (int xx = MAX (0, x - 1); xx <= MIN (w - 1, x + 1); xx++)
            {
              float v = src[(gsize) yy * w + xx];

              sum += v;
              lo = MIN (lo, v);
              hi = MAX (hi, v);
              n++;
            }
        dst[(gsize) y * w + x] = carry == NS_MASK_CARRY_INSIDE ? lo
                                 : carry == NS_MASK_CARRY_ALL ? hi : (float) (sum / n);
      }
}

/* 2×2 stride-2 windows, floor size: mean, min or max. */
static void
window2 (const float *src, int w, int h, NsMaskCarry carry, float *dst)
{
  int w2 = w / 2, h2 = h / 2;

  for (int y = 0; y < h2; y++)
    for (int x = 0; x < w2; x++)
      {
        const float *p = src + (gsize) 2 * y * w + 2 * x;
        float a = p[0], b = p[1], c = p[w], d = p[w + 1];

        dst[(gsize) y * w2 + x] = carry == NS_MASK_CARRY_INSIDE ? MIN (MIN (a, b), MIN (c, d))
                                  : carry == NS_MASK_CARRY_ALL ? MAX (MAX (a, b), MAX (c, d))
                                  : (a + b + c + d) * 0.25f;
      }
}

/* A copy of the mask scaled to mean square 1 (empty: all zero). */
static float *
normalised (const float *m, gsize n, gboolean *empty)
{
  float *out = g_new (float, n);
  double sum = 0.0;
  float k;

  for (gsize i = 0; i < n; i++)
    sum += (double) m[i] * m[i];
  *empty = ! (sum > 0.0);
  k = *empty ? 0.0f : (float) (1.0 / sqrt (sum / n));
  for (gsize i = 0; i < n; i++)
    out[i] = m[i] * k;
  return out;
}

NsLayerMasks *
ns_layer_masks_new (const NsNetwork *net, const float *mask, int w, int h, int last,
                    const gboolean *hooked, NsMaskCarry carry)
{
  NsLayerMasks *m = g_new0 (NsLayerMasks, 1);
  float *cur = g_memdup2 (mask, (gsize) w * h * sizeof (float));

  m->n_layers = last + 1;
  m->at = g_new0 (float *, m->n_layers);
  m->w = g_new0 (int, m->n_layers);
  m->h = g_new0 (int, m->n_layers);
  m->empty = g_new0 (gboolean, m->n_layers);
  for (int i = 0; i <= last; i++)
    {
      NsLayerKind kind = net->layers[i].kind;

      if (kind == NS_LAYER_MAXPOOL || kind == NS_LAYER_AVGPOOL)
        {
          float *next = g_new (float, (gsize) MAX (1, (w / 2) * (h / 2)));

          window2 (cur, w, h, carry, next);
          g_free (cur);
          cur = next;
          w /= 2;
          h /= 2;
        }
      else if ((kind == NS_LAYER_CONV || kind == NS_LAYER_CONV_KEEP)
               && carry != NS_MASK_CARRY_SIMPLE)
        {
          float *next = g_new (float, (gsize) w * h);

          window3 (cur, w, h, carry, next);
          g_free (cur);
          cur = next;
        }
      m->w[i] = w;
      m->h[i] = h;
      if (hooked[i])
        m->at[i] = normalised (cur, (gsize) w * h, &m->empty[i]);
    }
  g_free (cur);
  return m;
}

void
ns_layer_masks_free (NsLayerMasks *m)
{
  if (m == NULL)
    return;
  for (int i = 0; i < m->n_layers; i++)
    g_free (m->at[i]);
  g_free (m->at);
  g_free (m->w);
  g_free (m->h);
  g_free (m->empty);
  g_free (m);
}

void
ns_layer_masks_apply (const NsLayerMasks *m, int layer, const NsRect *rows, int power,
                      float *f, int c, gsize ld)
{
  int cw = rows->x1 - rows->x0;
  const float *mask = m->at[layer];

  g_return_if_fail (mask != NULL);
  for (int y = rows->y0; y < rows->y1; y++)
    {
      const float *t = mask + (gsize) y * m->w[layer] + rows->x0;
      gsize o = (gsize) (y - rows->y0) * cw;

      for (int k = 0; k < c; k++)
        {
          float *p = f + k * ld + o;

          if (power == 2)
            for (int x = 0; x < cw; x++)
              p[x] *= t[x] * t[x];
          else
            for (int x = 0; x < cw; x++)
              p[x] *= t[x];
        }
    }
}
