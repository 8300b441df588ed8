/* plugin.c — the GIMP 3 plug-in: registers plug-in-neural-style and runs it, and registers
 * plug-in-neural-style-frames (plugin/frames.c).
 *
 * Filters ▸ Artistic ▸ Neural Style…  Paints the active layer (or the selected part of it)
 * in the style of another layer with the Neural Style engine (Gatys et al.). */
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n.h>

#include "neural-style.h"
#include "settings.h"
#include "texts.h"
#include "pixels.h"
#include "job.h"
#include "dialog.h"
#include "style.h"
#include "frames.h"
#include "regions.h"

typedef struct
{
  GimpPlugIn      parent_instance;
  NsNetworkCache *networks;
} NeuralStyle;

typedef struct
{
  GimpPlugInClass parent_class;
} NeuralStyleClass;

#define NEURAL_STYLE_TYPE (neural_style_get_type ())
#define NEURAL_STYLE(obj) ((NeuralStyle *) (obj))

GType neural_style_get_type (void) G_GNUC_CONST;

G_DEFINE_TYPE (NeuralStyle, neural_style, GIMP_TYPE_PLUG_IN)

GIMP_MAIN (NEURAL_STYLE_TYPE)

/* ---- the final run --------------------------------------------------------------------------- */

static void
report_progress (NsJob            *job,
                 const NsProgress *progress,
                 gpointer          user_data)
{
  g_autofree char *text = ns_plugin_progress_text (progress);

  if (progress->iterations > 0)
    gimp_progress_update ((gdouble) progress->iteration / progress->iterations);
  gimp_progress_set_text_printf (_("Neural Style: %s"), text);
}

/* Before the first iteration: how the run will go and the memory it is expected to take,
 * in brief (GIMP's progress is one line). */
static void
report_plan (NsJob        *job,
             const NsPlan *plan,
             gpointer      user_data)
{
  g_autofree char *summary = ns_plugin_plan_summary (plan);

  gimp_progress_set_text_printf (_("Neural Style: %s"), summary);
}

static GimpDrawable *
output_target (GimpDrawable *drawable,
               NsOutput      output)
{
  GimpImage *image;
  GimpLayer *copy;
  GimpItem  *parent;
  g_autofree gchar *old_name = NULL;
  g_autofree gchar *name = NULL;

  if (output != NS_OUTPUT_NEW_LAYER)
    return drawable;

  /* A copy keeps size, offsets, format and the pixels outside the selection; the result is
   * then merged into it exactly as it would be into the layer itself. */
  image    = gimp_item_get_image (GIMP_ITEM (drawable));
  copy     = gimp_layer_copy (GIMP_LAYER (drawable));
  parent   = gimp_item_get_parent (GIMP_ITEM (drawable));
  old_name = gimp_item_get_name (GIMP_ITEM (drawable));
  name     = g_strdup_printf (_("%s (Neural Style)"), old_name);

  gimp_item_set_name (GIMP_ITEM (copy), name);
  gimp_image_insert_layer (image, copy, parent ? GIMP_LAYER (parent) : NULL,
                           gimp_image_get_item_position (image, GIMP_ITEM (drawable)));
  return GIMP_DRAWABLE (copy);
}

static GimpPDBStatusType
check_arguments (GimpDrawable        *drawable,
                 GimpProcedureConfig *config,
                 GError             **error)
{
  GimpPDBStatusType status = ns_plugin_config_check (config, error);

  if (status == GIMP_PDB_SUCCESS)
    status = ns_plugin_regions_check (config, drawable, error);
  if (status != GIMP_PDB_SUCCESS)
    return status;
  if (ns_plugin_config_output (config) == NS_OUTPUT_NEW_LAYER &&
      ! gimp_item_is_layer (GIMP_ITEM (drawable)))
    {
      *error = ns_plugin_error (_("The output \"new-layer\" needs a layer, but a channel or "
                                  "mask was given; use the output \"replace\"."));
      return GIMP_PDB_CALLING_ERROR;
    }
  return GIMP_PDB_SUCCESS;
}

/* Writes the result; a selection that is a style's region does not mask the write (the
 * whole layer was stylized), so it is set aside meanwhile, in the same undo step. */
static void
write_result (const NsRegion      *region,
              const NsImage       *result,
              GimpDrawable        *target,
              GimpProcedureConfig *config)
{
  GimpImage *image = gimp_item_get_image (GIMP_ITEM (target));
  GimpChannel *saved = NULL;

  if (ns_plugin_regions_whole_layer (config))
    {
      saved = gimp_selection_save (image);
      gimp_selection_none (image);
    }
  ns_region_apply (region, result, target);
  if (saved)
    {
      gimp_image_select_item (image, GIMP_CHANNEL_OP_REPLACE, GIMP_ITEM (saved));
      gimp_image_remove_channel (image, saved);
    }
}

static GimpPDBStatusType
apply (NeuralStyle         *self,
       GimpDrawable        *drawable,
       GimpProcedureConfig *config,
       GError             **error)
{
  g_autoptr (NsRegion) region = NULL;
  g_autoptr (NsStyles) styles = NULL;
  g_autoptr (NsImage) result = NULL;
  g_autoptr (NsJob) job = NULL;
  g_autoptr (GError) run_error = NULL;
  GimpPDBStatusType status;
  GimpImage *image;
  GeglRectangle rect;
  NsOptions *options;
  gint size;

  status = check_arguments (drawable, config, error);
  if (status != GIMP_PDB_SUCCESS)
    return status;

  /* Nothing of this layer is selected: nothing to do, as with GIMP's own filters. */
  if (! ns_plugin_regions_area (config, drawable, &rect))
    return GIMP_PDB_SUCCESS;

  gimp_progress_init (_("Neural Style: preparing"));

  /* The regions first: an empty one is an error before any work. */
  styles = ns_plugin_regions_read (config, drawable, &rect, 1.0, NS_REGIONS_WHOLE, error);
  if (styles == NULL)
    {
      gimp_progress_end ();
      return GIMP_PDB_CALLING_ERROR;
    }

  size    = ns_plugin_config_size (config);
  region  = ns_region_read (drawable, &rect);
  options = ns_plugin_config_options (config);
  /* The job takes the content image; the region keeps what the write needs. */
  job     = ns_job_new (self->networks, ns_plugin_config_network (config),
                        ns_plugin_config_padding (config), options,
                        g_steal_pointer (&region->content), g_steal_pointer (&styles),
                        ns_plugin_run_side (size, rect.width, rect.height));

  ns_job_set_plan_func (job, report_plan, NULL);
  result = ns_job_run_sync (job, report_progress, NULL, &run_error);
  if (result == NULL)
    {
      g_autofree char *text = ns_plugin_error_text (run_error);

      *error = ns_plugin_error (_("Neural Style failed: %s"), text);
      gimp_progress_end ();
      return GIMP_PDB_EXECUTION_ERROR;
    }

  gimp_progress_set_text (_("Neural Style: writing the result"));

  image = gimp_item_get_image (GIMP_ITEM (drawable));
  gimp_image_undo_group_start (image);
  write_result (region, result, output_target (drawable, ns_plugin_config_output (config)),
                config);
  gimp_image_undo_group_end (image);

  gimp_progress_update (1.0);
  gimp_progress_end ();
  return GIMP_PDB_SUCCESS;
}

/* One paintable layer (or channel) of an RGB or grey image. */
static GimpPDBStatusType
check_drawables (GimpDrawable **drawables,
                 GError       **error)
{
  if (gimp_core_object_array_get_length ((GObject **) drawables) != 1)
    *error = ns_plugin_error (_("Neural Style works on one layer at a time; select a single "
                                "layer."));
  else if (gimp_drawable_is_indexed (drawables[0]))
    *error = ns_plugin_error (_("Neural Style does not work on indexed images; convert the "
                                "image to RGB or grayscale first (Image ▸ Mode)."));
  else if (gimp_item_is_group (GIMP_ITEM (drawables[0])))
    *error = ns_plugin_error (_("Neural Style cannot paint on a layer group; select a layer "
                                "inside it."));
  else
    return GIMP_PDB_SUCCESS;

  return GIMP_PDB_CALLING_ERROR;
}

static GimpValueArray *
neural_style_run (GimpProcedure        *procedure,
                  GimpRunMode           run_mode,
                  GimpImage            *image,
                  GimpDrawable        **drawables,
                  GimpProcedureConfig  *config,
                  gpointer              run_data)
{
  NeuralStyle *self = NEURAL_STYLE (run_data);
  GimpPDBStatusType status;
  GError *error = NULL;
  g_autofree char *notice = NULL;

  gegl_init (NULL, NULL);

  status = check_drawables (drawables, &error);
  if (status != GIMP_PDB_SUCCESS)
    return gimp_procedure_new_return_values (procedure, status, error);

  /* GIMP does not remember layer arguments between runs: a repeated or interactive run
   * takes back the last run's style layer while it is open, or another layer of the
   * image. */
  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    {
      status = ns_style_recall_for_run (config, ns_plugin_default_style_layer (drawables[0]),
                                        run_mode, _("Filters ▸ Artistic ▸ Neural Style…"),
                                        &notice, &error);
      /* The further styles' layers and the regions' channels and mask layers likewise. */
      ns_style_recall_items (config);
    }
  if (status != GIMP_PDB_SUCCESS)
    return gimp_procedure_new_return_values (procedure, status, error);

  if (run_mode == GIMP_RUN_INTERACTIVE &&
      ! ns_dialog_run (procedure, config, drawables[0], self->networks, notice))
    return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);

  /* Stored with the other values after an interactive run, for the next one. */
  if (run_mode == GIMP_RUN_INTERACTIVE)
    {
      ns_style_remember (config);
      ns_style_remember_items (config, ns_plugin_regions_items ());
    }

  status = apply (self, drawables[0], config, &error);

  if (status == GIMP_PDB_SUCCESS && run_mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();

  return gimp_procedure_new_return_values (procedure, status, error);
}

/* ---- registration -------------------------------------------------------------------------- */

/* The help pages are installed beside the executable, in help/<language>/ (each with the
 * gimp-help.xml that maps the procedure's help id to its page), so that GIMP's Help button
 * and F1 open them rather than asking for the GIMP user manual. */
static GList *
neural_style_query_procedures (GimpPlugIn *plug_in)
{
  g_autofree char *folder = g_path_get_dirname (gimp_get_progname ());
  g_autoptr (GFile) help = g_file_new_build_filename (folder, "help", NULL);

  gimp_plug_in_set_help_domain (plug_in, NS_PLUGIN_HELP_DOMAIN, help);
  return g_list_append (g_list_append (NULL, g_strdup (NS_PLUGIN_PROC)),
                        g_strdup (NS_FRAMES_PROC));
}

static GimpProcedure *
neural_style_create_procedure (GimpPlugIn  *plug_in,
                               const gchar *name)
{
  NeuralStyle *self = NEURAL_STYLE (plug_in);
  GimpProcedure *procedure;
  NsPluginDefaults defaults;

  if (g_strcmp0 (name, NS_FRAMES_PROC) == 0)
    return ns_frames_procedure_new (plug_in, self->networks);
  if (g_strcmp0 (name, NS_PLUGIN_PROC) != 0)
    return NULL;

  ns_plugin_defaults (&defaults);

  procedure = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                        neural_style_run, self, NULL);

  gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
  gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label (procedure, _("Neural _Style…"));
  gimp_procedure_add_menu_path (procedure, "<Image>/Filters/Artistic");

  gimp_procedure_set_documentation (procedure,
                                    _("Paint a layer in the style of another layer"),
                                    _("Neural style transfer (Gatys et al.): repaints the "
                                      "layer, or the selected part of it, so that it keeps "
                                      "its content but takes on the textures, strokes and "
                                      "colors of the style layer, by optimizing the image "
                                      "against the features of a convolutional network on "
                                      "the CPU.  The network is VGG-19 when its weights are "
                                      "installed (the dialog's \"Get VGG-19…\" button or "
                                      "\"neural-style --download-weights\" downloads them "
                                      "once); otherwise the built-in network is used, which "
                                      "needs no download.  The weights mean the same with "
                                      "either network.  Larger layers are optimized at "
                                      "\"size\" pixels (longest side), coarse to fine, then "
                                      "enlarged to full size guided by the layer and refined "
                                      "there (\"upscale\"), in tiles when they do not fit the "
                                      "memory budget.  Alpha is kept; the result replaces the layer "
                                      "or goes to a new layer above it, in one undo step."),
                                    name);
  gimp_procedure_set_attribution (procedure, "The Neural Style authors",
                                  "Copyright 2025 the Neural Style authors (GPL-3.0-or-later)",
                                  "2025");

  ns_plugin_add_arguments (procedure, &defaults, NS_PLUGIN_ARGS_LAYER);
  ns_style_add_arguments (procedure);
  ns_plugin_regions_add_arguments (procedure);
  ns_plugin_add_padding_argument (procedure);

  return procedure;
}

static void
neural_style_finalize (GObject *object)
{
  NeuralStyle *self = NEURAL_STYLE (object);

  g_clear_pointer (&self->networks, ns_network_cache_free);
  G_OBJECT_CLASS (neural_style_parent_class)->finalize (object);
}

static void
neural_style_class_init (NeuralStyleClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);
  GObjectClass    *object_class  = G_OBJECT_CLASS (klass);

  object_class->finalize = neural_style_finalize;
  /* set_i18n keeps libgimp's default: domain "neural-style" (the folder's name), catalogs in
   * the plug-in folder's locale/. */
  plug_in_class->query_procedures = neural_style_query_procedures;
  plug_in_class->create_procedure = neural_style_create_procedure;
}

static void
neural_style_init (NeuralStyle *self)
{
  self->networks = ns_network_cache_new ();
}
