/* gemm.c — single-precision matrix products over the engine's threads.
 *
 * C is cut into blocks of rows and columns chosen from (m, n, k) alone, and each block is
 * one single-threaded sgemm: a product comes out the same at any thread count (parallel.c
 * says why OpenBLAS's own threads are not used). */

#include <cblas.h>

#include "ns-internal.h"

/* About this many multiply-adds per block: enough to hide a block's packing of A and B,
 * small enough to give two to eight threads several blocks each on VGG-19's layers. */
#define BLOCK_WORK (8.0 * 1024 * 1024)
#define MIN_COLS   256
#define MIN_ROWS   32

typedef struct
{
  gboolean     trans_a;
  int          m, n, k, lda, ldb, ldc;
  float        alpha, beta;
  const float *a, *b;
  float       *c;
  int          rows, cols, n_col_blocks;
} Gemm;

static void
gemm_block (int item, int worker, gpointer data)
{
  const Gemm *g = data;
  int i0 = (item / g->n_col_blocks) * g->rows, j0 = (item % g->n_col_blocks) * g->cols;
  int mb = MIN (g->rows, g->m - i0), nb = MIN (g->cols, g->n - j0);
  const float *a = g->trans_a ? g->a + i0 : g->a + (gsize) i0 * g->lda;

  cblas_sgemm (CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans, CblasNoTrans,
               mb, nb, g->k, g->alpha, a, g->lda, g->b + j0, g->ldb,
               g->beta, g->c + (gsize) i0 * g->ldc + j0, g->ldc);
}

/* Splits n into parts of at least `least` (a multiple of `align` except the last). */
static int
part_size (int n, int parts, int least, int align)
{
  int size = (n + parts - 1) / MAX (parts, 1);

  size = (size + align - 1) / align * align;
  return CLAMP (size, MIN (least, n), n);
}

void
ns_sgemm (gboolean trans_a, int m, int n, int k, float alpha, const float *a, int lda,
          const float *b, int ldb, float beta, float *c, int ldc)
{
  Gemm g = { trans_a, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c, 0, 0, 0 };
  double work = (double) m * n * k;
  int blocks, n_row_blocks;

  if (m <= 0 || n <= 0)
    return;
  /* Columns first (pixels: the long side), then rows if more blocks are still wanted. */
  blocks = (int) CLAMP (work / BLOCK_WORK, 1.0, 64.0);
  g.cols = part_size (n, blocks, MIN_COLS, 64);
  g.n_col_blocks = (n + g.cols - 1) / g.cols;
  g.rows = part_size (m, (blocks + g.n_col_blocks - 1) / g.n_col_blocks, MIN_ROWS, 16);
  n_row_blocks = (m + g.rows - 1) / g.rows;

  blocks = n_row_blocks * g.n_col_blocks;
  ns_parallel_for (blocks, ns_parallel_workers (blocks, work), gemm_block, &g);
}
