/* test-adam.c — Adam: the update rule against a textbook statement of Kingma & Ba's
 * algorithm, convergence, callbacks, iteration count and NaN handling. */

#include <math.h>
#include <string.h>

#include "ns-internal.h"
#include "testutil.h"
#include "quadratic.h"

/* ---- objectives ---------------------------------------------------------------------------- */

static double
rosenbrock (const float *x, float *grad, gpointer user_data)
{
  double a = x[0], b = x[1];

  if (grad)
    {
      grad[0] = (float) (-2.0 * (1.0 - a) - 400.0 * a * (b - a * a));
      grad[1] = (float) (200.0 * (b - a * a));
    }
  return (1.0 - a) * (1.0 - a) + 100.0 * (b - a * a) * (b - a * a);
}


/* (x − 1)² + (y + 1)², NaN (or a NaN gradient only, with nan_grad) once x > 0.5. */
typedef struct
{
  gboolean nan_grad;
  int      n_nan;
} Fence;

static double
fenced (const float *x, float *grad, gpointer user_data)
{
  Fence *fe = user_data;
  double f = (x[0] - 1.0) * (x[0] - 1.0) + (x[1] + 1.0) * (x[1] + 1.0);

  grad[0] = (float) (2.0 * (x[0] - 1.0));
  grad[1] = (float) (2.0 * (x[1] + 1.0));
  if (x[0] > 0.5f)
    {
      fe->n_nan++;
      grad[1] = NAN;
      if (!fe->nan_grad)
        return NAN;
    }
  return f;
}

/* ---- the iteration callback ------------------------------------------------------------- */

#define MAX_RECORD 64

typedef struct
{
  int      calls;
  int      stop_at;          /* return FALSE at this iteration (0: never) */
  gboolean numbering_ok;
  gboolean all_finite;
  double   f[MAX_RECORD];
  float    x[MAX_RECORD][3];  /* the first three coordinates of each iterate */
} Recorder;

static void
recorder_init (Recorder *rec)
{
  memset (rec, 0, sizeof *rec);
  rec->numbering_ok = TRUE;
  rec->all_finite = TRUE;
}

static gboolean
record (int iteration, const float *x, double f, gpointer user_data)
{
  Recorder *rec = user_data;
  int k = rec->calls++;

  if (iteration != k + 1)
    rec->numbering_ok = FALSE;
  if (!isfinite (f) || !isfinite (x[0]) || !isfinite (x[1]))
    rec->all_finite = FALSE;
  if (k < MAX_RECORD)
    {
      rec->f[k] = f;
      memcpy (rec->x[k], x, 2 * sizeof (float));
    }
  return rec->stop_at == 0 || iteration < rec->stop_at;
}

/* The objective gets {data, recorder}; the callback gets the recorder. */
typedef struct
{
  NsObjectiveFunc func;
  gpointer        data;
  Recorder       *rec;
} Ctx;

static double
ctx_func (const float *x, float *grad, gpointer user_data)
{
  Ctx *c = user_data;
  return c->func (x, grad, c->data);
}

static gboolean
ctx_iter (int iteration, const float *x, double f, gpointer user_data)
{
  Ctx *c = user_data;
  return record (iteration, x, f, c->rec);
}

static NsOptimStatus
run (NsObjectiveFunc func, gpointer data, Recorder *rec, float *x, gsize n,
     const NsAdamParams *params, double *f_out)
{
  Ctx c = { func, data, rec };

  return ns_adam_minimize (x, n, params, ctx_func, ctx_iter, &c, f_out);
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* Kingma & Ba, Algorithm 1, in double: m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ),
 * x ← x − α m̂ / (√v̂ + ε). */
static void
test_update_rule (void)
{
  const NsAdamParams params = { 6, 0.05, 0.8, 0.95, 1e-3 };
  double xr[3] = { -1.2, 1.0, 0.3 }, m[3] = { 0 }, v[3] = { 0 };
  float x[3] = { -1.2f, 1.0f, 0.3f };
  Quad q;
  Recorder rec;

  quad_init (&q, 3, 1);
  q.d[0] = 0.5;          /* three different curvatures */
  q.d[1] = 3.0;
  q.d[2] = 40.0;
  recorder_init (&rec);
  g_assert_cmpint (run (quadratic, &q, &rec, x, 3, &params, NULL), ==, NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpint (rec.calls, ==, 6);

  for (int t = 1; t <= 6; t++)
    {
      for (int i = 0; i < 3; i++)
        {
          double g = q.d[i] * (xr[i] - q.m[i]);
          double mhat, vhat;

          m[i] = params.beta1 * m[i] + (1.0 - params.beta1) * g;
          v[i] = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
          mhat = m[i] / (1.0 - pow (params.beta1, t));
          vhat = v[i] / (1.0 - pow (params.beta2, t));
          xr[i] -= params.learning_rate * mhat / (sqrt (vhat) + params.epsilon);
        }
      for (int i = 0; i < 2; i++)
        g_assert_cmpfloat_with_epsilon (rec.x[t - 1][i], xr[i], 1e-5);
    }
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (x[i], xr[i], 1e-5);

  /* With bias correction the first step is α·g/(|g| + ε): about α in every coordinate,
   * whatever the curvature. */
  {
    const NsAdamParams one = { 1, 0.01, 0.9, 0.999, 1e-8 };
    float y[3] = { 0.0f, 0.0f, 0.0f };

    recorder_init (&rec);
    run (quadratic, &q, &rec, y, 3, &one, NULL);
    for (int i = 0; i < 3; i++)
      g_assert_cmpfloat_with_epsilon (y[i], 0.01 * (q.m[i] > 0 ? 1 : -1), 1e-6);
  }
  quad_clear (&q);
}

static void
test_quadratic (void)
{
  const gsize n = 1000;
  const NsAdamParams params = { 1000, 0.01, 0.9, 0.999, 1e-8 };
  Quad q;
  Recorder rec;
  float *x = g_new0 (float, n);
  double f_out, err = 0.0;
  NsOptimStatus status;

  quad_init (&q, n, 7);
  recorder_init (&rec);
  status = run (quadratic, &q, &rec, x, n, &params, &f_out);
  for (gsize i = 0; i < n; i++)
    err = MAX (err, fabs (x[i] - q.m[i]));
  g_test_message ("Adam, quadratic n=%zu, lr 0.01, 1000 iterations: max |x - m| = %.2e, f = %.2e",
                  n, err, f_out);
  g_assert_cmpint (status, ==, NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpint (rec.calls, ==, 1000);
  g_assert_true (rec.numbering_ok);
  /* Adam scales each coordinate by its own gradient size, so the condition number does
   * not slow it down on a diagonal quadratic. */
  g_assert_cmpfloat (err, <, 1e-5);
  g_assert_cmpfloat (f_out, ==, quadratic (x, NULL, &q));
  /* Every iterate is evaluated once, plus the start. */
  g_assert_cmpint (q.n_evals, ==, 1000 + 1 + 1);
  quad_clear (&q);
  g_free (x);
}

static void
test_rosenbrock (void)
{
  const NsAdamParams params = { 5000, 0.01, 0.9, 0.999, 1e-8 };
  float x[2] = { -1.2f, 1.0f };
  double f_out;
  NsOptimStatus status;

  status = ns_adam_minimize (x, 2, &params, rosenbrock, NULL, NULL, &f_out);
  g_test_message ("Adam, Rosenbrock, lr 0.01, 5000 iterations: x = (%.6f, %.6f), f = %.2e",
                  x[0], x[1], f_out);
  g_assert_cmpint (status, ==, NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpfloat (fabs (x[0] - 1.0), <, 1e-3);
  g_assert_cmpfloat (fabs (x[1] - 1.0), <, 1e-3);
}

static void
test_stop (void)
{
  const NsAdamParams params = { 100, 0.01, 0.9, 0.999, 1e-8 };
  float x[2] = { -1.2f, 1.0f };
  Recorder rec;
  double f_out;
  NsOptimStatus status;

  recorder_init (&rec);
  rec.stop_at = 7;
  status = run (rosenbrock, NULL, &rec, x, 2, &params, &f_out);
  g_assert_cmpint (status, ==, NS_OPTIM_STOPPED);
  g_assert_cmpint (rec.calls, ==, 7);
  g_assert_true (rec.numbering_ok);
  g_assert_cmpfloat (x[0], ==, rec.x[6][0]);
  g_assert_cmpfloat (x[1], ==, rec.x[6][1]);
  g_assert_cmpfloat (f_out, ==, rec.f[6]);
  g_assert_cmpfloat (f_out, ==, rosenbrock (x, NULL, NULL));
}

static void
test_max_iterations (void)
{
  NsAdamParams params = { 25, 0.01, 0.9, 0.999, 1e-8 };
  float x[2] = { -1.2f, 1.0f };
  Recorder rec;

  recorder_init (&rec);
  g_assert_cmpint (run (rosenbrock, NULL, &rec, x, 2, &params, NULL), ==, NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpint (rec.calls, ==, 25);

  params.max_iterations = 0;
  recorder_init (&rec);
  x[0] = -1.2f;
  x[1] = 1.0f;
  g_assert_cmpint (run (rosenbrock, NULL, &rec, x, 2, &params, NULL), ==, NS_OPTIM_MAX_ITERATIONS);
  g_assert_cmpint (rec.calls, ==, 0);
  g_assert_cmpfloat (x[0], ==, -1.2f);
}

/* Adam walks from x = 0 towards 1 and meets NaN past x = 0.5: it must stop with
 * NS_OPTIM_NUMERIC and hand back the best finite iterate it saw. */
static void
check_fence (gboolean nan_grad)
{
  const NsAdamParams params = { 200, 0.1, 0.9, 0.999, 1e-8 };
  float x[2] = { 0.0f, 0.0f };
  Fence fe = { nan_grad, 0 };
  Recorder rec;
  double f_out, best_f = 2.0;     /* f at the start */
  float best[2] = { 0.0f, 0.0f };
  NsOptimStatus status;

  recorder_init (&rec);
  status = run (fenced, &fe, &rec, x, 2, &params, &f_out);
  g_assert_cmpint (status, ==, NS_OPTIM_NUMERIC);
  g_assert_cmpint (fe.n_nan, ==, 1);
  g_assert_cmpint (rec.calls, >, 0);
  g_assert_true (rec.all_finite);
  for (int k = 0; k < rec.calls && k < MAX_RECORD; k++)
    if (rec.f[k] < best_f)
      {
        best_f = rec.f[k];
        memcpy (best, rec.x[k], sizeof best);
      }
  g_assert_cmpfloat (x[0], ==, best[0]);
  g_assert_cmpfloat (x[1], ==, best[1]);
  g_assert_cmpfloat (x[0], <=, 0.5f);
  g_assert_cmpfloat (f_out, ==, best_f);
}

static void
test_nan (void)
{
  check_fence (FALSE);
  check_fence (TRUE);
}

static void
test_nan_start (void)
{
  const NsAdamParams params = { 10, 0.1, 0.9, 0.999, 1e-8 };
  float x[2] = { 0.75f, 0.0f };
  Fence fe = { FALSE, 0 };
  Recorder rec;
  double f_out = 0.0;

  recorder_init (&rec);
  g_assert_cmpint (run (fenced, &fe, &rec, x, 2, &params, &f_out), ==, NS_OPTIM_NUMERIC);
  g_assert_cmpint (rec.calls, ==, 0);
  g_assert_cmpfloat (x[0], ==, 0.75f);
  g_assert_cmpfloat (x[1], ==, 0.0f);
  g_assert_true (isnan (f_out));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/adam/update-rule", test_update_rule);
  g_test_add_func ("/adam/quadratic", test_quadratic);
  g_test_add_func ("/adam/rosenbrock", test_rosenbrock);
  g_test_add_func ("/adam/stop", test_stop);
  g_test_add_func ("/adam/max-iterations", test_max_iterations);
  g_test_add_func ("/adam/nan", test_nan);
  g_test_add_func ("/adam/nan-start", test_nan_start);
  return g_test_run ();
}
