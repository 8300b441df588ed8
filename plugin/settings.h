/* settings.h — the procedure's arguments: names, choices, defaults, and their translation
 * into engine options.  Shared by the procedure (plugin.c) and the dialog (ui/). */
#ifndef NS_PLUGIN_SETTINGS_H
#define NS_PLUGIN_SETTINGS_H

#include <libgimp/gimp.h>

#include "neural-style.h"

G_BEGIN_DECLS

#define NS_PLUGIN_PROC    "plug-in-neural-style"
/* The same on the image's layers as the frames of an animation (plugin/frames.c). */
#define NS_FRAMES_PROC    "plug-in-neural-style-frames"
#define NS_PLUGIN_BINARY  "neural-style"
#define NS_PLUGIN_ROLE    "neural-style"
/* The plug-in's own help (data/help/): the domain GIMP's help system knows its pages by;
 * the procedure's help id is NS_PLUGIN_PROC. */
#define NS_PLUGIN_HELP_DOMAIN "neural-style"

/* The deepest default layer sees the image downscaled 16 times on VGG-19 and 32 times on
 * the built-in network (six octaves): smaller regions are enlarged to this for the run. */
#define NS_PLUGIN_MIN_SIZE  32
#define NS_PLUGIN_MAX_SIZE  8192
#define NS_PLUGIN_DEFAULT_SIZE 512
/* "max-memory" is in MiB, up to 1 TiB; "scales" as ns_options_set_scales accepts. */
#define NS_PLUGIN_MAX_MEMORY_MIB 1048576
#define NS_PLUGIN_MAX_SCALES     16
#define NS_PLUGIN_MAX_REFINE_ITERATIONS 1000
#define NS_PLUGIN_MAX_TEMPORAL_WEIGHT   1e9

typedef enum
{
  NS_OUTPUT_REPLACE,
  NS_OUTPUT_NEW_LAYER
} NsOutput;

/* Engine defaults that the procedure's arguments start from. */
typedef struct
{
  double content_weight;
  double style_weight;
  double tv_weight;
  int    iterations;
} NsPluginDefaults;

/* An error for the procedures' callers (GIMP_PLUG_IN_ERROR), from a translated format. */
GError        *ns_plugin_error           (const char *format,
                                          ...) G_GNUC_PRINTF (1, 2);

/* The engine's defaults (the same for every network: the weights are on one scale). */
void           ns_plugin_defaults        (NsPluginDefaults *defaults);

/* Which procedure the arguments are for. */
typedef enum
{
  NS_PLUGIN_ARGS_LAYER,    /* plug-in-neural-style: every argument                           */
  NS_PLUGIN_ARGS_FRAMES    /* plug-in-neural-style-frames: no "output" (frames are replaced),
                            * and "temporal-weight" last                                     */
} NsPluginArgs;

/* Registers the procedure's arguments, starting from `defaults`, in the order positional
 * calls rely on. */
void           ns_plugin_add_arguments   (GimpProcedure          *procedure,
                                          const NsPluginDefaults *defaults,
                                          NsPluginArgs            which);

/* "padding", the procedure's last argument (after the regions' ones in the single
 * procedure): what the network sees beyond the layer's edges.  Its default is the engine's
 * (ns_network_default_padding), read when the procedure is registered. */
void           ns_plugin_add_padding_argument (GimpProcedure *procedure);

NsNetworkKind  ns_plugin_config_network  (GimpProcedureConfig *config);
NsPadding      ns_plugin_config_padding  (GimpProcedureConfig *config);
NsOutput       ns_plugin_config_output   (GimpProcedureConfig *config);
int            ns_plugin_config_size     (GimpProcedureConfig *config);
/* Engine options for everything the config holds (weights, iterations, optimizer, sizes,
 * memory budget, …). */
NsOptions     *ns_plugin_config_options  (GimpProcedureConfig *config);

/* The style layer and the size: GIMP_PDB_SUCCESS, or GIMP_PDB_CALLING_ERROR with `error`
 * saying what is wrong (no style layer, one that is gone or too small, a size below
 * NS_PLUGIN_MIN_SIZE). */
GimpPDBStatusType ns_plugin_config_check (GimpProcedureConfig *config,
                                          GError             **error);

/* The layer a run should take its style from when none was given: the topmost layer of
 * `drawable`'s image other than `drawable` itself (looking inside groups), or NULL. */
GimpLayer     *ns_plugin_default_style_layer (GimpDrawable *drawable);
/* The same for a run on all of `image`'s layers: the topmost layer of another open image,
 * or NULL. */
GimpLayer     *ns_plugin_other_image_layer   (GimpImage *image);

/* The longest side the optimisation runs at for a region of width × height: `size` when
 * 0 < size < the region's longest side, else the region's own; but never so small that the
 * short side falls below NS_PLUGIN_MIN_SIZE (thin regions are enlarged for the run). */
int            ns_plugin_run_side        (int size, int width, int height);

G_END_DECLS

#endif /* NS_PLUGIN_SETTINGS_H */
