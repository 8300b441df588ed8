/* regions.c — regions with their own style: the caller's masks (ns_stylizer_set_regions),
 * checked, and made into the masks of an objective at its size.
 *
 * Region r < n_styles is style r's: its content mask (or ones).  When the caller asks the
 * rest to be styled, one more region takes what no mask covers, 1 − Σ masks clipped to
 * [0,1]; a rest smaller than REST_MIN_SHARE of the image (the seam of two feathered masks
 * that add up to about 1) is left out: scaled to mean square 1 it would weigh a few pixels
 * as much as a region.
 *
 * A mask may come at any size of its image's shape (ns_region_mask_fits): it is resized to
 * each size the run needs here, and what the resampling gives is clipped to [0,1], so that
 * no resampler (ns_image_resize's sums in double keep [0,1]; a spline's would not) can make
 * a mask the engine itself refuses. */
#include <math.h>
#include <string.h>

#include "ns-internal.h"

#define REST_MIN_SHARE 1e-3

/* The longest side the masks' coverage is measured at (ns_regions_coverage). */
#define COVERAGE_SIDE 256.0

static gboolean
check_mask (const NsImage *mask, const char *what, int i, GError **error)
{
  gsize n;
  gboolean any = FALSE;

  if (mask->channels != 1 || mask->width < 1 || mask->height < 1 || mask->data == NULL)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The %s mask of style %d must be a one-channel (grey) image", what, i + 1);
      return FALSE;
    }
  n = (gsize) mask->width * mask->height;
  for (gsize p = 0; p < n; p++)
    {
      float v = mask->data[p];

      if (! (v >= 0.0f && v <= 1.0f))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "The %s mask of style %d has a value outside [0,1] (%g); give values "
                       "from 0 (no style) to 1 (the style applies)", what, i + 1, v);
          return FALSE;
        }
      any |= v > 0.0f;
    }
  if (! any)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The %s mask of style %d is empty (all black); paint where the style "
                   "applies in white, or give no mask for everywhere", what, i + 1);
      return FALSE;
    }
  return TRUE;
}

static NsImage **
copy_masks (const NsImage * const *masks, int n)
{
  NsImage **out = g_new0 (NsImage *, n);

  for (int i = 0; masks && i < n; i++)
    out[i] = masks[i] ? ns_image_copy (masks[i]) : NULL;
  return out;
}

/* Σ over the regions of the share of the image that its mask covers (is not 0 in), at a
 * small size of the content's shape: what the guided terms cost in plain style terms, as
 * they skip the pixels outside their masks (loss-style-guided.c, objective-tiled.c). */
static double
coverage (const NsRegions *r)
{
  const NsImage *shape = NULL;
  double scale, sum = 0.0;
  float **masks;
  int w, h, n;

  for (int i = 0; i < r->n_styles && shape == NULL; i++)
    shape = r->content_masks[i];
  /* Only style masks: every region everywhere, and no rest. */
  if (shape == NULL)
    return r->n_styles;
  scale = MIN (1.0, COVERAGE_SIDE / MAX (shape->width, shape->height));
  w = MAX (1, (int) lround (shape->width * scale));
  h = MAX (1, (int) lround (shape->height * scale));
  masks = ns_regions_masks_at (r, w, h, &n);
  for (int k = 0; k < n; k++)
    {
      gsize covered = 0;

      for (gsize p = 0; p < (gsize) w * h; p++)
        covered += masks[k][p] != 0.0f;
      sum += (double) covered / ((gsize) w * h);
      g_free (masks[k]);
    }
  g_free (masks);
  return sum;
}

NsRegions *
ns_regions_new (const NsImage * const *content_masks, const NsImage * const *style_masks,
                int n_styles, NsRegionRest rest, GError **error)
{
  NsRegions *r;
  gboolean any = FALSE;

  if (n_styles < 1 || (rest != NS_REGION_REST_CONTENT && rest != NS_REGION_REST_STYLES))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "Regions need at least one style and a rest of content or styles");
      return NULL;
    }
  for (int i = 0; i < n_styles; i++)
    {
      if (content_masks && content_masks[i]
          && ! check_mask (content_masks[i], "content", i, error))
        return NULL;
      if (style_masks && style_masks[i] && ! check_mask (style_masks[i], "style", i, error))
        return NULL;
      any |= (content_masks && content_masks[i]) || (style_masks && style_masks[i]);
    }
  if (! any)
    return NULL;
  r = g_new0 (NsRegions, 1);
  r->n_styles = n_styles;
  r->content_masks = copy_masks (content_masks, n_styles);
  r->style_masks = copy_masks (style_masks, n_styles);
  r->rest = rest;
  r->carry = NS_MASK_CARRY_DEFAULT;
  r->coverage = coverage (r);
  return r;
}

NsRegions *
ns_regions_copy (const NsRegions *regions)
{
  NsRegions *r;

  if (regions == NULL)
    return NULL;
  r = g_memdup2 (regions, sizeof *regions);
  r->content_masks = copy_masks ((const NsImage * const *) regions->content_masks,
                                 regions->n_styles);
  r->style_masks = copy_masks ((const NsImage * const *) regions->style_masks,
                               regions->n_styles);
  return r;
}

void
ns_regions_free (NsRegions *r)
{
  if (r == NULL)
    return;
  for (int i = 0; i < r->n_styles; i++)
    {
      ns_image_free (r->content_masks[i]);
      ns_image_free (r->style_masks[i]);
    }
  g_free (r->content_masks);
  g_free (r->style_masks);
  g_free (r);
}

gboolean
ns_region_mask_fits (int mask_width, int mask_height, int width, int height)
{
  gint64 cross = (gint64) mask_width * height - (gint64) mask_height * width;
  int longest = MAX (MAX (mask_width, mask_height), MAX (width, height));

  /* Scaled to the smaller one's width, the larger one's height is within a pixel of the
   * smaller one's (|b − B·a/A| ≤ 1, i.e. |a·B − b·A| ≤ A), or the same with the heights:
   * together |a·B − b·A| ≤ max (A, B). */
  if (mask_width < 1 || mask_height < 1 || width < 1 || height < 1)
    return FALSE;
  return ABS (cross) <= longest;
}

gboolean
ns_regions_check (const NsRegions *r, const NsImage *content, const NsImage * const *styles,
                  int n_styles, GError **error)
{
  if (r == NULL)
    return TRUE;
  if (n_styles != r->n_styles)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The regions were set for %d styles, but the run has %d; give a mask (or "
                   "none) for each style", r->n_styles, n_styles);
      return FALSE;
    }
  for (int i = 0; i < n_styles; i++)
    {
      const NsImage *m = r->content_masks[i], *sm = r->style_masks[i];

      if (m && ! ns_region_mask_fits (m->width, m->height, content->width, content->height))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "The mask of style %d is %d×%d pixels, not of the shape of the "
                       "content (%d×%d); give a mask of the content's shape (at any size)",
                       i + 1, m->width, m->height, content->width, content->height);
          return FALSE;
        }
      if (sm && ! ns_region_mask_fits (sm->width, sm->height, styles[i]->width,
                                       styles[i]->height))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "The style mask of style %d is %d×%d pixels, not of the shape of its "
                       "style image (%d×%d); give a mask of the style image's shape (at any "
                       "size)", i + 1, sm->width, sm->height, styles[i]->width,
                       styles[i]->height);
          return FALSE;
        }
    }
  return TRUE;
}

float *
ns_region_mask_at (const NsImage *mask, int w, int h)
{
  gsize n = (gsize) w * h;
  float *out;

  if (mask == NULL)
    {
      out = g_new (float, n);
      for (gsize i = 0; i < n; i++)
        out[i] = 1.0f;
      return out;
    }
  if (mask->width == w && mask->height == h)
    return g_memdup2 (mask->data, n * sizeof (float));
  {
    g_autoptr (NsImage) resized = ns_image_resize (mask, w, h);

    out = g_steal_pointer (&resized->data);
  }
  for (gsize i = 0; i < n; i++)
    out[i] = CLAMP (out[i], 0.0f, 1.0f);
  return out;
}

float **
ns_regions_masks_at (const NsRegions *r, int w, int h, int *n)
{
  gsize np = (gsize) w * h;
  float **masks = g_new0 (float *, r->n_styles + 1);
  float *rest;
  double sum = 0.0;

  *n = r->n_styles;
  for (int i = 0; i < r->n_styles; i++)
    masks[i] = ns_region_mask_at (r->content_masks[i], w, h);
  if (r->rest != NS_REGION_REST_STYLES)
    return masks;
  rest = g_new (float, np);
  for (gsize p = 0; p < np; p++)
    {
      float covered = 0.0f;

      for (int i = 0; i < r->n_styles; i++)
        covered += masks[i][p];
      rest[p] = CLAMP (1.0f - covered, 0.0f, 1.0f);
      sum += rest[p];
    }
  if (sum < REST_MIN_SHARE * np)
    g_free (rest);
  else
    masks[(*n)++] = rest;
  return masks;
}

double
ns_regions_coverage (const NsRegions *r)
{
  return r ? r->coverage : 1.0;
}

int
ns_regions_count (const NsRegions *r)
{
  if (r == NULL)
    return 0;
  return r->n_styles + (r->rest == NS_REGION_REST_STYLES);
}

static guint64
image_bytes (const NsImage *img)
{
  return img ? (guint64) img->width * img->height * img->channels * sizeof (float) : 0;
}

guint64
ns_regions_bytes (const NsRegions *r, int w, int h)
{
  guint64 plane = (guint64) w * h * sizeof (float), copies = 0;
  int n = ns_regions_count (r);

  if (r == NULL)
    return 0;
  for (int i = 0; i < r->n_styles; i++)
    copies += image_bytes (r->content_masks[i]) + image_bytes (r->style_masks[i]);
  /* The caller's masks (copied); while an objective is made, the masks at its size
   * (ns_regions_masks_at), each region's masks at the style layers (about 4/3 of a plane
   * for the layers of a pyramid) and the two planes made while carrying one. */
  return copies + (guint64) n * plane + (guint64) n * plane * 4 / 3 + 2 * plane;
}
