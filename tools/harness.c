/* harness.c — what the evaluation tools share (harness.h). */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "imageio.h"
#include "ns-internal.h"

NsImage *
ev_load_rgb (const char *dir, const char *name, GError **error)
{
  g_autofree char *path = dir ? g_build_filename (dir, name, NULL) : g_strdup (name);
  CliImage img = { 0 };
  NsImage *rgb;

  if (!cli_image_load (path, G_MAXUINT64, &img, error))
    return NULL;
  rgb = img.color->channels == 3 ? ns_image_copy (img.color) : ns_image_to_rgb (img.color);
  cli_image_clear (&img);
  return rgb;
}

NsNetwork *
ev_load_network (const char *name, GError **error)
{
  if (g_str_has_prefix (name, "embedded:"))
    return ns_network_new_embedded_variant (name + 9, error);
  if (strcmp (name, "auto") == 0)
    return ns_network_load (NS_NETWORK_AUTO, NULL, error);
  if (strcmp (name, "embedded") == 0)
    return ns_network_load (NS_NETWORK_EMBEDDED, NULL, error);
  if (strcmp (name, "vgg19") == 0)
    return ns_network_load (NS_NETWORK_VGG19, NULL, error);
  g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
               "Unknown network \"%s\"; use auto, embedded, vgg19 or embedded:VARIANT", name);
  return NULL;
}

/* ---- run options --------------------------------------------------------------------------- */

void
ev_run_options_init (EvRunOptions *r)
{
  memset (r, 0, sizeof *r);
  r->iterations = -1;
  r->content_weight = r->style_weight = r->tv_weight = r->style_scale = NAN;
}

void
ev_run_options_add_entries (EvRunOptions *r, GOptionContext *context)
{
  const GOptionEntry entries[] = {
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &r->iterations, "Iterations (default: the engine's)", "N" },
    { "content-weight", 0, 0, G_OPTION_ARG_DOUBLE, &r->content_weight, "Content weight", "W" },
    { "style-weight", 0, 0, G_OPTION_ARG_DOUBLE, &r->style_weight, "Style weight", "W" },
    { "tv-weight", 0, 0, G_OPTION_ARG_DOUBLE, &r->tv_weight, "Total-variation weight", "W" },
    { "style-scale", 0, 0, G_OPTION_ARG_DOUBLE, &r->style_scale, "Style scale", "S" },
    { "content-layer", 0, 0, G_OPTION_ARG_STRING, &r->content_layer, "Content layer", "LAYER" },
    { "style-layers", 0, 0, G_OPTION_ARG_STRING, &r->style_layers, "Style layers", "SPEC" },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &r->optimizer, "lbfgs or adam", "NAME" },
    { "init", 0, 0, G_OPTION_ARG_STRING, &r->init, "content or noise", "INIT" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &r->threads, "Threads of a run (default: one per processor)", "N" },
    { "scales", 0, 0, G_OPTION_ARG_INT, &r->scales, "Sizes of the coarse-to-fine run (default: the engine's)", "N" },
    { "padding", 0, 0, G_OPTION_ARG_STRING, &r->padding, "Convolution padding: zero, replicate or reflect[:N] (default: the network's)", "KIND" },
    { NULL }
  };

  /* The context keeps a copy of the entries; r must outlive the parsing. */
  g_option_context_add_main_entries (context, entries, NULL);
}

gboolean
ev_run_options_make (const EvRunOptions *r, NsNetwork *net, NsOptions **out, GError **error)
{
  g_autoptr (NsOptions) o = ns_options_new ();

  if (r->padding)
    {
      NsPadding padding;
      int n_convs;

      if (!ns_padding_parse (r->padding, &padding, &n_convs, error))
        return FALSE;
      ns_network_set_padding (net, padding, n_convs);
    }

  if (r->iterations >= 0)
    ns_options_set_iterations (o, r->iterations);
  if (!isnan (r->content_weight))
    ns_options_set_content_weight (o, r->content_weight);
  if (!isnan (r->style_weight))
    ns_options_set_style_weight (o, r->style_weight);
  if (!isnan (r->tv_weight))
    ns_options_set_tv_weight (o, r->tv_weight);
  if (!isnan (r->style_scale))
    ns_options_set_style_scale (o, r->style_scale);
  if (r->content_layer)
    ns_options_set_content_layer (o, r->content_layer);
  if (r->style_layers && !ns_options_set_style_layers (o, r->style_layers, error))
    return FALSE;
  if (r->optimizer)
    ns_options_set_optimizer (o, strcmp (r->optimizer, "adam") == 0 ? NS_OPTIMIZER_ADAM
                                                                    : NS_OPTIMIZER_LBFGS);
  if (r->init)
    ns_options_set_init (o, strcmp (r->init, "noise") == 0 ? NS_INIT_NOISE : NS_INIT_CONTENT);
  if (r->threads > 0)
    ns_options_set_threads (o, r->threads);
  if (r->scales > 0)
    ns_options_set_scales (o, r->scales);
  *out = g_steal_pointer (&o);
  return TRUE;
}

/* ---- contact sheets ------------------------------------------------------------------------ */

NsImage *
ev_sheet_new (int rows, int cols)
{
  NsImage *s = ns_image_new (EV_GAP + cols * (EV_CELL_W + EV_GAP),
                             EV_GAP + rows * (EV_CELL_H + EV_GAP), 3);

  for (gsize i = 0; i < (gsize) s->width * s->height * 3; i++)
    s->data[i] = 0.2f;
  return s;
}

void
ev_sheet_paste (NsImage *sheet, const NsImage *img, int x0, int y0)
{
  double f = MIN ((double) EV_CELL_W / img->width, (double) EV_CELL_H / img->height);
  int w = MAX (1, (int) lround (img->width * f)), h = MAX (1, (int) lround (img->height * f));
  g_autoptr (NsImage) rgb = img->channels == 3 ? ns_image_copy (img) : ns_image_to_rgb (img);
  g_autoptr (NsImage) s = ns_image_resize (rgb, w, h);
  int ox = x0 + (EV_CELL_W - w) / 2, oy = y0 + (EV_CELL_H - h) / 2;

  for (int y = 0; y < h; y++)
    memcpy (sheet->data + 3 * ((gsize) (oy + y) * sheet->width + ox),
            s->data + 3 * (gsize) y * w, 3 * (gsize) w * sizeof (float));
}

gboolean
ev_listed (const char *list, const char *name)
{
  g_auto (GStrv) v = NULL;

  if (list == NULL)
    return TRUE;
  v = g_strsplit (list, ",", -1);
  return g_strv_contains ((const char * const *) v, name);
}

NsImage *
ev_crop (const NsImage *img, int x0, int y0, int w, int h)
{
  NsImage *out = ns_image_new (w, h, img->channels);

  for (int y = 0; y < h; y++)
    memcpy (out->data + (gsize) y * w * img->channels,
            img->data + ((gsize) (y0 + y) * img->width + x0) * img->channels,
            (gsize) w * img->channels * sizeof (float));
  return out;
}

/* ---- the frame along the border ------------------------------------------------------------ */

static double
luma_at (const NsImage *img, int x, int y)
{
  const float *p = img->data + ((gsize) y * img->width + x) * img->channels;

  return img->channels >= 3 ? 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] : p[0];
}

/* Luminance at depth d from side `side` (0 top, 1 bottom, 2 left, 3 right), position t
 * along it. */
static double
side_luma (const NsImage *img, int side, int d, int t)
{
  switch (side)
    {
    case 0: return luma_at (img, t, d);
    case 1: return luma_at (img, t, img->height - 1 - d);
    case 2: return luma_at (img, d, t);
    default: return luma_at (img, img->width - 1 - d, t);
    }
}

double
ev_edge_frame (const NsImage *img, double *grad_ratio)
{
  int k = MAX (2, MAX (img->width, img->height) / 128), seg = 8 * k;
  double step = 0.0, energy[2] = { 0.0, 0.0 };
  int n_seg = 0;

  if (MIN (img->width, img->height) < 4 * k + 2)
    {
      if (grad_ratio)
        *grad_ratio = NAN;
      return NAN;
    }
  for (int side = 0; side < 4; side++)
    {
      int len = side < 2 ? img->width : img->height;

      for (int t0 = 0; t0 + seg <= len; t0 += seg)
        {
          double m[2] = { 0.0, 0.0 };

          for (int band = 0; band < 2; band++)
            for (int d = band * k; d < (band + 1) * k; d++)
              for (int t = t0; t < t0 + seg; t++)
                {
                  double v = side_luma (img, side, d, t);
                  double across = side_luma (img, side, d + 1, t) - v;
                  double along = t + 1 < len ? side_luma (img, side, d, t + 1) - v : 0.0;

                  m[band] += v;
                  energy[band] += across * across + along * along;
                }
          step += fabs (m[0] - m[1]) / ((double) k * seg);
          n_seg++;
        }
    }
  if (grad_ratio)
    *grad_ratio = energy[0] / MAX (energy[1], 1e-30);
  return step / MAX (n_seg, 1);
}
