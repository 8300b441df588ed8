/* plan-info.c — a run's plan as data (NsPlan), for callers that say it in their own words.
 *
 * ns_run_plan_describe (memory.c) writes the plan as one English line for the command line;
 * a dialog in another language needs the numbers behind that line.  NsPlan copies the parts
 * of the internal NsRunPlan a user is told about, so that the planner's internals (its work
 * counts, its tile bookkeeping) can change without the public header following. */

#include "ns-internal.h"

struct _NsPlan
{
  int         n_sizes;          /* the optimisation's */
  NsPlanSize *sizes;            /* n_sizes, then the refinement if `refined` */
  gboolean    refined;
  int         width, height;    /* the result's */
  gboolean    enlarged;
  NsUpscale   upscale;
  guint64     peak_bytes;
  guint64     budget;
  gboolean    automatic;
  double      seconds;
  NsRunPlan   run;              /* the planner's, its scales copied: for later frames */
};

static void
size_from_scale (NsPlanSize *size, const NsScalePlan *p, const NsRunPlan *plan)
{
  size->width = p->width;
  size->height = p->height;
  size->iterations = p->iterations;
  size->tile = p->tile;
  size->recompute_content = p->tile > 0 && ! p->cache_content;
  size->streaming = p->streaming;
  size->optimizer = p->optimizer;
  size->lbfgs_history = p->lbfgs_history;
  /* What ns_run_plan_describe leaves unsaid for all but the last size. */
  size->as_asked = p->tile == 0 && ! p->streaming && p->optimizer == plan->optimizer
                   && (p->optimizer != NS_OPTIMIZER_LBFGS
                       || p->lbfgs_history == plan->lbfgs_history);
  size->peak_bytes = p->peak_bytes;
  size->reuse_bytes = p->buffer_slack;
}

static NsPlan *
plan_from_run_plan (const NsRunPlan *plan)
{
  NsPlan *info = g_new0 (NsPlan, 1);
  const NsScalePlan *top = &plan->scales[plan->n_optimized - 1];

  info->n_sizes = plan->n_optimized;
  /* The refinement is one size at full size (ns_refine_options); a later one would be
   * another refinement of the same image, so the last stands for them. */
  info->refined = plan->n_scales > plan->n_optimized;
  info->sizes = g_new0 (NsPlanSize, info->n_sizes + 1);
  for (int k = 0; k < info->n_sizes; k++)
    size_from_scale (&info->sizes[k], &plan->scales[k], plan);
  if (info->refined)
    size_from_scale (&info->sizes[info->n_sizes], &plan->scales[plan->n_scales - 1], plan);
  info->width = plan->width;
  info->height = plan->height;
  info->enlarged = info->refined || top->width != plan->width || top->height != plan->height;
  info->upscale = plan->upscale;
  info->peak_bytes = plan->peak_bytes;
  info->budget = plan->budget;
  info->automatic = plan->automatic;
  info->seconds = plan->seconds;
  info->run = *plan;
  info->run.scales = g_memdup2 (plan->scales, plan->n_scales * sizeof (NsScalePlan));
  return info;
}

NsPlan *
ns_stylizer_plan (NsStylizer            *stylizer,
                  const NsImage         *content,
                  const NsImage * const *styles,
                  int                    n_styles,
                  gboolean               timed,
                  GError               **error)
{
  g_autoptr (NsRunPlan) plan = ns_stylizer_estimate_plan (stylizer, content, styles, n_styles,
                                                          timed, error);

  return plan ? plan_from_run_plan (plan) : NULL;
}

void
ns_plan_free (NsPlan *plan)
{
  if (plan == NULL)
    return;
  g_free (plan->sizes);
  g_free (plan->run.scales);
  g_free (plan);
}

int
ns_plan_get_n_sizes (const NsPlan *plan)
{
  return plan->n_sizes;
}

const NsPlanSize *
ns_plan_get_size (const NsPlan *plan, int index)
{
  g_return_val_if_fail (index >= 0 && index < plan->n_sizes, NULL);
  return &plan->sizes[index];
}

int
ns_plan_get_iterations (const NsPlan *plan)
{
  int iterations = 0;

  for (int k = 0; k < plan->n_sizes; k++)
    iterations += plan->sizes[k].iterations;
  return iterations;
}

void
ns_plan_get_result_size (const NsPlan *plan, int *width, int *height)
{
  *width = plan->width;
  *height = plan->height;
}

gboolean
ns_plan_get_enlarged (const NsPlan *plan, NsUpscale *upscale)
{
  if (upscale)
    *upscale = plan->upscale;
  return plan->enlarged;
}

const NsPlanSize *
ns_plan_get_refinement (const NsPlan *plan)
{
  return plan->refined ? &plan->sizes[plan->n_sizes] : NULL;
}

guint64
ns_plan_get_peak_bytes (const NsPlan *plan)
{
  return plan->peak_bytes;
}

guint64
ns_plan_get_budget (const NsPlan *plan, gboolean *automatic)
{
  if (automatic)
    *automatic = plan->automatic;
  return plan->budget;
}

double
ns_plan_get_seconds (const NsPlan *plan)
{
  return plan->seconds;
}

double
ns_plan_get_later_seconds (const NsPlan *plan, double share, gboolean coarse_sizes)
{
  NsLaterFrames later = { share, coarse_sizes };

  g_return_val_if_fail (share > 0.0 && share <= 1.0, -1.0);
  if (plan->seconds < 0.0)
    return -1.0;
  return plan->seconds * ns_run_plan_later_share (&plan->run, &later);
}

double
ns_plan_get_sequence_seconds (const NsPlan *plan, int n_frames, double share,
                              gboolean coarse_sizes)
{
  double later = ns_plan_get_later_seconds (plan, share, coarse_sizes);

  if (plan->seconds < 0.0 || later < 0.0 || n_frames < 1)
    return -1.0;
  return plan->seconds + (n_frames - 1) * later;
}
