/* labels.c — how the dialog's controls read: "Automatic" for the settings where 0 means
 * automatic, and sliders of one width whatever the language. */
#include "labels.h"

#include <glib/gi18n.h>

#include "preview.h"

/* Sliders are at least this wide (px), so that long translated labels cannot squeeze them. */
#define SCALE_MIN_WIDTH 150

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
