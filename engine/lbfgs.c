/* lbfgs.c — limited-memory BFGS with a strong-Wolfe line search.
 *
 * The algorithm is that of torch.optim.LBFGS(line_search_fn="strong_wolfe") (itself after
 * minFunc and torch7's optim), step for step, so that our runs can be compared with
 * PyTorch's: the same first step, two-loop recursion, curvature-pair rule, bracketing and
 * zoom phases with cubic interpolation, evaluation budget and stopping tests.  Vectors are
 * float; dot products and all scalars are double.
 *
 * Beyond torch, the line search treats a NaN/Inf objective (or gradient) as a failed trial
 * point: it always lands in the upper end of the bracket, so the step shrinks towards the
 * last good point and a non-finite value never reaches x or the curvature history. */

#include <math.h>
#include <string.h>

#include "ns-internal.h"

/* torch's _strong_wolfe defaults; LBFGS.step() does not pass its own tolerance_change. */
#define LS_C1               1e-4
#define LS_C2               0.9
#define LS_TOLERANCE_CHANGE 1e-9
#define LS_MAX_ITER         25

/* Pairs whose curvature y·s is not clearly positive would break the positive
 * definiteness of the inverse-Hessian approximation. */
#define MIN_CURVATURE       1e-10

/* ---- vector helpers ------------------------------------------------------------------- */

/* The two-loop recursion walks 4 × history image-sized vectors an iteration: at 24 MP and
 * 512 px a tenth of a run, on one core.  So the helpers below run over the engine's threads,
 * in chunks fixed by n (parallel.c): the same bits at any thread count. */
typedef struct
{
  float       *y;
  const float *a, *b;
  double       t;
} Vec;

/* Four partial sums give the CPU independent chains without changing the result between
 * runs (the order is fixed). */
static double
dot_range (gsize from, gsize to, gpointer data)
{
  const Vec *v = data;
  const float *a = v->a, *b = v->b;
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  gsize i = from;

  for (; i + 4 <= to; i += 4)
    {
      s0 += (double) a[i] * b[i];
      s1 += (double) a[i + 1] * b[i + 1];
      s2 += (double) a[i + 2] * b[i + 2];
      s3 += (double) a[i + 3] * b[i + 3];
    }
  for (; i < to; i++)
    s0 += (double) a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

static double
vec_dot (const float *a, const float *b, gsize n)
{
  Vec v = { NULL, a, b, 0.0 };

  return ns_parallel_sum (n, NS_CHUNK, 1, dot_range, &v);
}

/* Largest |a[i]|, or NaN if any entry is NaN/Inf. */
static double
vec_max_abs (const float *a, gsize n)
{
  float m = 0.0f;

  for (gsize i = 0; i < n; i++)
    {
      float v = fabsf (a[i]);
      if (!(v <= G_MAXFLOAT))
        return NAN;
      if (v > m)
        m = v;
    }
  return m;
}

static double
vec_sum_abs (const float *a, gsize n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += fabsf (a[i]);
  return s;
}

static void
step_range (gsize from, gsize to, gpointer data)
{
  const Vec *v = data;
  float tf = (float) v->t;

  for (gsize i = from; i < to; i++)
    v->y[i] = v->a[i] + tf * v->b[i];
}

/* out = x + t·d.  The one place where trial points and the accepted iterate are formed,
 * so that the accepted x is bit-identical to the point that was evaluated. */
static void
vec_step (float *out, const float *x, double t, const float *d, gsize n)
{
  Vec v = { out, x, d, t };

  ns_parallel_range (n, NS_CHUNK, 1, step_range, &v);
}

static void
axpy_range (gsize from, gsize to, gpointer data)
{
  const Vec *v = data;

  for (gsize i = from; i < to; i++)
    v->y[i] = (float) (v->y[i] + v->t * v->a[i]);
}

/* y += a·x, rounded once per entry. */
static void
vec_axpy (float *y, double a, const float *x, gsize n)
{
  Vec v = { y, x, NULL, a };

  ns_parallel_range (n, NS_CHUNK, 1, axpy_range, &v);
}

/* ---- cubic interpolation ---------------------------------------------------------------- */

/* Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to [lo, hi] (the
 * two points when bounds is NULL).  When the cubic has no minimum, or a value is not
 * finite, the middle of the interval: a bisection. */
static double
cubic_interpolate (double x1, double f1, double g1, double x2, double f2, double g2,
                   const double *bounds)
{
  double lo = bounds ? bounds[0] : MIN (x1, x2);
  double hi = bounds ? bounds[1] : MAX (x1, x2);
  double d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
  double d2_square = d1 * d1 - g1 * g2;
  double d2, min_pos;

  /* Written so that NaN also takes the bisection branch. */
  if (!(d2_square >= 0.0))
    return (lo + hi) / 2.0;

  d2 = sqrt (d2_square);
  if (x1 <= x2)
    min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2));
  else
    min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2));
  if (isnan (min_pos))
    return (lo + hi) / 2.0;
  return MIN (MAX (min_pos, lo), hi);
}

/* ---- the line search ----------------------------------------------------------------------- */

typedef struct
{
  gsize            n;
  NsObjectiveFunc  func;
  gpointer         user_data;
  const float     *x;          /* the point the search starts from */
  const float     *d;          /* the search direction */
  float           *xt;         /* scratch: the trial point */
  float           *pool[3];    /* gradient buffers for the trial points */
  int              n_evals;
  int              n_failed;   /* trial points with a non-finite value */
} LineSearch;

/* A pool buffer that neither a nor b refers to. */
static float *
free_buffer (LineSearch *ls, const float *a, const float *b)
{
  for (int i = 0; i < 3; i++)
    if (ls->pool[i] != a && ls->pool[i] != b)
      return ls->pool[i];
  g_assert_not_reached ();
  return NULL;
}

/* Objective and directional derivative at x + t·d.  A non-finite value comes back as
 * f = +Inf with a NaN derivative, which every test below reads as "too far". */
static double
evaluate (LineSearch *ls, double t, float *g, double *gtd)
{
  double f;

  vec_step (ls->xt, ls->x, t, ls->d, ls->n);
  f = ls->func (ls->xt, g, ls->user_data);
  ls->n_evals++;
  *gtd = vec_dot (g, ls->d, ls->n);
  if (!isfinite (f) || !isfinite (*gtd))
    {
      ls->n_failed++;
      *gtd = NAN;
      return INFINITY;
    }
  return f;
}

/* torch's _strong_wolfe.  f, g, gtd describe the start point (g is not modified); t is the
 * first trial step.  Returns the accepted step; *f_out and *g_out (a pool buffer or g)
 * describe the accepted point. */
static double
strong_wolfe (LineSearch *ls, double t, double f, const float *g, double gtd,
              double *f_out, const float **g_out)
{
  double d_norm = vec_max_abs (ls->d, ls->n);
  double t_prev = 0.0, f_prev = f, gtd_prev = gtd;
  const float *g_prev = g;
  float *g_new = ls->pool[0];
  double f_new, gtd_new;
  double bracket[2], bracket_f[2], bracket_gtd[2];
  const float *bracket_g[2];
  int n_bracket = 0;
  gboolean done = FALSE, insuf_progress = FALSE;
  int ls_iter = 0, low, high;

  f_new = evaluate (ls, t, g_new, &gtd_new);

  /* Bracketing phase: step forward until an interval holds a Wolfe point. */
  while (ls_iter < LS_MAX_ITER)
    {
      /* Armijo's sufficient decrease fails, or (after two steps) f rose. */
      gboolean too_far = f_new > f + LS_C1 * t * gtd || (ls_iter > 1 && f_new >= f_prev);
      double bounds[2], t_old;

      if (!too_far && fabs (gtd_new) <= -LS_C2 * gtd)
        {
          bracket[0] = t;
          bracket_f[0] = f_new;
          bracket_g[0] = g_new;
          bracket_gtd[0] = gtd_new;
          n_bracket = 1;
          done = TRUE;
          break;
        }
      if (too_far || gtd_new >= 0.0)
        {
          /* A minimum lies between t_prev and t. */
          bracket[0] = t_prev;       bracket[1] = t;
          bracket_f[0] = f_prev;     bracket_f[1] = f_new;
          bracket_g[0] = g_prev;     bracket_g[1] = g_new;
          bracket_gtd[0] = gtd_prev; bracket_gtd[1] = gtd_new;
          n_bracket = 2;
          break;
        }

      /* Extrapolate, at least 1 % beyond t and at most ten times t. */
      bounds[0] = t + 0.01 * (t - t_prev);
      bounds[1] = t * 10.0;
      t_old = t;
      t = cubic_interpolate (t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds);

      t_prev = t_old;
      f_prev = f_new;
      g_prev = g_new;
      gtd_prev = gtd_new;
      g_new = free_buffer (ls, g_prev, NULL);
      f_new = evaluate (ls, t, g_new, &gtd_new);
      ls_iter++;
    }

  if (ls_iter == LS_MAX_ITER)
    {
      /* The last point was never tested; torch brackets it with the start point. */
      bracket[0] = 0.0;      bracket[1] = t;
      bracket_f[0] = f;      bracket_f[1] = f_new;
      bracket_g[0] = g;      bracket_g[1] = g_new;
      bracket_gtd[0] = gtd;  bracket_gtd[1] = gtd_new;
      n_bracket = 2;
    }

  /* Zoom phase: shrink the bracket around a point satisfying the strong Wolfe conditions.
   * A one-point bracket compares with itself, so low is 0. */
  low = bracket_f[0] <= bracket_f[n_bracket - 1] ? 0 : 1;
  high = 1 - low;
  while (!done && ls_iter < LS_MAX_ITER)
    {
      double b_min, b_max, eps;
      float *g_trial;

      if (fabs (bracket[1] - bracket[0]) * d_norm < LS_TOLERANCE_CHANGE)
        break;

      t = cubic_interpolate (bracket[0], bracket_f[0], bracket_gtd[0],
                             bracket[1], bracket_f[1], bracket_gtd[1], NULL);

      /* Keep away from the ends of the bracket so that it really shrinks. */
      b_min = MIN (bracket[0], bracket[1]);
      b_max = MAX (bracket[0], bracket[1]);
      eps = 0.1 * (b_max - b_min);
      if (MIN (b_max - t, t - b_min) < eps)
        {
          if (insuf_progress || t >= b_max || t <= b_min)
            {
              t = fabs (t - b_max) < fabs (t - b_min) ? b_max - eps : b_min + eps;
              insuf_progress = FALSE;
            }
          else
            insuf_progress = TRUE;
        }
      else
        insuf_progress = FALSE;

      g_trial = free_buffer (ls, bracket_g[0], bracket_g[1]);
      f_new = evaluate (ls, t, g_trial, &gtd_new);
      ls_iter++;

      if (f_new > f + LS_C1 * t * gtd || f_new >= bracket_f[low])
        {
          /* Not sufficiently lower (or not finite): the new upper end. */
          bracket[high] = t;
          bracket_f[high] = f_new;
          bracket_g[high] = g_trial;
          bracket_gtd[high] = gtd_new;
          low = bracket_f[0] <= bracket_f[1] ? 0 : 1;
          high = 1 - low;
        }
      else
        {
          if (fabs (gtd_new) <= -LS_C2 * gtd)
            done = TRUE;
          else if (gtd_new * (bracket[high] - bracket[low]) >= 0.0)
            {
              /* The minimum lies beyond the low end: the old low becomes the high end. */
              bracket[high] = bracket[low];
              bracket_f[high] = bracket_f[low];
              bracket_g[high] = bracket_g[low];
              bracket_gtd[high] = bracket_gtd[low];
            }
          bracket[low] = t;
          bracket_f[low] = f_new;
          bracket_g[low] = g_trial;
          bracket_gtd[low] = gtd_new;
        }
    }

  *f_out = bracket_f[low];
  *g_out = bracket_g[low];
  return bracket[low];
}

/* ---- curvature history ------------------------------------------------------------------- */

typedef struct
{
  float  *s;          /* step x_{k+1} − x_k */
  float  *y;          /* gradient change g_{k+1} − g_k */
  double  rho;        /* 1 / (y·s) */
} Pair;

typedef struct
{
  gsize   n;
  int     size;       /* capacity: the history length */
  int     count;      /* pairs in use, oldest first; slot[count] is the spare */
  Pair   *slot;       /* size + 1 entries, vectors allocated when first needed */
  double *alpha;      /* two-loop scratch, size entries */
} History;

static void
history_init (History *h, gsize n, int size)
{
  h->n = n;
  h->size = size;
  h->count = 0;
  h->slot = g_new0 (Pair, size + 1);
  h->alpha = g_new0 (double, size);
}

static void
history_clear (History *h)
{
  for (int i = 0; i <= h->size; i++)
    {
      ns_floats_free (h->slot[i].s);
      ns_floats_free (h->slot[i].y);
    }
  g_free (h->slot);
  g_free (h->alpha);
}

/* The slot the next pair is built in; allocated lazily so that short runs with a long
 * history do not pay for vectors they never use. */
static Pair *
history_spare (History *h)
{
  Pair *p = &h->slot[h->count];

  if (p->s == NULL)
    {
      p->s = ns_floats_new (h->n);
      p->y = ns_floats_new (h->n);
    }
  return p;
}

/* Makes the spare pair the newest one, dropping the oldest when full. */
static void
history_commit (History *h, double rho)
{
  h->slot[h->count].rho = rho;
  if (h->count < h->size)
    h->count++;
  else
    {
      Pair oldest = h->slot[0];

      memmove (h->slot, h->slot + 1, (gsize) h->size * sizeof (Pair));
      h->slot[h->size] = oldest;
    }
}

/* d = −H·g by the two-loop recursion, H being the L-BFGS inverse Hessian with initial
 * scaling h_diag. */
static void
history_direction (History *h, const float *g, double h_diag, float *d)
{
  gsize n = h->n;

  for (gsize i = 0; i < n; i++)
    d[i] = -g[i];
  for (int i = h->count - 1; i >= 0; i--)
    {
      h->alpha[i] = vec_dot (h->slot[i].s, d, n) * h->slot[i].rho;
      vec_axpy (d, -h->alpha[i], h->slot[i].y, n);
    }
  for (gsize i = 0; i < n; i++)
    d[i] = (float) (d[i] * h_diag);
  for (int i = 0; i < h->count; i++)
    {
      double beta = vec_dot (h->slot[i].y, d, n) * h->slot[i].rho;
      vec_axpy (d, h->alpha[i] - beta, h->slot[i].s, n);
    }
}

/* ---- the optimiser ------------------------------------------------------------------------- */

gsize
ns_lbfgs_workspace_floats (gsize n, int history)
{
  /* d, trial point, gradient, three line-search gradients, plus history + 1 pairs. */
  return n * (6 + 2 * (gsize) (MAX (history, 1) + 1));
}

NsOptimStatus
ns_lbfgs_minimize (float *x, gsize n, const NsLbfgsParams *params,
                   NsObjectiveFunc func, NsIterationFunc iter, gpointer user_data,
                   double *f_out)
{
  static const NsLbfgsParams defaults = { 20, 100, 1e-7, 1e-9 };
  NsOptimStatus status = NS_OPTIM_MAX_ITERATIONS;
  LineSearch ls = { 0 };
  History hist;
  float *g, *d;
  double f, prev_f, t = 0.0, h_diag = 1.0;
  gint64 max_evals, n_evals;
  int n_iter = 0;

  g_return_val_if_fail (x != NULL && func != NULL, NS_OPTIM_NUMERIC);

  if (params == NULL)
    params = &defaults;
  max_evals = params->max_evaluations > 0 ? params->max_evaluations
                                          : (gint64) params->max_iterations * 5 / 4;

  g = ns_floats_new (n);
  f = func (x, g, user_data);
  n_evals = 1;
  if (!isfinite (f) || isnan (vec_max_abs (g, n)))
    {
      ns_floats_free (g);
      if (f_out)
        *f_out = f;
      return NS_OPTIM_NUMERIC;
    }
  if (vec_max_abs (g, n) <= params->tolerance_grad)
    {
      ns_floats_free (g);
      if (f_out)
        *f_out = f;
      return NS_OPTIM_CONVERGED;
    }

  d = ns_floats_new (n);
  /* Pairs beyond the iteration count would never be used. */
  history_init (&hist, n, CLAMP (params->history, 1, MAX (params->max_iterations, 1)));
  ls.n = n;
  ls.func = func;
  ls.user_data = user_data;
  ls.x = x;
  ls.d = d;
  ls.xt = ns_floats_new (n);
  for (int i = 0; i < 3; i++)
    ls.pool[i] = ns_floats_new (n);

  while (n_iter < params->max_iterations)
    {
      Pair *spare;
      const float *g_new;
      double gtd;

      n_iter++;

      if (n_iter == 1)
        {
          for (gsize i = 0; i < n; i++)
            d[i] = -g[i];
          h_diag = 1.0;
        }
      else
        {
          /* The spare pair's y holds the previous gradient; d and t are last step's. */
          double ys, yy;

          spare = history_spare (&hist);
          for (gsize i = 0; i < n; i++)
            {
              spare->y[i] = g[i] - spare->y[i];
              spare->s[i] = d[i] * (float) t;
            }
          ys = vec_dot (spare->y, spare->s, n);
          if (ys > MIN_CURVATURE)
            {
              yy = vec_dot (spare->y, spare->y, n);
              history_commit (&hist, 1.0 / ys);
              h_diag = ys / yy;
            }
          history_direction (&hist, g, h_diag, d);
        }

      spare = history_spare (&hist);
      memcpy (spare->y, g, n * sizeof (float));
      prev_f = f;

      /* torch scales only the very first step, to a unit ℓ1 move. */
      if (n_iter > 1)
        t = 1.0;
      else if (params->first_step > 0.0)
        t = params->first_step / MAX (vec_max_abs (d, n), 1e-30);
      else
        t = MIN (1.0, 1.0 / vec_sum_abs (g, n));

      gtd = vec_dot (g, d, n);
      if (gtd > -params->tolerance_change)
        {
          /* Not a descent direction any more: nothing left to gain. */
          status = NS_OPTIM_CONVERGED;
          break;
        }

      ls.n_failed = 0;
      ls.n_evals = 0;
      t = strong_wolfe (&ls, t, f, g, gtd, &f, &g_new);
      n_evals += ls.n_evals;
      if (g_new != g)
        memcpy (g, g_new, n * sizeof (float));
      vec_step (x, x, t, d, n);

      if (iter && !iter (n_iter, x, f, user_data))
        {
          status = NS_OPTIM_STOPPED;
          break;
        }
      if (t == 0.0 && ls.n_failed > 0)
        {
          /* Every step along d met NaN/Inf: x is the last good point. */
          status = NS_OPTIM_NUMERIC;
          break;
        }

      if (n_iter == params->max_iterations || n_evals >= max_evals)
        {
          status = NS_OPTIM_MAX_ITERATIONS;
          break;
        }
      if (vec_max_abs (g, n) <= params->tolerance_grad
          || fabs (t) * vec_max_abs (d, n) <= params->tolerance_change
          || fabs (f - prev_f) < params->tolerance_change)
        {
          status = NS_OPTIM_CONVERGED;
          break;
        }
    }

  if (f_out)
    *f_out = f;

  for (int i = 0; i < 3; i++)
    ns_floats_free (ls.pool[i]);
  ns_floats_free (ls.xt);
  history_clear (&hist);
  ns_floats_free (d);
  ns_floats_free (g);
  return status;
}
