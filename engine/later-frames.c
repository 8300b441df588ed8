/* later-frames.c — what a sequence's later frames run.  A frame held to an earlier result
 * starts from that result warped onto it (sequence.c), which has the style already, so it
 * needs fewer iterations than the first frame, which starts from the photo (Ruder et al.
 * 2016 run fewer too): a share of each size's iterations, and optionally the last size
 * only.  Measured in docs/animation.md. */
#include <math.h>

#include "ns-internal.h"

int
ns_later_iterations (int iterations, double share)
{
  if (iterations <= 0)
    return 0;
  return CLAMP ((int) lround (iterations * share), 1, iterations);
}

int
ns_run_plan_make_later (NsRunPlan *plan, const NsLaterFrames *later)
{
  int first = later->coarse_sizes ? 0 : plan->n_optimized - 1;
  double work = plan->work;

  plan->work = 0.0;
  for (int k = 0; k < plan->n_scales; k++)
    {
      NsScalePlan *p = &plan->scales[k];

      if (k < first)
        {
          p->iterations = 0;
          continue;
        }
      /* The refinement's few iterations draw the texture at full size: as planned. */
      if (k < plan->n_optimized)
        p->iterations = ns_later_iterations (p->iterations, later->share);
      plan->work += ns_scale_plan_work (p);
    }
  if (plan->seconds >= 0.0 && work > 0.0)
    plan->seconds *= plan->work / work;
  return first;
}

double
ns_run_plan_later_share (const NsRunPlan *plan, const NsLaterFrames *later)
{
  g_autofree NsScalePlan *scales = g_memdup2 (plan->scales,
                                              plan->n_scales * sizeof (NsScalePlan));
  NsRunPlan copy = *plan;

  if (plan->work <= 0.0)
    return 0.0;
  copy.scales = scales;
  ns_run_plan_make_later (&copy, later);
  return copy.work / plan->work;
}
