/* objective-regions.c — the style terms of a run with regions (ns_stylizer_set_regions):
 * one term per style layer and region, each guided by its region's mask at the layer
 * (mask-carry.c, loss-style-guided.c), with the region's style as its target.
 *
 * Region r < n_styles takes style r's Gram (of the part its own mask picks, if any) with
 * weight λ_r = blend_r; the rest region takes the styles' blend, as a run without regions
 * would, with their mean weight.  The weights add up to 1 without a rest, so that a mask
 * of ones gives the plain style loss.  ns_objective_term_distances: each term's relative
 * distance to its target, for the harness's breakdown. */
#include <math.h>

#include "objective-internal.h"

void
ns_objective_setup_regions (NsObjective *obj, const NsRegions *regions, const double *blend,
                            int n_styles)
{
  g_autofree gboolean *hooked = ns_objective_hooked (obj, FALSE, TRUE);
  NsStyleTerm *terms;
  float **masks;
  double blend_sum = 0.0;
  int n;

  masks = ns_regions_masks_at (regions, obj->w, obj->h, &n);
  obj->regions = regions;
  obj->n_regions = n;
  obj->region_masks = g_new0 (NsLayerMasks *, n);
  for (int r = 0; r < n; r++)
    {
      obj->region_masks[r] = ns_layer_masks_new (obj->net, masks[r], obj->w, obj->h, obj->last,
                                                 hooked, ns_regions_carry (regions, r));
      g_free (masks[r]);
    }
  g_free (masks);

  for (int s = 0; s < n_styles; s++)
    blend_sum += blend ? blend[s] : 1.0;
  terms = g_new0 (NsStyleTerm, (gsize) obj->n_style * n);
  for (int r = 0; r < n; r++)
    for (int k = 0; k < obj->n_style; k++)
      {
        NsStyleTerm *t = &terms[r * obj->n_style + k];
        double lambda = r < n_styles ? (blend ? blend[r] : 1.0) / blend_sum : 1.0 / n_styles;

        t->index = obj->style[k].index;
        t->weight = obj->style[k].weight * lambda;
        t->region = r;
      }
  g_free (obj->style);
  obj->style = terms;
  obj->n_style *= n;
}

double
ns_objective_style_share (const NsObjective *obj, const NsStyleTerm *term, int s, double b)
{
  if (term->region < 0 || term->region >= obj->regions->n_styles)
    return b;
  return term->region == s ? 1.0 : 0.0;
}

NsLayerMasks *
ns_objective_style_masks (const NsObjective *obj, int s, int w, int h)
{
  g_autofree gboolean *hooked = NULL;
  g_autofree float *mask = NULL;

  if (obj->regions == NULL || obj->regions->style_masks[s] == NULL)
    return NULL;
  hooked = ns_objective_hooked (obj, FALSE, TRUE);
  mask = ns_region_mask_at (obj->regions->style_masks[s], w, h);
  /* Carried as its region's mask is, so that the target is the same statistic. */
  return ns_layer_masks_new (obj->net, mask, w, h, obj->last, hooked,
                             ns_regions_carry (obj->regions, s));
}

const NsLayerMasks **
ns_objective_term_masks (const NsObjective *obj)
{
  const NsLayerMasks **m = g_new0 (const NsLayerMasks *, MAX (obj->n_style, 1));

  for (int k = 0; k < obj->n_style; k++)
    if (obj->style[k].region >= 0)
      m[k] = obj->region_masks[obj->style[k].region];
  return m;
}

/* ---- the guided terms' distances (tools/eval-regions.c's breakdown) ------------------------ */

typedef struct
{
  const NsObjective *obj;
  double            *dist;
} DistCtx;

static void
distance_hook (int layer, const NsTensor *act, NsTensor *grad, gpointer data)
{
  DistCtx *ctx = data;
  const NsObjective *obj = ctx->obj;

  (void) grad;
  for (int k = 0; k < obj->n_style; k++)
    {
      const NsStyleTerm *term = &obj->style[k];
      gsize cc = (gsize) term->c * term->c;
      double ms;

      if (term->index != layer)
        continue;
      /* ns_style_gram_loss is weight · Σ (G − A)² / c²: weight c² / Σ A² gives the
       * relative distance, whatever the layer's and the term's own weights. */
      ms = ns_mean_square (term->gram, cc) * (double) cc + 1e-30;
      if (term->region < 0)
        ctx->dist[k] = term->scale
                       ? ns_scaled_loss (act, term->scale, NULL, term->gram, cc / ms, NULL)
                       : ns_style_loss (act, term->gram, cc / ms, NULL);
      else if (obj->region_masks[term->region]->empty[layer])
        ctx->dist[k] = NAN;
      else
        ctx->dist[k] = ns_style_guided_loss (act, obj->region_masks[term->region]->at[layer],
                                             term->scale, term->gram, cc / ms, NULL);
    }
}

int
ns_objective_term_distances (NsObjective *obj, const NsImage *img, int *layer, int *region,
                             double *dist)
{
  g_autoptr (NsTensor) in = NULL;
  DistCtx ctx = { obj, dist };

  g_return_val_if_fail (obj->plan == NULL && obj->shallow == NULL, -1);
  g_return_val_if_fail (img->width == obj->w && img->height == obj->h && img->channels == 3,
                        -1);

  in = ns_color_to_network (img, obj->net->mean, obj->net->std);
  for (int k = 0; k < obj->n_style; k++)
    {
      layer[k] = obj->style[k].index;
      region[k] = obj->style[k].region;
      dist[k] = NAN;
    }
  ns_network_pass (obj->net, obj->convs, in, obj->last, obj->hooked, distance_hook, &ctx, NULL);
  return obj->n_style;
}
