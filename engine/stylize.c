/* stylize.c — a run: options and network in, stylized image out, with progress, preview,
 * cancellation and a guard against NaN/Inf.
 *
 * A run goes coarse to fine (multires.c): at each size it builds the objective the memory
 * plan chose (memory.c: whole or tiled, which optimiser), starts from the previous size's
 * result enlarged, and optimises.  Iterations are numbered over the whole run. */
#include <math.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "ns-internal.h"

/* Peak memory is what the budget is about, and glibc's default lets freed blocks of up to
 * 32 MiB stay in the heap (its threshold for separate mappings rises as they are freed),
 * where they count as resident long after a size or a tile no longer needs them: hundreds
 * of megabytes beside an 8192×8192 run.  A fixed threshold returns every large block at
 * once.  Process-wide, like OpenBLAS's thread count. */
static void
return_freed_memory (gboolean setup)
{
#ifdef __GLIBC__
  if (setup)
    {
      mallopt (M_MMAP_THRESHOLD, 1 << 20);
      mallopt (M_TRIM_THRESHOLD, 4 << 20);
    }
  malloc_trim (0);
#endif
}

struct _NsStylizer
{
  NsNetwork      *net;
  NsOptions      *opt;
  gint            cancelled;        /* atomic */
  NsProgressFunc  progress;
  gpointer        progress_data;
  NsStopReason    stop_reason;
  double          seconds_per_unit; /* measured when first asked for (cost.c) */
  NsRegions      *regions;          /* ns_stylizer_set_regions, or NULL */
};

/* State of one run, seen by the optimiser callbacks. */
typedef struct
{
  NsStylizer  *st;
  NsObjective *obj;
  gint64       start_us;
  double       first_loss;
  double       last_parts[3];
  int          iterations;       /* over all sizes */
  int          offset;           /* iterations done at the previous sizes */
  int          scale, n_scales;  /* 1-based */
  int          width, height;
  guint64      memory_estimate;
  /* For the ETA, in pixel evaluations (cost.c): the plan, the work done at the sizes
   * before this one, this size's evaluations so far, and evaluations per iteration so far. */
  const NsRunPlan *plan;
  double       work_before;
  int          evals;
  int          evals_total, iterations_total;
  double       seconds_per_unit;                /* measured beforehand, or 0 */
  NsStage      stage;
  const NsFrameTerms *terms;                    /* a sequence's frame, or NULL */
  int          first;            /* the first size optimised (a later frame's may skip) */
} Run;

NsStylizer *
ns_stylizer_new (NsNetwork *net, const NsOptions *options)
{
  NsStylizer *st = g_new0 (NsStylizer, 1);

  st->net = ns_network_ref (net);
  st->opt = options ? ns_options_copy (options) : ns_options_new ();
  return st;
}

void
ns_stylizer_free (NsStylizer *st)
{
  if (st == NULL)
    return;
  ns_network_unref (st->net);
  ns_options_free (st->opt);
  ns_regions_free (st->regions);
  g_free (st);
}

gboolean
ns_stylizer_set_regions (NsStylizer             *st,
                         const NsImage * const  *content_masks,
                         const NsImage * const  *style_masks,
                         int                     n_styles,
                         NsRegionRest            rest,
                         GError                **error)
{
  GError *local = NULL;
  NsRegions *regions = ns_regions_new (content_masks, style_masks, n_styles, rest, &local);

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  ns_regions_free (st->regions);
  st->regions = regions;
  return TRUE;
}

gboolean
ns_stylizer_set_region_carry (NsStylizer    *st,
                              int            style,
                              NsRegionCarry  carry,
                              GError       **error)
{
  if (st->regions == NULL)
    {
      g_set_error_literal (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                           "The stylizer has no regions; set them (ns_stylizer_set_regions) "
                           "before their carry");
      return FALSE;
    }
  if (style != NS_REGION_THE_REST && (style < 0 || style >= st->regions->n_styles))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "There is no style %d among the regions' %d styles; give 0 to %d, or "
                   "NS_REGION_THE_REST", style, st->regions->n_styles,
                   st->regions->n_styles - 1);
      return FALSE;
    }
  if ((int) carry < NS_REGION_CARRY_FEATHERED || (int) carry > NS_REGION_CARRY_ALL)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "Unknown region carry %d; give one of NsRegionCarry", (int) carry);
      return FALSE;
    }
  st->regions->carries[style == NS_REGION_THE_REST ? st->regions->n_styles : style] = carry;
  return TRUE;
}

void
ns_stylizer_clear_regions (NsStylizer *st)
{
  g_clear_pointer (&st->regions, ns_regions_free);
}

void
ns_stylizer_cancel (NsStylizer *st)
{
  g_atomic_int_set (&st->cancelled, 1);
}

void
ns_stylizer_set_progress (NsStylizer *st, NsProgressFunc func, gpointer user_data)
{
  st->progress = func;
  st->progress_data = user_data;
}

NsStopReason
ns_stylizer_get_stop_reason (const NsStylizer *st)
{
  return st->stop_reason;
}

static double
objective (const float *x, float *grad, gpointer data)
{
  Run *run = data;
  double parts[3];
  double f = ns_objective_eval (run->obj, x, grad, parts);

  run->evals++;
  if (isnan (run->first_loss))
    run->first_loss = f;
  memcpy (run->last_parts, parts, sizeof parts);
  return f;
}

/* Seconds left: the work left (cost.c's units) at the rate the run has had so far. */
static double
eta (const Run *run, int iter, double elapsed)
{
  const NsScalePlan *p = &run->plan->scales[run->scale - 1];
  int evals = run->evals > 0 ? run->evals : iter;     /* the streamed optimiser counts none */
  double per_iter = run->iterations_total > 0
                    ? (double) run->evals_total / run->iterations_total
                    : ns_scale_plan_evals_per_iteration (p);
  double done = run->work_before + p->work_setup + evals * p->work_eval;
  double left = MAX (0, p->iterations - iter) * per_iter * p->work_eval;
  double rate = done > 0 && elapsed > 0 ? elapsed / done : run->seconds_per_unit;

  for (int k = run->scale; k < run->plan->n_scales; k++)
    left += ns_scale_plan_work (&run->plan->scales[k]);
  if (rate <= 0)
    return -1.0;
  return rate * left;
}

static gboolean
iteration (int iter, const float *x, double f, gpointer data)
{
  Run *run = data;
  NsStylizer *st = run->st;
  g_autoptr (NsImage) preview = NULL;
  NsProgress p = { 0 };

  if (g_atomic_int_get (&st->cancelled))
    return FALSE;
  /* The streamed optimiser reports the loss at the point it stepped from. */
  if (isnan (run->first_loss))
    run->first_loss = f;
  if (st->progress == NULL)
    return TRUE;

  p.iteration = run->offset + iter;
  p.iterations = run->iterations;
  p.loss = f;
  p.content_loss = run->last_parts[0];
  p.style_loss = run->last_parts[1];
  p.tv_loss = run->last_parts[2];
  p.relative_loss = run->first_loss > 0 ? f / run->first_loss : 1.0;
  p.elapsed = (g_get_monotonic_time () - run->start_us) / 1e6;
  p.eta = eta (run, iter, p.elapsed);
  p.scale = run->scale;
  p.n_scales = run->n_scales;
  p.width = run->width;
  p.height = run->height;
  p.memory_estimate = run->memory_estimate;
  p.stage = run->stage;
  p.scale_iteration = iter;
  p.scale_iterations = run->plan->scales[run->scale - 1].iterations;
  if (st->opt->preview_every > 0
      && (p.iteration % st->opt->preview_every == 0 || p.iteration == run->iterations))
    p.preview = preview = ns_objective_image (run->obj, x);
  st->progress (&p, st->progress_data);
  return ! g_atomic_int_get (&st->cancelled);
}

static gboolean
check_inputs (const NsImage *content, const NsImage * const *styles, const double *blend,
              int n_styles, GError **error)
{
  if (content == NULL || content->width < 1 || content->height < 1 ||
      (content->channels != 1 && content->channels != 3))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The content image is empty or not grey/RGB");
      return FALSE;
    }
  if (n_styles < 1 || styles == NULL)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT, "No style image was given");
      return FALSE;
    }
  for (int i = 0; i < n_styles; i++)
    {
      if (styles[i] == NULL || styles[i]->width < 1 || styles[i]->height < 1 ||
          (styles[i]->channels != 1 && styles[i]->channels != 3))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "Style image %d is empty or not grey/RGB", i + 1);
          return FALSE;
        }
      if (blend && (! (blend[i] >= 0.0) || ! isfinite (blend[i])))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "The blend weight of style %d is %g; use a number ≥ 0", i + 1, blend[i]);
          return FALSE;
        }
    }
  if (blend)
    {
      double sum = 0.0;

      for (int i = 0; i < n_styles; i++)
        sum += blend[i];
      if (sum <= 0.0)
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "The style blend weights add up to 0; give at least one a positive weight");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_options (const NsOptions *o, GError **error)
{
  const char *bad = NULL;

  if (! (o->content_weight >= 0.0) || ! isfinite (o->content_weight))
    bad = "content weight";
  else if (! (o->style_weight >= 0.0) || ! isfinite (o->style_weight))
    bad = "style weight";
  else if (! (o->tv_weight >= 0.0) || ! isfinite (o->tv_weight))
    bad = "total-variation weight";
  else if (! (o->style_scale > 0.0) || ! isfinite (o->style_scale))
    bad = "style scale";
  else if (o->iterations < 0)
    bad = "number of iterations";
  else if (! (o->learning_rate > 0.0))
    bad = "learning rate";
  else if (o->lbfgs_history < 1)
    bad = "L-BFGS history size";
  else if (o->scales < 0 || o->scales > 16)
    bad = "number of sizes (0 to 16)";
  for (int k = 0; bad == NULL && k < o->n_scale_iterations; k++)
    if (o->scale_iterations[k] < 0)
      bad = "number of iterations at one of the sizes";
  if (bad)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The %s is out of range; weights must be ≥ 0 and finite, scales and "
                   "rates > 0", bad);
      return FALSE;
    }
  return TRUE;
}

static NsImage *
to_grey (const NsImage *rgb)
{
  NsImage *g = ns_image_new (rgb->width, rgb->height, 1);
  gsize n = (gsize) rgb->width * rgb->height;

  for (gsize i = 0; i < n; i++)
    g->data[i] = 0.299f * rgb->data[3 * i] + 0.587f * rgb->data[3 * i + 1] +
                 0.114f * rgb->data[3 * i + 2];
  return g;
}

/* Runs the optimiser the plan chose for one size; x is updated in place. */
static NsOptimStatus
optimise (Run *run, const NsOptions *opt, const NsScalePlan *p, float *x, double *f)
{
  gsize n = ns_objective_len (run->obj);

  if (p->iterations == 0)
    return NS_OPTIM_MAX_ITERATIONS;
  if (p->streaming)
    {
      NsStreamParams sp = { p->iterations, opt->learning_rate, 0.999, 1e-8 };
      return ns_stream_minimize (run->obj, x, &sp, iteration, run, f, run->last_parts);
    }
  if (p->optimizer == NS_OPTIMIZER_ADAM)
    {
      NsAdamParams ap = { p->iterations, opt->learning_rate, 0.9, 0.999, 1e-8 };

      return ns_adam_minimize (x, n, &ap, objective, iteration, run, f);
    }
  else
    {
      /* Tolerances off, as neural-style does: the loss keeps falling slowly long after
       * L-BFGS' default tests would stop, and the look keeps improving.  The evaluation
       * budget is generous so that "iterations" means iterations, not torch's 5/4 cap. */
      NsLbfgsParams lp = { p->iterations, p->lbfgs_history, -1.0, -1.0,
                           (gint64) p->iterations * 25,
                           p->refine ? NS_REFINE_FIRST_STEP : 0.0 };

      return ns_lbfgs_minimize (x, n, &lp, objective, iteration, run, f);
    }
}

/* The machine's speed on this network, measured once per stylizer (at its thread count). */
static double
seconds_per_unit (NsStylizer *st)
{
  if (st->seconds_per_unit <= 0.0)
    {
      int previous = ns_parallel_set_threads (st->opt->threads);

      /* Its buffers go back to the system as soon as it ends. */
      return_freed_memory (TRUE);
      st->seconds_per_unit = ns_network_seconds_per_unit (st->net);
      return_freed_memory (FALSE);
      ns_parallel_set_threads (previous);
    }
  return st->seconds_per_unit;
}

static gboolean
check_all (NsStylizer *st, const NsOptions *opt, const NsImage *content,
           const NsImage * const *styles, const double *blend, int n_styles, GError **error)
{
  return check_inputs (content, styles, blend, n_styles, error) && check_options (opt, error)
         && ns_regions_check (st->regions, content, styles, n_styles, error);
}

/* The plan of a run on these images (their sizes only: the data may be NULL), with its
 * expected time when `timed` or a description is asked for. */
static NsRunPlan *
estimate (NsStylizer *st, const NsImage *content, const NsImage * const *styles, int n_styles,
          gboolean timed, char **description, GError **error)
{
  NsRunPlan *plan;

  if (! check_all (st, st->opt, content, styles, NULL, n_styles, error))
    return NULL;
  plan = ns_run_plan_new (st->net, st->opt, content, styles, n_styles, st->regions, error);
  if (plan == NULL)
    return NULL;
  if (timed || description)
    plan->seconds = plan->work * seconds_per_unit (st);
  if (description)
    *description = ns_run_plan_describe (plan);
  return plan;
}

guint64
ns_stylizer_estimate_memory (NsStylizer            *st,
                             const NsImage         *content,
                             const NsImage * const *styles,
                             int                    n_styles,
                             char                 **description,
                             GError               **error)
{
  g_autoptr (NsRunPlan) plan = estimate (st, content, styles, n_styles, FALSE, description,
                                         error);

  return plan ? plan->peak_bytes : 0;
}

double
ns_stylizer_estimate_seconds (NsStylizer            *st,
                              const NsImage         *content,
                              const NsImage * const *styles,
                              int                    n_styles,
                              char                 **description,
                              GError               **error)
{
  g_autoptr (NsRunPlan) plan = estimate (st, content, styles, n_styles, TRUE, description,
                                         error);

  return plan ? plan->seconds : -1.0;
}

NsRunPlan *
ns_stylizer_estimate_plan (NsStylizer *st, const NsImage *content, const NsImage * const *styles,
                           int n_styles, gboolean timed, GError **error)
{
  return estimate (st, content, styles, n_styles, timed, NULL, error);
}

/* The frame's temporal terms at the objective's size. */
static gboolean
add_terms (const NsFrameTerms *terms, NsObjective *obj, GError **error)
{
  int w, h;

  ns_objective_size (obj, &w, &h);
  for (int k = 0; terms && k < terms->n; k++)
    {
      g_autoptr (NsImage) warped = NULL;
      g_autoptr (NsImage) reliability = NULL;
      gboolean same = terms->warped[k]->width == w && terms->warped[k]->height == h;

      if (! same)
        {
          warped = ns_image_resize (terms->warped[k], w, h);
          reliability = ns_image_resize (terms->reliability[k], w, h);
        }
      if (! ns_objective_add_temporal (obj, same ? terms->warped[k] : warped,
                                       same ? terms->reliability[k] : reliability,
                                       terms->weight, error))
        return FALSE;
    }
  return TRUE;
}

/* Optimises the plan's sizes k0 … k1 − 1 with `opt`, the last of them at content's size,
 * each starting from the previous one's result enlarged (the first from the objective's
 * start); the result at content's size, RGB. */
static NsImage *
run_sizes (Run *run, const NsOptions *opt, const NsImage *content, const NsImage * const *styles,
           const double *blend, int n_styles, int k0, int k1, GError **error)
{
  NsStylizer *st = run->st;
  g_autoptr (NsObjective) obj = NULL;
  g_autoptr (NsImage) content_k = NULL;
  float *x = NULL;
  int x_w = 0, x_h = 0, planes = opt->color_mode == NS_COLOR_LUMINANCE ? 1 : 3;
  NsOptimStatus status = NS_OPTIM_MAX_ITERATIONS;
  double f = NAN;

  for (int k = k0; k < k1; k++)
    {
      const NsScalePlan *p = &run->plan->scales[k];
      gboolean last = k == k1 - 1;
      NsObjectiveConfig config = { p->tile, 0, p->cache_content, TRUE, &st->cancelled, FALSE,
                                   st->regions, ! p->keep_transforms, p->buffer_slack };
      /* After a numeric failure the remaining sizes only enlarge the result. */
      NsScalePlan idle = *p;

      g_clear_pointer (&obj, ns_objective_free);
      g_clear_pointer (&content_k, ns_image_free);
      return_freed_memory (FALSE);
      if (! last)
        content_k = ns_image_resize (content, p->width, p->height);
      obj = ns_objective_new_full (st->net, opt, last ? content : content_k, styles, blend,
                                   n_styles, &config, error);
      if (obj == NULL || ! add_terms (run->terms, obj, error))
        {
          g_free (x);
          return NULL;
        }
      if (x == NULL)
        {
          x = ns_objective_initial (obj);
          /* Only the first size starts from the warped result: later ones (and the
           * refinement) start from the size before, which did. */
          if (k == run->first)
            ns_objective_start_temporal (obj, x);
        }
      else
        {
          float *bigger = ns_planes_resize (x, planes, x_w, x_h, p->width, p->height);

          g_free (x);
          x = bigger;
        }
      x_w = p->width;
      x_h = p->height;

      run->obj = obj;
      run->scale = k + 1;
      run->width = p->width;
      run->height = p->height;
      run->stage = p->refine ? NS_STAGE_REFINE : NS_STAGE_OPTIMIZE;
      if (st->stop_reason == NS_STOP_NUMERIC)
        {
          idle.iterations = 0;
          p = &idle;
        }
      run->evals = 0;
      status = optimise (run, opt, p, x, &f);
      run->offset += p->iterations;
      run->work_before += p->work_setup
                          + (run->evals > 0 ? run->evals : p->iterations) * p->work_eval;
      if (run->evals > 0)
        {
          run->evals_total += run->evals;
          run->iterations_total += p->iterations;
        }

      if (g_atomic_int_get (&st->cancelled) || status == NS_OPTIM_STOPPED)
        {
          g_free (x);
          g_set_error (error, NS_ERROR, NS_ERROR_CANCELLED, "The run was cancelled");
          return NULL;
        }
      if (status == NS_OPTIM_NUMERIC)
        {
          if (! isfinite (run->first_loss))
            {
              g_free (x);
              g_set_error (error, NS_ERROR, NS_ERROR_NUMERIC,
                           "The loss is not a finite number even for the starting image; "
                           "lower the weights (content, style, tv) or check the weights file");
              return NULL;
            }
          st->stop_reason = NS_STOP_NUMERIC;
        }
      else if (status == NS_OPTIM_CONVERGED && k == run->plan->n_scales - 1
               && st->stop_reason != NS_STOP_NUMERIC)
        st->stop_reason = NS_STOP_CONVERGED;
    }
  return ns_objective_take_image (obj, x);
}

/* The one report of the enlargement between the sizes. */
static void
report_enlarge (Run *run)
{
  NsProgress p = { 0 };

  if (run->st->progress == NULL)
    return;
  p.iteration = run->offset;
  p.iterations = run->iterations;
  p.relative_loss = 1.0;
  p.elapsed = (g_get_monotonic_time () - run->start_us) / 1e6;
  p.eta = -1.0;
  p.scale = MIN (run->scale + 1, run->n_scales);
  p.n_scales = run->n_scales;
  p.width = run->plan->width;
  p.height = run->plan->height;
  p.memory_estimate = run->memory_estimate;
  p.stage = NS_STAGE_ENLARGE;
  run->st->progress (&p, run->st->progress_data);
}

/* The optimised result made full size: enlarged, then refined at full size if the plan says
 * so.  Consumes `result` and `small`. */
static NsImage *
enlarge_and_refine (Run *run, const NsOptions *opt, NsImage *result, NsImage *small,
                    const NsImage *content, const NsImage * const *styles, const double *blend,
                    int n_styles, GError **error)
{
  NsStylizer *st = run->st;
  g_autoptr (NsOptions) ropt = NULL;
  NsImage *full;

  report_enlarge (run);
  full = ns_enlarge (result, small, content, run->plan->upscale, opt->threads, error);
  ns_image_free (result);
  ns_image_free (small);
  if (full == NULL)
    return NULL;
  if (g_atomic_int_get (&st->cancelled))
    {
      ns_image_free (full);
      g_set_error (error, NS_ERROR, NS_ERROR_CANCELLED, "The run was cancelled");
      return NULL;
    }
  if (run->plan->n_optimized == run->plan->n_scales || st->stop_reason == NS_STOP_NUMERIC)
    return full;

  ropt = ns_refine_options (st->net, opt, error);
  if (ropt == NULL)
    result = NULL;
  else
    result = run_sizes (run, ropt, full, styles, blend, n_styles, run->plan->n_optimized,
                        run->plan->n_scales, error);
  ns_image_free (full);
  return result;
}

/* The budget less what a sequence holds for the frame. */
static gboolean
hold_back (NsOptions *opt, guint64 held, GError **error)
{
  guint64 budget = opt->max_memory > 0 ? opt->max_memory : ns_memory_default_budget ();

  if (held >= budget)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_MEMORY,
                   "The frames this sequence holds need %" G_GUINT64_FORMAT " MiB of the "
                   "%" G_GUINT64_FORMAT " MiB budget; allow more memory or use smaller frames",
                   held >> 20, budget >> 20);
      return FALSE;
    }
  ns_options_set_max_memory (opt, budget - held);
  return TRUE;
}

static NsImage *
stylizer_run (NsStylizer            *st,
              const NsImage         *content,
              const NsImage * const *styles,
              const double          *blend,
              int                    n_styles,
              const NsFrameTerms    *terms,
              GError               **error)
{
  g_autoptr (NsOptions) opt = ns_options_copy (st->opt);
  g_autoptr (NsRunPlan) plan = NULL;
  NsImage *small = NULL, *result;
  Run run = { 0 };
  int w, h;

  st->stop_reason = NS_STOP_DONE;
  if (! check_all (st, opt, content, styles, blend, n_styles, error))
    return NULL;
  if (terms && ! hold_back (opt, terms->held_bytes, error))
    return NULL;
  if (g_atomic_int_get (&st->cancelled))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_CANCELLED, "The run was cancelled");
      return NULL;
    }
  plan = ns_run_plan_new (st->net, opt, content, styles, n_styles, st->regions, error);
  if (plan == NULL)
    return NULL;
  return_freed_memory (TRUE);

  run.st = st;
  run.start_us = g_get_monotonic_time ();
  run.first_loss = NAN;
  run.n_scales = plan->n_scales;
  run.memory_estimate = plan->peak_bytes;
  run.plan = plan;
  run.seconds_per_unit = st->seconds_per_unit;
  run.terms = terms;
  if (terms && terms->later)
    run.first = ns_run_plan_make_later (plan, terms->later);
  for (int k = 0; k < plan->n_scales; k++)
    run.iterations += plan->scales[k].iterations;

  if (ns_run_optimizes_smaller (opt, content->width, content->height, &w, &h))
    small = ns_image_resize (content, w, h);
  result = run_sizes (&run, opt, small ? small : content, styles, blend, n_styles, run.first,
                      plan->n_optimized, error);
  if (result == NULL)
    {
      ns_image_free (small);
      return NULL;
    }
  if (small)
    result = enlarge_and_refine (&run, opt, result, small, content, styles, blend, n_styles,
                                 error);
  if (result != NULL && content->channels == 1 && result->channels == 3)
    {
      NsImage *g = to_grey (result);

      ns_image_free (result);
      result = g;
    }
  return result;
}

NsImage *
ns_stylizer_run (NsStylizer            *st,
                 const NsImage         *content,
                 const NsImage * const *styles,
                 const double          *blend,
                 int                    n_styles,
                 GError               **error)
{
  return ns_stylizer_run_frame (st, content, styles, blend, n_styles, NULL, error);
}

NsImage *
ns_stylizer_run_frame (NsStylizer            *st,
                       const NsImage         *content,
                       const NsImage * const *styles,
                       const double          *blend,
                       int                    n_styles,
                       const NsFrameTerms    *terms,
                       GError               **error)
{
  /* The engine's loops on this thread use the run's thread count, then what they had. */
  int previous = ns_parallel_set_threads (st->opt->threads);
  NsImage *result = stylizer_run (st, content, styles, blend, n_styles, terms, error);

  ns_parallel_set_threads (previous);
  /* A cancel before the run reached it; the stylizer is ready for another run. */
  g_atomic_int_set (&st->cancelled, 0);
  return result;
}
