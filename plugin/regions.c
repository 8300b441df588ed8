/* regions.c — the styles of a run and their regions, read as masks (see regions.h). */
#include "regions.h"

#include <glib/gi18n.h>

#include "settings.h"
#include "pixels.h"
#include "style.h"

/* ---- arguments ------------------------------------------------------------------------------ */

char *
ns_plugin_regions_property (const char *base,
                            int         index)
{
  /* "style-weight" was β before there were several styles: the first style's blend weight
   * is "style-weight-1"; its other arguments keep the plain names, as "style-layer" does. */
  if (index == 0 && g_strcmp0 (base, "style-weight") != 0)
    return g_strdup (base);
  return g_strdup_printf ("%s-%d", base, index + 1);
}

static GimpChoice *
region_choice (void)
{
  return gimp_choice_new_with_values (
           "everywhere", NS_REGION_EVERYWHERE, _("Everywhere"),  NULL,
           "selection",  NS_REGION_SELECTION,  _("Selection"),   NULL,
           "channel",    NS_REGION_CHANNEL,    _("Channel"),     NULL,
           "layer-mask", NS_REGION_LAYER_MASK, _("Layer mask"),  NULL,
           NULL);
}

/* The nicks have no mnemonic (every letter is taken, see settings.c): the dialog makes these
 * arguments' controls itself, under frames titled "Style _N" (ui/style-rows.c). */
static void
add_style_arguments (GimpProcedure *procedure,
                     int            index)
{
  g_autofree char *layer     = ns_plugin_regions_property ("style-layer", index);
  g_autofree char *weight    = ns_plugin_regions_property ("style-weight", index);
  g_autofree char *region    = ns_plugin_regions_property ("style-region", index);
  g_autofree char *channel   = ns_plugin_regions_property ("style-channel", index);
  g_autofree char *mask      = ns_plugin_regions_property ("style-mask-layer", index);
  g_autofree char *nick      = NULL;
  int n = index + 1;

  if (index > 0)
    {
      nick = g_strdup_printf (_("Style layer %d"), n);
      gimp_procedure_add_layer_argument (procedure, layer, nick,
                                         _("A further style layer (none: the style is not "
                                           "used)"),
                                         TRUE, G_PARAM_READWRITE);
      g_free (nick);
    }

  nick = g_strdup_printf (_("Weight of style %d"), n);
  gimp_procedure_add_double_argument (procedure, weight, nick,
                                      _("How much of this style the blend of the styles "
                                        "takes, where they share a region (the weights are "
                                        "made to sum to 1)"),
                                      0.01, 100.0, 1.0, G_PARAM_READWRITE);
  g_free (nick);

  nick = g_strdup_printf (_("Region of style %d"), n);
  gimp_procedure_add_choice_argument (procedure, region, nick,
                                      _("Where the style goes: everywhere, the selection "
                                        "(then the whole layer is stylized), a channel, or "
                                        "the layer mask of a layer of the image (white: the "
                                        "style applies)"),
                                      region_choice (), "everywhere", G_PARAM_READWRITE);
  g_free (nick);

  nick = g_strdup_printf (_("Channel of style %d"), n);
  gimp_procedure_add_channel_argument (procedure, channel, nick,
                                       _("For the region \"channel\": a channel of the image "
                                         "(e.g. a saved selection), white where the style "
                                         "applies"),
                                       TRUE, G_PARAM_READWRITE);
  g_free (nick);

  nick = g_strdup_printf (_("Mask layer of style %d"), n);
  gimp_procedure_add_layer_argument (procedure, mask, nick,
                                     _("For the region \"layer-mask\": a layer of the image "
                                       "whose layer mask is white where the style applies "
                                       "(it may be the layer being stylized)"),
                                     TRUE, G_PARAM_READWRITE);
}

void
ns_plugin_regions_add_arguments (GimpProcedure *procedure)
{
  for (int i = 0; i < NS_PLUGIN_N_STYLES; i++)
    add_style_arguments (procedure, i);

  gimp_procedure_add_choice_argument (procedure, "region-rest",
                                      _("Outside the regions"),
                                      _("What the parts of the layer that no style's region "
                                        "covers get: no style (the layer's content only), or "
                                        "the blend of all the styles"),
                                      gimp_choice_new_with_values (
                                        "content", NS_REGION_REST_CONTENT,
                                        _("No style"), NULL,
                                        "styles",  NS_REGION_REST_STYLES,
                                        _("All the styles"), NULL,
                                        NULL),
                                      "content", G_PARAM_READWRITE);
}

const char * const *
ns_plugin_regions_items (void)
{
  static GStrv items;

  if (g_once_init_enter (&items))
    {
      GPtrArray *names = g_ptr_array_new ();

      for (int i = 0; i < NS_PLUGIN_N_STYLES; i++)
        {
          if (i > 0)
            g_ptr_array_add (names, ns_plugin_regions_property ("style-layer", i));
          g_ptr_array_add (names, ns_plugin_regions_property ("style-channel", i));
          g_ptr_array_add (names, ns_plugin_regions_property ("style-mask-layer", i));
        }
      g_ptr_array_add (names, NULL);
      g_once_init_leave (&items, (GStrv) g_ptr_array_free (names, FALSE));
    }
  return (const char * const *) items;
}

/* ---- the config ----------------------------------------------------------------------------- */

/* The frames procedure has one style everywhere: none of these arguments. */
static gboolean
has_regions (GimpProcedureConfig *config)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (config), "region-rest") != NULL;
}

NsRegionKind
ns_plugin_regions_kind (GimpProcedureConfig *config,
                        int                  index)
{
  g_autofree char *region = ns_plugin_regions_property ("style-region", index);

  if (! has_regions (config))
    return NS_REGION_EVERYWHERE;
  return (NsRegionKind) gimp_procedure_config_get_choice_id (config, region);
}

/* The layer (or channel) argument `base` of style `index`, a new reference or NULL. */
static gpointer
get_item (GimpProcedureConfig *config,
          const char          *base,
          int                  index)
{
  g_autofree char *property = ns_plugin_regions_property (base, index);
  gpointer item = NULL;

  g_object_get (config, property, &item, NULL);
  return item;
}

gboolean
ns_plugin_regions_style_used (GimpProcedureConfig *config,
                              int                  index)
{
  g_autoptr (GimpLayer) layer = NULL;

  if (index == 0)
    return TRUE;
  if (! has_regions (config))
    return FALSE;
  layer = get_item (config, "style-layer", index);
  return layer != NULL;
}

gboolean
ns_plugin_regions_whole_layer (GimpProcedureConfig *config)
{
  for (int i = 0; i < NS_PLUGIN_N_STYLES; i++)
    if (ns_plugin_regions_style_used (config, i) &&
        ns_plugin_regions_kind (config, i) == NS_REGION_SELECTION)
      return TRUE;
  return FALSE;
}

gboolean
ns_plugin_regions_area (GimpProcedureConfig *config,
                        GimpDrawable        *drawable,
                        GeglRectangle       *rect)
{
  if (! ns_plugin_regions_whole_layer (config))
    return gimp_drawable_mask_intersect (drawable, &rect->x, &rect->y,
                                         &rect->width, &rect->height);

  *rect = (GeglRectangle) { 0, 0, gimp_drawable_get_width (drawable),
                            gimp_drawable_get_height (drawable) };
  return TRUE;
}

/* ---- checks --------------------------------------------------------------------------------- */

static GError *
check_channel (GimpChannel *channel,
               GimpImage   *image,
               int          n)
{
  g_autofree char *name = NULL;
  gint width, height;

  if (channel == NULL)
    return ns_plugin_error (_("The region of style %d is a channel, but no channel was "
                              "chosen: choose one (Select ▸ Save to Channel makes one of a "
                              "selection)."), n);
  if (! gimp_item_is_valid (GIMP_ITEM (channel)))
    return ns_plugin_error (_("The channel for style %d no longer exists: choose another "
                              "one."), n);

  name = gimp_item_get_name (GIMP_ITEM (channel));
  if (gimp_item_get_image (GIMP_ITEM (channel)) != image)
    return ns_plugin_error (_("The channel “%s” for style %d belongs to another image: "
                              "choose a channel of the image being stylized."), name, n);

  width  = gimp_drawable_get_width (GIMP_DRAWABLE (channel));
  height = gimp_drawable_get_height (GIMP_DRAWABLE (channel));
  /* A layer mask passed as a channel lies over its layer; channels cover the image. */
  if (! gimp_item_is_layer_mask (GIMP_ITEM (channel)) &&
      (width != gimp_image_get_width (image) || height != gimp_image_get_height (image)))
    return ns_plugin_error (_("The channel “%s” for style %d is %d×%d pixels, but the image "
                              "is %d×%d: choose a channel of the image's size."), name, n,
                            width, height, gimp_image_get_width (image),
                            gimp_image_get_height (image));
  return NULL;
}

static GError *
check_mask_layer (GimpLayer *layer,
                  GimpImage *image,
                  int        n)
{
  g_autofree char *name = NULL;

  if (layer == NULL)
    return ns_plugin_error (_("The region of style %d is a layer mask, but no layer was "
                              "chosen: choose the layer whose mask shows where the style "
                              "goes."), n);
  if (! gimp_item_is_valid (GIMP_ITEM (layer)))
    return ns_plugin_error (_("The layer whose mask is the region of style %d no longer "
                              "exists: choose another one."), n);

  name = gimp_item_get_name (GIMP_ITEM (layer));
  if (gimp_item_get_image (GIMP_ITEM (layer)) != image)
    return ns_plugin_error (_("The layer “%s” whose mask is the region of style %d belongs "
                              "to another image: choose a layer of the image being "
                              "stylized."), name, n);
  if (gimp_layer_get_mask (layer) == NULL)
    return ns_plugin_error (_("The layer “%s” has no layer mask to be the region of style "
                              "%d: add one (Layer ▸ Mask ▸ Add Layer Mask) and paint it "
                              "white where the style should go."), name, n);
  return NULL;
}

static GError *
check_style (GimpProcedureConfig *config,
             GimpImage           *image,
             int                  index)
{
  g_autoptr (GimpLayer) layer = get_item (config, "style-layer", index);
  g_autoptr (GimpChannel) channel = NULL;
  g_autoptr (GimpLayer) mask_layer = NULL;
  g_autofree char *problem = NULL;
  int n = index + 1;

  /* The first style layer is checked with the other arguments (settings.c). */
  if (index > 0 && (problem = ns_style_problem (layer)))
    return ns_plugin_error (_("Style %d: %s"), n, problem);

  switch (ns_plugin_regions_kind (config, index))
    {
    case NS_REGION_SELECTION:
      if (gimp_selection_is_empty (image))
        return ns_plugin_error (_("The region of style %d is the selection, but nothing is "
                                  "selected."), n);
      break;

    case NS_REGION_CHANNEL:
      channel = get_item (config, "style-channel", index);
      return check_channel (channel, image, n);

    case NS_REGION_LAYER_MASK:
      mask_layer = get_item (config, "style-mask-layer", index);
      return check_mask_layer (mask_layer, image, n);

    case NS_REGION_EVERYWHERE:
      break;
    }
  return NULL;
}

GimpPDBStatusType
ns_plugin_regions_check (GimpProcedureConfig *config,
                         GimpDrawable        *drawable,
                         GError             **error)
{
  GimpImage *image = gimp_item_get_image (GIMP_ITEM (drawable));

  for (int i = 0; i < NS_PLUGIN_N_STYLES; i++)
    if (ns_plugin_regions_style_used (config, i) && (*error = check_style (config, image, i)))
      return GIMP_PDB_CALLING_ERROR;
  return GIMP_PDB_SUCCESS;
}

/* ---- masks ---------------------------------------------------------------------------------- */

/* The longest side the regions are read at for an estimate: what the engine counts of a
 * mask is the share of the image it covers, which a small copy tells. */
#define ESTIMATE_MASK_SIDE 256.0

/* `mask` (a channel, a layer mask or the selection) over `rect` of `drawable`, both placed
 * where they are in the image (outside `mask`: 0), read at `scale` as the content is
 * (ns_region_read_scaled): of the content's shape, which is all the engine asks of a mask
 * (it resizes it to the size it runs at). */
static NsImage *
read_mask (GimpDrawable        *mask,
           GimpDrawable        *drawable,
           const GeglRectangle *rect,
           double               scale)
{
  g_autoptr (GeglBuffer) buffer = gimp_drawable_get_buffer (mask);
  GeglRectangle at;
  NsImage *out;
  gint dx, dy, mx, my;

  gimp_drawable_get_offsets (drawable, &dx, &dy);
  gimp_drawable_get_offsets (mask, &mx, &my);
  at = ns_rect_scaled (GEGL_RECTANGLE (rect->x + dx - mx, rect->y + dy - my,
                                       rect->width, rect->height), scale);
  out = ns_image_new (at.width, at.height, 1);
  gegl_buffer_get (buffer, &at, scale, babl_format ("Y float"), out->data,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  /* A channel of a float image may hold values outside [0,1]. */
  for (gsize i = 0; i < (gsize) at.width * at.height; i++)
    out->data[i] = ns_clamp01 (out->data[i]);
  return out;
}

static gboolean
mask_empty (const NsImage *mask)
{
  for (gsize i = 0; i < (gsize) mask->width * mask->height; i++)
    if (mask->data[i] > 0.0f)
      return FALSE;
  return TRUE;
}

static gboolean
mask_full (const NsImage *mask)
{
  for (gsize i = 0; i < (gsize) mask->width * mask->height; i++)
    if (mask->data[i] < 1.0f)
      return FALSE;
  return TRUE;
}

/* The region of style `index` over the area, or NULL for everywhere. */
static NsImage *
read_region (GimpProcedureConfig *config,
             int                  index,
             GimpDrawable        *drawable,
             const GeglRectangle *rect,
             double               scale)
{
  GimpImage *image = gimp_item_get_image (GIMP_ITEM (drawable));
  g_autoptr (GimpChannel) channel = NULL;
  g_autoptr (GimpLayer) layer = NULL;

  switch (ns_plugin_regions_kind (config, index))
    {
    case NS_REGION_SELECTION:
      return read_mask (GIMP_DRAWABLE (gimp_image_get_selection (image)), drawable, rect,
                        scale);

    case NS_REGION_CHANNEL:
      channel = get_item (config, "style-channel", index);
      return read_mask (GIMP_DRAWABLE (channel), drawable, rect, scale);

    case NS_REGION_LAYER_MASK:
      layer = get_item (config, "style-mask-layer", index);
      return read_mask (GIMP_DRAWABLE (gimp_layer_get_mask (layer)), drawable, rect, scale);

    case NS_REGION_EVERYWHERE:
      break;
    }
  return NULL;
}

/* When only a selection is stylized: the selection over the area, which guides every
 * style; NULL when it covers all of the area (a rectangle: the same as no guide). */
static NsImage *
selection_guide (GimpProcedureConfig *config,
                 GimpDrawable        *drawable,
                 const GeglRectangle *rect,
                 double               scale)
{
  GimpImage *image = gimp_item_get_image (GIMP_ITEM (drawable));
  NsImage *guide;

  if (gimp_selection_is_empty (image) || ns_plugin_regions_whole_layer (config))
    return NULL;
  guide = read_mask (GIMP_DRAWABLE (gimp_image_get_selection (image)), drawable, rect, scale);
  if (mask_full (guide))
    g_clear_pointer (&guide, ns_image_free);
  return guide;
}

/* `mask` cut to the selection `guide` (NULL = everywhere: the guide itself). */
static NsImage *
cut_to (NsImage       *mask,
        const NsImage *guide)
{
  if (mask == NULL)
    return ns_image_copy (guide);
  for (gsize i = 0; i < (gsize) mask->width * mask->height; i++)
    mask->data[i] *= guide->data[i];
  return mask;
}

/* With a selection guide the engine's rest (1 − Σ masks) would take in the unselected
 * pixels too; the styles' blend for the rest is kept inside the selection instead by
 * giving each style the selected pixels no region covers, and no rest to the engine. */
static void
rest_inside (NsStyles      *styles,
             const NsImage *guide)
{
  gsize n = (gsize) guide->width * guide->height;

  for (gsize p = 0; p < n; p++)
    {
      float rest = guide->data[p];

      for (int i = 0; i < styles->n; i++)
        rest -= styles->masks[i]->data[p];
      if (rest > 0.0f)
        for (int i = 0; i < styles->n; i++)
          styles->masks[i]->data[p] = MIN (1.0f, styles->masks[i]->data[p] + rest);
    }
  styles->rest = NS_REGION_REST_CONTENT;
}

/* ns_plugin_regions_read, or with `pixels` FALSE ns_plugin_regions_read_sizes. */
static NsStyles *
read_styles (GimpProcedureConfig *config,
             GimpDrawable        *drawable,
             const GeglRectangle *rect,
             double               scale,
             NsRegionsArea        area,
             gboolean             pixels,
             GError             **error)
{
  g_autoptr (NsImage) guide = selection_guide (config, drawable, rect, scale);
  g_autoptr (NsStyles) styles = ns_styles_new (NS_PLUGIN_N_STYLES);
  int kept = 0;

  if (has_regions (config))
    styles->rest = gimp_procedure_config_get_choice_id (config, "region-rest");

  for (int i = 0; i < NS_PLUGIN_N_STYLES; i++)
    {
      g_autoptr (GimpLayer) layer = NULL;
      g_autofree char *weight = NULL;
      NsImage *mask;
      gboolean empty, outside;

      if (! ns_plugin_regions_style_used (config, i))
        continue;

      mask = read_region (config, i, drawable, rect, scale);
      empty = mask && mask_empty (mask);
      outside = ! empty && guide && mask_empty (mask = cut_to (mask, guide));
      if (empty || outside)
        {
          ns_image_free (mask);
          /* A preview of part of the layer may just not show this style's region. */
          if (area == NS_REGIONS_PART)
            continue;
          if (empty)
            g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                         _("The region for style %d is empty: paint it white where the "
                           "style should go."), i + 1);
          else
            g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                         _("The region for style %d lies outside the selection: select "
                           "where it is, or stylize the whole layer."), i + 1);
          return NULL;
        }

      layer  = get_item (config, "style-layer", i);
      weight = ns_plugin_regions_property ("style-weight", i);
      if (has_regions (config))
        g_object_get (config, weight, &styles->blend[kept], NULL);
      styles->images[kept] = pixels ? ns_style_read (GIMP_DRAWABLE (layer),
                                                     gimp_drawable_get_format (drawable))
                                    : ns_style_size (GIMP_DRAWABLE (layer));
      styles->masks[kept]  = mask;
      kept++;
    }

  if (kept == 0)
    {
      g_set_error_literal (error, GIMP_PLUG_IN_ERROR, 0,
                           _("No style's region is in this part of the layer: scroll the "
                             "preview to one, or preview the whole layer."));
      return NULL;
    }
  styles->n = kept;
  if (guide && styles->rest == NS_REGION_REST_STYLES)
    rest_inside (styles, guide);

  return g_steal_pointer (&styles);
}

NsStyles *
ns_plugin_regions_read (GimpProcedureConfig *config,
                        GimpDrawable        *drawable,
                        const GeglRectangle *rect,
                        double               scale,
                        NsRegionsArea        area,
                        GError             **error)
{
  return read_styles (config, drawable, rect, scale, area, TRUE, error);
}

NsStyles *
ns_plugin_regions_read_sizes (GimpProcedureConfig *config,
                              GimpDrawable        *drawable)
{
  g_autoptr (GError) error = NULL;
  GeglRectangle area;

  if (! ns_plugin_regions_area (config, drawable, &area) ||
      ns_plugin_regions_check (config, drawable, &error) != GIMP_PDB_SUCCESS)
    return NULL;
  return read_styles (config, drawable, &area,
                      MIN (1.0, ESTIMATE_MASK_SIDE / MAX (area.width, area.height)),
                      NS_REGIONS_WHOLE, FALSE, &error);
}
