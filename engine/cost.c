/* cost.c — how long a run takes.
 *
 * Work is counted in pixel evaluations: one pixel of the network's input through one
 * forward and one backward pass (the backward pass computes only the input's gradient; the
 * forward pass is NS_FORWARD_SHARE of the two).  A size's work is its set-up (the style's and
 * the content's features: forward passes) and its iterations (L-BFGS's line search takes
 * EVALS_PER_LBFGS_ITERATION evaluations an iteration on average); a tiled evaluation runs
 * over its crops, halos included, once forward for the Gram matrices and once forward and
 * backward, plus the content's features when they are recomputed.
 *
 * Seconds per unit come from timing the network on a small image on this machine, and
 * during a run from the run itself (stylize.c). */

#include <math.h>

#include "ns-internal.h"


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

/* An evaluation is `share` a pixel; its pass alone (the network to the deepest loss layer)
 * `pass_share`, of which a forward pass is NS_FORWARD_SHARE.  A tiled evaluation's extra
 * forward passes (the Grams' pass, the content's features when not kept) are priced against
 * the pass, not the whole evaluation: they compute no loss and no gradient. */
void
ns_scale_plan_set_work (NsScalePlan *p, int halo, double style_pixels, double share,
                        double pass_share)
{
  double crops = crop_pixels (p->width, p->height, p->tile, halo);
  double forward = NS_FORWARD_SHARE * pass_share;

  p->work_setup = forward * (style_pixels + crops);
  if (p->tile > 0)
    p->work_eval = crops * (share + forward * (p->cache_content ? 1.0 : 2.0));
  else
    p->work_eval = crops * share;
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

/* An element-wise layer (ReLU, pooling) counts as ELEMENTWISE_COST multiply-adds an element:
 * such passes are bound by memory, not arithmetic. */
#define ELEMENTWISE_COST 4.0

/* Besides its multiply-adds, a convolution costs FEATURE_ELEMENT_COST for each element it
 * reads and writes (cin + cout a position): the Winograd transforms, packing, bias and the
 * backward pass's copies of them, which do not shrink with the channels as the products do.
 * In the units of the whole network's pass, whose deep layers run Winograd's products several
 * times faster than their multiply-adds say: VGG-19's pass to relu2_1 (a sixth of its
 * multiply-adds) took 0.25–0.31 of the whole pass per pixel (CPU time, 256–1024 px), to
 * relu3_1 0.44; counted by multiply-adds alone, its refinement's evaluations took 2–3 times
 * what the plan said.  A loss layer's elements cost the same (the style gain passes, the
 * Gram's conversion to double, the content difference). */
#define FEATURE_ELEMENT_COST 256.0

/* Per input pixel of layers 0 … last: multiply-adds, element_cost an element of each
 * convolution's input and output, ELEMENTWISE_COST an element of the other layers. */
static double
cost_per_pixel_with (const NsNetwork *net, int last, double element_cost)
{
  double cost = 0.0, area = 1.0;

  for (int i = 0; i <= last && i < net->n_layers; i++)
    {
      const NsLayer *l = &net->layers[i];

      if (l->kind == NS_LAYER_CONV || l->kind == NS_LAYER_CONV_KEEP)
        cost += area * (l->conv.cin * l->conv.cout * 9
                        + element_cost * (l->conv.cin + l->conv.cout));
      else
        cost += area * ELEMENTWISE_COST * ns_network_layer_channels (net, i);
      if (l->kind == NS_LAYER_MAXPOOL || l->kind == NS_LAYER_AVGPOOL)
        area /= 4.0;
    }
  return cost;
}

static double
cost_per_pixel (const NsNetwork *net, int last)
{
  return cost_per_pixel_with (net, last, FEATURE_ELEMENT_COST);
}

double
ns_network_cost_share (const NsNetwork *net, int last)
{
  double all = cost_per_pixel (net, net->n_layers - 1);

  return all > 0.0 ? cost_per_pixel (net, last) / all : 1.0;
}

/* Besides the pass and the Gram products, an evaluation walks over the features of its loss
 * layers (FEATURE_ELEMENT_COST an element: the per-channel gains on the features and on
 * their gradient, the Gram's conversion to double; the content's difference to the target)
 * and over the image (IMAGE_PASSES: colour conversion, total variation, the optimiser's
 * vectors), ELEMENTWISE_COST an element. */
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

      cost += GRAM_COST * c * elements + FEATURE_ELEMENT_COST * elements;
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
    cost += FEATURE_ELEMENT_COST * layer_elements (net, content);
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
  /* Fitted against the pass's multiply-adds alone. */
  double c = net->layers[0].conv.cout, all = cost_per_pixel_with (net, net->n_layers - 1, 0.0);

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
