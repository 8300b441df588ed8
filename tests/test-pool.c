/* test-pool.c — 2×2 stride-2 max and average pooling. */

#include <math.h>
#include <string.h>

#include "ns-internal.h"
#include "testutil.h"

static const int sizes[][2] = { { 1, 1 }, { 2, 2 }, { 3, 3 }, { 4, 6 }, { 5, 7 }, { 8, 3 }, { 1, 6 } };

static inline float
at (const NsTensor *t, int c, int y, int x)
{
  return t->data[((gsize) c * t->h + y) * t->w + x];
}

/* Index (in t) of the window's first maximum in row-major scan order. */
static gsize
naive_argmax (const NsTensor *t, int c, int oy, int ox)
{
  gsize best = 0;
  float m = -INFINITY;

  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++)
      {
        int y = 2 * oy + dy, x = 2 * ox + dx;

        if (at (t, c, y, x) > m)
          {
            m = at (t, c, y, x);
            best = ((gsize) c * t->h + y) * t->w + x;
          }
      }
  return best;
}

static double
naive_pool (NsPoolKind kind, const NsTensor *t, int c, int oy, int ox)
{
  double s = 0.0;

  if (kind == NS_POOL_MAX)
    return t->data[naive_argmax (t, c, oy, ox)];
  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++)
      s += at (t, c, 2 * oy + dy, 2 * ox + dx);
  return s / 4.0;
}

static void
check_forward (NsPoolKind kind)
{
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int h = sizes[s][0], w = sizes[s][1];
      g_autoptr (NsTensor) in = ns_tensor_new (3, h, w);
      g_autoptr (NsTensor) out = ns_tensor_new (3, h / 2, w / 2);

      ns_test_fill (in->data, ns_tensor_len (in), 10 + s, -1.0f, 1.0f);
      ns_test_fill (out->data, ns_tensor_len (out), 20 + s, 5.0f, 6.0f);
      ns_pool2_forward (kind, in, out);
      for (int c = 0; c < 3; c++)
        for (int y = 0; y < h / 2; y++)
          for (int x = 0; x < w / 2; x++)
            g_assert_cmpfloat_with_epsilon (at (out, c, y, x), naive_pool (kind, in, c, y, x), 1e-7);
    }
}

static void
test_forward_max (void)
{
  check_forward (NS_POOL_MAX);
}

static void
test_forward_avg (void)
{
  check_forward (NS_POOL_AVG);
}

/* Ties go to the first maximum in scan order, as PyTorch's CPU kernel does. */
static void
test_max_ties (void)
{
  static const float windows[][4] = {
    { 1, 1, 1, 1 }, { 0, 2, 2, 0 }, { 0, 0, 3, 3 }, { -1, -2, -1, -3 }, { 0, 5, 1, 5 },
  };
  static const int first[] = { 0, 1, 2, 0, 1 };

  for (guint k = 0; k < G_N_ELEMENTS (windows); k++)
    {
      g_autoptr (NsTensor) in = ns_tensor_new (1, 2, 2);
      g_autoptr (NsTensor) out = ns_tensor_new (1, 1, 1);
      g_autoptr (NsTensor) g = ns_tensor_new (1, 1, 1);
      g_autoptr (NsTensor) gin = ns_tensor_new (1, 2, 2);

      memcpy (in->data, windows[k], sizeof windows[k]);
      g->data[0] = 2.5f;
      ns_pool2_forward (NS_POOL_MAX, in, out);
      ns_pool2_backward (NS_POOL_MAX, in, g, gin);
      g_assert_cmpfloat (out->data[0], ==, windows[k][first[k]]);
      for (int i = 0; i < 4; i++)
        g_assert_cmpfloat (gin->data[i], ==, i == first[k] ? 2.5f : 0.0f);
    }
}

/* The lean pass's variants, which keep the winners instead of the input, give the same bits:
 * with ties and a NaN among the values, and for every odd and even size. */
static void
test_argmax_variants (void)
{
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int h = sizes[s][0], w = sizes[s][1];
      g_autoptr (NsTensor) in = ns_tensor_new (2, h, w);
      g_autoptr (NsTensor) out = ns_tensor_new (2, h / 2, w / 2);
      g_autoptr (NsTensor) out2 = ns_tensor_new (2, h / 2, w / 2);
      g_autoptr (NsTensor) g = ns_tensor_new (2, h / 2, w / 2);
      g_autoptr (NsTensor) gin = ns_tensor_new (2, h, w);
      g_autoptr (NsTensor) gin2 = ns_tensor_new (2, h, w);
      g_autofree guint8 *argmax = g_malloc (MAX (ns_tensor_len (out), 1));
      gsize n = ns_tensor_len (in);

      ns_test_fill (in->data, n, 60 + s, -1.0f, 1.0f);
      for (gsize i = 0; i < n; i += 3)
        in->data[i] = roundf (in->data[i]);       /* ties */
      in->data[n / 2] = NAN;
      ns_test_fill (g->data, ns_tensor_len (g), 70 + s, -1.0f, 1.0f);
      ns_test_fill (gin2->data, n, 80 + s, 5.0f, 6.0f);   /* must be overwritten */

      ns_pool2_forward (NS_POOL_MAX, in, out);
      ns_pool2_max_forward_argmax (in, out2, argmax);
      g_assert_cmpmem (out->data, ns_tensor_len (out) * sizeof (float),
                       out2->data, ns_tensor_len (out2) * sizeof (float));
      for (int kind = NS_POOL_MAX; kind <= NS_POOL_AVG; kind++)
        {
          ns_pool2_backward (kind, in, g, gin);
          ns_pool2_backward_argmax (kind, argmax, g, gin2);
          g_assert_cmpmem (gin->data, n * sizeof (float), gin2->data, n * sizeof (float));
        }
    }
}

typedef struct
{
  NsPoolKind kind;
  NsTensor  *in, *out, *r, *grad_in;
} PoolData;

/* L(x) = Σ r · pool(x), in double. */
static double
pool_objective (const float *x, float *grad, gpointer user_data)
{
  PoolData *d = user_data;
  double loss = 0.0;

  memcpy (d->in->data, x, ns_tensor_len (d->in) * sizeof (float));
  ns_pool2_forward (d->kind, d->in, d->out);
  for (gsize i = 0; i < ns_tensor_len (d->out); i++)
    loss += (double) d->r->data[i] * d->out->data[i];
  if (grad != NULL)
    {
      /* Garbage first: the backward must overwrite every entry. */
      ns_test_fill (d->grad_in->data, ns_tensor_len (d->grad_in), 1, 7.0f, 8.0f);
      ns_pool2_backward (d->kind, d->in, d->r, d->grad_in);
      memcpy (grad, d->grad_in->data, ns_tensor_len (d->grad_in) * sizeof (float));
    }
  return loss;
}

/* Distinct values 0.1 apart in shuffled order: no ties, and a step of 1e-3 never
 * changes which entry is the maximum. */
static void
fill_without_ties (NsTensor *t, guint32 seed)
{
  gsize n = ns_tensor_len (t);
  GRand *r = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < n; i++)
    t->data[i] = 0.1f * (float) i - 0.05f * (float) n;
  for (gsize i = n; i > 1; i--)
    {
      gsize j = g_rand_int_range (r, 0, (gint32) i);
      float tmp = t->data[i - 1];

      t->data[i - 1] = t->data[j];
      t->data[j] = tmp;
    }
  g_rand_free (r);
}

static void
check_gradient (NsPoolKind kind)
{
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int h = sizes[s][0], w = sizes[s][1];
      g_autoptr (NsTensor) x = ns_tensor_new (2, h, w);
      PoolData d = { kind, ns_tensor_new (2, h, w), ns_tensor_new (2, h / 2, w / 2),
                     ns_tensor_new (2, h / 2, w / 2), ns_tensor_new (2, h, w) };
      gsize n = ns_tensor_len (x);
      g_autofree float *grad = g_new (float, n);
      double err;

      fill_without_ties (x, 30 + s);
      ns_test_fill (d.r->data, ns_tensor_len (d.r), 40 + s, -1.0f, 1.0f);
      err = ns_test_gradcheck (pool_objective, &d, x->data, n, 1e-3, n, 50 + s);
      g_assert_cmpfloat (err, <=, 1e-3);

      /* The dropped odd row and column get exactly zero. */
      pool_objective (x->data, grad, &d);
      for (int c = 0; c < 2; c++)
        for (int y = 0; y < h; y++)
          for (int xx = 0; xx < w; xx++)
            if (y >= 2 * (h / 2) || xx >= 2 * (w / 2))
              g_assert_cmpfloat (grad[((gsize) c * h + y) * w + xx], ==, 0.0f);

      ns_tensor_free (d.in);
      ns_tensor_free (d.out);
      ns_tensor_free (d.r);
      ns_tensor_free (d.grad_in);
    }
}

static void
test_gradient_max (void)
{
  check_gradient (NS_POOL_MAX);
}

static void
test_gradient_avg (void)
{
  check_gradient (NS_POOL_AVG);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pool/forward-max", test_forward_max);
  g_test_add_func ("/pool/forward-avg", test_forward_avg);
  g_test_add_func ("/pool/max-ties", test_max_ties);
  g_test_add_func ("/pool/argmax-variants", test_argmax_variants);
  g_test_add_func ("/pool/gradient-max", test_gradient_max);
  g_test_add_func ("/pool/gradient-avg", test_gradient_avg);

  return g_test_run ();
}
