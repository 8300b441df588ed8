/* preview.c — stylizing the preview on request without blocking the dialog.
 *
 * The pixels and the style layer are copied on the main thread (all libgimp calls stay
 * there); the engine then runs in a job thread and every few iterations its current image
 * comes back through an idle callback.  Two views share the Preview and Stop buttons:
 *
 *   1:1          a GimpDrawablePreview: the visible area at 100%, run as the final run
 *                treats it (optimised at its scale, then enlarged guided by the area and
 *                refined), so that what the enlargement does to fine detail can be judged;
 *   whole layer  a GimpZoomPreview kept at its fit-to-view zoom: the whole layer (or the
 *                selection's bounds) run at the optimisation size, which is what the final
 *                run optimises, shown scaled down.
 *
 * Why two previews and not one zooming one: between "fit" and 100% no run would show what
 * the final one does (it optimises small and refines at full size), so GimpZoomPreview's
 * free zoom has nothing true to show; its fit view and GimpDrawablePreview's scrolling 1:1
 * view both do, and both mask the result with the selection themselves.
 *
 * Under the views a status line (status.c) tells how the final run will go. */
#include "preview.h"

#include <math.h>
#include <glib/gi18n.h>

#include "settings.h"
#include "texts.h"
#include "labels.h"
#include "pixels.h"
#include "overlay.h"
#include "state.h"
#include "status.h"
#include "style.h"
#include "regions.h"

/* Draw the engine's current image every this many iterations. */
#define PREVIEW_EVERY 2

/* The progress text is at least this many lines high, so that short texts do not make the
 * dialog jump. */
#define PROGRESS_LINES 2


struct _NsPreview
{
  GimpProcedureConfig *config;
  GimpDrawable        *drawable;
  NsNetworkCache      *networks;

  GtkWidget           *preview;       /* GimpDrawablePreview, 1:1 */
  GtkWidget           *zoom;          /* GimpZoomPreview, the whole layer, or NULL */
  GtkWidget           *box;
  GtkWidget           *whole;         /* the "Whole layer" toggle */
  GtkWidget           *run_button;
  GtkWidget           *stop_button;
  GtkWidget           *progress;
  GtkWidget           *progress_text; /* under the bar: a label, which wraps */
  NsStatus            *status;        /* the status line under the views */
  gulong               notify_id;

  NsJob               *job;           /* the running preview, or NULL */
  NsRegion            *job_region;    /* 1:1: its pixels, for alpha and the rectangle */
  gboolean             job_whole;     /* the running preview is of the whole layer */

  guchar              *shown;         /* 1:1: the last stylized image, 8-bit, or NULL */
  gint                 shown_rowstride;
  GeglRectangle        shown_rect;

  guchar              *shown_whole;   /* whole layer: the same at the zoom preview's size */
  gint                 shown_whole_rowstride;
  gint                 shown_whole_width, shown_whole_height;
};

/* ---- drawing -------------------------------------------------------------------------------- */

static void
current_rect (NsPreview     *p,
              GeglRectangle *rect)
{
  gimp_preview_get_position (GIMP_PREVIEW (p->preview), &rect->x, &rect->y);
  gimp_preview_get_size (GIMP_PREVIEW (p->preview), &rect->width, &rect->height);
}

static void
set_progress_text (NsPreview  *p,
                   const char *text)
{
  gtk_label_set_text (GTK_LABEL (p->progress_text), text);
}

static void
set_running (NsPreview *p,
             gboolean   running)
{
  gtk_widget_set_sensitive (p->run_button, ! running);
  gtk_widget_set_sensitive (p->stop_button, running);
}

/* Draws the last stylized 1:1 image over the layer (the area may have been scrolled or
 * resized since), through the selection. */
static void
draw_shown (NsPreview *p)
{
  GeglRectangle rect;
  g_autofree char *shows = NULL;

  if (p->shown == NULL)
    return;

  ns_overlay_draw (GIMP_PREVIEW (p->preview), p->drawable, p->shown, p->shown_rowstride,
                   &p->shown_rect);
  /* For the tests: where the area is in the window, and what part of the layer it shows. */
  current_rect (p, &rect);
  shows = g_strdup_printf ("%d %d %d %d", rect.x, rect.y, rect.width, rect.height);
  ns_ui_state_set ("preview-shows", shows);
  ns_ui_state_set_geometry ("preview-area", gimp_preview_get_area (GIMP_PREVIEW (p->preview)));
}

static void
draw_shown_whole (NsPreview *p)
{
  gint width, height;
  g_autofree char *size = NULL;

  gimp_preview_get_size (GIMP_PREVIEW (p->zoom), &width, &height);
  if (p->shown_whole == NULL ||
      width != p->shown_whole_width || height != p->shown_whole_height)
    return;

  gimp_preview_draw_buffer (GIMP_PREVIEW (p->zoom), p->shown_whole, p->shown_whole_rowstride);
  size = g_strdup_printf ("%d %d", width, height);
  ns_ui_state_set ("whole-layer-shown", size);
}

/* 1:1: `image` is the area's result; add the layer's alpha, convert to what the preview
 * draws, and keep it for redraws after scrolling. */
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

/* Whole layer: `image` is the run at the optimisation size; scale it to the zoom preview,
 * with the alpha of the layer's own thumbnail there. */
static void
show_image_whole (NsPreview     *p,
                  const NsImage *image)
{
  g_autofree guchar *source = NULL;
  g_autoptr (NsImage) scaled = NULL;
  gint width, height, bpp;

  source = gimp_zoom_preview_get_source (GIMP_ZOOM_PREVIEW (p->zoom), &width, &height, &bpp);
  if (source == NULL)
    return;
  scaled = ns_image_resize (image, width, height);

  g_free (p->shown_whole);
  p->shown_whole = ns_render_u8_over (scaled, source, bpp, p->drawable,
                                      &p->shown_whole_rowstride);
  p->shown_whole_width  = width;
  p->shown_whole_height = height;
  draw_shown_whole (p);
}

static void
show_result (NsPreview     *p,
             const NsImage *image)
{
  if (p->job_whole)
    show_image_whole (p, image);
  else
    show_image (p, image);
}

/* ---- running -------------------------------------------------------------------------------- */

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
  g_autofree char *text = ns_plugin_progress_text (progress);

  if (progress->iterations > 0)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->progress),
                                   (gdouble) progress->iteration / progress->iterations);
  set_progress_text (p, text);
  ns_ui_state_set ("progress", text);

  /* The engine's current image: at the size it optimises, then at full size while it
   * refines; either is scaled to the view. */
  if (progress->preview)
    show_result (p, progress->preview);
}

static void
job_done (NsJob        *job,
          NsImage      *result,
          const GError *error,
          gpointer      data)
{
  NsPreview *p = data;

  if (result)
    {
      show_result (p, result);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->progress), 1.0);
      set_progress_text (p, _("Done"));
      ns_preview_set_status (p, ns_job_get_network_description (job));
      ns_image_free (result);
    }
  else if (g_error_matches (error, NS_ERROR, NS_ERROR_CANCELLED))
    {
      set_progress_text (p, _("Stopped"));
    }
  else
    {
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->progress), 0.0);
      set_progress_text (p, _("Failed"));
      g_autofree char *text = error ? ns_plugin_error_text (error) : NULL;

      ns_preview_set_status (p, text ? text : "");
    }

  ns_ui_state_set ("progress", gtk_label_get_text (GTK_LABEL (p->progress_text)));
  forget_job (p);
}

/* 1:1: the longest side the area is optimised at, so that it sees the image at the same
 * scale as the final run (which optimises the whole region at `size`), and the factor for
 * the style scale: the engine sizes the style relative to the image it optimises, and the
 * area is `style_factor` times smaller than the final region. */
static int
preview_side (NsPreview           *p,
              const GeglRectangle *area,
              double              *style_factor)
{
  GeglRectangle final;
  int final_side, final_longest, longest, shortest, side, needed;

  if (! ns_plugin_regions_area (p->config, p->drawable, &final))
    return 0;

  final_side    = ns_plugin_run_side (ns_plugin_config_size (p->config), final.width,
                                      final.height);
  final_longest = MAX (final.width, final.height);
  longest       = MAX (area->width, area->height);
  shortest      = MAX (MIN (area->width, area->height), 1);
  side          = (int) lround ((double) longest * final_side / final_longest);
  /* As in the final run, the short side must reach the network's minimum. */
  needed        = (NS_PLUGIN_MIN_SIZE * longest + shortest - 1) / shortest;

  *style_factor = (double) final_longest / longest;
  return MAX (side, needed);
}

/* 1:1: the selected part of the visible area at full resolution (only that part changes;
 * a selection that fits the view is then run exactly as the final run runs it); the job
 * optimises it at `side` and enlarges it as the final run does. */
static NsImage *
read_area (NsPreview     *p,
           GeglRectangle *rect,
           int           *side,
           double        *style_factor,
           double        *scale)
{
  GeglRectangle selected;

  current_rect (p, rect);
  if (! ns_plugin_regions_area (p->config, p->drawable, &selected) ||
      ! gegl_rectangle_intersect (rect, rect, &selected))
    return NULL;
  *side = preview_side (p, rect, style_factor);
  if (*side == 0)
    return NULL;
  *scale = 1.0;

  p->job_region = ns_region_read (p->drawable, rect);
  return g_steal_pointer (&p->job_region->content);
}

/* Whole layer: the region of the final run read at the optimisation size (GEGL shrinks it
 * box-filtered); the job runs it at that size, as the final run's optimisation does. */
static NsImage *
read_whole (NsPreview     *p,
            GeglRectangle *rect,
            int           *side,
            double        *style_factor,
            double        *scale)
{
  g_autoptr (NsRegion) region = NULL;
  int longest;

  if (! ns_plugin_regions_area (p->config, p->drawable, rect))
    return NULL;

  longest = MAX (rect->width, rect->height);
  *side = ns_plugin_run_side (ns_plugin_config_size (p->config), rect->width, rect->height);
  *style_factor = 1.0;
  *scale = MIN (1.0, (double) *side / longest);
  region = ns_region_read_scaled (p->drawable, rect, *scale);
  return g_steal_pointer (&region->content);
}

static void
run_clicked (NsPreview *p)
{
  g_autoptr (GimpLayer) style = NULL;
  g_autofree char *problem = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *given = NULL;
  NsStyles *styles;
  NsImage *content;
  NsOptions *options;
  GeglRectangle rect;
  gdouble style_scale;
  double style_factor = 1.0, scale = 1.0;
  int side = 0;

  forget_job (p);

  g_object_get (p->config, "style-layer", &style, "style-scale", &style_scale, NULL);
  problem = ns_style_problem (style);
  if (problem == NULL &&
      ns_plugin_regions_check (p->config, p->drawable, &error) != GIMP_PDB_SUCCESS)
    problem = g_strdup (error->message);
  if (problem)
    {
      ns_preview_set_status (p, problem);
      return;
    }

  p->job_whole = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (p->whole));
  content = p->job_whole ? read_whole (p, &rect, &side, &style_factor, &scale)
                         : read_area (p, &rect, &side, &style_factor, &scale);
  if (content == NULL)
    {
      g_clear_pointer (&p->job_region, ns_region_free);
      ns_preview_set_status (p, _("Nothing of this layer is selected."));
      return;
    }

  /* The regions over the same area, read as it was. */
  styles = ns_plugin_regions_read (p->config, p->drawable, &rect, scale,
                                   p->job_whole ? NS_REGIONS_WHOLE : NS_REGIONS_PART, &error);
  if (styles == NULL)
    {
      ns_image_free (content);
      g_clear_pointer (&p->job_region, ns_region_free);
      ns_preview_set_status (p, error->message);
      return;
    }

  options = ns_plugin_config_options (p->config);
  ns_options_set_style_scale (options, style_scale * style_factor);
  ns_options_set_preview_every (options, PREVIEW_EVERY);

  /* For the tests: what the run was given. */
  given = g_strdup_printf ("%d styles, regions %s", styles->n,
                           ns_styles_have_regions (styles) ? "yes" : "no");
  ns_ui_state_set ("preview-styles", given);

  p->job = ns_job_new (p->networks, ns_plugin_config_network (p->config),
                       ns_plugin_config_padding (p->config), options, content, styles, side);

  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->progress), 0.0);
  set_progress_text (p, _("Starting…"));
  ns_ui_state_set ("progress", "Starting");
  ns_ui_state_set ("whole-layer-shown", "");
  ns_preview_set_status (p, NULL);
  set_running (p, TRUE);

  ns_job_start (p->job, NULL, job_progress, job_done, p);
}

static void
stop_clicked (NsPreview *p)
{
  if (p->job)
    ns_job_cancel (p->job);
  gtk_widget_set_sensitive (p->stop_button, FALSE);
  set_progress_text (p, _("Stopping…"));
  ns_ui_state_set ("progress", "Stopping");
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
invalidated_whole (GimpPreview *preview,
                   NsPreview   *p)
{
  draw_shown_whole (p);
}

/* The stock "Preview" check box would re-run on every change; this preview runs only when
 * asked, so the previews' own controls (and the zoom buttons: see the top) are hidden and
 * one row of buttons serves both. */
static void
hide_controls (GtkWidget *preview)
{
  GtkWidget *controls = gimp_preview_get_controls (GIMP_PREVIEW (preview));

  gimp_preview_set_update (GIMP_PREVIEW (preview), TRUE);
  gtk_widget_set_no_show_all (controls, TRUE);
  gtk_widget_hide (controls);
}

/* Ctrl+wheel would zoom the whole-layer view away from "fit", which no run shows. */
static gboolean
no_zoom (GtkWidget *area,
         GdkEvent  *event)
{
  return event->type == GDK_SCROLL;
}

/* The whole-layer view, made when first asked for: GimpPreview sets a busy cursor on its
 * area whenever it is invalidated, which fails (a GDK critical) before the area is
 * realized, as it would not be in a dialog that opened hidden. */
static void
make_zoom (NsPreview *p)
{
  GList *children = gtk_container_get_children (GTK_CONTAINER (p->box));
  gint position = g_list_index (children, p->preview);

  g_list_free (children);
  p->zoom = gimp_zoom_preview_new_from_drawable (p->drawable);
  hide_controls (p->zoom);
  gimp_scrolled_preview_set_policy (GIMP_SCROLLED_PREVIEW (p->zoom),
                                    GTK_POLICY_NEVER, GTK_POLICY_NEVER);
  g_signal_connect (gimp_preview_get_area (GIMP_PREVIEW (p->zoom)), "event",
                    G_CALLBACK (no_zoom), NULL);
  g_signal_connect (p->zoom, "invalidated", G_CALLBACK (invalidated_whole), p);

  /* In the 1:1 view's place. */
  gtk_box_pack_start (GTK_BOX (p->box), p->zoom, TRUE, TRUE, 0);
  gtk_box_reorder_child (GTK_BOX (p->box), p->zoom, position + 1);
}

static void
whole_toggled (NsPreview *p)
{
  gboolean whole = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (p->whole));

  /* A run belongs to the view it was started in. */
  if (p->job)
    {
      forget_job (p);
      set_progress_text (p, _("Stopped"));
    }
  if (whole && p->zoom == NULL)
    make_zoom (p);
  gtk_widget_set_visible (p->preview, ! whole);
  gtk_widget_set_visible (p->zoom, whole);
  ns_ui_state_set ("whole-layer", whole ? "1" : "0");
}

static void
config_changed (NsPreview *p)
{
  if (p->shown || p->shown_whole || p->job)
    ns_preview_set_status (p, _("Settings changed: press Preview to update."));
  ns_status_schedule (p->status);
}

static GtkWidget *
controls_row (NsPreview *p)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  p->run_button = gtk_button_new_with_mnemonic (_("_Preview"));
  gtk_box_pack_start (GTK_BOX (row), p->run_button, TRUE, TRUE, 0);
  g_signal_connect_swapped (p->run_button, "clicked", G_CALLBACK (run_clicked), p);

  p->stop_button = gtk_button_new_with_mnemonic (_("S_top"));
  gtk_box_pack_start (GTK_BOX (row), p->stop_button, TRUE, TRUE, 0);
  g_signal_connect_swapped (p->stop_button, "clicked", G_CALLBACK (stop_clicked), p);

  /* Every mnemonic letter is taken (see settings.c): this one has none. */
  p->whole = gtk_check_button_new_with_label (_("Whole layer"));
  gtk_widget_set_tooltip_text (p->whole,
                               _("On: the whole layer (or selection) scaled to fit, "
                                 "optimized at the optimization size as the final run "
                                 "does.  Off: part of it at 100%, enlarged and refined as "
                                 "the final result will look."));
  gtk_box_pack_start (GTK_BOX (row), p->whole, FALSE, FALSE, 0);
  g_signal_connect_swapped (p->whole, "toggled", G_CALLBACK (whole_toggled), p);
  g_signal_connect (p->whole, "size-allocate", G_CALLBACK (ns_ui_state_record_geometry),
                    (gpointer) "whole-layer-toggle");

  gtk_widget_show_all (row);
  return row;
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
  hide_controls (p->preview);
  g_signal_connect (p->preview, "invalidated", G_CALLBACK (invalidated), p);

  box = gimp_procedure_dialog_fill_box (dialog, "preview-box", "preview", NULL);
  p->box = box;

  gtk_box_pack_start (GTK_BOX (box), controls_row (p), FALSE, FALSE, 0);

  p->progress = gtk_progress_bar_new ();
  gtk_box_pack_start (GTK_BOX (box), p->progress, FALSE, FALSE, 0);
  gtk_widget_show (p->progress);

  /* The bar's own text is one line, cut off in this narrow column ("Iteration 153 of 500
   * at 200×200, about 1 mi…", longer in German): a label under it wraps instead.  A small
   * max-width-chars keeps texts of any length from widening the column, which would
   * resize the preview area. */
  p->progress_text = gtk_label_new (NULL);
  gtk_label_set_line_wrap (GTK_LABEL (p->progress_text), TRUE);
  gtk_label_set_line_wrap_mode (GTK_LABEL (p->progress_text), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_justify (GTK_LABEL (p->progress_text), GTK_JUSTIFY_CENTER);
  gtk_label_set_max_width_chars (GTK_LABEL (p->progress_text), 10);
  gtk_label_set_yalign (GTK_LABEL (p->progress_text), 0.0);
  ns_label_fix_height (p->progress_text, PROGRESS_LINES);
  gtk_box_pack_start (GTK_BOX (box), p->progress_text, FALSE, FALSE, 0);
  gtk_widget_show (p->progress_text);
  set_progress_text (p, _("Press Preview to try the settings"));

  p->status = ns_status_new (config, drawable, networks);

  set_running (p, FALSE);
  p->notify_id = g_signal_connect_swapped (config, "notify", G_CALLBACK (config_changed), p);
  ns_ui_state_set ("whole-layer", "0");

  return p;
}

void
ns_preview_set_status (NsPreview  *p,
                       const char *message)
{
  ns_status_set_message (p->status, message);
}

void
ns_preview_set_frames (NsPreview *p,
                       gint       n_frames)
{
  ns_status_set_frames (p->status, n_frames);
}

GtkWidget *
ns_preview_get_status (NsPreview *p)
{
  return ns_status_get_widget (p->status);
}

void
ns_preview_free (NsPreview *p)
{
  if (p == NULL)
    return;

  g_signal_handler_disconnect (p->config, p->notify_id);
  ns_status_free (p->status);
  if (p->job)
    {
      /* The final run comes next: it should not share the CPU with a dead preview. */
      ns_job_cancel (p->job);
      ns_job_detach (p->job);
      ns_job_join (p->job);
    }
  forget_job (p);
  g_free (p->shown);
  g_free (p->shown_whole);
  g_object_unref (p->drawable);
  g_object_unref (p->config);
  g_free (p);
}
