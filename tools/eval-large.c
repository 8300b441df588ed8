/* eval-large.c — stylization at real photo sizes (tools/run eval-large, docs/large-images.md).
 *
 * For each photo/painting pair it runs the neural-style command once at the preview's size
 * (512 px: what the plug-in's preview and today's default optimise at) and once per method at
 * the photo's full size, each in its own process (so wall time, CPU time and the peak memory
 * the command reports for itself are the method's own), then measures with tools/texture.c:
 *   sharpness     high-frequency energy of the result at full size (luma minus its Gaussian
 *                 blur at σ = 1.5 px, squared, averaged) over the content's: a blurred
 *                 enlargement scores low (target ≥ 0.6);
 *   look of the preview   the result shrunk to the preview's size against the preview run:
 *                 texture-statistics distance to the style within 10% of the preview's, and
 *                 SSIM of the two (blurred luma, as for content) ≥ 0.6; the SSIM of the plain
 *                 luma is printed beside it;
 *   content       SSIM of the blurred luma of result and content at full size (tools/eval.c's);
 * and writes 100% crops of one detailed region (the content's window of most high-frequency
 * energy) side by side in a contact sheet.
 *
 * The methods are a table (methods[] below): the CLI arguments of each, and the CLI options
 * it needs; a method whose options the command lacks (see its --help) is skipped, except
 * today's default, which is then made here from the preview run with the engine's bilinear
 * enlargement (ns_image_resize, as the plug-in does).
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "harness.h"
#include "imageio.h"
#include "texture.h"

#ifndef NS_SAMPLES_DIR
#define NS_SAMPLES_DIR "data/samples"
#endif

#define SHARPNESS_SIGMA  1.5
#define TARGET_SHARPNESS 0.6
#define TARGET_DISTANCE  0.10
#define TARGET_SSIM      0.6

/* Photos of four kinds (data/large/SOURCES.md), each with a painting of data/samples/, and
 * where to crop: the centre as fractions of width and height, or 0 for the content's window
 * of most high-frequency energy (on the otters that is grass in a corner, not the fur). */
typedef struct
{
  const char *photo, *style;
  double      crop_x, crop_y;
} Pair;

static const Pair default_pairs[] = {
  { "lake-sherburne", "style-starry-night.jpg", 0, 0 },
  { "beacon-street", "style-night-cafe.jpg", 0, 0 },
  { "otters", "style-great-wave.jpg", 0.40, 0.36 },
  { "casa-mila", "style-durer-lion.jpg", 0, 0 },
};

typedef struct
{
  const char *name;
  const char *what;
  const char *needs;      /* words the command's --help must contain; NULL: none */
  const char *args;       /* its arguments: %F is the full size, %P the preview's */
  gboolean    enlarge;    /* lacking `needs`: enlarge the preview run here instead */
  gboolean    slow;       /* skipped above --full-max-mp */
} Method;

static const Method methods[] = {
  { "default", "optimise at the preview size, enlarge bilinearly (today's default)",
    "--optimize-size --upscale", "--size %F --optimize-size %P --upscale bilinear", TRUE, FALSE },
  { "full", "coarse to fine up to the full size (--size FULL)",
    NULL, "--size %F --optimize-size 0", FALSE, TRUE },
  { "guided", "optimise at the preview size, guided upsampling with the full-size photo",
    "--optimize-size --upscale guided", "--size %F --optimize-size %P --upscale guided", FALSE,
    FALSE },
  { "refine", "guided, then iterations at full size with the shallow style layers",
    "--optimize-size --upscale refine", "--size %F --optimize-size %P --upscale refine", FALSE,
    FALSE },
};

typedef struct
{
  char     *cli;
  char     *photo_dir;
  char     *samples;
  char     *photos;
  char     *pairs;
  char     *methods;
  int       size;
  int       preview;
  int       iterations;
  char     *network;
  char     *extra;
  char     *out;
  char     *tsv;
  int       crop;
  double    full_max_mp;
  gboolean  reuse;
  gboolean  list;
} Args;

/* One run of the command (or the harness's enlargement). */
typedef struct
{
  double wall, cpu, peak_mib;
  double expected;        /* seconds the command's plan expected, or NaN */
} RunInfo;

typedef struct
{
  char   *pair, *method, *how;
  int     width, height;
  double  sharpness, d_small, d_preview, ssim_preview, ssim_preview_plain, ssim_content;
  RunInfo run;
} Row;

static void
row_free (Row *r)
{
  g_free (r->pair);
  g_free (r->method);
  g_free (r->how);
  g_free (r);
}

/* ---- running the command ------------------------------------------------------------------- */

/* Expands %F and %P in a method's arguments. */
static void
add_args (GPtrArray *argv, const char *spec, int full, int preview)
{
  g_auto (GStrv) words = g_strsplit (spec, " ", -1);

  for (int i = 0; words[i]; i++)
    if (strcmp (words[i], "%F") == 0)
      g_ptr_array_add (argv, g_strdup_printf ("%d", full));
    else if (strcmp (words[i], "%P") == 0)
      g_ptr_array_add (argv, g_strdup_printf ("%d", preview));
    else if (*words[i])
      g_ptr_array_add (argv, g_strdup (words[i]));
}

static GPtrArray *
command (const Args *a, const char *photo, const char *style, const char *out, const char *spec,
         int full)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (a->cli));
  g_ptr_array_add (argv, g_strdup (photo));
  g_ptr_array_add (argv, g_strdup (style));
  g_ptr_array_add (argv, g_strdup ("-o"));
  g_ptr_array_add (argv, g_strdup (out));
  add_args (argv, spec, full, a->preview);
  if (a->iterations > 0)
    g_ptr_array_add (argv, g_strdup_printf ("--iterations=%d", a->iterations));
  if (a->network)
    g_ptr_array_add (argv, g_strdup_printf ("--network=%s", a->network));
  if (a->extra)
    {
      g_auto (GStrv) extra = NULL;

      if (g_shell_parse_argv (a->extra, NULL, &extra, NULL))
        for (int i = 0; extra[i]; i++)
          g_ptr_array_add (argv, g_strdup (extra[i]));
    }
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* The plan's "expected time about 1 h 05 min" / "3 min 20 s" / "40 s", in seconds. */
static double
parse_expected (const char *text)
{
  const char *p = strstr (text, "expected time about ");
  double h = 0, m = 0, sec = 0;

  if (p == NULL)
    return NAN;
  p += strlen ("expected time about ");
  if (sscanf (p, "%lf h %lf min", &h, &m) == 2 && strstr (p, " h ") == strchr (p, ' '))
    return 3600 * h + 60 * m;
  if (sscanf (p, "%lf min %lf s", &m, &sec) == 2)
    return 60 * m + sec;
  if (sscanf (p, "%lf s", &sec) == 1)
    return sec;
  return NAN;
}

/* Runs argv with stdout and stderr into `log`; fills wall and CPU time (of the child alone:
 * wait4's usage), the peak memory the command prints on its last line and the time its
 * plan expected. */
static gboolean
run_command (char **argv, const char *log, RunInfo *info, GError **error)
{
  gint64 t0 = g_get_monotonic_time ();
  struct rusage usage;
  g_autofree char *text = NULL;
  const char *p, *last = NULL;
  int status;
  pid_t pid;
  int fd = g_open (log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

  if (fd < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "cannot write %s: %s",
                   log, g_strerror (errno));
      return FALSE;
    }
  pid = fork ();
  if (pid == 0)
    {
      dup2 (fd, STDOUT_FILENO);
      dup2 (fd, STDERR_FILENO);
      execv (argv[0], argv);
      _exit (127);
    }
  close (fd);
  if (pid < 0 || wait4 (pid, &status, 0, &usage) != pid)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot run %s", argv[0]);
      return FALSE;
    }
  info->wall = (g_get_monotonic_time () - t0) / 1e6;
  info->cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
              + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  info->peak_mib = NAN;
  if (g_file_get_contents (log, &text, NULL, NULL))
    for (p = text; (p = strstr (p, "peak memory ")); p++)
      last = p;
  if (last)
    info->peak_mib = g_ascii_strtod (last + strlen ("peak memory "), NULL);
  info->expected = text ? parse_expected (text) : NAN;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s failed (status %d); see %s",
                   argv[0], WIFEXITED (status) ? WEXITSTATUS (status) : -1, log);
      return FALSE;
    }
  return TRUE;
}

/* OUT.png with its run's numbers in OUT.run: "wall cpu peak" and the command line, so that
 * --reuse takes a result only when it was made by the same command. */
static char *
joined (char **argv)
{
  return g_strjoinv (" ", argv);
}

static gboolean
read_run (const char *path, const char *cmdline, RunInfo *info)
{
  g_autofree char *text = NULL;
  char *nl;

  if (!g_file_get_contents (path, &text, NULL, NULL) || !(nl = strchr (text, '\n')))
    return FALSE;
  g_strchomp (nl + 1);
  if (strcmp (nl + 1, cmdline) != 0)
    return FALSE;
  info->expected = NAN;
  return sscanf (text, "%lf %lf %lf %lf", &info->wall, &info->cpu, &info->peak_mib,
                 &info->expected) >= 3;
}

static void
write_run (const char *path, const char *cmdline, const RunInfo *info)
{
  g_autofree char *text = g_strdup_printf ("%.3f %.3f %.0f %.0f\n%s\n", info->wall, info->cpu,
                                           info->peak_mib, info->expected, cmdline);

  g_file_set_contents (path, text, -1, NULL);
}

/* Runs (or with --reuse, finds) one result; returns it loaded. */
static NsImage *
produce (const Args *a, char **argv, const char *base, RunInfo *info, GError **error)
{
  g_autofree char *png = g_strdup_printf ("%s.png", base);
  g_autofree char *runf = g_strdup_printf ("%s.run", base);
  g_autofree char *log = g_strdup_printf ("%s.log", base);
  g_autofree char *cmdline = joined (argv);

  if (!(a->reuse && g_file_test (png, G_FILE_TEST_EXISTS) && read_run (runf, cmdline, info)))
    {
      g_printerr ("eval-large: %s\n", cmdline);
      if (!run_command (argv, log, info, error))
        return NULL;
      write_run (runf, cmdline, info);
    }
  return ev_load_rgb (NULL, png, error);
}

/* ---- crops and the contact sheet ----------------------------------------------------------- */

/* The c×c window (on a grid of c/8) with the most high-frequency energy of `e`. */
static void
detailed_window (const float *e, int w, int h, int c, int *bx, int *by)
{
  g_autofree double *integral = g_new0 (double, (gsize) (w + 1) * (h + 1));
  int step = MAX (1, c / 8);
  double best = -1;

  for (int y = 0; y < h; y++)
    {
      double row = 0;

      for (int x = 0; x < w; x++)
        {
          row += e[(gsize) y * w + x];
          integral[(gsize) (y + 1) * (w + 1) + x + 1] = integral[(gsize) y * (w + 1) + x + 1] + row;
        }
    }
  *bx = *by = 0;
  for (int y = 0; y + c <= h; y += step)
    for (int x = 0; x + c <= w; x += step)
      {
        gsize W = w + 1;
        double s = integral[(y + c) * W + x + c] - integral[y * W + x + c]
                   - integral[(y + c) * W + x] + integral[y * W + x];

        if (s > best)
          {
            best = s;
            *bx = x;
            *by = y;
          }
      }
}

/* The whole content fitted into c×c, the crop's outline in red. */
static NsImage *
overview (const NsImage *img, int c, int cx, int cy, int cw)
{
  double f = MIN ((double) c / img->width, (double) c / img->height);
  int w = MAX (1, (int) lround (img->width * f)), h = MAX (1, (int) lround (img->height * f));
  g_autoptr (NsImage) s = ns_image_resize (img, w, h);
  NsImage *cell = ns_image_new (c, c, 3);
  int ox = (c - w) / 2, oy = (c - h) / 2;
  int x0 = ox + (int) (cx * f), y0 = oy + (int) (cy * f), x1 = ox + (int) ((cx + cw) * f);
  int y1 = oy + (int) ((cy + cw) * f);

  for (gsize i = 0; i < (gsize) c * c * 3; i++)
    cell->data[i] = 0.2f;
  for (int y = 0; y < h; y++)
    memcpy (cell->data + 3 * ((gsize) (oy + y) * c + ox), s->data + 3 * (gsize) y * w,
            3 * (gsize) w * sizeof (float));
  for (int y = MAX (0, y0 - 1); y <= MIN (c - 1, y1 + 1); y++)
    for (int x = MAX (0, x0 - 1); x <= MIN (c - 1, x1 + 1); x++)
      if (y <= y0 || y >= y1 || x <= x0 || x >= x1)
        {
          float *p = cell->data + 3 * ((gsize) y * c + x);

          p[0] = 1.0f;
          p[1] = p[2] = 0.0f;
        }
  return cell;
}

typedef struct
{
  char    *label;
  char    *path;    /* the cell as a PNG, for the labelled sheet */
  NsImage *image;
} Cell;

static void
cell_free (Cell *c)
{
  g_free (c->label);
  g_free (c->path);
  ns_image_free (c->image);
  g_free (c);
}

static void
add_cell (GPtrArray *cells, const char *dir, const char *name, const char *label, NsImage *img)
{
  Cell *c = g_new0 (Cell, 1);

  c->label = g_strdup (label);
  c->path = g_strdup_printf ("%s/%s.png", dir, name);
  c->image = img;
  if (img)
    cli_image_save_png (c->path, img, NULL, 8, NULL);
  g_ptr_array_add (cells, c);
}

/* sheet.png: rows of cells, grey where a method is missing; with ImageMagick's montage also
 * sheet-labelled.png, the same with a label under each cell. */
static void
write_sheet (const Args *a, GPtrArray *cells, int cols)
{
  int rows = (cells->len + cols - 1) / cols, c = a->crop, gap = 4;
  g_autoptr (NsImage) sheet = ns_image_new (gap + cols * (c + gap), gap + rows * (c + gap), 3);
  g_autofree char *path = g_strdup_printf ("%s/sheet.png", a->out);
  g_autofree char *montage = g_find_program_in_path ("montage");
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < (gsize) sheet->width * sheet->height * 3; i++)
    sheet->data[i] = 0.2f;
  for (guint k = 0; k < cells->len; k++)
    {
      Cell *cell = cells->pdata[k];
      int x0 = gap + (k % cols) * (c + gap), y0 = gap + (k / cols) * (c + gap);

      if (cell->image)
        for (int y = 0; y < cell->image->height; y++)
          memcpy (sheet->data + 3 * ((gsize) (y0 + y) * sheet->width + x0),
                  cell->image->data + 3 * (gsize) y * cell->image->width,
                  3 * (gsize) cell->image->width * sizeof (float));
    }
  if (!cli_image_save_png (path, sheet, NULL, 8, &error))
    g_printerr ("eval-large: %s\n", error->message);
  else
    g_printerr ("eval-large: contact sheet %s\n", path);
  if (montage)
    {
      g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *labelled = g_strdup_printf ("%s/sheet-labelled.png", a->out);
      int status;

      g_ptr_array_add (argv, g_strdup (montage));
      for (guint k = 0; k < cells->len; k++)
        {
          Cell *cell = cells->pdata[k];

          g_ptr_array_add (argv, g_strdup ("-label"));
          g_ptr_array_add (argv, g_strdup (cell->label));
          g_ptr_array_add (argv, cell->image ? g_strdup (cell->path)
                                             : g_strdup_printf ("xc:gray20[%dx%d]", c, c));
        }
      g_ptr_array_add (argv, g_strdup ("-tile"));
      g_ptr_array_add (argv, g_strdup_printf ("%dx", cols));
      g_ptr_array_add (argv, g_strdup ("-geometry"));
      g_ptr_array_add (argv, g_strdup_printf ("%dx%d+4+4", c, c));
      for (const char * const *w = (const char * const[]) { "-pointsize", "15", "-background",
                                                             "gray20", "-fill", "white", NULL };
           *w; w++)
        g_ptr_array_add (argv, g_strdup (*w));
      g_ptr_array_add (argv, g_strdup (labelled));
      g_ptr_array_add (argv, NULL);
      if (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                        NULL, &status, NULL) && g_spawn_check_wait_status (status, NULL))
        g_printerr ("eval-large: labelled contact sheet %s\n", labelled);
    }
}

/* ---- measuring ----------------------------------------------------------------------------- */

typedef struct
{
  const NsImage *content;       /* at full size */
  double         hf_content;
  const NsImage *preview;       /* the run at the preview's size */
  EvStats        style_stats;   /* the style at the preview's size */
  double         d_preview;
} Reference;

static void
measure (const Reference *ref, const NsImage *result, Row *row)
{
  g_autoptr (NsImage) small = ns_image_resize (result, ref->preview->width, ref->preview->height);
  g_autofree float *e = ev_highpass_energy (result, SHARPNESS_SIGMA, &row->sharpness);
  EvStats st;

  row->sharpness /= ref->hf_content;
  ev_stats_compute (small, &st);
  row->d_small = ev_distance (&st, &ref->style_stats, NULL);
  row->d_preview = ref->d_preview;
  row->ssim_preview = ev_ssim_blurred (small, ref->preview);
  row->ssim_preview_plain = ev_ssim (small, ref->preview);
  row->ssim_content = ev_ssim_blurred (result, ref->content);
  row->width = result->width;
  row->height = result->height;
}

static gboolean
targets_met (const Row *r)
{
  return r->sharpness >= TARGET_SHARPNESS && fabs (r->d_small / r->d_preview - 1) <= TARGET_DISTANCE
         && r->ssim_preview >= TARGET_SSIM;
}

static char *
read_help (const char *cli)
{
  const char *argv[] = { cli, "--help", NULL };
  char *out = NULL;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                     NULL, NULL, NULL))
    return g_strdup ("");
  return out;
}

static gboolean
supports (const char *help, const char *needs)
{
  g_auto (GStrv) words = NULL;

  if (needs == NULL)
    return TRUE;
  words = g_strsplit (needs, " ", -1);
  for (int i = 0; words[i]; i++)
    if (!strstr (help, words[i]))
      return FALSE;
  return TRUE;
}

static int
evaluate (const Args *a)
{
  g_autofree char *help = read_help (a->cli);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func ((GDestroyNotify) cell_free);
  g_autofree char *crops = g_build_filename (a->out, "crops", NULL);
  g_autofree char *tsv_path = a->tsv ? g_strdup (a->tsv) : g_build_filename (a->out, "table.tsv", NULL);
  int n_methods = 0, failures = 0;
  FILE *tsv;

  /* One column of the sheet per method that can run. */
  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    if (ev_listed (a->methods, methods[m].name))
      {
        if (supports (help, methods[m].needs) || methods[m].enlarge)
          n_methods++;
        g_printerr ("eval-large: method %-8s %s%s\n", methods[m].name, methods[m].what,
                    supports (help, methods[m].needs) ? ""
                    : methods[m].enlarge ? " [the command lacks its options: enlarged here]"
                                         : " [the command lacks its options: skipped]");
      }
  if (g_mkdir_with_parents (crops, 0755) != 0)
    {
      g_printerr ("eval-large: cannot create %s: %s\n", crops, g_strerror (errno));
      return 1;
    }

  for (guint p = 0; p < G_N_ELEMENTS (default_pairs); p++)
    {
      const Pair *pp = &default_pairs[p];
      const char *photo_name = pp->photo, *style_name = pp->style;
      g_autofree char *sname = g_strndup (style_name + 6, strlen (style_name) - 6 - 4);
      g_autofree char *pair = g_strdup_printf ("%s--%s", photo_name, sname);
      g_autofree char *idx = g_strdup_printf ("%u", p + 1);
      g_autofree char *photo = g_strdup_printf ("%s/%s.jpg", a->photo_dir, photo_name);
      g_autofree char *style = g_build_filename (a->samples, style_name, NULL);
      g_autofree char *dir = g_build_filename (a->out, pair, NULL);
      g_autofree char *base = g_build_filename (dir, "preview", NULL);
      g_autofree char *pv_out = g_strdup_printf ("%s.png", base);
      g_autofree char *size_spec = g_strdup_printf ("--size %d", a->preview);
      g_autofree float *e = NULL;
      g_autoptr (NsImage) c0 = NULL, content = NULL, s0 = NULL, s_small = NULL, c_small = NULL;
      g_autoptr (NsImage) preview = NULL;
      g_autoptr (GPtrArray) argv = NULL;
      g_autoptr (GError) error = NULL;
      Reference ref = { 0 };
      RunInfo pv_run = { 0 };
      EvStats st;
      Row *row;
      int full, cx, cy, c;
      double hf_small, mp;

      if (!ev_listed (a->photos, photo_name) || (a->pairs && !ev_listed (a->pairs, idx)
                                              && !ev_listed (a->pairs, pair)))
        continue;
      g_mkdir_with_parents (dir, 0755);
      if (!(c0 = ev_load_rgb (NULL, photo, &error)) ||
          !(s0 = ev_load_rgb (NULL, style, &error)))
        {
          g_printerr ("eval-large: %s (tools/fetch-large-photos puts the photos there)\n",
                      error->message);
          return 1;
        }
      full = MAX (c0->width, c0->height);
      if (a->size > 0)
        full = MIN (full, a->size);
      content = full == MAX (c0->width, c0->height) ? g_steal_pointer (&c0)
                                                    : ns_image_resize_longest (c0, full);
      g_clear_pointer (&c0, ns_image_free);
      mp = content->width * (double) content->height / 1e6;
      g_printerr ("eval-large: %s at %d×%d (%.1f MP)\n", pair, content->width, content->height, mp);

      /* The preview run: the reference for the look, and today's default before upscaling. */
      argv = command (a, photo, style, pv_out, size_spec, full);
      if (!(preview = produce (a, (char **) argv->pdata, base, &pv_run, &error)))
        {
          g_printerr ("eval-large: %s\n", error->message);
          return 1;
        }
      ref.content = content;
      ref.preview = preview;
      e = ev_highpass_energy (content, SHARPNESS_SIGMA, &ref.hf_content);
      s_small = ns_image_resize_longest (s0, MAX (preview->width, preview->height));
      ev_stats_compute (s_small, &ref.style_stats);
      ev_stats_compute (preview, &st);
      ref.d_preview = ev_distance (&st, &ref.style_stats, NULL);
      c_small = ns_image_resize (content, preview->width, preview->height);

      row = g_new0 (Row, 1);
      row->pair = g_strdup (pair);
      row->method = g_strdup_printf ("preview %d", a->preview);
      row->how = g_strjoinv (" ", (char **) argv->pdata + 5);
      row->run = pv_run;
      row->width = preview->width;
      row->height = preview->height;
      g_free (ev_highpass_energy (preview, SHARPNESS_SIGMA, &row->sharpness));
      g_free (ev_highpass_energy (c_small, SHARPNESS_SIGMA, &hf_small));
      row->sharpness /= hf_small;      /* at the preview's own size, against the content there */
      row->d_small = row->d_preview = ref.d_preview;
      row->ssim_preview = row->ssim_preview_plain = 1;
      row->ssim_content = ev_ssim_blurred (preview, c_small);
      g_ptr_array_add (rows, row);

      c = MIN (a->crop, MIN (content->width, content->height));
      if (pp->crop_x > 0)
        {
          cx = CLAMP ((int) lround (pp->crop_x * content->width) - c / 2, 0, content->width - c);
          cy = CLAMP ((int) lround (pp->crop_y * content->height) - c / 2, 0, content->height - c);
        }
      else
        detailed_window (e, content->width, content->height, c, &cx, &cy);
      {
        g_autofree char *n = g_strdup_printf ("%s--overview", pair);
        g_autofree char *l = g_strdup_printf ("%s\n%d×%d, crop at %d,%d", pair, content->width,
                                              content->height, cx, cy);
        g_autofree char *n2 = g_strdup_printf ("%s--content", pair);

        add_cell (cells, crops, n, l, overview (content, a->crop, cx, cy, c));
        add_cell (cells, crops, n2, "content 100%", ev_crop (content, cx, cy, c, c));
      }

      for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
        {
          const Method *me = &methods[m];
          g_autofree char *mbase = g_build_filename (dir, me->name, NULL);
          g_autofree char *mout = g_strdup_printf ("%s.png", mbase);
          g_autofree char *cname = g_strdup_printf ("%s--%s", pair, me->name);
          g_autofree char *label = NULL;
          g_autoptr (NsImage) result = NULL;
          g_autoptr (GError) merr = NULL;
          RunInfo info = { 0 };

          if (!ev_listed (a->methods, me->name))
            continue;
          if (me->slow && a->full_max_mp > 0 && mp > a->full_max_mp)
            {
              label = g_strdup_printf ("%s: skipped\n(above --full-max-mp)", me->name);
              add_cell (cells, crops, cname, label, NULL);
              continue;
            }
          row = g_new0 (Row, 1);
          row->pair = g_strdup (pair);
          row->method = g_strdup (me->name);
          if (supports (help, me->needs))
            {
              g_autoptr (GPtrArray) margv = command (a, photo, style, mout, me->args, full);

              row->how = g_strjoinv (" ", (char **) margv->pdata + 5);
              result = produce (a, (char **) margv->pdata, mbase, &info, &merr);
            }
          else if (me->enlarge)
            {
              gint64 t0 = g_get_monotonic_time ();

              /* The preview run, enlarged as the plug-in does: its time and peak memory are
               * the preview's, plus the enlargement's time. */
              result = ns_image_resize (preview, content->width, content->height);
              info = pv_run;
              info.wall += (g_get_monotonic_time () - t0) / 1e6;
              info.cpu += (g_get_monotonic_time () - t0) / 1e6;
              row->how = g_strdup ("preview run + ns_image_resize (bilinear) in the harness");
              cli_image_save_png (mout, result, NULL, 8, NULL);
            }
          else
            {
              row_free (row);
              continue;
            }
          if (result == NULL)
            {
              g_printerr ("eval-large: %s %s: %s\n", pair, me->name, merr->message);
              row_free (row);
              failures++;
              label = g_strdup_printf ("%s: failed", me->name);
              add_cell (cells, crops, cname, label, NULL);
              continue;
            }
          if (result->width != content->width || result->height != content->height)
            {
              g_printerr ("eval-large: %s %s: the result is %d×%d, not %d×%d\n", pair, me->name,
                          result->width, result->height, content->width, content->height);
              row_free (row);
              failures++;
              label = g_strdup_printf ("%s: wrong size", me->name);
              add_cell (cells, crops, cname, label, NULL);
              continue;
            }
          row->run = info;
          measure (&ref, result, row);
          g_printerr ("eval-large: %s %-8s sharpness %.2f  d %.3f (preview %.3f)  ssim to preview "
                      "%.3f (plain %.3f)  content ssim %.3f  %.0f s  %.0f MiB\n", pair, me->name,
                      row->sharpness, row->d_small, row->d_preview, row->ssim_preview,
                      row->ssim_preview_plain, row->ssim_content, info.wall, info.peak_mib);
          label = g_strdup_printf ("%s 100%%\nsharpness %.2f", me->name, row->sharpness);
          add_cell (cells, crops, cname, label, ev_crop (result, cx, cy, c, c));
          g_ptr_array_add (rows, row);
        }
    }
  if (rows->len == 0)
    {
      g_printerr ("eval-large: no pair matches --photos/--pairs\n");
      return 1;
    }

  printf ("| pair | method | size | sharpness | d(style) shrunk | d(style) preview | Δd | "
          "SSIM to preview (blurred / plain) | SSIM to content | wall s | CPU s | expected s "
          "(/ wall) | peak MiB | targets |\n"
          "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
  tsv = fopen (tsv_path, "w");
  if (tsv)
    fprintf (tsv, "pair\tmethod\twidth\theight\tsharpness\td_small\td_preview\tssim_preview"
             "\tssim_preview_plain\tssim_content\twall_s\tcpu_s\texpected_s\tpeak_mib\ttargets"
             "\thow\n");
  for (guint r = 0; r < rows->len; r++)
    {
      Row *row = rows->pdata[r];
      gboolean is_preview = g_str_has_prefix (row->method, "preview");
      const char *met = is_preview ? "" : targets_met (row) ? "met" : "not met";

      printf ("| %s | %s | %d×%d | %.2f | %.3f | %.3f | %+.0f%% | %.3f / %.3f | %.3f | %.0f | %.0f "
              "| %.0f (%.2f) | %.0f | %s |\n", row->pair, row->method, row->width, row->height,
              row->sharpness, row->d_small, row->d_preview,
              100 * (row->d_small / row->d_preview - 1), row->ssim_preview,
              row->ssim_preview_plain, row->ssim_content, row->run.wall, row->run.cpu,
              row->run.expected, row->run.expected / row->run.wall, row->run.peak_mib, met);
      if (tsv)
        fprintf (tsv, "%s\t%s\t%d\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.1f\t%.1f\t%.0f"
                 "\t%.0f\t%s\t%s\n",
                 row->pair, row->method, row->width, row->height, row->sharpness, row->d_small,
                 row->d_preview, row->ssim_preview, row->ssim_preview_plain, row->ssim_content,
                 row->run.wall, row->run.cpu, row->run.expected, row->run.peak_mib, met, row->how);
    }
  if (tsv)
    {
      fclose (tsv);
      g_printerr ("eval-large: table %s\n", tsv_path);
    }
  printf ("targets: sharpness >= %.1f; d(style) of the shrunk result within %.0f%% of the "
          "preview's; SSIM to the preview (blurred) >= %.1f\n", TARGET_SHARPNESS,
          100 * TARGET_DISTANCE, TARGET_SSIM);
  write_sheet (a, cells, 2 + n_methods);
  return failures ? 1 : 0;
}

int
main (int argc, char **argv)
{
  Args a = { 0 };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— stylization at real photo sizes");
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "cli", 0, 0, G_OPTION_ARG_FILENAME, &a.cli, "The neural-style command (default: on PATH)", "FILE" },
    { "photo-dir", 0, 0, G_OPTION_ARG_FILENAME, &a.photo_dir, "Where the photos are, as NAME.jpg (default _build/large-photos)", "DIR" },
    { "samples", 0, 0, G_OPTION_ARG_FILENAME, &a.samples, "Where the paintings are (default data/samples)", "DIR" },
    { "photos", 0, 0, G_OPTION_ARG_STRING, &a.photos, "Only these photos", "NAME,…" },
    { "pairs", 0, 0, G_OPTION_ARG_STRING, &a.pairs, "Only these pairs (numbers 1–4 or names)", "LIST" },
    { "methods", 0, 0, G_OPTION_ARG_STRING, &a.methods, "Only these methods (default: all; see --list)", "NAME,…" },
    { "size", 's', 0, G_OPTION_ARG_INT, &a.size, "Cap the full size's longer side (default: the photo's own)", "N" },
    { "preview", 0, 0, G_OPTION_ARG_INT, &a.preview, "The preview's size (default 512)", "N" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &a.iterations, "--iterations for every run (default: the command's)", "N" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &a.network, "--network for every run (default: the command's)", "NAME" },
    { "extra", 0, 0, G_OPTION_ARG_STRING, &a.extra, "More arguments for every run, e.g. \"--max-memory 4G\"", "ARGS" },
    { "full-max-mp", 0, 0, G_OPTION_ARG_DOUBLE, &a.full_max_mp, "Skip the full-size run on photos above this many megapixels", "MP" },
    { "crop", 0, 0, G_OPTION_ARG_INT, &a.crop, "Side of the 100% crops (default 384)", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a.out, "Directory for results, crops and sheet (default _build/eval-large)", "DIR" },
    { "tsv", 0, 0, G_OPTION_ARG_FILENAME, &a.tsv, "The table as tab-separated values (default OUT/table.tsv)", "FILE" },
    { "reuse", 0, 0, G_OPTION_ARG_NONE, &a.reuse, "Measure results already in OUT that the same command made, instead of running it again", NULL },
    { "list", 0, 0, G_OPTION_ARG_NONE, &a.list, "List the pairs and methods, and whether the command supports each", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");    /* so that "×" reaches a UTF-8 terminal as itself */
  a.preview = 512;
  a.crop = 384;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("eval-large: %s\n", error->message);
      return 2;
    }
  if (a.cli == NULL && !(a.cli = g_find_program_in_path ("neural-style")))
    {
      g_printerr ("eval-large: no neural-style command; give --cli\n");
      return 2;
    }
  if (a.extra && !g_shell_parse_argv (a.extra, NULL, NULL, &error))
    {
      g_printerr ("eval-large: --extra: %s\n", error->message);
      return 2;
    }
  if (a.samples == NULL)
    a.samples = g_strdup (NS_SAMPLES_DIR);
  if (a.photo_dir == NULL)
    a.photo_dir = g_strdup ("_build/large-photos");
  if (a.out == NULL)
    a.out = g_strdup ("_build/eval-large");
  if (a.list)
    {
      g_autofree char *help = read_help (a.cli);

      for (guint p = 0; p < G_N_ELEMENTS (default_pairs); p++)
        printf ("pair %u: %s + %s\n", p + 1, default_pairs[p].photo, default_pairs[p].style);
      for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
        printf ("method %-8s %s; %s\n", methods[m].name, methods[m].what,
                supports (help, methods[m].needs) ? "the command supports it"
                : methods[m].enlarge ? "enlarged by the harness (the command lacks its options)"
                                     : "not supported by this command");
      return 0;
    }
  return evaluate (&a);
}
