/* vgg19.c — pretrained VGG-19 convolution weights from a safetensors file. */
#include "ns-internal.h"

gboolean
ns_network_load_vgg19_weights (NsNetwork *net, const char *path, const gint *cancel,
                               GError **error)
{
  g_autoptr (NsSafetensors) st = ns_safetensors_open (path, error);

  if (st == NULL)
    return FALSE;
  for (int i = 0; i < net->n_layers; i++)
    {
      NsConv *conv = &net->layers[i].conv;
      g_autofree char *wname = NULL, *bname = NULL;
      gint64 wshape[4], bshape[1];

      if (net->layers[i].kind != NS_LAYER_CONV)
        continue;
      if (cancel != NULL && g_atomic_int_get (cancel))
        {
          g_set_error_literal (error, NS_ERROR, NS_ERROR_CANCELLED,
                               "Loading the network was cancelled");
          return FALSE;
        }
      wname = g_strdup_printf ("features.%d.weight", i);
      bname = g_strdup_printf ("features.%d.bias", i);
      wshape[0] = conv->cout;
      wshape[1] = conv->cin;
      wshape[2] = wshape[3] = 3;
      bshape[0] = conv->cout;
      if (! ns_safetensors_read_f32 (st, wname, wshape, 4, conv->weight, error) ||
          ! ns_safetensors_read_f32 (st, bname, bshape, 1, conv->bias, error))
        {
          g_prefix_error (error, "%s is not a usable VGG-19 weights file (layer %s): ",
                          path, net->layers[i].name);
          return FALSE;
        }
      ns_conv_prepare (conv);
    }
  return TRUE;
}
