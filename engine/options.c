/* options.c — run parameters.  The weights are on one scale for every network (each network
 * carries gains that the objective applies), so α and β behave alike whichever one runs and
 * their defaults do not depend on it. */
#include <math.h>
#include <string.h>
#include "ns-internal.h"

NsOptions *
ns_options_new (void)
{
  NsOptions *o = g_new0 (NsOptions, 1);

  o->content_weight = 1.0;
  o->style_weight = 1e6;
  o->tv_weight = 1.0;
  o->iterations = 500;
  o->optimizer = NS_OPTIMIZER_LBFGS;
  o->lbfgs_history = 100;
  o->learning_rate = 0.02;
  o->init = NS_INIT_CONTENT;
  o->color_mode = NS_COLOR_STYLE;
  o->style_scale = 1.0;
  o->upscale = NS_UPSCALE_REFINE;
  o->refine_iterations = NS_REFINE_ITERATIONS;
  return o;
}

NsOptions *
ns_options_copy (const NsOptions *o)
{
  NsOptions *c;

  g_return_val_if_fail (o != NULL, NULL);
  c = g_memdup2 (o, sizeof *o);
  c->content_layer = g_strdup (o->content_layer);
  c->style_layers = o->style_layers
    ? g_memdup2 (o->style_layers, sizeof (NsStyleLayer) * o->n_style_layers) : NULL;
  c->scale_iterations = o->scale_iterations
    ? g_memdup2 (o->scale_iterations, sizeof (int) * o->n_scale_iterations) : NULL;
  return c;
}

void
ns_options_free (NsOptions *o)
{
  if (o == NULL)
    return;
  g_free (o->content_layer);
  g_free (o->style_layers);
  g_free (o->scale_iterations);
  g_free (o);
}

void
ns_options_apply_network_defaults (NsOptions *o, const NsNetwork *net)
{
  g_return_if_fail (o != NULL && net != NULL);

  if (o->content_layer == NULL)
    o->content_layer = g_strdup (net->content_layer);
  if (o->style_layers == NULL)
    ns_style_layers_parse (net->style_layers, &o->style_layers, &o->n_style_layers, NULL);
}

gboolean
ns_style_layers_parse (const char    *spec,
                       NsStyleLayer **layers,
                       int           *n_layers,
                       GError       **error)
{
  g_auto (GStrv) parts = NULL;
  g_autofree NsStyleLayer *out = NULL;
  int n = 0;

  if (spec == NULL || *spec == '\0')
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "No style layers given; name at least one, e.g. \"relu1_1,relu2_1\"");
      return FALSE;
    }
  parts = g_strsplit (spec, ",", -1);
  out = g_new0 (NsStyleLayer, g_strv_length (parts));
  for (int i = 0; parts[i]; i++)
    {
      char *item = g_strstrip (parts[i]);
      char *colon = strchr (item, ':');
      double weight = 1.0;

      if (colon)
        {
          char *end = NULL;

          *colon = '\0';
          weight = g_ascii_strtod (colon + 1, &end);
          if (end == colon + 1 || *end != '\0' || ! (weight >= 0.0) || ! isfinite (weight))
            {
              g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                           "Bad weight \"%s\" for style layer \"%s\"; use a number ≥ 0, e.g. relu1_1:0.5",
                           colon + 1, item);
              return FALSE;
            }
        }
      if (*item == '\0' || strlen (item) >= sizeof out[0].name)
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "Bad style layer name \"%s\" in \"%s\"; use names like relu3_1",
                       item, spec);
          return FALSE;
        }
      g_strlcpy (out[n].name, item, sizeof out[n].name);
      out[n].weight = weight;
      n++;
    }
  *layers = g_steal_pointer (&out);
  *n_layers = n;
  return TRUE;
}

#define NS_SETTER(field, type)                                          \
  void ns_options_set_##field (NsOptions *o, type v) { g_return_if_fail (o); o->field = v; }
#define NS_GETTER(field, type)                                          \
  type ns_options_get_##field (const NsOptions *o) { g_return_val_if_fail (o, (type) 0); return o->field; }

NS_SETTER (content_weight, double)
NS_SETTER (style_weight, double)
NS_SETTER (tv_weight, double)

NS_GETTER (content_weight, double)
NS_GETTER (style_weight, double)
NS_GETTER (tv_weight, double)
NS_SETTER (iterations, int)
NS_GETTER (iterations, int)
NS_SETTER (optimizer, NsOptimizer)
NS_GETTER (optimizer, NsOptimizer)
NS_SETTER (lbfgs_history, int)
NS_SETTER (learning_rate, double)
NS_SETTER (init, NsInit)
NS_SETTER (seed, guint64)
NS_SETTER (color_mode, NsColorMode)
NS_GETTER (color_mode, NsColorMode)
NS_SETTER (style_scale, double)
NS_SETTER (preview_every, int)
NS_SETTER (threads, int)
NS_SETTER (scales, int)
NS_GETTER (scales, int)
NS_SETTER (max_memory, guint64)
NS_GETTER (max_memory, guint64)
NS_SETTER (optimize_size, int)
NS_GETTER (optimize_size, int)
NS_SETTER (upscale, NsUpscale)
NS_GETTER (upscale, NsUpscale)
NS_SETTER (refine_iterations, int)
NS_GETTER (refine_iterations, int)

void
ns_options_set_scale_iterations (NsOptions *o, const int *iterations, int n)
{
  g_return_if_fail (o);
  g_return_if_fail (n == 0 || iterations != NULL);
  g_clear_pointer (&o->scale_iterations, g_free);
  o->n_scale_iterations = MAX (n, 0);
  if (n > 0)
    o->scale_iterations = g_memdup2 (iterations, sizeof (int) * n);
}

void
ns_options_set_content_layer (NsOptions *o, const char *layer)
{
  g_return_if_fail (o);
  g_free (o->content_layer);
  o->content_layer = g_strdup (layer);
}

gboolean
ns_options_set_style_layers (NsOptions *o, const char *spec, GError **error)
{
  NsStyleLayer *layers = NULL;
  int n = 0;

  g_return_val_if_fail (o, FALSE);
  if (! ns_style_layers_parse (spec, &layers, &n, error))
    return FALSE;
  g_free (o->style_layers);
  o->style_layers = layers;
  o->n_style_layers = n;
  return TRUE;
}
