/* overlay.c — the stylized area drawn into the 1:1 preview.
 *
 * GimpDrawablePreview's own draw_buffer (GIMP 3.0.4) masks with the selection itself, but
 * where the selection starts inside the preview it finds the first pixel to draw with the
 * width of the selected part as the row stride instead of the buffer's: the picture came
 * out shifted, with a strip of another row repeated (issue 15).  So the mask is applied
 * here, with gimp_preview_area_mask on the preview's area, over the whole area. */
#include "overlay.h"

#include <string.h>

#include "pixels.h"

/* The layer's own pixels of `rect` with the part of `shown` that overlaps it on top. */
static guchar *
compose_area (GimpDrawable        *drawable,
              const GeglRectangle *rect,
              const guchar        *shown,
              gint                 shown_rowstride,
              const GeglRectangle *shown_rect,
              guchar             **original)
{
  const Babl *format = ns_preview_format (drawable);
  gint bpp = babl_format_get_bytes_per_pixel (format);
  gint rowstride = rect->width * bpp;
  gsize size = (gsize) rowstride * rect->height;
  g_autoptr (GeglBuffer) buffer = gimp_drawable_get_buffer (drawable);
  guchar *pixels = g_malloc (size);
  GeglRectangle overlap;

  gegl_buffer_get (buffer, rect, 1.0, format, pixels, rowstride, GEGL_ABYSS_NONE);
  *original = g_memdup2 (pixels, size);

  if (gegl_rectangle_intersect (&overlap, rect, shown_rect))
    for (gint y = overlap.y; y < overlap.y + overlap.height; y++)
      memcpy (pixels + (gsize) (y - rect->y) * rowstride + (gsize) (overlap.x - rect->x) * bpp,
              shown + (gsize) (y - shown_rect->y) * shown_rowstride +
              (gsize) (overlap.x - shown_rect->x) * bpp,
              (gsize) overlap.width * bpp);
  return pixels;
}

/* The selection's coverage of `rect` (drawable coordinates), one byte a pixel. */
static guchar *
read_mask (GimpDrawable        *drawable,
           const GeglRectangle *rect)
{
  GimpImage *image = gimp_item_get_image (GIMP_ITEM (drawable));
  GimpSelection *selection = gimp_image_get_selection (image);
  g_autoptr (GeglBuffer) buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (selection));
  guchar *mask = g_malloc ((gsize) rect->width * rect->height);
  gint off_x, off_y;

  gimp_drawable_get_offsets (drawable, &off_x, &off_y);
  gegl_buffer_get (buffer,
                   GEGL_RECTANGLE (rect->x + off_x, rect->y + off_y, rect->width, rect->height),
                   1.0, babl_format ("Y u8"), mask, rect->width, GEGL_ABYSS_NONE);
  return mask;
}

void
ns_overlay_draw (GimpPreview         *preview,
                 GimpDrawable        *drawable,
                 const guchar        *shown,
                 gint                 rowstride,
                 const GeglRectangle *shown_rect)
{
  GimpImage *image = gimp_item_get_image (GIMP_ITEM (drawable));
  g_autofree guchar *original = NULL;
  g_autofree guchar *pixels = NULL;
  g_autofree guchar *mask = NULL;
  GeglRectangle rect;
  gint bpp;

  gimp_preview_get_position (preview, &rect.x, &rect.y);
  gimp_preview_get_size (preview, &rect.width, &rect.height);
  pixels = compose_area (drawable, &rect, shown, rowstride, shown_rect, &original);
  bpp    = babl_format_get_bytes_per_pixel (ns_preview_format (drawable));

  if (gimp_selection_is_empty (image))
    {
      gimp_preview_draw_buffer (preview, pixels, rect.width * bpp);
      return;
    }

  mask = read_mask (drawable, &rect);
  gimp_preview_area_mask (GIMP_PREVIEW_AREA (gimp_preview_get_area (preview)),
                          0, 0, rect.width, rect.height, gimp_drawable_type (drawable),
                          original, rect.width * bpp, pixels, rect.width * bpp,
                          mask, rect.width);
}
