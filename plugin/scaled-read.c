/* scaled-read.c — reading part of a GEGL buffer at a scale (scaled-read.h).
 *
 * A scaled gegl_buffer_get samples its output pixel i at (at.x + i) / scale in the buffer's
 * own coordinates (through its mipmaps and box filter).  A mask placed elsewhere in the
 * image than the drawable cannot be read by shifting the rectangle: the shifted one's
 * at.x = floor ((x + shift) · scale) moves the grid by the fraction that flooring drops,
 * up to a pixel of the read.  The mask is copied, unscaled (exact: the shift is whole
 * pixels), into a buffer in the drawable's coordinates and read from there on the very
 * grid the drawable is read on. */
#include "scaled-read.h"

#include <math.h>

/* Pixels of the mask copied around `rect` (times 1/scale): what a scaled read's mipmaps
 * and filter take in beyond its edge. */
#define MARGIN_SCALED 4.0

GeglRectangle
ns_rect_scaled (const GeglRectangle *rect,
                double               scale)
{
  return (GeglRectangle) { (gint) floor (rect->x * scale), (gint) floor (rect->y * scale),
                           MAX (1, (gint) lround (rect->width * scale)),
                           MAX (1, (gint) lround (rect->height * scale)) };
}

NsImage *
ns_mask_read_scaled (GeglBuffer          *mask,
                     gint                 shift_x,
                     gint                 shift_y,
                     const GeglRectangle *rect,
                     double               scale)
{
  g_autoptr (GeglBuffer) placed = NULL;
  GeglRectangle at = scale == 1.0 ? *rect : ns_rect_scaled (rect, scale);
  GeglBuffer *source = mask;
  NsImage *out;

  if (shift_x != 0 || shift_y != 0)
    {
      gint margin = (gint) ceil (MARGIN_SCALED / MIN (scale, 1.0)) + 2;
      GeglRectangle around = { rect->x - margin, rect->y - margin,
                               rect->width + 2 * margin, rect->height + 2 * margin };
      GeglRectangle from = { around.x + shift_x, around.y + shift_y,
                             around.width, around.height };

      placed = gegl_buffer_new (&around, babl_format ("Y float"));
      gegl_buffer_copy (mask, &from, GEGL_ABYSS_NONE, placed, &around);
      source = placed;
    }

  out = ns_image_new (at.width, at.height, 1);
  gegl_buffer_get (source, &at, scale, babl_format ("Y float"), out->data, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  /* A channel of a float image may hold values outside [0,1]. */
  for (gsize i = 0; i < (gsize) at.width * at.height; i++)
    out->data[i] = ns_clamp01 (out->data[i]);
  return out;
}
