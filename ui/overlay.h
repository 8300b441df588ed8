/* overlay.h — drawing a stylized area into the 1:1 preview, over the layer's own pixels and
 * through the selection. */
#ifndef NS_UI_OVERLAY_H
#define NS_UI_OVERLAY_H

#include <libgimp/gimpui.h>

G_BEGIN_DECLS

/* Draws `shown` (the stylized pixels of `shown_rect`, in drawable coordinates, in the
 * 8-bit format of ns_preview_format, `rowstride` bytes a row) into `preview`, a
 * GimpDrawablePreview of `drawable`: where the preview's area lies outside `shown_rect`
 * the layer's own pixels are drawn, and with a selection the result shows through the
 * selection mask (feathering included) as the final run will apply it. */
void ns_overlay_draw (GimpPreview         *preview,
                      GimpDrawable        *drawable,
                      const guchar        *shown,
                      gint                 rowstride,
                      const GeglRectangle *shown_rect);

G_END_DECLS

#endif /* NS_UI_OVERLAY_H */
