/* objective-tiled-setup.c — the targets of an objective evaluated in tiles: the content
 * features per tile (kept, or only their statistics), and the style Grams, each style image
 * itself run through tiles, so that no image-sized activation is ever held. */
#include <math.h>
#include "objective-internal.h"

/* Content targets per tile (kept if config says so) and the statistics the channel and
 * layer normalisations need, over all tiles. */
static void
setup_content (NsObjective *obj, gboolean keep)
{
  NsCropSource content = ns_objective_content_source (obj);
  int s = ns_objective_layer_stride (obj, obj->content_index);
  double hw = (double) (obj->h / s) * (obj->w / s);
  int c = ns_network_layer_channels (obj->net, obj->content_index);
  double *ms = g_new0 (double, c);

  if (keep)
    obj->tile_targets = g_new0 (NsTensor *, obj->plan->n);
  for (int t = 0; t < obj->plan->n && ! ns_objective_cancelled (obj); t++)
    {
      NsTensor *target = ns_objective_tile_target (obj, &content, &obj->plan->tiles[t], ms);
      if (keep)
        obj->tile_targets[t] = target;
      else
        ns_tensor_free (target);
    }
  for (int i = 0; i < c; i++)
    ms[i] /= hw;

  if (obj->net->normalize_channels)
    {
      obj->content_scale = ns_channel_gains (ms, c);
      for (int t = 0; keep && t < obj->plan->n; t++)
        ns_channel_scale (obj->tile_targets[t], obj->content_scale);
    }
  if (obj->net->normalize_layers)
    {
      double m = 0.0;

      for (int i = 0; i < c; i++)
        m += ms[i] * (obj->content_scale ? (double) obj->content_scale[i] * obj->content_scale[i] : 1.0);
      obj->content_weight /= m / MAX (c, 1) + 1e-12;
    }
  g_free (ms);
}

/* The blended style Grams (ns_objective_style_share), each style image run through tiles
 * of the same size, guided by its own mask if it has one. */
static gboolean
setup_styles (NsObjective *obj, const NsImage * const *styles, const double *blend, int n_styles,
              GError **error)
{
  double blend_sum = 0.0;

  for (int s = 0; s < n_styles; s++)
    blend_sum += blend ? blend[s] : 1.0;
  for (int k = 0; k < obj->n_style; k++)
    {
      int c = ns_network_layer_channels (obj->net, obj->style[k].index);

      obj->style[k].c = c;
      obj->style[k].gram = g_new0 (float, (gsize) c * c);
    }

  for (int s = 0; s < n_styles; s++)
    {
      double b = (blend ? blend[s] : 1.0) / blend_sum;
      g_autoptr (NsResampler) scaled = NULL;
      g_autoptr (NsTensor) planar = NULL;
      g_autoptr (NsTilePlan) plan = NULL;
      g_autoptr (NsLayerMasks) masks = NULL;
      g_autofree const NsLayerMasks **term_masks = NULL;
      float **grams = g_new0 (float *, MAX (obj->n_style, 1));
      NsCropSource src = { 0 };

      if (obj->opt->color_mode == NS_COLOR_STYLE)
        {
          /* Crops are resampled from the style as they are needed: the style at the size
           * of a large result is never held (768 MiB at 8192×8192). */
          const NsImage *style = styles[s];
          int longest = ns_style_longest (style, obj->w, obj->h, obj->opt->style_scale);
          double f = (double) longest / MAX (style->width, style->height);

          /* ns_image_resize_longest's size. */
          src.w = style->width >= style->height
                  ? longest : (int) MAX (1.0, floor (style->width * f + 0.5));
          src.h = style->width >= style->height
                  ? (int) MAX (1.0, floor (style->height * f + 0.5)) : longest;
          if (! ns_objective_check_style_size (obj, style, src.w, src.h, error))
            {
              g_free (grams);
              return FALSE;
            }
          scaled = ns_resampler_new (style, src.w, src.h);
          src.image = style;
          src.resampled = scaled;
        }
      else
        {
          planar = ns_objective_prepare_style (obj, styles[s], error);
          if (planar == NULL)
            {
              g_free (grams);
              return FALSE;
            }
          src.planes = planar->data;
          src.n_planes = 3;
          src.w = planar->w;
          src.h = planar->h;
        }
      plan = ns_tile_plan_new (src.w, src.h, obj->plan->tile, obj->plan->halo);
      masks = ns_objective_style_masks (obj, s, src.w, src.h);
      term_masks = g_new0 (const NsLayerMasks *, MAX (obj->n_style, 1));
      for (int k = 0; k < obj->n_style; k++)
        {
          grams[k] = ns_floats_new ((gsize) obj->style[k].c * obj->style[k].c);
          term_masks[k] = masks;
        }
      ns_objective_tiled_grams (obj, &src, plan, FALSE, term_masks, grams);
      for (int k = 0; k < obj->n_style; k++)
        {
          double share = ns_objective_style_share (obj, &obj->style[k], s, b);

          for (gsize i = 0; share != 0.0 && i < (gsize) obj->style[k].c * obj->style[k].c; i++)
            obj->style[k].gram[i] += (float) (share * grams[k][i]);
          ns_floats_free (grams[k]);
        }
      g_free (grams);
    }
  return TRUE;
}

gboolean
ns_objective_setup_tiled (NsObjective *obj, const NsImage *content,
                          const NsImage * const *styles, const double *blend, int n_styles,
                          const NsObjectiveConfig *config, GError **error)
{
  int halo = config->halo > 0 ? config->halo : ns_network_halo (obj->net, obj->last);
  int align = ns_network_alignment (obj->net, obj->last);

  if (halo < 0)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The %s network cannot be evaluated in tiles; give the run more memory",
                   obj->net->name);
      return FALSE;
    }
  if (config->tile % align != 0 || halo % align != 0)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "Tiles of %d pixels with a %d-pixel halo do not fit the %d-pixel pooling grid",
                   config->tile, halo, align);
      return FALSE;
    }
  obj->plan = ns_tile_plan_new (obj->w, obj->h, config->tile, halo);
  if (config->borrow_content)
    obj->content_image = content;
  else
    obj->content_image = obj->content_owned = ns_image_copy (content);

  if (obj->luminance)
    {
      const NsImage *img = obj->content_image;
      gsize n = (gsize) obj->w * obj->h;

      obj->content_y = ns_tensor_new (1, obj->h, obj->w);
      /* ns_color_luminance's arithmetic, grey read as R = G = B. */
      for (gsize i = 0; i < n; i++)
        {
          const float *p = img->data + i * img->channels;
          int g = img->channels == 3 ? 1 : 0, b = img->channels == 3 ? 2 : 0;

          obj->content_y->data[i] = 0.299f * p[0] + 0.587f * p[g] + 0.114f * p[b];
        }
    }
  if (obj->opt->color_mode == NS_COLOR_HISTOGRAM)
    {
      /* The colour statistics of the whole content, for the style's colour transfer;
       * only while the styles are prepared. */
      g_autoptr (NsImage) rgb = content->channels == 3 ? ns_image_copy (content)
                                                       : ns_image_to_rgb (content);

      obj->content = ns_color_image_to_tensor (rgb);
    }

  /* Without kept targets, the pass over the content only serves the normalisations. */
  if (config->cache_content || obj->net->normalize_channels || obj->net->normalize_layers)
    setup_content (obj, config->cache_content);
  if (! setup_styles (obj, styles, blend, n_styles, error))
    return FALSE;
  if (ns_objective_cancelled (obj))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_CANCELLED, "The run was cancelled");
      return FALSE;
    }
  g_clear_pointer (&obj->content, ns_tensor_free);
  ns_objective_finish_style (obj);
  obj->regions = NULL;

  obj->style_d = g_new0 (float *, MAX (obj->n_style, 1));
  obj->style_alpha = g_new0 (double, MAX (obj->n_style, 1));
  for (int k = 0; k < obj->n_style; k++)
    {
      int s = ns_objective_layer_stride (obj, obj->style[k].index);
      double cc = (double) obj->style[k].c * obj->style[k].c;
      double n = (double) obj->style[k].c * (obj->h / s) * (obj->w / s);

      obj->style_d[k] = ns_floats_new ((gsize) obj->style[k].c * obj->style[k].c);
      obj->style_alpha[k] = 2.0 * obj->style[k].weight / (cc * n);
    }
  return TRUE;
}
