/* scaled-read.h — reading part of a GEGL buffer at a scale, as the preview and the estimate
 * read the layer and its regions (GEGL only, so that tests can run it without GIMP). */
#ifndef NS_PLUGIN_SCALED_READ_H
#define NS_PLUGIN_SCALED_READ_H

#include <gegl.h>

#include "neural-style.h"

G_BEGIN_DECLS

/* The engine works on [0,1]; values outside (float images) would only be clipped later,
 * and masks outside it are refused.  NaN: 0. */
static inline float
ns_clamp01 (float v)
{
  return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : (v == v ? v : 0.0f));
}

/* `rect` in the coordinates of a read scaled by `scale` (ns_region_read_scaled): what
 * gegl_buffer_get is asked for, and the size such a read has. */
GeglRectangle ns_rect_scaled (const GeglRectangle *rect, double scale);

/* A mask over `rect` of a drawable, read at `scale` on the drawable's own grid: the pixel a
 * read of the drawable (ns_rect_scaled, gegl_buffer_get) has at (i, j) is the mask's there.
 * `mask` is in its own coordinates, the drawable's (x, y) being the mask's (x + shift_x,
 * y + shift_y) (their offsets in the image differ by that); outside it: 0.  Values are
 * clamped to [0,1].  One channel, of ns_rect_scaled's size. */
NsImage *ns_mask_read_scaled (GeglBuffer          *mask,
                              gint                 shift_x,
                              gint                 shift_y,
                              const GeglRectangle *rect,
                              double               scale);

G_END_DECLS

#endif /* NS_PLUGIN_SCALED_READ_H */
