/* tiny-vgg19.h — VGG-19's layer graph with 2 or 3 channels per convolution (header-only).
 *
 * The real network takes 80 MB of weights, far beyond what a fuzzer can mutate into, so
 * the loader is fuzzed on the same 30 layers and features.N names with tiny channel counts:
 * a complete, valid weights file is a few kilobytes (make-seeds writes one). */
#ifndef NS_FUZZ_TINY_VGG19_H
#define NS_FUZZ_TINY_VGG19_H

#include "ns-internal.h"

static inline NsNetwork *
tiny_vgg19_new (void)
{
  NsNetwork *net = ns_network_new_vgg19_topology (NS_NETWORK_VGG19, "tiny-vgg19");
  int cin = 3;

  for (int i = 0; i < net->n_layers; i++)
    {
      NsConv *conv = &net->layers[i].conv;

      if (net->layers[i].kind != NS_LAYER_CONV)
        continue;
      ns_conv_clear (conv);
      /* "convB_k": 3 channels in odd blocks, 2 in even ones, so that every shape differs
       * from its neighbours'. */
      conv->cin = cin;
      conv->cout = 2 + (net->layers[i].name[4] - '0') % 2;
      conv->weight = ns_floats_new ((gsize) conv->cout * conv->cin * 9);
      conv->bias = ns_floats_new (conv->cout);
      cin = conv->cout;
    }
  return net;
}

#endif /* NS_FUZZ_TINY_VGG19_H */
