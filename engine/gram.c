/* gram.c — Gram matrices of feature maps.
 *
 * The sums are taken in double.  A run drives the Grams towards their targets, so the
 * style gradient is a small difference of large sums; float sums over 10⁵ pixels leave a
 * round-off of the size of that difference, and a different one for every way of cutting
 * the image into tiles: tiled and whole runs then part ways after a few iterations.
 *
 * Each chunk of pixels is added by bands of rows of the upper triangle on the engine's
 * threads; the bands are fixed by the channel count, so the sums do not depend on the
 * thread count. */

#include <string.h>

#include <cblas.h>

#include "ns-internal.h"

/* Floats converted to double at a time: 2 MiB of scratch. */
#define CHUNK_DOUBLES (1 << 18)

/* Rows of the Gram matrix per block: eight blocks for any channel count (VGG-19's 64 to
 * 512), each a band of the upper triangle. */
#define N_ROW_BLOCKS 8

typedef struct
{
  const float *f;
  gsize        ld, p0, k;
  int          c, rows;
  double       scale;
  double      *chunk, *acc;
} GramChunk;

static void
convert_row (int i, int worker, gpointer data)
{
  const GramChunk *g = data;
  const float *src = g->f + (gsize) i * g->ld + g->p0;
  double *dst = g->chunk + (gsize) i * g->k;

  for (gsize p = 0; p < g->k; p++)
    dst[p] = src[p];
}

/* Rows [i0, i1) of the upper triangle: the diagonal block by dsyrk, the rest by dgemm. */
static void
gram_rows (int block, int worker, gpointer data)
{
  const GramChunk *g = data;
  int i0 = block * g->rows, i1 = MIN (g->c, i0 + g->rows), c = g->c;
  const double *a = g->chunk + (gsize) i0 * g->k;
  double *acc = g->acc + (gsize) i0 * c;

  cblas_dsyrk (CblasRowMajor, CblasUpper, CblasNoTrans, i1 - i0, (int) g->k, g->scale, a,
               (int) g->k, 1.0, acc + i0, c);
  if (i1 < c)
    cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasTrans, i1 - i0, c - i1, (int) g->k, g->scale,
                 a, (int) g->k, g->chunk + (gsize) i1 * g->k, (int) g->k, 1.0, acc + i1, c);
}

void
ns_gram_add (const float *f, int c, gsize n, gsize ld, double scale, double *acc)
{
  GramChunk g = { f, ld, 0, 0, c, (c + N_ROW_BLOCKS - 1) / N_ROW_BLOCKS, scale, NULL, acc };
  int blocks, workers;
  gsize step;

  if (c <= 0 || n == 0)
    return;
  blocks = (c + g.rows - 1) / g.rows;
  step = MAX (1, MIN (n, CHUNK_DOUBLES / (gsize) c));
  g.chunk = ns_scratch_alloc ((gsize) c * step * sizeof (double));
  workers = ns_parallel_workers (blocks, (double) c * c * MIN (n, step) / 2);
  for (g.p0 = 0; g.p0 < n; g.p0 += g.k)
    {
      g.k = MIN (step, n - g.p0);
      ns_parallel_for (c, workers, convert_row, &g);
      ns_parallel_for (blocks, workers, gram_rows, &g);
    }
  ns_scratch_free (g.chunk);
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
  double *acc;

  g_return_if_fail (gram != NULL);

  if (c == 0)
    return;
  acc = ns_scratch_alloc ((gsize) c * c * sizeof (double));
  memset (acc, 0, (gsize) c * c * sizeof (double));
  ns_gram_add (f->data, c, hw, hw, 1.0 / ((double) c * hw), acc);
  ns_gram_store (acc, c, gram);
  ns_scratch_free (acc);
}
