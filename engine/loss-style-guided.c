/* loss-style-guided.c — the style loss of one region: guided Gram matrices (Gatys, Ecker,
 * Bethge, Hertzmann & Shechtman 2017), G_r = (F∘T_r)(F∘T_r)ᵀ / (C·H·W) with T_r the
 * region's mask at the layer (mask-carry.c, mean square 1).
 *
 * The plain loss of the masked features F∘T, so that the loss, its normalisation and the
 * channel gains are loss-style.c's and channel-gains.c's; the chain rule through the mask
 * is a multiplication by T.  With T = 1 the masked features are F itself. */
#include <math.h>
#include <string.h>

#include "objective-internal.h"

/* F∘T: every channel multiplied by the mask. */
static NsTensor *
masked (const NsTensor *f, const float *mask)
{
  NsTensor *fm = ns_tensor_new_uninit (f->c, f->h, f->w);
  NsRect all = { 0, 0, f->w, f->h };
  NsLayerMasks view = { 1, (float **) &mask, (int *) &f->w, (int *) &f->h, NULL };

  memcpy (fm->data, f->data, ns_tensor_len (f) * sizeof (float));
  ns_layer_masks_apply (&view, 0, &all, 1, fm->data, f->c, (gsize) f->h * f->w);
  return fm;
}

void
ns_gram_guided (const NsTensor *f, const float *mask, float *gram)
{
  g_autoptr (NsTensor) fm = NULL;

  if (mask == NULL)
    {
      ns_gram (f, gram);
      return;
    }
  fm = masked (f, mask);
  ns_gram (fm, gram);
}

double
ns_style_guided_loss (const NsTensor *f, const float *mask, const float *scale,
                      const float *target_gram, double weight, NsTensor *grad)
{
  g_autoptr (NsTensor) fm = NULL;
  g_autoptr (NsTensor) gm = NULL;
  double loss;

  g_return_val_if_fail (f != NULL && mask != NULL && target_gram != NULL, NAN);

  fm = masked (f, mask);
  gm = grad ? ns_tensor_new_like (f) : NULL;
  loss = scale ? ns_scaled_loss (fm, scale, NULL, target_gram, weight, gm)
               : ns_style_loss (fm, target_gram, weight, gm);
  if (grad)
    {
      gsize hw = (gsize) f->h * f->w;

      for (int k = 0; k < f->c; k++)
        for (gsize i = 0; i < hw; i++)
          grad->data[k * hw + i] += gm->data[k * hw + i] * mask[i];
    }
  return loss;
}
