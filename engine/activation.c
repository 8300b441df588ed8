/* activation.c — ReLU, and the bit mask the lean pass keeps of it (tiling.c).
 *
 * Memory-bound loops: they run in chunks over the engine's threads (parallel.c), and the
 * mask is made 8 or 16 bits at a time by vector compares where the CPU has them (simd.c);
 * every path gives the same bits. */

#include <string.h>

#include "ns-internal.h"

/* ---- the mask, one element at a time: the reference the vector paths follow ------------- */

/* Written as "x < 0 ? 0 : x" so a NaN passes through (as in torch) and the optimiser sees
 * that the point is unusable instead of a silently zeroed activation.  The mask bit is set
 * where the result is not <= 0: the test ns_relu_backward makes, NaN included.  mask's
 * bytes are zero on entry. */
static void
relu_mask_scalar (float *x, gsize from, gsize n, guint8 *mask)
{
  for (gsize i = from; i < n; i++)
    {
      x[i] = x[i] < 0.0f ? 0.0f : x[i];
      if (mask && ! (x[i] <= 0.0f))
        mask[i >> 3] |= (guint8) (1u << (i & 7));
    }
}

static void
relu_backward_scalar (const guint8 *mask, float *g, gsize from, gsize n)
{
  for (gsize i = from; i < n; i++)
    if (! (mask[i >> 3] & (1u << (i & 7))))
      g[i] = 0.0f;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

/* One bit at a time the mask took 13% of an evaluation (22% of a shallow pass on AVX2
 * machines); compares give 16 (AVX-512) or 8 (AVX2: movemask) bits at once. */
__attribute__ ((target ("avx512f")))
static gsize
relu_mask_avx512 (float *x, gsize n, guint8 *mask)
{
  __m512 zero = _mm512_setzero_ps ();
  gsize i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m512 v = _mm512_loadu_ps (x + i);
      __mmask16 neg = _mm512_cmp_ps_mask (v, zero, _CMP_LT_OQ);

      v = _mm512_mask_mov_ps (v, neg, zero);
      _mm512_storeu_ps (x + i, v);
      if (mask)
        {
          __mmask16 on = _mm512_cmp_ps_mask (v, zero, _CMP_NLE_UQ);

          mask[i >> 3] = (guint8) on;
          mask[(i >> 3) + 1] = (guint8) (on >> 8);
        }
    }
  return i;
}

__attribute__ ((target ("avx512f")))
static gsize
relu_backward_avx512 (const guint8 *mask, float *g, gsize n)
{
  gsize i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __mmask16 on = (__mmask16) (mask[i >> 3] | (mask[(i >> 3) + 1] << 8));

      _mm512_storeu_ps (g + i, _mm512_maskz_mov_ps (on, _mm512_loadu_ps (g + i)));
    }
  return i;
}

__attribute__ ((target ("avx2")))
static gsize
relu_mask_avx2 (float *x, gsize n, guint8 *mask)
{
  __m256 zero = _mm256_setzero_ps ();
  gsize i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_loadu_ps (x + i);

      /* Clearing the lanes that are (ordered) < 0 keeps NaN and −0 as the scalar code does. */
      v = _mm256_andnot_ps (_mm256_cmp_ps (v, zero, _CMP_LT_OQ), v);
      _mm256_storeu_ps (x + i, v);
      if (mask)
        mask[i >> 3] = (guint8) _mm256_movemask_ps (_mm256_cmp_ps (v, zero, _CMP_NLE_UQ));
    }
  return i;
}

__attribute__ ((target ("avx2")))
static gsize
relu_backward_avx2 (const guint8 *mask, float *g, gsize n)
{
  const __m256i bits = _mm256_setr_epi32 (1, 2, 4, 8, 16, 32, 64, 128);
  gsize i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256i m = _mm256_and_si256 (_mm256_set1_epi32 (mask[i >> 3]), bits);
      __m256 on = _mm256_castsi256_ps (_mm256_cmpeq_epi32 (m, bits));

      _mm256_storeu_ps (g + i, _mm256_and_ps (on, _mm256_loadu_ps (g + i)));
    }
  return i;
}
#else
static gsize relu_mask_avx512 (float *x, gsize n, guint8 *mask) { return 0; }
static gsize relu_backward_avx512 (const guint8 *mask, float *g, gsize n) { return 0; }
static gsize relu_mask_avx2 (float *x, gsize n, guint8 *mask) { return 0; }
static gsize relu_backward_avx2 (const guint8 *mask, float *g, gsize n) { return 0; }
#endif

/* ---- chunks over the threads ------------------------------------------------------------- */

typedef struct
{
  float        *x;
  guint8       *mask;
  const float  *y;
  NsSimd        simd;
} ReluRange;

/* Chunks start on multiples of NS_CHUNK (of 64), so each writes whole bytes of the mask. */
static void
relu_mask_range (gsize from, gsize to, gpointer data)
{
  ReluRange *r = data;
  guint8 *mask = r->mask ? r->mask + from / 8 : NULL;
  float *x = r->x + from;
  gsize n = to - from, done = 0;

  if (mask)
    memset (mask, 0, (n + 7) / 8);
  if (r->simd >= NS_SIMD_AVX512)
    done = relu_mask_avx512 (x, n, mask);
  else if (r->simd >= NS_SIMD_AVX2)
    done = relu_mask_avx2 (x, n, mask);
  relu_mask_scalar (x, done, n, mask);
}

static void
relu_mask_backward_range (gsize from, gsize to, gpointer data)
{
  ReluRange *r = data;
  const guint8 *mask = r->mask + from / 8;
  float *g = r->x + from;
  gsize n = to - from, done = 0;

  if (r->simd >= NS_SIMD_AVX512)
    done = relu_backward_avx512 (mask, g, n);
  else if (r->simd >= NS_SIMD_AVX2)
    done = relu_backward_avx2 (mask, g, n);
  relu_backward_scalar (mask, g, done, n);
}

void
ns_relu_mask (float *x, gsize n, guint8 *mask)
{
  ReluRange r = { x, mask, NULL, ns_simd_level () };

  ns_parallel_range (n, NS_CHUNK, 1, relu_mask_range, &r);
}

void
ns_relu_mask_backward (const guint8 *mask, float *g, gsize n)
{
  ReluRange r = { g, (guint8 *) mask, NULL, ns_simd_level () };

  ns_parallel_range (n, NS_CHUNK, 1, relu_mask_backward_range, &r);
}

void
ns_relu_forward (NsTensor *t)
{
  ns_relu_mask (t->data, ns_tensor_len (t), NULL);
}

static void
relu_backward_range (gsize from, gsize to, gpointer data)
{
  ReluRange *r = data;
  const float *y = r->y;
  float *g = r->x;

  /* A select the compiler vectorises on every path. */
  for (gsize i = from; i < to; i++)
    g[i] = y[i] <= 0.0f ? 0.0f : g[i];
}

void
ns_relu_backward (const NsTensor *out, NsTensor *grad)
{
  gsize n = ns_tensor_len (grad);
  ReluRange r = { grad->data, NULL, out->data, NS_SIMD_PORTABLE };

  g_return_if_fail (ns_tensor_len (out) == n);

  ns_parallel_range (n, NS_CHUNK, 1, relu_backward_range, &r);
}
