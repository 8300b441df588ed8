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

/* ---- the pixels a mask covers --------------------------------------------------------------- */

void
ns_masked_pixels_init (NsMaskedPixels *px, const float *mask, gsize mask_stride, int w, int h,
                       gsize stride)
{
  gsize most = (gsize) MAX (w, 0) * MAX (h, 0);

  px->n = 0;
  px->at = g_new (gsize, MAX (most, 1));
  px->t = g_new (float, MAX (most, 1));
  for (int y = 0; y < h; y++)
    {
      const float *row = mask + (gsize) y * mask_stride;

      for (int x = 0; x < w; x++)
        if (row[x] != 0.0f)
          {
            px->at[px->n] = (gsize) y * stride + x;
            px->t[px->n++] = row[x];
          }
    }
}

void
ns_masked_pixels_clear (NsMaskedPixels *px)
{
  g_clear_pointer (&px->at, g_free);
  g_clear_pointer (&px->t, g_free);
  px->n = 0;
}

void
ns_masked_gather (const NsMaskedPixels *px, const float *f, gsize plane, int c, int power,
                  const float *scale, float *dst)
{
  gsize n = px->n;

  for (int k = 0; k < c; k++)
    {
      const float *fk = f + k * plane;
      float s = scale ? scale[k] : 1.0f, *d = dst + k * n;

      if (power == 2)
        for (gsize j = 0; j < n; j++)
          d[j] = fk[px->at[j]] * px->t[j] * px->t[j] * s;
      else
        for (gsize j = 0; j < n; j++)
          d[j] = fk[px->at[j]] * px->t[j] * s;
    }
}

void
ns_masked_scatter_add (const NsMaskedPixels *px, const float *src, int c, int power,
                       const float *scale, float *f, gsize plane)
{
  gsize n = px->n;

  for (int k = 0; k < c; k++)
    {
      const float *sk = src + k * n;
      float s = scale ? scale[k] : 1.0f, *fk = f + k * plane;

      if (power == 0)
        for (gsize j = 0; j < n; j++)
          fk[px->at[j]] += sk[j] * s;
      else
        for (gsize j = 0; j < n; j++)
          fk[px->at[j]] += sk[j] * px->t[j] * s;
    }
}
