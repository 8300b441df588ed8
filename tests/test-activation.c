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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/relu/forward", test_forward);
  g_test_add_func ("/relu/nan-propagates", test_nan_propagates);
  g_test_add_func ("/relu/backward-mask", test_backward_mask);
  g_test_add_func ("/relu/gradcheck", test_gradcheck);

  return g_test_run ();
}
