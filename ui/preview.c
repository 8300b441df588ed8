/* preview.c — stylizing the preview area on request without blocking the dialog.
 *
 * The pixels of the visible area and of the style layer are copied on the main thread (all
 * libgimp calls stay there); the engine then runs in a job thread at the scale the final run
 * will use, and every few iterations its current image comes back through an idle callback
 * and is drawn into the GimpDrawablePreview, which masks it with the selection. */
#include "preview.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#include "settings.h"
#include "pixels.h"

/* Draw the engine's current image every this many iterations. */
#define PREVIEW_EVERY 2

/* The status line always takes this many lines: a change of height would resize the
 * preview area under a running preview. */
#define STATUS_LINES 3

struct _NsPreview
{
  GimpProcedureConfig *config;
  GimpDrawable        *drawable;
  NsNetworkCache      *networks;

  GtkWidget           *preview;       /* GimpDrawablePreview */
  GtkWidget           *run_button;
  GtkWidget           *stop_button;
  GtkWidget           *progress;
  GtkWidget           *status;
  gulong               notify_id;

  NsJob               *job;           /* the running preview, or NULL */
  NsRegion            *job_region;    /* its pixels, for alpha and the rectangle */

  guchar              *shown;         /* the last stylized image, 8-bit, or NULL */
  gint                 shown_rowstride;
  GeglRectangle        shown_rect;
};

static void
current_rect (NsPreview     *p,
              GeglRectangle *rect)
{
  gimp_preview_get_position (GIMP_PREVIEW (p->preview), &rect->x, &rect->y);
  gimp_preview_get_size (GIMP_PREVIEW (p->preview), &rect->width, &rect->height);
}

void
ns_preview_set_status (NsPreview  *p,
                       const char *message)
{
  gtk_label_set_text (GTK_LABEL (p->status), message ? message : "");
  gtk_widget_set_tooltip_text (p->status, message && *message ? message : NULL);
}

/* Keeps the status line STATUS_LINES lines high whatever it says. */
static void
fix_status_height (GtkWidget *label)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (label, NULL);
  g_autoptr (GString) text = g_string_new ("Xg");
  gint height;

  for (gint i = 1; i < STATUS_LINES; i++)
    g_string_append (text, "\nXg");
  pango_layout_set_text (layout, text->str, -1);
  pango_layout_set_attributes (layout, gtk_label_get_attributes (GTK_LABEL (label)));
  pango_layout_get_pixel_size (layout, NULL, &height);
  gtk_widget_set_size_request (label, -1, height);
}

static void
set_running (NsPreview *p,
             gboolean   running)
{
  gtk_widget_set_sensitive (p->run_button, ! running);
  gtk_widget_set_sensitive (p->stop_button, running);
}

/* Draws the last stylized image.  The area may have been scrolled or resized since; then
 * the part that overlaps is drawn over the layer's own pixels. */
static void
draw_shown (NsPreview *p)
{
  GeglRectangle rect, overlap;
  const Babl *format;
  g_autoptr (GeglBuffer) buffer = NULL;
  g_autofree guchar *pixels = NULL;
  gint bpp, rowstride;

  if (p->shown == NULL)
    return;

  current_rect (p, &rect);
  if (gegl_rectangle_equal (&rect, &p->shown_rect))
    {
      gimp_preview_draw_buffer (GIMP_PREVIEW (p->preview), p->shown, p->shown_rowstride);
      return;
    }
  if (! gegl_rectangle_intersect (&overlap, &rect, &p->shown_rect))
    return;

  format    = ns_preview_format (p->drawable);
  bpp       = babl_format_get_bytes_per_pixel (format);
  rowstride = rect.width * bpp;
  pixels    = g_malloc ((gsize) rowstride * rect.height);
  buffer    = gimp_drawable_get_buffer (p->drawable);
  gegl_buffer_get (buffer, &rect, 1.0, format, pixels, rowstride, GEGL_ABYSS_NONE);

  for (gint y = overlap.y; y < overlap.y + overlap.height; y++)
    memcpy (pixels + (gsize) (y - rect.y) * rowstride + (overlap.x - rect.x) * bpp,
            p->shown + (gsize) (y - p->shown_rect.y) * p->shown_rowstride +
            (overlap.x - p->shown_rect.x) * bpp,
            (gsize) overlap.width * bpp);

  gimp_preview_draw_buffer (GIMP_PREVIEW (p->preview), pixels, rowstride);
}

/* `image` is at the optimisation's size; scale it to the area, add the layer's alpha,
 * convert to what the preview draws, and keep it for redraws after scrolling. */
static void
show_image (NsPreview     *p,
            const NsImage *image)
{
  const GeglRectangle *rect = &p->job_region->rect;
  g_autoptr (NsImage) scaled = NULL;

  if (image->width != rect->width || image->height != rect->height)
    image = scaled = ns_image_resize (image, rect->width, rect->height);

  g_free (p->shown);
  p->shown = ns_region_render_u8 (p->job_region, image, p->drawable, &p->shown_rowstride);
  p->shown_rect = *rect;
  draw_shown (p);
}

static void
forget_job (NsPreview *p)
{
  if (p->job)
    {
      ns_job_cancel (p->job);
      ns_job_detach (p->job);
      g_clear_pointer (&p->job, ns_job_unref);
    }
  g_clear_pointer (&p->job_region, ns_region_free);
  set_running (p, FALSE);
}

static void
job_progress (NsJob            *job,
              const NsProgress *progress,
              gpointer          data)
{
  NsPreview *p = data;
  g_autofree char *left = ns_plugin_format_duration (progress->eta);
  g_autofree char *text = NULL;

  if (progress->iterations > 0)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->progress),
                                   (gdouble) progress->iteration / progress->iterations);
  if (*left)
    text = g_strdup_printf (_("Iteration %d of %d, about %s left"),
                            progress->iteration, progress->iterations, left);
  else
    text = g_strdup_printf (_("Iteration %d of %d"), progress->iteration, progress->iterations);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (p->progress), text);
  /* Which network the preview uses ("auto" may mean either). */
  ns_preview_set_status (p, ns_job_get_network_description (job));

  if (progress->preview)
    show_image (p, progress->preview);
}

static void
job_done (NsJob        *job,
          NsImage      *result,
          const GError *error,
          gpointer      data)
{
  NsPreview *p = data;
  const char *network = ns_job_get_network_description (job);
  g_autofree char *status = NULL;

  if (result)
    {
      show_image (p, result);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->progress), 1.0);
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (p->progress), _("Done"));
      status = g_strdup (network ? network : "");
      ns_image_free (result);
    }
  else if (g_error_matches (error, NS_ERROR, NS_ERROR_CANCELLED))
    {
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (p->progress), _("Stopped"));
    }
  else
    {
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->progress), 0.0);
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (p->progress), _("Failed"));
      status = g_strdup (error ? error->message : "");
    }

  if (status)
    ns_preview_set_status (p, status);
  forget_job (p);
}

/* The longest side the preview area is optimised at, so that it sees the image at the same
 * scale as the final run (which may shrink the whole region to `size`), and the factor for
 * the style scale: the engine sizes the style relative to the image it optimises, and the
 * area is `style_factor` times smaller than the final region. */
static int
preview_side (NsPreview           *p,
              const GeglRectangle *area,
              double              *style_factor)
{
  gint x, y, w, h;
  int  final_side, longest, shortest, side, needed;

  if (! gimp_drawable_mask_intersect (p->drawable, &x, &y, &w, &h))
    return 0;

  final_side = ns_plugin_run_side (ns_plugin_config_size (p->config), w, h);
  longest    = MAX (area->width, area->height);
  shortest   = MAX (MIN (area->width, area->height), 1);
  side       = (int) lround ((double) longest * final_side / MAX (w, h));
  /* As in the final run, the short side must reach the network's minimum. */
  needed     = (NS_PLUGIN_MIN_SIZE * longest + shortest - 1) / shortest;

  *style_factor = (double) MAX (w, h) / longest;
  return MAX (side, needed);
}

static void
run_clicked (NsPreview *p)
{
  g_autoptr (GimpLayer) style = NULL;
  GeglRectangle rect;
  NsOptions *options;
  gdouble style_scale;
  double style_factor;
  int side;

  forget_job (p);

  g_object_get (p->config, "style-layer", &style, "style-scale", &style_scale, NULL);
  if (style == NULL || ! gimp_item_is_valid (GIMP_ITEM (style)))
    {
      ns_preview_set_status (p, _("Choose a style layer first."));
      return;
    }

  current_rect (p, &rect);
  side = preview_side (p, &rect, &style_factor);
  if (side == 0)
    {
      ns_preview_set_status (p, _("Nothing of this layer is selected."));
      return;
    }

  options = ns_plugin_config_options (p->config);
  ns_options_set_style_scale (options, style_scale * style_factor);
  ns_options_set_preview_every (options, PREVIEW_EVERY);

  p->job_region = ns_region_read (p->drawable, &rect);
  p->job = ns_job_new (p->networks, ns_plugin_config_network (p->config), options,
                       g_steal_pointer (&p->job_region->content),
                       ns_style_read (GIMP_DRAWABLE (style), p->job_region->native),
                       side);

  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->progress), 0.0);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (p->progress), _("Starting…"));
  ns_preview_set_status (p, NULL);
  set_running (p, TRUE);

  ns_job_start (p->job, NULL, job_progress, job_done, p);
}

static void
stop_clicked (NsPreview *p)
{
  if (p->job)
    ns_job_cancel (p->job);
}

/* Scrolling or resizing redraws the layer's own pixels; put the stylized ones back.  A
 * running preview goes on: its area is drawn where it is still visible. */
static void
invalidated (GimpPreview *preview,
             NsPreview   *p)
{
  draw_shown (p);
}

static void
config_changed (NsPreview *p)
{
  if (p->shown || p->job)
    ns_preview_set_status (p, _("Settings changed: press Preview to update."));
}

static void
replace_toggle (NsPreview *p,
                GtkWidget *controls)
{
  g_autoptr (GList) children = gtk_container_get_children (GTK_CONTAINER (controls));

  /* The stock "Preview" check box would re-run on every change; this preview runs only
   * when asked, so the box holds our buttons instead. */
  for (GList *l = children; l; l = l->next)
    {
      gtk_widget_set_no_show_all (l->data, TRUE);
      gtk_widget_hide (l->data);
    }

  p->run_button = gtk_button_new_with_mnemonic (_("_Preview"));
  gtk_widget_set_tooltip_text (p->run_button,
                               _("Stylize the area shown above, at the scale of the final "
                                 "result"));
  gtk_box_pack_start (GTK_BOX (controls), p->run_button, TRUE, TRUE, 0);
  gtk_widget_show (p->run_button);
  g_signal_connect_swapped (p->run_button, "clicked", G_CALLBACK (run_clicked), p);

  p->stop_button = gtk_button_new_with_mnemonic (_("S_top"));
  gtk_widget_set_tooltip_text (p->stop_button, _("Stop the preview and keep what it shows"));
  gtk_box_pack_start (GTK_BOX (controls), p->stop_button, TRUE, TRUE, 0);
  gtk_widget_show (p->stop_button);
  g_signal_connect_swapped (p->stop_button, "clicked", G_CALLBACK (stop_clicked), p);
}

NsPreview *
ns_preview_new (GimpProcedureDialog *dialog,
                GimpProcedureConfig *config,
                GimpDrawable        *drawable,
                NsNetworkCache      *networks)
{
  NsPreview *p = g_new0 (NsPreview, 1);
  GtkWidget *box;

  p->config   = g_object_ref (config);
  p->drawable = g_object_ref (drawable);
  p->networks = networks;

  p->preview = gimp_procedure_dialog_get_drawable_preview (dialog, "preview", drawable);
  gimp_preview_set_update (GIMP_PREVIEW (p->preview), TRUE);
  replace_toggle (p, gimp_preview_get_controls (GIMP_PREVIEW (p->preview)));
  g_signal_connect (p->preview, "invalidated", G_CALLBACK (invalidated), p);

  box = gimp_procedure_dialog_fill_box (dialog, "preview-box", "preview", NULL);

  p->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (p->progress), TRUE);
  /* Texts of any length must not resize the column: that would resize the preview area,
   * which abandons the running preview. */
  gtk_progress_bar_set_ellipsize (GTK_PROGRESS_BAR (p->progress), PANGO_ELLIPSIZE_END);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (p->progress),
                             _("Press Preview to try the settings"));
  gtk_box_pack_start (GTK_BOX (box), p->progress, FALSE, FALSE, 0);
  gtk_widget_show (p->progress);

  p->status = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (p->status), 0.0);
  gtk_label_set_yalign (GTK_LABEL (p->status), 0.0);
  gtk_label_set_line_wrap (GTK_LABEL (p->status), TRUE);
  gtk_label_set_lines (GTK_LABEL (p->status), STATUS_LINES);
  gtk_label_set_ellipsize (GTK_LABEL (p->status), PANGO_ELLIPSIZE_END);
  gtk_label_set_width_chars (GTK_LABEL (p->status), 30);
  gtk_label_set_max_width_chars (GTK_LABEL (p->status), 30);
  gimp_label_set_attributes (GTK_LABEL (p->status), PANGO_ATTR_SCALE, PANGO_SCALE_SMALL, -1);
  fix_status_height (p->status);
  gtk_box_pack_start (GTK_BOX (box), p->status, FALSE, FALSE, 0);
  gtk_widget_show (p->status);

  set_running (p, FALSE);
  p->notify_id = g_signal_connect_swapped (config, "notify", G_CALLBACK (config_changed), p);

  return p;
}

void
ns_preview_free (NsPreview *p)
{
  if (p == NULL)
    return;

  g_signal_handler_disconnect (p->config, p->notify_id);
  if (p->job)
    {
      /* The final run comes next: it should not share the CPU with a dead preview. */
      ns_job_cancel (p->job);
      ns_job_detach (p->job);
      ns_job_join (p->job);
    }
  forget_job (p);
  g_free (p->shown);
  g_object_unref (p->drawable);
  g_object_unref (p->config);
  g_free (p);
}
