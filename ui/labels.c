/* labels.c — how the dialog's controls read: short style-layer names, "Automatic" for the
 * settings where 0 means automatic, and sliders of one width whatever the language. */
#include "labels.h"

#include <glib/gi18n.h>

#include "preview.h"

/* Sliders are at least this wide (px), so that long translated labels cannot squeeze them. */
#define SCALE_MIN_WIDTH 150

/* ---- the style layer combo ------------------------------------------------------------------ */

/* "painting", "painting (starry-night.jpg)" for another image's layer, indented by one dash
 * per enclosing group as GIMP's own labels are.  NULL when the layer or its image went away
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

/* For the tests: every row's label. */
static void
record_labels (GtkTreeModel *model)
{
  g_autoptr (GString) text = g_string_new (NULL);

  gtk_tree_model_foreach (model, append_label, text);
  ns_ui_state_set ("style-labels", text->str);
}

/* GIMP fills the combo's rows with "[image]-7 / layer-12"; each row is relabelled when it
 * is set (setting the same label again ends the recursion). */
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
  /* A cached proxy outlives its layer: ask GIMP whether the layer is still there. */
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

void
ns_style_combo_use_short_labels (GtkWidget    *combo,
                                 GimpDrawable *drawable)
{
  GtkTreeModel *model = gtk_combo_box_get_model (GTK_COMBO_BOX (combo));
  GimpImage *own_image = gimp_item_get_image (GIMP_ITEM (drawable));

  gtk_tree_model_foreach (model, relabel_row, own_image);
  record_labels (model);
  g_signal_connect_object (model, "row-changed", G_CALLBACK (row_changed), own_image, 0);
}

/* ---- 0 = automatic -------------------------------------------------------------------------- */

static gboolean
spin_output (GtkSpinButton *spin,
             const char    *text)
{
  if (gtk_adjustment_get_value (gtk_spin_button_get_adjustment (spin)) != 0.0)
    return FALSE;

  if (g_strcmp0 (gtk_entry_get_text (GTK_ENTRY (spin)), text) != 0)
    gtk_entry_set_text (GTK_ENTRY (spin), text);
  return TRUE;
}

static gint
spin_input (GtkSpinButton *spin,
            gdouble       *value,
            const char    *text)
{
  if (g_strcmp0 (gtk_entry_get_text (GTK_ENTRY (spin)), text) != 0)
    return FALSE;

  *value = 0.0;
  return TRUE;
}

void
ns_spin_show_zero_as (GimpProcedureDialog *dialog,
                      const char          *property,
                      const char          *text)
{
  GtkWidget *labeled = gimp_procedure_dialog_get_widget (dialog, property, G_TYPE_NONE);
  GtkWidget *spin = gimp_label_spin_get_spin_button (GIMP_LABEL_SPIN (labeled));
  g_autofree char *key = g_strconcat ("control-", property, "-text", NULL);
  int chars = g_utf8_strlen (text, -1);

  /* A numeric spin button would drop the letters of `text`. */
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), FALSE);
  g_object_set_data_full (G_OBJECT (spin), "ns-zero-text", g_strdup (text), g_free);
  text = g_object_get_data (G_OBJECT (spin), "ns-zero-text");
  g_signal_connect (spin, "output", G_CALLBACK (spin_output), (gpointer) text);
  g_signal_connect (spin, "input", G_CALLBACK (spin_input), (gpointer) text);
  if (gtk_entry_get_width_chars (GTK_ENTRY (spin)) < chars)
    gtk_entry_set_width_chars (GTK_ENTRY (spin), chars);
  spin_output (GTK_SPIN_BUTTON (spin), text);
  ns_ui_state_set (key, gtk_entry_get_text (GTK_ENTRY (spin)));
}

/* ---- slider widths -------------------------------------------------------------------------- */

void
ns_align_controls (GimpProcedureDialog *dialog,
                   const char * const  *properties)
{
  g_autoptr (GtkSizeGroup) labels = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);
  g_autoptr (GtkSizeGroup) spins = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);

  for (guint i = 0; properties[i]; i++)
    {
      GtkWidget *widget = gimp_procedure_dialog_get_widget (dialog, properties[i], G_TYPE_NONE);

      if (! GIMP_IS_LABEL_SPIN (widget))
        continue;
      gtk_size_group_add_widget (labels, gimp_labeled_get_label (GIMP_LABELED (widget)));
      gtk_size_group_add_widget (spins,
                                 gimp_label_spin_get_spin_button (GIMP_LABEL_SPIN (widget)));
      if (GIMP_IS_SCALE_ENTRY (widget))
        gtk_widget_set_size_request (gimp_scale_entry_get_range (GIMP_SCALE_ENTRY (widget)),
                                     SCALE_MIN_WIDTH, -1);
    }
}
