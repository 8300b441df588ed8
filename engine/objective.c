/* objective.c — the total loss of an image and its gradient: the targets of one run
 * (content features, blended style Grams) and the chain image → network → losses.
 *
 * Large images are evaluated in tiles (see tiling.c for why a crop with a halo gives the
 * exact features of its core).  Every loss stays global: pass 1 runs every tile forward
 * and adds up F·Fᵀ over the cores into one Gram matrix per style layer (never per-tile
 * targets); pass 2 runs each tile again, puts the style gradient from the global Gram and
 * the content gradient on its core, and back-propagates to the crop, whose input gradient
 * is added into the image's gradient.  The gradient is handed out in bands of rows as soon
 * as no later tile can add to them, so a caller may even update x there and then. */
#include <math.h>
#include <string.h>
#include "ns-internal.h"

typedef struct
{
  int     index;          /* layer */
  double  weight;         /* β · w_l, with the layer's normalisation */
  float  *gram;           /* blended target, c×c (of the scaled features, see scale) */
  int     c;
  float  *scale;          /* per-channel gains applied before the Gram, or NULL */
} StyleTerm;

struct _NsObjective
{
  NsNetwork  *net;
  NsOptions  *opt;
  int         w, h;
  gboolean    luminance;         /* x is 1×h×w luminance */
  NsTensor   *content;           /* 3×h×w, [0,1] */
  NsTensor   *content_y;         /* 1×h×w, luminance mode only */
  int         content_index;
  double      content_weight;
  NsTensor   *content_target;   /* scaled by content_scale when that is set */
  float      *content_scale;    /* per-channel gains, or NULL */
  int         n_style;
  StyleTerm  *style;
  int         last;              /* deepest layer any loss needs */

  /* Tiled mode (plan != NULL).  The content is then read from content_image (not copied
   * when borrowed) and content targets are kept per tile or recomputed per evaluation. */
  NsTilePlan    *plan;
  gboolean      *hooked;           /* per layer: a loss reads it */
  const NsImage *content_image;
  NsImage       *content_owned;
  NsTensor     **tile_targets;     /* per tile: content-layer core features, or NULL */
  const gint    *cancel;           /* see NsObjectiveConfig */
  float        **style_d;          /* per style term: the scaled (D + Dᵀ) of pass 1 */
  double        *style_alpha;      /* per style term: 2·weight / (c²·C·H·W) */
  NsBufferCache *buffers;          /* evaluations' large buffers, kept between them */
};

static gboolean *hooked_layers (const NsObjective *obj, gboolean content, gboolean style);
static gboolean  setup_tiled   (NsObjective *obj, const NsImage *content,
                                const NsImage * const *styles, const double *blend,
                                int n_styles, const NsObjectiveConfig *config, GError **error);

static double
mean_square (const float *v, gsize n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += (double) v[i] * v[i];
  return n ? s / n : 0.0;
}

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

/* Gains 1 / RMS per channel, from each channel's mean square (ms, c values).  Channels
 * far fainter than the average are treated as having 1% of the average energy, so that
 * a channel the target barely uses does not get an enormous gain. */
static float *
channel_scales (const double *ms, int c)
{
  float *scale = g_new (float, c);
  double mean = 0.0;

  for (int i = 0; i < c; i++)
    mean += ms[i];
  mean /= MAX (c, 1);
  for (int i = 0; i < c; i++)
    scale[i] = (float) (1.0 / sqrt (ms[i] + 1e-2 * mean + 1e-30));
  return scale;
}

/* The style target of the scaled features: A'_ij = s_i s_j A_ij. */
static void
scale_style_term (StyleTerm *term)
{
  g_autofree double *diag = g_new (double, term->c);

  for (int i = 0; i < term->c; i++)
    diag[i] = term->gram[(gsize) i * term->c + i];
  term->scale = channel_scales (diag, term->c);
  for (int i = 0; i < term->c; i++)
    for (int j = 0; j < term->c; j++)
      term->gram[(gsize) i * term->c + j] *= term->scale[i] * term->scale[j];
}

/* Per-channel gains for the content target, which is scaled in place. */
static float *
scale_content_target (NsTensor *target)
{
  gsize hw = (gsize) target->h * target->w;
  g_autofree double *ms = g_new (double, target->c);
  float *scale;

  for (int i = 0; i < target->c; i++)
    ms[i] = mean_square (target->data + i * hw, hw);
  scale = channel_scales (ms, target->c);
  for (int i = 0; i < target->c; i++)
    for (gsize k = 0; k < hw; k++)
      target->data[i * hw + k] *= scale[i];
  return scale;
}

/* dst (+)= scale ⊙ src per channel, over the threads in chunks (a chunk may span channels). */
typedef struct
{
  float       *dst;
  const float *src, *scale;
  gsize        hw;
  gboolean     add;
} Scaled;

static void
scaled_range (gsize from, gsize to, gpointer data)
{
  const Scaled *s = data;

  while (from < to)
    {
      gsize c = from / s->hw, end = MIN (to, (c + 1) * s->hw);
      float k = s->scale[c];

      if (s->add)
        for (gsize i = from; i < end; i++)
          s->dst[i] += s->src[i] * k;
      else
        for (gsize i = from; i < end; i++)
          s->dst[i] = s->src[i] * k;
      from = end;
    }
}

static void
scaled_apply (float *dst, const NsTensor *src, const float *scale, gboolean add)
{
  Scaled s = { dst, src->data, scale, (gsize) src->h * src->w, add };

  if (s.hw > 0)
    ns_parallel_range (ns_tensor_len (src), NS_CHUNK, 1, scaled_range, &s);
}

/* A copy of f with channel i multiplied by scale[i]. */
static NsTensor *
scaled_copy (const NsTensor *f, const float *scale)
{
  NsTensor *t = ns_tensor_new_uninit (f->c, f->h, f->w);

  scaled_apply (t->data, f, scale, FALSE);
  return t;
}

/* dst += scale ⊙ src, per channel: the chain rule through scaled_copy. */
static void
add_scaled (NsTensor *dst, const NsTensor *src, const float *scale)
{
  scaled_apply (dst->data, src, scale, TRUE);
}

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

/* FALSE with an error naming the cause when a style image is too small to enlarge into any
 * texture, or its scaled size w × h is smaller than the deepest layer needs. */
static gboolean
check_style_size (const NsObjective *obj, const NsImage *style, int w, int h, GError **error)
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

/* The style image as the run sees it: scaled, and in the colour mode's space. */
static NsTensor *
prepare_style (const NsObjective *obj, const NsImage *style, GError **error)
{
  int longest = ns_style_longest (style, obj->w, obj->h, obj->opt->style_scale);
  g_autoptr (NsImage) rgb = style->channels == 3 ? ns_image_copy (style) : ns_image_to_rgb (style);
  g_autoptr (NsImage) scaled = NULL;
  g_autoptr (NsTensor) t = NULL;

  scaled = ns_image_resize_longest (rgb, longest);
  if (! check_style_size (obj, style, scaled->width, scaled->height, error))
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

/* The per-channel gains and the layer normalisation, once the targets are known. */
static void
finish_style_terms (NsObjective *obj)
{
  if (obj->net->normalize_channels)
    for (int k = 0; k < obj->n_style; k++)
      scale_style_term (&obj->style[k]);
  if (obj->net->normalize_layers)
    for (int k = 0; k < obj->n_style; k++)
      obj->style[k].weight /= mean_square (obj->style[k].gram,
                                           (gsize) obj->style[k].c * obj->style[k].c) + 1e-30;
}

/* Set-up hooks: the style Grams (blended in with weight b), or a copy of the content layer. */
typedef struct
{
  NsObjective *obj;
  double       b;
  NsTensor    *copy;
} SetupCtx;

static void
style_gram_hook (int layer, const NsTensor *f, NsTensor *grad, gpointer data)
{
  SetupCtx *ctx = data;

  for (int k = 0; k < ctx->obj->n_style; k++)
    {
      StyleTerm *term = &ctx->obj->style[k];
      g_autofree float *g = NULL;

      if (term->index != layer)
        continue;
      g = g_new (float, (gsize) f->c * f->c);
      if (term->gram == NULL)
        {
          term->c = f->c;
          term->gram = g_new0 (float, (gsize) f->c * f->c);
        }
      ns_gram (f, g);
      for (gsize i = 0; i < (gsize) f->c * f->c; i++)
        term->gram[i] += (float) (ctx->b * g[i]);
    }
}

static void
copy_hook (int layer, const NsTensor *f, NsTensor *grad, gpointer data)
{
  SetupCtx *ctx = data;

  ctx->copy = ns_tensor_copy (f);
}

static gboolean cancelled (const NsObjective *obj);

/* The styles' Grams, a forward pass each: a cancelled run stops before the next one. */
static gboolean
build_style_targets (NsObjective *obj, const NsImage * const *styles, const double *blend,
                     int n_styles, GError **error)
{
  double blend_sum = 0.0;
  g_autofree gboolean *hooked = hooked_layers (obj, FALSE, TRUE);

  for (int s = 0; s < n_styles; s++)
    blend_sum += blend ? blend[s] : 1.0;

  for (int s = 0; s < n_styles; s++)
    {
      double b = (blend ? blend[s] : 1.0) / blend_sum;
      g_autoptr (NsTensor) rgb = prepare_style (obj, styles[s], error);
      g_autoptr (NsTensor) in = NULL;
      SetupCtx ctx = { obj, b, NULL };

      if (rgb == NULL)
        return FALSE;
      if (cancelled (obj))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_CANCELLED, "The run was cancelled");
          return FALSE;
        }
      in = network_input (obj, rgb);
      /* Forward only, keeping no activations: the hook takes the Grams as they pass. */
      ns_network_pass (obj->net, in, obj->last, hooked, style_gram_hook, &ctx, NULL);
    }
  return TRUE;
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
  g_autoptr (NsTensor) in = NULL;
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
  obj->style = g_new0 (StyleTerm, obj->n_style);
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

  obj->hooked = hooked_layers (obj, TRUE, TRUE);
  for (int k = 0; k < obj->n_style; k++)
    obj->style[k].weight = obj->opt->style_weight * obj->opt->style_layers[k].weight;
  obj->content_weight = obj->opt->content_weight;
  obj->cancel = config != NULL ? config->cancel : NULL;
  if (config != NULL && config->tile > 0)
    {
      if (! setup_tiled (obj, content, styles, blend, n_styles, config, error))
        return NULL;
      return g_steal_pointer (&obj);
    }

  rgb = content->channels == 3 ? ns_image_copy (content) : ns_image_to_rgb (content);
  obj->content = ns_color_image_to_tensor (rgb);
  g_clear_pointer (&rgb, ns_image_free);
  if (obj->luminance)
    {
      obj->content_y = ns_color_luminance (obj->content);
      in = rgb_for (obj, obj->content_y->data);
    }
  else
    in = ns_tensor_copy (obj->content);
  {
    g_autoptr (NsTensor) net_in = network_input (obj, in);
    g_autofree gboolean *hooked = hooked_layers (obj, TRUE, FALSE);
    SetupCtx ctx = { obj, 0.0, NULL };

    g_clear_pointer (&in, ns_tensor_free);
    ns_network_pass (net, net_in, obj->content_index, hooked, copy_hook, &ctx, NULL);
    obj->content_target = ctx.copy;
  }
  if (net->normalize_channels)
    obj->content_scale = scale_content_target (obj->content_target);
  if (net->normalize_layers)
    obj->content_weight /= mean_square (obj->content_target->data,
                                        ns_tensor_len (obj->content_target)) + 1e-12;

  if (! build_style_targets (obj, styles, blend, n_styles, error))
    return NULL;
  finish_style_terms (obj);
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
  if (obj->net)
    ns_network_unref (obj->net);
  ns_buffer_cache_free (obj->buffers);
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

/* The content loss (target != NULL) or style loss (gram != NULL) of the channel-scaled
 * features; adds the gradient with respect to the unscaled features to grad. */
static double
scaled_loss (const NsTensor *f, const float *scale, const NsTensor *target, const float *gram,
             double weight, NsTensor *grad)
{
  g_autoptr (NsTensor) fs = scaled_copy (f, scale);
  g_autoptr (NsTensor) gs = grad ? ns_tensor_new_like (f) : NULL;
  double loss = target ? ns_content_loss (fs, target, weight, gs)
                       : ns_style_loss (fs, gram, weight, gs);

  if (grad)
    add_scaled (grad, gs, scale);
  return loss;
}

/* ---- the whole image at once -------------------------------------------------------------- */

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
              ? scaled_loss (act, obj->content_scale, obj->content_target, NULL,
                             obj->content_weight, grad)
              : ns_content_loss (act, obj->content_target, obj->content_weight, grad);
  for (int k = 0; k < obj->n_style; k++)
    {
      const StyleTerm *term = &obj->style[k];

      if (term->index != layer)
        continue;
      ctx->ls[k] = term->scale
                   ? scaled_loss (act, term->scale, NULL, term->gram, term->weight, grad)
                   : ns_style_loss (act, term->gram, term->weight, grad);
    }
}

/* The sum of the weighted content, style and TV terms; parts (may be NULL) gets them. */
static double
loss_total (double lc, double ls, double tv, double parts[3])
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

  ns_network_pass (obj->net, in, obj->last, obj->hooked, whole_hook, &ctx, g_net);
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

  return loss_total (ctx.lc, ls, ltv, parts);
}

/* ---- tiled mode: crops ------------------------------------------------------------------- */

/* Where crops come from: planar planes (1 plane = luminance, seen as grey RGB) or an
 * interleaved image of 1 or 3 channels. */
typedef struct
{
  const float       *planes;
  int                n_planes;
  const NsImage     *image;        /* when planes is NULL */
  int                w, h;
  const NsResampler *resampled;    /* when set: image is this resize of its source */
} Source;

/* The network input for crop r of src: (v − mean) / std per channel, the arithmetic of
 * ns_color_to_network. */
static NsTensor *
crop_input (const NsNetwork *net, const Source *src, const NsRect *r)
{
  int cw = r->x1 - r->x0, ch = r->y1 - r->y0;
  NsTensor *t = ns_tensor_new_uninit (3, ch, cw);

  if (src->resampled != NULL)
    {
      /* Resample just this crop, then read it as an image of the crop's size. */
      NsImage *img = ns_image_new (cw, ch, src->image->channels);
      NsRect whole = { 0, 0, cw, ch };
      Source local = { NULL, 0, img, cw, ch, NULL };

      ns_resampler_rect (src->resampled, r, img->data);
      ns_tensor_free (t);
      t = crop_input (net, &local, &whole);
      ns_image_free (img);
      return t;
    }

  for (int c = 0; c < 3; c++)
    {
      float mean = net->mean[c], inv = 1.0f / net->std[c];

      for (int y = 0; y < ch; y++)
        {
          float *d = t->data + ((gsize) c * ch + y) * cw;

          if (src->planes != NULL)
            {
              int plane = src->n_planes == 3 ? c : 0;
              const float *p = src->planes + ((gsize) plane * src->h + r->y0 + y) * src->w + r->x0;

              for (int x = 0; x < cw; x++)
                d[x] = (p[x] - mean) * inv;
            }
          else
            {
              int nc = src->image->channels;
              const float *p = src->image->data
                               + ((gsize) (r->y0 + y) * src->w + r->x0) * nc + (nc == 3 ? c : 0);

              for (int x = 0; x < cw; x++)
                d[x] = (p[(gsize) x * nc] - mean) * inv;
            }
        }
    }
  return t;
}

/* Rows per chunk when a core is copied out of a feature map: about 4 MiB at a time. */
static int
chunk_rows (int c, int cw)
{
  return MAX (1, (int) ((1u << 20) / ((gsize) MAX (c, 1) * MAX (cw, 1))));
}

/* Rows [r0, r1) of rect in every channel of t → dst (c × (r1 − r0)·width), or back (add). */
static void
rect_rows_copy (const NsTensor *t, const NsRect *rect, int r0, int r1, float *dst)
{
  int cw = rect->x1 - rect->x0;
  gsize k = (gsize) (r1 - r0) * cw;

  for (int c = 0; c < t->c; c++)
    for (int y = r0; y < r1; y++)
      memcpy (dst + c * k + (gsize) (y - r0) * cw,
              t->data + ((gsize) c * t->h + rect->y0 + y) * t->w + rect->x0, cw * sizeof (float));
}

static void
rect_rows_add (NsTensor *t, const NsRect *rect, int r0, int r1, const float *src)
{
  int cw = rect->x1 - rect->x0;
  gsize k = (gsize) (r1 - r0) * cw;

  for (int c = 0; c < t->c; c++)
    for (int y = r0; y < r1; y++)
      {
        float *d = t->data + ((gsize) c * t->h + rect->y0 + y) * t->w + rect->x0;
        const float *s = src + c * k + (gsize) (y - r0) * cw;

        for (int x = 0; x < cw; x++)
          d[x] += s[x];
      }
}

/* ---- tiled mode: what happens at the hooked layers of one tile ---------------------------- */

typedef enum
{
  TILE_CONTENT_TARGET,     /* copy the content layer's core (the target) */
  TILE_GRAM,               /* add F·Fᵀ over the core to the style Grams (and the content value) */
  TILE_GRAD                /* losses and gradients on the core */
} TileJob;

typedef struct
{
  NsObjective     *obj;
  TileJob          job;
  const NsTile    *tile;
  int              image_w, image_h;   /* of the image being tiled */
  double         **gram;               /* TILE_GRAM: per style term, c×c (upper triangle) */
  const NsTensor  *target;             /* TILE_GRAM (content value) and TILE_GRAD */
  NsTensor        *target_out;         /* TILE_CONTENT_TARGET: the core copy */
  double          *ms;                 /* TILE_CONTENT_TARGET: per channel Σ f² (may be NULL) */
  double           lc;                 /* the content loss of this core */
  float           *buf, *buf2;         /* chunk buffers */
} TileCtx;

static int
layer_stride (const NsObjective *obj, int layer)
{
  return ns_network_alignment (obj->net, layer);
}

/* N = c · H · W of the whole image's feature map at `layer`. */
static double
layer_size (const TileCtx *ctx, int layer, int c)
{
  int s = layer_stride (ctx->obj, layer);

  return (double) c * (ctx->image_h / s) * (ctx->image_w / s);
}

/* Content loss weight·Σ (s⊙F − P)² / N over the core, and its gradient into grad there. */
static double
core_content (const TileCtx *ctx, const NsTensor *act, const NsRect *core, NsTensor *grad)
{
  const NsObjective *obj = ctx->obj;
  const NsTensor *p = ctx->target;
  int cw = core->x1 - core->x0, ch = core->y1 - core->y0;
  double n = layer_size (ctx, obj->content_index, act->c), sum = 0.0;
  float k = (float) (2.0 * obj->content_weight / n);

  g_return_val_if_fail (p->c == act->c && p->h == ch && p->w == cw, NAN);
  for (int c = 0; c < act->c; c++)
    {
      float s = obj->content_scale ? obj->content_scale[c] : 1.0f;

      for (int y = 0; y < ch; y++)
        {
          gsize row = ((gsize) c * act->h + core->y0 + y) * act->w + core->x0;
          const float *f = act->data + row;
          const float *t = p->data + ((gsize) c * ch + y) * cw;

          for (int x = 0; x < cw; x++)
            {
              float fs = obj->content_scale ? f[x] * s : f[x];
              double d = (double) fs - t[x];

              sum += d * d;
              if (grad != NULL)
                grad->data[row + x] += obj->content_scale ? k * (fs - t[x]) * s : k * (fs - t[x]);
            }
        }
    }
  return obj->content_weight * sum / n;
}

static void
tile_hook (int layer, const NsTensor *act, NsTensor *grad, gpointer data)
{
  TileCtx *ctx = data;
  NsObjective *obj = ctx->obj;
  NsRect core;
  int cw, ch, rows;

  ns_tile_core_at_layer (ctx->tile, ctx->image_w, ctx->image_h, layer_stride (obj, layer), act,
                         &core, NULL);
  cw = core.x1 - core.x0;
  ch = core.y1 - core.y0;
  rows = chunk_rows (act->c, cw);

  if (layer == obj->content_index)
    {
      if (ctx->job == TILE_CONTENT_TARGET)
        {
          NsTensor *t = ns_tensor_new (act->c, ch, cw);

          for (int c = 0; c < act->c; c++)
            for (int y = 0; y < ch; y++)
              {
                const float *f = act->data + ((gsize) c * act->h + core.y0 + y) * act->w + core.x0;
                float *d = t->data + ((gsize) c * ch + y) * cw;

                memcpy (d, f, cw * sizeof (float));
                if (ctx->ms)
                  for (int x = 0; x < cw; x++)
                    ctx->ms[c] += (double) d[x] * d[x];
                if (obj->content_scale)
                  for (int x = 0; x < cw; x++)
                    d[x] *= obj->content_scale[c];
              }
          ctx->target_out = t;
        }
      else if (ctx->target != NULL)
        ctx->lc = core_content (ctx, act, &core, grad);
    }
  /* A core can be empty at a deep layer: the last pixels of an image whose size is not a
   * multiple of the pooling stride have no features there. */
  if (ctx->job == TILE_CONTENT_TARGET || cw <= 0 || ch <= 0)
    return;

  for (int k = 0; k < obj->n_style; k++)
    {
      const StyleTerm *term = &obj->style[k];

      if (term->index != layer)
        continue;
      for (int r0 = 0; r0 < ch; r0 += rows)
        {
          int r1 = MIN (ch, r0 + rows);
          int n = (r1 - r0) * cw;

          rect_rows_copy (act, &core, r0, r1, ctx->buf);
          if (ctx->job == TILE_GRAM)
            ns_gram_add (ctx->buf, act->c, n, n, 1.0 / layer_size (ctx, layer, act->c),
                         ctx->gram[k]);
          else if (grad != NULL)
            {
              ns_sgemm (FALSE, act->c, n, act->c, (float) obj->style_alpha[k], obj->style_d[k],
                        act->c, ctx->buf, n, 0.0f, ctx->buf2, n);
              rect_rows_add (grad, &core, r0, r1, ctx->buf2);
            }
        }
    }
}

/* Scratch for tile_hook: the largest chunk any hooked layer of a crop needs. */
static gsize
chunk_floats (const NsObjective *obj, int crop_w)
{
  gsize most = 1;

  for (int i = 0; i <= obj->last; i++)
    if (obj->hooked[i])
      {
        int c = ns_network_layer_channels (obj->net, i), w = crop_w / layer_stride (obj, i);

        /* A chunk is at most 2^20 floats, or one row of a core (at most w wide). */
        most = MAX (most, MAX ((gsize) 1 << 20, (gsize) c * MAX (w, 1)));
      }
  return most;
}

/* ---- tiled mode: the passes ------------------------------------------------------------------ */

static gboolean *
hooked_layers (const NsObjective *obj, gboolean content, gboolean style)
{
  gboolean *h = g_new0 (gboolean, obj->last + 1);

  if (content)
    h[obj->content_index] = TRUE;
  for (int k = 0; style && k < obj->n_style; k++)
    h[obj->style[k].index] = TRUE;
  return h;
}

/* The content target of one tile: its core at the content layer (scaled by the channel
 * gains when those are known).  ms, if not NULL, gets Σ f² per channel added. */
static NsTensor *
tile_content_target (NsObjective *obj, const Source *content, const NsTile *tile, double *ms)
{
  g_autofree gboolean *hooked = hooked_layers (obj, TRUE, FALSE);
  g_autoptr (NsTensor) in = crop_input (obj->net, content, &tile->crop);
  TileCtx ctx = { 0 };

  ctx.obj = obj;
  ctx.job = TILE_CONTENT_TARGET;
  ctx.tile = tile;
  ctx.image_w = content->w;
  ctx.image_h = content->h;
  ctx.ms = ms;
  ns_network_pass (obj->net, in, obj->content_index, hooked, tile_hook, &ctx, NULL);
  return ctx.target_out;
}

static Source
content_source (const NsObjective *obj)
{
  Source src = { NULL, 0, obj->content_image, obj->w, obj->h };

  if (obj->luminance)
    {
      src.planes = obj->content_y->data;
      src.n_planes = 1;
    }
  return src;
}

/* An evaluation of a large image takes minutes: a cancelled run stops between tiles. */
static gboolean
cancelled (const NsObjective *obj)
{
  return obj->cancel != NULL && g_atomic_int_get (obj->cancel);
}

/* Pass 1 over src (tiled by plan): style Grams (c×c, full, / (C·H·W)) in gram_out; with
 * content_value also the content loss, returned.  */
static double
tiled_grams (NsObjective *obj, const Source *src, const NsTilePlan *plan, gboolean content_value,
             float **gram_out)
{
  g_autofree gboolean *hooked = hooked_layers (obj, content_value, TRUE);
  double **acc = g_new0 (double *, MAX (obj->n_style, 1));
  int crop_w, last = 0;
  float *buf;
  double lc = 0.0;
  Source content = content_source (obj);

  for (int k = 0; k < obj->n_style; k++)
    {
      gsize cc = (gsize) obj->style[k].c * obj->style[k].c;

      acc[k] = g_new0 (double, cc);
      last = MAX (last, obj->style[k].index);
    }
  if (content_value)
    last = MAX (last, obj->content_index);
  ns_tile_plan_max_crop (plan, &crop_w, NULL);
  buf = ns_floats_new (chunk_floats (obj, crop_w));

  for (int t = 0; t < plan->n && ! cancelled (obj); t++)
    {
      const NsTile *tile = &plan->tiles[t];
      g_autoptr (NsTensor) in = crop_input (obj->net, src, &tile->crop);
      g_autoptr (NsTensor) target = NULL;
      TileCtx ctx = { 0 };

      if (content_value && obj->tile_targets != NULL)
        ctx.target = obj->tile_targets[t];
      else if (content_value)
        ctx.target = target = tile_content_target (obj, &content, tile, NULL);
      ctx.obj = obj;
      ctx.job = TILE_GRAM;
      ctx.tile = tile;
      ctx.image_w = src->w;
      ctx.image_h = src->h;
      ctx.gram = acc;
      ctx.buf = buf;
      ns_network_pass (obj->net, in, last, hooked, tile_hook, &ctx, NULL);
      lc += ctx.lc;
    }

  for (int k = 0; k < obj->n_style; k++)
    {
      ns_gram_store (acc[k], obj->style[k].c, gram_out[k]);
      g_free (acc[k]);
    }
  g_free (acc);
  ns_floats_free (buf);
  return lc;
}

/* Style loss from the global Grams, and the matrices pass 2 needs: the gradient of term k
 * at the features F is style_alpha[k] · style_d[k] · F (ns_style_loss's formula, with the
 * channel gains folded in). */
static double
style_from_grams (NsObjective *obj, float **grams)
{
  double total = 0.0;

  for (int k = 0; k < obj->n_style; k++)
    {
      const StyleTerm *term = &obj->style[k];
      int c = term->c;
      gsize cc = (gsize) c * c;
      float *d = obj->style_d[k];
      double sum = 0.0;

      for (gsize i = 0; i < cc; i++)
        {
          float g = grams[k][i];
          double diff;

          if (term->scale)
            g = g * term->scale[i / c] * term->scale[i % c];
          diff = (double) g - term->gram[i];
          sum += diff * diff;
          d[i] = (float) diff;
        }
      total += term->weight * sum / (double) cc;
      for (int i = 0; i < c; i++)
        {
          d[(gsize) i * c + i] *= 2.0f;
          for (int j = i + 1; j < c; j++)
            {
              float v = d[(gsize) i * c + j] + d[(gsize) j * c + i];

              d[(gsize) i * c + j] = d[(gsize) j * c + i] = v;
            }
        }
      if (term->scale)
        for (int i = 0; i < c; i++)
          for (int j = 0; j < c; j++)
            d[(gsize) i * c + j] *= term->scale[i] * term->scale[j];
    }
  return total;
}

/* The TV pairs whose upper or left pixel lies in rows [y0, y1): returns Σ d² (unweighted)
 * and adds scale · d to the band's gradient (ns_tv_loss's arithmetic), when band is set. */
static double
tv_rows (const float *x, int planes, int w, int h, int y0, int y1, float scale,
         float *band, int band_y0, gsize band_plane)
{
  double sum = 0.0;

  for (int c = 0; c < planes; c++)
    for (int y = y0; y < y1; y++)
      {
        const float *row = x + ((gsize) c * h + y) * w;
        const float *below = y + 1 < h ? row + w : NULL;
        float *grow = band ? band + c * band_plane + (gsize) (y - band_y0) * w : NULL;

        for (int i = 0; i < w; i++)
          {
            if (i + 1 < w)
              {
                double dx = (double) row[i] - row[i + 1];

                sum += dx * dx;
                if (grow)
                  {
                    grow[i] += scale * (float) dx;
                    grow[i + 1] -= scale * (float) dx;
                  }
              }
            if (below)
              {
                double dy = (double) row[i] - below[i];

                sum += dy * dy;
                if (grow)
                  {
                    grow[i] += scale * (float) dy;
                    grow[i + w] -= scale * (float) dy;
                  }
              }
          }
      }
  return sum;
}

/* The gradient of one crop's network input, pulled back to x's planes (÷ std, and summed
 * over R, G, B in luminance mode), added into the band. */
static void
add_crop_gradient (const NsObjective *obj, const NsTensor *g_net, const NsRect *crop,
                   float *band, int band_y0, gsize band_plane)
{
  int cw = crop->x1 - crop->x0, ch = crop->y1 - crop->y0, w = obj->w;
  gsize n = (gsize) cw * ch;
  float inv[3];

  for (int c = 0; c < 3; c++)
    inv[c] = 1.0f / obj->net->std[c];
  for (int y = 0; y < ch; y++)
    for (int x = 0; x < cw; x++)
      {
        gsize i = (gsize) y * cw + x;
        gsize o = (gsize) (crop->y0 + y - band_y0) * w + crop->x0 + x;

        if (obj->luminance)
          band[o] += g_net->data[i] * inv[0] + g_net->data[n + i] * inv[1]
                     + g_net->data[2 * n + i] * inv[2];
        else
          for (int c = 0; c < 3; c++)
            band[c * band_plane + o] += g_net->data[c * n + i] * inv[c];
      }
}

static double
eval_tiled (NsObjective *obj, const float *x, NsRowsFunc rows_func, gpointer rows_data,
            double parts[3])
{
  const NsTilePlan *plan = obj->plan;
  int planes = obj->luminance ? 1 : 3;
  Source src = { x, planes, NULL, obj->w, obj->h };
  Source content = content_source (obj);
  float **grams = g_new0 (float *, MAX (obj->n_style, 1));
  double lc = 0.0, ls, tv = 0.0, tv_n = (double) planes * obj->w * obj->h;
  float tv_scale = (float) (2.0 * obj->opt->tv_weight / tv_n);
  g_autofree gboolean *hooked = hooked_layers (obj, TRUE, TRUE);
  int band_cap, band_y0 = 0, crop_w;
  gsize band_plane;
  float *band, *buf, *buf2;

  for (int k = 0; k < obj->n_style; k++)
    grams[k] = ns_floats_new ((gsize) obj->style[k].c * obj->style[k].c);
  /* Pass 1: the global Grams (and, without a gradient, the content loss). */
  lc = tiled_grams (obj, &src, plan, rows_func == NULL, grams);
  ls = style_from_grams (obj, grams);
  for (int k = 0; k < obj->n_style; k++)
    ns_floats_free (grams[k]);
  g_free (grams);
  if (cancelled (obj))
    return NAN;

  if (rows_func == NULL)
    {
      tv = tv_rows (x, planes, obj->w, obj->h, 0, obj->h, 0.0f, NULL, 0, 0);
      return loss_total (lc, ls, obj->opt->tv_weight * tv / tv_n, parts);
    }

  /* Pass 2, tile row by tile row.  The band holds the gradient of rows [band_y0, …):
   * at most a tile and two halos, plus the row below for the TV pairs. */
  band_cap = MIN (obj->h, plan->tile + 2 * plan->halo + 1);
  band_plane = (gsize) band_cap * obj->w;
  band = ns_floats_new (planes * band_plane);
  ns_tile_plan_max_crop (plan, &crop_w, NULL);
  buf = ns_floats_new (chunk_floats (obj, crop_w));
  buf2 = ns_floats_new (chunk_floats (obj, crop_w));
  for (int r = 0; r < plan->rows; r++)
    {
      const NsTile *first = &plan->tiles[r * plan->cols];
      int done;

      if (cancelled (obj))
        {
          /* The rows not yet handed out keep their x; the caller sees NaN and stops. */
          ns_floats_free (buf2);
          ns_floats_free (buf);
          ns_floats_free (band);
          return NAN;
        }
      for (int col = 0; col < plan->cols; col++)
        {
          int t = r * plan->cols + col;
          const NsTile *tile = &plan->tiles[t];
          g_autoptr (NsTensor) in = crop_input (obj->net, &src, &tile->crop);
          /* ns_network_pass writes every element of it. */
          g_autoptr (NsTensor) g_net = ns_tensor_new_uninit (in->c, in->h, in->w);
          g_autoptr (NsTensor) target = NULL;
          TileCtx ctx = { 0 };

          if (obj->tile_targets == NULL)
            target = tile_content_target (obj, &content, tile, NULL);
          ctx.obj = obj;
          ctx.job = TILE_GRAD;
          ctx.tile = tile;
          ctx.image_w = obj->w;
          ctx.image_h = obj->h;
          ctx.target = target ? target : obj->tile_targets[t];
          ctx.buf = buf;
          ctx.buf2 = buf2;
          ns_network_pass (obj->net, in, obj->last, hooked, tile_hook, &ctx, g_net);
          lc += ctx.lc;
          g_assert (tile->crop.y0 >= band_y0 && tile->crop.y1 - band_y0 <= band_cap);
          add_crop_gradient (obj, g_net, &tile->crop, band, band_y0, band_plane);
        }
      /* TV of this tile row's core rows: they and the row below are still unchanged. */
      tv += tv_rows (x, planes, obj->w, obj->h, first->core.y0, first->core.y1, tv_scale,
                     band, band_y0, band_plane);

      /* Rows above the next tile row's crop get nothing more, and no later tile reads them. */
      done = r + 1 < plan->rows ? plan->tiles[(r + 1) * plan->cols].crop.y0 : obj->h;
      if (done > band_y0)
        {
          int keep = band_cap - (done - band_y0);

          rows_func (band_y0, done, band, band_plane, rows_data);
          for (int c = 0; c < planes; c++)
            {
              float *p = band + c * band_plane;

              memmove (p, p + (gsize) (done - band_y0) * obj->w, (gsize) keep * obj->w * sizeof (float));
              memset (p + (gsize) keep * obj->w, 0, (gsize) (done - band_y0) * obj->w * sizeof (float));
            }
          band_y0 = done;
        }
    }
  ns_floats_free (buf2);
  ns_floats_free (buf);
  ns_floats_free (band);

  return loss_total (lc, ls, obj->opt->tv_weight * tv / tv_n, parts);
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
    obj->buffers = ns_buffer_cache_new ();
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
    f = cancelled (obj) ? NAN : eval_whole (obj, x, grad, parts);
  else
    f = eval_tiled (obj, x, grad ? full_rows : NULL, &fg, parts);
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

      f = eval_whole (obj, x, grad, parts);
      rows (0, obj->h, grad, (gsize) obj->w * obj->h, data);
    }
  else
    f = eval_tiled (obj, x, rows, data, parts);
  ns_buffer_cache_use (outer);
  return f;
}

/* ---- tiled mode: set-up ---------------------------------------------------------------------- */

/* Content targets per tile (kept if config says so) and the statistics the channel and
 * layer normalisations need, over all tiles. */
static void
setup_content (NsObjective *obj, gboolean keep)
{
  Source content = content_source (obj);
  int s = layer_stride (obj, obj->content_index);
  double hw = (double) (obj->h / s) * (obj->w / s);
  int c = ns_network_layer_channels (obj->net, obj->content_index);
  double *ms = g_new0 (double, c);

  if (keep)
    obj->tile_targets = g_new0 (NsTensor *, obj->plan->n);
  for (int t = 0; t < obj->plan->n && ! cancelled (obj); t++)
    {
      NsTensor *target = tile_content_target (obj, &content, &obj->plan->tiles[t], ms);
      if (keep)
        obj->tile_targets[t] = target;
      else
        ns_tensor_free (target);
    }
  for (int i = 0; i < c; i++)
    ms[i] /= hw;

  if (obj->net->normalize_channels)
    {
      obj->content_scale = channel_scales (ms, c);
      for (int t = 0; keep && t < obj->plan->n; t++)
        {
          NsTensor *p = obj->tile_targets[t];
          gsize n = (gsize) p->h * p->w;

          for (int i = 0; i < c; i++)
            for (gsize k = 0; k < n; k++)
              p->data[i * n + k] *= obj->content_scale[i];
        }
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

/* The blended style Grams, each style image run through tiles of the same size. */
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
      float **grams = g_new0 (float *, MAX (obj->n_style, 1));
      Source src = { 0 };

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
          if (! check_style_size (obj, style, src.w, src.h, error))
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
          planar = prepare_style (obj, styles[s], error);
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
      for (int k = 0; k < obj->n_style; k++)
        grams[k] = ns_floats_new ((gsize) obj->style[k].c * obj->style[k].c);
      tiled_grams (obj, &src, plan, FALSE, grams);
      for (int k = 0; k < obj->n_style; k++)
        {
          for (gsize i = 0; i < (gsize) obj->style[k].c * obj->style[k].c; i++)
            obj->style[k].gram[i] += (float) (b * grams[k][i]);
          ns_floats_free (grams[k]);
        }
      g_free (grams);
    }
  return TRUE;
}

static gboolean
setup_tiled (NsObjective *obj, const NsImage *content, const NsImage * const *styles,
             const double *blend, int n_styles, const NsObjectiveConfig *config, GError **error)
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
  if (cancelled (obj))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_CANCELLED, "The run was cancelled");
      return FALSE;
    }
  g_clear_pointer (&obj->content, ns_tensor_free);
  finish_style_terms (obj);

  obj->style_d = g_new0 (float *, MAX (obj->n_style, 1));
  obj->style_alpha = g_new0 (double, MAX (obj->n_style, 1));
  for (int k = 0; k < obj->n_style; k++)
    {
      int s = layer_stride (obj, obj->style[k].index);
      double cc = (double) obj->style[k].c * obj->style[k].c;
      double n = (double) obj->style[k].c * (obj->h / s) * (obj->w / s);

      obj->style_d[k] = ns_floats_new ((gsize) obj->style[k].c * obj->style[k].c);
      obj->style_alpha[k] = 2.0 * obj->style[k].weight / (cc * n);
    }
  return TRUE;
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
