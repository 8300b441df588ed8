/* style.c — the style layer: whether it can be used, and remembering it between runs. */
#include "style.h"

#include <stdlib.h>
#include <glib/gi18n.h>

#include "neural-style.h"

void
ns_style_add_arguments (GimpProcedure *procedure)
{
  gimp_procedure_add_int_aux_argument (procedure, "style-layer-id",
                                       "Style layer ID",
                                       "The style layer of the last run (0 = none)",
                                       0, G_MAXINT, 0, G_PARAM_READWRITE);
  gimp_procedure_add_string_aux_argument (procedure, "style-layer-name",
                                          "Style layer name",
                                          "The name of that layer, so that another layer "
                                          "with the same ID in a later session is not taken "
                                          "for it",
                                          "", G_PARAM_READWRITE);
  gimp_procedure_add_string_aux_argument (procedure, "item-arguments",
                                          "Other item arguments",
                                          "The other layer and channel arguments of the "
                                          "last run: a line \"property ID name\" each",
                                          "", G_PARAM_READWRITE);
}

void
ns_style_remember_items (GimpProcedureConfig *config,
                         const char * const  *properties)
{
  GString *text = g_string_new (NULL);
  g_autofree char *stored = NULL;

  for (gint i = 0; properties[i]; i++)
    {
      g_autoptr (GimpItem) item = NULL;
      g_autofree char *name = NULL;

      g_object_get (config, properties[i], &item, NULL);
      if (item == NULL || ! gimp_item_is_valid (item))
        continue;
      name = gimp_item_get_name (item);
      g_string_append_printf (text, "%s\t%d\t%s\n", properties[i], gimp_item_get_id (item),
                              name);
    }
  stored = g_string_free (text, FALSE);
  g_object_set (config, "item-arguments", stored, NULL);
}

void
ns_style_recall_items (GimpProcedureConfig *config)
{
  g_autofree char *stored = NULL;
  g_auto (GStrv) lines = NULL;

  g_object_get (config, "item-arguments", &stored, NULL);
  lines = g_strsplit (stored ? stored : "", "\n", -1);
  for (gint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], "\t", 3);
      g_autoptr (GimpItem) current = NULL;
      g_autofree char *name = NULL;
      GParamSpec *pspec;
      GimpItem *item;
      gint id;

      if (g_strv_length (fields) != 3)
        continue;
      pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (config), fields[0]);
      id = atoi (fields[1]);
      if (pspec == NULL || ! gimp_item_id_is_valid (id))
        continue;
      g_object_get (config, fields[0], &current, NULL);
      item = gimp_item_get_by_id (id);
      if (current || ! g_type_is_a (G_OBJECT_TYPE (item), pspec->value_type))
        continue;
      /* Not another item that got the ID in a later session. */
      name = gimp_item_get_name (item);
      if (g_strcmp0 (name, fields[2]) == 0)
        g_object_set (config, fields[0], item, NULL);
    }
}

void
ns_style_remember (GimpProcedureConfig *config)
{
  g_autoptr (GimpLayer) style = NULL;
  g_autofree char *name = NULL;

  g_object_get (config, "style-layer", &style, NULL);
  if (style == NULL || ! gimp_item_is_valid (GIMP_ITEM (style)))
    return;

  name = gimp_item_get_name (GIMP_ITEM (style));
  g_object_set (config,
                "style-layer-id",   gimp_item_get_id (GIMP_ITEM (style)),
                "style-layer-name", name,
                NULL);
}

GimpLayer *
ns_style_recall (GimpProcedureConfig *config,
                 char               **gone)
{
  g_autofree char *name = NULL;
  g_autofree char *current = NULL;
  GimpLayer *layer = NULL;
  gint id = 0;

  g_object_get (config, "style-layer-id", &id, "style-layer-name", &name, NULL);
  if (id <= 0)
    return NULL;

  if (gimp_item_id_is_valid (id) && gimp_item_id_is_layer (id))
    {
      layer   = gimp_layer_get_by_id (id);
      current = gimp_item_get_name (GIMP_ITEM (layer));
    }
  if (layer && g_strcmp0 (current, name) == 0)
    return layer;

  if (gone)
    *gone = g_strdup (name && *name ? name : "?");
  return NULL;
}

GimpPDBStatusType
ns_style_recall_for_run (GimpProcedureConfig *config,
                         GimpLayer           *fallback,
                         GimpRunMode          run_mode,
                         const char          *menu_path,
                         char               **notice,
                         GError             **error)
{
  g_autoptr (GimpLayer) style = NULL;
  g_autofree char *gone = NULL;
  GimpLayer *layer;

  g_object_get (config, "style-layer", &style, NULL);
  if (style && gimp_item_is_valid (GIMP_ITEM (style)))
    return GIMP_PDB_SUCCESS;

  layer = ns_style_recall (config, &gone);
  if (layer == NULL && gone == NULL)
    layer = fallback;
  if (layer)
    g_object_set (config, "style-layer", layer, NULL);

  if (gone && run_mode == GIMP_RUN_INTERACTIVE)
    *notice = g_strdup_printf (_("The style layer “%s” of the last run is no longer open "
                                 "(was its image closed?): choose a style layer."), gone);
  else if (gone)
    g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                 /* TRANSLATORS: the second %s is a menu entry, e.g. "Filters ▸ Artistic ▸
                  * Neural Style…" */
                 _("The style layer “%s” of the last run is no longer open (was its image "
                   "closed?).  Open it again, or choose another style layer in %s"),
                 gone, menu_path);
  else if (layer == NULL && run_mode != GIMP_RUN_INTERACTIVE)
    g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                 /* TRANSLATORS: %s is a menu entry, e.g. "Filters ▸ Artistic ▸ Neural
                  * Style…" */
                 _("There is no style layer to repeat the last run with: choose one in %s"),
                 menu_path);

  return *error ? GIMP_PDB_EXECUTION_ERROR : GIMP_PDB_SUCCESS;
}

char *
ns_style_problem (GimpLayer *style)
{
  g_autofree char *name = NULL;
  gint width, height;

  if (style == NULL)
    return g_strdup (_("Choose a style layer: open the style image as a layer, in this "
                       "image or another one."));
  if (! gimp_item_is_valid (GIMP_ITEM (style)))
    return g_strdup (_("The style layer is no longer open (was its image closed?): choose "
                       "another one."));

  width  = gimp_drawable_get_width (GIMP_DRAWABLE (style));
  height = gimp_drawable_get_height (GIMP_DRAWABLE (style));
  if (width >= NS_STYLE_MIN_SIDE && height >= NS_STYLE_MIN_SIDE)
    return NULL;

  name = gimp_item_get_name (GIMP_ITEM (style));
  return g_strdup_printf (_("The style layer “%s” is only %d×%d pixels: a style layer must "
                            "be at least %d×%d.  Choose a larger one (a painting of a few "
                            "hundred pixels or more works best)."),
                          name, width, height, NS_STYLE_MIN_SIDE, NS_STYLE_MIN_SIDE);
}

gboolean
ns_style_usable (GimpLayer *style)
{
  g_autofree char *problem = ns_style_problem (style);

  return problem == NULL;
}
