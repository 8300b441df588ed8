/* pixels.c — reading regions and style layers, writing results through the shadow buffer. */
#include "pixels.h"

#include <math.h>
#include <string.h>

static const Babl *
float_format (gboolean    alpha,
              const Babl *space_of)
{
  return babl_format_with_space (alpha ? "R'G'B'A float" : "R'G'B' float", space_of);
}

GeglRectangle
ns_rect_scaled (const GeglRectangle *rect,
                double               scale)
{
  return (GeglRectangle) { (gint) floor (rect->x * scale), (gint) floor (rect->y * scale),
                           MAX (1, (gint) lround (rect->width * scale)),
                           MAX (1, (gint) lround (rect->height * scale)) };
}

/* `rect` (drawable coordinates) scaled by `scale`: GEGL box-filters when shrinking. */
static NsRegion *
region_read (GimpDrawable        *drawable,
             const GeglRectangle *rect,
             double               scale)
{
  NsRegion *region = g_new0 (NsRegion, 1);
  g_autoptr (GeglBuffer) buffer = gimp_drawable_get_buffer (drawable);
  g_autofree float *work = NULL;
  GeglRectangle at = *rect;
  gsize n;
  gint channels;

  if (scale != 1.0)
    at = ns_rect_scaled (rect, scale);
  n = (gsize) at.width * at.height;

  region->rect       = at;
  region->native     = gimp_drawable_get_format (drawable);
  region->has_alpha  = babl_format_has_alpha (region->native);
  region->work       = float_format (region->has_alpha, region->native);
  region->native_bpp = babl_format_get_bytes_per_pixel (region->native);
  channels           = region->has_alpha ? 4 : 3;

  region->native_pixels = g_malloc (n * region->native_bpp);
  gegl_buffer_get (buffer, &at, scale, region->native, region->native_pixels,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);

  /* One read, converted here, so alpha and colour come from the very same pixels. */
  work = g_new (float, n * channels);
  babl_process (babl_fish (region->native, region->work), region->native_pixels, work, n);

  region->content = ns_image_new (at.width, at.height, 3);
  if (region->has_alpha)
    region->alpha = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    {
      for (gint c = 0; c < 3; c++)
        region->content->data[3 * i + c] = ns_clamp01 (work[channels * i + c]);
      if (region->alpha)
        region->alpha[i] = work[channels * i + 3];
    }

  return region;
}

NsRegion *
ns_region_read (GimpDrawable        *drawable,
                const GeglRectangle *rect)
{
  return region_read (drawable, rect, 1.0);
}

NsRegion *
ns_region_read_scaled (GimpDrawable        *drawable,
                       const GeglRectangle *rect,
                       double               scale)
{
  return region_read (drawable, rect, scale);
}

NsRegion *
ns_region_new_rgba (GimpDrawable        *target,
                    const GeglRectangle *rect,
                    const float         *rgba)
{
  NsRegion *region = g_new0 (NsRegion, 1);
  gsize n = (gsize) rect->width * rect->height;

  region->rect       = *rect;
  region->native     = gimp_drawable_get_format (target);
  region->has_alpha  = babl_format_has_alpha (region->native);
  region->work       = float_format (region->has_alpha, region->native);
  region->native_bpp = babl_format_get_bytes_per_pixel (region->native);

  /* ns_region_compose takes the alpha bytes from here. */
  region->native_pixels = g_malloc (n * region->native_bpp);
  babl_process (babl_fish (float_format (TRUE, region->native), region->native),
                rgba, region->native_pixels, n);
  if (region->has_alpha)
    {
      region->alpha = g_new (float, n);
      for (gsize i = 0; i < n; i++)
        region->alpha[i] = rgba[4 * i + 3];
    }

  return region;
}

void
ns_region_free (NsRegion *region)
{
  if (region == NULL)
    return;
  g_free (region->native_pixels);
  g_free (region->alpha);
  ns_image_free (region->content);
  g_free (region);
}

NsImage *
ns_style_read (GimpDrawable *style,
               const Babl   *like)
{
  g_autoptr (GeglBuffer) buffer = gimp_drawable_get_buffer (style);
  gint     width  = gimp_drawable_get_width (style);
  gint     height = gimp_drawable_get_height (style);
  NsImage *image  = ns_image_new (width, height, 3);
  gsize    n      = (gsize) width * height * 3;

  gegl_buffer_get (buffer, GEGL_RECTANGLE (0, 0, width, height), 1.0,
                   float_format (FALSE, like), image->data,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  for (gsize i = 0; i < n; i++)
    image->data[i] = ns_clamp01 (image->data[i]);

  return image;
}

NsImage *
ns_style_size (GimpDrawable *style)
{
  NsImage *image = g_new0 (NsImage, 1);

  image->width    = gimp_drawable_get_width (style);
  image->height   = gimp_drawable_get_height (style);
  image->channels = 3;
  return image;
}

guchar *
ns_region_compose (const NsRegion *region,
                   const NsImage  *result)
{
  gsize    n        = (gsize) region->rect.width * region->rect.height;
  gint     channels = region->has_alpha ? 4 : 3;
  gint     bpp      = region->native_bpp;
  g_autofree float *work = g_new (float, n * channels);
  guchar  *out      = g_malloc (n * bpp);

  g_return_val_if_fail (result->width == region->rect.width &&
                        result->height == region->rect.height &&
                        result->channels == 3, out);

  for (gsize i = 0; i < n; i++)
    {
      for (gint c = 0; c < 3; c++)
        work[channels * i + c] = result->data[3 * i + c];
      if (region->has_alpha)
        work[channels * i + 3] = region->alpha[i];
    }
  babl_process (babl_fish (region->work, region->native), work, out, n);

  /* Alpha is the last component in every GIMP format; copy its bytes so that no precision
   * (e.g. of 32-bit integer alpha through float) can be lost. */
  if (region->has_alpha)
    {
      gint comp = bpp / babl_format_get_n_components (region->native);

      for (gsize i = 0; i < n; i++)
        memcpy (out + i * bpp + bpp - comp, region->native_pixels + i * bpp + bpp - comp, comp);
    }

  return out;
}

void
ns_region_apply (const NsRegion *region,
                 const NsImage  *result,
                 GimpDrawable   *target)
{
  g_autofree guchar *pixels = ns_region_compose (region, result);
  GeglBuffer *shadow = gimp_drawable_get_shadow_buffer (target);

  gegl_buffer_set (shadow, &region->rect, 0, region->native, pixels, GEGL_AUTO_ROWSTRIDE);
  /* Unreffing sends the shadow tiles to GIMP; only then can they be merged. */
  g_object_unref (shadow);

  gimp_drawable_merge_shadow (target, TRUE);
  gimp_drawable_update (target, region->rect.x, region->rect.y,
                        region->rect.width, region->rect.height);
}

const Babl *
ns_preview_format (GimpDrawable *drawable)
{
  const char *name;

  switch (gimp_drawable_type (drawable))
    {
    case GIMP_RGBA_IMAGE:  name = "R'G'B'A u8"; break;
    case GIMP_GRAY_IMAGE:  name = "Y' u8";      break;
    case GIMP_GRAYA_IMAGE: name = "Y'A u8";     break;
    default:               name = "R'G'B' u8";  break;
    }
  return babl_format_with_space (name, gimp_drawable_get_format (drawable));
}

guchar *
ns_region_render_u8 (const NsRegion *region,
                     const NsImage  *result,
                     GimpDrawable   *drawable,
                     gint           *rowstride)
{
  const Babl *format = ns_preview_format (drawable);
  gsize       n      = (gsize) region->rect.width * region->rect.height;
  gint        bpp    = babl_format_get_bytes_per_pixel (format);
  g_autofree guchar *native = ns_region_compose (region, result);
  guchar     *out    = g_malloc (n * bpp);

  babl_process (babl_fish (region->native, format), native, out, n);
  *rowstride = region->rect.width * bpp;

  return out;
}

guchar *
ns_render_u8_over (const NsImage *result,
                   const guchar  *source,
                   gint           source_bpp,
                   GimpDrawable  *drawable,
                   gint          *rowstride)
{
  const Babl *format = ns_preview_format (drawable);
  const Babl *work   = float_format (TRUE, gimp_drawable_get_format (drawable));
  gsize       n      = (gsize) result->width * result->height;
  gint        bpp    = babl_format_get_bytes_per_pixel (format);
  gboolean    alpha  = source_bpp == 2 || source_bpp == 4;
  g_autofree float *rgba = g_new (float, n * 4);
  guchar     *out    = g_malloc (n * bpp);

  for (gsize i = 0; i < n; i++)
    {
      for (gint c = 0; c < 3; c++)
        rgba[4 * i + c] = result->data[3 * i + c];
      rgba[4 * i + 3] = alpha ? source[i * source_bpp + source_bpp - 1] / 255.0f : 1.0f;
    }
  babl_process (babl_fish (work, format), rgba, out, n);
  *rowstride = result->width * bpp;

  return out;
}
