/* memory.c — how much memory a run takes, and the plan that fits a budget.
 *
 * The estimate replays the run's large allocations, size by size: the caller's images,
 * the network's weights, the optimiser's vectors (x, its gradient, L-BFGS's history of
 * 2 vectors per remembered step — at 16 megapixels and a history of 100 that alone would
 * be 38 GB), the objective's targets and the working set of one evaluation (a tile's
 * activations when tiled).  Everything below a few MiB is left to a fixed allowance.
 *
 * For each size the plan takes the first of these that fits the budget: the whole image at
 * once with the optimiser asked for; with a shorter L-BFGS history (down to 10); then tiles
 * (largest first, multiples of GEGL's 128-pixel grid, at least 512 px before smaller ones)
 * with the full history or a short one (down to 5); Adam on the whole image, then in tiles;
 * finally tiles with the gradient streamed by rows into an update of x in place, which needs
 * no image-sized vector besides x itself.  Tiles cost time (each is run twice per
 * evaluation, with a halo of 96 px for VGG-19), a short history costs convergence, Adam
 * and the streamed steps more of it: the order is the least loss first.  The plan says which it
 * chose, and why, through ns_run_plan_describe.
 *
 * Each of these is tried first with the objective keeping Winograd's transformed weights
 * (conv-cache.c: about 400 MB for VGG-19, counted for the layers the size's passes run by
 * Winograd), then without, in which case every call transforms them again, as before the
 * cache: the result is the same, only slower (measured 5% of an evaluation at 256 px and
 * 2–4% at 512, docs/performance.md), so the cache is the first thing a tight budget gives up,
 * before the history, the tiles or the optimiser. */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ns-internal.h"

/* Libraries, stacks, OpenBLAS's buffers, small allocations: a C program linking the
 * engine starts at 5 MiB and OpenBLAS's buffers add 2 MiB; the rest is margin (the plan
 * also keeps RESERVE of the budget free).  OpenCV's libraries, loaded with the program when
 * the engine has optical flow, make 10 MiB more resident before anything runs. */
#ifdef NS_HAVE_OPENCV
#define BASELINE_BYTES ((guint64) 26 << 20)
#else
#define BASELINE_BYTES ((guint64) 16 << 20)
#endif

/* Without a budget, the run may use this fraction of the memory available at its start. */
#define AUTO_FRACTION 0.8

/* The plan keeps this fraction of the budget for what the estimate cannot see (the heap's
 * fragmentation, libraries' buffers). */
#define RESERVE 0.05

#define FLOAT ((guint64) sizeof (float))

/* ---- the network ---------------------------------------------------------------------------- */

typedef struct
{
  const NsNetwork *net;
  int              content_index, last;
  gboolean        *hooked;
  gboolean        *hooked_content;    /* the content layer alone */
  gboolean        *hooked_style;      /* the style layers alone */
  int              n_style;
  int             *style_index;
  int              n_regions;         /* style terms per style layer: one per region (0: none) */
} Layers;

static void
layers_clear (Layers *l)
{
  g_free (l->hooked);
  g_free (l->hooked_content);
  g_free (l->hooked_style);
  g_free (l->style_index);
}

static gboolean
layers_init (Layers *l, const NsNetwork *net, const NsOptions *options, GError **error)
{
  g_autoptr (NsOptions) opt = ns_options_copy (options);

  ns_options_apply_network_defaults (opt, net);
  memset (l, 0, sizeof *l);
  l->net = net;
  l->content_index = ns_network_layer_index (net, opt->content_layer);
  if (l->content_index < 0)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "The content layer \"%s\" is not in the %s network", opt->content_layer,
                   net->name);
      return FALSE;
    }
  l->last = l->content_index;
  l->n_style = opt->n_style_layers;
  l->style_index = g_new0 (int, MAX (l->n_style, 1));
  for (int k = 0; k < l->n_style; k++)
    {
      l->style_index[k] = ns_network_layer_index (net, opt->style_layers[k].name);
      if (l->style_index[k] < 0)
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "The style layer \"%s\" is not in the %s network",
                       opt->style_layers[k].name, net->name);
          return FALSE;
        }
      l->last = MAX (l->last, l->style_index[k]);
    }
  l->hooked = g_new0 (gboolean, l->last + 1);
  l->hooked_content = g_new0 (gboolean, l->last + 1);
  l->hooked_style = g_new0 (gboolean, l->last + 1);
  l->hooked[l->content_index] = l->hooked_content[l->content_index] = TRUE;
  for (int k = 0; k < l->n_style; k++)
    l->hooked[l->style_index[k]] = l->hooked_style[l->style_index[k]] = TRUE;
  return TRUE;
}

/* Bytes of the feature map of layer `index` for an h × w input. */
static guint64
feature_bytes (const NsNetwork *net, int index, int w, int h)
{
  int s = 1 << ns_network_layer_stride_log2 (net, index + 1);

  return (guint64) ns_network_layer_channels (net, index) * (h / s) * (w / s) * FLOAT;
}

/* ns_gram_add's conversion chunk (2 MiB) and one layer's double sums (≤ 2 MiB). */
#define GRAM_SCRATCH ((guint64) 4 << 20)

/* All style Gram matrices (targets, and the same again while one evaluation works); one
 * per region and layer with regions. */
static guint64
gram_bytes (const Layers *l)
{
  guint64 b = 0;

  for (int k = 0; k < l->n_style; k++)
    {
      guint64 c = ns_network_layer_channels (l->net, l->style_index[k]);

      b += c * c * FLOAT;
    }
  return b * MAX (1, l->n_regions);
}

guint64
ns_network_weight_bytes (const NsNetwork *net)
{
  guint64 b = 0;

  for (int i = 0; i < net->n_layers; i++)
    {
      const NsConv *conv = &net->layers[i].conv;

      if (net->layers[i].kind != NS_LAYER_CONV && net->layers[i].kind != NS_LAYER_CONV_KEEP)
        continue;
      b += ((guint64) conv->cout * conv->cin * 9 + conv->cout) * FLOAT;
      if (conv->weight_t)
        b += (guint64) conv->cout * conv->cin * 9 * FLOAT;
    }
  return b;
}

/* ---- one size ------------------------------------------------------------------------------- */

typedef struct
{
  const Layers  *layers;
  const NsOptions *opt;
  int            w, h, planes;        /* this size; planes of x */
  int            style_w, style_h;    /* the largest style image at this size */
  int            n_styles;
  guint64        fixed;               /* baseline, weights, the caller's images */
  guint64        x_prev;              /* the previous size's x, alive while this one sets up */
  guint64        wino;                /* Winograd's workspace kept so far (the largest) */
  gboolean       last;                /* the final size (its result is returned) */
} SizeInfo;

/* The Winograd workspace the convolutions of an h × w input need (kept between calls). */
static guint64
wino_bytes (const NsNetwork *net, int last, int h, int w)
{
  guint64 most = 0;

  for (int i = 0; i <= last; i++)
    {
      const NsLayer *l = &net->layers[i];

      if (l->kind == NS_LAYER_MAXPOOL || l->kind == NS_LAYER_AVGPOOL)
        {
          h /= 2;
          w /= 2;
        }
      if (l->kind != NS_LAYER_CONV && l->kind != NS_LAYER_CONV_KEEP)
        continue;
      most = MAX (most, ns_winograd_workspace_floats (l->conv.cin, l->conv.cout, h, w));
      most = MAX (most, ns_winograd_workspace_floats (l->conv.cout, l->conv.cin, h, w));
    }
  return MIN (most * FLOAT, ns_winograd_cached_bytes ());
}

/* Copies of a hooked layer's output its loss hook holds while it runs: the scaled features
 * and their gradient when channel gains are on (objective.c's scaled_loss). */
static int
hook_copies (const NsNetwork *net)
{
  return net->normalize_channels ? 2 : 0;
}

/* Peak of one untiled evaluation or set-up, besides x and the optimiser; *kept is what
 * the objective holds between evaluations. */
static guint64
whole_bytes (const SizeInfo *s, guint64 *setup, guint64 *kept)
{
  const Layers *l = s->layers;
  guint64 px = (guint64) s->w * s->h, spx = (guint64) s->style_w * s->style_h;
  guint64 targets = feature_bytes (l->net, l->content_index, s->w, s->h) + gram_bytes (l);
  guint64 content = 3 * px * FLOAT + (s->planes == 1 ? px * FLOAT : 0);
  guint64 eval, style_setup, content_setup;
  gboolean shallow = ns_objective_shallow_applies (l->net, l->last);

  /* rgb, the network input, and their gradients; the pass with its hooks, which copy a
   * layer's features and gradient when channel gains are on (scaled_loss); ns_style_loss's
   * c×c matrices; ns_gram_add's double scratch and sums. */
  eval = 4 * 3 * px * FLOAT + gram_bytes (l) + GRAM_SCRATCH
         + ns_network_pass_peak_bytes (l->net, l->last, l->hooked, s->h, s->w, TRUE,
                                       hook_copies (l->net));
  /* A style image: the scaled image and its planar tensor (prepare_style), then that
   * tensor, an interleaved copy and the network input (network_input), then the pass. */
  style_setup = MAX (9 * spx * FLOAT,
                     6 * spx * FLOAT + ns_network_pass_peak_bytes (l->net, l->last,
                                                                   l->hooked_style, s->style_h,
                                                                   s->style_w, FALSE, 0))
                + (s->opt->color_mode == NS_COLOR_HISTOGRAM ? 3 * spx * FLOAT : 0);
  /* The content: its RGB copy, the image the network sees, its interleaved copy and the
   * network input, then the pass to the content layer. */
  content_setup = MAX (9 * px * FLOAT,
                       3 * px * FLOAT + ns_network_pass_peak_bytes (l->net, l->content_index,
                                                                   l->hooked_content, s->h,
                                                                   s->w, FALSE, 0));
  if (shallow)
    {
      /* objective-shallow.c keeps no features: its content targets are recomputed, and
       * an evaluation holds a few rows and a segment per thread. */
      targets = gram_bytes (l);
      eval = gram_bytes (l) + ns_shallow_eval_bytes (l->net, s->w, s->h, s->planes,
                                                      l->n_regions);
      content_setup = 3 * px * FLOAT + ns_shallow_eval_bytes (l->net, s->w, s->h, s->planes,
                                                              l->n_regions);
    }
  *setup = content + targets + MAX (style_setup, content_setup);
  *kept = content + targets;
  return content + targets + eval;
}

/* Tiled: peak of one evaluation (besides x and the optimiser) and of the set-up. */
static guint64
tiled_bytes (const SizeInfo *s, int tile, int halo, gboolean cache, guint64 *setup,
             guint64 *kept)
{
  const Layers *l = s->layers;
  guint64 px = (guint64) s->w * s->h, spx = (guint64) s->style_w * s->style_h;
  int cw, ch, scw, sch;
  guint64 crop;
  guint64 targets = gram_bytes (l) * 2;           /* targets and (D + Dᵀ) */
  guint64 content = s->planes == 1 ? px * FLOAT : 0;
  guint64 cached = cache ? feature_bytes (l->net, l->content_index, s->w, s->h) : 0;
  guint64 band;
  guint64 chunk, target_tile, recompute, pass, style_setup, content_setup;
  g_autoptr (NsTilePlan) plan = ns_tile_plan_new (s->w, s->h, tile, halo);
  g_autoptr (NsTilePlan) style_plan = ns_tile_plan_new (s->style_w, s->style_h, tile, halo);

  /* The largest crops the tiles really have (smaller than tile + 2·halo near the edges). */
  ns_tile_plan_max_crop (plan, &cw, &ch);
  ns_tile_plan_max_crop (style_plan, &scw, &sch);
  crop = (guint64) cw * ch;
  band = (guint64) s->planes * MIN (s->h, tile + 2 * halo + 1) * s->w * FLOAT;
  chunk = 2 * ((guint64) 4 << 20) + GRAM_SCRATCH + 2 * gram_bytes (l);   /* + double sums */
  target_tile = feature_bytes (l->net, l->content_index, cw, ch);
  recompute = cache ? 0
              : target_tile + 3 * crop * FLOAT
                + ns_network_pass_peak_bytes (l->net, l->content_index, l->hooked_content,
                                              ch, cw, FALSE, 0);
  pass = 2 * 3 * crop * FLOAT
         + ns_network_pass_peak_bytes (l->net, l->last, l->hooked, ch, cw, TRUE,
                                       hook_copies (l->net));
  /* Set-up: the style's crops resampled one at a time (colours from the style), or the
   * scaled style and its planar copy (the other colour modes); the tiles of its forward
   * pass; the content targets' tiles. */
  style_setup = (s->opt->color_mode == NS_COLOR_STYLE ? (guint64) 3 * scw * sch * FLOAT
                                                      : 6 * spx * FLOAT)
                + (guint64) 3 * scw * sch * FLOAT + chunk
                + ns_network_pass_peak_bytes (l->net, l->last, l->hooked_style, sch, scw, FALSE, 0)
                + (s->opt->color_mode == NS_COLOR_HISTOGRAM ? 3 * px * FLOAT : 0);
  content_setup = cached + target_tile + 3 * crop * FLOAT
                  + ns_network_pass_peak_bytes (l->net, l->content_index, l->hooked_content,
                                                ch, cw, FALSE, 0);
  *setup = content + targets + MAX (style_setup, content_setup);
  *kept = content + targets + cached;
  return content + targets + cached + band + chunk + MAX (pass + (cache ? 0 : target_tile),
                                                          recompute);
}

/* Floats the optimiser allocates besides x, over `iterations` iterations. */
static guint64
optimizer_floats (NsOptimizer optimizer, int history, gboolean streaming, guint64 n,
                  int iterations)
{
  if (streaming)
    return 0;
  if (optimizer == NS_OPTIMIZER_ADAM)
    return ns_adam_workspace_floats (n);
  /* L-BFGS allocates its history pairs as they fill: at most one per iteration. */
  return ns_lbfgs_workspace_floats (n, MAX (1, MIN (history, iterations)));
}

/* Peak of one evaluation (whole or tiled) and of the set-up; the passes' inputs in *w × *h
 * and *style_w × *style_h: the content's and the largest style's, or their tiles' crops. */
static guint64
eval_bytes (const SizeInfo *s, const NsScalePlan *p, guint64 *setup, guint64 *kept, int *w,
            int *h, int *style_w, int *style_h)
{
  *w = s->w;
  *h = s->h;
  *style_w = s->style_w;
  *style_h = s->style_h;
  if (p->tile > 0)
    {
      int halo = ns_network_halo (s->layers->net, s->layers->last);
      g_autoptr (NsTilePlan) tiles = ns_tile_plan_new (s->w, s->h, p->tile, halo);
      g_autoptr (NsTilePlan) style_tiles = ns_tile_plan_new (s->style_w, s->style_h, p->tile,
                                                             halo);

      ns_tile_plan_max_crop (tiles, w, h);
      ns_tile_plan_max_crop (style_tiles, style_w, style_h);
      return tiled_bytes (s, p->tile, halo, p->cache_content, setup, kept);
    }
  return whole_bytes (s, setup, kept);
}

static guint64
scale_peak (const SizeInfo *s, const NsScalePlan *p)
{
  guint64 n = (guint64) s->planes * s->w * s->h;
  guint64 setup, eval, kept, opt, result, preview;
  int h, w, style_h, style_w;
  guint64 wino, transforms;

  eval = eval_bytes (s, p, &setup, &kept, &w, &h, &style_w, &style_h);
  wino = wino_bytes (s->layers->net, s->layers->last, h, w);
  /* The workspace stays from the largest convolution so far. */
  wino = MAX (wino, s->wino);
  /* The objective's transformed weights, made in its set-up and kept to its end. */
  transforms = p->keep_transforms
               ? ns_conv_cache_plan_bytes (s->layers->net, s->layers->last, h, w, style_h,
                                           style_w)
               : 0;
  opt = optimizer_floats (p->optimizer, p->lbfgs_history, p->streaming, n, p->iterations) * FLOAT;
  /* The result: made in place from x when tiled in colour (ns_planes_interleave), else a
   * clamped copy and the image. */
  result = ! s->last ? 0
           : p->tile > 0 && s->planes == 3 ? 0
           : s->planes == 1 ? (guint64) 4 * s->w * s->h * FLOAT : 2 * n * FLOAT;
  preview = s->opt->preview_every > 0 ? (guint64) 6 * s->w * s->h * FLOAT : 0;

  /* Set-up holds the previous size's x; then x is enlarged from it (ns_planes_resize needs
   * no more than the two); then the optimiser runs. */
  return s->fixed + wino + transforms
         + MAX (MAX (s->x_prev + setup, s->x_prev + n * FLOAT + kept),
                n * FLOAT + MAX (opt + eval + p->buffer_slack / 2 + preview, result));
}

/* Whether p fits the budget, with the transformed weights kept if it fits with them (see
 * the top of the file); p->peak_bytes is set either way. */
static gboolean
fits (const SizeInfo *s, NsScalePlan *p, guint64 budget)
{
  p->keep_transforms = TRUE;
  if ((p->peak_bytes = scale_peak (s, p)) <= budget)
    return TRUE;
  p->keep_transforms = FALSE;
  return (p->peak_bytes = scale_peak (s, p)) <= budget;
}

/* The largest tile (a multiple of NS_TILE_GRID, and of the alignment) from `most` down
 * to `least` with which the plan fits, or 0. */
static int
fit_tile (const SizeInfo *s, NsScalePlan *p, guint64 budget, int least)
{
  int grid = MAX (NS_TILE_GRID, ns_network_alignment (s->layers->net, s->layers->last));
  /* A tile as large as the image would be the whole image again, by a longer way. */
  int most = MAX ((MAX (s->w, s->h) - 1) / grid * grid, grid);

  for (int tile = most; tile >= least; tile -= grid)
    {
      p->tile = tile;
      p->cache_content = TRUE;
      if (fits (s, p, budget))
        return tile;
      p->cache_content = FALSE;
      if (fits (s, p, budget))
        return tile;
    }
  p->tile = 0;
  return 0;
}

/* The first arrangement, in the order of the file's comment, that fits. */
static gboolean
arrange_size (const SizeInfo *s, const NsOptions *opt, guint64 budget, NsScalePlan *p)
{
  gboolean tileable = ns_network_halo (s->layers->net, s->layers->last) >= 0;
  int history = opt->lbfgs_history;
  NsOptimizer asked = opt->optimizer;

  guint64 least;
  gboolean adam_whole_tried = FALSE;

  p->optimizer = asked;
  p->lbfgs_history = history;
  p->tile = 0;
  p->streaming = FALSE;
  p->cache_content = FALSE;
  if (fits (s, p, budget))
    return TRUE;
  /* What the leanest whole-image arrangement needs, for the message if nothing fits
   * (p->keep_transforms is FALSE now). */
  p->optimizer = NS_OPTIMIZER_LBFGS;
  p->lbfgs_history = 1;
  least = scale_peak (s, p);
  p->optimizer = asked;
  if (asked == NS_OPTIMIZER_LBFGS)
    for (p->lbfgs_history = history - 1; p->lbfgs_history >= MIN (history, 10); p->lbfgs_history--)
      if (fits (s, p, budget))
        return TRUE;
  if (! tileable)
    {
      p->peak_bytes = least;
      return FALSE;
    }

  for (int min_tile = 4 * NS_TILE_GRID; min_tile >= NS_TILE_GRID; min_tile -= 3 * NS_TILE_GRID)
    {
      p->optimizer = asked;
      p->lbfgs_history = history;
      if (fit_tile (s, p, budget, min_tile))
        return TRUE;
      if (asked == NS_OPTIMIZER_LBFGS)
        {
          for (p->lbfgs_history = MIN (history, 10); p->lbfgs_history >= MIN (history, 5);
               p->lbfgs_history--)
            if (fit_tile (s, p, budget, min_tile))
              return TRUE;
          p->optimizer = NS_OPTIMIZER_ADAM;
          if (! adam_whole_tried)
            {
              /* Adam on the whole image before Adam in tiles. */
              adam_whole_tried = TRUE;
              p->tile = 0;
              if (fits (s, p, budget))
                return TRUE;
            }
          if (fit_tile (s, p, budget, min_tile))
            return TRUE;
        }
      p->streaming = TRUE;
      if (fit_tile (s, p, budget, min_tile))
        return TRUE;
      p->streaming = FALSE;
    }
  /* Report the smallest arrangement's need. */
  if (tileable)
    {
      p->streaming = TRUE;
      p->tile = NS_TILE_GRID;
      p->cache_content = FALSE;
      p->keep_transforms = FALSE;
      least = MIN (least, scale_peak (s, p));
    }
  p->peak_bytes = least;
  return FALSE;
}

/* The arrangement that fits the budget, then the buffer cache's slack (tensor.c): what the
 * budget leaves, up to one evaluation's worth.  Without it the built-in network's
 * evaluations fetched a quarter of their buffers fresh every time (30–40% of the CPU time
 * in the kernel at 256 and 512 px); with less than one evaluation's worth some still were
 * at 256 px.  The cache holds about half of it at most (scale_peak counts that half), and
 * never more than all of it, which the budget has room for.  The arrangement is never made
 * leaner for it. */
static gboolean
plan_size (const SizeInfo *s, const NsOptions *opt, guint64 budget, NsScalePlan *p)
{
  guint64 setup, kept, eval;
  int w, h, style_w, style_h;

  p->buffer_slack = 0;
  if (! arrange_size (s, opt, budget, p))
    return FALSE;
  eval = eval_bytes (s, p, &setup, &kept, &w, &h, &style_w, &style_h);
  p->buffer_slack = MIN (eval, budget - MIN (budget, p->peak_bytes));
  p->peak_bytes = scale_peak (s, p);
  return TRUE;
}

/* ---- the run -------------------------------------------------------------------------------- */

guint64
ns_memory_available (void)
{
  g_autofree char *meminfo = NULL;
  const char *line;

  if (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL)
      && (line = strstr (meminfo, "MemAvailable:")) != NULL)
    return (guint64) g_ascii_strtoull (line + strlen ("MemAvailable:"), NULL, 10) * 1024;
  return (guint64) 4 << 30;
}

guint64
ns_memory_default_budget (void)
{
  return (guint64) (ns_memory_available () * AUTO_FRACTION);
}

static void
style_size (const NsImage *style, int longest, int *w, int *h)
{
  double s = (double) longest / MAX (style->width, style->height);

  /* ns_image_resize_longest's rounding. */
  *w = MAX (1, (int) lround (style->width * s));
  *h = MAX (1, (int) lround (style->height * s));
}

/* One stage of a run: the coarse-to-fine sizes of `opt` on a w×h image with `channels`,
 * appended to plan->scales.  `extra` is what the stage holds besides the caller's styles
 * and its own content (the caller's full-size content while a smaller one is optimised);
 * `regions` the caller's (NULL: none). */
static gboolean
plan_stage (NsRunPlan *plan, const NsNetwork *net, const NsOptions *opt, int width, int height,
            int channels, guint64 extra, const NsRegions *regions, const NsImage * const *styles,
            int n_styles, gboolean refine, GError **error)
{
  Layers layers;
  NsScale *sizes;
  guint64 fixed, x_prev = 0, wino = 0;
  int min_side, n, first = plan->n_scales;
  double share, coverage = ns_regions_coverage (regions);

  if (! layers_init (&layers, net, opt, error))
    {
      layers_clear (&layers);
      return FALSE;
    }
  layers.n_regions = ns_regions_count (regions);
  min_side = 1 << ns_network_layer_stride_log2 (net, layers.last);
  /* With regions each guided term works on the pixels its mask covers: together coverage
   * times a plain style term. */
  share = ns_objective_cost_share (net, layers.last, layers.content_index, layers.style_index,
                                  layers.n_style)
          + (coverage - 1.0) * ns_style_cost_share (net, layers.style_index, layers.n_style);
  sizes = ns_scales_plan (opt, width, height, min_side, &n);
  plan->n_scales += n;
  plan->scales = g_renew (NsScalePlan, plan->scales, plan->n_scales);
  memset (plan->scales + first, 0, n * sizeof (NsScalePlan));

  fixed = BASELINE_BYTES + ns_network_weight_bytes (net) + extra
          + (guint64) width * height * channels * FLOAT;
  for (int i = 0; i < n_styles; i++)
    fixed += (guint64) styles[i]->width * styles[i]->height * styles[i]->channels * FLOAT;

  for (int k = 0; k < n; k++)
    {
      NsScalePlan *p = &plan->scales[first + k];
      SizeInfo s = { &layers, opt, sizes[k].width, sizes[k].height,
                     opt->color_mode == NS_COLOR_LUMINANCE ? 1 : 3 };
      double style_pixels = 0.0;

      for (int i = 0; i < n_styles; i++)
        {
          int sw, sh;

          style_size (styles[i], ns_style_longest (styles[i], s.w, s.h, opt->style_scale),
                      &sw, &sh);
          style_pixels += (double) sw * sh;
          if ((guint64) sw * sh > (guint64) s.style_w * s.style_h)
            {
              s.style_w = sw;
              s.style_h = sh;
            }
        }
      s.n_styles = n_styles;
      s.last = k == n - 1;
      /* Smaller sizes also hold their own copy of the content. */
      s.fixed = fixed + (s.last ? 0 : (guint64) s.w * s.h * channels * FLOAT);
      s.x_prev = x_prev;
      s.wino = wino;
      p->width = s.w;
      p->height = s.h;
      p->iterations = sizes[k].iterations;
      p->refine = refine;
      if (! plan_size (&s, opt, (guint64) (plan->budget * (1.0 - RESERVE)), p))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_MEMORY,
                       "Stylizing at %d×%d needs about %" G_GUINT64_FORMAT " MiB at the "
                       "least (in small tiles, with the leanest optimiser), more than the "
                       "%" G_GUINT64_FORMAT " MiB budget; allow more memory or choose a "
                       "smaller size", s.w, s.h,
                       /* With the reserve, so that the need exceeds the budget it names. */
                       ((guint64) ceil (p->peak_bytes / (1.0 - RESERVE)) + (1 << 20) - 1) >> 20,
                       plan->budget >> 20);
          g_free (sizes);
          layers_clear (&layers);
          return FALSE;
        }
      plan->peak_bytes = MAX (plan->peak_bytes, p->peak_bytes);
      ns_scale_plan_set_work (p, ns_network_halo (net, layers.last), style_pixels,
                              p->tile == 0 && ns_objective_shallow_applies (net, layers.last)
                              ? ns_shallow_cost_share (net, coverage) : share,
                              ns_network_cost_share (net, layers.last));
      plan->work += ns_scale_plan_work (p);
      x_prev = (guint64) s.planes * s.w * s.h * FLOAT;
      {
        /* The Winograd workspace this size leaves behind. */
        int halo = ns_network_halo (net, layers.last), cw = s.w, ch = s.h;

        if (p->tile > 0)
          {
            g_autoptr (NsTilePlan) tiles = ns_tile_plan_new (s.w, s.h, p->tile, halo);

            ns_tile_plan_max_crop (tiles, &cw, &ch);
          }
        wino = MAX (wino, wino_bytes (net, layers.last, ch, cw));
      }
    }
  g_free (sizes);
  layers_clear (&layers);
  return TRUE;
}

gboolean
ns_run_optimizes_smaller (const NsOptions *opt, int width, int height, int *w, int *h)
{
  double s;

  if (opt->optimize_size <= 0 || opt->optimize_size >= MAX (width, height))
    return FALSE;
  /* ns_image_resize_longest's size. */
  s = (double) opt->optimize_size / MAX (width, height);
  *w = width >= height ? opt->optimize_size : (int) MAX (1.0, floor (width * s + 0.5));
  *h = width >= height ? (int) MAX (1.0, floor (height * s + 0.5)) : opt->optimize_size;
  return TRUE;
}

/* What the sizes themselves do not see (the enlargement, the speed measurement) within the
 * budget too. */
static gboolean
check_budget (const NsRunPlan *plan, const NsImage *content, GError **error)
{
  if (plan->peak_bytes <= plan->budget * (1.0 - RESERVE))
    return TRUE;
  g_set_error (error, NS_ERROR, NS_ERROR_MEMORY,
               "Stylizing %d×%d needs about %" G_GUINT64_FORMAT " MiB, more than the "
               "%" G_GUINT64_FORMAT " MiB budget; allow more memory or choose a smaller size",
               content->width, content->height,
               ((guint64) ceil (plan->peak_bytes / (1.0 - RESERVE)) + (1 << 20) - 1) >> 20,
               plan->budget >> 20);
  return FALSE;
}

NsRunPlan *
ns_run_plan_new (const NsNetwork *net, const NsOptions *opt, const NsImage *content,
                 const NsImage * const *styles, int n_styles, const NsRegions *regions,
                 GError **error)
{
  g_autoptr (NsRunPlan) plan = g_new0 (NsRunPlan, 1);
  /* Regions: their masks, held beside every size's evaluation (at most the content's size). */
  guint64 masks = ns_regions_bytes (regions, content->width, content->height);
  guint64 full = (guint64) content->width * content->height * content->channels * FLOAT + masks;
  int w, h;

  plan->budget = opt->max_memory > 0 ? opt->max_memory : ns_memory_default_budget ();
  plan->automatic = opt->max_memory == 0;
  plan->optimizer = opt->optimizer;
  plan->lbfgs_history = opt->lbfgs_history;
  plan->seconds = -1.0;
  plan->width = content->width;
  plan->height = content->height;
  /* The machine's speed is measured before the run (cost.c), at its own peak. */
  plan->peak_bytes = BASELINE_BYTES + ns_network_weight_bytes (net)
                     + (guint64) content->width * content->height * content->channels * FLOAT
                     + ns_network_calibration_bytes (net);
  if (! ns_run_optimizes_smaller (opt, content->width, content->height, &w, &h))
    {
      if (! plan_stage (plan, net, opt, content->width, content->height, content->channels,
                        masks, regions, styles, n_styles, FALSE, error))
        return NULL;
      plan->n_optimized = plan->n_scales;
      return check_budget (plan, content, error) ? g_steal_pointer (&plan) : NULL;
    }

  /* Optimised small with the full-size content held, then enlarged into a full-size RGB
   * image (the guide's copy), then perhaps refined with that image as the content. */
  plan->upscale = opt->upscale;
  if (! plan_stage (plan, net, opt, w, h, content->channels, full, regions, styles, n_styles,
                    FALSE, error))
    return NULL;
  plan->n_optimized = plan->n_scales;
  plan->enlarge_bytes = BASELINE_BYTES + ns_network_weight_bytes (net) + full
                        + (guint64) 3 * content->width * content->height * FLOAT
                        + (guint64) 4 * w * h * 3 * FLOAT;
  plan->peak_bytes = MAX (plan->peak_bytes, plan->enlarge_bytes);
  if (opt->upscale == NS_UPSCALE_REFINE)
    {
      g_autoptr (NsOptions) ropt = ns_refine_options (net, opt, error);

      if (ropt == NULL
          || ! plan_stage (plan, net, ropt, content->width, content->height, 3, full, regions,
                           styles, n_styles, TRUE, error))
        return NULL;
    }
  return check_budget (plan, content, error) ? g_steal_pointer (&plan) : NULL;
}

void
ns_run_plan_free (NsRunPlan *plan)
{
  if (plan == NULL)
    return;
  g_free (plan->scales);
  g_free (plan);
}

static void
describe_arrangement (GString *s, const NsScalePlan *p)
{
  if (p->tile > 0)
    g_string_append_printf (s, "in tiles of %d px%s, ", p->tile,
                            p->cache_content ? "" : " (content features recomputed)");
  else
    g_string_append (s, "the whole image at once, ");
  if (p->streaming)
    g_string_append (s, "updating the image row by row (normalised gradient steps; "
                        "no room for an optimiser's vectors)");
  else if (p->optimizer == NS_OPTIMIZER_ADAM)
    g_string_append (s, "Adam");
  else
    g_string_append_printf (s, "L-BFGS with a history of %d", p->lbfgs_history);
}

char *
ns_run_plan_describe (const NsRunPlan *plan)
{
  GString *s = g_string_new (NULL);
  int n = plan->n_optimized;
  const NsScalePlan *top = &plan->scales[n - 1];
  int iterations = 0;

  if (n > 1)
    {
      g_string_append_printf (s, "%d sizes (", n);
      for (int k = 0; k < n; k++)
        g_string_append_printf (s, "%s%d×%d", k ? ", " : "", plan->scales[k].width,
                                plan->scales[k].height);
      g_string_append (s, ")");
    }
  else
    g_string_append_printf (s, "%d×%d", top->width, top->height);
  /* Per size, as the progress counts them: "500 + 250 iterations". */
  for (int k = 0; k < n; k++)
    {
      iterations += plan->scales[k].iterations;
      g_string_append_printf (s, "%s%d", k ? " + " : ", ", plan->scales[k].iterations);
    }
  g_string_append_printf (s, " iteration%s", iterations == 1 ? "" : "s");
  for (int k = 0; k < n; k++)
    {
      const NsScalePlan *p = &plan->scales[k];

      /* Only the sizes that do not run as asked (the whole image, the optimiser asked for),
       * and the last one. */
      if (k < n - 1 && p->tile == 0 && p->optimizer == plan->optimizer
          && (p->optimizer != NS_OPTIMIZER_LBFGS || p->lbfgs_history == plan->lbfgs_history))
        continue;
      g_string_append_printf (s, "; at %d×%d ", p->width, p->height);
      describe_arrangement (s, p);
    }
  if (n < plan->n_scales || top->width != plan->width || top->height != plan->height)
    g_string_append_printf (s, "; then enlarged to %d×%d (%s)", plan->width, plan->height,
                            plan->upscale == NS_UPSCALE_BILINEAR ? "bilinear" : "guided by the "
                            "full-size image");
  for (int k = n; k < plan->n_scales; k++)
    {
      const NsScalePlan *p = &plan->scales[k];

      g_string_append_printf (s, " and refined there with the shallow style layers, %d "
                              "iteration%s ", p->iterations, p->iterations == 1 ? "" : "s");
      describe_arrangement (s, p);
    }
  g_string_append_printf (s, "; estimated peak memory %" G_GUINT64_FORMAT " MiB of a%s "
                          "%" G_GUINT64_FORMAT " MiB budget", plan->peak_bytes >> 20,
                          plan->automatic ? "n automatic" : "", plan->budget >> 20);
  if (plan->seconds >= 0.0)
    {
      long t = lround (plan->seconds);

      if (t >= 3600)
        g_string_append_printf (s, "; expected time about %ld h %02ld min", t / 3600, t / 60 % 60);
      else if (t >= 60)
        g_string_append_printf (s, "; expected time about %ld min %02ld s", t / 60, t % 60);
      else
        g_string_append_printf (s, "; expected time about %ld s", MAX (t, 1));
    }
  return g_string_free (s, FALSE);
}
