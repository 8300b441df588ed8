/* loss-style-guided.c — the style loss of one region: guided Gram matrices (Gatys, Ecker,
 * Bethge, Hertzmann & Shechtman 2017), G_r = (F∘T_r)(F∘T_r)ᵀ / (C·H·W) with T_r the
 * region's mask at the layer (mask-carry.c, mean square 1).
 *
 * The plain loss of the masked features F∘T, so that the loss, its normalisation and the
 * channel gains are loss-style.c's and channel-gains.c's; the chain rule through the mask
 * is a multiplication by T.  With T = 1 the masked features are F itself. */
#include <math.h>

#include "objective-internal.h"

/* The pixels of the whole map f that the mask covers, and fm (c × n, ns_floats_free) their
 * masked features (times the gains `scale`, if any), with their Gram sums / (c·h·w) in acc
 * (c × c, upper triangle): the pixels where T = 0 add nothing to either. */
static float *
masked_gram (const NsTensor *f, const float *mask, const float *scale, NsMaskedPixels *px,
             double *acc)
{
  gsize hw = (gsize) f->h * f->w;
  float *fm;

  ns_masked_pixels_init (px, mask, f->w, f->w, f->h, f->w);
  fm = ns_floats_new (MAX ((gsize) f->c * px->n, 1));
  ns_masked_gather (px, f->data, hw, f->c, 1, scale, fm);
  if (px->n > 0)
    ns_gram_add (fm, f->c, px->n, px->n, 1.0 / ((double) f->c * hw), acc);
  return fm;
}

void
ns_gram_guided (const NsTensor *f, const float *mask, float *gram)
{
  g_autofree double *acc = NULL;
  NsMaskedPixels px;

  if (mask == NULL)
    {
      ns_gram (f, gram);
      return;
    }
  if (f->c == 0)
    return;
  acc = g_new0 (double, (gsize) f->c * f->c);
  ns_floats_free (masked_gram (f, mask, NULL, &px, acc));
  ns_masked_pixels_clear (&px);
  ns_gram_store (acc, f->c, gram);
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
  gsize hw, cc, n;
  double norm, loss;
  g_autofree double *acc = NULL;
  NsMaskedPixels px;
  float *fm, *d;

  g_return_val_if_fail (f != NULL && mask != NULL && target_gram != NULL, NAN);

  c = f->c;
  hw = (gsize) f->h * f->w;
  cc = (gsize) c * c;
  norm = (double) c * hw;
  if (c == 0 || hw == 0)
    return 0.0;
  acc = g_new0 (double, cc);
  fm = masked_gram (f, mask, scale, &px, acc);
  n = px.n;
  d = ns_floats_new (cc);
  ns_gram_store (acc, c, d);
  loss = ns_style_gram_loss (d, target_gram, c, weight, grad != NULL);
  if (grad != NULL && n > 0)
    {
      /* ∂L/∂fm = 2w/(c²N) (D + Dᵀ) fm, then the chain through T and the gains. */
      float *gm = ns_floats_new ((gsize) c * n);

      ns_sgemm (FALSE, c, (int) n, c, (float) (2.0 * weight / ((double) cc * norm)), d, c, fm,
                (int) n, 0.0f, gm, (int) n);
      ns_masked_scatter_add (&px, gm, c, 1, scale, grad->data, hw);
      ns_floats_free (gm);
    }
  ns_masked_pixels_clear (&px);
  ns_floats_free (d);
  ns_floats_free (fm);
  return loss;
}
