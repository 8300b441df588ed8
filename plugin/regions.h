/* regions.h — the styles of plug-in-neural-style and where each goes (issue 17).
 *
 * Up to NS_PLUGIN_N_STYLES styles, each with its layer, its blend weight and its region:
 * everywhere, the selection, a channel (a saved selection) or the layer mask of a layer of
 * the image.  Their arguments:
 *
 *   style 1   style-layer, style-weight-1, style-region, style-channel, style-mask-layer
 *   style N   style-layer-N, style-weight-N, style-region-N, style-channel-N,
 *             style-mask-layer-N  (N = 2, 3; no layer = the style is not used)
 *   all       region-rest: what no region covers gets: "content" (no style) or "styles"
 *
 * ("style-weight" is β, how strongly the result takes on the styles; the style-weight-N
 * blend the styles.)  A region is read as a mask over the part of the layer being
 * stylized.  When only a selection is stylized, the selection guides the styles too: each
 * region is cut to it, so the unselected part of its bounding box counts for no style (but
 * through the network's coarser features, which see across the selection's edge: see
 * docs/regions.md).  A style whose region is the selection is different: the selection
 * then says where that style goes, and the whole layer is stylized. */
#ifndef NS_PLUGIN_REGIONS_H
#define NS_PLUGIN_REGIONS_H

#include <libgimp/gimp.h>

#include "job.h"

G_BEGIN_DECLS

#define NS_PLUGIN_N_STYLES 3

typedef enum
{
  NS_REGION_EVERYWHERE,
  NS_REGION_SELECTION,
  NS_REGION_CHANNEL,
  NS_REGION_LAYER_MASK
} NsRegionKind;

/* Registers the arguments above (after every older one). */
void        ns_plugin_regions_add_arguments (GimpProcedure *procedure);

/* The name of argument `base` ("style-layer", "style-weight", "style-region",
 * "style-channel" or "style-mask-layer") for style `index` (0 = the first style).  Free it
 * with g_free. */
char       *ns_plugin_regions_property      (const char *base,
                                             int         index);

/* The layer and channel arguments above (NULL-terminated): GIMP does not remember them
 * between runs, so the plug-in does (ns_style_remember_items). */
const char * const *ns_plugin_regions_items (void);

/* The region chosen for style `index`. */
NsRegionKind ns_plugin_regions_kind         (GimpProcedureConfig *config,
                                             int                  index);

/* Whether style `index` is used: the first always, the others when they have a layer. */
gboolean    ns_plugin_regions_style_used    (GimpProcedureConfig *config,
                                             int                  index);

/* Whether a style's region is the selection: then the whole of `drawable` is stylized. */
gboolean    ns_plugin_regions_whole_layer   (GimpProcedureConfig *config);

/* The area of `drawable` a run stylizes: the selected part's bounds, or all of it when
 * ns_plugin_regions_whole_layer.  FALSE when nothing of the layer is selected. */
gboolean    ns_plugin_regions_area          (GimpProcedureConfig *config,
                                             GimpDrawable        *drawable,
                                             GeglRectangle       *rect);

/* The further style layers and the regions' arguments, for a run on `drawable`:
 * GIMP_PDB_SUCCESS, or GIMP_PDB_CALLING_ERROR with `error` saying, for a GIMP user, what is
 * wrong (a style layer that is gone or too small, a region "channel" without a channel or
 * with one of another image or size, a region "layer-mask" without a layer mask, a region
 * "selection" without a selection). */
GimpPDBStatusType ns_plugin_regions_check   (GimpProcedureConfig *config,
                                             GimpDrawable        *drawable,
                                             GError             **error);

/* How ns_plugin_regions_read treats a region with nothing of it inside `rect`. */
typedef enum
{
  NS_REGIONS_WHOLE,      /* the run's whole area: an error ("the region … is empty")      */
  NS_REGIONS_PART        /* a preview of part of it: the style is left out                */
} NsRegionsArea;

/* The styles of a run on `rect` of `drawable` (the drawable's coordinates; the selection's
 * bounds, or all of it when ns_plugin_regions_whole_layer): the style layers in the
 * drawable's colour space, their blend weights, and their regions as masks over `rect`
 * read at `scale` as the content given to the job is (1: at the area's own size;
 * ns_region_read_scaled): of the content's shape, which the engine resizes to the size it
 * runs at.  NULL with `error` when a region is empty. */
NsStyles   *ns_plugin_regions_read          (GimpProcedureConfig *config,
                                             GimpDrawable        *drawable,
                                             const GeglRectangle *rect,
                                             double               scale,
                                             NsRegionsArea        area,
                                             GError             **error);

/* The same for an estimate of the final run on `drawable` (ns_job_new_estimate): the style
 * images' sizes only (images without data) and the regions read small (the engine takes
 * masks at any size of the content's shape); NULL when the regions are not usable (yet:
 * ns_plugin_regions_check and ns_plugin_regions_read say why). */
NsStyles   *ns_plugin_regions_read_sizes    (GimpProcedureConfig *config,
                                             GimpDrawable        *drawable);

G_END_DECLS

#endif /* NS_PLUGIN_REGIONS_H */
