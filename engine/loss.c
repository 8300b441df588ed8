/* loss.c — content, style and total-variation losses with their gradients.
 *
 * Every loss is a mean (see neural-style.h), so the weights keep their meaning at every
 * image size.  Sums are accumulated in double: a 512-channel layer has millions of terms.
 */
#include <math.h>

#include "ns-internal.h"

static gboolean
same_shape (const NsTensor *a, const NsTensor *b)
{
  return a->c == b->c && a->h == b->h && a->w == b->w;
}

/* mean over c·h·w of (F − P)²;  ∂/∂F = 2 (F − P) / (c·h·w) */
double
ns_content_loss (const NsTensor *f, const NsTensor *target, double weight, NsTensor *grad)
{
  gsize n;
  double sum = 0.0;
  float scale;

  g_return_val_if_fail (f != NULL && target != NULL && same_shape (f, target), NAN);
  g_return_val_if_fail (grad == NULL || same_shape (f, grad), NAN);

  n = ns_tensor_len (f);
  if (n == 0)
    return 0.0;

  for (gsize i = 0; i < n; i++)
    {
      double d = (double) f->data[i] - target->data[i];
      sum += d * d;
    }

  if (grad != NULL)
    {
      scale = (float) (2.0 * weight / (double) n);
      for (gsize i = 0; i < n; i++)
        grad->data[i] += scale * (f->data[i] - target->data[i]);
    }
  return weight * sum / (double) n;
}

/* mean over c² of (G − A)², G = F·Fᵀ / N with N = c·h·w.
 * ∂/∂F = 2 (D + Dᵀ) F / (c²·N) with D = G − A, which is 4 D F / (c²·N) for a symmetric
 * target; the symmetrised form stays exact if the target is not quite symmetric. */
double
ns_style_loss (const NsTensor *f, const float *target_gram, double weight, NsTensor *grad)
{
  int c;
  gsize hw, cc;
  double n, sum = 0.0;
  float *d;

  g_return_val_if_fail (f != NULL && target_gram != NULL, NAN);
  g_return_val_if_fail (grad == NULL || same_shape (f, grad), NAN);

  c = f->c;
  hw = (gsize) f->h * f->w;
  cc = (gsize) c * c;
  if (c == 0 || hw == 0)
    return 0.0;
  n = (double) c * (double) hw;

  d = ns_floats_new (cc);
  ns_gram (f, d);
  for (gsize i = 0; i < cc; i++)
    {
      double diff = (double) d[i] - target_gram[i];
      sum += diff * diff;
      d[i] = (float) diff;
    }

  if (grad != NULL)
    {
      /* d ← D + Dᵀ, in place, one pair at a time */
      for (int i = 0; i < c; i++)
        {
          d[(gsize) i * c + i] *= 2.0f;
          for (int j = i + 1; j < c; j++)
            {
              float s = d[(gsize) i * c + j] + d[(gsize) j * c + i];
              d[(gsize) i * c + j] = d[(gsize) j * c + i] = s;
            }
        }
      ns_sgemm (FALSE, c, (int) hw, c, (float) (2.0 * weight / ((double) cc * n)), d, c,
                f->data, (int) hw, 1.0f, grad->data, (int) hw);
    }

  ns_floats_free (d);
  return weight * sum / (double) cc;
}

/* Σ over horizontal and vertical neighbour pairs of (a − b)², divided by c·h·w.
 * Each pair adds ±2 (a − b) / (c·h·w) to the gradients of its two pixels. */
double
ns_tv_loss (const NsTensor *img, double weight, NsTensor *grad)
{
  gsize n;
  int h, w;
  double sum = 0.0;
  float scale = 0.0f;

  g_return_val_if_fail (img != NULL, NAN);
  g_return_val_if_fail (grad == NULL || same_shape (img, grad), NAN);

  n = ns_tensor_len (img);
  if (n == 0)
    return 0.0;
  h = img->h;
  w = img->w;
  if (grad != NULL)
    scale = (float) (2.0 * weight / (double) n);

  for (int c = 0; c < img->c; c++)
    {
      const float *p = img->data + (gsize) c * h * w;
      float *g = grad != NULL ? grad->data + (gsize) c * h * w : NULL;

      for (int y = 0; y < h; y++)
        {
          const float *row = p + (gsize) y * w;
          const float *below = y + 1 < h ? row + w : NULL;
          float *grow = g != NULL ? g + (gsize) y * w : NULL;

          for (int x = 0; x < w; x++)
            {
              if (x + 1 < w)
                {
                  double dx = (double) row[x] - row[x + 1];
                  sum += dx * dx;
                  if (grow != NULL)
                    {
                      grow[x] += scale * (float) dx;
                      grow[x + 1] -= scale * (float) dx;
                    }
                }
              if (below != NULL)
                {
                  double dy = (double) row[x] - below[x];
                  sum += dy * dy;
                  if (grow != NULL)
                    {
                      grow[x] += scale * (float) dy;
                      grow[x + w] -= scale * (float) dy;
                    }
                }
            }
        }
    }
  return weight * sum / (double) n;
}
