/* network.c — the feature network: a chain of conv / ReLU / pooling layers, run forward
 * with the activations kept, and backward to the input image. */
#include <string.h>
#include "ns-internal.h"

/* torchvision VGG-19 "features" up to conv5_1; the position in this list is the index N in
 * the weights' tensor names features.N.* */
static const struct { const char *name; int cout; } vgg19_layers[] = {
  { "conv1_1", 64 }, { "relu1_1" }, { "conv1_2", 64 }, { "relu1_2" }, { "pool1" },
  { "conv2_1", 128 }, { "relu2_1" }, { "conv2_2", 128 }, { "relu2_2" }, { "pool2" },
  { "conv3_1", 256 }, { "relu3_1" }, { "conv3_2", 256 }, { "relu3_2" },
  { "conv3_3", 256 }, { "relu3_3" }, { "conv3_4", 256 }, { "relu3_4" }, { "pool3" },
  { "conv4_1", 512 }, { "relu4_1" }, { "conv4_2", 512 }, { "relu4_2" },
  { "conv4_3", 512 }, { "relu4_3" }, { "conv4_4", 512 }, { "relu4_4" }, { "pool4" },
  { "conv5_1", 512 }, { "relu5_1" },
};

NsNetwork *
ns_network_new_vgg19_topology (NsNetworkKind kind, const char *name)
{
  static const float mean[3] = { 0.485f, 0.456f, 0.406f };
  static const float std[3] = { 0.229f, 0.224f, 0.225f };
  NsNetwork *net = g_new0 (NsNetwork, 1);
  int cin = 3;

  net->ref_count = 1;
  net->kind = kind;
  net->name = g_strdup (name);
  net->n_layers = G_N_ELEMENTS (vgg19_layers);
  net->layers = g_new0 (NsLayer, net->n_layers);
  memcpy (net->mean, mean, sizeof mean);
  memcpy (net->std, std, sizeof std);
  net->content_layer = g_strdup ("relu4_2");
  net->style_layers = g_strdup ("relu1_1,relu2_1,relu3_1,relu4_1,relu5_1");
  /* The reference for the weights' scale: with this normalisation α = 1, β = 1e6 are the
   * PyTorch tutorial's weights for the same torchvision VGG-19. */
  net->content_gain = 1.0;
  net->style_gain = 1.0;
  net->tv_gain = 1.0;

  for (int i = 0; i < net->n_layers; i++)
    {
      NsLayer *l = &net->layers[i];
      const char *n = vgg19_layers[i].name;

      g_strlcpy (l->name, n, sizeof l->name);
      if (g_str_has_prefix (n, "conv"))
        {
          l->kind = NS_LAYER_CONV;
          l->conv.cin = cin;
          l->conv.cout = vgg19_layers[i].cout;
          l->conv.weight = ns_floats_new ((gsize) l->conv.cout * cin * 9);
          l->conv.bias = ns_floats_new (l->conv.cout);
          cin = l->conv.cout;
        }
      else if (g_str_has_prefix (n, "relu"))
        l->kind = NS_LAYER_RELU;
      else
        l->kind = NS_LAYER_MAXPOOL;
    }
  return net;
}

int
ns_network_layer_index (const NsNetwork *net, const char *name)
{
  for (int i = 0; name && i < net->n_layers; i++)
    if (strcmp (net->layers[i].name, name) == 0)
      return i;
  return -1;
}

int
ns_network_layer_stride_log2 (const NsNetwork *net, int index)
{
  int pools = 0;

  for (int i = 0; i < index && i < net->n_layers; i++)
    if (net->layers[i].kind == NS_LAYER_MAXPOOL || net->layers[i].kind == NS_LAYER_AVGPOOL)
      pools++;
  return pools;
}

int
ns_network_layer_channels (const NsNetwork *net, int index)
{
  int c = 3;

  for (int j = 0; j <= index; j++)
    if (net->layers[j].kind == NS_LAYER_CONV)
      c = net->layers[j].conv.cout;
    else if (net->layers[j].kind == NS_LAYER_CONV_KEEP)
      c = net->layers[j].conv.cout + net->layers[j].keep_count;
  return c;
}

NsNetwork *
ns_network_ref (NsNetwork *net)
{
  g_return_val_if_fail (net != NULL, NULL);
  g_atomic_int_inc (&net->ref_count);
  return net;
}

void
ns_network_unref (NsNetwork *net)
{
  if (net == NULL || ! g_atomic_int_dec_and_test (&net->ref_count))
    return;
  for (int i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == NS_LAYER_CONV || net->layers[i].kind == NS_LAYER_CONV_KEEP)
      ns_conv_clear (&net->layers[i].conv);
  g_free (net->layers);
  g_free (net->name);
  g_free (net->description);
  g_free (net->content_layer);
  g_free (net->style_layers);
  g_free (net);
}

NsNetworkKind ns_network_get_kind (const NsNetwork *net) { return net->kind; }
const char *ns_network_get_name (const NsNetwork *net) { return net->name; }
const char *ns_network_get_description (const NsNetwork *net) { return net->description; }
const char *ns_network_default_content_layer (const NsNetwork *net) { return net->content_layer; }
const char *ns_network_default_style_layers (const NsNetwork *net) { return net->style_layers; }

gboolean
ns_network_has_layer (const NsNetwork *net, const char *layer)
{
  return ns_network_layer_index (net, layer) >= 0;
}

static NsNetwork *
load_vgg19 (const char *weights_path, const gint *cancel, GError **error)
{
  g_autofree char *path = ns_weights_find (weights_path, error);
  g_autoptr (NsNetwork) net = NULL;

  if (path == NULL)
    return NULL;
  net = ns_network_new_vgg19_topology (NS_NETWORK_VGG19, "vgg19");
  if (! ns_network_load_vgg19_weights (net, path, cancel, error))
    return NULL;
  net->description = g_strdup_printf ("VGG-19 (ImageNet-trained; Simonyan & Zisserman 2014) from %s", path);
  return ns_network_with_default_padding (g_steal_pointer (&net));
}

void
ns_network_default_padding (NsNetworkKind kind, NsPadding *padding, int *n_convs)
{
  *padding = NS_PADDING_ZERO;
  *n_convs = -1;
}

void
ns_network_set_padding (NsNetwork *net, NsPadding padding, int n_convs)
{
  int k = 0;

  g_return_if_fail (net != NULL);
  g_return_if_fail (padding >= NS_PADDING_ZERO && padding <= NS_PADDING_REFLECT);

  net->padding = padding;
  net->pad_convs = n_convs < 0 ? -1 : n_convs;
  for (int i = 0; i < net->n_layers; i++)
    {
      NsLayer *l = &net->layers[i];

      if (l->kind != NS_LAYER_CONV && l->kind != NS_LAYER_CONV_KEEP)
        continue;
      l->conv.padding = n_convs < 0 || k < n_convs ? padding : NS_PADDING_ZERO;
      k++;
    }
}

void
ns_network_get_padding (const NsNetwork *net, NsPadding *padding, int *n_convs)
{
  g_return_if_fail (net != NULL);

  *padding = net->padding;
  *n_convs = net->padding == NS_PADDING_ZERO ? -1 : net->pad_convs;
}

/* The network with the padding ns_network_load gives its kind. */
NsNetwork *
ns_network_with_default_padding (NsNetwork *net)
{
  NsPadding padding;
  int n_convs;

  if (net != NULL)
    {
      ns_network_default_padding (net->kind, &padding, &n_convs);
      ns_network_set_padding (net, padding, n_convs);
    }
  return net;
}

static const char * const padding_names[] = { "zero", "replicate", "reflect" };

gboolean
ns_padding_parse (const char *text, NsPadding *padding, int *n_convs, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text ? text : "", ":", 2);
  char *end = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (padding_names); i++)
    if (parts[0] && strcmp (parts[0], padding_names[i]) == 0)
      {
        gint64 n = -1;

        if (parts[1] && (n = g_ascii_strtoll (parts[1], &end, 10), *end || n < 1 || n > 999))
          break;
        *padding = (NsPadding) i;
        *n_convs = i == NS_PADDING_ZERO ? -1 : (int) n;
        return TRUE;
      }
  g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
               "Unknown padding \"%s\"; use zero, replicate or reflect, optionally with :N "
               "for the first N convolutions", text ? text : "");
  return FALSE;
}

char *
ns_padding_to_string (NsPadding padding, int n_convs)
{
  g_return_val_if_fail (padding >= NS_PADDING_ZERO && padding <= NS_PADDING_REFLECT, NULL);

  if (padding == NS_PADDING_ZERO || n_convs < 0)
    return g_strdup (padding_names[padding]);
  return g_strdup_printf ("%s:%d", padding_names[padding], n_convs);
}

NsNetwork *
ns_network_load (NsNetworkKind kind, const char *weights_path, GError **error)
{
  return ns_network_load_cancellable (kind, weights_path, NULL, error);
}

NsNetwork *
ns_network_load_cancellable (NsNetworkKind kind, const char *weights_path, const gint *cancel,
                             GError **error)
{
  g_autoptr (GError) local = NULL;
  NsNetwork *net;

  switch (kind)
    {
    case NS_NETWORK_VGG19:
      return load_vgg19 (weights_path, cancel, error);
    case NS_NETWORK_EMBEDDED:
      return ns_network_new_embedded ();
    case NS_NETWORK_AUTO:
    default:
      /* A file that exists but is broken is reported rather than silently replaced: the
       * user asked for it, by installing it. */
      net = load_vgg19 (weights_path, cancel, &local);
      if (net != NULL)
        return net;
      if (! g_error_matches (local, NS_ERROR, NS_ERROR_WEIGHTS_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      return ns_network_new_embedded ();
    }
}

/* ---- forward / backward ---------------------------------------------------------------------- */

void
ns_activations_free (NsActivations *acts)
{
  if (acts == NULL)
    return;
  for (int i = 0; i < acts->n; i++)
    {
      /* ReLU outputs alias their conv's tensor: free each tensor once. */
      if (i + 1 < acts->n && acts->act[i + 1] == acts->act[i])
        continue;
      ns_tensor_free (acts->act[i]);
    }
  g_free (acts->act);
  g_free (acts);
}

/* Outputs the layers write whole are not zeroed first: the zeroing cost as much as a
 * ReLU, on pages the kernel has just zeroed. */
static NsTensor *
pooled_like (const NsTensor *in)
{
  return ns_tensor_new_uninit (in->c, in->h / 2, in->w / 2);
}

/* The first c channels of t, sharing its storage (CHW: channels are contiguous planes). */
static NsTensor
channels_view (const NsTensor *t, int first, int c)
{
  NsTensor v = { c, t->h, t->w, t->data + (gsize) first * t->h * t->w };

  return v;
}

static void
conv_keep_forward (const NsLayer *l, NsConvCache *cache, const NsTensor *in, NsTensor *out)
{
  NsTensor src = channels_view (in, l->conv_first, l->conv.cin);
  NsTensor dst = channels_view (out, 0, l->conv.cout);
  NsTensor kept = channels_view (in, l->keep_first, l->keep_count);

  g_return_if_fail (l->conv_first + l->conv.cin <= in->c &&
                    l->keep_first + l->keep_count <= in->c);
  ns_conv3x3_forward (&l->conv, cache, &src, &dst);
  ns_floats_copy (out->data + ns_tensor_len (&dst), kept.data, ns_tensor_len (&kept));
}

/* grad_in (shape of the layer's input) is overwritten. */
static void
conv_keep_backward (const NsLayer *l, NsConvCache *cache, const NsTensor *grad_out,
                    NsTensor *grad_in)
{
  NsTensor g_conv = channels_view (grad_out, 0, l->conv.cout);
  NsTensor g_src = channels_view (grad_in, l->conv_first, l->conv.cin);
  NsTensor g_kept = channels_view (grad_in, l->keep_first, l->keep_count);
  const float *from = grad_out->data + ns_tensor_len (&g_conv);

  /* Channels neither convolved nor kept get zero. */
  ns_floats_zero (grad_in->data, ns_tensor_len (grad_in));
  ns_conv3x3_backward_input (&l->conv, cache, &g_conv, &g_src);
  /* Added, not copied: the kept channels may also feed the convolution. */
  ns_floats_add (g_kept.data, from, ns_tensor_len (&g_kept));
}

NsActivations *
ns_network_forward (const NsNetwork *net, NsConvCache *cache, NsTensor *input, int last)
{
  NsActivations *acts = g_new0 (NsActivations, 1);
  NsTensor *x = input;

  g_return_val_if_fail (last >= 0 && last < net->n_layers, NULL);
  acts->input = input;
  acts->n = last + 1;
  acts->act = g_new0 (NsTensor *, acts->n);
  for (int i = 0; i <= last; i++)
    {
      const NsLayer *l = &net->layers[i];

      switch (l->kind)
        {
        case NS_LAYER_CONV:
          acts->act[i] = ns_tensor_new_uninit (l->conv.cout, x->h, x->w);
          ns_conv3x3_forward (&l->conv, cache, x, acts->act[i]);
          break;
        case NS_LAYER_CONV_KEEP:
          acts->act[i] = ns_tensor_new_uninit (l->conv.cout + l->keep_count, x->h, x->w);
          conv_keep_forward (l, cache, x, acts->act[i]);
          break;
        case NS_LAYER_RELU:
          /* In place: the ReLU backward needs only its output. */
          acts->act[i] = x;
          ns_relu_forward (x);
          break;
        case NS_LAYER_MAXPOOL:
        case NS_LAYER_AVGPOOL:
          acts->act[i] = pooled_like (x);
          ns_pool2_forward (l->kind == NS_LAYER_MAXPOOL ? NS_POOL_MAX : NS_POOL_AVG,
                            x, acts->act[i]);
          break;
        }
      x = acts->act[i];
    }
  return acts;
}

static void
tensor_add (NsTensor *dst, const NsTensor *src)
{
  ns_floats_add (dst->data, src->data, ns_tensor_len (dst));
}

void
ns_network_backward (const NsNetwork      *net,
                     NsConvCache          *cache,
                     const NsActivations  *acts,
                     NsTensor * const     *grads,
                     NsTensor             *grad_input)
{
  NsTensor *g = NULL;   /* ∂L/∂(output of layer i), owned */

  /* Layers below the last loss may receive nothing; then the answer is zero. */
  memset (grad_input->data, 0, ns_tensor_len (grad_input) * sizeof (float));

  for (int i = acts->n - 1; i >= 0; i--)
    {
      const NsLayer *l = &net->layers[i];
      const NsTensor *below = i > 0 ? acts->act[i - 1] : acts->input;
      NsTensor *g_in;

      if (grads[i] != NULL)
        {
          if (g == NULL)
            g = ns_tensor_copy (grads[i]);
          else
            tensor_add (g, grads[i]);
        }
      if (g == NULL)
        continue;

      g_in = i == 0 ? grad_input : NULL;
      switch (l->kind)
        {
        case NS_LAYER_RELU:
          ns_relu_backward (acts->act[i], g);
          if (g_in != NULL)
            ns_floats_copy (g_in->data, g->data, ns_tensor_len (g));
          continue;
        case NS_LAYER_CONV:
          if (g_in == NULL)
            g_in = ns_tensor_new_uninit (l->conv.cin, g->h, g->w);
          ns_conv3x3_backward_input (&l->conv, cache, g, g_in);
          break;
        case NS_LAYER_CONV_KEEP:
          if (g_in == NULL)
            g_in = ns_tensor_new_uninit (below->c, below->h, below->w);
          conv_keep_backward (l, cache, g, g_in);
          break;
        case NS_LAYER_MAXPOOL:
        case NS_LAYER_AVGPOOL:
          if (g_in == NULL)
            g_in = ns_tensor_new_uninit (below->c, below->h, below->w);
          ns_pool2_backward (l->kind == NS_LAYER_MAXPOOL ? NS_POOL_MAX : NS_POOL_AVG,
                             below, g, g_in);
          break;
        }
      ns_tensor_free (g);
      g = i == 0 ? NULL : g_in;
    }
  ns_tensor_free (g);
}
