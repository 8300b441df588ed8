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

/* mean over c·h·w of (F − P)²;  ∂/∂F = 2 (F − P) / (c·h·w) */
double
ns_content_loss (const NsTensor *f, const NsTensor *target, double weight, NsTensor *grad)
{
  Content c;
  gsize n;
  double sum;

  g_return_val_if_fail (f != NULL && target != NULL && same_shape (f, target), NAN);
  g_return_val_if_fail (grad == NULL || same_shape (f, grad), NAN);

  n = ns_tensor_len (f);
  if (n == 0)
    return 0.0;

  c.f = f->data;
  c.target = target->data;
  c.grad = grad != NULL ? grad->data : NULL;
  c.scale = (float) (2.0 * weight / (double) n);
  sum = ns_parallel_sum (n, NS_CHUNK, 1, content_range, &c);
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

typedef struct
{
  const NsTensor *img;
  float          *grad;
  float           scale;
} Tv;

/* Rows from … to − 1 of all channels.  Each pixel gathers the four ±2 (a − b) terms of the
 * pairs it is in, in the order the scattering loop of before added them (the pair above,
 * the pair to the left, then its own two), so that rows are independent and the gradient
 * keeps its bits. */
static double
tv_range (gsize from, gsize to, gpointer data)
{
  const Tv *t = data;
  int h = t->img->h, w = t->img->w;
  float scale = t->scale;
  double sum = 0.0;

  for (gsize r = from; r < to; r++)
    {
      int y = (int) (r % h);
      const float *row = t->img->data + r * w;
      const float *above = y > 0 ? row - w : NULL;
      const float *below = y + 1 < h ? row + w : NULL;
      float *grow = t->grad != NULL ? t->grad + r * w : NULL;

      for (int x = 0; x < w; x++)
        {
          double dx = 0.0, dy = 0.0;

          if (x + 1 < w)
            {
              dx = (double) row[x] - row[x + 1];
              sum += dx * dx;
            }
          if (below != NULL)
            {
              dy = (double) row[x] - below[x];
              sum += dy * dy;
            }
          if (grow == NULL)
            continue;
          if (above != NULL)
            grow[x] -= scale * (float) ((double) above[x] - row[x]);
          if (x > 0)
            grow[x] -= scale * (float) ((double) row[x - 1] - row[x]);
          if (x + 1 < w)
            grow[x] += scale * (float) dx;
          if (below != NULL)
            grow[x] += scale * (float) dy;
        }
    }
  return sum;
}

/* Σ over horizontal and vertical neighbour pairs of (a − b)², divided by c·h·w.
 * Each pair adds ±2 (a − b) / (c·h·w) to the gradients of its two pixels. */
double
ns_tv_loss (const NsTensor *img, double weight, NsTensor *grad)
{
  Tv t;
  gsize n;
  double sum;

  g_return_val_if_fail (img != NULL, NAN);
  g_return_val_if_fail (grad == NULL || same_shape (img, grad), NAN);

  n = ns_tensor_len (img);
  if (n == 0)
    return 0.0;
  t.img = img;
  t.grad = grad != NULL ? grad->data : NULL;
  t.scale = grad != NULL ? (float) (2.0 * weight / (double) n) : 0.0f;
  sum = ns_parallel_sum ((gsize) img->c * img->h, ns_chunk_rows (img->w), img->w, tv_range, &t);
  return weight * sum / (double) n;
}
