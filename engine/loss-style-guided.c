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

/* The loss is ns_style_loss of F∘T (with the gains: of s ⊙ F∘T, as ns_scaled_loss) with
 * the pixels where T = 0 left out: they add nothing to the Gram sums or the gradient, and
 * the regions of a run share the image, so that R regions cost about one plain term
 * instead of R.  The normalisation keeps N = c·h·w of the whole map. */
double
ns_style_guided_loss (const NsTensor *f, const float *mask, const float *scale,
                      const float *target_gram, double weight, NsTensor *grad)
{
  int c;
  gsize hw, cc, n = 0;
  double norm, loss;
  g_autofree gsize *at = NULL;
  g_autofree double *acc = NULL;
  float *fm, *d;

  g_return_val_if_fail (f != NULL && mask != NULL && target_gram != NULL, NAN);

  c = f->c;
  hw = (gsize) f->h * f->w;
  cc = (gsize) c * c;
  norm = (double) c * hw;
  if (c == 0 || hw == 0)
    return 0.0;
  at = g_new (gsize, hw);
  for (gsize i = 0; i < hw; i++)
    if (mask[i] != 0.0f)
      at[n++] = i;
  /* fm (c × n): the masked, scaled features of those pixels. */
  fm = ns_floats_new (MAX ((gsize) c * n, 1));
  for (int k = 0; k < c; k++)
    for (gsize j = 0; j < n; j++)
      fm[k * n + j] = f->data[k * hw + at[j]] * mask[at[j]] * (scale ? scale[k] : 1.0f);
  acc = g_new0 (double, cc);
  d = ns_floats_new (cc);
  if (n > 0)
    ns_gram_add (fm, c, n, n, 1.0 / norm, acc);
  ns_gram_store (acc, c, d);
  loss = ns_style_gram_loss (d, target_gram, c, weight, grad != NULL);
  if (grad != NULL && n > 0)
    {
      /* ∂L/∂fm = 2w/(c²N) (D + Dᵀ) fm, then the chain through T and the gains. */
      float *gm = ns_floats_new ((gsize) c * n);

      ns_sgemm (FALSE, c, (int) n, c, (float) (2.0 * weight / ((double) cc * norm)), d, c, fm,
                (int) n, 0.0f, gm, (int) n);
      for (int k = 0; k < c; k++)
        for (gsize j = 0; j < n; j++)
          grad->data[k * hw + at[j]] += gm[k * n + j] * mask[at[j]] * (scale ? scale[k] : 1.0f);
      ns_floats_free (gm);
    }
  ns_floats_free (d);
  ns_floats_free (fm);
  return loss;
}
