/* tensor.c — float CHW tensors on 64-byte aligned storage.
 *
 * 64-byte alignment matches an AVX-512 register and a cache line, so the BLAS kernels and
 * the compiler's vector loops never straddle lines at the start of a plane. */

#include <string.h>
#include <sys/mman.h>

#include "ns-internal.h"

#define NS_FLOAT_ALIGN 64
#define NS_HUGE_PAGE  ((gsize) 2 << 20)
#define NS_HUGE_MIN   ((gsize) 8 << 20)

float *
ns_floats_alloc (gsize n)
{
  /* g_aligned_alloc returns NULL for zero bytes; keep a valid pointer so callers need no
   * special case for empty tensors. */
  gsize bytes = MAX (n, 1) * sizeof (float);
  float *p;

  if (bytes < NS_HUGE_MIN)
    return g_aligned_alloc (MAX (n, 1), sizeof (float), NS_FLOAT_ALIGN);
  /* Buffers this large come fresh from mmap on every allocation, and the kernel's page
   * faults on 4 KiB pages took a third of a tiled evaluation's time; transparent huge
   * pages (where the system offers them on request) fault 512 times less often.  Only
   * whole huge pages inside the buffer are marked, so the resident size is unchanged. */
  p = g_aligned_alloc (MAX (n, 1), sizeof (float), NS_HUGE_PAGE);
#ifdef MADV_HUGEPAGE
  madvise (p, bytes & ~(NS_HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
  return p;
}

float *
ns_floats_new (gsize n)
{
  float *p = ns_floats_alloc (n);

  memset (p, 0, MAX (n, 1) * sizeof (float));
  return p;
}

void
ns_floats_free (float *p)
{
  g_aligned_free (p);
}

NsTensor *
ns_tensor_new_uninit (int c, int h, int w)
{
  NsTensor *t;

  g_return_val_if_fail (c >= 0 && h >= 0 && w >= 0, NULL);

  t = g_new (NsTensor, 1);
  t->c = c;
  t->h = h;
  t->w = w;
  t->data = ns_floats_alloc (ns_tensor_len (t));
  return t;
}

NsTensor *
ns_tensor_new (int c, int h, int w)
{
  NsTensor *t = ns_tensor_new_uninit (c, h, w);

  if (t != NULL)
    memset (t->data, 0, ns_tensor_len (t) * sizeof (float));
  return t;
}

NsTensor *
ns_tensor_new_like (const NsTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);

  return ns_tensor_new (t->c, t->h, t->w);
}

NsTensor *
ns_tensor_copy (const NsTensor *t)
{
  NsTensor *copy;

  g_return_val_if_fail (t != NULL, NULL);

  copy = ns_tensor_new_uninit (t->c, t->h, t->w);
  memcpy (copy->data, t->data, ns_tensor_len (t) * sizeof (float));
  return copy;
}

void
ns_tensor_free (NsTensor *t)
{
  if (t == NULL)
    return;
  ns_floats_free (t->data);
  g_free (t);
}
