/* pixels.h — moving pixels between GIMP drawables and engine images.
 *
 * Everything is read in float, in the drawable's own colour space, so 16- and 32-bit
 * images keep their precision.  The engine sees R'G'B' (grey drawables are expanded and
 * converted back by babl); alpha never goes through it and is written back byte for byte.
 * All functions must run on the main thread (they talk to GIMP). */
#ifndef NS_PLUGIN_PIXELS_H
#define NS_PLUGIN_PIXELS_H

#include <libgimp/gimp.h>

#include "neural-style.h"

G_BEGIN_DECLS

typedef struct
{
  GeglRectangle rect;            /* in the drawable's coordinates */
  const Babl   *native;          /* the drawable's own format */
  const Babl   *work;            /* R'G'B'(A) float in the drawable's space */
  gboolean      has_alpha;
  gint          native_bpp;
  guchar       *native_pixels;   /* the region as it was, native format */
  float        *alpha;           /* one float per pixel, or NULL without alpha */
  NsImage      *content;         /* R'G'B', what the engine stylizes (may be stolen) */
} NsRegion;

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

NsRegion *ns_region_read (GimpDrawable *drawable, const GeglRectangle *rect);
/* The same scaled by `scale` (box-filtered when shrinking); its rect is then in scaled
 * coordinates, so it is for previews, not for ns_region_apply. */
NsRegion *ns_region_read_scaled (GimpDrawable *drawable, const GeglRectangle *rect,
                                 double scale);
/* A region of `target` at `rect` (drawable coordinates) that holds the given pixels
 * instead of the drawable's: `rgba`, R'G'B'A float in the drawable's space (4 floats a
 * pixel), e.g. frames composited by the plug-in.  Its alpha is that of `rgba`; it has no
 * content.  For ns_region_apply on `target`. */
NsRegion *ns_region_new_rgba (GimpDrawable *target, const GeglRectangle *rect,
                              const float *rgba);
void      ns_region_free (NsRegion *region);

/* The whole of `style` as R'G'B' float in the colour space of `like` (a babl format). */
NsImage  *ns_style_read  (GimpDrawable *style, const Babl *like);
/* Its size alone, as an image without data (for estimates, which read only sizes). */
NsImage  *ns_style_size  (GimpDrawable *style);

/* `result` (RGB, the region's size) with the region's own alpha, in the region's native
 * format; alpha bytes are copied, not converted.  Caller frees. */
guchar   *ns_region_compose (const NsRegion *region, const NsImage *result);

/* Writes `result` into `target`'s shadow buffer at the region's rectangle, then merges it
 * once (one undo step; the selection, feathering included, masks it) and updates the view.
 * `target` must have the region's format (the drawable itself, or a copy of it). */
void      ns_region_apply (const NsRegion *region, const NsImage *result, GimpDrawable *target);

/* The 8-bit format gimp_preview_draw_buffer expects for `drawable` (its GimpImageType). */
const Babl *ns_preview_format (GimpDrawable *drawable);

/* `result` composed as above, then converted to the 8-bit format that
 * gimp_preview_draw_buffer expects for `drawable` (its GimpImageType).  Caller frees. */
guchar   *ns_region_render_u8 (const NsRegion *region, const NsImage *result,
                               GimpDrawable *drawable, gint *rowstride);

/* `result` (RGB) in the 8-bit preview format of `drawable`, with the alpha of `source`, a
 * preview (u8, `source_bpp` bytes a pixel, alpha last if any) of the same size, as
 * gimp_zoom_preview_get_source gives.  Caller frees. */
guchar   *ns_render_u8_over (const NsImage *result, const guchar *source, gint source_bpp,
                             GimpDrawable *drawable, gint *rowstride);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsRegion, ns_region_free)

G_END_DECLS

#endif /* NS_PLUGIN_PIXELS_H */
