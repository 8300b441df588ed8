/* objective.c — the total loss of an image and its gradient: the targets of one run
 * (content features, blended style Grams) and the chain image → network → losses. */
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
};

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

/* A copy of f with channel i multiplied by scale[i]. */
static NsTensor *
scaled_copy (const NsTensor *f, const float *scale)
{
  NsTensor *t = ns_tensor_new_like (f);
  gsize hw = (gsize) f->h * f->w;

  for (int i = 0; i < f->c; i++)
    for (gsize k = 0; k < hw; k++)
      t->data[i * hw + k] = f->data[i * hw + k] * scale[i];
  return t;
}

/* dst += scale ⊙ src, per channel: the chain rule through scaled_copy. */
static void
add_scaled (NsTensor *dst, const NsTensor *src, const float *scale)
{
  gsize hw = (gsize) src->h * src->w;

  for (int i = 0; i < src->c; i++)
    for (gsize k = 0; k < hw; k++)
      dst->data[i * hw + k] += src->data[i * hw + k] * scale[i];
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

/* The style image as the run sees it: scaled, and in the colour mode's space. */
static NsTensor *
prepare_style (const NsObjective *obj, const NsImage *style, GError **error)
{
  int longest = (int) lround (MAX (obj->w, obj->h) * obj->opt->style_scale);
  g_autoptr (NsImage) rgb = style->channels == 3 ? ns_image_copy (style) : ns_image_to_rgb (style);
  g_autoptr (NsImage) scaled = NULL;
  g_autoptr (NsTensor) t = NULL;
  int min_side = 1 << ns_network_layer_stride_log2 (obj->net, obj->last);

  scaled = ns_image_resize_longest (rgb, MAX (longest, 1));
  if (scaled == NULL || scaled->width < min_side || scaled->height < min_side)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "A style image at style scale %.2f would be smaller than %d×%d pixels, "
                   "the least the style layers need; use a larger style scale or style image",
                   obj->opt->style_scale, min_side, min_side);
      return NULL;
    }
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

static gboolean
build_style_targets (NsObjective *obj, const NsImage * const *styles, const double *blend,
                     int n_styles, GError **error)
{
  double blend_sum = 0.0;

  for (int s = 0; s < n_styles; s++)
    blend_sum += blend ? blend[s] : 1.0;

  for (int s = 0; s < n_styles; s++)
    {
      double b = (blend ? blend[s] : 1.0) / blend_sum;
      g_autoptr (NsTensor) rgb = prepare_style (obj, styles[s], error);
      g_autoptr (NsTensor) in = NULL;
      g_autoptr (NsActivations) acts = NULL;

      if (rgb == NULL)
        return FALSE;
      in = network_input (obj, rgb);
      acts = ns_network_forward (obj->net, in, obj->last);
      for (int k = 0; k < obj->n_style; k++)
        {
          StyleTerm *term = &obj->style[k];
          const NsTensor *f = acts->act[term->index];
          g_autofree float *g = g_new (float, (gsize) f->c * f->c);

          if (term->gram == NULL)
            {
              term->c = f->c;
              term->gram = g_new0 (float, (gsize) f->c * f->c);
            }

          ns_gram (f, g);
          for (gsize i = 0; i < (gsize) f->c * f->c; i++)
            term->gram[i] += (float) (b * g[i]);
        }
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
  g_autoptr (NsObjective) obj = g_new0 (NsObjective, 1);
  g_autoptr (NsImage) rgb = NULL;
  g_autoptr (NsTensor) in = NULL;
  g_autoptr (NsActivations) acts = NULL;
  int min_side;

  obj->net = ns_network_ref ((NsNetwork *) net);
  obj->opt = ns_options_copy (options);
  ns_options_apply_network_defaults (obj->opt, net);
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

  rgb = content->channels == 3 ? ns_image_copy (content) : ns_image_to_rgb (content);
  obj->content = ns_color_image_to_tensor (rgb);
  if (obj->luminance)
    {
      obj->content_y = ns_color_luminance (obj->content);
      in = rgb_for (obj, obj->content_y->data);
    }
  else
    in = ns_tensor_copy (obj->content);
  {
    g_autoptr (NsTensor) net_in = network_input (obj, in);

    acts = ns_network_forward (net, net_in, obj->last);
    obj->content_target = ns_tensor_copy (acts->act[obj->content_index]);
    g_clear_pointer (&acts, ns_activations_free);
  }
  if (net->normalize_channels)
    obj->content_scale = scale_content_target (obj->content_target);
  obj->content_weight = obj->opt->content_weight;
  if (net->normalize_layers)
    obj->content_weight /= mean_square (obj->content_target->data,
                                        ns_tensor_len (obj->content_target)) + 1e-12;

  for (int k = 0; k < obj->n_style; k++)
    obj->style[k].weight = obj->opt->style_weight * obj->opt->style_layers[k].weight;
  if (! build_style_targets (obj, styles, blend, n_styles, error))
    return NULL;
  if (net->normalize_channels)
    for (int k = 0; k < obj->n_style; k++)
      scale_style_term (&obj->style[k]);
  if (net->normalize_layers)
    for (int k = 0; k < obj->n_style; k++)
      obj->style[k].weight /= mean_square (obj->style[k].gram,
                                           (gsize) obj->style[k].c * obj->style[k].c) + 1e-30;
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
  g_free (obj->style);
  ns_tensor_free (obj->content);
  ns_tensor_free (obj->content_y);
  ns_tensor_free (obj->content_target);
  ns_options_free (obj->opt);
  if (obj->net)
    ns_network_unref (obj->net);
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
  else
    memcpy (x, obj->luminance ? obj->content_y->data : obj->content->data, n * sizeof (float));
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

double
ns_objective_eval (NsObjective *obj, const float *x, float *grad, double parts[3])
{
  g_autoptr (NsTensor) rgb = rgb_for (obj, x);
  g_autoptr (NsTensor) in = network_input (obj, rgb);
  g_autoptr (NsActivations) acts = ns_network_forward (obj->net, in, obj->last);
  NsTensor **grads = g_new0 (NsTensor *, obj->net->n_layers);
  double lc, ls = 0.0, ltv;
  NsTensor *gc = NULL;

  if (grad)
    gc = grads[obj->content_index] = ns_tensor_new_like (acts->act[obj->content_index]);
  if (obj->content_scale)
    lc = scaled_loss (acts->act[obj->content_index], obj->content_scale, obj->content_target,
                      NULL, obj->content_weight, gc);
  else
    lc = ns_content_loss (acts->act[obj->content_index], obj->content_target,
                          obj->content_weight, gc);
  for (int k = 0; k < obj->n_style; k++)
    {
      const StyleTerm *term = &obj->style[k];
      int i = term->index;
      NsTensor *gs = NULL;

      if (grad)
        {
          if (grads[i] == NULL)
            grads[i] = ns_tensor_new_like (acts->act[i]);
          gs = grads[i];
        }
      if (term->scale)
        ls += scaled_loss (acts->act[i], term->scale, NULL, term->gram, term->weight, gs);
      else
        ls += ns_style_loss (acts->act[i], term->gram, term->weight, gs);
    }

  if (grad)
    {
      g_autoptr (NsTensor) g_net = ns_tensor_new_like (in);
      g_autoptr (NsTensor) g_rgb = ns_tensor_new_like (in);

      ns_network_backward (obj->net, acts, grads, g_net);
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

  for (int i = 0; i < obj->net->n_layers; i++)
    ns_tensor_free (grads[i]);
  g_free (grads);
  if (parts)
    {
      parts[0] = lc;
      parts[1] = ls;
      parts[2] = ltv;
    }
  return lc + ls + ltv;
}

NsImage *
ns_objective_image (const NsObjective *obj, const float *x)
{
  gsize n = ns_objective_len (obj);
  g_autoptr (NsTensor) t = ns_tensor_new (obj->luminance ? 1 : 3, obj->h, obj->w);

  for (gsize i = 0; i < n; i++)
    t->data[i] = CLAMP (x[i], 0.0f, 1.0f);
  if (obj->luminance)
    {
      g_autoptr (NsTensor) merged = ns_color_merge_luminance (t, obj->content);

      for (gsize i = 0; i < ns_tensor_len (merged); i++)
        merged->data[i] = CLAMP (merged->data[i], 0.0f, 1.0f);
      return ns_color_tensor_to_image (merged);
    }
  return ns_color_tensor_to_image (t);
}
