/* item-combo.c — the dialog's pickers of layers and channels (see item-combo.h).
 *
 * GIMP's item combos list the items once, when they are made, under labels such as
 * "[Untitled]-7 / left-12".  These are relabelled with the item's name, and refilled from a
 * new GIMP combo when the dialog sees the images change (ns_item_combo_listing). */
#include "item-combo.h"

#include <glib/gi18n.h>

#include "state.h"

typedef struct
{
  NsItems       items;
  GimpDrawable *drawable;
  char         *none;
  char         *key;
} ItemCombo;

static void
item_combo_free (ItemCombo *c)
{
  g_object_unref (c->drawable);
  g_free (c->none);
  g_free (c->key);
  g_free (c);
}

/* ---- what is listed ------------------------------------------------------------------------- */

static gboolean
style_layer (GimpImage *image,
             GimpItem  *item,
             gpointer   drawable)
{
  return (gpointer) item != drawable;
}

static gboolean
in_image (GimpImage *image,
          GimpItem  *item,
          gpointer   drawable)
{
  return gimp_image_get_id (image) ==
         gimp_image_get_id (gimp_item_get_image (GIMP_ITEM (drawable)));
}

static gboolean
masked_layer (GimpImage *image,
              GimpItem  *item,
              gpointer   drawable)
{
  return in_image (image, item, drawable) && gimp_layer_get_mask (GIMP_LAYER (item));
}

/* ---- labels --------------------------------------------------------------------------------- */

/* "painting", "painting (starry-night.jpg)" for another image's layer, indented by one dash
 * per enclosing group as GIMP's own labels are.  NULL when the item or its image went away
 * meanwhile (closed or undone while the combo was being filled). */
static char *
short_label (GimpItem  *item,
             GimpImage *own_image)
{
  GimpImage *image = gimp_item_get_image (item);
  g_autofree char *name = gimp_item_get_name (item);
  g_autofree char *image_name = image ? gimp_image_get_name (image) : NULL;
  g_autoptr (GString) label = g_string_new (NULL);

  if (name == NULL || image_name == NULL)
    return NULL;

  for (GimpItem *parent = gimp_item_get_parent (item); parent;
       parent = gimp_item_get_parent (parent))
    g_string_append_c (label, '-');
  if (label->len > 0)
    g_string_append_c (label, ' ');

  if (image == own_image)
    g_string_append (label, name);
  else
    {
      /* TRANSLATORS: a layer of another image in the style layer list: layer (image) */
      g_string_append_printf (label, _("%s (%s)"), name, image_name);
    }
  return g_string_free (g_steal_pointer (&label), FALSE);
}

static gboolean
append_label (GtkTreeModel *model,
              GtkTreePath  *path,
              GtkTreeIter  *iter,
              gpointer      text)
{
  g_autofree char *label = NULL;

  gtk_tree_model_get (model, iter, GIMP_INT_STORE_LABEL, &label, -1);
  g_string_append_printf (text, "%s%s", ((GString *) text)->len ? " | " : "", label);
  return FALSE;
}

/* For the tests: every row's label, as "labels-KEY". */
static void
record_labels (GtkTreeModel *model)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *key = g_strconcat ("labels-", g_object_get_data (G_OBJECT (model), "ns-key"),
                                      NULL);

  gtk_tree_model_foreach (model, append_label, text);
  ns_ui_state_set (key, text->str);
}

/* GIMP fills the rows with its long labels; each row is relabelled when it is set (setting
 * the same label again ends the recursion), so also when GIMP refills the combo itself. */
static void
row_changed (GtkTreeModel *model,
             GtkTreePath  *path,
             GtkTreeIter  *iter,
             GimpImage    *own_image)
{
  g_autofree char *label = NULL;
  g_autofree char *wanted = NULL;
  GimpItem *item;
  gint id;

  gtk_tree_model_get (model, iter, GIMP_INT_STORE_VALUE, &id, GIMP_INT_STORE_LABEL, &label, -1);
  /* A cached proxy outlives its item: ask GIMP whether the item is still there. */
  item = id > 0 ? gimp_item_get_by_id (id) : NULL;
  if (item == NULL || ! gimp_item_is_valid (item))
    return;

  wanted = short_label (item, own_image);
  if (wanted == NULL || g_strcmp0 (label, wanted) == 0)
    return;
  gtk_list_store_set (GTK_LIST_STORE (model), iter, GIMP_INT_STORE_LABEL, wanted, -1);
  record_labels (model);
}

static gboolean
relabel_row (GtkTreeModel *model,
             GtkTreePath  *path,
             GtkTreeIter  *iter,
             gpointer      own_image)
{
  row_changed (model, path, iter, own_image);
  return FALSE;
}

/* ---- the combo ------------------------------------------------------------------------------ */

/* A new GIMP combo of what `c` lists, labelled by name. */
static GtkWidget *
gimp_combo (const ItemCombo *c)
{
  GimpImage *own_image = gimp_item_get_image (GIMP_ITEM (c->drawable));
  GtkWidget *combo = NULL;
  GtkTreeModel *model;

  switch (c->items)
    {
    case NS_ITEMS_STYLE_LAYERS:
      combo = gimp_layer_combo_box_new (style_layer, c->drawable, NULL);
      break;
    case NS_ITEMS_CHANNELS:
      combo = gimp_channel_combo_box_new (in_image, c->drawable, NULL);
      break;
    case NS_ITEMS_MASKED_LAYERS:
      combo = gimp_layer_combo_box_new (masked_layer, c->drawable, NULL);
      break;
    }
  if (c->none)
    gimp_int_combo_box_prepend (GIMP_INT_COMBO_BOX (combo),
                                GIMP_INT_STORE_VALUE, -1,
                                GIMP_INT_STORE_LABEL, c->none,
                                -1);

  model = gtk_combo_box_get_model (GTK_COMBO_BOX (combo));
  g_object_set_data_full (G_OBJECT (model), "ns-key", g_strdup (c->key), g_free);
  gtk_tree_model_foreach (model, relabel_row, own_image);
  record_labels (model);
  g_signal_connect_object (model, "row-changed", G_CALLBACK (row_changed), own_image, 0);
  return combo;
}

GtkWidget *
ns_item_combo_new (NsItems       items,
                   GimpDrawable *drawable,
                   const char   *none,
                   const char   *key)
{
  ItemCombo *c = g_new0 (ItemCombo, 1);
  GtkWidget *combo;

  c->items    = items;
  c->drawable = g_object_ref (drawable);
  c->none     = g_strdup (none);
  c->key      = g_strdup (key);
  combo = gimp_combo (c);
  g_object_set_data_full (G_OBJECT (combo), "ns-item-combo", c, (GDestroyNotify) item_combo_free);
  return combo;
}

gboolean
ns_item_combo_refill (GtkWidget *combo)
{
  const ItemCombo *c = g_object_get_data (G_OBJECT (combo), "ns-item-combo");
  guint changed = g_signal_lookup ("changed", GTK_TYPE_COMBO_BOX);
  GtkWidget *fresh;
  gboolean popup = FALSE;
  gboolean chosen;
  gint id;

  /* A new list would close the one the user is looking at. */
  g_object_get (combo, "popup-shown", &popup, NULL);
  if (popup)
    return FALSE;

  chosen = gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &id);
  fresh = g_object_ref_sink (gimp_combo (c));
  /* The widget stays (its place, label, focus and handlers): only its rows are new. */
  g_signal_handlers_block_matched (combo, G_SIGNAL_MATCH_ID, changed, 0, NULL, NULL, NULL);
  gtk_combo_box_set_model (GTK_COMBO_BOX (combo),
                           gtk_combo_box_get_model (GTK_COMBO_BOX (fresh)));
  if (! chosen || ! gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo), id))
    gtk_combo_box_set_active (GTK_COMBO_BOX (combo), -1);
  g_signal_handlers_unblock_matched (combo, G_SIGNAL_MATCH_ID, changed, 0, NULL, NULL, NULL);
  gtk_widget_destroy (fresh);
  g_object_unref (fresh);
  return TRUE;
}

/* ---- what the pickers may list -------------------------------------------------------------- */

/* The IDs of `items` and of groups' children; with `masks`, "m" after a layer with a mask. */
static void
append_layers (GString   *text,
               GimpItem **items,
               gboolean   masks)
{
  for (gint i = 0; items && items[i]; i++)
    {
      g_string_append_printf (text, " %d", gimp_item_get_id (items[i]));
      if (masks && gimp_layer_get_mask (GIMP_LAYER (items[i])))
        g_string_append_c (text, 'm');
      if (gimp_item_is_group (items[i]))
        {
          g_autofree GimpItem **children = gimp_item_get_children (items[i]);

          append_layers (text, children, masks);
        }
    }
}

char *
ns_item_combo_listing (GimpDrawable *drawable)
{
  gint own_id = gimp_image_get_id (gimp_item_get_image (GIMP_ITEM (drawable)));
  g_autofree GimpImage **images = gimp_get_images ();
  GString *text = g_string_new (NULL);

  for (gint i = 0; images && images[i]; i++)
    {
      g_autofree GimpLayer **layers = gimp_image_get_layers (images[i]);
      gboolean own = gimp_image_get_id (images[i]) == own_id;

      g_string_append_printf (text, "|%d:", gimp_image_get_id (images[i]));
      append_layers (text, (GimpItem **) layers, own);
      if (own)
        {
          g_autofree GimpChannel **channels = gimp_image_get_channels (images[i]);

          g_string_append (text, " /");
          for (gint c = 0; channels && channels[c]; c++)
            g_string_append_printf (text, " %d", gimp_item_get_id (GIMP_ITEM (channels[c])));
        }
    }
  return g_string_free (text, FALSE);
}
