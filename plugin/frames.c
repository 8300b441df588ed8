/* frames.c — Filters ▸ Animation ▸ Neural Style (frames)…: the image's layers are the frames
 * of an animation, the bottom layer first, as GIMP's playback and GIF export read them.  They
 * are stylized in order by an engine sequence (each frame held to the previous results where
 * the optical flow between the original frames sees the same thing), all into memory first,
 * and only then written back, in one undo step: a cancel (which kills the plug-in) or an
 * error leaves the image as it was.
 *
 * Layer names carry the animation's tags.  A "(combine)" frame is drawn over the frame shown
 * before it: it is composited first, stylized as the frame the viewer sees, and written back
 * as a whole, canvas-sized frame tagged "(replace)".  Every other frame is taken alone on the
 * canvas; a layer smaller than the canvas or offset keeps its size and offsets, and the part
 * of it on the canvas is written.  Delays "(NNms)" and the rest of the names are kept.  The
 * frames are stylized whole: a selection does not limit them. */
#include "frames.h"

#include <string.h>
#include <glib/gi18n.h>

#include "settings.h"
#include "texts.h"
#include "pixels.h"
#include "style.h"
#include "dialog.h"

#define COMBINE_TAG "(combine)"
#define REPLACE_TAG "(replace)"

typedef struct
{
  GimpLayer *layer;
  gboolean   combine;
  gint       x, y;      /* the layer's offsets */
  NsRegion  *region;    /* the layer's part on the canvas as it was, in layer coordinates;
                         * NULL when none of it is on the canvas                         */
  float     *shown;     /* the frame as a viewer sees it, R'G'B'A float on the canvas; kept
                         * for "(combine)" frames, which are written back as it           */
  NsImage   *content;   /* the same as the engine stylizes it (R'G'B')                     */
  NsImage   *result;
} Frame;

typedef struct
{
  GimpImage *image;
  gint       width, height;   /* the canvas */
  Frame     *frames;          /* bottom layer first */
  gint       n;
} Animation;

/* ---- the frames ----------------------------------------------------------------------------- */

/* The image's layers as frames, bottom first; the style layer, when it is one of them, is
 * not a frame.  Free with g_free. */
static GimpLayer **
frame_layers (GimpImage *image,
              GimpLayer *style,
              gint      *n_frames)
{
  g_autofree GimpLayer **layers = gimp_image_get_layers (image);
  gint n = gimp_core_object_array_get_length ((GObject **) layers);
  GimpLayer **frames = g_new0 (GimpLayer *, n + 1);

  *n_frames = 0;
  for (gint i = n - 1; i >= 0; i--)
    if (style == NULL || gimp_item_get_id (GIMP_ITEM (layers[i])) !=
                         gimp_item_get_id (GIMP_ITEM (style)))
      frames[(*n_frames)++] = layers[i];

  return frames;
}

/* Whether the image can be stylized as an animation (with `style` as its style layer, or
 * NULL when none is chosen yet); `*n_frames` gets its number of frames. */
static GimpPDBStatusType
check_image (GimpImage *image,
             GimpLayer *style,
             gint      *n_frames,
             GError   **error)
{
  g_autofree GimpLayer **layers = frame_layers (image, style, n_frames);

  if (! ns_sequence_available ())
    {
      *error = ns_plugin_error (_("This build of Neural Style cannot stylize animation frames: "
                                  "its engine was built without optical flow.  Rebuild it with "
                                  "OpenCV's video module installed (libopencv-video-dev)."));
      return GIMP_PDB_EXECUTION_ERROR;
    }
  if (gimp_image_get_base_type (image) == GIMP_INDEXED)
    *error = ns_plugin_error (_("Neural Style does not work on indexed images; convert the "
                                "image to RGB or grayscale first (Image ▸ Mode)."));
  else if (*n_frames < 2)
    *error = ns_plugin_error (_("Neural Style (frames) needs at least 2 layers as frames: the "
                                "image's layers are the frames of the animation, the bottom "
                                "layer first (the style layer is not one of them)."));
  else
    for (gint i = 0; i < *n_frames; i++)
      if (gimp_item_is_group (GIMP_ITEM (layers[i])))
        {
          g_autofree char *name = gimp_item_get_name (GIMP_ITEM (layers[i]));

          *error = ns_plugin_error (_("The layer “%s” is a layer group: each frame of an "
                                      "animation is one layer.  Merge the group into one layer "
                                      "first (Layer ▸ Merge Down)."), name);
          break;
        }

  return *error ? GIMP_PDB_CALLING_ERROR : GIMP_PDB_SUCCESS;
}

/* `src` (R'G'B' with alpha `a`) drawn over `dst` (R'G'B'A), as GIMP's playback combines
 * frames.  Fully opaque and fully transparent pixels are copied, not computed, so that what
 * shows through is bit for bit what was there. */
static inline void
over (float       *dst,
      const float *src,
      float        a)
{
  float below = dst[3] * (1.0f - a);
  float alpha = a + below;

  if (a >= 1.0f || (alpha <= 0.0f))
    {
      memcpy (dst, src, 3 * sizeof (float));
      dst[3] = a >= 1.0f ? 1.0f : 0.0f;
    }
  else if (a > 0.0f)
    {
      for (gint c = 0; c < 3; c++)
        dst[c] = (src[c] * a + dst[c] * below) / alpha;
      dst[3] = alpha;
    }
}

/* Reads frame `f` onto the canvas: over `previous` (the frame shown before it) when it is a
 * "(combine)" frame, else over nothing. */
static float *
compose (const Animation *a,
         Frame           *f,
         const float     *previous)
{
  gsize n = (gsize) a->width * a->height;
  GeglRectangle canvas = { 0, 0, a->width, a->height };
  GeglRectangle bounds, on;
  float *shown;

  gimp_drawable_get_offsets (GIMP_DRAWABLE (f->layer), &f->x, &f->y);
  bounds = (GeglRectangle) { f->x, f->y, gimp_drawable_get_width (GIMP_DRAWABLE (f->layer)),
                             gimp_drawable_get_height (GIMP_DRAWABLE (f->layer)) };

  shown = f->combine && previous ? g_memdup2 (previous, n * 4 * sizeof (float))
                                 : g_new0 (float, n * 4);
  if (! gegl_rectangle_intersect (&on, &canvas, &bounds))
    return shown;

  f->region = ns_region_read (GIMP_DRAWABLE (f->layer),
                              GEGL_RECTANGLE (on.x - f->x, on.y - f->y, on.width, on.height));
  for (gint y = 0; y < on.height; y++)
    for (gint x = 0; x < on.width; x++)
      {
        gsize i = (gsize) y * on.width + x;
        float alpha = f->region->alpha ? CLAMP (f->region->alpha[i], 0.0f, 1.0f) : 1.0f;
        float *dst = shown + 4 * ((gsize) (on.y + y) * a->width + on.x + x);

        if (f->combine)
          over (dst, f->region->content->data + 3 * i, alpha);
        else
          {
            memcpy (dst, f->region->content->data + 3 * i, 3 * sizeof (float));
            dst[3] = alpha;
          }
      }
  /* What is kept is for writing back: the original alpha, in the native format. */
  g_clear_pointer (&f->region->content, ns_image_free);
  if (f->combine)
    g_clear_pointer (&f->region, ns_region_free);

  return shown;
}

static NsImage *
rgb_of (const float *rgba,
        gint         width,
        gint         height)
{
  NsImage *image = ns_image_new (width, height, 3);
  gsize n = (gsize) width * height;

  for (gsize i = 0; i < n; i++)
    memcpy (image->data + 3 * i, rgba + 4 * i, 3 * sizeof (float));
  return image;
}

static void
animation_clear (Animation *a)
{
  for (gint k = 0; k < a->n; k++)
    {
      ns_region_free (a->frames[k].region);
      g_free (a->frames[k].shown);
      ns_image_free (a->frames[k].content);
      ns_image_free (a->frames[k].result);
    }
  g_clear_pointer (&a->frames, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Animation, animation_clear)

/* All frames as shown, in memory. */
static void
read_frames (Animation *a,
             GimpLayer *style)
{
  g_autofree GimpLayer **layers = frame_layers (a->image, style, &a->n);
  const float *previous = NULL;

  a->width  = gimp_image_get_width (a->image);
  a->height = gimp_image_get_height (a->image);
  a->frames = g_new0 (Frame, a->n);

  for (gint k = 0; k < a->n; k++)
    {
      Frame *f = &a->frames[k];
      g_autofree char *name = gimp_item_get_name (GIMP_ITEM (layers[k]));

      f->layer   = layers[k];
      f->combine = strstr (name, COMBINE_TAG) != NULL;
      f->shown   = compose (a, f, previous);
      f->content = rgb_of (f->shown, a->width, a->height);

      /* Only the frame shown last is needed for the next, and a "(combine)" frame's own. */
      if (k > 0 && ! a->frames[k - 1].combine)
        g_clear_pointer (&a->frames[k - 1].shown, g_free);
      previous = f->shown;
    }
  if (! a->frames[a->n - 1].combine)
    g_clear_pointer (&a->frames[a->n - 1].shown, g_free);
}

/* ---- stylizing ------------------------------------------------------------------------------ */

typedef struct
{
  GThread *thread;   /* GIMP may only be talked to from the plug-in's main thread */
} Reporter;

/* "frame k of n" in GIMP's progress bar, with the frame's iterations in the fraction. */
static void
report_progress (const NsSequenceProgress *progress,
                 gpointer                  data)
{
  Reporter *reporter = data;
  g_autofree char *text = NULL;
  g_autofree char *left = ns_plugin_format_duration (progress->eta);
  double within = 0.0;

  if (g_thread_self () != reporter->thread || progress->n_frames <= 0)
    return;

  if (progress->run)
    {
      /* The time left is the sequence's, not the frame's. */
      NsProgress run = *progress->run;

      run.eta = -1.0;
      text = ns_plugin_progress_text (&run);
      if (run.iterations > 0)
        within = (double) run.iteration / run.iterations;
    }

  gimp_progress_update ((progress->frame - 1 + within) / progress->n_frames);
  if (*left)
    gimp_progress_set_text_printf (_("Neural Style: frame %d of %d, about %s left: %s"),
                                   progress->frame, progress->n_frames, left,
                                   text ? text : "");
  else
    gimp_progress_set_text_printf (_("Neural Style: frame %d of %d: %s"),
                                   progress->frame, progress->n_frames, text ? text : "");
}

static GimpPDBStatusType
engine_failure (const GError  *engine_error,
                GError       **error)
{
  g_autofree char *text = ns_plugin_error_text (engine_error);

  *error = ns_plugin_error (_("Neural Style failed: %s"), text);
  return GIMP_PDB_EXECUTION_ERROR;
}

/* Every frame's result, in memory; nothing is written. */
static GimpPDBStatusType
stylize (Animation           *a,
         GimpProcedureConfig *config,
         NsNetworkCache      *networks,
         GimpLayer           *style,
         GError             **error)
{
  g_autoptr (NsNetwork) network = NULL;
  g_autoptr (NsOptions) options = ns_plugin_config_options (config);
  g_autoptr (NsImage) style_image = NULL;
  g_autoptr (NsSequence) sequence = NULL;
  g_autoptr (GError) engine_error = NULL;
  const NsImage *styles[1];
  Reporter reporter = { g_thread_self () };
  gdouble temporal_weight, later_iterations;
  gboolean later_all_sizes;
  int run_side, w, h;

  network = ns_network_cache_get (networks, ns_plugin_config_network (config),
                                  ns_plugin_config_padding (config), NULL, &engine_error);
  if (network == NULL)
    {
      return engine_failure (engine_error, error);
    }
  ns_options_apply_network_defaults (options, network);

  /* Every frame is the canvas: one size for all, as the optical flow needs. */
  run_side = ns_plugin_run_side (ns_plugin_config_size (config), a->width, a->height);
  ns_engine_size (options, run_side, a->width, a->height, &w, &h);

  style_image = ns_style_read (GIMP_DRAWABLE (style),
                               gimp_drawable_get_format (GIMP_DRAWABLE (a->frames[0].layer)));
  styles[0] = style_image;
  sequence = ns_sequence_new (network, options, styles, NULL, 1, &engine_error);
  if (sequence == NULL)
    {
      return engine_failure (engine_error, error);
    }

  g_object_get (config, "temporal-weight", &temporal_weight,
                "later-iterations", &later_iterations, "later-all-sizes", &later_all_sizes,
                NULL);
  ns_sequence_set_temporal_weight (sequence, temporal_weight);
  ns_sequence_set_later_frames (sequence, later_iterations, later_all_sizes);
  ns_sequence_set_n_frames (sequence, a->n);
  ns_sequence_set_progress (sequence, report_progress, &reporter);

  for (gint k = 0; k < a->n; k++)
    {
      Frame *f = &a->frames[k];
      g_autoptr (NsImage) scaled = NULL;
      const NsImage *content = f->content;

      gimp_progress_set_text_printf (_("Neural Style: frame %d of %d"), k + 1, a->n);
      /* A canvas thinner than the network needs is enlarged for the run. */
      if (w != a->width || h != a->height)
        content = scaled = ns_image_resize (f->content, w, h);

      f->result = ns_sequence_next (sequence, content, &engine_error);
      if (f->result == NULL)
        {
          g_autofree char *text = ns_plugin_error_text (engine_error);

          *error = ns_plugin_error (_("Neural Style failed on frame %d of %d: %s"), k + 1, a->n,
                                    text);
          return GIMP_PDB_EXECUTION_ERROR;
        }
      if (scaled)
        {
          NsImage *full = ns_image_resize (f->result, a->width, a->height);

          ns_image_free (f->result);
          f->result = full;
        }
      g_clear_pointer (&f->content, ns_image_free);
    }

  return GIMP_PDB_SUCCESS;
}

/* ---- writing -------------------------------------------------------------------------------- */

static NsImage *
crop (const NsImage       *image,
      const GeglRectangle *rect)
{
  NsImage *part = ns_image_new (rect->width, rect->height, image->channels);
  gsize row = (gsize) rect->width * image->channels;

  for (gint y = 0; y < rect->height; y++)
    memcpy (part->data + y * row,
            image->data + ((gsize) (rect->y + y) * image->width + rect->x) * image->channels,
            row * sizeof (float));
  return part;
}

static gboolean
has_transparency (const float *rgba,
                  gsize        n)
{
  for (gsize i = 0; i < n; i++)
    if (rgba[4 * i + 3] < 1.0f)
      return TRUE;
  return FALSE;
}

/* A "(combine)" frame becomes the whole frame it showed, canvas-sized, tagged "(replace)". */
static void
write_combined (const Animation *a,
                const Frame     *f)
{
  GimpDrawable *drawable = GIMP_DRAWABLE (f->layer);
  g_autoptr (NsRegion) region = NULL;
  g_autofree char *name = gimp_item_get_name (GIMP_ITEM (f->layer));
  g_autoptr (GString) renamed = g_string_new (name);

  if (! gimp_drawable_has_alpha (drawable) &&
      has_transparency (f->shown, (gsize) a->width * a->height))
    gimp_layer_add_alpha (f->layer);
  gimp_layer_resize_to_image_size (f->layer);

  region = ns_region_new_rgba (drawable, GEGL_RECTANGLE (0, 0, a->width, a->height), f->shown);
  ns_region_apply (region, f->result, drawable);

  g_string_replace (renamed, COMBINE_TAG, REPLACE_TAG, 0);
  gimp_item_set_name (GIMP_ITEM (f->layer), renamed->str);
}

/* Another frame: the part of it on the canvas, with its own alpha. */
static void
write_alone (const Frame *f)
{
  g_autoptr (NsImage) part = NULL;

  if (f->region == NULL)
    return;

  part = crop (f->result, GEGL_RECTANGLE (f->region->rect.x + f->x, f->region->rect.y + f->y,
                                          f->region->rect.width, f->region->rect.height));
  ns_region_apply (f->region, part, GIMP_DRAWABLE (f->layer));
}

/* Every layer through its shadow buffer, in one undo step. */
static void
write_frames (const Animation *a)
{
  GimpChannel *selection = NULL;

  gimp_progress_set_text (_("Neural Style: writing the frames"));
  gimp_image_undo_group_start (a->image);

  /* Merging a shadow buffer applies it through the selection: the frames are replaced whole,
   * so the selection is set aside meanwhile. */
  if (! gimp_selection_is_empty (a->image))
    {
      selection = gimp_selection_save (a->image);
      gimp_selection_none (a->image);
    }

  for (gint k = 0; k < a->n; k++)
    if (a->frames[k].combine)
      write_combined (a, &a->frames[k]);
    else
      write_alone (&a->frames[k]);

  if (selection)
    {
      gimp_image_select_item (a->image, GIMP_CHANNEL_OP_REPLACE, GIMP_ITEM (selection));
      gimp_image_remove_channel (a->image, selection);
    }

  gimp_image_undo_group_end (a->image);
}

/* ---- the procedure -------------------------------------------------------------------------- */

static GimpPDBStatusType
apply (GimpImage           *image,
       GimpProcedureConfig *config,
       NsNetworkCache      *networks,
       GError             **error)
{
  g_auto (Animation) animation = { image };
  g_autoptr (GimpLayer) style = NULL;
  GimpPDBStatusType status;
  gint n_frames;

  status = ns_plugin_config_check (config, error);
  if (status != GIMP_PDB_SUCCESS)
    return status;
  g_object_get (config, "style-layer", &style, NULL);
  status = check_image (image, style, &n_frames, error);
  if (status != GIMP_PDB_SUCCESS)
    return status;

  gimp_progress_init (_("Neural Style: preparing"));
  read_frames (&animation, style);

  status = stylize (&animation, config, networks, style, error);
  if (status == GIMP_PDB_SUCCESS)
    write_frames (&animation);

  gimp_progress_update (1.0);
  gimp_progress_end ();
  return status;
}

/* The frame the dialog previews: the selected layer when it is a frame, else the first. */
static GimpDrawable *
current_frame (GimpImage     *image,
               GimpDrawable **drawables)
{
  g_autofree GimpLayer **layers = gimp_image_get_layers (image);
  gint n = gimp_core_object_array_get_length ((GObject **) layers);

  for (gint i = 0; i < n; i++)
    if (drawables && drawables[0] && gimp_item_get_id (GIMP_ITEM (drawables[0])) ==
                                     gimp_item_get_id (GIMP_ITEM (layers[i])))
      return drawables[0];
  return GIMP_DRAWABLE (layers[n - 1]);
}

static GimpValueArray *
frames_run (GimpProcedure        *procedure,
            GimpRunMode           run_mode,
            GimpImage            *image,
            GimpDrawable        **drawables,
            GimpProcedureConfig  *config,
            gpointer              run_data)
{
  NsNetworkCache *networks = run_data;
  GimpPDBStatusType status;
  GError *error = NULL;
  g_autofree char *notice = NULL;
  gint n_frames;

  gegl_init (NULL, NULL);

  status = check_image (image, NULL, &n_frames, &error);
  if (status == GIMP_PDB_SUCCESS && run_mode != GIMP_RUN_NONINTERACTIVE)
    status = ns_style_recall_for_run (config, ns_plugin_other_image_layer (image), run_mode,
                                      _("Filters ▸ Animation ▸ Neural Style (frames)…"),
                                      &notice, &error);
  if (status != GIMP_PDB_SUCCESS)
    return gimp_procedure_new_return_values (procedure, status, error);

  if (run_mode == GIMP_RUN_INTERACTIVE &&
      ! ns_dialog_run_frames (procedure, config, current_frame (image, drawables), n_frames,
                              networks, notice))
    return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);

  if (run_mode == GIMP_RUN_INTERACTIVE)
    ns_style_remember (config);

  status = apply (image, config, networks, &error);

  if (status == GIMP_PDB_SUCCESS && run_mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();

  return gimp_procedure_new_return_values (procedure, status, error);
}

/* The least share of the iterations a later frame may run (the engine takes any > 0). */
#define MIN_LATER_ITERATIONS 0.01

/* What the frames after the first run (ns_sequence_set_later_frames); appended last, so
 * that positional calls keep working. */
static void
add_later_arguments (GimpProcedure *procedure)
{
  gimp_procedure_add_double_argument (procedure, "later-iterations",
                                      _("Iterations of later frames"),
                                      _("The share of the iterations that the frames after "
                                        "the first run at each size: they start from the "
                                        "previous frame's result, which has the style "
                                        "already (1 = as many as the first frame; only with "
                                        "a temporal continuity above 0)"),
                                      MIN_LATER_ITERATIONS, 1.0,
                                      NS_LATER_ITERATIONS_DEFAULT, G_PARAM_READWRITE);
  gimp_procedure_add_boolean_argument (procedure, "later-all-sizes",
                                       _("Later frames at every size"),
                                       _("Whether the frames after the first optimize at "
                                         "every size of the coarse-to-fine run, as the first "
                                         "frame does, or only at the last"),
                                       NS_LATER_COARSE_SIZES_DEFAULT, G_PARAM_READWRITE);
}

GimpProcedure *
ns_frames_procedure_new (GimpPlugIn     *plug_in,
                         NsNetworkCache *networks)
{
  GimpProcedure *procedure;
  NsPluginDefaults defaults;

  procedure = gimp_image_procedure_new (plug_in, NS_FRAMES_PROC, GIMP_PDB_PROC_TYPE_PLUGIN,
                                        frames_run, networks, NULL);

  gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
  /* It works on the image's layers, whichever are selected. */
  gimp_procedure_set_sensitivity_mask (procedure,
                                       GIMP_PROCEDURE_SENSITIVE_DRAWABLE |
                                       GIMP_PROCEDURE_SENSITIVE_DRAWABLES |
                                       GIMP_PROCEDURE_SENSITIVE_NO_DRAWABLES);
  gimp_procedure_set_menu_label (procedure, _("_Neural Style (frames)…"));
  gimp_procedure_add_menu_path (procedure, "<Image>/Filters/Animation");

  gimp_procedure_set_documentation (procedure,
                                    _("Paint the frames of an animation in the style of "
                                      "another layer"),
                                    _("Neural style transfer on every frame of an animation: "
                                      "the image's layers are the frames, the bottom layer "
                                      "first, as GIMP's animation playback and GIF export "
                                      "read them.  Each frame is held to the previous frames' "
                                      "results where the optical flow between the original "
                                      "frames shows the same thing (\"temporal-weight\"; 0 "
                                      "stylizes each frame on its own), so that the style "
                                      "does not flicker.  A frame tagged (combine) is "
                                      "composited over the frame before it, stylized as "
                                      "shown, and written back whole, tagged (replace); "
                                      "delays such as (100ms) and the rest of the names are "
                                      "kept.  Layers smaller than the canvas or offset are "
                                      "stylized on the canvas and keep their size and "
                                      "offsets.  All frames are stylized first and then "
                                      "written in one undo step, so a cancel or an error "
                                      "leaves the image untouched.  The other arguments are "
                                      "those of plug-in-neural-style; the style layer "
                                      "should belong to another image (in this one it is not "
                                      "a frame)."),
                                    NS_FRAMES_PROC);
  gimp_procedure_set_attribution (procedure, "The Neural Style authors",
                                  "Copyright 2026 the Neural Style authors (GPL-3.0-or-later)",
                                  "2026");

  ns_plugin_defaults (&defaults);
  ns_plugin_add_arguments (procedure, &defaults, NS_PLUGIN_ARGS_FRAMES);
  ns_style_add_arguments (procedure);
  add_later_arguments (procedure);
  ns_plugin_add_padding_argument (procedure);

  return procedure;
}
