/* test-gram.c — Gram matrices against double sums, and the gradient of Σ R∘G. */

#include <math.h>
#include <string.h>

#include "ns-internal.h"
#include "testutil.h"

static const int shapes[][3] = {     /* c, h, w */
  { 1, 1, 1 }, { 1, 4, 5 }, { 3, 1, 1 }, { 3, 7, 5 }, { 17, 6, 1 }, { 64, 9, 11 }, { 5, 40, 60 },
  { 150, 20, 17 },    /* rows in bands of unequal length (gram.c), on several threads */
  { 32, 200, 160 },   /* long sums whose entries mostly cancel (last: see test_gradient) */
};

static void
naive_gram (const NsTensor *f, double *gram, double *scale)
{
  gsize hw = (gsize) f->h * f->w;
  double norm = (double) f->c * hw;

  for (int i = 0; i < f->c; i++)
    for (int j = 0; j < f->c; j++)
      {
        double s = 0.0, a = 0.0;

        for (gsize k = 0; k < hw; k++)
          {
            double term = (double) f->data[i * hw + k] * f->data[j * hw + k];

            s += term;
            a += fabs (term);
          }
        gram[i * f->c + j] = s / norm;
        scale[i * f->c + j] = a / norm;
      }
}

static void
test_against_naive (void)
{
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int c = shapes[s][0];
      g_autoptr (NsTensor) f = ns_tensor_new (c, shapes[s][1], shapes[s][2]);
      g_autofree float *gram = g_new (float, c * c);
      g_autofree double *ref = g_new (double, c * c);
      g_autofree double *scale = g_new (double, c * c);

      ns_test_fill (f->data, ns_tensor_len (f), 100 + s, -1.0f, 1.0f);
      ns_test_fill (gram, c * c, 200 + s, 50.0f, 60.0f);   /* must be overwritten */
      ns_gram (f, gram);
      naive_gram (f, ref, scale);
      for (int i = 0; i < c * c; i++)
        /* Summed in double: only the final rounding to float is left. */
        g_assert_cmpfloat (fabs (gram[i] - ref[i]), <=, 1.2e-7 * fabs (ref[i]) + 1e-12 * scale[i]);
      /* Exactly symmetric, not just within rounding. */
      for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++)
          g_assert_cmpfloat (gram[i * c + j], ==, gram[j * c + i]);
    }
}

/* A Gram added up from bands of rows in any order (as tiles do) is the whole one's, to the
 * last bit but for the rounding of the result. */
static void
test_split_like_tiles (void)
{
  const int c = 24, h = 97, w = 130, cuts[] = { 0, 37, 38, 90, h };
  const gsize hw = (gsize) h * w;
  g_autoptr (NsTensor) f = ns_tensor_new (c, h, w);
  g_autofree float *whole = g_new (float, c * c);
  g_autofree float *parts = g_new (float, c * c);
  g_autofree double *acc = g_new0 (double, c * c);

  ns_test_fill (f->data, ns_tensor_len (f), 7, -1.0f, 1.0f);
  ns_gram (f, whole);
  for (int b = G_N_ELEMENTS (cuts) - 2; b >= 0; b--)
    ns_gram_add (f->data + (gsize) cuts[b] * w, c, (gsize) (cuts[b + 1] - cuts[b]) * w, hw,
                 1.0 / ((double) c * hw), acc);
  ns_gram_store (acc, c, parts);
  for (int i = 0; i < c * c; i++)
    {
      float a = fabsf (whole[i]);

      g_assert_cmpfloat (fabsf (parts[i] - whole[i]), <=, nextafterf (a, INFINITY) - a);
    }
}

typedef struct
{
  NsTensor *f;
  float    *gram;
  float    *r;        /* c × c, not symmetric */
} GramData;

/* L(F) = Σ R∘G(F).  Analytic gradient: ∂L/∂F = (R + Rᵀ)·F / (c·h·w), computed here in
 * double, so the finite differences check ns_gram's values and normalisation. */
static double
gram_objective (const float *x, float *grad, gpointer user_data)
{
  GramData *d = user_data;
  int c = d->f->c;
  gsize hw = (gsize) d->f->h * d->f->w;
  double norm = (double) c * hw, loss = 0.0;

  memcpy (d->f->data, x, ns_tensor_len (d->f) * sizeof (float));
  ns_gram (d->f, d->gram);
  for (int i = 0; i < c * c; i++)
    loss += (double) d->r[i] * d->gram[i];

  if (grad != NULL)
    for (int i = 0; i < c; i++)
      for (gsize k = 0; k < hw; k++)
        {
          double s = 0.0;

          for (int j = 0; j < c; j++)
            s += ((double) d->r[i * c + j] + d->r[j * c + i]) * x[j * hw + k];
          grad[i * hw + k] = (float) (s / norm);
        }
  return loss;
}

static void
test_gradient (void)
{
  /* The largest shape is left out: with 2400 pixels each coordinate moves L by less than
   * the single-precision rounding of the Gram sums, so the check would measure noise. */
  for (guint s = 0; s < G_N_ELEMENTS (shapes) - 1; s++)
    {
      int c = shapes[s][0];
      g_autoptr (NsTensor) x = ns_tensor_new (c, shapes[s][1], shapes[s][2]);
      g_autoptr (NsTensor) f = ns_tensor_new_like (x);
      g_autofree float *gram = g_new (float, c * c);
      g_autofree float *r = g_new (float, c * c);
      GramData d = { f, gram, r };
      double err;

      ns_test_fill (x->data, ns_tensor_len (x), 300 + s, -1.0f, 1.0f);
      ns_test_fill (r, c * c, 400 + s, -1.0f, 1.0f);
      /* L is quadratic in each coordinate, so central differences are exact up to
       * rounding; a large step keeps that rounding small relative to the change. */
      err = ns_test_gradcheck (gram_objective, &d, x->data, ns_tensor_len (x), 1.0, 80, 500 + s);
      g_test_message ("gram gradient %dx%dx%d: error %g", c, shapes[s][1], shapes[s][2], err);
      g_assert_cmpfloat (err, <=, 1e-3);
    }
}

/* The bands of rows are fixed by the channel count: any thread count gives the same bits. */
static void
test_threads (void)
{
  static const int cases[][2] = { { 150, 3000 }, { 64, 70000 }, { 512, 900 } };   /* c, h·w */

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      int c = cases[k][0];
      g_autoptr (NsTensor) f = ns_tensor_new (c, 1, cases[k][1]);
      g_autofree float *one = g_new (float, c * c);
      g_autofree float *more = g_new (float, c * c);

      ns_test_fill (f->data, ns_tensor_len (f), 300 + k, -1.0f, 1.0f);
      ns_parallel_set_threads (1);
      ns_gram (f, one);
      for (int t = 2; t <= 5; t++)
        {
          ns_parallel_set_threads (t);
          ns_gram (f, more);
          g_assert_cmpmem (one, (gsize) c * c * sizeof (float), more, (gsize) c * c * sizeof (float));
        }
    }
  ns_parallel_set_threads (0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gram/against-naive", test_against_naive);
  g_test_add_func ("/gram/split-like-tiles", test_split_like_tiles);
  g_test_add_func ("/gram/gradient", test_gradient);
  g_test_add_func ("/gram/threads", test_threads);

  return g_test_run ();
}
