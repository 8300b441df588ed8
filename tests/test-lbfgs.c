/* test-lbfgs.c — L-BFGS with the strong-Wolfe line search: convergence, torch's rules,
 * callbacks, budgets and NaN handling. */

#include <math.h>
#include <string.h>

#include "ns-internal.h"
#include "testutil.h"
#include "quadratic.h"

#define MAX_RECORD 1000

/* ---- objectives ------------------------------------------------------------------------- */

/* Rosenbrock, f = (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1).  With nan_above > 0 it
 * returns NaN where y > nan_above. */
typedef struct
{
  int    n_evals;
  int    n_nan;
  double nan_above;
  gboolean nan_grad_only;         /* there, keep f finite and spoil only the gradient */
  float  points[MAX_RECORD][2];   /* every evaluated point, in order */
} Rosen;

static double
rosenbrock (const float *x, float *grad, gpointer user_data)
{
  Rosen *r = user_data;
  double a = x[0], b = x[1];

  if (r->n_evals < MAX_RECORD)
    {
      r->points[r->n_evals][0] = x[0];
      r->points[r->n_evals][1] = x[1];
    }
  r->n_evals++;
  if (r->nan_above > 0.0 && b > r->nan_above)
    {
      r->n_nan++;
      if (grad)
        grad[0] = grad[1] = NAN;
      if (!r->nan_grad_only)
        return NAN;
      return (1.0 - a) * (1.0 - a) + 100.0 * (b - a * a) * (b - a * a);
    }
  if (grad)
    {
      grad[0] = (float) (-2.0 * (1.0 - a) - 400.0 * a * (b - a * a));
      grad[1] = (float) (200.0 * (b - a * a));
    }
  return (1.0 - a) * (1.0 - a) + 100.0 * (b - a * a) * (b - a * a);
}


/* ---- the iteration callback ------------------------------------------------------------- */

typedef struct _Recorder Recorder;

/* The optimiser passes one user_data to both callbacks. */
typedef struct
{
  NsObjectiveFunc func;
  gpointer        data;
  Recorder       *rec;
} Ctx;

struct _Recorder
{
  int     calls;
  int     stop_at;                /* return FALSE at this iteration (0: never) */
  gboolean numbering_ok;          /* iterations came as 1, 2, 3, … */
  gboolean all_finite;
  int    *evals;                  /* if set, read at each call into evals_at */
  int     evals_at[MAX_RECORD];
  double  f[MAX_RECORD];
  float   x2[MAX_RECORD][2];      /* the first two coordinates of each iterate */
  gsize   n;
};

static void
recorder_init (Recorder *rec, gsize n)
{
  memset (rec, 0, sizeof *rec);
  rec->numbering_ok = TRUE;
  rec->all_finite = TRUE;
  rec->n = n;
}

static gboolean
record (int iteration, const float *x, double f, gpointer user_data)
{
  Recorder *rec = ((Ctx *) user_data)->rec;
  int k = rec->calls;

  if (iteration != k + 1)
    rec->numbering_ok = FALSE;
  if (!isfinite (f))
    rec->all_finite = FALSE;
  for (gsize i = 0; i < rec->n; i++)
    if (!isfinite (x[i]))
      rec->all_finite = FALSE;
  if (k < MAX_RECORD)
    {
      rec->f[k] = f;
      rec->x2[k][0] = x[0];
      rec->x2[k][1] = rec->n > 1 ? x[1] : 0.0f;
      rec->evals_at[k] = rec->evals ? *rec->evals : 0;
    }
  rec->calls++;
  return rec->stop_at == 0 || iteration < rec->stop_at;
}

static double
ctx_func (const float *x, float *grad, gpointer user_data)
{
  Ctx *c = user_data;

  return c->func (x, grad, c->data);
}

static NsOptimStatus
run (NsObjectiveFunc func, gpointer data, Recorder *rec, float *x, gsize n,
     const NsLbfgsParams *params, double *f_out)
{
  Ctx c = { func, data, rec };

  return ns_lbfgs_minimize (x, n, params, ctx_func, record, &c, f_out);
}

static const NsLbfgsParams torch_defaults = { 100, 100, 1e-7, 1e-9 };

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_rosenbrock (void)
{
  Rosen *r = g_new0 (Rosen, 1);
  Recorder rec;
  float x[2] = { -1.2f, 1.0f };
  float g[2];
  double f_out, f_check;
  NsOptimStatus status;

  recorder_init (&rec, 2);
  status = run (rosenbrock, r, &rec, x, 2, &torch_defaults, &f_out);
  g_test_message ("Rosenbrock: status %d after %d iterations, %d evaluations, "
                  "x = (%.8f, %.8f), f = %.3e", status, rec.calls, r->n_evals, x[0], x[1], f_out);

  g_assert_true (status == NS_OPTIM_CONVERGED || status == NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpint (rec.calls, <=, 100);
  g_assert_cmpfloat (fabs (x[0] - 1.0), <, 1e-4);
  g_assert_cmpfloat (fabs (x[1] - 1.0), <, 1e-4);
  g_assert_true (rec.numbering_ok);

  /* f_out and the last callback describe the returned x. */
  f_check = rosenbrock (x, g, r);
  g_assert_cmpfloat (f_out, ==, f_check);
  g_assert_cmpfloat (rec.f[rec.calls - 1], ==, f_check);
  g_assert_cmpfloat (rec.x2[rec.calls - 1][0], ==, x[0]);
  g_assert_cmpfloat (rec.x2[rec.calls - 1][1], ==, x[1]);

  /* The line search only accepts points below the start: f never goes up. */
  for (int k = 1; k < rec.calls; k++)
    g_assert_cmpfloat (rec.f[k], <=, rec.f[k - 1]);

  g_free (r);
}

/* torch's first trial step is min(1, 1/‖g‖₁) along −g. */
static void
test_first_step (void)
{
  Rosen *r = g_new0 (Rosen, 1);
  Recorder rec;
  float x[2] = { -1.2f, 1.0f };
  float g[2];
  double t;
  NsLbfgsParams params = torch_defaults;

  rosenbrock (x, g, r);
  r->n_evals = 0;
  t = MIN (1.0, 1.0 / (fabs (g[0]) + fabs (g[1])));
  g_assert_cmpfloat (t, <, 1.0);           /* the scaling matters here */

  params.max_iterations = 1;
  recorder_init (&rec, 2);
  run (rosenbrock, r, &rec, x, 2, &params, NULL);
  g_assert_cmpint (r->n_evals, >=, 2);
  g_assert_cmpfloat_with_epsilon (r->points[1][0], -1.2 - t * g[0], 1e-6);
  g_assert_cmpfloat_with_epsilon (r->points[1][1], 1.0 - t * g[1], 1e-6);

  /* A gradient with ‖g‖₁ < 1 is not scaled up: the first trial is x − g. */
  {
    float y[2] = { 1.001f, 1.002f };
    float gy[2];

    rosenbrock (y, gy, r);
    g_assert_cmpfloat (fabs (gy[0]) + fabs (gy[1]), <, 1.0);
    r->n_evals = 0;
    rec.calls = 0;
    run (rosenbrock, r, &rec, y, 2, &params, NULL);
    g_assert_cmpfloat_with_epsilon (r->points[1][0], 1.001f - gy[0], 1e-6);
    g_assert_cmpfloat_with_epsilon (r->points[1][1], 1.002f - gy[1], 1e-6);
  }
  /* first_step: the first trial moves the variable with the largest gradient by exactly that. */
  {
    float z[2] = { -1.2f, 1.0f };
    double m;

    rosenbrock (z, g, r);
    m = MAX (fabs (g[0]), fabs (g[1]));
    params.first_step = 0.05;
    r->n_evals = 0;
    rec.calls = 0;
    run (rosenbrock, r, &rec, z, 2, &params, NULL);
    g_assert_cmpfloat_with_epsilon (r->points[1][0], -1.2 - 0.05 * g[0] / m, 1e-6);
    g_assert_cmpfloat_with_epsilon (r->points[1][1], 1.0 - 0.05 * g[1] / m, 1e-6);
    g_assert_cmpfloat (MAX (fabs (r->points[1][0] + 1.2), fabs (r->points[1][1] - 1.0)), <=,
                       0.05 + 1e-6);
  }
  g_free (r);
}

/* Every accepted step s = x_{k+1} − x_k meets the strong Wolfe conditions
 * f_{k+1} ≤ f_k + c1 g_k·s and |g_{k+1}·s| ≤ c2 |g_k·s| (c1 = 1e-4, c2 = 0.9). */
static void
test_strong_wolfe (void)
{
  Rosen *r = g_new0 (Rosen, 1);
  Recorder rec;
  float x[2] = { -1.2f, 1.0f };
  float prev[2] = { -1.2f, 1.0f };
  int checked = 0, wolfe = 0;
  NsLbfgsParams params = torch_defaults;

  params.max_iterations = 30;     /* away from the float round-off near the minimum */
  recorder_init (&rec, 2);
  run (rosenbrock, r, &rec, x, 2, &params, NULL);
  g_assert_cmpint (rec.calls, >=, 25);      /* the evaluation budget may end it early */

  for (int k = 0; k < rec.calls; k++)
    {
      float g0[2], g1[2], cur[2] = { rec.x2[k][0], rec.x2[k][1] };
      double f0 = rosenbrock (prev, g0, r);
      double f1 = rosenbrock (cur, g1, r);
      double s0 = (double) cur[0] - prev[0], s1 = (double) cur[1] - prev[1];
      double gs0 = g0[0] * s0 + g0[1] * s1;
      double gs1 = g1[0] * s0 + g1[1] * s1;

      g_assert_cmpfloat (gs0, <, 0.0);                       /* a descent direction */
      g_assert_cmpfloat (f1, <=, f0 + 1e-4 * gs0);           /* sufficient decrease */
      if (fabs (gs1) <= 0.9 * fabs (gs0))
        wolfe++;
      checked++;
      prev[0] = cur[0];
      prev[1] = cur[1];
    }
  /* torch may end a search on its evaluation cap (25) or bracket width with only the
   * sufficient decrease; on Rosenbrock that does not happen in the first 30 steps. */
  g_test_message ("curvature condition held in %d of %d steps", wolfe, checked);
  g_assert_cmpint (wolfe, ==, checked);
  g_free (r);
}

static void
test_quadratic (void)
{
  const gsize n = 1000;
  Quad q;
  Recorder rec;
  float *x = g_new0 (float, n);
  double f_out, err;
  NsLbfgsParams params = { 1000, 100, 1e-7, 1e-12 };
  NsOptimStatus status;

  quad_init (&q, n, 7);
  recorder_init (&rec, n);
  status = run (quadratic, &q, &rec, x, n, &params, &f_out);
  err = quad_max_error (&q, x);
  g_test_message ("quadratic n=%zu: status %d after %d iterations, %d evaluations, "
                  "max |x - m| = %.2e, f = %.2e", n, status, rec.calls, q.n_evals, err, f_out);
  g_assert_true (status == NS_OPTIM_CONVERGED || status == NS_OPTIM_MAX_ITERATIONS);
  /* Condition number 1e4 makes this slow (f halves every ~20 iterations, as for conjugate
   * gradients).  The floor is float round-off: x is resolved to ~6e-8, which in the
   * stiffest coordinates (d = 100) is gradient noise of ~6e-6, as large as the signal of a
   * 6e-4 error in the softest ones (d = 1e-2). */
  g_assert_cmpfloat (err, <, 5e-4);
  g_assert_cmpfloat (f_out, <, 1e-8);
  g_assert_cmpfloat (f_out, ==, quadratic (x, NULL, &q));

  quad_clear (&q);
  g_free (x);
}

/* A short history still converges, and the history really changes the steps. */
static void
test_history (void)
{
  const gsize n = 1000;
  Quad q;
  Recorder rec;
  float *x1 = g_new0 (float, n), *x100 = g_new0 (float, n);
  NsLbfgsParams params = { 1000, 3, 1e-7, 1e-12 };
  NsOptimStatus status;
  double diff = 0.0;

  quad_init (&q, n, 11);
  recorder_init (&rec, n);
  status = run (quadratic, &q, &rec, x1, n, &params, NULL);
  g_test_message ("history 3: %d iterations, max |x - m| = %.2e", rec.calls,
                  quad_max_error (&q, x1));
  g_assert_true (status == NS_OPTIM_CONVERGED || status == NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpfloat (quad_max_error (&q, x1), <, 1e-3);

  /* After 10 iterations, history 3 and history 100 are at different points. */
  memset (x1, 0, n * sizeof (float));
  params.max_iterations = 10;
  run (quadratic, &q, &rec, x1, n, &params, NULL);
  params.history = 100;
  run (quadratic, &q, &rec, x100, n, &params, NULL);
  for (gsize i = 0; i < n; i++)
    diff = MAX (diff, fabs (x1[i] - x100[i]));
  g_assert_cmpfloat (diff, >, 1e-4);

  quad_clear (&q);
  g_free (x1);
  g_free (x100);
}

static void
test_stop (void)
{
  Rosen *r = g_new0 (Rosen, 1);
  Recorder rec;
  float x[2] = { -1.2f, 1.0f };
  double f_out;
  NsOptimStatus status;

  recorder_init (&rec, 2);
  rec.stop_at = 3;
  status = run (rosenbrock, r, &rec, x, 2, &torch_defaults, &f_out);
  g_assert_cmpint (status, ==, NS_OPTIM_STOPPED);
  g_assert_cmpint (rec.calls, ==, 3);
  g_assert_true (rec.numbering_ok);
  /* x and f_out are the iterate the callback saw last. */
  g_assert_cmpfloat (x[0], ==, rec.x2[2][0]);
  g_assert_cmpfloat (x[1], ==, rec.x2[2][1]);
  g_assert_cmpfloat (f_out, ==, rec.f[2]);
  g_free (r);
}

/* max_iterations bounds the iterations, and torch's evaluation budget (max_iter · 5/4)
 * stops the run after the first iteration that reaches it. */
static void
test_max_iterations (void)
{
  const gsize n = 1000;
  Quad q;
  Recorder rec;
  float *x = g_new0 (float, n);
  NsLbfgsParams params = torch_defaults;
  NsOptimStatus status;

  quad_init (&q, n, 3);
  params.max_iterations = 40;        /* takes fewer than 50 evaluations here */
  recorder_init (&rec, n);
  rec.evals = &q.n_evals;
  status = run (quadratic, &q, &rec, x, n, &params, NULL);
  g_assert_cmpint (status, ==, NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpint (rec.calls, ==, 40);
  g_assert_cmpint (rec.evals_at[39], <, 50);

  for (int max_iter = 4; max_iter <= 32; max_iter += 4)     /* Rosenbrock needs 34 */
    {
      Rosen *r = g_new0 (Rosen, 1);
      float y[2] = { -1.2f, 1.0f };
      int budget = max_iter * 5 / 4, last;

      params.max_iterations = max_iter;
      recorder_init (&rec, 2);
      rec.evals = &r->n_evals;
      status = run (rosenbrock, r, &rec, y, 2, &params, NULL);
      g_assert_cmpint (status, ==, NS_OPTIM_MAX_ITERATIONS);
      g_assert_cmpint (rec.calls, <=, max_iter);
      last = rec.calls - 1;
      /* Stopped at the iteration limit or at the first iteration over budget. */
      g_assert_true (rec.calls == max_iter || rec.evals_at[last] >= budget);
      for (int k = 0; k < last; k++)
        g_assert_cmpint (rec.evals_at[k], <, budget);
      g_free (r);
    }

  /* An explicit budget replaces max_iter · 5/4. */
  {
    Rosen *r = g_new0 (Rosen, 1);
    float y[2] = { -1.2f, 1.0f };
    int last;

    params.max_iterations = 100;
    params.max_evaluations = 30;
    recorder_init (&rec, 2);
    rec.evals = &r->n_evals;
    status = run (rosenbrock, r, &rec, y, 2, &params, NULL);
    g_assert_cmpint (status, ==, NS_OPTIM_MAX_ITERATIONS);
    last = rec.calls - 1;
    g_assert_cmpint (rec.evals_at[last], >=, 30);
    g_assert_cmpint (rec.evals_at[last - 1], <, 30);
    g_free (r);
  }

  quad_clear (&q);
  g_free (x);
}

/* The stylizer turns the tolerance tests off (as neural-style does) and runs the full
 * budget: past the minimum, with steps at float round-off, nothing may turn into NaN. */
static void
test_tolerances_off (void)
{
  Rosen *r = g_new0 (Rosen, 1);
  Recorder rec;
  float x[2] = { -1.2f, 1.0f };
  NsLbfgsParams params = { 200, 100, -1.0, -1.0 };
  double f_out;
  NsOptimStatus status;

  recorder_init (&rec, 2);
  rec.evals = &r->n_evals;
  status = run (rosenbrock, r, &rec, x, 2, &params, &f_out);
  g_test_message ("tolerances off: %d iterations, %d evaluations, x = (%.8f, %.8f), f = %.3g",
                  rec.calls, r->n_evals, x[0], x[1], f_out);
  g_assert_cmpint (status, ==, NS_OPTIM_MAX_ITERATIONS);
  g_assert_true (rec.all_finite);
  /* Ran to the budget: the iteration limit or 250 evaluations. */
  g_assert_true (rec.calls == 200 || rec.evals_at[rec.calls - 1] >= 250);
  g_assert_cmpfloat (fabs (x[0] - 1.0), <, 1e-4);
  g_assert_cmpfloat (fabs (x[1] - 1.0), <, 1e-4);

  /* max_iterations = 0: the start is evaluated and returned. */
  params.max_iterations = 0;
  x[0] = -1.2f;
  x[1] = 1.0f;
  r->n_evals = 0;
  recorder_init (&rec, 2);
  status = run (rosenbrock, r, &rec, x, 2, &params, &f_out);
  g_assert_cmpint (status, ==, NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpint (rec.calls, ==, 0);
  g_assert_cmpint (r->n_evals, ==, 1);
  g_assert_cmpfloat (x[0], ==, -1.2f);
  g_assert_cmpfloat (f_out, ==, rosenbrock (x, NULL, r));
  g_free (r);
}

/* Above y = 1.1 the objective, or only its gradient, is NaN (the first trial step from
 * (−1.2, 1) lands there): the line search must back off and still reach the minimum, with
 * nothing non-finite in x or the callbacks. */
static void
check_nan_region (gboolean nan_grad_only)
{
  Rosen *r = g_new0 (Rosen, 1);
  Recorder rec;
  float x[2] = { -1.2f, 1.0f };
  double f_out;
  NsOptimStatus status;

  r->nan_above = 1.1;
  r->nan_grad_only = nan_grad_only;
  recorder_init (&rec, 2);
  status = run (rosenbrock, r, &rec, x, 2, &torch_defaults, &f_out);
  g_test_message ("Rosenbrock below y = 1.1 (%s): status %d, %d iterations, %d NaN evaluations, "
                  "x = (%.6f, %.6f)", nan_grad_only ? "NaN gradient" : "NaN value", status,
                  rec.calls, r->n_nan, x[0], x[1]);
  g_assert_cmpint (r->n_nan, >, 0);        /* the region was actually hit */
  g_assert_true (rec.all_finite);
  g_assert_true (isfinite (x[0]) && isfinite (x[1]) && isfinite (f_out));
  g_assert_true (status == NS_OPTIM_CONVERGED || status == NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpfloat (fabs (x[0] - 1.0), <, 1e-3);
  g_assert_cmpfloat (fabs (x[1] - 1.0), <, 1e-3);
  g_free (r);
}

static void
test_nan_region (void)
{
  check_nan_region (FALSE);
  check_nan_region (TRUE);
}

/* The same with +Inf outside a box on the ill-conditioned quadratic.  With |xᵢ| ≤ 1.2 one
 * trial point falls outside and the run still converges.  With |xᵢ| ≤ 1.05 the iterates
 * jam against the box (a constraint L-BFGS cannot see); the run must still end sanely. */
static void
test_inf_box (void)
{
  const gsize n = 1000;
  Quad q;
  Recorder rec;
  float *x = g_new0 (float, n);
  double f_out, f0;
  NsOptimStatus status;
  NsLbfgsParams params = { 1000, 100, 1e-7, 1e-12 };

  quad_init (&q, n, 5);
  f0 = quadratic (x, NULL, &q);
  q.box = 1.2;
  recorder_init (&rec, n);
  status = run (quadratic, &q, &rec, x, n, &params, &f_out);
  g_test_message ("quadratic in |x| <= 1.2: status %d, %d iterations, %d infinite evaluations, "
                  "max |x - m| = %.2e", status, rec.calls, q.n_bad, quad_max_error (&q, x));
  g_assert_cmpint (q.n_bad, >, 0);
  g_assert_true (rec.all_finite);
  g_assert_true (status == NS_OPTIM_CONVERGED || status == NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpfloat (quad_max_error (&q, x), <, 5e-4);

  memset (x, 0, n * sizeof (float));
  q.box = 1.05;
  q.n_bad = 0;
  params.max_iterations = 100;
  rec.calls = 0;
  status = run (quadratic, &q, &rec, x, n, &params, &f_out);
  g_test_message ("quadratic in |x| <= 1.05: status %d, %d iterations, %d infinite evaluations, "
                  "f %.3g -> %.3g", status, rec.calls, q.n_bad, f0, f_out);
  g_assert_cmpint (q.n_bad, >, 0);
  g_assert_true (rec.all_finite);
  g_assert_true (status != NS_OPTIM_STOPPED);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (fabs (x[i]), <=, 1.05);
  g_assert_cmpfloat (f_out, ==, quadratic (x, NULL, &q));
  g_assert_cmpfloat (f_out, <, 0.1 * f0);

  quad_clear (&q);
  g_free (x);
}

static double
nan_everywhere (const float *x, float *grad, gpointer user_data)
{
  if (grad)
    grad[0] = grad[1] = NAN;
  return NAN;
}

/* Finite only at the start point: no step can be taken. */
static double
finite_only_at_start (const float *x, float *grad, gpointer user_data)
{
  if (x[0] != 0.5f || x[1] != -0.25f)
    return nan_everywhere (x, grad, user_data);
  grad[0] = 1.0f;
  grad[1] = -2.0f;
  return 3.0;
}

static void
test_nan_start (void)
{
  Recorder rec;
  float x[2] = { 0.5f, -0.25f };
  double f_out = 0.0;
  NsOptimStatus status;

  recorder_init (&rec, 2);
  status = run (nan_everywhere, NULL, &rec, x, 2, &torch_defaults, &f_out);
  g_assert_cmpint (status, ==, NS_OPTIM_NUMERIC);
  g_assert_cmpint (rec.calls, ==, 0);
  g_assert_cmpfloat (x[0], ==, 0.5f);
  g_assert_cmpfloat (x[1], ==, -0.25f);
  g_assert_true (isnan (f_out));

  status = run (finite_only_at_start, NULL, &rec, x, 2, &torch_defaults, &f_out);
  g_assert_cmpint (status, ==, NS_OPTIM_NUMERIC);
  g_assert_cmpfloat (x[0], ==, 0.5f);
  g_assert_cmpfloat (x[1], ==, -0.25f);
  g_assert_cmpfloat (f_out, ==, 3.0);
  g_assert_true (rec.all_finite);
}

/* At a stationary point torch returns before the first iteration. */
static void
test_converged_start (void)
{
  Rosen *r = g_new0 (Rosen, 1);
  Recorder rec;
  float x[2] = { 1.0f, 1.0f };
  double f_out = -1.0;
  NsOptimStatus status;

  recorder_init (&rec, 2);
  status = run (rosenbrock, r, &rec, x, 2, &torch_defaults, &f_out);
  g_assert_cmpint (status, ==, NS_OPTIM_CONVERGED);
  g_assert_cmpint (rec.calls, ==, 0);
  g_assert_cmpint (r->n_evals, ==, 1);
  g_assert_cmpfloat (f_out, ==, 0.0);
  g_free (r);
}

/* ---- trajectories of torch.optim.LBFGS --------------------------------------------------- */

/* Σ |xᵢ − 1|^1.5: its line searches zoom more than Rosenbrock's. */
static double
pow15 (const float *x, float *grad, gpointer user_data)
{
  gsize n = GPOINTER_TO_SIZE (((gpointer *) user_data)[0]);
  double f = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      double e = x[i] - 1.0;
      f += pow (fabs (e), 1.5);
      grad[i] = (float) (1.5 * sqrt (fabs (e)) * (e > 0.0 ? 1.0 : -1.0));
    }
  return f;
}

typedef struct
{
  double f;
  int    evals;       /* cumulative, the start included */
  double x0, x1;      /* the first two coordinates of the iterate */
} TorchIterate;

/* torch.optim.LBFGS(lr=1, max_iter=20, history_size=100, line_search_fn="strong_wolfe"),
 * one step(), in float64, as printed by tests/reference/lbfgs_torch.py (PyTorch 2.6).  The
 * evaluation budget (max_eval = 25) ends both runs before 20 iterations. */
static const TorchIterate torch_rosenbrock[] = {
  { 4.1469271, 3, -1.024531930, 1.071619620 },
  { 4.12558671, 4, -1.028456575, 1.068187456 },
  { 4.12112678, 5, -1.028879535, 1.065502952 },
  { 4.11181645, 6, -1.027617766, 1.058412078 },
  { 4.08495538, 7, -1.020308480, 1.035276987 },
  { 4.02228215, 8, -0.997031035, 0.975591385 },
  { 3.90914428, 9, -0.943127801, 0.852966273 },
  { 3.75891172, 10, -0.880213165, 0.727477206 },
  { 3.42316546, 11, -0.774579735, 0.547625679 },
  { 2.85975914, 12, -0.665708457, 0.413983083 },
  { 2.45625772, 13, -0.516027773, 0.226545826 },
  { 1.8204633, 14, -0.348778762, 0.125195070 },
  { 1.65796264, 17, -0.256089577, 0.037261982 },
  { 1.49686468, 18, -0.171135609, -0.006111200 },
  { 1.13509642, 19, -0.046190192, -0.018011566 },
  { 0.920300612, 20, 0.066297311, -0.017627360 },
  { 0.652977696, 21, 0.216827796, 0.066918814 },
  { 0.464140177, 24, 0.341842361, 0.099258274 },
  { 0.423482302, 25, 0.380622643, 0.124910132 },
};

static const TorchIterate torch_pow15[] = {
  { 6.86796474, 3, 1.937637714, 1.901001293 },
  { 0.0864702822, 5, 1.071010776, 1.062261095 },
  { 0.00290007677, 7, 1.009582394, 1.005755982 },
  { 0.000506717703, 9, 1.001473132, 0.999198111 },
  { 0.000103797308, 11, 1.000730112, 0.999739885 },
  { 2.66505542e-05, 12, 0.999714754, 1.000431069 },
  { 6.45577344e-06, 13, 0.999982555, 0.999968962 },
  { 5.32428887e-06, 15, 1.000117767, 1.000030118 },
  { 1.48775806e-06, 17, 1.000038348, 1.000037288 },
  { 7.54902651e-07, 19, 1.000006309, 1.000030459 },
  { 2.00327176e-07, 21, 1.000004430, 1.000011293 },
  { 5.87311353e-08, 23, 0.999993759, 1.000000838 },
  { 2.18629307e-08, 25, 0.999998550, 0.999997233 },
};

/* Counts evaluations around any objective; user_data is {data, counter}. */
typedef struct
{
  NsObjectiveFunc func;
  gpointer        data;
  int             n_evals;
} Counted;

static double
counted (const float *x, float *grad, gpointer user_data)
{
  Counted *c = user_data;

  c->n_evals++;
  return c->func (x, grad, c->data);
}

/* Same number of iterations, same evaluations in each (the same line-search decisions), and
 * iterates equal up to float32 round-off.  Our vectors are float and our scalars double, so
 * neither torch float32 nor float64 is matched bit for bit; float32 torch differs from
 * float64 torch by up to 2e-4 in f on Rosenbrock. */
static void
check_torch (const char *name, NsObjectiveFunc func, gpointer data, float *x, gsize n,
             const TorchIterate *ref, int n_ref, double f_tol, double x_tol)
{
  Counted c = { func, data, 0 };
  Recorder rec;
  NsLbfgsParams params = { 20, 100, 1e-7, 1e-9 };
  double worst_f = 0.0, worst_x = 0.0, f_out;

  recorder_init (&rec, n);
  rec.evals = &c.n_evals;
  g_assert_cmpint (run (counted, &c, &rec, x, n, &params, &f_out), ==, NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpint (rec.calls, ==, n_ref);
  for (int k = 0; k < n_ref; k++)
    {
      g_assert_cmpint (rec.evals_at[k], ==, ref[k].evals);
      worst_f = MAX (worst_f, fabs (rec.f[k] - ref[k].f) / ref[k].f);
      worst_x = MAX (worst_x, fabs (rec.x2[k][0] - ref[k].x0));
      worst_x = MAX (worst_x, fabs (rec.x2[k][1] - ref[k].x1));
    }
  g_test_message ("%s: %d iterations, %d evaluations as torch; f = %.9g (torch float64 %.9g); "
                  "largest relative difference in f %.2e, largest difference in x %.2e",
                  name, rec.calls, c.n_evals, f_out, ref[n_ref - 1].f, worst_f, worst_x);
  g_assert_cmpfloat (worst_f, <, f_tol);
  g_assert_cmpfloat (worst_x, <, x_tol);
}

static void
test_torch_rosenbrock (void)
{
  Rosen *r = g_new0 (Rosen, 1);
  float x[2] = { -1.2f, 1.0f };

  check_torch ("Rosenbrock", rosenbrock, r, x, 2, torch_rosenbrock,
               G_N_ELEMENTS (torch_rosenbrock), 1e-3, 1e-3);
  g_free (r);
}

static void
test_torch_pow15 (void)
{
  const gsize n = 10;
  float x[10];
  gpointer data[1] = { GSIZE_TO_POINTER (n) };

  for (gsize i = 0; i < n; i++)
    x[i] = (float) (3.0 - 0.05 * i);
  /* f ends at 2e-8, where |x − 1| ~ 1e-6 is a few float ulps: relative errors in f grow
   * to ~1 % (float32 torch is 0.5 % off float64 torch there); x stays within 1e-6. */
  check_torch ("sum |x - 1|^1.5", pow15, data, x, n, torch_pow15, G_N_ELEMENTS (torch_pow15),
               2e-2, 1e-5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lbfgs/rosenbrock", test_rosenbrock);
  g_test_add_func ("/lbfgs/first-step", test_first_step);
  g_test_add_func ("/lbfgs/strong-wolfe", test_strong_wolfe);
  g_test_add_func ("/lbfgs/quadratic", test_quadratic);
  g_test_add_func ("/lbfgs/history", test_history);
  g_test_add_func ("/lbfgs/stop", test_stop);
  g_test_add_func ("/lbfgs/max-iterations", test_max_iterations);
  g_test_add_func ("/lbfgs/tolerances-off", test_tolerances_off);
  g_test_add_func ("/lbfgs/nan-region", test_nan_region);
  g_test_add_func ("/lbfgs/inf-box", test_inf_box);
  g_test_add_func ("/lbfgs/nan-start", test_nan_start);
  g_test_add_func ("/lbfgs/converged-start", test_converged_start);
  g_test_add_func ("/lbfgs/torch-rosenbrock", test_torch_rosenbrock);
  g_test_add_func ("/lbfgs/torch-pow15", test_torch_pow15);
  return g_test_run ();
}
