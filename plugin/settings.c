/* settings.c — the procedure's arguments and their meaning for the engine. */
#include "settings.h"

#include <glib/gi18n.h>

#include "style.h"

GError *
ns_plugin_error (const char *format,
                 ...)
{
  va_list  args;
  GError  *error;

  va_start (args, format);
  error = g_error_new_valist (GIMP_PLUG_IN_ERROR, 0, format, args);
  va_end (args);
  return error;
}

void
ns_plugin_defaults (NsPluginDefaults *defaults)
{
  g_autoptr (NsOptions) options = ns_options_new ();

  defaults->content_weight = ns_options_get_content_weight (options);
  defaults->style_weight   = ns_options_get_style_weight (options);
  defaults->tv_weight      = ns_options_get_tv_weight (options);
  defaults->iterations     = ns_options_get_iterations (options);
}

void
ns_plugin_add_arguments (GimpProcedure          *procedure,
                         const NsPluginDefaults *d,
                         NsPluginArgs            which)
{
  /* Mnemonics avoid the dialog's own buttons: _OK, _Cancel, _Reset, _Help,
   * _Load Saved Settings, _Save Settings, and the dialog's _Preview / S_top.  Every other
   * letter of the alphabet is taken now (j by "padding", ns_plugin_add_padding_argument);
   * "temporal-weight" (the frames procedure's only) shares u with "output" (the single
   * procedure's only).
   * Arguments are only ever appended, so that positional calls keep working. */
  gimp_procedure_add_layer_argument (procedure, "style-layer",
                                     _("St_yle layer"),
                                     _("The layer whose look is transferred, e.g. a painting "
                                       "opened as a layer; it may belong to another image "
                                       "and have any size"),
                                     TRUE, G_PARAM_READWRITE);

  gimp_procedure_add_double_argument (procedure, "content-weight",
                                      _("Content wei_ght (α)"),
                                      _("How strongly the result keeps the layer's content "
                                        "(α)"),
                                      0.0, 1e9, d->content_weight, G_PARAM_READWRITE);

  gimp_procedure_add_double_argument (procedure, "style-weight",
                                      _("Style _weight (β)"),
                                      _("How strongly the result takes on the style (β); "
                                        "it means the same with either network"),
                                      0.0, 1e12, d->style_weight, G_PARAM_READWRITE);

  gimp_procedure_add_double_argument (procedure, "tv-weight",
                                      _("Smoothness (T_V weight)"),
                                      _("Total-variation weight: higher values give smoother, "
                                        "less noisy results"),
                                      0.0, 1e6, d->tv_weight, G_PARAM_READWRITE);

  gimp_procedure_add_int_argument (procedure, "iterations",
                                   _("_Iterations"),
                                   _("Optimization steps; more give a stronger, cleaner "
                                     "style and take longer"),
                                   1, 10000, d->iterations, G_PARAM_READWRITE);

  gimp_procedure_add_int_argument (procedure, "size",
                                   _("Optimi_zation size"),
                                   _("Longest side, in pixels, that the optimization runs at; "
                                     "a larger layer or selection is optimized at this size "
                                     "and the result enlarged to full size (see \"Enlargement "
                                     "quality\").  0 = the layer's (or selection's) own size"),
                                   0, NS_PLUGIN_MAX_SIZE, NS_PLUGIN_DEFAULT_SIZE,
                                   G_PARAM_READWRITE);

  gimp_procedure_add_boolean_argument (procedure, "preserve-colors",
                                       _("_Keep original colors"),
                                       _("Transfer only the style's brightness patterns and "
                                         "keep the layer's own colors"),
                                       FALSE, G_PARAM_READWRITE);

  gimp_procedure_add_double_argument (procedure, "style-scale",
                                      _("Style sc_ale"),
                                      _("Size of the style's brush strokes: the style layer is "
                                        "scaled so that its longest side is this times the "
                                        "optimized image's"),
                                      0.1, 10.0, 1.0, G_PARAM_READWRITE);

  gimp_procedure_add_choice_argument (procedure, "optimizer",
                                      _("Opti_mizer"),
                                      _("L-BFGS usually looks best; Adam needs less memory"),
                                      gimp_choice_new_with_values (
                                        "lbfgs", NS_OPTIMIZER_LBFGS, _("L-BFGS"), NULL,
                                        "adam",  NS_OPTIMIZER_ADAM,  _("Adam"),   NULL,
                                        NULL),
                                      "lbfgs", G_PARAM_READWRITE);

  gimp_procedure_add_choice_argument (procedure, "init",
                                      _("Start _from"),
                                      _("The image the optimization starts from"),
                                      gimp_choice_new_with_values (
                                        "content", NS_INIT_CONTENT, _("The layer"),    NULL,
                                        "noise",   NS_INIT_NOISE,   _("Random noise"), NULL,
                                        NULL),
                                      "content", G_PARAM_READWRITE);

  gimp_procedure_add_int_argument (procedure, "seed",
                                   _("S_eed"),
                                   _("Random seed (for noise starts); the same seed gives the "
                                     "same result"),
                                   0, G_MAXINT, 0, G_PARAM_READWRITE);

  gimp_procedure_add_choice_argument (procedure, "network",
                                      _("_Network"),
                                      _("The feature network: VGG-19 gives the best "
                                        "results and needs its weights (“Get VGG-19…” under "
                                        "the preview downloads them); the built-in one needs "
                                        "nothing"),
                                      gimp_choice_new_with_values (
                                        "auto",     NS_NETWORK_AUTO,
                                        _("Automatic (VGG-19 if installed)"), NULL,
                                        "vgg19",    NS_NETWORK_VGG19,
                                        _("VGG-19 (downloaded weights)"), NULL,
                                        "embedded", NS_NETWORK_EMBEDDED,
                                        _("Built-in (no download)"), NULL,
                                        NULL),
                                      "auto", G_PARAM_READWRITE);

  /* Frames are always replaced: a new layer would be a frame of its own. */
  if (which == NS_PLUGIN_ARGS_LAYER)
    gimp_procedure_add_choice_argument (procedure, "output",
                                        _("O_utput"),
                                        _("Replace the layer's pixels, or put the result on a "
                                          "new layer above it"),
                                        gimp_choice_new_with_values (
                                          "replace",   NS_OUTPUT_REPLACE,
                                          _("Replace the layer"), NULL,
                                          "new-layer", NS_OUTPUT_NEW_LAYER,
                                          _("New layer above"), NULL,
                                          NULL),
                                        "replace", G_PARAM_READWRITE);

  gimp_procedure_add_int_argument (procedure, "max-memory",
                                   _("Memory bu_dget (MiB)"),
                                   /* xgettext:no-c-format */
                                   _("The most memory the run may use, in MiB; 0 = automatic "
                                     "(80% of the memory available when it starts).  Larger "
                                     "images are processed in tiles (and with a leaner "
                                     "optimizer if need be) to stay within it"),
                                   0, NS_PLUGIN_MAX_MEMORY_MIB, 0, G_PARAM_READWRITE);

  gimp_procedure_add_int_argument (procedure, "scales",
                                   _("Num_ber of sizes"),
                                   _("Coarse to fine: the optimization runs at this many "
                                     "sizes, each starting from the previous result enlarged; "
                                     "the iterations run at the first size and half as many "
                                     "at each next one.  0 = automatic (from 256 pixels, "
                                     "doubling up to the optimization size), 1 = only the "
                                     "final size"),
                                   0, NS_PLUGIN_MAX_SCALES, 0, G_PARAM_READWRITE);

  gimp_procedure_add_choice_argument (procedure, "upscale",
                                      _("Enlargement _quality"),
                                      /* xgettext:no-c-format */
                                      _("How a result optimized below the layer's size is "
                                        "enlarged: guided by the layer (its edges and fine "
                                        "detail) and then refined at full size with the "
                                        "style's finest strokes; only guided; or bilinear, "
                                        "which is soft at 100% zoom"),
                                      gimp_choice_new_with_values (
                                        "refine",   NS_UPSCALE_REFINE,
                                        _("Guided, then refined (sharpest)"), NULL,
                                        "guided",   NS_UPSCALE_GUIDED,
                                        _("Guided by the layer"), NULL,
                                        "bilinear", NS_UPSCALE_BILINEAR,
                                        _("Bilinear (soft)"), NULL,
                                        NULL),
                                      "refine", G_PARAM_READWRITE);

  gimp_procedure_add_int_argument (procedure, "refine-iterations",
                                   _("E_xtra iterations at full size"),
                                   _("Iterations of the refinement at full size, after the "
                                     "enlargement (\"Enlargement quality\": refined); each "
                                     "takes about as long as an iteration on the whole "
                                     "layer.  0 = none"),
                                   0, NS_PLUGIN_MAX_REFINE_ITERATIONS, NS_REFINE_ITERATIONS,
                                   G_PARAM_READWRITE);

  if (which == NS_PLUGIN_ARGS_FRAMES)
    gimp_procedure_add_double_argument (procedure, "temporal-weight",
                                        _("Temporal contin_uity (γ)"),
                                        _("How strongly each frame keeps to the previous "
                                          "frames' results where the motion between the "
                                          "frames shows the same thing, so that the style "
                                          "does not flicker; 0 = each frame on its own"),
                                        0.0, NS_PLUGIN_MAX_TEMPORAL_WEIGHT,
                                        NS_TEMPORAL_WEIGHT_DEFAULT, G_PARAM_READWRITE);
}

void
ns_plugin_add_padding_argument (GimpProcedure *procedure)
{
  NsPadding padding;
  int n_convs;
  g_autofree char *zero = ns_padding_to_string (NS_PADDING_ZERO, -1);
  g_autofree char *replicate = ns_padding_to_string (NS_PADDING_REPLICATE, -1);
  g_autofree char *reflect = ns_padding_to_string (NS_PADDING_REFLECT, -1);
  g_autofree char *default_nick = NULL;

  /* The default of the argument's default network, "auto". */
  ns_network_default_padding (NS_NETWORK_AUTO, &padding, &n_convs);
  default_nick = ns_padding_to_string (padding, -1);

  /* The nicks are the engine's (and the command line's) names; j was the one mnemonic
   * letter left (see ns_plugin_add_arguments). */
  gimp_procedure_add_choice_argument (procedure, "padding",
                                      _("Ad_just the edges"),
                                      _("What the network sees beyond the layer's edges: "
                                        "zeros, which can paint a light or dark frame "
                                        "along them, or the edge pixels repeated or "
                                        "mirrored, which avoid it.  It applies to the "
                                        "convolutions the network pads by default (all of "
                                        "them when that is zeros)"),
                                      gimp_choice_new_with_values (
                                        zero,      NS_PADDING_ZERO,
                                        _("No: zeros (may leave a frame)"), NULL,
                                        replicate, NS_PADDING_REPLICATE,
                                        _("Repeat the edge pixels"), NULL,
                                        reflect,   NS_PADDING_REFLECT,
                                        _("Mirror at the edges"), NULL,
                                        NULL),
                                      default_nick, G_PARAM_READWRITE);
}

NsNetworkKind
ns_plugin_config_network (GimpProcedureConfig *config)
{
  return (NsNetworkKind) gimp_procedure_config_get_choice_id (config, "network");
}

NsPadding
ns_plugin_config_padding (GimpProcedureConfig *config)
{
  return (NsPadding) gimp_procedure_config_get_choice_id (config, "padding");
}

NsOutput
ns_plugin_config_output (GimpProcedureConfig *config)
{
  return (NsOutput) gimp_procedure_config_get_choice_id (config, "output");
}

int
ns_plugin_config_size (GimpProcedureConfig *config)
{
  gint size = 0;

  g_object_get (config, "size", &size, NULL);
  return size;
}

NsOptions *
ns_plugin_config_options (GimpProcedureConfig *config)
{
  NsOptions *options = ns_options_new ();
  gdouble    alpha, beta, tv, style_scale;
  gint       iterations, seed, max_memory, scales, refine_iterations;
  gboolean   preserve;

  g_object_get (config,
                "content-weight",  &alpha,
                "style-weight",    &beta,
                "tv-weight",       &tv,
                "iterations",      &iterations,
                "preserve-colors", &preserve,
                "style-scale",     &style_scale,
                "seed",            &seed,
                "max-memory",      &max_memory,
                "scales",          &scales,
                "refine-iterations", &refine_iterations,
                NULL);

  ns_options_set_content_weight (options, alpha);
  ns_options_set_style_weight (options, beta);
  ns_options_set_tv_weight (options, tv);
  ns_options_set_iterations (options, iterations);
  ns_options_set_color_mode (options, preserve ? NS_COLOR_LUMINANCE : NS_COLOR_STYLE);
  ns_options_set_style_scale (options, style_scale);
  ns_options_set_seed (options, (guint64) seed);
  ns_options_set_optimizer (options,
                            gimp_procedure_config_get_choice_id (config, "optimizer"));
  ns_options_set_init (options, gimp_procedure_config_get_choice_id (config, "init"));
  ns_options_set_max_memory (options, (guint64) max_memory << 20);
  ns_options_set_scales (options, scales);
  /* The job gives the engine the optimisation size; these say how it gets to full size. */
  ns_options_set_upscale (options, gimp_procedure_config_get_choice_id (config, "upscale"));
  ns_options_set_refine_iterations (options, refine_iterations);
  /* GIMP's "number of threads" preference, as its own filters use. */
  ns_options_set_threads (options, MAX (1, gimp_get_num_processors ()));

  return options;
}

GimpPDBStatusType
ns_plugin_config_check (GimpProcedureConfig *config,
                        GError             **error)
{
  g_autoptr (GimpLayer) style = NULL;
  g_autofree char *problem = NULL;
  gint size = ns_plugin_config_size (config);

  g_object_get (config, "style-layer", &style, NULL);
  if (style == NULL)
    g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                 _("No style layer was given, or it no longer exists.  Pass "
                   "\"style-layer\": a layer of this or another open image that "
                   "shows the style, e.g. a painting opened as a layer."));
  else if (! gimp_item_is_valid (GIMP_ITEM (style)))
    g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                 _("The style layer no longer exists (was it deleted, or its image "
                   "closed?).  Pass a layer of an open image as \"style-layer\"."));
  else if ((problem = ns_style_problem (style)))
    g_set_error (error, GIMP_PLUG_IN_ERROR, 0, "%s", problem);
  else if (size > 0 && size < NS_PLUGIN_MIN_SIZE)
    g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                 _("The size %d is too small: use 0 (the layer's own size) or at "
                   "least %d pixels."), size, NS_PLUGIN_MIN_SIZE);
  else
    return GIMP_PDB_SUCCESS;

  return GIMP_PDB_CALLING_ERROR;
}

static GimpLayer *
first_other_layer (GimpLayer   **layers,
                   GimpDrawable *drawable)
{
  for (gint i = 0; layers && layers[i]; i++)
    {
      GimpItem *item = GIMP_ITEM (layers[i]);

      if (GIMP_DRAWABLE (layers[i]) == drawable)
        continue;

      if (gimp_item_is_group (item))
        {
          g_autofree GimpItem **children = gimp_item_get_children (item);
          GimpLayer *found = first_other_layer ((GimpLayer **) children, drawable);

          if (found)
            return found;
          continue;
        }

      return layers[i];
    }

  return NULL;
}

GimpLayer *
ns_plugin_default_style_layer (GimpDrawable *drawable)
{
  GimpImage *image = gimp_item_get_image (GIMP_ITEM (drawable));
  g_autofree GimpLayer **layers = gimp_image_get_layers (image);

  return first_other_layer (layers, drawable);
}

GimpLayer *
ns_plugin_other_image_layer (GimpImage *image)
{
  g_autofree GimpImage **images = gimp_get_images ();

  for (gint i = 0; images && images[i]; i++)
    {
      g_autofree GimpLayer **layers = NULL;
      GimpLayer *found;

      if (gimp_image_get_id (images[i]) == gimp_image_get_id (image))
        continue;
      layers = gimp_image_get_layers (images[i]);
      found  = first_other_layer (layers, NULL);
      if (found)
        return found;
    }

  return NULL;
}

int
ns_plugin_run_side (int size,
                    int width,
                    int height)
{
  int longest  = MAX (width, height);
  int shortest = MAX (MIN (width, height), 1);
  int side     = (size > 0 && size < longest) ? size : longest;
  /* The network needs NS_PLUGIN_MIN_SIZE on the short side; a thin selection is enlarged
   * for the run rather than refused. */
  int needed   = (NS_PLUGIN_MIN_SIZE * longest + shortest - 1) / shortest;

  return MAX (side, needed);
}
