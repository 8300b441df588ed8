/* enlarge.c — large images: a result optimised at a moderate size made full size.
 *
 * Optimising a 24-megapixel photo directly costs hours and gigabytes, and adds little: the
 * deep layers' statistics come from a painting a fraction of that size.  So a run may
 * optimise at ns_options_set_optimize_size and enlarge the result, guided by the full-size
 * photo (upsample.c), so that edges and fine structure come from the photo.  What the
 * enlargement cannot give is the style's own fine texture at full size: NS_UPSCALE_REFINE
 * adds it with a few iterations at full size that see only the shallow style layers (where
 * brush texture lives) that cost a small fraction of the network, with the enlarged result
 * itself as the content, so that the look of the small run is kept. */
#include <string.h>

#include "ns-internal.h"

/* The refinement sees only layers that cost at most this share of a pass through the whole
 * network: the built-in network spends two thirds of its work at full resolution (its first
 * ReLU alone 0.35 of it, so it falls back to that), VGG-19 a quarter up to relu2_1 and 0.41
 * up to relu3_1 (cost.c). */
#define REFINE_MAX_COST_SHARE 0.3

static int
first_relu (const NsNetwork *net)
{
  for (int i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == NS_LAYER_RELU)
      return i;
  return 0;
}

NsOptions *
ns_refine_options (const NsNetwork *net, const NsOptions *options, GError **error)
{
  g_autoptr (NsOptions) opt = ns_options_copy (options);
  int n = 0, deepest = -1, deepest_index = -1;
  int iterations = MAX (options->refine_iterations, 0);

  ns_options_apply_network_defaults (opt, net);
  for (int k = 0; k < opt->n_style_layers; k++)
    {
      int index = ns_network_layer_index (net, opt->style_layers[k].name);

      if (index < 0)
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "The style layer \"%s\" is not in the %s network",
                       opt->style_layers[k].name, net->name);
          return NULL;
        }
      if (ns_network_layer_stride_log2 (net, index) > 1
          || ns_network_cost_share (net, index) > REFINE_MAX_COST_SHARE)
        continue;
      opt->style_layers[n++] = opt->style_layers[k];
      if (index > deepest_index)
        {
          deepest_index = index;
          deepest = n - 1;
        }
    }
  if (n == 0)
    {
      /* No style layer is cheap enough: the network's first features. */
      g_strlcpy (opt->style_layers[0].name, net->layers[first_relu (net)].name,
                 sizeof opt->style_layers[0].name);
      opt->style_layers[0].weight = 1.0;
      n = 1;
      deepest = 0;
    }
  opt->n_style_layers = n;
  g_free (opt->content_layer);
  opt->content_layer = g_strdup (opt->style_layers[deepest].name);
  opt->content_weight *= NS_REFINE_CONTENT_GAIN;
  opt->init = NS_INIT_CONTENT;
  opt->optimize_size = 0;
  ns_options_set_scale_iterations (opt, &iterations, 1);
  return g_steal_pointer (&opt);
}

NsImage *
ns_enlarge (const NsImage *result, const NsImage *content_small, const NsImage *content,
            NsUpscale method, int threads, GError **error)
{
  NsUpsampleParams params;

  if (method == NS_UPSCALE_BILINEAR)
    return ns_image_resize (result, content->width, content->height);
  ns_upsample_params_init (&params);
  params.threads = threads;
  return ns_upsample_guided (result, content_small, content, &params, error);
}
