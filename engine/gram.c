/* gram.c — Gram matrices of feature maps. */

#include <cblas.h>

#include "ns-internal.h"

void
ns_gram (const NsTensor *f, float *gram)
{
  int c = f->c;
  gsize hw = (gsize) f->h * f->w;
  gsize chw = (gsize) c * hw;

  g_return_if_fail (gram != NULL);

  if (c == 0)
    return;
  if (hw == 0)
    {
      for (gsize i = 0; i < (gsize) c * c; i++)
        gram[i] = 0.0f;
      return;
    }

  /* ssyrk does half the work of sgemm; it fills the upper triangle only. */
  cblas_ssyrk (CblasRowMajor, CblasUpper, CblasNoTrans, c, (int) hw,
               (float) (1.0 / (double) chw), f->data, (int) hw, 0.0f, gram, c);

  for (int i = 0; i < c; i++)
    for (int j = 0; j < i; j++)
      gram[(gsize) i * c + j] = gram[(gsize) j * c + i];
}
