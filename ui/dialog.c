/* dialog.c — the Neural Style dialog: preview on the left; the style layer, the weights
 * (β on a logarithmic slider) and the common options on the right; the rest in "Advanced". */
#include "dialog.h"

#include <math.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n.h>

#include "settings.h"
#include "preview.h"
#include "labels.h"
#include "style.h"
#include "texts.h"
#include "weights-button.h"
#include "style-rows.h"
#include "item-combo.h"
#include "regions.h"

typedef struct
{
  GimpProcedureConfig *config;
  GimpDrawable        *drawable;
  gint                 n_frames;      /* 0: one layer; else the animation's frames */
  NsNetworkCache      *networks;
  NsPreview           *preview;
  NsWeightsRow        *weights;
  NsStyleRows         *rows;          /* NULL for frames (one style everywhere) */
  GtkWidget           *dialog;
  GtkWidget           *content_weight;
  GtkWidget           *style_weight;
  GtkWidget           *tv_weight;
  GtkWidget           *style_row;
  GtkWidget           *style_label;
  GtkWidget           *style_combo;
  gulong               style_combo_id;
  char                *style_name;    /* of the chosen layer, for when it is gone */
  char                *notice;        /* why no layer is chosen, or NULL */
  gboolean             fallback;      /* no layer chosen: take a default one */
  char                *items;         /* what the pickers may list, as they list it */
  guint                watch_id;
} Dialog;

/* The layer a style is taken from when none is chosen: another layer of the image, or for
 * an animation (whose layers are all frames) a layer of another image. */
static GimpLayer *
default_style_layer (Dialog *d)
{
  if (d->n_frames > 0)
    return ns_plugin_other_image_layer (gimp_item_get_image (GIMP_ITEM (d->drawable)));
  return ns_plugin_default_style_layer (d->drawable);
}

/* Open images, layers and channels are looked at this often (ms): GIMP tells a plug-in of
 * no change. */
#define WATCH_INTERVAL 1000

/* The slider covers a useful range around the network's default; the spin button still
 * takes any value the procedure accepts. */
static void
set_weight_bounds (GtkWidget *entry,
                   double     default_value,
                   gboolean   logarithmic)
{
  GParamSpecDouble *pspec;
  GtkWidget *spin = gimp_label_spin_get_spin_button (GIMP_LABEL_SPIN (entry));
  GtkAdjustment *adj = gtk_spin_button_get_adjustment (GTK_SPIN_BUTTON (spin));
  double lower, upper;

  pspec = G_PARAM_SPEC_DOUBLE (g_object_class_find_property (
            G_OBJECT_GET_CLASS (g_object_get_data (G_OBJECT (entry), "ns-config")),
            g_object_get_data (G_OBJECT (entry), "ns-property")));

  if (logarithmic)
    {
      lower = default_value > 0 ? default_value / 1e3 : 1e-3;
      upper = default_value > 0 ? default_value * 1e3 : 1e6;
    }
  else
    {
      lower = 0.0;
      upper = default_value > 0 ? default_value * 10.0 : 10.0;
    }
  lower = CLAMP (lower, gtk_adjustment_get_lower (adj), pspec->maximum);
  upper = CLAMP (upper, lower, gtk_adjustment_get_upper (adj));

  gimp_scale_entry_set_bounds (GIMP_SCALE_ENTRY (entry), lower, upper, TRUE);
  /* Enough digits for values far below 1, as the log slider reaches them. */
  gimp_label_spin_set_digits (GIMP_LABEL_SPIN (entry), default_value >= 1000 ? 0 : 3);
}

static GtkWidget *
weight_entry (GimpProcedureDialog *dialog,
              GimpProcedureConfig *config,
              const char          *property,
              double               default_value,
              gboolean             logarithmic)
{
  GtkWidget *entry = gimp_procedure_dialog_get_scale_entry (dialog, property, 1.0);

  g_object_set_data (G_OBJECT (entry), "ns-config", config);
  g_object_set_data (G_OBJECT (entry), "ns-property", (gpointer) property);
  /* Bounds first: turning the log mapping on reads them. */
  set_weight_bounds (entry, default_value, logarithmic);
  if (logarithmic)
    gimp_scale_entry_set_logarithmic (GIMP_SCALE_ENTRY (entry), TRUE);
  return entry;
}

static void
int_entry (GimpProcedureDialog *dialog,
           const char          *property,
           double               upper_on_slider)
{
  GtkWidget *entry = gimp_procedure_dialog_get_scale_entry (dialog, property, 1.0);
  GtkWidget *spin = gimp_label_spin_get_spin_button (GIMP_LABEL_SPIN (entry));
  GtkAdjustment *adj = gtk_spin_button_get_adjustment (GTK_SPIN_BUTTON (spin));

  gimp_scale_entry_set_bounds (GIMP_SCALE_ENTRY (entry), gtk_adjustment_get_lower (adj),
                               MIN (upper_on_slider, gtk_adjustment_get_upper (adj)), TRUE);
}

static void network_changed (Dialog *d);

/* OK only with a usable style layer; the status line says what is wrong with it. */
static void
check_style (Dialog    *d,
             GimpLayer *style)
{
  g_autofree char *problem = ns_style_problem (style);

  gtk_dialog_set_response_sensitive (GTK_DIALOG (d->dialog), GTK_RESPONSE_OK, problem == NULL);
  ns_ui_state_set ("ok-sensitive", problem ? "0" : "1");
  if (problem)
    ns_preview_set_status (d->preview, style == NULL && d->notice ? d->notice : problem);
  else
    network_changed (d);
}

static void
style_changed (Dialog *d)
{
  g_autoptr (GimpLayer) style = NULL;

  g_object_get (d->config, "style-layer", &style, NULL);

  /* "Reset" clears the layer like any argument; offer the default one again. */
  if (style == NULL && d->fallback)
    {
      GimpLayer *fallback = default_style_layer (d);

      if (fallback)
        {
          g_object_set (d->config, "style-layer", fallback, NULL);
          return;
        }
    }

  if (style && gimp_item_is_valid (GIMP_ITEM (style)))
    {
      g_free (d->style_name);
      d->style_name = gimp_item_get_name (GIMP_ITEM (style));
      g_clear_pointer (&d->notice, g_free);
    }
  ns_ui_state_set ("style-layer", style ? d->style_name : "");

  g_signal_handler_block (d->style_combo, d->style_combo_id);
  if (style == NULL ||
      ! gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (d->style_combo),
                                       gimp_item_get_id (GIMP_ITEM (style))))
    gtk_combo_box_set_active (GTK_COMBO_BOX (d->style_combo), -1);
  g_signal_handler_unblock (d->style_combo, d->style_combo_id);

  check_style (d, style);
}

static void
style_combo_changed (GtkWidget *combo,
                     Dialog    *d)
{
  GimpLayer *layer = NULL;
  gint id;

  if (gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &id))
    layer = gimp_layer_get_by_id (id);
  d->fallback = TRUE;
  g_object_set (d->config, "style-layer", layer, NULL);
}

/* A combo of every open image's layers (other than the one being painted), kept in sync
 * with the "style-layer" property both ways.  Without a layer chosen it takes the first one
 * listed, unless the chosen one is gone (d->notice): then the user chooses. */
static void
make_style_combo (Dialog *d)
{
  g_autoptr (GimpLayer) style = NULL;
  GtkWidget *combo = ns_item_combo_new (NS_ITEMS_STYLE_LAYERS, d->drawable, NULL,
                                        "style-layer");
  gboolean chosen;

  g_object_get (d->config, "style-layer", &style, NULL);
  chosen = style && gimp_item_is_valid (GIMP_ITEM (style)) &&
           gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo),
                                          gimp_item_get_id (GIMP_ITEM (style)));
  if (! chosen && ! d->fallback)
    gtk_combo_box_set_active (GTK_COMBO_BOX (combo), -1);

  d->style_combo = combo;
  d->style_combo_id = g_signal_connect (combo, "changed", G_CALLBACK (style_combo_changed), d);
  gtk_widget_set_tooltip_text (combo,
                               _("The layer whose look is transferred, e.g. a painting "
                                 "opened as a layer; it may belong to another image and "
                                 "have any size"));
  gtk_label_set_mnemonic_widget (GTK_LABEL (d->style_label), combo);
  gtk_box_pack_start (GTK_BOX (d->style_row), combo, TRUE, TRUE, 0);
  gtk_widget_show (combo);

  if (! chosen && d->fallback)
    style_combo_changed (combo, d);
}

static GtkWidget *
style_row (Dialog *d)
{
  d->style_row   = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  d->style_label = gtk_label_new_with_mnemonic (_("St_yle layer"));
  gtk_label_set_xalign (GTK_LABEL (d->style_label), 0.0);
  gtk_box_pack_start (GTK_BOX (d->style_row), d->style_label, FALSE, FALSE, 0);
  make_style_combo (d);
  gtk_widget_set_margin_bottom (d->style_row, 6);
  gtk_widget_show_all (d->style_row);

  return d->style_row;
}

/* Every picker lists the images, layers and channels as they are now: FALSE while one of
 * them has its list open (they are all refilled again next time). */
static gboolean
refill_pickers (Dialog *d)
{
  gboolean refilled = ns_item_combo_refill (d->style_combo);

  if (d->rows)
    refilled = ns_style_rows_refill (d->rows) && refilled;
  return refilled;
}

/* Images, layers and channels opened or closed while the dialog is open: the pickers list
 * them as they are, and a style layer that is gone is no longer chosen (nor silently
 * replaced). */
static gboolean
watch_layers (gpointer data)
{
  Dialog *d = data;
  g_autoptr (GimpLayer) style = NULL;
  g_autofree char *items = ns_item_combo_listing (d->drawable);

  g_object_get (d->config, "style-layer", &style, NULL);
  if (style && ! gimp_item_is_valid (GIMP_ITEM (style)))
    {
      g_free (d->notice);
      d->notice = g_strdup_printf (_("The style layer “%s” is no longer open (was its image "
                                     "closed?): choose another one."),
                                   d->style_name ? d->style_name : "");
      d->fallback = FALSE;
      g_clear_object (&style);
      g_object_set (d->config, "style-layer", NULL, NULL);
    }

  if (g_strcmp0 (items, d->items) != 0 && refill_pickers (d))
    {
      g_free (d->items);
      d->items = g_steal_pointer (&items);
      /* No layer was there to choose: take the first one now listed. */
      if (style == NULL && d->fallback &&
          gtk_tree_model_iter_n_children (gtk_combo_box_get_model (
                                            GTK_COMBO_BOX (d->style_combo)), NULL) > 0)
        gtk_combo_box_set_active (GTK_COMBO_BOX (d->style_combo), 0);
    }
  return G_SOURCE_CONTINUE;
}

/* Loads the chosen network (cached, so the preview and the run reuse it) and tells the user
 * which one it is.  The weights stay: they mean the same on every network. */
static void
network_changed (Dialog *d)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsNetwork) network = NULL;
  g_autofree char *sentence = NULL;

  network = ns_network_cache_get (d->networks, ns_plugin_config_network (d->config),
                                  ns_plugin_config_padding (d->config), NULL, &error);
  if (network == NULL)
    {
      g_autofree char *text = ns_plugin_error_text (error);

      ns_preview_set_status (d->preview, text);
      return;
    }

  sentence = ns_network_sentence (network);
  ns_preview_set_status (d->preview, sentence);
}

/* For the tests: the label of each control that the procedure's newer arguments got. */
static void
record_controls (GimpProcedureDialog *dialog)
{
  static const char * const properties[] = { "upscale", "refine-iterations", "padding" };

  for (guint i = 0; i < G_N_ELEMENTS (properties); i++)
    {
      GtkWidget *widget = gimp_procedure_dialog_get_widget (dialog, properties[i], G_TYPE_NONE);
      g_autofree char *key = g_strconcat ("control-", properties[i], NULL);
      const char *label = NULL;

      if (GIMP_IS_LABELED (widget))
        label = gtk_label_get_label (GTK_LABEL (gimp_labeled_get_label (GIMP_LABELED (widget))));
      if (widget && gtk_widget_get_toplevel (widget) == GTK_WIDGET (dialog))
        ns_ui_state_set (key, label ? label : "(no label)");
    }
}

/* "0 = automatic" said in the controls themselves; the seed only matters for a noise start;
 * one label width and slider width for all. */
static void
explain_controls (GimpProcedureDialog *dialog,
                  gint                 n_frames)
{
  /* The last but one is the frames procedure's γ. */
  const char *aligned[] = {
    "content-weight", "style-weight", "iterations", "size", "tv-weight", "style-scale",
    "seed", "scales", "refine-iterations", "max-memory", NULL, NULL
  };
  GimpValueArray *noise = gimp_value_array_new (1);
  GValue value = G_VALUE_INIT;

  ns_spin_show_zero_as (dialog, "scales", _("Automatic"));
  ns_spin_show_zero_as (dialog, "max-memory", _("Automatic"));
  ns_spin_show_zero_as (dialog, "size", _("Full size"));
  if (n_frames > 0)
    aligned[G_N_ELEMENTS (aligned) - 2] = "temporal-weight";
  ns_align_controls (dialog, aligned);

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "noise");
  gimp_value_array_append (noise, &value);
  g_value_unset (&value);
  gimp_procedure_dialog_set_sensitive_if_in (dialog, "seed", NULL, "init", noise, TRUE);
}

static void
build (Dialog              *d,
       GimpProcedureDialog *dialog,
       GimpDrawable        *drawable)
{
  GimpProcedureConfig *config = d->config;
  GtkWidget *box;
  GtkWidget *label;
  gdouble alpha, beta, tv;

  g_object_get (config, "content-weight", &alpha, "style-weight", &beta, "tv-weight", &tv,
                NULL);

  d->preview = ns_preview_new (dialog, config, drawable, d->networks);
  ns_preview_set_frames (d->preview, d->n_frames);
  d->weights = ns_weights_row_new (config);

  d->content_weight = weight_entry (dialog, config, "content-weight", alpha, FALSE);
  d->style_weight   = weight_entry (dialog, config, "style-weight", beta, TRUE);
  d->tv_weight      = weight_entry (dialog, config, "tv-weight", tv, FALSE);
  int_entry (dialog, "iterations", 2000);
  int_entry (dialog, "size", 2048);
  int_entry (dialog, "seed", 1000);
  int_entry (dialog, "refine-iterations", 100);
  /* Stroke size is a ratio: 0.5× and 2× should be equally far from 1×. */
  gimp_scale_entry_set_logarithmic (
    GIMP_SCALE_ENTRY (gimp_procedure_dialog_get_scale_entry (dialog, "style-scale", 1.0)), TRUE);

  label = gimp_procedure_dialog_get_label (dialog, "network-hint",
                                           _("Automatic uses VGG-19 when its weights are "
                                             "installed, otherwise the built-in network."),
                                           FALSE, FALSE);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gimp_label_set_attributes (GTK_LABEL (label), PANGO_ATTR_SCALE, PANGO_SCALE_SMALL, -1);

  /* Frames are always replaced: the frames procedure has no "output". */
  gimp_procedure_dialog_fill_box (dialog, "advanced-box",
                                  "tv-weight", "style-scale", "optimizer", "init", "seed",
                                  "scales", "upscale", "refine-iterations", "max-memory",
                                  "network", "network-hint", "padding",
                                  d->n_frames > 0 ? NULL : "output", NULL);
  gimp_procedure_dialog_get_label (dialog, "advanced-title", _("Advanced"), FALSE, FALSE);
  gimp_procedure_dialog_fill_expander (dialog, "advanced", "advanced-title", FALSE,
                                       "advanced-box");

  if (d->n_frames > 0)
    {
      /* γ spans orders of magnitude like β; 0 (independent frames) is typed in. */
      weight_entry (dialog, config, "temporal-weight", NS_TEMPORAL_WEIGHT_DEFAULT, TRUE);
      box = gimp_procedure_dialog_fill_box (dialog, "options-box",
                                            "content-weight", "style-weight",
                                            "iterations", "size", "preserve-colors",
                                            "temporal-weight", "advanced", NULL);
    }
  else
    {
      d->rows = ns_style_rows_new (dialog, config, drawable);
      box = gimp_procedure_dialog_fill_box (dialog, "options-box",
                                            "content-weight", "style-weight",
                                            "iterations", "size", "preserve-colors",
                                            "regions", "advanced", NULL);
    }
  gtk_widget_set_size_request (box, 380, -1);
  /* The style layer matters most: first, above the weights. */
  gtk_box_pack_start (GTK_BOX (box), style_row (d), FALSE, FALSE, 0);
  gtk_box_reorder_child (GTK_BOX (box), d->style_row, 0);

  box = gimp_procedure_dialog_fill_box (dialog, "main-box", "preview-box", "options-box", NULL);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (box), GTK_ORIENTATION_HORIZONTAL);
  gtk_box_set_spacing (GTK_BOX (box), 12);

  /* The status line under both columns: the plan it shows is long. */
  box = gimp_procedure_dialog_fill_box (dialog, "top-box", "main-box", NULL);
  gtk_box_set_spacing (GTK_BOX (box), 6);
  gtk_box_pack_start (GTK_BOX (box), ns_preview_get_status (d->preview), FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), ns_weights_row_get_widget (d->weights), FALSE, FALSE, 0);

  gimp_procedure_dialog_fill (dialog, "top-box", NULL);
  explain_controls (dialog, d->n_frames);
  record_controls (dialog);
}

/* Whether the chosen style layer can be used now (it may have gone since the last check),
 * and the further styles and the regions too. */
static gboolean
can_run (Dialog *d)
{
  g_autoptr (GimpLayer) style = NULL;
  g_autoptr (GError) error = NULL;

  watch_layers (d);
  g_object_get (d->config, "style-layer", &style, NULL);
  check_style (d, style);
  if (! gtk_widget_is_sensitive (gtk_dialog_get_widget_for_response (GTK_DIALOG (d->dialog),
                                                                     GTK_RESPONSE_OK)))
    return FALSE;

  /* The further styles and the regions: say what is wrong, and stay. */
  if (d->rows &&
      ns_plugin_regions_check (d->config, d->drawable, &error) != GIMP_PDB_SUCCESS)
    {
      ns_preview_set_status (d->preview, error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
dialog_run (GimpProcedure       *procedure,
            GimpProcedureConfig *config,
            GimpDrawable        *drawable,
            gint                 n_frames,
            NsNetworkCache      *networks,
            const char          *notice)
{
  Dialog d = { 0 };
  gboolean run;

  gimp_ui_init (NS_PLUGIN_BINARY);

  d.config   = config;
  d.drawable = drawable;
  d.n_frames = n_frames;
  d.networks = networks;
  d.notice   = g_strdup (notice);
  d.fallback = notice == NULL;
  d.items    = ns_item_combo_listing (drawable);
  d.dialog   = gimp_procedure_dialog_new (procedure, config,
                                          n_frames > 0 ? _("Neural Style (frames)")
                                                       : _("Neural Style"));

  build (&d, GIMP_PROCEDURE_DIALOG (d.dialog), drawable);

  network_changed (&d);
  style_changed (&d);
  g_signal_connect_swapped (config, "notify::network", G_CALLBACK (network_changed), &d);
  g_signal_connect_swapped (config, "notify::style-layer", G_CALLBACK (style_changed), &d);
  d.watch_id = g_timeout_add (WATCH_INTERVAL, watch_layers, &d);

  /* OK with a layer that went away in the last moment: say so, and stay. */
  do
    run = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (d.dialog));
  while (run && ! can_run (&d));

  g_source_remove (d.watch_id);
  g_signal_handlers_disconnect_by_data (config, &d);
  ns_weights_row_free (d.weights);
  ns_style_rows_free (d.rows);
  ns_preview_free (d.preview);
  gtk_widget_destroy (d.dialog);
  g_free (d.style_name);
  g_free (d.notice);
  g_free (d.items);

  return run;
}

gboolean
ns_dialog_run (GimpProcedure       *procedure,
               GimpProcedureConfig *config,
               GimpDrawable        *drawable,
               NsNetworkCache      *networks,
               const char          *notice)
{
  return dialog_run (procedure, config, drawable, 0, networks, notice);
}

gboolean
ns_dialog_run_frames (GimpProcedure       *procedure,
                      GimpProcedureConfig *config,
                      GimpDrawable        *drawable,
                      gint                 n_frames,
                      NsNetworkCache      *networks,
                      const char          *notice)
{
  return dialog_run (procedure, config, drawable, MAX (n_frames, 1), networks, notice);
}
