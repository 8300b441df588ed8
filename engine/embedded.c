/* embedded.c — the built-in feature network: VGG-19's topology with weights generated
 * deterministically in code, so that the engine works with no download.
 *
 * Random-weight VGG (He, Wang & Hopcroft 2016) with per-layer loss normalisation so that
 * every layer contributes; the weights are He-scaled zero-mean Gaussians from a fixed
 * splitmix64 stream, identical on every machine. */
#include <math.h>
#include "ns-internal.h"

#define EMBEDDED_SEED G_GUINT64_CONSTANT (0x4e53454d42454444)   /* "NSEMBEDD" */

static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Uniform in (0, 1), never 0 so that log() below is finite. */
static double
uniform01 (guint64 *state)
{
  return ((splitmix64 (state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double
gaussian (guint64 *state)
{
  double u1 = uniform01 (state), u2 = uniform01 (state);

  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

static void
fill_conv (NsConv *conv, guint64 *state)
{
  gsize n = (gsize) conv->cout * conv->cin * 9;
  double scale = sqrt (2.0 / (conv->cin * 9.0));

  for (gsize i = 0; i < n; i++)
    conv->weight[i] = (float) (scale * gaussian (state));
  for (int o = 0; o < conv->cout; o++)
    conv->bias[o] = 0.0f;
  ns_conv_prepare (conv);
}

NsNetwork *
ns_network_new_embedded (void)
{
  NsNetwork *net = ns_network_new_vgg19_topology (NS_NETWORK_EMBEDDED, "embedded");
  guint64 state = EMBEDDED_SEED;

  for (int i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == NS_LAYER_CONV)
      fill_conv (&net->layers[i].conv, &state);
  net->normalize_layers = TRUE;
  net->content_weight = 1.0;
  net->style_weight = 10.0;
  net->tv_weight = 1.0;
  net->description = g_strdup ("the built-in generated network (no download needed); "
                               "for VGG-19 quality run: neural-style --download-weights");
  return net;
}
