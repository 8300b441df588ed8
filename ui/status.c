/* status.c — the status line under the preview: a message (a problem with the settings,
 * the network used, a failed preview), then how the final run will go: its plan, estimated
 * in a job of its own (ns_job_new_estimate) a moment after the settings last changed, with
 * what a layer much larger than the optimisation size and an animation's frames take. */
#include "status.h"

#include <glib/gi18n.h>

#include "settings.h"
#include "texts.h"
#include "labels.h"
#include "pixels.h"
#include "state.h"
#include "style.h"
#include "regions.h"

/* The status line is at least this many lines high (it wraps, and grows for longer plans),
 * so that short messages do not make the dialog jump. */
#define STATUS_LINES 5

/* Settings changes are planned again after this pause (ms), not at every keystroke. */
#define ESTIMATE_DELAY 400

/* A layer this many times the optimisation size is "much larger": the status says how the
 * run enlarges it and what the full-size run would cost. */
#define MUCH_LARGER 1.5

struct _NsStatus
{
  GimpProcedureConfig *config;
  GimpDrawable        *drawable;
  NsNetworkCache      *networks;
  gint                 n_frames;      /* 0, or the animation's frames (the estimate's count) */

  GtkWidget           *label;
  char                *message;       /* shown above the plan */
  char                *plan;
  double               later_ratio;   /* a later frame's expected time over the first's */
  NsJob               *estimate;      /* planning the final run, or NULL */
  guint                estimate_id;   /* the pending ESTIMATE_DELAY timeout */
};

static void
update (NsStatus *p)
{
  g_autofree char *text = NULL;

  if (p->message && *p->message && p->plan)
    text = g_strconcat (p->message, "\n", p->plan, NULL);
  else
    text = g_strdup (p->message && *p->message ? p->message : p->plan ? p->plan : "");

  gtk_label_set_text (GTK_LABEL (p->label), text);
  ns_ui_state_set ("status", text);
}

/* What the final run does with a layer much larger than its optimisation size, and what
 * running it all at full size would take instead. */
static char *
large_summary (NsStatus *p,
               int       run_side,
               int       width,
               int       height,
               double    seconds,
               double    full_seconds)
{
  g_autofree char *time = ns_plugin_format_duration (seconds);
  g_autofree char *full_time = ns_plugin_format_duration (full_seconds);
  g_autofree char *what = NULL;
  g_autofree char *alternative = NULL;
  NsUpscale upscale = gimp_procedure_config_get_choice_id (p->config, "upscale");
  gint refine_iterations;

  g_object_get (p->config, "refine-iterations", &refine_iterations, NULL);
  if (upscale == NS_UPSCALE_REFINE && refine_iterations > 0)
    what = g_strdup_printf (_("Optimized at %d px, then enlarged to %d×%d and refined: "
                              "about %s."), run_side, width, height, time);
  else if (upscale != NS_UPSCALE_BILINEAR)
    what = g_strdup_printf (_("Optimized at %d px, then enlarged to %d×%d guided by the "
                              "layer: about %s."), run_side, width, height, time);
  else
    what = g_strdup_printf (_("Optimized at %d px, then enlarged to %d×%d (bilinear): "
                              "about %s."), run_side, width, height, time);

  if (full_seconds >= 0.0)
    alternative = g_strdup_printf (_("Optimizing at full size instead would take about %s."),
                                   full_time);
  else
    alternative = g_strdup (_("Optimizing at full size instead would not fit the memory "
                              "budget."));

  /* TRANSLATORS: two sentences in a row (Chinese needs no space between them). */
  return g_strdup_printf (C_("sentences", "%s %s"), what, alternative);
}

/* What the final run stylizes: the layer (or its selected part), or for an animation the
 * canvas, which every frame is stylized on. */
static gboolean
final_size (NsStatus *p,
            gint     *width,
            gint     *height)
{
  GeglRectangle area;

  if (p->n_frames > 0)
    {
      GimpImage *image = gimp_item_get_image (GIMP_ITEM (p->drawable));

      *width  = gimp_image_get_width (image);
      *height = gimp_image_get_height (image);
      return TRUE;
    }
  if (! ns_plugin_regions_area (p->config, p->drawable, &area))
    return FALSE;
  *width  = area.width;
  *height = area.height;
  return TRUE;
}

/* The estimate is of one frame: what all of them take, before it.  The frames after the
 * first run a share of its work (ns_sequence_set_later_frames). */
static char *
frames_summary (NsStatus *p,
                double    seconds)
{
  double later = seconds * p->later_ratio;
  g_autofree char *first = ns_plugin_format_duration (seconds);
  g_autofree char *each = ns_plugin_format_duration (later);
  g_autofree char *all = ns_plugin_format_duration (seconds + (p->n_frames - 1) * later);

  if (p->n_frames < 2 || p->later_ratio == 1.0)
    return g_strdup_printf (ngettext ("%d frame: about %s in all (%s a frame).",
                                      "%d frames: about %s in all (%s a frame).",
                                      p->n_frames),
                            p->n_frames, all, first);
  return g_strdup_printf (ngettext ("%d frame: about %s in all (the first %s, each after "
                                    "it %s).",
                                    "%d frames: about %s in all (the first %s, each after "
                                    "it %s).",
                                    p->n_frames),
                          p->n_frames, all, first, each);
}

/* What a later frame takes over the first, by the settings (1 when the frames are
 * stylized on their own). */
static double
later_ratio (NsStatus     *p,
             const NsPlan *plan)
{
  gdouble temporal_weight, share;
  gboolean all_sizes;
  double first = ns_plan_get_seconds (plan);

  if (p->n_frames == 0)
    return 1.0;
  g_object_get (p->config, "temporal-weight", &temporal_weight,
                "later-iterations", &share, "later-all-sizes", &all_sizes, NULL);
  if (temporal_weight <= 0.0 || first <= 0.0)
    return 1.0;
  return ns_plan_get_later_seconds (plan, share, all_sizes) / first;
}

static void
estimate_plan (NsJob        *job,
               const NsPlan *plan,
               gpointer      data)
{
  NsStatus *p = data;

  g_free (p->plan);
  p->plan = ns_plugin_plan_text (plan);
  p->later_ratio = later_ratio (p, plan);
}

static void
estimate_done (NsJob        *job,
               NsImage      *result,
               const GError *error,
               gpointer      data)
{
  NsStatus *p = data;
  gint w, h;
  int run_side;
  double seconds, full_seconds;

  if (error)
    {
      g_free (p->plan);
      p->plan = ns_plugin_error_text (error);
    }
  else if (p->plan && final_size (p, &w, &h))
    {
      run_side = ns_plugin_run_side (ns_plugin_config_size (p->config), w, h);
      ns_job_get_estimate (job, &seconds, &full_seconds);
      if (MAX (w, h) > MUCH_LARGER * run_side)
        {
          g_autofree char *summary = large_summary (p, run_side, w, h, seconds, full_seconds);
          char *plan = g_strconcat (summary, "\n", _("Plan: "), p->plan, NULL);

          g_free (p->plan);
          p->plan = plan;
        }
      if (p->n_frames > 0 && seconds >= 0.0)
        {
          g_autofree char *summary = frames_summary (p, seconds);
          char *plan = g_strconcat (summary, "\n", p->plan, NULL);

          g_free (p->plan);
          p->plan = plan;
        }
    }

  g_clear_pointer (&p->estimate, ns_job_unref);
  update (p);
}

static void
stop_estimate (NsStatus *p)
{
  if (p->estimate)
    {
      ns_job_cancel (p->estimate);
      ns_job_detach (p->estimate);
      g_clear_pointer (&p->estimate, ns_job_unref);
    }
}

/* The styles of the final run, for its estimate: every style's size and the regions; the
 * first style alone when the regions are not usable yet (the dialog says why). */
static NsStyles *
estimate_styles (NsStatus  *p,
                 GimpLayer *style)
{
  NsStyles *styles = NULL;

  if (p->n_frames == 0)
    styles = ns_plugin_regions_read_sizes (p->config, p->drawable);
  return styles ? styles : ns_styles_new_single (ns_style_size (GIMP_DRAWABLE (style)));
}

static gboolean
start_estimate (gpointer data)
{
  NsStatus *p = data;
  g_autoptr (GimpLayer) style = NULL;
  gint w, h;

  p->estimate_id = 0;
  stop_estimate (p);
  g_clear_pointer (&p->plan, g_free);
  p->later_ratio = 1.0;

  g_object_get (p->config, "style-layer", &style, NULL);
  /* The dialog tells what is wrong with the style layer. */
  if (! ns_style_usable (style) || ! final_size (p, &w, &h))
    {
      update (p);
      return G_SOURCE_REMOVE;
    }

  p->estimate = ns_job_new_estimate (p->networks, ns_plugin_config_network (p->config),
                                     ns_plugin_config_padding (p->config),
                                     ns_plugin_config_options (p->config), w, h,
                                     estimate_styles (p, style),
                                     ns_plugin_run_side (ns_plugin_config_size (p->config),
                                                         w, h));
  ns_job_set_plan_func (p->estimate, estimate_plan, p);
  ns_job_start (p->estimate, NULL, NULL, estimate_done, p);

  return G_SOURCE_REMOVE;
}

void
ns_status_schedule (NsStatus *p)
{
  if (p->estimate_id)
    g_source_remove (p->estimate_id);
  p->estimate_id = g_timeout_add (ESTIMATE_DELAY, start_estimate, p);
}

NsStatus *
ns_status_new (GimpProcedureConfig *config,
               GimpDrawable        *drawable,
               NsNetworkCache      *networks)
{
  NsStatus *p = g_new0 (NsStatus, 1);

  p->config   = g_object_ref (config);
  p->drawable = g_object_ref (drawable);
  p->networks = networks;
  p->later_ratio = 1.0;

  /* The plan is long: the status line wraps, is as wide as the dialog (the caller packs
   * it), and grows as needed. */
  p->label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (p->label), 0.0);
  gtk_label_set_yalign (GTK_LABEL (p->label), 0.0);
  gtk_label_set_line_wrap (GTK_LABEL (p->label), TRUE);
  gtk_label_set_line_wrap_mode (GTK_LABEL (p->label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_width_chars (GTK_LABEL (p->label), 60);
  gtk_label_set_max_width_chars (GTK_LABEL (p->label), 110);
  gimp_label_set_attributes (GTK_LABEL (p->label), PANGO_ATTR_SCALE, PANGO_SCALE_SMALL, -1);
  ns_label_fix_height (p->label, STATUS_LINES);
  gtk_widget_show (p->label);

  ns_status_schedule (p);
  return p;
}

void
ns_status_set_message (NsStatus   *p,
                       const char *message)
{
  g_free (p->message);
  p->message = g_strdup (message);
  update (p);
}

void
ns_status_set_frames (NsStatus *p,
                      gint      n_frames)
{
  p->n_frames = n_frames;
  ns_status_schedule (p);
}

GtkWidget *
ns_status_get_widget (NsStatus *p)
{
  return p->label;
}

void
ns_status_free (NsStatus *p)
{
  if (p == NULL)
    return;

  if (p->estimate_id)
    g_source_remove (p->estimate_id);
  stop_estimate (p);
  g_free (p->message);
  g_free (p->plan);
  g_object_unref (p->drawable);
  g_object_unref (p->config);
  g_free (p);
}
