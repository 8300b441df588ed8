/* quadratic.h — an ill-conditioned quadratic with a known minimum, shared by the optimiser
 * tests (header-only). */
#ifndef NS_TEST_QUADRATIC_H
#define NS_TEST_QUADRATIC_H

#include <math.h>
#include <string.h>
#include "testutil.h"

/* f = ½ Σ dᵢ (xᵢ − mᵢ)², dᵢ log-spaced over [1e-2, 1e2] (condition number 1e4).  With
 * box > 0 it returns +Inf when some |xᵢ| > box. */
typedef struct
{
  gsize   n;
  double *d, *m;
  int     n_evals;
  int     n_bad;
  double  box;
} Quad;

static inline void
quad_init (Quad *q, gsize n, guint32 seed)
{
  float *mf = g_new (float, n);

  q->n = n;
  q->d = g_new (double, n);
  q->m = g_new (double, n);
  q->n_evals = q->n_bad = 0;
  q->box = 0.0;
  ns_test_fill (mf, n, seed, -1.0f, 1.0f);
  for (gsize i = 0; i < n; i++)
    {
      q->d[i] = pow (10.0, -2.0 + 4.0 * (double) i / (double) (n - 1));
      q->m[i] = mf[i];
    }
  g_free (mf);
}

static inline void
quad_clear (Quad *q)
{
  g_free (q->d);
  g_free (q->m);
}

static inline double
quadratic (const float *x, float *grad, gpointer user_data)
{
  Quad *q = user_data;
  double f = 0.0;

  q->n_evals++;
  if (q->box > 0.0)
    for (gsize i = 0; i < q->n; i++)
      if (fabs (x[i]) > q->box)
        {
          q->n_bad++;
          if (grad)
            memset (grad, 0, q->n * sizeof (float));
          return INFINITY;
        }
  for (gsize i = 0; i < q->n; i++)
    {
      double e = x[i] - q->m[i];
      f += 0.5 * q->d[i] * e * e;
      if (grad)
        grad[i] = (float) (q->d[i] * e);
    }
  return f;
}

static inline double
quad_max_error (const Quad *q, const float *x)
{
  double worst = 0.0;

  for (gsize i = 0; i < q->n; i++)
    worst = MAX (worst, fabs (x[i] - q->m[i]));
  return worst;
}

#endif
