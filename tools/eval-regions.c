/* eval-regions.c — regions with their own style, measured (tools/run eval-regions,
 * docs/regions.md, issue 17).
 *
 * Four photos of data/samples get two regions each, drawn from their own structure (sky and
 * ground, background and subject; the rule below, with seed boxes per photo, written into
 * the output and the masks saved as PNGs).  Each is stylized with two paintings: region A in
 * painting A's manner, region B in painting B's (ns_stylizer_set_regions, the rest left to
 * the content), and once plainly with both paintings blended everywhere, with the same
 * size and iterations.  Measured per photo and region with the harness's descriptor
 * (tools/texture.c, each statistic weighted by the region):
 *   own, other   texture distance of the region's inside (farther than --band px from the
 *                boundary) to its own painting and to the other (target: own ≤ 0.7 × other);
 *   worst cell   own/other in each cell of a 3 × 3 grid that the inside fills a quarter of,
 *                the worst of them (whether the style covers the whole region or gathers
 *                in part of it);
 *   band         the same two in the --band px next to the boundary on the region's side
 *                (how far the other style leaks across);
 *   SSIM         the blurred-luminance SSIM to the content over the region;
 *   time         wall and CPU seconds with regions over the plain run's (target ≤ 1.3×).
 * --carries runs the regions once per way of carrying the masks down the network
 * (mask-carry.c) and sums them up per variant: how the default was chosen.
 * --breakdown adds, per region, each style layer's guided Gram distance to its painting's
 * (at the start, plain, with regions) and the descriptor's groups own/other: which part of
 * a region's statistics stays far; --rescore measures the results an earlier run saved.
 *
 * The mask rule: the photo blurred (σ 2 px) in CIELAB (each channel weighted, and the height
 * in the image added where the spec says so) split by 2-means, the means started at the two
 * seed boxes'; the split smoothed (blurred σ 4 px, cut at 1/2); each region kept to the
 * parts connected to its seed box (the others go to the other region); feathered (σ 1.5
 * px).  Mask B = 1 − mask A.
 */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <glib/gstdio.h>

#include "harness.h"
#include "imageio.h"
#include "ns-internal.h"
#include "texture.h"

#ifndef NS_SAMPLES_DIR
#define NS_SAMPLES_DIR "data/samples"
#endif

#define TARGET_OWN_OTHER 0.7
#define TARGET_TIME      1.3
#define KMEANS_ROUNDS    12

typedef struct
{
  double x0, y0, x1, y1;     /* fractions of the photo's width and height */
} Box;

typedef struct
{
  const char *name, *photo;
  const char *what[2];       /* regions A and B */
  Box         seed[2];
  double      lab[3];        /* weights of L*, a*, b* in the 2-means */
  double      y;             /* weight of the height in the image (CIELAB units per height) */
} Spec;

/* Sky is told from snow by its blue (b*) more than its lightness, and from a lake that
 * mirrors it by being above it. */
static const Spec specs[] = {
  { "landscape", "content-landscape.jpg", { "sky", "mountains and lake" },
    { { 0.0, 0.0, 1.0, 0.12 }, { 0.0, 0.85, 1.0, 1.0 } }, { 0.3, 1.0, 1.0 }, 60.0 },
  { "architecture", "content-architecture.jpg", { "sky", "colosseum" },
    { { 0.8, 0.0, 1.0, 0.3 }, { 0.0, 0.0, 0.2, 1.0 } }, { 1.0, 1.0, 1.0 }, 0.0 },
  { "city", "content-city.jpg", { "sky", "city and water" },
    { { 0.0, 0.0, 1.0, 0.12 }, { 0.0, 0.85, 1.0, 1.0 } }, { 1.0, 1.0, 1.0 }, 90.0 },
  { "cat", "content-cat.jpg", { "background", "cat" },
    { { 0.88, 0.0, 1.0, 0.3 }, { 0.3, 0.3, 0.7, 0.8 } }, { 1.0, 1.0, 1.0 }, 0.0 },
};

/* By NsRegionCarry. */
static const char * const carry_names[] = {
  [NS_REGION_CARRY_FEATHERED] = "feathered", [NS_REGION_CARRY_INSIDE] = "inside",
  [NS_REGION_CARRY_SIMPLE] = "simple", [NS_REGION_CARRY_ALL] = "all"
};

typedef struct
{
  char         *samples, *network, *photos, *carries, *out, *sheet, *style_a, *style_b;
  EvRunOptions  run;
  int           size, band;
  gboolean      masks_only, no_plain, breakdown, rescore;
} Args;

/* What one run with regions measured, per region. */
typedef struct
{
  double own, other, band_own, band_other, ssim;
  double cell_worst;   /* the worst own/other of the region's cells (CELLS × CELLS grid)   */
  int    cells;        /* cells that hold enough of the region's inside to be measured     */
} RegionScore;

typedef struct
{
  const Spec  *spec;
  int          carry;
  RegionScore  r[2], plain[2];
  double       wall, cpu, plain_wall, plain_cpu;
} Row;

/* ---- masks ------------------------------------------------------------------------------- */

static gboolean
in_box (const Box *b, int x, int y, int w, int h)
{
  return x >= b->x0 * w && x < MAX (b->x1 * w, b->x0 * w + 1)
         && y >= b->y0 * h && y < MAX (b->y1 * h, b->y0 * h + 1);
}

/* Marks in `keep` the pixels of `in` (TRUE) connected to the box (4-neighbours). */
static void
flood (const gboolean *in, const Box *box, int w, int h, gboolean *keep)
{
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (int));

  memset (keep, 0, (gsize) w * h * sizeof (gboolean));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if (in[y * w + x] && in_box (box, x, y, w, h))
        {
          int p = y * w + x;

          keep[p] = TRUE;
          g_array_append_val (stack, p);
        }
  while (stack->len > 0)
    {
      int p = g_array_index (stack, int, stack->len - 1), x = p % w, y = p / w;
      const int nb[4][2] = { { -1, 0 }, { 1, 0 }, { 0, -1 }, { 0, 1 } };

      g_array_set_size (stack, stack->len - 1);
      for (int k = 0; k < 4; k++)
        {
          int xx = x + nb[k][0], yy = y + nb[k][1], q = yy * w + xx;

          if (xx < 0 || yy < 0 || xx >= w || yy >= h || keep[q] || ! in[q])
            continue;
          keep[q] = TRUE;
          g_array_append_val (stack, q);
        }
    }
}

/* 2-means in weighted CIELAB (and height) of the blurred photo, means started at the seed
 * boxes': TRUE = A. */
static gboolean *
split (const NsImage *photo, const Spec *spec)
{
  int w = photo->width, h = photo->height;
  gsize n = (gsize) w * h;
  g_autofree double *lab = g_new (double, 4 * n);
  gboolean *a = g_new (gboolean, n);
  double mean[2][4] = { { 0 } };

  for (int c = 0; c < 3; c++)
    {
      g_autoptr (NsImage) plane = ns_image_new (w, h, 1);
      g_autoptr (NsImage) blurred = NULL;

      for (gsize i = 0; i < n; i++)
        plane->data[i] = photo->data[3 * i + c];
      blurred = ev_blur_grey (plane, 2.0);
      for (gsize i = 0; i < n; i++)
        lab[4 * i + c] = blurred->data[i];
    }
  for (gsize i = 0; i < n; i++)
    {
      float rgb[3] = { (float) lab[4 * i], (float) lab[4 * i + 1], (float) lab[4 * i + 2] };

      ev_rgb_to_lab (rgb, lab + 4 * i);
      for (int c = 0; c < 3; c++)
        lab[4 * i + c] *= spec->lab[c];
      lab[4 * i + 3] = spec->y * (double) (i / w) / h;
    }
  for (int round = 0; round <= KMEANS_ROUNDS; round++)
    {
      double sum[2][4] = { { 0 } }, count[2] = { 0 };

      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            gsize i = (gsize) y * w + x;
            int k;

            if (round == 0)
              {
                /* Seeds: the boxes' pixels alone. */
                k = in_box (&spec->seed[0], x, y, w, h) ? 0
                    : in_box (&spec->seed[1], x, y, w, h) ? 1 : -1;
                if (k < 0)
                  continue;
              }
            else
              {
                double d[2] = { 0, 0 };

                for (int j = 0; j < 2; j++)
                  for (int c = 0; c < 4; c++)
                    d[j] += (lab[4 * i + c] - mean[j][c]) * (lab[4 * i + c] - mean[j][c]);
                k = d[0] <= d[1] ? 0 : 1;
                a[i] = k == 0;
              }
            for (int c = 0; c < 4; c++)
              sum[k][c] += lab[4 * i + c];
            count[k]++;
          }
      for (int j = 0; j < 2; j++)
        for (int c = 0; c < 4; c++)
          mean[j][c] = count[j] > 0 ? sum[j][c] / count[j] : mean[j][c];
    }
  return a;
}

/* Mask A (grey, w × h): the split, smoothed, cleaned and feathered. */
static NsImage *
draw_mask (const NsImage *photo, const Spec *spec)
{
  int w = photo->width, h = photo->height;
  gsize n = (gsize) w * h;
  g_autofree gboolean *a = split (photo, spec);
  g_autofree gboolean *keep_a = g_new (gboolean, n);
  g_autofree gboolean *b = g_new (gboolean, n);
  g_autofree gboolean *keep_b = g_new (gboolean, n);
  g_autoptr (NsImage) hard = ns_image_new (w, h, 1);
  g_autoptr (NsImage) smooth = NULL;

  for (gsize i = 0; i < n; i++)
    hard->data[i] = a[i] ? 1.0f : 0.0f;
  smooth = ev_blur_grey (hard, 4.0);
  for (gsize i = 0; i < n; i++)
    a[i] = smooth->data[i] >= 0.5f;
  flood (a, &spec->seed[0], w, h, keep_a);
  for (gsize i = 0; i < n; i++)
    b[i] = ! keep_a[i];
  flood (b, &spec->seed[1], w, h, keep_b);
  for (gsize i = 0; i < n; i++)
    hard->data[i] = keep_b[i] ? 0.0f : 1.0f;
  return ev_blur_grey (hard, 1.5);
}

/* Chamfer distance (1, √2) of each pixel to the nearest pixel on the other side of the
 * mask's 1/2 level. */
static float *
boundary_distance (const NsImage *mask)
{
  int w = mask->width, h = mask->height;
  float *d = g_new (float, (gsize) w * h);
  const float diag = (float) G_SQRT2;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gboolean side = mask->data[y * w + x] >= 0.5f, edge = FALSE;

        for (int k = 0; k < 4 && ! edge; k++)
          {
            int xx = x + (k == 0) - (k == 1), yy = y + (k == 2) - (k == 3);

            edge = xx >= 0 && yy >= 0 && xx < w && yy < h
                   && (mask->data[yy * w + xx] >= 0.5f) != side;
          }
        d[y * w + x] = edge ? 0.5f : G_MAXFLOAT;
      }
  for (int pass = 0; pass < 2; pass++)
    for (int j = 0; j < h; j++)
      for (int i = 0; i < w; i++)
        {
          int y = pass ? h - 1 - j : j, x = pass ? w - 1 - i : i, s = pass ? 1 : -1;
          float *v = &d[y * w + x];

          if (x + s >= 0 && x + s < w)
            *v = MIN (*v, d[y * w + x + s] + 1.0f);
          if (y + s >= 0 && y + s < h)
            {
              *v = MIN (*v, d[(y + s) * w + x] + 1.0f);
              if (x + s >= 0 && x + s < w)
                *v = MIN (*v, d[(y + s) * w + x + s] + diag);
              if (x - s >= 0 && x - s < w)
                *v = MIN (*v, d[(y + s) * w + x - s] + diag);
            }
        }
  return d;
}

/* Region r's (0: A, 1: B) pixels farther than `band` from the boundary (inside) or within
 * it (band), as a 0/1 mask. */
static NsImage *
part_mask (const NsImage *mask, const float *dist, int r, int band, gboolean inside)
{
  NsImage *m = ns_image_new (mask->width, mask->height, 1);

  for (gsize i = 0; i < (gsize) mask->width * mask->height; i++)
    {
      gboolean mine = (mask->data[i] >= 0.5f) == (r == 0);
      gboolean far = dist[i] > band;

      m->data[i] = mine && far == inside ? 1.0f : 0.0f;
    }
  return m;
}

/* Guided Gram matrices hold a region's statistics as a whole: the style may gather in part
 * of the region and leave the rest bare (seen on a 4-MP sky: swirls in its wide right part,
 * none in the narrow left one), which the region's own/other cannot see.  So the inside is
 * also measured per cell of a CELLS × CELLS grid, in the cells it fills at least
 * CELL_MIN_SHARE of, and the worst cell is reported. */
#define CELLS          3
#define CELL_MIN_SHARE 0.25

static void
score_cells (const NsImage *out, const NsImage *inside, const EvStats style[2], int k,
             RegionScore *r)
{
  int w = inside->width, h = inside->height;

  r->cell_worst = 0.0;
  r->cells = 0;
  for (int cy = 0; cy < CELLS; cy++)
    for (int cx = 0; cx < CELLS; cx++)
      {
        int x0 = cx * w / CELLS, x1 = (cx + 1) * w / CELLS;
        int y0 = cy * h / CELLS, y1 = (cy + 1) * h / CELLS;
        g_autoptr (NsImage) cell = ns_image_new (w, h, 1);
        double n = 0.0;
        EvStats s;

        for (int y = y0; y < y1; y++)
          for (int x = x0; x < x1; x++)
            n += cell->data[(gsize) y * w + x] = inside->data[(gsize) y * w + x];
        if (n < CELL_MIN_SHARE * (x1 - x0) * (y1 - y0))
          continue;
        ev_stats_compute_masked (out, cell, &s);
        r->cell_worst = MAX (r->cell_worst,
                             ev_distance (&s, &style[k], NULL) / ev_distance (&s, &style[1 - k], NULL));
        r->cells++;
      }
}

/* ---- runs -------------------------------------------------------------------------------- */

static double
cpu_seconds (void)
{
  struct rusage u;

  getrusage (RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec
         + u.ru_stime.tv_usec / 1e6;
}

/* --rescore: the result saved by an earlier run, read instead of running (stylize). */
static const char *rescore_name;

/* One run: with regions (masks given, carried by `carry`) or plain; wall and CPU seconds. */
static NsImage *
stylize (NsNetwork *net, const NsOptions *opt, const NsImage *content,
         const NsImage * const *styles, const NsImage * const *masks, int carry, double *wall,
         double *cpu, GError **error)
{
  if (rescore_name != NULL)
    {
      *wall = *cpu = NAN;
      return ev_load_rgb (NULL, rescore_name, error);
    }

  g_autoptr (NsStylizer) st = ns_stylizer_new (net, opt);
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_seconds ();
  NsImage *out;

  if (masks != NULL)
    {
      if (! ns_stylizer_set_regions (st, masks, NULL, 2, NS_REGION_REST_CONTENT, error))
        return NULL;
      for (int i = 0; i < 2; i++)
        if (! ns_stylizer_set_region_carry (st, i, (NsRegionCarry) carry, error))
          return NULL;
    }
  out = ns_stylizer_run (st, content, styles, NULL, 2, error);
  *wall = (g_get_monotonic_time () - t0) / 1e6;
  *cpu = cpu_seconds () - c0;
  return out;
}

static gboolean
save (const Args *a, const NsImage *img, const char *photo, const char *what, GError **error)
{
  g_autofree char *name = g_strdup_printf ("%s-%s.png", photo, what);
  g_autofree char *path = g_build_filename (a->out, name, NULL);

  return cli_image_save_png (path, img, NULL, 8, error);
}

/* The two regions' distances and SSIM in a result. */
static void
score (const NsImage *out, const NsImage *content, const NsImage *mask, const float *dist,
       int band, const EvStats style[2], RegionScore r[2])
{
  for (int k = 0; k < 2; k++)
    {
      g_autoptr (NsImage) inside = part_mask (mask, dist, k, band, TRUE);
      g_autoptr (NsImage) edge = part_mask (mask, dist, k, band, FALSE);
      g_autoptr (NsImage) whole = ns_image_new (mask->width, mask->height, 1);
      EvStats s;

      for (gsize i = 0; i < (gsize) mask->width * mask->height; i++)
        whole->data[i] = inside->data[i] + edge->data[i];
      ev_stats_compute_masked (out, inside, &s);
      r[k].own = ev_distance (&s, &style[k], NULL);
      r[k].other = ev_distance (&s, &style[1 - k], NULL);
      score_cells (out, inside, style, k, &r[k]);
      ev_stats_compute_masked (out, edge, &s);
      r[k].band_own = ev_distance (&s, &style[k], NULL);
      r[k].band_other = ev_distance (&s, &style[1 - k], NULL);
      r[k].ssim = ev_ssim_blurred_masked (out, content, whole);
    }
}

/* --breakdown: per region and style layer, the relative distance ‖G − A‖² / ‖A‖² of the
 * region's guided Gram to its painting's at the start (the content), in the plain result
 * and in the result with regions, and how much of the region is left at the layer: the
 * carried mask's effective share (ΣT)² / (n ΣT²) of the layer's map beside the mask's at
 * the image (a hard mask's share is its area). */
static void
print_breakdown (NsNetwork *net, const NsOptions *opt, const NsImage *content,
                 const NsImage * const *styles, const NsImage * const *masks, int carry,
                 const NsImage *plain, const NsImage *out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsRegions) regions = ns_regions_new (masks, NULL, 2, NS_REGION_REST_CONTENT,
                                                  &error);
  NsObjectiveConfig config = { 0 };
  g_autoptr (NsObjective) obj = NULL;
  const NsImage *imgs[3] = { content, plain, out };
  int n = 0, last = 0, layer[3][64], region[3][64];
  double dist[3][64];

  if (regions == NULL)
    {
      g_printerr ("eval-regions: breakdown: %s\n", error->message);
      return;
    }
  for (int r = 0; r <= 2; r++)
    regions->carries[r] = (NsRegionCarry) carry;
  config.general = TRUE;
  config.regions = regions;
  obj = ns_objective_new_full (net, opt, content, styles, NULL, 2, &config, &error);
  if (obj == NULL)
    {
      g_printerr ("eval-regions: breakdown: %s\n", error->message);
      return;
    }
  for (int i = 0; i < 3; i++)
    if (imgs[i] != NULL)
      n = ns_objective_term_distances (obj, imgs[i], layer[i], region[i], dist[i]);
    else
      for (int k = 0; k < 64; k++)
        dist[i][k] = NAN;
  if (n <= 0 || n > 64)
    return;
  for (int k = 0; k < n; k++)
    last = MAX (last, layer[2][k]);
  printf ("  breakdown (%s): region, layer, map, mask share at the layer / at the image, "
          "‖G − A‖²/‖A‖² at the start, plain, regions, regions/start\n",
          carry_names[carry]);
  for (int r = 0; r < 2; r++)
    {
      g_autofree gboolean *all = g_new (gboolean, net->n_layers);
      g_autoptr (NsLayerMasks) lm = NULL;
      double share0 = 0.0, s1 = 0.0, s2 = 0.0;
      gsize np = (gsize) content->width * content->height;

      for (int i = 0; i < net->n_layers; i++)
        all[i] = TRUE;
      for (gsize i = 0; i < np; i++)
        {
          s1 += masks[r]->data[i];
          s2 += (double) masks[r]->data[i] * masks[r]->data[i];
        }
      share0 = s1 * s1 / (np * s2);
      lm = ns_layer_masks_new (net, masks[r]->data, content->width, content->height, last,
                               all, (NsRegionCarry) carry);
      for (int k = 0; k < n; k++)
        {
          int l = layer[2][k];
          double t1 = 0.0, t2 = 0.0;
          gsize lp;

          if (region[2][k] != r)
            continue;
          lp = (gsize) lm->w[l] * lm->h[l];
          for (gsize i = 0; i < lp; i++)
            {
              t1 += lm->at[l][i];
              t2 += (double) lm->at[l][i] * lm->at[l][i];
            }
          printf ("  %c %-8s %3d×%-3d %.3f / %.3f  %.4f %.4f %.4f %.3f\n", 'A' + r,
                  net->layers[l].name, lm->w[l], lm->h[l], t2 > 0 ? t1 * t1 / (lp * t2) : 0.0,
                  share0, dist[0][k], dist[1][k], dist[2][k], dist[2][k] / dist[0][k]);
        }
    }
  fflush (stdout);
}

/* --breakdown: the descriptor's groups (ev_distance's normalised d_g) of each region's
 * inside, to its own painting and to the other, in a result. */
static void
print_groups (const NsImage *out, const NsImage *mask, const float *dist, int band,
              const EvStats style[2], const char *what)
{
  printf ("  descriptor groups (%s), inside: region own/other per group:", what);
  for (int g = 0; g < EV_N_GROUPS; g++)
    printf (" %s", ev_group_names[g]);
  printf ("\n");
  for (int k = 0; k < 2; k++)
    {
      g_autoptr (NsImage) inside = part_mask (mask, dist, k, band, TRUE);
      double own[EV_N_GROUPS], other[EV_N_GROUPS];
      EvStats s;

      ev_stats_compute_masked (out, inside, &s);
      ev_distance (&s, &style[k], own);
      ev_distance (&s, &style[1 - k], other);
      printf ("  %c", 'A' + k);
      for (int g = 0; g < EV_N_GROUPS; g++)
        printf (" %.2f/%.2f", own[g], other[g]);
      printf ("\n");
    }
  fflush (stdout);
}

/* The photo's runs: plain, then with regions per carry; rows appended, sheet cells pasted. */
static gboolean
run_photo (const Args *a, NsNetwork *net, const NsOptions *opt, const Spec *spec,
           const NsImage * const *styles, const EvStats style[2], const int *carries,
           int n_carries, NsImage *sheet, int sheet_row, GPtrArray *rows, GError **error)
{
  g_autoptr (NsImage) photo = ev_load_rgb (a->samples, spec->photo, error);
  g_autoptr (NsImage) content = NULL;
  g_autoptr (NsImage) mask_a = NULL;
  g_autoptr (NsImage) mask_b = NULL;
  g_autoptr (NsImage) plain = NULL;
  g_autofree float *dist = NULL;
  const NsImage *masks[2];
  RegionScore plain_score[2];
  double plain_wall, plain_cpu;
  int y0 = EV_GAP + sheet_row * (EV_CELL_H + EV_GAP);

  if (photo == NULL)
    return FALSE;
  content = ns_image_resize_longest (photo, a->size);
  mask_a = draw_mask (content, spec);
  mask_b = ns_image_new (content->width, content->height, 1);
  for (gsize i = 0; i < (gsize) content->width * content->height; i++)
    mask_b->data[i] = 1.0f - mask_a->data[i];
  masks[0] = mask_a;
  masks[1] = mask_b;
  dist = boundary_distance (mask_a);
  printf ("%s: %d×%d; A = %s (seed box x %.2f–%.2f, y %.2f–%.2f), B = %s (x %.2f–%.2f, "
          "y %.2f–%.2f); weights L* %.1f a* %.1f b* %.1f, height %.0f\n", spec->name,
          content->width, content->height, spec->what[0], spec->seed[0].x0, spec->seed[0].x1,
          spec->seed[0].y0, spec->seed[0].y1, spec->what[1], spec->seed[1].x0,
          spec->seed[1].x1, spec->seed[1].y0, spec->seed[1].y1, spec->lab[0], spec->lab[1],
          spec->lab[2], spec->y);
  fflush (stdout);
  if (! save (a, content, spec->name, "content", error)
      || ! save (a, mask_a, spec->name, "mask-a", error)
      || ! save (a, mask_b, spec->name, "mask-b", error))
    return FALSE;
  ev_sheet_paste (sheet, content, EV_GAP, y0);
  ev_sheet_paste (sheet, mask_a, EV_GAP + (EV_CELL_W + EV_GAP), y0);
  if (a->masks_only)
    return TRUE;

  if (a->no_plain)
    {
      plain = ns_image_copy (content);
      plain_wall = plain_cpu = NAN;
    }
  else
    {
      g_autofree char *saved = g_strdup_printf ("%s/%s-plain.png", a->out, spec->name);

      rescore_name = a->rescore ? saved : NULL;
      plain = stylize (net, opt, content, styles, NULL, 0, &plain_wall, &plain_cpu, error);
      rescore_name = NULL;
      if (plain == NULL || ! save (a, plain, spec->name, "plain", error))
        return FALSE;
    }
  score (plain, content, mask_a, dist, a->band, style, plain_score);
  ev_sheet_paste (sheet, plain, EV_GAP + (2 + n_carries) * (EV_CELL_W + EV_GAP), y0);
  for (int c = 0; c < n_carries; c++)
    {
      Row *row = g_new0 (Row, 1);
      g_autoptr (NsImage) out = NULL;
      g_autofree char *what = g_strdup_printf ("regions-%s", carry_names[carries[c]]);

      row->spec = spec;
      row->carry = carries[c];
      row->plain_wall = plain_wall;
      row->plain_cpu = plain_cpu;
      memcpy (row->plain, plain_score, sizeof plain_score);
      g_ptr_array_add (rows, row);
      {
        g_autofree char *saved = g_strdup_printf ("%s/%s-%s.png", a->out, spec->name, what);

        rescore_name = a->rescore ? saved : NULL;
        out = stylize (net, opt, content, styles, masks, carries[c], &row->wall, &row->cpu,
                       error);
        rescore_name = NULL;
      }
      if (out == NULL || ! save (a, out, spec->name, what, error))
        return FALSE;
      score (out, content, mask_a, dist, a->band, style, row->r);
      ev_sheet_paste (sheet, out, EV_GAP + (2 + c) * (EV_CELL_W + EV_GAP), y0);
      printf ("  %-9s A own %.3f other %.3f, B own %.3f other %.3f; %.1f s (plain %.1f s)\n",
              carry_names[carries[c]], row->r[0].own, row->r[0].other, row->r[1].own,
              row->r[1].other, row->wall, plain_wall);
      fflush (stdout);
      if (a->breakdown)
        {
          print_breakdown (net, opt, content, styles, masks, carries[c],
                           a->no_plain ? NULL : plain, out);
          print_groups (out, mask_a, dist, a->band, style, "regions");
          if (! a->no_plain)
            print_groups (plain, mask_a, dist, a->band, style, "plain");
        }
    }
  return TRUE;
}

/* ---- the report -------------------------------------------------------------------------- */

static void
print_table (const Args *a, GPtrArray *rows, int carry)
{
  printf ("\n| photo | region | own | other | own/other | band own | band other | band "
          "own/other | worst cell own/other (cells) | SSIM | plain own/other | plain worst cell | "
          "plain SSIM | s regions (CPU) | s plain (CPU) | time ratio |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (guint i = 0; i < rows->len; i++)
    {
      const Row *row = rows->pdata[i];

      if (row->carry != carry)
        continue;
      for (int k = 0; k < 2; k++)
        {
          const RegionScore *r = &row->r[k], *p = &row->plain[k];
          double ratio = r->own / r->other;

          printf ("| %s | %c: %s (%s) | %.3f | %.3f | %.2f%s | %.3f | %.3f | %.2f | %.2f (%d) | "
                  "%.3f | %.2f | %.2f | %.3f | %.1f (%.1f) | %.1f (%.1f) | %.2f%s |\n",
                  row->spec->name, 'A' + k, row->spec->what[k], k ? a->style_b : a->style_a,
                  r->own, r->other, ratio, ratio <= TARGET_OWN_OTHER ? "" : " ✗",
                  r->band_own, r->band_other, r->band_own / r->band_other, r->cell_worst,
                  r->cells, r->ssim, p->own / p->other, p->cell_worst, p->ssim, row->wall, row->cpu, row->plain_wall,
                  row->plain_cpu, row->wall / row->plain_wall,
                  row->wall / row->plain_wall <= TARGET_TIME ? "" : " ✗");
        }
    }
  printf ("\ntargets: own ≤ %.1f × other in every region; time ≤ %.1f × plain (wall)\n",
          TARGET_OWN_OTHER, TARGET_TIME);
}

/* Per carry: the mean and worst own/other inside and in the band, the mean SSIM, and the
 * time ratio summed over the photos. */
static void
print_sweep (GPtrArray *rows, const int *carries, int n_carries)
{
  printf ("\n| carry | mean own/other | worst own/other | mean band own/other | worst band "
          "own/other | worst cell own/other | mean SSIM | time ratio (wall) | time ratio (CPU) |\n"
          "|---|---|---|---|---|---|---|---|---|\n");
  for (int c = 0; c < n_carries; c++)
    {
      double sum = 0, worst = 0, bsum = 0, bworst = 0, cworst = 0, ssim = 0, wall = 0, pwall = 0;
      double cpu = 0, pcpu = 0;
      int n = 0;

      for (guint i = 0; i < rows->len; i++)
        {
          const Row *row = rows->pdata[i];

          if (row->carry != carries[c])
            continue;
          for (int k = 0; k < 2; k++)
            {
              double q = row->r[k].own / row->r[k].other;
              double b = row->r[k].band_own / row->r[k].band_other;

              sum += q;
              worst = MAX (worst, q);
              bsum += b;
              bworst = MAX (bworst, b);
              cworst = MAX (cworst, row->r[k].cell_worst);
              ssim += row->r[k].ssim;
              n++;
            }
          wall += row->wall;
          pwall += row->plain_wall;
          cpu += row->cpu;
          pcpu += row->plain_cpu;
        }
      if (n == 0)
        continue;
      printf ("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f |\n",
              carry_names[carries[c]], sum / n, worst, bsum / n, bworst, cworst, ssim / n,
              wall / pwall, cpu / pcpu);
    }
}

/* The sheet as a JPEG with ImageMagick's convert (the PNG stays in OUT). */
static void
write_sheet (const Args *a, const NsImage *sheet)
{
  g_autofree char *png = g_build_filename (a->out, "sheet.png", NULL);
  g_autofree char *convert = g_find_program_in_path ("convert");
  g_autoptr (GError) error = NULL;
  int status;

  if (! cli_image_save_png (png, sheet, NULL, 8, &error))
    {
      g_printerr ("eval-regions: %s\n", error->message);
      return;
    }
  if (a->sheet == NULL)
    return;
  if (convert == NULL)
    {
      g_printerr ("eval-regions: no ImageMagick convert here: the sheet is %s\n", png);
      return;
    }
  {
    const char *argv[] = { convert, png, "-quality", "85", a->sheet, NULL };

    if (! g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                        &status, &error) || ! g_spawn_check_wait_status (status, &error))
      g_printerr ("eval-regions: convert: %s\n", error->message);
  }
}

static int
parse_carries (const char *list, int *carries)
{
  g_auto (GStrv) v = g_strsplit (list, ",", -1);
  int n = 0;

  for (int i = 0; v[i] != NULL; i++)
    {
      int c = -1;

      for (int k = 0; k < (int) G_N_ELEMENTS (carry_names); k++)
        if (strcmp (v[i], carry_names[k]) == 0)
          c = k;
      if (c < 0 || n == (int) G_N_ELEMENTS (carry_names))
        return -1;
      carries[n++] = c;
    }
  return n;
}

static int
evaluate (const Args *a)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsNetwork) net = NULL;
  g_autoptr (NsOptions) opt = NULL;
  g_autoptr (NsImage) style_a = NULL;
  g_autoptr (NsImage) style_b = NULL;
  g_autoptr (NsImage) sheet = NULL;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  int carries[G_N_ELEMENTS (carry_names)], n_carries = parse_carries (a->carries, carries);
  int n_photos = 0, row = 0;
  EvStats style[2];

  if (n_carries <= 0)
    {
      g_printerr ("eval-regions: --carries takes feathered, inside, simple, all\n");
      return 2;
    }
  for (guint s = 0; s < G_N_ELEMENTS (specs); s++)
    n_photos += ev_listed (a->photos, specs[s].name);
  if (n_photos == 0)
    {
      g_printerr ("eval-regions: no photo matches --photos %s\n", a->photos);
      return 2;
    }
  if (! (net = ev_load_network (a->network, &error))
      || ! ev_run_options_make (&a->run, net, &opt, &error)
      || ! (style_a = ev_load_rgb (a->samples, a->style_a, &error))
      || ! (style_b = ev_load_rgb (a->samples, a->style_b, &error)))
    {
      g_printerr ("eval-regions: %s\n", error->message);
      return 1;
    }
  g_mkdir_with_parents (a->out, 0755);
  {
    /* The paintings' statistics at the size the runs see them (style scale 1). */
    g_autoptr (NsImage) sa = ns_image_resize_longest (style_a, a->size);
    g_autoptr (NsImage) sb = ns_image_resize_longest (style_b, a->size);

    ev_stats_compute (sa, &style[0]);
    ev_stats_compute (sb, &style[1]);
  }
  printf ("eval-regions: %s; %d px, A = %s, B = %s, band %d px\n",
          ns_network_get_description (net), a->size, a->style_a, a->style_b, a->band);
  printf ("mask rule: the photo blurred (σ 2 px) in weighted CIELAB (and height) split by "
          "2-means started at the seed boxes'; smoothed (σ 4 px, cut at 1/2); each region kept to the parts "
          "connected to its seed box; feathered (σ 1.5 px); B = 1 − A\n");
  sheet = ev_sheet_new (n_photos, 3 + n_carries);
  for (guint s = 0; s < G_N_ELEMENTS (specs); s++)
    {
      const NsImage *styles[] = { style_a, style_b };

      if (! ev_listed (a->photos, specs[s].name))
        continue;
      if (! run_photo (a, net, opt, &specs[s], styles, style, carries, n_carries, sheet, row++,
                       rows, &error))
        {
          g_printerr ("eval-regions: %s: %s\n", specs[s].name, error->message);
          return 1;
        }
    }
  write_sheet (a, sheet);
  if (a->masks_only)
    return 0;
  for (int c = 0; c < n_carries; c++)
    {
      printf ("\ncarry: %s", carry_names[carries[c]]);
      print_table (a, rows, carries[c]);
    }
  print_sweep (rows, carries, n_carries);
  printf ("\nsheet rows: content, mask A (white), the result per carry (%s), the plain result\n",
          a->carries);
  return 0;
}

int
main (int argc, char **argv)
{
  Args a = { 0 };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— regions with their own style, measured");
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "samples", 0, 0, G_OPTION_ARG_FILENAME, &a.samples, "Sample image directory", "DIR" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &a.network, "embedded (default), auto, vgg19 or embedded:VARIANT", "NAME" },
    { "size", 's', 0, G_OPTION_ARG_INT, &a.size, "Longest side of the photos (default 384)", "N" },
    { "photos", 0, 0, G_OPTION_ARG_STRING, &a.photos, "Only these: landscape, architecture, city, cat", "NAME,…" },
    { "carries", 0, 0, G_OPTION_ARG_STRING, &a.carries, "How masks go down the network, one run each: feathered (default), simple, inside, all", "NAME,…" },
    { "style-a", 0, 0, G_OPTION_ARG_STRING, &a.style_a, "Painting of region A (default style-starry-night.jpg)", "FILE" },
    { "style-b", 0, 0, G_OPTION_ARG_STRING, &a.style_b, "Painting of region B (default style-durer-lion.jpg)", "FILE" },
    { "band", 0, 0, G_OPTION_ARG_INT, &a.band, "Width of the boundary band on each side (default 16)", "PX" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a.out, "Directory for masks, results and the sheet (default eval-regions-out)", "DIR" },
    { "rescore", 0, 0, G_OPTION_ARG_NONE, &a.rescore, "Measure the results an earlier run saved in OUT instead of running", NULL },
    { "no-plain", 0, 0, G_OPTION_ARG_NONE, &a.no_plain, "No plain run (its columns are the content's, its times NaN)", NULL },
    { "breakdown", 0, 0, G_OPTION_ARG_NONE, &a.breakdown, "Per region and style layer: the guided Gram's relative distance to its painting's at the start, plain and with regions", NULL },
    { "masks-only", 0, 0, G_OPTION_ARG_NONE, &a.masks_only, "Only draw the masks (OUT/PHOTO-mask-a.png, -mask-b.png)", NULL },
    { "sheet", 0, 0, G_OPTION_ARG_FILENAME, &a.sheet, "Also write the contact sheet as this JPEG (ImageMagick's convert)", "FILE" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  a.size = 384;
  a.band = 16;
  ev_run_options_init (&a.run);
  a.run.iterations = 150;
  a.run.scales = 1;
  g_option_context_set_summary (ctx, "Small defaults, so that two cores measure four photos "
                                "in about ten minutes: 384 px, 150 iterations at "
                                "one size.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  ev_run_options_add_entries (&a.run, ctx);
  if (! g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("eval-regions: %s\n", error->message);
      return 2;
    }
  if (a.size < 64 || a.band < 1)
    {
      g_printerr ("eval-regions: --size of at least 64 and a --band of at least 1 px\n");
      return 2;
    }
  if (a.samples == NULL)
    a.samples = g_strdup (NS_SAMPLES_DIR);
  if (a.network == NULL)
    a.network = g_strdup ("embedded");
  if (a.carries == NULL)
    a.carries = g_strdup ("feathered");
  if (a.style_a == NULL)
    a.style_a = g_strdup ("style-starry-night.jpg");
  if (a.style_b == NULL)
    a.style_b = g_strdup ("style-durer-lion.jpg");
  if (a.out == NULL)
    a.out = g_strdup ("eval-regions-out");
  return evaluate (&a);
}
