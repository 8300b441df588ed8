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

/* ---- memory-bound loops over the threads: the first touch of fresh pages (the kernel's
 * zeroing of them) is shared out too -------------------------------------------------------- */

typedef struct
{
  float       *dst;
  const float *src;
} Floats;

static void
zero_range (gsize from, gsize to, gpointer data)
{
  Floats *f = data;

  memset (f->dst + from, 0, (to - from) * sizeof (float));
}

static void
copy_range (gsize from, gsize to, gpointer data)
{
  Floats *f = data;

  memcpy (f->dst + from, f->src + from, (to - from) * sizeof (float));
}

static void
add_range (gsize from, gsize to, gpointer data)
{
  Floats *f = data;
  float *restrict d = f->dst;
  const float *restrict s = f->src;

  for (gsize i = from; i < to; i++)
    d[i] += s[i];
}

void
ns_floats_zero (float *dst, gsize n)
{
  Floats f = { dst, NULL };

  ns_parallel_range (n, NS_CHUNK, 1, zero_range, &f);
}

void
ns_floats_copy (float *dst, const float *src, gsize n)
{
  Floats f = { dst, src };

  ns_parallel_range (n, NS_CHUNK, 1, copy_range, &f);
}

void
ns_floats_add (float *dst, const float *src, gsize n)
{
  Floats f = { dst, src };

  ns_parallel_range (n, NS_CHUNK, 1, add_range, &f);
}

float *
ns_floats_new (gsize n)
{
  float *p = ns_floats_alloc (n);

  ns_floats_zero (p, MAX (n, 1));
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
    ns_floats_zero (t->data, ns_tensor_len (t));
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
  ns_floats_copy (copy->data, t->data, ns_tensor_len (t));
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
