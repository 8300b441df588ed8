/* style-rows.c — the styles' weights and regions in the dialog (see style-rows.h).
 *
 * The layer, channel and mask-layer pickers are GIMP's item combos restricted to what fits
 * (layers other than the one painted; this image's channels; this image's layers that have
 * a layer mask), kept in sync with their config properties both ways; the weights and the
 * Region combos are the procedure dialog's own widgets. */
#include "style-rows.h"

#include <glib/gi18n.h>

#include "regions.h"
#include "labels.h"
#include "state.h"

/* A picker bound to an item property of the config. */
typedef struct
{
  GimpProcedureConfig *config;
  char                *property;
  GtkWidget           *combo;
  GtkWidget           *row;
  gulong               combo_id;
  gulong               notify_id;
} Picker;

struct _NsStyleRows
{
  GimpProcedureConfig *config;
  GimpDrawable        *drawable;
  Picker               pickers[3 * NS_PLUGIN_N_STYLES];
  gint                 n_pickers;
  GtkSizeGroup        *labels;        /* one label column in every frame */
  GtkWidget           *weights[NS_PLUGIN_N_STYLES];
  GtkWidget           *regions[NS_PLUGIN_N_STYLES];
  GtkWidget           *channel_rows[NS_PLUGIN_N_STYLES];
  GtkWidget           *mask_rows[NS_PLUGIN_N_STYLES];
  gulong               region_ids[NS_PLUGIN_N_STYLES];
  gulong               layer_ids[NS_PLUGIN_N_STYLES];    /* [0] unused */
};

/* ---- pickers -------------------------------------------------------------------------------- */

static void
picker_changed (GtkWidget *combo,
                Picker    *picker)
{
  GimpItem *item = NULL;
  gint id;

  if (gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &id) && id > 0)
    item = gimp_item_get_by_id (id);
  g_signal_handler_block (picker->config, picker->notify_id);
  g_object_set (picker->config, picker->property, item, NULL);
  g_signal_handler_unblock (picker->config, picker->notify_id);
}

/* The config to the combo (at first, and after "Reset"). */
static void
picker_show (Picker *picker)
{
  g_autoptr (GimpItem) item = NULL;

  g_object_get (picker->config, picker->property, &item, NULL);
  g_signal_handler_block (picker->combo, picker->combo_id);
  if (item == NULL || ! gimp_item_is_valid (item) ||
      ! gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (picker->combo),
                                       gimp_item_get_id (item)))
    gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (picker->combo), -1);
  g_signal_handler_unblock (picker->combo, picker->combo_id);
}

/* A row "label [combo]" for the item property `base` of style `index`; `none` is the
 * combo's first entry, meaning no item. */
static GtkWidget *
picker_row (NsStyleRows *rows,
            const char  *base,
            int          index,
            const char  *label,
            GtkWidget   *combo,
            const char  *none)
{
  Picker *picker = &rows->pickers[rows->n_pickers++];
  g_autofree char *signal = NULL;
  GtkWidget *title;

  picker->config   = rows->config;
  picker->property = ns_plugin_regions_property (base, index);
  picker->combo    = combo;
  picker->row      = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  gimp_int_combo_box_prepend (GIMP_INT_COMBO_BOX (combo),
                              GIMP_INT_STORE_VALUE, -1,
                              GIMP_INT_STORE_LABEL, none,
                              -1);
  title = gtk_label_new (label);
  gtk_label_set_xalign (GTK_LABEL (title), 0.0);
  gtk_size_group_add_widget (rows->labels, title);
  gtk_box_pack_start (GTK_BOX (picker->row), title, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (picker->row), combo, TRUE, TRUE, 0);

  signal = g_strconcat ("notify::", picker->property, NULL);
  picker->combo_id  = g_signal_connect (combo, "changed", G_CALLBACK (picker_changed), picker);
  picker->notify_id = g_signal_connect_swapped (rows->config, signal,
                                                G_CALLBACK (picker_show), picker);
  picker_show (picker);
  gtk_widget_show_all (picker->row);
  return picker->row;
}

static gboolean
other_layer (GimpImage *image,
             GimpItem  *item,
             gpointer   drawable)
{
  return (gpointer) item != drawable;
}

static gboolean
same_image (GimpImage *image,
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
  return same_image (image, item, drawable) && gimp_layer_get_mask (GIMP_LAYER (item));
}

/* ---- regions -------------------------------------------------------------------------------- */

/* The channel picker for a channel region, the layer picker for a layer-mask one; a style
 * without a layer has nothing else to set. */
static void
region_changed (NsStyleRows *rows)
{
  for (int i = 0; i < NS_PLUGIN_N_STYLES; i++)
    {
      NsRegionKind kind = ns_plugin_regions_kind (rows->config, i);
      gboolean used = ns_plugin_regions_style_used (rows->config, i);

      gtk_widget_set_visible (rows->channel_rows[i], used && kind == NS_REGION_CHANNEL);
      gtk_widget_set_visible (rows->mask_rows[i], used && kind == NS_REGION_LAYER_MASK);
      gtk_widget_set_sensitive (rows->weights[i], used);
      gtk_widget_set_sensitive (rows->regions[i], used);
    }
  ns_ui_state_set ("style-1-region-kind",
                   ns_plugin_regions_kind (rows->config, 0) == NS_REGION_CHANNEL ? "channel"
                                                                                : "other");
}

/* A control of the procedure dialog, labelled shortly (its frame names the style). */
static void
relabel (NsStyleRows *rows,
         GtkWidget   *widget,
         const char  *text)
{
  GtkWidget *label;

  if (! GIMP_IS_LABELED (widget))
    return;
  label = gimp_labeled_get_label (GIMP_LABELED (widget));
  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_size_group_add_widget (rows->labels, label);
}

/* A picker row of a region, packed into `box`, shown only for its kind of region. */
static GtkWidget *
region_picker (NsStyleRows *rows,
               GtkWidget   *box,
               const char  *base,
               int          index,
               const char  *label,
               GtkWidget   *combo,
               const char  *none,
               const char  *tooltip)
{
  GtkWidget *row = picker_row (rows, base, index, label, combo, none);

  gtk_widget_set_tooltip_text (row, tooltip);
  gtk_widget_set_no_show_all (row, TRUE);
  gtk_box_pack_start (GTK_BOX (box), row, FALSE, FALSE, 0);
  return row;
}

/* "style-N-frame": the style's layer (after the first: the first has its row at the top of
 * the dialog), weight, Region and the region's picker. */
static void
style_frame (NsStyleRows         *rows,
             GimpProcedureDialog *dialog,
             int                  index)
{
  int n = index + 1;
  g_autofree char *weight  = ns_plugin_regions_property ("style-weight", index);
  g_autofree char *region  = ns_plugin_regions_property ("style-region", index);
  g_autofree char *box_id  = g_strdup_printf ("style-%d-box", n);
  g_autofree char *title_id = g_strdup_printf ("style-%d-title", n);
  g_autofree char *frame_id = g_strdup_printf ("style-%d-frame", n);
  g_autofree char *title   = g_strdup_printf (_("Style %d"), n);
  g_autofree char *signal  = g_strconcat ("notify::", region, NULL);
  g_autofree char *layer_signal = NULL;
  GtkWidget *box;

  rows->weights[index] = gimp_procedure_dialog_get_scale_entry (dialog, weight, 1.0);
  rows->regions[index] = gimp_procedure_dialog_get_widget (dialog, region, G_TYPE_NONE);
  relabel (rows, rows->weights[index], _("Weight"));
  relabel (rows, rows->regions[index], _("Region"));
  gimp_scale_entry_set_logarithmic (GIMP_SCALE_ENTRY (rows->weights[index]), TRUE);
  box = gimp_procedure_dialog_fill_box (dialog, box_id, weight, region, NULL);

  if (index > 0)
    {
      GtkWidget *combo = gimp_layer_combo_box_new (other_layer, rows->drawable, NULL);
      GtkWidget *row;

      ns_style_combo_use_short_labels (combo, rows->drawable);
      row = picker_row (rows, "style-layer", index, _("Layer"), combo, _("None"));
      gtk_widget_set_tooltip_text (row, _("A further style: a painting opened as a layer "
                                          "(None: not used)"));
      gtk_box_pack_start (GTK_BOX (box), row, FALSE, FALSE, 0);
      gtk_box_reorder_child (GTK_BOX (box), row, 0);
      layer_signal = g_strconcat ("notify::", rows->pickers[rows->n_pickers - 1].property,
                                  NULL);
      rows->layer_ids[index] = g_signal_connect_swapped (rows->config, layer_signal,
                                                         G_CALLBACK (region_changed), rows);
    }

  rows->channel_rows[index] =
    region_picker (rows, box, "style-channel", index, _("Channel"),
                   gimp_channel_combo_box_new (same_image, rows->drawable, NULL),
                   _("Choose a channel"),
                   _("White where the style goes (Select ▸ Save to Channel makes a channel "
                     "of a selection)"));
  rows->mask_rows[index] =
    region_picker (rows, box, "style-mask-layer", index, _("Mask of layer"),
                   gimp_layer_combo_box_new (masked_layer, rows->drawable, NULL),
                   _("Choose a layer with a mask"),
                   _("A layer of this image whose layer mask is white where the style goes"));

  gimp_procedure_dialog_get_label (dialog, title_id, title, FALSE, FALSE);
  gimp_procedure_dialog_fill_frame (dialog, frame_id, title_id, FALSE, box_id);
  rows->region_ids[index] = g_signal_connect_swapped (rows->config, signal,
                                                      G_CALLBACK (region_changed), rows);
}

static void
expanded (GtkExpander *expander)
{
  ns_ui_state_set ("regions-expanded", gtk_expander_get_expanded (expander) ? "1" : "0");
}

NsStyleRows *
ns_style_rows_new (GimpProcedureDialog *dialog,
                   GimpProcedureConfig *config,
                   GimpDrawable        *drawable)
{
  NsStyleRows *rows = g_new0 (NsStyleRows, 1);
  GtkWidget *expander;
  GtkWidget *label;

  rows->config   = g_object_ref (config);
  rows->drawable = g_object_ref (drawable);
  rows->labels   = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);

  for (int i = 0; i < NS_PLUGIN_N_STYLES; i++)
    style_frame (rows, dialog, i);

  label = gimp_procedure_dialog_get_label (dialog, "regions-hint",
                                           _("Each style goes where its region is white; "
                                             "where regions overlap, the styles blend by "
                                             "weight."),
                                           FALSE, FALSE);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gimp_label_set_attributes (GTK_LABEL (label), PANGO_ATTR_SCALE, PANGO_SCALE_SMALL, -1);

  gimp_procedure_dialog_fill_box (dialog, "regions-box", "regions-hint", "style-1-frame",
                                  "style-2-frame", "style-3-frame", "region-rest", NULL);
  gimp_procedure_dialog_get_label (dialog, "regions-title", _("More styles and regions"),
                                   FALSE, FALSE);
  expander = gimp_procedure_dialog_fill_expander (dialog, "regions", "regions-title", FALSE,
                                                  "regions-box");
  /* For the tests: the expander has no mnemonic (every letter is taken); nor have the first
   * style's Region and channel picker. */
  g_signal_connect (expander, "size-allocate", G_CALLBACK (ns_ui_state_record_geometry),
                    (gpointer) "regions-expander");
  g_signal_connect (rows->regions[0], "size-allocate",
                    G_CALLBACK (ns_ui_state_record_geometry), (gpointer) "style-1-region");
  g_signal_connect (rows->channel_rows[0], "size-allocate",
                    G_CALLBACK (ns_ui_state_record_geometry), (gpointer) "style-1-channel");
  g_signal_connect (expander, "notify::expanded", G_CALLBACK (expanded), NULL);
  ns_ui_state_set ("regions-expanded", "0");
  region_changed (rows);

  return rows;
}

void
ns_style_rows_free (NsStyleRows *rows)
{
  if (rows == NULL)
    return;
  for (gint i = 0; i < rows->n_pickers; i++)
    {
      g_signal_handler_disconnect (rows->config, rows->pickers[i].notify_id);
      g_signal_handler_disconnect (rows->pickers[i].combo, rows->pickers[i].combo_id);
      g_free (rows->pickers[i].property);
    }
  for (int i = 0; i < NS_PLUGIN_N_STYLES; i++)
    {
      g_signal_handler_disconnect (rows->config, rows->region_ids[i]);
      if (rows->layer_ids[i])
        g_signal_handler_disconnect (rows->config, rows->layer_ids[i]);
    }
  g_object_unref (rows->labels);
  g_object_unref (rows->drawable);
  g_object_unref (rows->config);
  g_free (rows);
}
