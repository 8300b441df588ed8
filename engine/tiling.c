/* tiling.c — tiles with a halo, and a memory-lean pass through the network.
 *
 * A feature at some position depends only on the input pixels within the receptive-field
 * radius around it, so a crop of the image that extends at least that radius beyond a
 * tile's "core" gives exactly the full image's features at every core position (provided
 * the crop starts on the pooling grid, so that its 2×2 windows are the full image's).
 * Losses summed over the cores of a tiling are therefore those of the whole image, and
 * back-propagating each core's loss gradient through its crop and adding the crops' input
 * gradients gives the whole image's gradient: the halo overlaps add up exactly as the
 * chain rule adds them in the full image.
 *
 * The lean pass keeps, for the backward pass, only what the input gradient needs: one bit
 * per ReLU output (was it positive) and one byte per max-pooling window (which input won);
 * convolutions need no activations at all for the input gradient.  Losses are computed by
 * a hook as each hooked layer is reached; it returns the loss gradient for that layer,
 * which is all that is kept of it.  Peak memory is then two consecutive activations plus
 * the hooks' gradients, instead of every activation. */

#include "ns-internal.h"

/* ---- geometry ------------------------------------------------------------------------------ */

static gboolean
is_pool (NsLayerKind kind)
{
  return kind == NS_LAYER_MAXPOOL || kind == NS_LAYER_AVGPOOL;
}

/* Only these kinds are known to be local in the way described above (CONV_KEEP: a 3×3
 * convolution next to channels passed through). */
static gboolean
is_conv (NsLayerKind kind)
{
  return kind == NS_LAYER_CONV || kind == NS_LAYER_CONV_KEEP;
}

static gboolean
tileable_kind (NsLayerKind kind)
{
  return is_conv (kind) || kind == NS_LAYER_RELU || is_pool (kind);
}

/* Output channels of a layer with c input channels. */
static int
out_channels (const NsLayer *l, int c)
{
  if (l->kind == NS_LAYER_CONV)
    return l->conv.cout;
  if (l->kind == NS_LAYER_CONV_KEEP)
    return l->conv.cout + l->keep_count;
  return c;
}

int
ns_network_receptive_radius (const NsNetwork *net, int last)
{
  int radius = 0, stride = 1;

  for (int i = 0; i <= last && i < net->n_layers; i++)
    {
      NsLayerKind kind = net->layers[i].kind;

      if (! tileable_kind (kind))
        return -1;
      /* A 3×3 convolution reaches one position further each way at the current stride; a
       * 2×2 window one further to the right and below. */
      if (is_conv (kind) || is_pool (kind))
        radius += stride;
      if (is_pool (kind))
        stride *= 2;
    }
  return radius;
}

int
ns_network_alignment (const NsNetwork *net, int last)
{
  return 1 << ns_network_layer_stride_log2 (net, last + 1);
}

int
ns_network_halo (const NsNetwork *net, int last)
{
  int radius = ns_network_receptive_radius (net, last);
  int align = MAX (ns_network_alignment (net, last), NS_TILE_HALO_ALIGN);

  if (radius < 0)
    return -1;
  return (radius + align - 1) / align * align;
}

NsTilePlan *
ns_tile_plan_new (int width, int height, int tile, int halo)
{
  NsTilePlan *plan;

  g_return_val_if_fail (width > 0 && height > 0 && tile > 0 && halo >= 0, NULL);

  plan = g_new0 (NsTilePlan, 1);
  plan->width = width;
  plan->height = height;
  plan->tile = tile;
  plan->halo = halo;
  plan->cols = (width + tile - 1) / tile;
  plan->rows = (height + tile - 1) / tile;
  plan->n = plan->cols * plan->rows;
  plan->tiles = g_new (NsTile, plan->n);
  for (int r = 0; r < plan->rows; r++)
    for (int c = 0; c < plan->cols; c++)
      {
        NsTile *t = &plan->tiles[r * plan->cols + c];

        t->core.x0 = c * tile;
        t->core.y0 = r * tile;
        t->core.x1 = MIN (width, (c + 1) * tile);
        t->core.y1 = MIN (height, (r + 1) * tile);
        t->crop.x0 = MAX (0, t->core.x0 - halo);
        t->crop.y0 = MAX (0, t->core.y0 - halo);
        t->crop.x1 = MIN (width, t->core.x1 + halo);
        t->crop.y1 = MIN (height, t->core.y1 + halo);
      }
  return plan;
}

void
ns_tile_plan_free (NsTilePlan *plan)
{
  if (plan == NULL)
    return;
  g_free (plan->tiles);
  g_free (plan);
}

int
ns_tile_plan_max_crop (const NsTilePlan *plan, int *crop_w, int *crop_h)
{
  int mw = 0, mh = 0;

  for (int i = 0; i < plan->n; i++)
    {
      mw = MAX (mw, plan->tiles[i].crop.x1 - plan->tiles[i].crop.x0);
      mh = MAX (mh, plan->tiles[i].crop.y1 - plan->tiles[i].crop.y0);
    }
  if (crop_w)
    *crop_w = mw;
  if (crop_h)
    *crop_h = mh;
  return mw * mh;
}

void
ns_tile_core_at_layer (const NsTile *tile, int image_w, int image_h, int stride,
                       const NsTensor *act, NsRect *local, NsRect *global)
{
  int ox = tile->crop.x0 / stride, oy = tile->crop.y0 / stride;

  /* Interior core edges lie on the tile grid, a multiple of every stride; at the image's
   * right and bottom edges the crop ends with the image, and so do its feature maps. */
  local->x0 = tile->core.x0 / stride - ox;
  local->y0 = tile->core.y0 / stride - oy;
  local->x1 = tile->core.x1 == image_w ? act->w : tile->core.x1 / stride - ox;
  local->y1 = tile->core.y1 == image_h ? act->h : tile->core.y1 / stride - oy;
  if (global)
    {
      global->x0 = local->x0 + ox;
      global->y0 = local->y0 + oy;
      global->x1 = local->x1 + ox;
      global->y1 = local->y1 + oy;
    }
}

/* ---- the lean pass ----------------------------------------------------------------------- */

typedef struct
{
  guint8   *mask;           /* ReLU: bit set where the output is not <= 0 */
  guint8   *argmax;         /* max pooling: 0‥3, the window position that won */
  int       c, h, w;        /* the layer's input shape */
  NsTensor *grad;           /* the hook's gradient for the layer's output, or NULL */
} Saved;

static void
relu_mask (NsTensor *t, guint8 *mask)
{
  ns_relu_mask (t->data, ns_tensor_len (t), mask);
}

static void
relu_mask_backward (const guint8 *mask, NsTensor *g)
{
  ns_relu_mask_backward (mask, g->data, ns_tensor_len (g));
}

static void
tensor_add (NsTensor *dst, const NsTensor *src)
{
  ns_floats_add (dst->data, src->data, ns_tensor_len (dst));
}

/* For networks with layers this file does not know: the full-activation path of
 * network.c, with the hooks called after the forward pass in layer order. */
static void
pass_generic (const NsNetwork *net, NsConvCache *cache, NsTensor *input, int last,
              const gboolean *hooked, NsLayerHook hook, gpointer data, NsTensor *grad_input)
{
  g_autoptr (NsActivations) acts = ns_network_forward (net, cache, input, last);
  NsTensor **grads = g_new0 (NsTensor *, last + 1);

  for (int i = 0; i <= last; i++)
    if (hooked[i])
      {
        if (grad_input)
          grads[i] = ns_tensor_new_like (acts->act[i]);
        hook (i, acts->act[i], grads[i], data);
      }
  if (grad_input)
    ns_network_backward (net, cache, acts, grads, grad_input);
  for (int i = 0; i <= last; i++)
    ns_tensor_free (grads[i]);
  g_free (grads);
}

/* The kinds the lean pass runs itself; others (network.c's own, such as
 * NS_LAYER_CONV_KEEP) go through network.c's full-activation path. */
static gboolean
network_is_lean (const NsNetwork *net, int last)
{
  for (int i = 0; i <= last; i++)
    {
      NsLayerKind kind = net->layers[i].kind;

      if (kind != NS_LAYER_CONV && kind != NS_LAYER_RELU && ! is_pool (kind))
        return FALSE;
    }
  return TRUE;
}

/* The hooked layer whose loss gradient is better recomputed than kept: the first one, if
 * only a single convolution of at most 4 input channels and ReLUs lead to it (relu1_1 of
 * VGG-19).  Its gradient would be the largest tensor held through the whole pass (64
 * channels at full resolution, a third of the peak), while recomputing its features in the
 * backward pass costs one 3-channel convolution.  −1 if there is none. */
static int
deferred_layer (const NsNetwork *net, int last, const gboolean *hooked)
{
  int convs = 0;

  for (int i = 0; i <= last; i++)
    {
      const NsLayer *l = &net->layers[i];

      if (l->kind == NS_LAYER_CONV && (++convs > 1 || l->conv.cin > 4))
        return -1;
      if (l->kind != NS_LAYER_CONV && l->kind != NS_LAYER_RELU)
        return -1;
      if (hooked[i])
        return convs == 1 ? i : -1;
    }
  return -1;
}

/* The output of layers 0 … i (a convolution and ReLUs) recomputed from the input. */
static NsTensor *
recompute (const NsNetwork *net, NsConvCache *cache, const NsTensor *input, int i)
{
  NsTensor *x = NULL;

  for (int j = 0; j <= i; j++)
    {
      const NsLayer *l = &net->layers[j];

      if (l->kind == NS_LAYER_CONV)
        {
          NsTensor *y = ns_tensor_new_uninit (l->conv.cout, input->h, input->w);

          ns_conv3x3_forward (&l->conv, cache, x ? x : input, y);
          ns_tensor_free (x);
          x = y;
        }
      else
        {
          if (x == NULL)
            x = ns_tensor_copy (input);
          relu_mask (x, NULL);
        }
    }
  return x;
}

void
ns_network_pass (const NsNetwork *net, NsConvCache *cache, NsTensor *input, int last,
                 const gboolean *hooked, NsLayerHook hook, gpointer data, NsTensor *grad_input)
{
  gboolean backward = grad_input != NULL;
  Saved *saved;
  NsTensor *x = input, *g = NULL;
  int defer = -1;

  g_return_if_fail (last >= 0 && last < net->n_layers);
  if (! network_is_lean (net, last))
    {
      pass_generic (net, cache, input, last, hooked, hook, data, grad_input);
      return;
    }

  if (backward)
    defer = deferred_layer (net, last, hooked);
  saved = g_new0 (Saved, last + 1);
  for (int i = 0; i <= last; i++)
    {
      const NsLayer *l = &net->layers[i];
      Saved *s = &saved[i];
      NsTensor *y = x;

      s->c = x->c;
      s->h = x->h;
      s->w = x->w;
      switch (l->kind)
        {
        case NS_LAYER_CONV:
          y = ns_tensor_new_uninit (l->conv.cout, x->h, x->w);
          ns_conv3x3_forward (&l->conv, cache, x, y);
          break;
        case NS_LAYER_RELU:
          if (x == input)         /* never change the caller's tensor */
            y = ns_tensor_copy (x);
          if (backward)
            s->mask = ns_scratch_alloc ((ns_tensor_len (y) + 7) / 8);
          relu_mask (y, s->mask);
          break;
        case NS_LAYER_MAXPOOL:
        case NS_LAYER_AVGPOOL:
        default:
          y = ns_tensor_new_uninit (x->c, x->h / 2, x->w / 2);
          if (l->kind == NS_LAYER_MAXPOOL)
            {
              guint8 *argmax = ns_scratch_alloc (ns_tensor_len (y));

              ns_pool2_max_forward_argmax (x, y, argmax);
              if (backward)
                s->argmax = argmax;
              else
                ns_scratch_free (argmax);
            }
          else
            ns_pool2_forward (NS_POOL_AVG, x, y);
          break;
        }
      if (y != x && x != input)
        ns_tensor_free (x);
      x = y;
      if (hooked[i] && i != defer)
        {
          if (backward)
            s->grad = ns_tensor_new_like (x);
          hook (i, x, s->grad, data);
        }
    }
  if (x != input)
    ns_tensor_free (x);

  if (! backward)
    {
      g_free (saved);
      return;
    }

  for (int i = last; i >= 0; i--)
    {
      const NsLayer *l = &net->layers[i];
      Saved *s = &saved[i];
      NsTensor *gi;

      if (s->grad != NULL)
        {
          /* The same arithmetic as ns_network_backward: g + hook gradient. */
          if (g == NULL)
            g = g_steal_pointer (&s->grad);
          else
            {
              tensor_add (g, s->grad);
              g_clear_pointer (&s->grad, ns_tensor_free);
            }
        }
      if (i == defer)
        {
          /* The hook adds its gradient to what came down from above. */
          g_autoptr (NsTensor) act = recompute (net, cache, input, i);

          if (g == NULL)
            g = ns_tensor_new_like (act);
          hook (i, act, g, data);
        }
      if (g == NULL)
        continue;
      switch (l->kind)
        {
        case NS_LAYER_RELU:
          relu_mask_backward (s->mask, g);
          g_clear_pointer (&s->mask, ns_scratch_free);
          gi = g;
          break;
        case NS_LAYER_CONV:
          gi = i == 0 ? grad_input : ns_tensor_new_uninit (s->c, s->h, s->w);
          ns_conv3x3_backward_input (&l->conv, cache, g, gi);
          break;
        case NS_LAYER_MAXPOOL:
        case NS_LAYER_AVGPOOL:
        default:
          gi = i == 0 ? grad_input : ns_tensor_new_uninit (s->c, s->h, s->w);
          ns_pool2_backward_argmax (l->kind == NS_LAYER_MAXPOOL ? NS_POOL_MAX : NS_POOL_AVG,
                                    s->argmax, g, gi);
          g_clear_pointer (&s->argmax, ns_scratch_free);
          break;
        }
      if (gi != g)
        ns_tensor_free (g);
      g = gi;
    }
  if (g == NULL)
    ns_floats_zero (grad_input->data, ns_tensor_len (grad_input));
  else if (g != grad_input)
    {
      /* Layer 0 was a ReLU (or gave no gradient): the input gradient is g itself. */
      ns_floats_copy (grad_input->data, g->data, ns_tensor_len (g));
      ns_tensor_free (g);
    }
  for (int i = 0; i <= last; i++)
    {
      ns_scratch_free (saved[i].mask);
      ns_scratch_free (saved[i].argmax);
      ns_tensor_free (saved[i].grad);
    }
  g_free (saved);
}

/* ---- memory of a pass ----------------------------------------------------------------------- */

/* Largest working space a convolution allocates at this shape, in floats: im2col's bands
 * of 8 MiB (Winograd's workspace stays allocated between calls; the memory plan counts it
 * once, see ns_winograd_cached_bytes). */
static gsize
conv_workspace_floats (const NsConv *conv, int h, int w)
{
  return (8u << 20) / sizeof (float) + (gsize) conv->cin * 9 * w;
}

gsize
ns_network_pass_peak_bytes (const NsNetwork *net, int last, const gboolean *hooked,
                            int h, int w, gboolean backward, int hook_copies)
{
  /* Replays the allocations of ns_network_pass with the layer shapes: cur is the current
   * activation (0 while it is the caller's input), kept what is held for the backward. */
  gsize *in_bytes = g_new0 (gsize, last + 1), *kept_at = g_new0 (gsize, last + 1);
  gsize *grad_at = g_new0 (gsize, last + 1);
  int *in_h = g_new0 (int, last + 1), *in_w = g_new0 (int, last + 1);
  gsize cur = 0, kept = 0, peak = 0, g = 0, hooks_grad = 0, hooks_peak = 0;
  int c = 3;
  gboolean lean = network_is_lean (net, last);
  int defer = backward && lean ? deferred_layer (net, last, hooked) : -1;

  for (int i = 0; i <= last; i++)
    {
      const NsLayer *l = &net->layers[i];
      int c1 = out_channels (l, c);
      int h1 = is_pool (l->kind) ? h / 2 : h, w1 = is_pool (l->kind) ? w / 2 : w;
      gsize n_out = (gsize) c1 * h1 * w1, out = n_out * sizeof (float);

      in_bytes[i] = (gsize) c * h * w * sizeof (float);
      in_h[i] = h;
      in_w[i] = w;
      if (! lean)
        {
          /* network.c keeps every activation (ReLUs share their conv's); then each hook
           * runs in layer order beside the gradients of the hooks before it (pass_generic),
           * and the backward adds gradients as large as the largest two. */
          if (l->kind != NS_LAYER_RELU)
            kept += out;
          g = MAX (g, out);
          if (hooked[i])
            {
              hooks_peak = MAX (hooks_peak, hooks_grad + (gsize) hook_copies * out);
              hooks_grad += backward ? out : 0;
            }
        }
      else
        {
          if (is_conv (l->kind))
            {
              peak = MAX (peak, cur + out + kept
                                + conv_workspace_floats (&l->conv, h, w) * sizeof (float));
              cur = out;
            }
          else if (l->kind == NS_LAYER_RELU)
            {
              if (cur == 0)
                cur = out;
              if (backward)
                kept_at[i] = (n_out + 7) / 8;
            }
          else
            {
              peak = MAX (peak, cur + out + kept + n_out);
              cur = out;
              if (backward && l->kind == NS_LAYER_MAXPOOL)
                kept_at[i] = n_out;
            }
          kept += kept_at[i];
          if (hooked[i] && backward && i != defer)
            {
              grad_at[i] = out;
              kept += out;
            }
          /* The hook runs here, on this output (the deferred one runs in the backward). */
          peak = MAX (peak, cur + kept + (hooked[i] && i != defer ? hook_copies * out : 0));
        }
      c = c1;
      h = h1;
      w = w1;
    }

  if (! lean)
    peak = kept + MAX (hooks_peak, hooks_grad + (backward ? 2 * g : 0));
  else
    for (int i = last; backward && i >= 0; i--)
      {
        const NsLayer *l = &net->layers[i];
        gsize gi = i == 0 ? 0 : in_bytes[i];     /* layer 0 writes into the caller's tensor */
        gsize extra = 0;

        if (grad_at[i])
          {
            peak = MAX (peak, kept + g);
            kept -= grad_at[i];
            g = MAX (g, grad_at[i]);
          }
        if (i == defer)
          {
            /* The recomputed features next to the gradient (and its convolution). */
            gsize act = in_bytes[i];

            g = MAX (g, act);
            peak = MAX (peak, kept + g + act
                              + MAX (conv_workspace_floats (&net->layers[0].conv, in_h[i],
                                                            in_w[i]) * sizeof (float),
                                     hook_copies * act));
          }
        kept -= kept_at[i];
        if (g == 0 || l->kind == NS_LAYER_RELU)
          continue;
        if (is_conv (l->kind))
          extra = conv_workspace_floats (&l->conv, in_h[i], in_w[i]) * sizeof (float);
        peak = MAX (peak, kept + g + gi + extra);
        g = gi;
      }
  g_free (in_bytes);
  g_free (kept_at);
  g_free (grad_at);
  g_free (in_h);
  g_free (in_w);
  return peak;
}
