/* style-rows.c — the styles' weights and regions in the dialog (see style-rows.h).
 *
 * The layer, channel and mask-layer pickers are the dialog's item combos (item-combo.h:
 * layers other than the one painted; this image's channels; this image's layers that have
 * a layer mask), kept in sync with their config properties both ways; the weights and the
 * Region combos are GIMP's property widgets.
 *
 * These controls are made here, not by the procedure dialog: it wants a mnemonic of its own
 * for every control it makes ("no mnemonic for property …" otherwise), and every letter is
 * taken by the rest of the dialog (see settings.c).  Each style's frame title has one
 * instead, its number: Alt+1, Alt+2, Alt+3 go to that style's first control. */
#include "style-rows.h"

#include <glib/gi18n.h>

#include "regions.h"
#include "item-combo.h"
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

/* A row "text [widget]", its label in the column of `labels` (if not NULL). */
static GtkWidget *
labelled_row (GtkSizeGroup *labels,
              const char   *text,
              GtkWidget    *widget)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  if (labels)
    gtk_size_group_add_widget (labels, label);
  gtk_widget_set_hexpand (widget, TRUE);
  gtk_box_pack_start (GTK_BOX (row), label, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (row), widget, TRUE, TRUE, 0);
  gtk_widget_show_all (row);
  return row;
}

/* A row "label [combo]" for the item property `base` of style `index`, offering `items`;
 * `none` is the combo's first entry, meaning no item. */
static GtkWidget *
picker_row (NsStyleRows *rows,
            const char  *base,
            int          index,
            const char  *label,
            NsItems      items,
            const char  *none)
{
  Picker *picker = &rows->pickers[rows->n_pickers++];
  g_autofree char *signal = NULL;

  picker->config   = rows->config;
  picker->property = ns_plugin_regions_property (base, index);
  picker->combo    = ns_item_combo_new (items, rows->drawable, none, picker->property);
  picker->row      = labelled_row (rows->labels, label, picker->combo);

  signal = g_strconcat ("notify::", picker->property, NULL);
  picker->combo_id  = g_signal_connect (picker->combo, "changed", G_CALLBACK (picker_changed),
                                        picker);
  picker->notify_id = g_signal_connect_swapped (rows->config, signal,
                                                G_CALLBACK (picker_show), picker);
  picker_show (picker);
  return picker->row;
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

/* A picker row of a region, packed into `box`, shown only for its kind of region. */
static GtkWidget *
region_picker (NsStyleRows *rows,
               GtkWidget   *box,
               const char  *base,
               int          index,
               const char  *label,
               NsItems      items,
               const char  *none,
               const char  *tooltip)
{
  GtkWidget *row = picker_row (rows, base, index, label, items, none);

  gtk_widget_set_tooltip_text (row, tooltip);
  gtk_widget_set_no_show_all (row, TRUE);
  gtk_box_pack_start (GTK_BOX (box), row, FALSE, FALSE, 0);
  return row;
}

/* The frame of style `index`: its layer (after the first: the first has its row at the top
 * of the dialog), weight, Region and the region's picker, under the title "Style N" whose
 * mnemonic is N. */
static GtkWidget *
style_frame (NsStyleRows *rows,
             int          index)
{
  GObject *config = G_OBJECT (rows->config);
  int n = index + 1;
  g_autofree char *weight = ns_plugin_regions_property ("style-weight", index);
  g_autofree char *region = ns_plugin_regions_property ("style-region", index);
  g_autofree char *text   = g_strdup_printf (_("Style _%d"), n);
  g_autofree char *signal = g_strconcat ("notify::", region, NULL);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *frame = gimp_frame_new (NULL);
  GtkWidget *title = gtk_label_new_with_mnemonic (text);
  GtkWidget *first;

  rows->weights[index] = gimp_prop_scale_entry_new (config, weight, _("Weight"), 1.0, FALSE,
                                                    0.0, 0.0);
  gimp_scale_entry_set_logarithmic (GIMP_SCALE_ENTRY (rows->weights[index]), TRUE);
  gtk_size_group_add_widget (rows->labels,
                             gimp_labeled_get_label (GIMP_LABELED (rows->weights[index])));
  rows->regions[index] = labelled_row (rows->labels, _("Region"),
                                       gimp_prop_choice_combo_box_new (config, region));
  gtk_box_pack_start (GTK_BOX (box), rows->weights[index], FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), rows->regions[index], FALSE, FALSE, 0);
  first = gimp_label_spin_get_spin_button (GIMP_LABEL_SPIN (rows->weights[index]));

  if (index > 0)
    {
      GtkWidget *row = picker_row (rows, "style-layer", index, _("Layer"),
                                   NS_ITEMS_STYLE_LAYERS, _("None"));
      g_autofree char *layer_signal = g_strconcat ("notify::",
                                                   rows->pickers[rows->n_pickers - 1].property,
                                                   NULL);

      gtk_widget_set_tooltip_text (row, _("A further style: a painting opened as a layer "
                                          "(None: not used)"));
      gtk_box_pack_start (GTK_BOX (box), row, FALSE, FALSE, 0);
      gtk_box_reorder_child (GTK_BOX (box), row, 0);
      first = rows->pickers[rows->n_pickers - 1].combo;
      rows->layer_ids[index] = g_signal_connect_swapped (rows->config, layer_signal,
                                                         G_CALLBACK (region_changed), rows);
    }

  rows->channel_rows[index] =
    region_picker (rows, box, "style-channel", index, _("Channel"),
                   NS_ITEMS_CHANNELS,
                   _("Choose a channel"),
                   _("White where the style goes (Select ▸ Save to Channel makes a channel "
                     "of a selection)"));
  rows->mask_rows[index] =
    region_picker (rows, box, "style-mask-layer", index, _("Mask of layer"),
                   NS_ITEMS_MASKED_LAYERS,
                   _("Choose a layer with a mask"),
                   _("A layer of this image whose layer mask is white where the style goes"));

  gtk_label_set_mnemonic_widget (GTK_LABEL (title), first);
  gtk_frame_set_label_widget (GTK_FRAME (frame), title);
  gtk_container_add (GTK_CONTAINER (frame), box);
  gtk_widget_show_all (frame);
  rows->region_ids[index] = g_signal_connect_swapped (rows->config, signal,
                                                      G_CALLBACK (region_changed), rows);
  return frame;
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
  GtkWidget *box;

  rows->config   = g_object_ref (config);
  rows->drawable = g_object_ref (drawable);
  rows->labels   = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);

  label = gimp_procedure_dialog_get_label (dialog, "regions-hint",
                                           _("Each style goes where its region is white; "
                                             "where regions overlap, the styles blend by "
                                             "weight."),
                                           FALSE, FALSE);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gimp_label_set_attributes (GTK_LABEL (label), PANGO_ATTR_SCALE, PANGO_SCALE_SMALL, -1);

  box = gimp_procedure_dialog_fill_box (dialog, "regions-box", "regions-hint", NULL);
  for (int i = 0; i < NS_PLUGIN_N_STYLES; i++)
    gtk_box_pack_start (GTK_BOX (box), style_frame (rows, i), FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box),
                      labelled_row (NULL, _("Outside the regions"),
                                    gimp_prop_choice_combo_box_new (G_OBJECT (config),
                                                                    "region-rest")),
                      FALSE, FALSE, 0);
  gimp_procedure_dialog_get_label (dialog, "regions-title", _("More styles and regions"),
                                   FALSE, FALSE);
  expander = gimp_procedure_dialog_fill_expander (dialog, "regions", "regions-title", FALSE,
                                                  "regions-box");
  /* For the tests: the expander has no mnemonic (every letter is taken); nor have the first
   * style's Region and channel picker (only its frame has). */
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

gboolean
ns_style_rows_refill (NsStyleRows *rows)
{
  gboolean refilled = TRUE;

  for (gint i = 0; i < rows->n_pickers; i++)
    {
      /* Then the chosen item, or "None" when it is gone. */
      if (ns_item_combo_refill (rows->pickers[i].combo))
        picker_show (&rows->pickers[i]);
      else
        refilled = FALSE;
    }
  return refilled;
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
