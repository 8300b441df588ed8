/* conv-cache.c — Winograd's transformed weights of a network's convolutions, kept between
 * calls.
 *
 * The weight transform of winograd.c depends on the weights alone, yet a call redoes it
 * every time and, for the layers whose transformed weights exceed a call's block (512 × 512
 * filters: 38 MB), once per band of tile rows: 7–10% of a VGG-19 evaluation at 256 px.
 * The network's weights do not change during a run, so an objective (objective.c) keeps
 * them here, per convolution and direction, for as long as it lives: about 400 MB for
 * VGG-19 in both directions, a few hundred KB for the built-in network.  Reading them back
 * costs memory bandwidth (four times the weights' bytes), so the saving is smaller than the
 * transform was: 5% of an evaluation at 256 px, 2–4% at 512 (docs/performance.md).  They
 * are made lazily, so a pass that never reaches a layer, or runs it by im2col at a small
 * size, costs nothing; memory.c counts what the passes of a size will make
 * (ns_conv_cache_plan_bytes) and, when the budget is tight, plans that size without the
 * cache.  The transformed values and the products are the same as a call's own, so the
 * result is the same bits with or without. */

#include "ns-internal.h"

struct _NsConvCache
{
  const NsNetwork *net;
  GMutex           lock;        /* held while one is made, so each is made once */
  float          **u;           /* 2 per layer (forward, adjoint); NULL until made */
  guint64          bytes;       /* under lock */
};

NsConvCache *
ns_conv_cache_new (const NsNetwork *net)
{
  NsConvCache *cache = g_new0 (NsConvCache, 1);

  g_return_val_if_fail (net != NULL, NULL);
  cache->net = net;
  g_mutex_init (&cache->lock);
  cache->u = g_new0 (float *, 2 * net->n_layers);
  return cache;
}

void
ns_conv_cache_free (NsConvCache *cache)
{
  if (cache == NULL)
    return;
  for (int i = 0; i < 2 * cache->net->n_layers; i++)
    ns_floats_free (cache->u[i]);
  g_free (cache->u);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

static gboolean
has_conv (const NsLayer *l)
{
  return l->kind == NS_LAYER_CONV || l->kind == NS_LAYER_CONV_KEEP;
}

static gsize
conv_bytes (const NsConv *conv)
{
  return ns_winograd_weights_floats (conv->cin, conv->cout) * sizeof (float);
}

const float *
ns_conv_cache_get (NsConvCache *cache, const NsConv *conv, gboolean adjoint)
{
  const NsNetwork *net = cache->net;
  float **slot = NULL;
  float *u;

  for (int i = 0; i < net->n_layers && slot == NULL; i++)
    if (has_conv (&net->layers[i]) && &net->layers[i].conv == conv)
      slot = &cache->u[2 * i + (adjoint ? 1 : 0)];
  g_return_val_if_fail (slot != NULL, NULL);

  u = g_atomic_pointer_get (slot);
  if (u != NULL)
    return u;
  g_mutex_lock (&cache->lock);
  u = *slot;
  if (u == NULL)
    {
      /* Kept for the cache's life: not from the evaluation's buffer cache (tensor.c),
       * which would count it among the buffers it may keep. */
      NsBufferCache *outer = ns_buffer_cache_use (NULL);

      u = ns_winograd_weights (conv->weight, conv->cin, conv->cout, adjoint);
      ns_buffer_cache_use (outer);
      cache->bytes += conv_bytes (conv);
      g_atomic_pointer_set (slot, u);
    }
  g_mutex_unlock (&cache->lock);
  return u;
}

guint64
ns_conv_cache_bytes (NsConvCache *cache)
{
  guint64 bytes;

  g_mutex_lock (&cache->lock);
  bytes = cache->bytes;
  g_mutex_unlock (&cache->lock);
  return bytes;
}

/* Whether some pass through layer `index` makes conv's U in that direction: the evaluation's
 * forward and backward on eval_h × eval_w, the set-up's forward on setup_h × setup_w (both
 * sizes already divided by the poolings above the layer). */
static gboolean
made (const NsConv *conv, gboolean adjoint, int eval_h, int eval_w, int setup_h, int setup_w)
{
  return ns_conv_uses_winograd (conv, adjoint, eval_h, eval_w)
         || (! adjoint && ns_conv_uses_winograd (conv, FALSE, setup_h, setup_w));
}

guint64
ns_conv_cache_plan_bytes (const NsNetwork *net, int last, int eval_h, int eval_w, int setup_h,
                          int setup_w)
{
  guint64 bytes = 0;

  for (int i = 0; i <= last && i < net->n_layers; i++)
    {
      const NsLayer *l = &net->layers[i];

      if (l->kind == NS_LAYER_MAXPOOL || l->kind == NS_LAYER_AVGPOOL)
        {
          eval_h /= 2;
          eval_w /= 2;
          setup_h /= 2;
          setup_w /= 2;
        }
      if (! has_conv (l))
        continue;
      for (int adjoint = 0; adjoint < 2; adjoint++)
        if (made (&l->conv, adjoint, eval_h, eval_w, setup_h, setup_w))
          bytes += conv_bytes (&l->conv);
    }
  return bytes;
}
