/* weights-button.c — "Get VGG-19…": downloads and verifies the VGG-19 weights from the
 * dialog (plugin/download.c runs the engine's download in a worker thread), shows its
 * progress with a Cancel button, says what went wrong in words, and switches the network to
 * VGG-19 when the weights are in.  Shown only while no weights are found. */
#include "weights-button.h"

#include <glib/gi18n.h>

#include "download.h"
#include "preview.h"
#include "state.h"

struct _NsWeightsRow
{
  GimpProcedureConfig *config;
  GtkWidget           *box;
  GtkWidget           *button;
  GtkWidget           *progress;
  GtkWidget           *cancel;
  GtkWidget           *message;
  NsDownload          *download;
  char                *dest;
};

static void
set_message (NsWeightsRow *r,
             const char   *text,
             const char   *detail)
{
  gtk_label_set_text (GTK_LABEL (r->message), text);
  gtk_widget_set_tooltip_text (r->message, detail);
  gtk_widget_set_visible (r->message, text && *text);
  ns_ui_state_set ("weights", text);
}

static void
set_running (NsWeightsRow *r,
             gboolean      running)
{
  gtk_widget_set_sensitive (r->button, ! running);
  gtk_widget_set_visible (r->progress, running);
  gtk_widget_set_visible (r->cancel, running);
  gtk_widget_set_sensitive (r->cancel, running);
}

static void
download_update (NsDownload *download,
                 guint64     done,
                 guint64     total,
                 gpointer    data)
{
  NsWeightsRow *r = data;
  GtkProgressBar *bar = GTK_PROGRESS_BAR (r->progress);
  guint64 size = total > 0 ? total : NS_VGG19_DOWNLOAD_BYTES;
  g_autofree char *text = NULL;

  if (total > 0 && done >= total)
    {
      /* Checking the SHA-256 and keeping the convolutions take a few seconds. */
      gtk_progress_bar_pulse (bar);
      gtk_progress_bar_set_text (bar, _("Checking the download…"));
      return;
    }
  gtk_progress_bar_set_fraction (bar, MIN (1.0, (double) done / size));
  text = g_strdup_printf (_("Downloading VGG-19: %d of about %d MB"),
                          (int) (done / 1000000), (int) (size / 1000000));
  gtk_progress_bar_set_text (bar, text);
}

static void
download_done (NsDownload   *download,
               const GError *error,
               const char   *detail,
               gpointer      data)
{
  NsWeightsRow *r = data;

  g_clear_pointer (&r->download, ns_download_free);
  set_running (r, FALSE);

  if (error)
    {
      gtk_button_set_label (GTK_BUTTON (r->button), _("Try again"));
      set_message (r, error->message, detail);
      return;
    }

  gtk_widget_hide (r->button);
  set_message (r, _("VGG-19 is installed and now chosen as the network."), NULL);
  g_object_set (r->config, "network", "vgg19", NULL);
}

static void
get_clicked (NsWeightsRow *r)
{
  set_message (r, NULL, NULL);
  set_running (r, TRUE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (r->progress), 0.0);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (r->progress), _("Connecting…"));
  r->download = ns_download_start (ns_download_url (), ns_download_sha256 (), r->dest, NULL,
                                   download_update, download_done, r);
}

static void
cancel_clicked (NsWeightsRow *r)
{
  if (r->download)
    ns_download_cancel (r->download);
  gtk_widget_set_sensitive (r->cancel, FALSE);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (r->progress), _("Stopping…"));
}

static GtkWidget *
buttons_row (NsWeightsRow *r)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  /* Every mnemonic letter is taken (see settings.c): none here. */
  r->button = gtk_button_new_with_label (_("Get VGG-19…"));
  gtk_widget_set_tooltip_text (r->button,
                               _("Download the VGG-19 weights (about 575 MB, once), check them "
                                 "and use them: better results than the built-in network"));
  g_signal_connect_swapped (r->button, "clicked", G_CALLBACK (get_clicked), r);
  g_signal_connect (r->button, "size-allocate", G_CALLBACK (ns_ui_state_record_geometry),
                    (gpointer) "weights-button");
  gtk_box_pack_start (GTK_BOX (row), r->button, FALSE, FALSE, 0);

  r->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (r->progress), TRUE);
  gtk_progress_bar_set_ellipsize (GTK_PROGRESS_BAR (r->progress), PANGO_ELLIPSIZE_END);
  gtk_widget_set_valign (r->progress, GTK_ALIGN_CENTER);
  gtk_box_pack_start (GTK_BOX (row), r->progress, TRUE, TRUE, 0);

  r->cancel = gtk_button_new_with_label (_("Cancel download"));
  g_signal_connect_swapped (r->cancel, "clicked", G_CALLBACK (cancel_clicked), r);
  gtk_box_pack_start (GTK_BOX (row), r->cancel, FALSE, FALSE, 0);

  gtk_widget_show (r->button);
  gtk_widget_show (row);
  return row;
}

NsWeightsRow *
ns_weights_row_new (GimpProcedureConfig *config)
{
  NsWeightsRow *r = g_new0 (NsWeightsRow, 1);
  g_autofree char *found = ns_weights_find (NULL, NULL);

  r->config = g_object_ref (config);
  r->dest   = ns_weights_default_path ();
  r->box    = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);

  gtk_box_pack_start (GTK_BOX (r->box), buttons_row (r), FALSE, FALSE, 0);

  r->message = gtk_label_new (NULL);
  gtk_label_set_line_wrap (GTK_LABEL (r->message), TRUE);
  gtk_label_set_xalign (GTK_LABEL (r->message), 0.0);
  gimp_label_set_attributes (GTK_LABEL (r->message), PANGO_ATTR_SCALE, PANGO_SCALE_SMALL, -1);
  gtk_box_pack_start (GTK_BOX (r->box), r->message, FALSE, FALSE, 0);

  /* The dialog's show_all must not show what only a download shows; with the weights found
   * there is nothing to get. */
  gtk_widget_set_no_show_all (r->box, TRUE);
  gtk_widget_set_no_show_all (r->progress, TRUE);
  gtk_widget_set_no_show_all (r->cancel, TRUE);
  gtk_widget_set_no_show_all (r->message, TRUE);
  gtk_widget_set_visible (r->box, found == NULL);
  ns_ui_state_set ("weights", found ? "found" : "missing");
  return r;
}

GtkWidget *
ns_weights_row_get_widget (NsWeightsRow *r)
{
  return r->box;
}

void
ns_weights_row_free (NsWeightsRow *r)
{
  if (r == NULL)
    return;

  /* Closing the dialog stops a download (curl is stopped, the partial file deleted). */
  ns_download_free (r->download);
  g_object_unref (r->config);
  g_free (r->dest);
  g_free (r);
}
