/* cost.c — how long a run takes.
 *
 * Work is counted in pixel evaluations: one pixel of the network's input through one
 * forward and one backward pass (the backward pass computes only the input's gradient, so it
 * costs about what the forward pass does: FORWARD_SHARE).  A size's work is its set-up (the
 * style's and the content's features: forward passes) and its iterations (L-BFGS's line
 * search takes EVALS_PER_LBFGS_ITERATION evaluations an iteration on average); a tiled
 * evaluation runs over its crops, halos included, once forward for the Gram matrices and
 * once forward and backward, plus the content's features when they are recomputed.
 *
 * Seconds per unit come from timing the network on a small image on this machine, and
 * during a run from the run itself (stylize.c). */

#include <math.h>

#include "ns-internal.h"

#define FORWARD_SHARE 0.5


/* Measured over runs of both networks at 256–1024 px: 1.1–1.4. */
#define EVALS_PER_LBFGS_ITERATION 1.25

/* Refinement's first step is kept small (NS_REFINE_FIRST_STEP), so its line search extends
 * it a few times before the curvature is known: measured 8 evaluations for 5 iterations and
 * 14 for 10 at 1280–2560 px: counted at 1.25 an iteration, 5 iterations were expected a
 * fifth short. */
#define REFINE_FIRST_ITERATION_EVALS 3.0

/* The size the machine's speed is measured at: large enough that every layer takes the
 * kernels it takes at real sizes (Winograd from 24×24 pixels, conv.c) and that fixed costs
 * (weight transforms, thread start-up) no longer dominate.  Per pixel, a pass of VGG-19
 * costs 15.9 µs at 64 px, 10.7 at 128, 5.7 at 256 and 6.5 at 512 (the built-in network 2.8,
 * 2.4, 1.4, 1.3): measured smaller, the estimate came out twice the real time.  The pass
 * needs up to about 110 MiB (ns_network_calibration_bytes), which the run's plan counts. */
#define CALIBRATION_SIZE  256
#define CALIBRATION_PASSES 3

double
ns_scale_plan_evals_per_iteration (const NsScalePlan *p)
{
  return p->optimizer == NS_OPTIMIZER_LBFGS && ! p->streaming ? EVALS_PER_LBFGS_ITERATION : 1.0;
}

/* Pixels of all the crops of a tiled pass (the whole image when untiled). */
static double
crop_pixels (int w, int h, int tile, int halo)
{
  g_autoptr (NsTilePlan) plan = NULL;
  double px = 0.0;

  if (tile <= 0)
    return (double) w * h;
  plan = ns_tile_plan_new (w, h, tile, halo);
  for (int i = 0; i < plan->n; i++)
    px += (double) (plan->tiles[i].crop.x1 - plan->tiles[i].crop.x0)
          * (plan->tiles[i].crop.y1 - plan->tiles[i].crop.y0);
  return px;
}

void
ns_scale_plan_set_work (NsScalePlan *p, int halo, double style_pixels)
{
  double crops = crop_pixels (p->width, p->height, p->tile, halo);

  p->work_setup = FORWARD_SHARE * (style_pixels + crops);
  if (p->tile > 0)
    p->work_eval = crops * (1.0 + NS_TILED_FORWARD_SHARE
                            + (p->cache_content ? 0.0 : NS_TILED_FORWARD_SHARE));
  else
    p->work_eval = crops;
}

double
ns_scale_plan_evals (const NsScalePlan *p)
{
  double per_iteration = ns_scale_plan_evals_per_iteration (p);

  if (p->refine && per_iteration > 1.0 && p->iterations > 0)
    return REFINE_FIRST_ITERATION_EVALS + (p->iterations - 1) * per_iteration;
  return p->iterations * per_iteration;
}

double
ns_scale_plan_work (const NsScalePlan *p)
{
  return p->work_setup + ns_scale_plan_evals (p) * p->work_eval;
}

/* A style layer's Gram matrix and its gradient, per c² products at the layer's resolution,
 * against a convolution's multiply-add.  The Gram runs as one large dsyrk, far more efficient
 * than the small matrix products of a convolution with few channels (the built-in network's
 * Grams are as many products as its convolutions; VGG-19's are 5%).  Measured on runs of both
 * networks at 384–1600 px: with 0.35 the estimates fell within −26% … +20% of the time. */
#define GRAM_COST 0.35

/* Multiply-adds per input pixel of layers 0 … last; an element-wise layer (ReLU, pooling)
 * counts as ELEMENTWISE_COST per element: such passes are bound by memory, not arithmetic. */
#define ELEMENTWISE_COST 4.0

static double
cost_per_pixel (const NsNetwork *net, int last)
{
  double cost = 0.0, area = 1.0;

  for (int i = 0; i <= last && i < net->n_layers; i++)
    {
      const NsLayer *l = &net->layers[i];

      if (l->kind == NS_LAYER_CONV || l->kind == NS_LAYER_CONV_KEEP)
        cost += area * l->conv.cin * l->conv.cout * 9;
      else
        cost += area * ELEMENTWISE_COST * ns_network_layer_channels (net, i);
      if (l->kind == NS_LAYER_MAXPOOL || l->kind == NS_LAYER_AVGPOOL)
        area /= 4.0;
    }
  return cost;
}

double
ns_network_cost_share (const NsNetwork *net, int last)
{
  double all = cost_per_pixel (net, net->n_layers - 1);

  return all > 0.0 ? cost_per_pixel (net, last) / all : 1.0;
}

/* Besides the pass and the Gram products, an evaluation walks over the features of its loss
 * layers (STYLE_PASSES: the per-channel gains on the features and on their gradient;
 * CONTENT_PASSES: the difference to the target) and over the image (IMAGE_PASSES: colour
 * conversion, total variation, the optimiser's vectors), each ELEMENTWISE_COST an element.
 * Negligible beside VGG-19's pass, they are a quarter of refinement's one convolution: a 24-MP
 * refinement took 1.27× what the pass and the Gram alone predicted. */
#define STYLE_PASSES   2.0
#define CONTENT_PASSES 1.0
#define IMAGE_PASSES   8.0

static double
layer_elements (const NsNetwork *net, int layer)
{
  return (double) ns_network_layer_channels (net, layer)
         / (1 << (2 * ns_network_layer_stride_log2 (net, layer + 1)));
}

/* The style layers' Gram products and passes over their features, per input pixel. */
static double
style_cost (const NsNetwork *net, const int *style_layers, int n_style)
{
  double cost = 0.0;

  for (int k = 0; k < n_style; k++)
    {
      double elements = layer_elements (net, style_layers[k]);
      int c = ns_network_layer_channels (net, style_layers[k]);

      cost += GRAM_COST * c * elements + ELEMENTWISE_COST * STYLE_PASSES * elements;
    }
  return cost;
}

double
ns_objective_cost_share (const NsNetwork *net, int last, int content, const int *style_layers,
                         int n_style)
{
  double all = cost_per_pixel (net, net->n_layers - 1);
  double cost = cost_per_pixel (net, last) + ELEMENTWISE_COST * IMAGE_PASSES * 3;

  if (content >= 0)
    cost += ELEMENTWISE_COST * CONTENT_PASSES * layer_elements (net, content);
  cost += style_cost (net, style_layers, n_style);
  return all > 0.0 ? cost / all : 1.0;
}

double
ns_style_cost_share (const NsNetwork *net, const int *style_layers, int n_style)
{
  double all = cost_per_pixel (net, net->n_layers - 1);

  return all > 0.0 ? style_cost (net, style_layers, n_style) / all : 0.0;
}

/* objective-shallow.c's evaluation per pixel, in multiply-adds: the convolution forward
 * three times (the features in both passes, the content's) and backward once, the style
 * gradient's c × c product and half of one for the Gram.  Its small products run in the
 * cache, SHALLOW_SPEEDUP times faster per multiply-add than the network pass the machine's
 * speed is measured with: on the built-in network from 0.7 to 24 MP, an evaluation took
 * 0.19–0.35 of that pass per pixel for 1.0 of its multiply-adds. */
#define SHALLOW_SPEEDUP 4.0

double
ns_shallow_cost_share (const NsNetwork *net, double style_coverage)
{
  double c = net->layers[0].conv.cout, all = cost_per_pixel (net, net->n_layers - 1);

  return all > 0.0 ? (4.0 * 27.0 * c + 1.5 * c * c * style_coverage) / SHALLOW_SPEEDUP / all
                   : 1.0;
}

/* The loss gradient at the last layer: ones, so that the backward pass has work to do. */
static void
unit_gradient (int layer, const NsTensor *act, NsTensor *grad, gpointer data)
{
  for (gsize i = 0; grad != NULL && i < ns_tensor_len (grad); i++)
    grad->data[i] += 1.0f;
}

guint64
ns_network_calibration_bytes (const NsNetwork *net)
{
  int n = CALIBRATION_SIZE, last = net->n_layers - 1;
  g_autofree gboolean *hooked = g_new0 (gboolean, net->n_layers);

  hooked[last] = TRUE;
  return ns_network_pass_peak_bytes (net, last, hooked, n, n, TRUE, 0)
         + (guint64) 2 * 3 * n * n * sizeof (float);
}

double
ns_network_seconds_per_unit (const NsNetwork *net)
{
  int n = CALIBRATION_SIZE, last = net->n_layers - 1;
  g_autofree gboolean *hooked = g_new0 (gboolean, net->n_layers);
  g_autoptr (NsTensor) x = NULL;
  g_autoptr (NsTensor) grad = NULL;
  double best = INFINITY;

  hooked[last] = TRUE;
  x = ns_tensor_new (3, n, n);
  grad = ns_tensor_new (3, n, n);
  for (gsize i = 0; i < ns_tensor_len (x); i++)
    x->data[i] = (float) ((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  /* Keeping the fastest: the first also pays for page faults and thread start-up, and on
   * a shared machine one pass of a tenth of a second can lose its core for much of its time
   * (with two, a 24-MP run beside another job expected 16 min and took 8 min 50 s).  The
   * lean pass (tiling.c) keeps two activations at a time. */
  for (int k = 0; k < CALIBRATION_PASSES; k++)
    {
      gint64 t0 = g_get_monotonic_time ();

      /* Without kept Winograd weights (conv-cache.c): the measurement comes before the
       * plan and counts no memory for them, so runs that keep them are a few percent
       * faster than this says. */
      ns_network_pass (net, NULL, x, last, hooked, unit_gradient, NULL, grad);
      best = MIN (best, (g_get_monotonic_time () - t0) / 1e6);
    }
  return best / ((double) n * n);
}
