/* test-activation.c — ReLU forward and backward. */

#include <math.h>
#include <string.h>

#include "ns-internal.h"
#include "testutil.h"

static void
test_forward (void)
{
  g_autoptr (NsTensor) t = ns_tensor_new (3, 5, 7);
  g_autoptr (NsTensor) x = NULL;
  gsize n = ns_tensor_len (t);

  ns_test_fill (t->data, n, 1, -1.0f, 1.0f);
  t->data[0] = 0.0f;
  t->data[1] = -0.0f;
  t->data[2] = 1e-30f;
  t->data[3] = -1e-30f;
  x = ns_tensor_copy (t);

  ns_relu_forward (t);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (t->data[i], ==, x->data[i] > 0.0f ? x->data[i] : 0.0f);
  g_assert_cmpfloat (t->data[2], ==, 1e-30f);
}

/* A NaN must survive so that the optimiser notices the point is unusable. */
static void
test_nan_propagates (void)
{
  g_autoptr (NsTensor) t = ns_tensor_new (1, 1, 3);

  t->data[0] = NAN;
  t->data[1] = -2.0f;
  t->data[2] = 2.0f;
  ns_relu_forward (t);
  g_assert_true (isnan (t->data[0]));
  g_assert_cmpfloat (t->data[1], ==, 0.0f);
  g_assert_cmpfloat (t->data[2], ==, 2.0f);
}

static void
test_backward_mask (void)
{
  g_autoptr (NsTensor) out = ns_tensor_new (2, 4, 9);
  g_autoptr (NsTensor) grad = ns_tensor_new_like (out);
  g_autoptr (NsTensor) g0 = NULL;
  gsize n = ns_tensor_len (out);

  ns_test_fill (out->data, n, 2, -1.0f, 1.0f);
  out->data[5] = 0.0f;
  ns_relu_forward (out);
  ns_test_fill (grad->data, n, 3, -1.0f, 1.0f);
  g0 = ns_tensor_copy (grad);

  ns_relu_backward (out, grad);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (grad->data[i], ==, out->data[i] > 0.0f ? g0->data[i] : 0.0f);
  g_assert_cmpfloat (grad->data[5], ==, 0.0f);
}

typedef struct
{
  NsTensor *y, *r, *g;
} ReluData;

/* L(x) = Σ r · relu(x), in double. */
static double
relu_objective (const float *x, float *grad, gpointer user_data)
{
  ReluData *d = user_data;
  gsize n = ns_tensor_len (d->y);
  double loss = 0.0;

  memcpy (d->y->data, x, n * sizeof (float));
  ns_relu_forward (d->y);
  for (gsize i = 0; i < n; i++)
    loss += (double) d->r->data[i] * d->y->data[i];
  if (grad != NULL)
    {
      memcpy (d->g->data, d->r->data, n * sizeof (float));
      ns_relu_backward (d->y, d->g);
      memcpy (grad, d->g->data, n * sizeof (float));
    }
  return loss;
}

static void
test_gradcheck (void)
{
  g_autoptr (NsTensor) x = ns_tensor_new (3, 6, 5);
  g_autoptr (NsTensor) y = ns_tensor_new_like (x);
  g_autoptr (NsTensor) r = ns_tensor_new_like (x);
  g_autoptr (NsTensor) g = ns_tensor_new_like (x);
  ReluData d = { y, r, g };
  gsize n = ns_tensor_len (x);
  double err;

  /* Keep every input at least 0.1 away from the kink, well beyond the step. */
  ns_test_fill (x->data, n, 4, 0.1f, 1.0f);
  for (gsize i = 0; i < n; i += 2)
    x->data[i] = -x->data[i];
  ns_test_fill (r->data, n, 5, -1.0f, 1.0f);

  err = ns_test_gradcheck (relu_objective, &d, x->data, n, 1e-2, n, 6);
  g_assert_cmpfloat (err, <=, 1e-4);
}

/* Inputs with the edge cases of the ReLU's two tests (x < 0 and x <= 0) spread through. */
static float *
mask_input (gsize n, guint32 seed)
{
  static const float special[] = { 0.0f, -0.0f, INFINITY, -INFINITY, 1e-45f, -1e-45f };
  float *x = g_new (float, MAX (n, 1));

  ns_test_fill (x, n, seed, -1.0f, 1.0f);
  for (gsize i = 0; i < n; i += 3)
    x[i] = i % 7 == 0 ? NAN : i % 7 == 1 ? -NAN : special[(i / 3) % G_N_ELEMENTS (special)];
  return x;
}

/* The mask from the definition, one element at a time. */
static void
reference_mask (const float *x, gsize n, float *y, guint8 *mask)
{
  memset (mask, 0, (n + 7) / 8);
  for (gsize i = 0; i < n; i++)
    {
      y[i] = x[i] < 0.0f ? 0.0f : x[i];
      if (! (y[i] <= 0.0f))
        mask[i >> 3] |= (guint8) (1u << (i & 7));
    }
}

/* Every vector path and thread count gives the definition's bits: values (−0 and NaN's sign
 * included), mask and masked gradient, for lengths around the vector widths and across
 * several chunks. */
static void
test_mask_paths (void)
{
  static const gsize lengths[] = { 0, 1, 7, 8, 9, 15, 16, 17, 33, 1000, NS_CHUNK - 3,
                                   NS_PARALLEL_MIN_ELEMENTS + 13, 3 * NS_CHUNK + 5 };
  static const int threads[] = { 1, 2, 3 };
  NsSimd native = ns_simd_level ();

  for (guint l = 0; l < G_N_ELEMENTS (lengths); l++)
    {
      gsize n = lengths[l], nb = (n + 7) / 8;
      g_autofree float *x = mask_input (n, 10 + l);
      g_autofree float *g0 = mask_input (n, 50 + l);
      g_autofree float *y_ref = g_new (float, MAX (n, 1));
      g_autofree float *g_ref = g_new (float, MAX (n, 1));
      g_autofree guint8 *m_ref = g_new (guint8, MAX (nb, 1));

      reference_mask (x, n, y_ref, m_ref);
      for (gsize i = 0; i < n; i++)
        g_ref[i] = m_ref[i >> 3] & (1u << (i & 7)) ? g0[i] : 0.0f;

      for (int level = NS_SIMD_PORTABLE; level <= NS_SIMD_AVX512; level++)
        for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
          {
            g_autofree float *y = g_memdup2 (x, MAX (n, 1) * sizeof (float));
            g_autofree float *y2 = g_memdup2 (x, MAX (n, 1) * sizeof (float));
            g_autofree float *g = g_memdup2 (g0, MAX (n, 1) * sizeof (float));
            g_autofree guint8 *m = g_malloc (nb + 1);

            ns_simd_override ((NsSimd) level);
            ns_parallel_set_threads (threads[t]);
            g_test_message ("n %" G_GSIZE_FORMAT ": vector path %d (asked %d), %d threads",
                            n, ns_simd_level (), level, threads[t]);
            memset (m, 0xa5, nb + 1);
            ns_relu_mask (y, n, m);
            g_assert_cmpmem (y, n * sizeof (float), y_ref, n * sizeof (float));
            g_assert_cmpmem (m, nb, m_ref, nb);
            g_assert_cmpuint (m[nb], ==, 0xa5);         /* nothing written past the mask */
            ns_relu_mask (y2, n, NULL);
            g_assert_cmpmem (y2, n * sizeof (float), y_ref, n * sizeof (float));
            ns_relu_mask_backward (m, g, n);
            g_assert_cmpmem (g, n * sizeof (float), g_ref, n * sizeof (float));
          }
    }
  ns_simd_override (native);
  ns_parallel_set_threads (0);
}

/* ns_relu_forward and ns_relu_backward on tensors large enough to be split over threads
 * give the single-threaded bits. */
static void
test_threads (void)
{
  static const int threads[] = { 1, 2, 3 };
  g_autoptr (NsTensor) x = ns_tensor_new (7, 97, 101);
  g_autoptr (NsTensor) g0 = ns_tensor_new_like (x);
  g_autoptr (NsTensor) y_ref = NULL, g_ref = NULL;
  gsize n = ns_tensor_len (x);
  NsSimd native = ns_simd_level ();

  ns_test_fill (x->data, n, 7, -1.0f, 1.0f);
  ns_test_fill (g0->data, n, 8, -1.0f, 1.0f);
  x->data[5] = NAN;
  x->data[6] = -0.0f;
  ns_simd_override (NS_SIMD_PORTABLE);
  ns_parallel_set_threads (1);
  y_ref = ns_tensor_copy (x);
  g_ref = ns_tensor_copy (g0);
  ns_relu_forward (y_ref);
  ns_relu_backward (y_ref, g_ref);
  for (int level = NS_SIMD_PORTABLE; level <= NS_SIMD_AVX512; level++)
    for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
      {
        g_autoptr (NsTensor) y = ns_tensor_copy (x);
        g_autoptr (NsTensor) g = ns_tensor_copy (g0);

        ns_simd_override ((NsSimd) level);
        ns_parallel_set_threads (threads[t]);
        ns_relu_forward (y);
        ns_relu_backward (y, g);
        g_assert_cmpmem (y->data, n * sizeof (float), y_ref->data, n * sizeof (float));
        g_assert_cmpmem (g->data, n * sizeof (float), g_ref->data, n * sizeof (float));
      }
  ns_simd_override (native);
  ns_parallel_set_threads (0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/relu/forward", test_forward);
  g_test_add_func ("/relu/nan-propagates", test_nan_propagates);
  g_test_add_func ("/relu/backward-mask", test_backward_mask);
  g_test_add_func ("/relu/gradcheck", test_gradcheck);
  g_test_add_func ("/relu/mask-paths", test_mask_paths);
  g_test_add_func ("/relu/threads", test_threads);

  return g_test_run ();
}
