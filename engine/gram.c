/* gram.c — Gram matrices of feature maps.
 *
 * The sums are taken in double.  A run drives the Grams towards their targets, so the
 * style gradient is a small difference of large sums; float sums over 10⁵ pixels leave a
 * round-off of the size of that difference, and a different one for every way of cutting
 * the image into tiles: tiled and whole runs then part ways after a few iterations. */

#include <cblas.h>

#include "ns-internal.h"

/* Floats converted to double at a time: 2 MiB of scratch. */
#define CHUNK_DOUBLES (1 << 18)

void
ns_gram_add (const float *f, int c, gsize n, gsize ld, double scale, double *acc)
{
  gsize step, k;
  double *chunk;

  if (c <= 0 || n == 0)
    return;
  step = MAX (1, MIN (n, CHUNK_DOUBLES / (gsize) c));
  chunk = g_new (double, (gsize) c * step);
  for (gsize p0 = 0; p0 < n; p0 += k)
    {
      k = MIN (step, n - p0);
      for (int i = 0; i < c; i++)
        {
          const float *src = f + (gsize) i * ld + p0;
          double *dst = chunk + (gsize) i * k;

          for (gsize p = 0; p < k; p++)
            dst[p] = src[p];
        }
      cblas_dsyrk (CblasRowMajor, CblasUpper, CblasNoTrans, c, (int) k, scale, chunk, (int) k,
                   1.0, acc, c);
    }
  g_free (chunk);
}

void
ns_gram_store (const double *acc, int c, float *gram)
{
  for (int i = 0; i < c; i++)
    for (int j = 0; j < c; j++)
      gram[(gsize) i * c + j] = (float) (j >= i ? acc[(gsize) i * c + j] : acc[(gsize) j * c + i]);
}

void
ns_gram (const NsTensor *f, float *gram)
{
  int c = f->c;
  gsize hw = (gsize) f->h * f->w;
  g_autofree double *acc = NULL;

  g_return_if_fail (gram != NULL);

  if (c == 0)
    return;
  acc = g_new0 (double, (gsize) c * c);
  ns_gram_add (f->data, c, hw, hw, 1.0 / ((double) c * hw), acc);
  ns_gram_store (acc, c, gram);
}
