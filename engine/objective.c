/* objective.c — the total loss of an image and its gradient: the targets of one run
 * (content features, blended style Grams) and the chain image → network → losses, for the
 * whole image at once.  Large images are evaluated in tiles instead (objective-tiled.c,
 * with targets made in tiles by objective-tiled-setup.c). */
#include <math.h>
#include <string.h>
#include "objective-internal.h"

/* The 3-channel image the network sees for x (planar, [0,1] units). */
static NsTensor *
rgb_for (const NsObjective *obj, const float *x)
{
  NsTensor *rgb = ns_tensor_new (3, obj->h, obj->w);

  if (obj->luminance)
    {
      NsTensor y = { 1, obj->h, obj->w, (float *) x };

      ns_color_expand_luminance (&y, rgb);
    }
  else
    memcpy (rgb->data, x, ns_tensor_len (rgb) * sizeof (float));
  return rgb;
}

static NsTensor *
network_input (const NsObjective *obj, const NsTensor *rgb)
{
  g_autoptr (NsImage) img = ns_color_tensor_to_image (rgb);

  return ns_color_to_network (img, obj->net->mean, obj->net->std);
}

/* ---- set-up --------------------------------------------------------------------------------- */

static gboolean
check_layer (const NsNetwork *net, const char *name, const char *role, int *index, GError **error)
{
  int i = ns_network_layer_index (net, name);

  if (i < 0 || net->layers[i].kind == NS_LAYER_CONV || net->layers[i].kind == NS_LAYER_CONV_KEEP)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The %s layer \"%s\" is not in the %s network; use a ReLU or pooling "
                   "layer such as relu4_2 or relu3_1", role, name ? name : "", net->name);
      return FALSE;
    }
  *index = i;
  return TRUE;
}

gboolean *
ns_objective_hooked (const NsObjective *obj, gboolean content, gboolean style)
{
  gboolean *h = g_new0 (gboolean, obj->last + 1);

  if (content)
    h[obj->content_index] = TRUE;
  for (int k = 0; style && k < obj->n_style; k++)
    h[obj->style[k].index] = TRUE;
  return h;
}

gboolean
ns_objective_check_style_size (const NsObjective *obj, const NsImage *style, int w, int h,
                               GError **error)
{
  int min_side = 1 << ns_network_layer_stride_log2 (obj->net, obj->last);

  if (style->width < NS_STYLE_MIN_SIDE || style->height < NS_STYLE_MIN_SIDE)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The style image is only %d×%d pixels; choose one of at least %d×%d (a "
                   "painting of a few hundred pixels or more works best)", style->width,
                   style->height, NS_STYLE_MIN_SIDE, NS_STYLE_MIN_SIDE);
      return FALSE;
    }
  if (w < min_side || h < min_side)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "At style scale %.2f the style image would be %d×%d pixels, smaller than "
                   "the %d×%d its style layers need; use a larger style scale",
                   obj->opt->style_scale, w, h, min_side, min_side);
      return FALSE;
    }
  return TRUE;
}

NsTensor *
ns_objective_prepare_style (const NsObjective *obj, const NsImage *style, GError **error)
{
  int longest = ns_style_longest (style, obj->w, obj->h, obj->opt->style_scale);
  g_autoptr (NsImage) rgb = style->channels == 3 ? ns_image_copy (style) : ns_image_to_rgb (style);
  g_autoptr (NsImage) scaled = NULL;
  g_autoptr (NsTensor) t = NULL;

  scaled = ns_image_resize_longest (rgb, longest);
  if (! ns_objective_check_style_size (obj, style, scaled->width, scaled->height, error))
    return NULL;
  t = ns_color_image_to_tensor (scaled);
  switch (obj->opt->color_mode)
    {
    case NS_COLOR_LUMINANCE:
      {
        g_autoptr (NsTensor) y = ns_color_luminance (t);

        ns_color_match_luminance (y, obj->content_y);
        ns_color_expand_luminance (y, t);
        break;
      }
    case NS_COLOR_HISTOGRAM:
      {
        NsTensor *m = ns_color_match_histogram (t, obj->content);

        ns_tensor_free (t);
        t = m;
        break;
      }
    case NS_COLOR_STYLE:
    default:
      break;
    }
  return g_steal_pointer (&t);
}

void
ns_objective_finish_style (NsObjective *obj)
{
  for (int k = 0; k < obj->n_style; k++)
    {
      NsStyleTerm *term = &obj->style[k];

      if (obj->net->normalize_channels)
        term->scale = ns_gram_gains (term->gram, term->c);
      if (obj->net->normalize_layers)
        term->weight /= ns_mean_square (term->gram, (gsize) term->c * term->c) + 1e-30;
    }
}

/* Set-up hooks: style s's Grams (guided by its own mask, if any) blended into the targets
 * (ns_objective_style_share, with its blend weight b), or a copy of the content layer. */
typedef struct
{
  NsObjective        *obj;
  double              b;
  NsTensor           *copy;
  int                 s;
  const NsLayerMasks *masks;
} SetupCtx;

static void
style_gram_hook (int layer, const NsTensor *f, NsTensor *grad, gpointer data)
{
  SetupCtx *ctx = data;
  g_autofree float *g = NULL;

  for (int k = 0; k < ctx->obj->n_style; k++)
    {
      NsStyleTerm *term = &ctx->obj->style[k];
      double share = ns_objective_style_share (ctx->obj, term, ctx->s, ctx->b);

      if (term->index != layer || share == 0.0)
        continue;
      if (term->gram == NULL)
        {
          term->c = f->c;
          term->gram = g_new0 (float, (gsize) f->c * f->c);
        }
      if (g == NULL)
        {
          g = g_new (float, (gsize) f->c * f->c);
          ns_gram_guided (f, ctx->masks ? ctx->masks->at[layer] : NULL, g);
        }
      for (gsize i = 0; i < (gsize) f->c * f->c; i++)
        term->gram[i] += (float) (share * g[i]);
    }
}

static void
copy_hook (int layer, const NsTensor *f, NsTensor *grad, gpointer data)
{
  SetupCtx *ctx = data;

  ctx->copy = ns_tensor_copy (f);
}

gboolean
ns_objective_cancelled (const NsObjective *obj)
{
  return obj->cancel != NULL && g_atomic_int_get (obj->cancel);
}

/* The styles' Grams, a forward pass each: a cancelled run stops before the next one. */
static gboolean
build_style_targets (NsObjective *obj, const NsImage * const *styles, const double *blend,
                     int n_styles, GError **error)
{
  double blend_sum = 0.0;
  g_autofree gboolean *hooked = ns_objective_hooked (obj, FALSE, TRUE);

  for (int s = 0; s < n_styles; s++)
    blend_sum += blend ? blend[s] : 1.0;

  for (int s = 0; s < n_styles; s++)
    {
      double b = (blend ? blend[s] : 1.0) / blend_sum;
      g_autoptr (NsTensor) rgb = ns_objective_prepare_style (obj, styles[s], error);
      g_autoptr (NsTensor) in = NULL;
      g_autoptr (NsLayerMasks) masks = NULL;
      SetupCtx ctx = { obj, b, NULL, s, NULL };

      if (rgb == NULL)
        return FALSE;
      ctx.masks = masks = ns_objective_style_masks (obj, s, rgb->w, rgb->h);
      if (ns_objective_cancelled (obj))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_CANCELLED, "The run was cancelled");
          return FALSE;
        }
      in = network_input (obj, rgb);
      /* Forward only, keeping no activations: the hook takes the Grams as they pass. */
      ns_network_pass (obj->net, obj->convs, in, obj->last, hooked, style_gram_hook, &ctx, NULL);
    }
  return TRUE;
}

/* The content layer's features of `in` (consumed), with their gains and normalisation. */
static void
content_target (NsObjective *obj, NsTensor *in)
{
  g_autoptr (NsTensor) net_in = network_input (obj, in);
  g_autofree gboolean *hooked = ns_objective_hooked (obj, TRUE, FALSE);
  SetupCtx ctx = { obj, 0.0, NULL, 0, NULL };

  ns_tensor_free (in);
  ns_network_pass (obj->net, obj->convs, net_in, obj->content_index, hooked, copy_hook, &ctx,
                   NULL);
  obj->content_target = ctx.copy;
  if (obj->net->normalize_channels)
    obj->content_scale = ns_content_gains (obj->content_target);
  if (obj->net->normalize_layers)
    obj->content_weight /= ns_mean_square (obj->content_target->data,
                                           ns_tensor_len (obj->content_target)) + 1e-12;
}

/* The same gains and normalisation for objective-shallow.c, which recomputes the content's
 * features in every evaluation instead of keeping them: from their mean squares. */
static void
shallow_content (NsObjective *obj)
{
  int c = obj->net->layers[0].conv.cout;
  g_autofree double *ms = g_new (double, c);
  double scaled = 0.0;

  obj->shallow = ns_shallow_new (obj->net, obj->w, obj->h, obj->luminance ? 1 : 3);
  ns_shallow_mean_squares (obj, obj->luminance ? obj->content_y->data : obj->content->data, ms);
  if (obj->net->normalize_channels)
    obj->content_scale = ns_channel_gains (ms, c);
  for (int i = 0; i < c; i++)
    scaled += ms[i] * (obj->content_scale ? (double) obj->content_scale[i] * obj->content_scale[i]
                                          : 1.0);
  if (obj->net->normalize_layers)
    obj->content_weight /= scaled / c + 1e-12;
}

NsObjective *
ns_objective_new (const NsNetwork      *net,
                  const NsOptions      *options,
                  const NsImage        *content,
                  const NsImage * const *styles,
                  const double         *blend,
                  int                   n_styles,
                  GError              **error)
{
  return ns_objective_new_full (net, options, content, styles, blend, n_styles, NULL, error);
}

NsObjective *
ns_objective_new_full (const NsNetwork           *net,
                       const NsOptions           *options,
                       const NsImage             *content,
                       const NsImage * const     *styles,
                       const double              *blend,
                       int                        n_styles,
                       const NsObjectiveConfig   *config,
                       GError                   **error)
{
  g_autoptr (NsObjective) obj = g_new0 (NsObjective, 1);
  g_autoptr (NsImage) rgb = NULL;
  int min_side;

  obj->net = ns_network_ref ((NsNetwork *) net);
  obj->opt = ns_options_copy (options);
  ns_options_apply_network_defaults (obj->opt, net);
  /* The user's weights are on VGG-19's scale; this network's own follow from its gains. */
  obj->opt->content_weight *= net->content_gain;
  obj->opt->style_weight *= net->style_gain;
  obj->opt->tv_weight *= net->tv_gain;
  obj->w = content->width;
  obj->h = content->height;
  obj->luminance = obj->opt->color_mode == NS_COLOR_LUMINANCE;

  if (! check_layer (net, obj->opt->content_layer, "content", &obj->content_index, error))
    return NULL;
  obj->last = obj->content_index;
  obj->n_style = obj->opt->n_style_layers;
  obj->style = g_new0 (NsStyleTerm, obj->n_style);
  for (int k = 0; k < obj->n_style; k++)
    {
      if (! check_layer (net, obj->opt->style_layers[k].name, "style", &obj->style[k].index, error))
        return NULL;
      obj->last = MAX (obj->last, obj->style[k].index);
    }

  min_side = 1 << ns_network_layer_stride_log2 (net, obj->last);
  if (obj->w < min_side || obj->h < min_side)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The image is %d×%d pixels, but the layers used need at least %d×%d "
                   "(the deepest is downscaled %d times); use a larger image or size",
                   obj->w, obj->h, min_side, min_side, min_side);
      return NULL;
    }

  obj->hooked = ns_objective_hooked (obj, TRUE, TRUE);
  for (int k = 0; k < obj->n_style; k++)
    {
      obj->style[k].weight = obj->opt->style_weight * obj->opt->style_layers[k].weight;
      obj->style[k].region = -1;
    }
  obj->content_weight = obj->opt->content_weight;
  obj->cancel = config != NULL ? config->cancel : NULL;
  obj->buffer_slack = config != NULL ? config->buffer_slack : 0;
  /* Before the targets: their passes use it too. */
  if (config == NULL || ! config->transform_per_call)
    obj->convs = ns_conv_cache_new (net);
  if (config != NULL && config->regions != NULL)
    ns_objective_setup_regions (obj, config->regions, blend, n_styles);
  if (config != NULL && config->tile > 0)
    {
      if (! ns_objective_setup_tiled (obj, content, styles, blend, n_styles, config, error))
        return NULL;
      return g_steal_pointer (&obj);
    }

  rgb = content->channels == 3 ? ns_image_copy (content) : ns_image_to_rgb (content);
  obj->content = ns_color_image_to_tensor (rgb);
  g_clear_pointer (&rgb, ns_image_free);
  if (obj->luminance)
    obj->content_y = ns_color_luminance (obj->content);
  if (ns_objective_shallow_applies (net, obj->last) && (config == NULL || ! config->general))
    shallow_content (obj);
  else
    content_target (obj, obj->luminance ? rgb_for (obj, obj->content_y->data)
                                         : ns_tensor_copy (obj->content));

  if (! build_style_targets (obj, styles, blend, n_styles, error))
    return NULL;
  ns_objective_finish_style (obj);
  obj->regions = NULL;
  return g_steal_pointer (&obj);
}

void
ns_objective_free (NsObjective *obj)
{
  if (obj == NULL)
    return;
  for (int k = 0; obj->style && k < obj->n_style; k++)
    {
      g_free (obj->style[k].gram);
      g_free (obj->style[k].scale);
    }
  g_free (obj->content_scale);
  for (int r = 0; r < obj->n_regions; r++)
    ns_layer_masks_free (obj->region_masks[r]);
  g_free (obj->region_masks);
  ns_shallow_free (obj->shallow);
  for (int k = 0; obj->style_d && k < obj->n_style; k++)
    ns_floats_free (obj->style_d[k]);
  g_free (obj->style_d);
  g_free (obj->style_alpha);
  for (int t = 0; obj->tile_targets && t < obj->plan->n; t++)
    ns_tensor_free (obj->tile_targets[t]);
  g_free (obj->tile_targets);
  ns_tile_plan_free (obj->plan);
  g_free (obj->hooked);
  ns_image_free (obj->content_owned);
  g_free (obj->style);
  ns_tensor_free (obj->content);
  ns_tensor_free (obj->content_y);
  ns_tensor_free (obj->content_target);
  ns_options_free (obj->opt);
  ns_conv_cache_free (obj->convs);
  if (obj->net)
    ns_network_unref (obj->net);
  ns_buffer_cache_free (obj->buffers);
  for (int k = 0; k < obj->n_temporal; k++)
    {
      ns_tensor_free (obj->temporal_warped[k]);
      ns_tensor_free (obj->temporal_reliability[k]);
    }
  g_free (obj->temporal_warped);
  g_free (obj->temporal_reliability);
  g_free (obj->temporal_weight);
  g_free (obj);
}

gsize
ns_objective_len (const NsObjective *obj)
{
  return (gsize) (obj->luminance ? 1 : 3) * obj->w * obj->h;
}

float *
ns_objective_initial (const NsObjective *obj)
{
  gsize n = ns_objective_len (obj);
  float *x = g_new (float, n);

  if (obj->opt->init == NS_INIT_NOISE)
    {
      GRand *r = g_rand_new_with_seed_array ((const guint32 *) &obj->opt->seed, 2);

      for (gsize i = 0; i < n; i++)
        x[i] = (float) g_rand_double (r);
      g_rand_free (r);
    }
  else if (obj->luminance)
    memcpy (x, obj->content_y->data, n * sizeof (float));
  else if (obj->content != NULL)
    memcpy (x, obj->content->data, n * sizeof (float));
  else
    {
      gsize np = (gsize) obj->w * obj->h;
      const NsImage *img = obj->content_image;

      for (int c = 0; c < 3; c++)
        for (gsize i = 0; i < np; i++)
          x[c * np + i] = img->data[i * img->channels + (img->channels == 3 ? c : 0)];
    }
  return x;
}

/* ---- the whole image at once ---------------------------------------------------------------- */

typedef struct
{
  NsObjective *obj;
  double       lc;
  double      *ls;         /* per style term */
} WholeCtx;

/* The losses of the layer just computed, in the order the terms are listed (content
 * first), so that sums and gradients are added up as ns_network_backward would. */
static void
whole_hook (int layer, const NsTensor *act, NsTensor *grad, gpointer data)
{
  WholeCtx *ctx = data;
  NsObjective *obj = ctx->obj;

  if (layer == obj->content_index)
    ctx->lc = obj->content_scale
              ? ns_scaled_loss (act, obj->content_scale, obj->content_target, NULL,
                                obj->content_weight, grad)
              : ns_content_loss (act, obj->content_target, obj->content_weight, grad);
  for (int k = 0; k < obj->n_style; k++)
    {
      const NsStyleTerm *term = &obj->style[k];

      if (term->index != layer)
        continue;
      if (term->region >= 0)
        {
          const NsLayerMasks *m = obj->region_masks[term->region];

          /* A region too small to reach this layer has no statistics there. */
          ctx->ls[k] = m->empty[layer] ? 0.0
                       : ns_style_guided_loss (act, m->at[layer], term->scale, term->gram,
                                               term->weight, grad);
          continue;
        }
      ctx->ls[k] = term->scale
                   ? ns_scaled_loss (act, term->scale, NULL, term->gram, term->weight, grad)
                   : ns_style_loss (act, term->gram, term->weight, grad);
    }
}

double
ns_objective_total (double lc, double ls, double tv, double parts[3])
{
  if (parts)
    {
      parts[0] = lc;
      parts[1] = ls;
      parts[2] = tv;
    }
  return lc + ls + tv;
}

static double
eval_whole (NsObjective *obj, const float *x, float *grad, double parts[3])
{
  g_autoptr (NsTensor) rgb = rgb_for (obj, x);
  g_autoptr (NsTensor) in = network_input (obj, rgb);
  g_autoptr (NsTensor) g_net = grad ? ns_tensor_new_like (in) : NULL;
  g_autofree double *ls_k = g_new0 (double, MAX (obj->n_style, 1));
  WholeCtx ctx = { obj, 0.0, ls_k };
  double ls = 0.0, ltv;

  ns_network_pass (obj->net, obj->convs, in, obj->last, obj->hooked, whole_hook, &ctx, g_net);
  for (int k = 0; k < obj->n_style; k++)
    ls += ls_k[k];

  if (grad)
    {
      g_autoptr (NsTensor) g_rgb = ns_tensor_new_like (in);

      ns_color_to_network_backward (g_net, obj->net->std, g_rgb);
      ltv = ns_tv_loss (rgb, obj->opt->tv_weight, g_rgb);
      if (obj->luminance)
        {
          NsTensor gy = { 1, obj->h, obj->w, grad };

          ns_color_expand_luminance_backward (g_rgb, &gy);
        }
      else
        memcpy (grad, g_rgb->data, ns_tensor_len (g_rgb) * sizeof (float));
    }
  else
    ltv = ns_tv_loss (rgb, obj->opt->tv_weight, NULL);

  return ns_objective_total (ctx.lc, ls, ltv, parts);
}

/* ---- temporal terms ------------------------------------------------------------------------- */

gboolean
ns_objective_add_temporal (NsObjective   *obj,
                           const NsImage *warped,
                           const NsImage *reliability,
                           double         weight,
                           GError       **error)
{
  g_autoptr (NsTensor) rgb = NULL;
  g_autoptr (NsTensor) planes = NULL;
  g_autoptr (NsImage) warped_rgb = NULL;
  int k = obj->n_temporal;

  if (warped->width != obj->w || warped->height != obj->h ||
      reliability->width != obj->w || reliability->height != obj->h ||
      reliability->channels != 1 || ! (weight >= 0.0))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "A temporal term needs a warped image and a one-channel reliability of the "
                   "image's size (%d×%d) and a weight ≥ 0", obj->w, obj->h);
      return FALSE;
    }
  if (warped->channels == 1)
    warped = warped_rgb = ns_image_to_rgb (warped);
  rgb = ns_color_image_to_tensor (warped);
  planes = obj->luminance ? ns_color_luminance (rgb) : g_steal_pointer (&rgb);

  obj->temporal_warped = g_renew (NsTensor *, obj->temporal_warped, k + 1);
  obj->temporal_reliability = g_renew (NsTensor *, obj->temporal_reliability, k + 1);
  obj->temporal_weight = g_renew (double, obj->temporal_weight, k + 1);
  obj->temporal_warped[k] = g_steal_pointer (&planes);
  obj->temporal_reliability[k] = ns_tensor_new (1, obj->h, obj->w);
  memcpy (obj->temporal_reliability[k]->data, reliability->data,
          (gsize) obj->w * obj->h * sizeof (float));
  obj->temporal_weight[k] = weight;
  obj->n_temporal = k + 1;
  return TRUE;
}

double
ns_objective_temporal_rows (const NsObjective *obj, const float *x, int y0, int y1,
                            float *band, int band_y0, gsize band_plane)
{
  int planes = obj->luminance ? 1 : 3;
  double n = (double) planes * obj->w * obj->h, value = 0.0;

  for (int k = 0; k < obj->n_temporal; k++)
    {
      double weight = obj->temporal_weight[k];

      value += weight / n *
               ns_temporal_rows (x, obj->temporal_warped[k]->data,
                                 obj->temporal_reliability[k]->data, planes, obj->w, obj->h,
                                 y0, y1, (float) (2.0 * weight / n), band, band_y0,
                                 band_plane);
    }
  return value;
}

void
ns_objective_start_temporal (const NsObjective *obj, float *x)
{
  int planes = obj->luminance ? 1 : 3;
  gsize np = (gsize) obj->w * obj->h;

  if (obj->n_temporal == 0)
    return;
  for (int c = 0; c < planes; c++)
    {
      const float *w = obj->temporal_warped[0]->data + c * np;
      const float *r = obj->temporal_reliability[0]->data;
      float *xc = x + c * np;

      for (gsize i = 0; i < np; i++)
        xc[i] = r[i] * w[i] + (1.0f - r[i]) * xc[i];
    }
}

/* The temporal terms of the whole image (on the engine's threads). */
static double
temporal_whole (const NsObjective *obj, const float *x, float *grad)
{
  int planes = obj->luminance ? 1 : 3;
  NsTensor xt = { planes, obj->h, obj->w, (float *) x };
  NsTensor gt = { planes, obj->h, obj->w, grad };
  double value = 0.0;

  for (int k = 0; k < obj->n_temporal; k++)
    value += ns_temporal_loss (&xt, obj->temporal_warped[k], obj->temporal_reliability[k],
                               obj->temporal_weight[k], grad ? &gt : NULL);
  return value;
}

/* ---- evaluations and results ---------------------------------------------------------------- */

static double
eval_untiled (NsObjective *obj, const float *x, float *grad, double parts[3])
{
  double f = obj->shallow ? ns_objective_eval_shallow (obj, x, grad, parts)
                          : eval_whole (obj, x, grad, parts);

  return obj->n_temporal > 0 ? f + temporal_whole (obj, x, grad) : f;
}


typedef struct
{
  float *grad;
  int    planes, w, h;
} FullGrad;

static void
full_rows (int y0, int y1, const float *band, gsize band_plane, gpointer data)
{
  FullGrad *fg = data;

  for (int c = 0; c < fg->planes; c++)
    memcpy (fg->grad + ((gsize) c * fg->h + y0) * fg->w, band + c * band_plane,
            (gsize) (y1 - y0) * fg->w * sizeof (float));
}

/* Evaluations allocate the same large buffers every time: they are kept between them
 * (tensor.c), for fresh pages from the kernel cost a third of a run's time. */
static NsBufferCache *
buffers_use (NsObjective *obj)
{
  if (obj->buffers == NULL)
    obj->buffers = ns_buffer_cache_new (obj->buffer_slack);
  return ns_buffer_cache_use (obj->buffers);
}

double
ns_objective_eval (NsObjective *obj, const float *x, float *grad, double parts[3])
{
  FullGrad fg = { grad, obj->luminance ? 1 : 3, obj->w, obj->h };
  NsBufferCache *outer = buffers_use (obj);
  double f;

  /* A cancelled run stops at its next evaluation: an optimiser's line search makes many of
   * them before it reports an iteration. */
  if (obj->plan == NULL)
    f = ns_objective_cancelled (obj) ? NAN : eval_untiled (obj, x, grad, parts);
  else
    f = ns_objective_eval_tiled (obj, x, grad ? full_rows : NULL, &fg, parts);
  ns_buffer_cache_use (outer);
  return f;
}

double
ns_objective_eval_rows (NsObjective *obj, const float *x, NsRowsFunc rows, gpointer data,
                        double parts[3])
{
  NsBufferCache *outer;
  double f;

  g_return_val_if_fail (rows != NULL, NAN);

  outer = buffers_use (obj);
  if (obj->plan == NULL)
    {
      g_autofree float *grad = g_new (float, ns_objective_len (obj));

      f = eval_untiled (obj, x, grad, parts);
      rows (0, obj->h, grad, (gsize) obj->w * obj->h, data);
    }
  else
    f = ns_objective_eval_tiled (obj, x, rows, data, parts);
  ns_buffer_cache_use (outer);
  return f;
}

NsImage *
ns_objective_image (const NsObjective *obj, const float *x)
{
  gsize n = ns_objective_len (obj);
  g_autoptr (NsTensor) t = ns_tensor_new (obj->luminance ? 1 : 3, obj->h, obj->w);

  for (gsize i = 0; i < n; i++)
    t->data[i] = CLAMP (x[i], 0.0f, 1.0f);
  if (obj->luminance && obj->content == NULL)
    {
      /* Tiled: the content's chroma straight from its image (ns_color_merge_luminance). */
      const NsImage *img = obj->content_image;
      NsImage *out = ns_image_new (obj->w, obj->h, 3);
      gsize np = (gsize) obj->w * obj->h;

      for (gsize i = 0; i < np; i++)
        {
          const float *p = img->data + i * img->channels;
          int g = img->channels == 3 ? 1 : 0, b = img->channels == 3 ? 2 : 0;
          float dy = t->data[i] - (0.299f * p[0] + 0.587f * p[g] + 0.114f * p[b]);

          out->data[3 * i] = CLAMP (p[0] + dy, 0.0f, 1.0f);
          out->data[3 * i + 1] = CLAMP (p[g] + dy, 0.0f, 1.0f);
          out->data[3 * i + 2] = CLAMP (p[b] + dy, 0.0f, 1.0f);
        }
      return out;
    }
  if (obj->luminance)
    {
      g_autoptr (NsTensor) merged = ns_color_merge_luminance (t, obj->content);

      for (gsize i = 0; i < ns_tensor_len (merged); i++)
        merged->data[i] = CLAMP (merged->data[i], 0.0f, 1.0f);
      return ns_color_tensor_to_image (merged);
    }
  return ns_color_tensor_to_image (t);
}

void
ns_objective_size (const NsObjective *obj, int *width, int *height)
{
  *width = obj->w;
  *height = obj->h;
}

NsImage *
ns_objective_take_image (const NsObjective *obj, float *x)
{
  gsize n = (gsize) obj->w * obj->h;
  NsImage *image;

  if (obj->luminance)
    {
      image = ns_objective_image (obj, x);
      g_free (x);
      return image;
    }
  /* Clamped and interleaved in place: at the largest sizes there is no room for a copy. */
  for (gsize i = 0; i < 3 * n; i++)
    x[i] = CLAMP (x[i], 0.0f, 1.0f);
  ns_planes_interleave (x, 3, n);
  image = g_new0 (NsImage, 1);
  image->width = obj->w;
  image->height = obj->h;
  image->channels = 3;
  image->data = x;
  return image;
}
