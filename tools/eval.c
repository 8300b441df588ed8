/* eval.c — the quality harness for feature networks (tools/run eval).
 *
 * For each content/style pair of the sample set it stylizes the content with the given
 * network and options, then measures, with tools/texture.c (fixed classical filters that no
 * network shares):
 *   d_result   texture-statistics distance between the result and the style,
 *   d_content  the same for the unchanged content (how far apart the pair starts),
 *   d_hist     the same for the content with its CIELAB histograms specified to the style's
 *              (what a colour-only transfer achieves),
 *   ratio      d_result / d_hist (the target is ≤ 0.7),
 *   ssim       SSIM of the blurred luminance of result and content (the target is ≥ 0.4),
 *   ms/iter    wall time of the run divided by its iterations,
 * and writes the results and a contact sheet (content | style | [earlier columns] | result).
 * The style is compared at the size the run used (its longest side that of the result).
 *
 * --cost SIZE instead times iterations of the network and of a VGG-19-shaped random network
 * at SIZE; --calibrate prints the descriptor's group scales over all sample images.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <cblas.h>

#include "ns-internal.h"
#include "imageio.h"
#include "harness.h"
#include "texture.h"

#ifndef NS_SAMPLES_DIR
#define NS_SAMPLES_DIR "data/samples"
#endif

/* Photos of different kinds × paintings of different kinds: every photo once, eight of the
 * nine paintings (see data/samples/SOURCES.md for sources and licences). */
static const char * const default_pairs[][2] = {
  { "content-landscape.jpg", "style-starry-night.jpg" },
  { "content-cat.jpg", "style-great-wave.jpg" },
  { "content-portrait.jpg", "style-moulin-de-la-galette.jpg" },
  { "content-city.jpg", "style-night-cafe.jpg" },
  { "content-architecture.jpg", "style-hiroshige-snow.jpg" },
  { "content-still-life.jpg", "style-arcimboldo-spring.jpg" },
  { "content-bird.jpg", "style-durer-lion.jpg" },
  { "content-flowers.jpg", "style-harvesters.jpg" },
};

typedef struct
{
  char     *samples;
  int       size;
  char     *network;
  EvRunOptions run;
  char     *out;
  char     *sheet;
  char     *columns;
  char     *pairs;
  char     *tsv;
  int       cost;
  int       cost_iterations;
  int       margin;
  gboolean  calibrate;
  gboolean  reuse;
  gboolean  baseline_images;
} Args;

typedef struct
{
  double d_result, d_content, d_hist, ssim, ms_per_iter;
  double frame, frame_content, frame_grad, frame_grad_content;   /* ev_edge_frame */
  double groups[EV_N_GROUPS], groups_content[EV_N_GROUPS], groups_hist[EV_N_GROUPS];
} Row;

static char *
pair_name (const char *content, const char *style)
{
  g_autofree char *c = g_strndup (content + 8, strlen (content) - 8 - 4);   /* content-NAME.jpg */
  g_autofree char *s = g_strndup (style + 6, strlen (style) - 6 - 4);       /* style-NAME.jpg */

  return g_strdup_printf ("%s--%s", c, s);
}

/* Times the iterations at the final size (a run may go coarse to fine): from the last
 * report before that size to the end. */
typedef struct
{
  double elapsed, start;
  int    iteration, first, scale;
} Timing;

static void
on_progress (const NsProgress *p, gpointer data)
{
  Timing *t = data;

  if (p->scale != t->scale)
    {
      t->scale = p->scale;
      t->start = t->elapsed;
      t->first = t->iteration;
    }
  t->elapsed = p->elapsed;
  t->iteration = p->iteration;
}

/* Runs one stylization; fills *ms_per_iter, the wall time per iteration at the result's
 * size (NAN when no iteration ran there). */
static NsImage *
stylize (NsNetwork *net, const NsOptions *opt, const NsImage *content, const NsImage *style,
         double *ms_per_iter, GError **error)
{
  g_autoptr (NsStylizer) st = ns_stylizer_new (net, opt);
  const NsImage *styles[] = { style };
  Timing t = { 0 };
  NsImage *out;

  ns_stylizer_set_progress (st, on_progress, &t);
  out = ns_stylizer_run (st, content, styles, NULL, 1, error);
  *ms_per_iter = t.iteration > t.first ? 1000.0 * (t.elapsed - t.start) / (t.iteration - t.first)
                                       : NAN;
  return out;
}

/* img with a margin of m pixels mirrored about its edge pixels on every side (m < width, height). */
static NsImage *
reflect_pad (const NsImage *img, int m)
{
  int w = img->width, h = img->height, c = img->channels;
  NsImage *out = ns_image_new (w + 2 * m, h + 2 * m, c);

  for (int y = 0; y < out->height; y++)
    for (int x = 0; x < out->width; x++)
      {
        int sx = ABS (x - m), sy = ABS (y - m);

        sx = sx >= w ? 2 * (w - 1) - sx : sx;
        sy = sy >= h ? 2 * (h - 1) - sy : sy;
        memcpy (out->data + ((gsize) y * out->width + x) * c,
                img->data + ((gsize) sy * w + sx) * c, c * sizeof (float));
      }
  return out;
}

/* Stylizes content with a mirrored margin of m pixels (a pipeline-level answer to the frame
 * that zero padding paints), then crops it off. */
static NsImage *
stylize_with_margin (NsNetwork *net, const NsOptions *opt, const NsImage *content,
                     const NsImage *style, int m, double *ms_per_iter, GError **error)
{
  g_autoptr (NsImage) padded = NULL;
  g_autoptr (NsImage) out = NULL;

  if (m <= 0)
    return stylize (net, opt, content, style, ms_per_iter, error);
  padded = reflect_pad (content, m);
  out = stylize (net, opt, padded, style, ms_per_iter, error);
  return out ? ev_crop (out, m, m, content->width, content->height) : NULL;
}

/* ---- modes --------------------------------------------------------------------------------- */

static int
calibrate (const Args *a)
{
  g_autoptr (GDir) dir = g_dir_open (a->samples, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree EvStats *stats = NULL;
  double sum[EV_N_GROUPS] = { 0 };
  const char *n;
  int pairs = 0;

  if (dir == NULL)
    {
      g_printerr ("ns-eval: cannot read %s\n", a->samples);
      return 1;
    }
  while ((n = g_dir_read_name (dir)))
    if (g_str_has_suffix (n, ".jpg") || g_str_has_suffix (n, ".png"))
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  stats = g_new (EvStats, names->len);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (NsImage) img = ev_load_rgb (a->samples, names->pdata[i], &error);
      g_autoptr (NsImage) small = NULL;

      if (img == NULL)
        {
          g_printerr ("ns-eval: %s\n", error->message);
          return 1;
        }
      small = ns_image_resize_longest (img, a->size);
      ev_stats_compute (small, &stats[i]);
    }
  for (guint i = 0; i < names->len; i++)
    for (guint j = i + 1; j < names->len; j++)
      {
        double d[EV_N_GROUPS];

        ev_group_distances (&stats[i], &stats[j], d);
        for (int g = 0; g < EV_N_GROUPS; g++)
          sum[g] += d[g] * d[g];
        pairs++;
      }
  printf ("# RMS raw group distance over %d pairs of %u images at %d px\n", pairs, names->len,
          a->size);
  for (int g = 0; g < EV_N_GROUPS; g++)
    printf ("%-12s %.6g\n", ev_group_names[g], sqrt (sum[g] / pairs));
  return 0;
}

static double
median (double *v, int n)
{
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && v[j] < v[j - 1]; j--)
      {
        double t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Times one objective evaluation with gradient (median of `reps`), and a short L-BFGS run. */
static gboolean
time_network (const Args *a, const char *name, const NsImage *content, const NsImage *style,
              double *eval_ms, double *iter_ms, GError **error)
{
  g_autoptr (NsNetwork) net = ev_load_network (name, error);
  g_autoptr (NsOptions) opt = NULL;
  g_autoptr (NsObjective) obj = NULL;
  g_autoptr (NsImage) out = NULL;
  g_autofree float *x = NULL, *g = NULL;
  const NsImage *styles[] = { style };
  double t[9];
  int reps = 5;

  if (net == NULL || !ev_run_options_make (&a->run, net, &opt, error))
    return FALSE;
  if (a->run.threads > 0)
    openblas_set_num_threads (a->run.threads);
  obj = ns_objective_new (net, opt, content, styles, NULL, 1, error);
  if (obj == NULL)
    return FALSE;
  x = ns_objective_initial (obj);
  g = g_new (float, ns_objective_len (obj));
  for (gsize i = 0; i < ns_objective_len (obj); i++)
    x[i] += 0.01f * sinf ((float) i);
  ns_objective_eval (obj, x, g, NULL);       /* warm-up */
  for (int r = 0; r < reps; r++)
    {
      gint64 t0 = g_get_monotonic_time ();

      ns_objective_eval (obj, x, g, NULL);
      t[r] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  *eval_ms = median (t, reps);
  ns_options_set_iterations (opt, a->cost_iterations);
  ns_options_set_scales (opt, 1);
  out = stylize (net, opt, content, style, iter_ms, error);
  return out != NULL;
}

static int
cost (const Args *a)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsImage) c = ev_load_rgb (a->samples, default_pairs[0][0], &error);
  g_autoptr (NsImage) s = NULL, cs = NULL;
  const char *nets[] = { a->network, "embedded:random-vgg19" };

  if (c == NULL || !(s = ev_load_rgb (a->samples, default_pairs[0][1], &error)))
    {
      g_printerr ("ns-eval: %s\n", error->message);
      return 1;
    }
  cs = ns_image_resize_longest (c, a->cost);
  printf ("| network | size | ms per evaluation (loss + gradient) | ms per L-BFGS iteration |\n"
          "|---|---|---:|---:|\n");
  for (int k = 0; k < 2; k++)
    {
      double e, it;

      if (!time_network (a, nets[k], cs, s, &e, &it, &error))
        {
          g_printerr ("ns-eval: %s: %s\n", nets[k], error->message);
          return 1;
        }
      printf ("| %s | %d×%d | %.0f | %.0f |\n", nets[k], cs->width, cs->height, e, it);
      fflush (stdout);
    }
  return 0;
}

static int
evaluate (const Args *a)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsNetwork) net = ev_load_network (a->network, &error);
  g_autoptr (NsOptions) opt = NULL;
  g_auto (GStrv) only = a->pairs ? g_strsplit (a->pairs, ",", -1) : NULL;
  g_auto (GStrv) columns = a->columns ? g_strsplit (a->columns, ",", -1) : NULL;
  int n_cols = 3 + (columns ? (int) g_strv_length (columns) : 0);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) ns_image_free);
  g_autoptr (NsImage) sheet = NULL;
  g_autofree char *sheet_path = NULL;
  FILE *tsv = NULL;
  double worst_ratio = 0, worst_ssim = 1, sum_ratio = 0, sum_ssim = 0;
  double sum_frame = 0, sum_frame_content = 0, sum_frame_grad = 0;

  if (net == NULL || !ev_run_options_make (&a->run, net, &opt, &error))
    {
      g_printerr ("ns-eval: %s\n", error->message);
      return 1;
    }
  if (g_mkdir_with_parents (a->out, 0755) != 0)
    {
      g_printerr ("ns-eval: cannot create %s: %s\n", a->out, g_strerror (errno));
      return 1;
    }
  for (guint p = 0; p < G_N_ELEMENTS (default_pairs); p++)
    {
      g_autofree char *name = pair_name (default_pairs[p][0], default_pairs[p][1]);
      g_autofree char *idx = g_strdup_printf ("%u", p + 1);
      g_autofree char *res_path = g_strdup_printf ("%s/%s.png", a->out, name);
      g_autoptr (NsImage) c0 = NULL, s0 = NULL, content = NULL, style = NULL, hist = NULL;
      g_autoptr (NsImage) result = NULL;
      EvStats st_style, st;
      Row *row;

      if (only && !g_strv_contains ((const char * const *) only, idx) &&
          !g_strv_contains ((const char * const *) only, name))
        continue;
      if (!(c0 = ev_load_rgb (a->samples, default_pairs[p][0], &error)) ||
          !(s0 = ev_load_rgb (a->samples, default_pairs[p][1], &error)))
        {
          g_printerr ("ns-eval: %s\n", error->message);
          return 1;
        }
      content = ns_image_resize_longest (c0, a->size);
      style = ns_image_resize_longest (s0, (int) lround (MAX (content->width, content->height) *
                                                         (isnan (a->run.style_scale)
                                                          ? 1.0 : a->run.style_scale)));
      row = g_new0 (Row, 1);
      row->ms_per_iter = NAN;
      if (a->reuse && g_file_test (res_path, G_FILE_TEST_EXISTS))
        {
          result = ev_load_rgb (NULL, res_path, &error);
          if (result == NULL)
            {
              g_printerr ("ns-eval: %s\n", error->message);
              return 1;
            }
        }
      else
        {
          result = stylize_with_margin (net, opt, content, s0, a->margin, &row->ms_per_iter,
                                        &error);
          if (result == NULL)
            {
              g_printerr ("ns-eval: %s: %s\n", name, error->message);
              return 1;
            }
          if (!cli_image_save_png (res_path, result, NULL, 8, &error))
            {
              g_printerr ("ns-eval: %s\n", error->message);
              return 1;
            }
        }
      hist = ev_match_histogram_lab (content, style);
      if (a->baseline_images)
        {
          g_autofree char *hp = g_strdup_printf ("%s/%s-histogram.png", a->out, name);

          cli_image_save_png (hp, hist, NULL, 8, NULL);
        }
      ev_stats_compute (style, &st_style);
      ev_stats_compute (result, &st);
      row->d_result = ev_distance (&st, &st_style, row->groups);
      ev_stats_compute (content, &st);
      row->d_content = ev_distance (&st, &st_style, row->groups_content);
      ev_stats_compute (hist, &st);
      row->d_hist = ev_distance (&st, &st_style, row->groups_hist);
      row->ssim = ev_ssim_blurred (result, content);
      row->frame = ev_edge_frame (result, &row->frame_grad);
      row->frame_content = ev_edge_frame (content, &row->frame_grad_content);
      g_printerr ("ns-eval: %-36s d=%.3f content %.3f hist %.3f ratio %.2f ssim %.3f %.0f ms/it"
                  " frame %.4f (content %.4f) edge gradient x%.2f (content x%.2f)  [", name,
                  row->d_result, row->d_content, row->d_hist, row->d_result / row->d_hist,
                  row->ssim, row->ms_per_iter, row->frame, row->frame_content, row->frame_grad,
                  row->frame_grad_content);
      /* Per group: result / content / histogram baseline. */
      for (int g = 0; g < EV_N_GROUPS; g++)
        g_printerr ("%s%s %.2f/%.2f/%.2f", g ? ", " : "", ev_group_names[g], row->groups[g],
                    row->groups_content[g], row->groups_hist[g]);
      g_printerr ("]\n");
      g_ptr_array_add (rows, row);
      g_ptr_array_add (names, g_steal_pointer (&name));
      g_ptr_array_add (images, g_steal_pointer (&content));
      g_ptr_array_add (images, ns_image_copy (s0));
      g_ptr_array_add (images, g_steal_pointer (&result));
    }
  if (rows->len == 0)
    {
      g_printerr ("ns-eval: no pair matches --pairs %s\n", a->pairs);
      return 1;
    }

  printf ("| pair | d(result, style) | d(content, style) | d(histogram-matched, style) | ratio to "
          "histogram | SSIM | ms/iteration | frame (content) | edge gradient |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  if (a->tsv && !(tsv = fopen (a->tsv, "w")))
    g_printerr ("ns-eval: cannot write %s\n", a->tsv);
  if (tsv)
    {
      fprintf (tsv, "pair\td_result\td_content\td_hist\tratio\tssim\tms_per_iter\tframe"
               "\tframe_content\tframe_grad");
      for (int g = 0; g < EV_N_GROUPS; g++)
        fprintf (tsv, "\t%s", ev_group_names[g]);
      fprintf (tsv, "\n");
    }
  for (guint r = 0; r < rows->len; r++)
    {
      Row *row = rows->pdata[r];
      double ratio = row->d_result / row->d_hist;

      printf ("| %s | %.3f | %.3f | %.3f | %.2f | %.3f | %.0f | %.4f (%.4f) | %.2f |\n",
              (char *) names->pdata[r], row->d_result, row->d_content, row->d_hist, ratio,
              row->ssim, row->ms_per_iter, row->frame, row->frame_content, row->frame_grad);
      if (tsv)
        {
          fprintf (tsv, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.1f\t%.5f\t%.5f\t%.3f",
                   (char *) names->pdata[r], row->d_result, row->d_content, row->d_hist, ratio,
                   row->ssim, row->ms_per_iter, row->frame, row->frame_content, row->frame_grad);
          for (int g = 0; g < EV_N_GROUPS; g++)
            fprintf (tsv, "\t%.4f", row->groups[g]);
          fprintf (tsv, "\n");
        }
      worst_ratio = MAX (worst_ratio, ratio);
      worst_ssim = MIN (worst_ssim, row->ssim);
      sum_ratio += ratio;
      sum_ssim += row->ssim;
      sum_frame += row->frame;
      sum_frame_content += row->frame_content;
      sum_frame_grad += row->frame_grad;
    }
  if (tsv)
    fclose (tsv);
  printf ("| **mean** | | | | %.2f | %.3f | | %.4f (%.4f) | %.2f |\n"
          "| **worst** | | | | %.2f | %.3f | | | |\n",
          sum_ratio / rows->len, sum_ssim / rows->len, sum_frame / rows->len,
          sum_frame_content / rows->len, sum_frame_grad / rows->len, worst_ratio, worst_ssim);
  printf ("targets (ratio <= 0.70, SSIM >= 0.40 on every pair): %s\n",
          worst_ratio <= 0.7 && worst_ssim >= 0.4 ? "met" : "NOT met");

  sheet = ev_sheet_new (rows->len, n_cols);
  for (guint r = 0; r < rows->len; r++)
    {
      int y0 = EV_GAP + r * (EV_CELL_H + EV_GAP);

      ev_sheet_paste (sheet, images->pdata[3 * r], EV_GAP, y0);
      ev_sheet_paste (sheet, images->pdata[3 * r + 1], EV_GAP + (EV_CELL_W + EV_GAP), y0);
      for (int k = 0; columns && columns[k]; k++)
        {
          g_autofree char *p = g_strdup_printf ("%s/%s.png", columns[k], (char *) names->pdata[r]);
          g_autoptr (NsImage) img = ev_load_rgb (NULL, p, NULL);

          if (img)
            ev_sheet_paste (sheet, img, EV_GAP + (2 + k) * (EV_CELL_W + EV_GAP), y0);
        }
      ev_sheet_paste (sheet, images->pdata[3 * r + 2],
                      EV_GAP + (n_cols - 1) * (EV_CELL_W + EV_GAP), y0);
    }
  sheet_path = a->sheet ? g_strdup (a->sheet) : g_strdup_printf ("%s/sheet.png", a->out);
  if (!cli_image_save_png (sheet_path, sheet, NULL, 8, &error))
    {
      g_printerr ("ns-eval: %s\n", error->message);
      return 1;
    }
  g_printerr ("ns-eval: contact sheet %s\n", sheet_path);
  return 0;
}

int
main (int argc, char **argv)
{
  Args a = { 0 };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— measure stylization quality");
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "samples", 0, 0, G_OPTION_ARG_FILENAME, &a.samples, "Sample image directory", "DIR" },
    { "size", 's', 0, G_OPTION_ARG_INT, &a.size, "Longest side of the results (default 512)", "N" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &a.network, "embedded (default), auto, vgg19 or embedded:VARIANT", "NAME" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a.out, "Directory for results (default eval-out)", "DIR" },
    { "sheet", 0, 0, G_OPTION_ARG_FILENAME, &a.sheet, "Contact sheet (default OUT/sheet.png)", "FILE" },
    { "columns", 0, 0, G_OPTION_ARG_STRING, &a.columns, "Earlier result directories to show as extra columns", "DIR,…" },
    { "pairs", 0, 0, G_OPTION_ARG_STRING, &a.pairs, "Only these pairs (numbers 1–8 or names)", "LIST" },
    { "tsv", 0, 0, G_OPTION_ARG_FILENAME, &a.tsv, "Also write the table as tab-separated values", "FILE" },
    { "reuse", 0, 0, G_OPTION_ARG_NONE, &a.reuse, "Measure existing results in OUT instead of stylizing", NULL },
    { "baseline-images", 0, 0, G_OPTION_ARG_NONE, &a.baseline_images, "Also write the histogram-matched baselines", NULL },
    { "cost", 0, 0, G_OPTION_ARG_INT, &a.cost, "Time the network against a random VGG-19 at this size instead", "SIZE" },
    { "cost-iterations", 0, 0, G_OPTION_ARG_INT, &a.cost_iterations, "L-BFGS iterations timed by --cost (default 5)", "N" },
    { "margin", 0, 0, G_OPTION_ARG_INT, &a.margin, "Stylize with a mirrored margin of N pixels, then crop it", "N" },
    { "calibrate", 0, 0, G_OPTION_ARG_NONE, &a.calibrate, "Print the descriptor's group scales over all samples", NULL },
    { NULL }
  };

  a.size = 512;
  ev_run_options_init (&a.run);
  a.cost_iterations = 5;
  g_option_context_add_main_entries (ctx, entries, NULL);
  ev_run_options_add_entries (&a.run, ctx);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("ns-eval: %s\n", error->message);
      return 2;
    }
  if (a.samples == NULL)
    a.samples = g_strdup (NS_SAMPLES_DIR);
  if (a.network == NULL)
    a.network = g_strdup ("embedded");
  if (a.out == NULL)
    a.out = g_strdup ("eval-out");
  if (a.calibrate)
    return calibrate (&a);
  if (a.cost > 0)
    return cost (&a);
  return evaluate (&a);
}
