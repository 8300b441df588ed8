/* objective-tiled.c — the objective of a large image, evaluated in tiles (see tiling.c for
 * why a crop with a halo gives the exact features of its core).
 *
 * Every loss stays global: pass 1 runs every tile forward and adds up F·Fᵀ over the cores
 * into one Gram matrix per style layer (never per-tile targets); pass 2 runs each tile
 * again, puts the style gradient from the global Gram and the content gradient on its core,
 * and back-propagates to the crop, whose input gradient is added into the image's gradient.
 * The gradient is handed out in bands of rows as soon as no later tile can add to them, so a
 * caller may even update x there and then. */
#include <math.h>
#include <string.h>
#include "objective-internal.h"

/* ---- crops ---------------------------------------------------------------------------------- */

/* The network input for crop r of src: (v − mean) / std per channel, the arithmetic of
 * ns_color_to_network. */
static NsTensor *
crop_input (const NsNetwork *net, const NsCropSource *src, const NsRect *r)
{
  int cw = r->x1 - r->x0, ch = r->y1 - r->y0;
  NsTensor *t = ns_tensor_new_uninit (3, ch, cw);

  if (src->resampled != NULL)
    {
      /* Resample just this crop, then read it as an image of the crop's size. */
      NsImage *img = ns_image_new (cw, ch, src->image->channels);
      NsRect whole = { 0, 0, cw, ch };
      NsCropSource local = { NULL, 0, img, cw, ch, NULL };

      ns_resampler_rect (src->resampled, r, img->data);
      ns_tensor_free (t);
      t = crop_input (net, &local, &whole);
      ns_image_free (img);
      return t;
    }

  for (int c = 0; c < 3; c++)
    {
      float mean = net->mean[c], inv = 1.0f / net->std[c];

      for (int y = 0; y < ch; y++)
        {
          float *d = t->data + ((gsize) c * ch + y) * cw;

          if (src->planes != NULL)
            {
              int plane = src->n_planes == 3 ? c : 0;
              const float *p = src->planes + ((gsize) plane * src->h + r->y0 + y) * src->w + r->x0;

              for (int x = 0; x < cw; x++)
                d[x] = (p[x] - mean) * inv;
            }
          else
            {
              int nc = src->image->channels;
              const float *p = src->image->data
                               + ((gsize) (r->y0 + y) * src->w + r->x0) * nc + (nc == 3 ? c : 0);

              for (int x = 0; x < cw; x++)
                d[x] = (p[(gsize) x * nc] - mean) * inv;
            }
        }
    }
  return t;
}

/* Rows per chunk when a core is copied out of a feature map: about 4 MiB at a time. */
static int
chunk_rows (int c, int cw)
{
  return MAX (1, (int) ((1u << 20) / ((gsize) MAX (c, 1) * MAX (cw, 1))));
}

/* Rows [r0, r1) of rect in every channel of t → dst (c × (r1 − r0)·width), or back (add). */
static void
rect_rows_copy (const NsTensor *t, const NsRect *rect, int r0, int r1, float *dst)
{
  int cw = rect->x1 - rect->x0;
  gsize k = (gsize) (r1 - r0) * cw;

  for (int c = 0; c < t->c; c++)
    for (int y = r0; y < r1; y++)
      memcpy (dst + c * k + (gsize) (y - r0) * cw,
              t->data + ((gsize) c * t->h + rect->y0 + y) * t->w + rect->x0, cw * sizeof (float));
}

static void
rect_rows_add (NsTensor *t, const NsRect *rect, int r0, int r1, const float *src)
{
  int cw = rect->x1 - rect->x0;
  gsize k = (gsize) (r1 - r0) * cw;

  for (int c = 0; c < t->c; c++)
    for (int y = r0; y < r1; y++)
      {
        float *d = t->data + ((gsize) c * t->h + rect->y0 + y) * t->w + rect->x0;
        const float *s = src + c * k + (gsize) (y - r0) * cw;

        for (int x = 0; x < cw; x++)
          d[x] += s[x];
      }
}

/* ---- what happens at the hooked layers of one tile ------------------------------------------ */

typedef enum
{
  TILE_CONTENT_TARGET,     /* copy the content layer's core (the target) */
  TILE_GRAM,               /* add F·Fᵀ over the core to the style Grams (and the content value) */
  TILE_GRAD                /* losses and gradients on the core */
} TileJob;

/* The first five fields are set for every tile (the rest start as zeros). */
typedef struct
{
  NsObjective     *obj;
  TileJob          job;
  const NsTile    *tile;
  int              image_w, image_h;   /* of the image being tiled */
  double         **gram;               /* TILE_GRAM: per style term, c×c (upper triangle) */
  const NsTensor  *target;             /* TILE_GRAM (content value) and TILE_GRAD */
  NsTensor        *target_out;         /* TILE_CONTENT_TARGET: the core copy */
  double          *ms;                 /* TILE_CONTENT_TARGET: per channel Σ f² (may be NULL) */
  double           lc;                 /* the content loss of this core */
  float           *buf, *buf2;         /* chunk buffers */
  const NsLayerMasks * const *masks;   /* per style term, its guide, or NULL */
} TileCtx;

/* N = c · H · W of the whole image's feature map at `layer`. */
static double
layer_size (const TileCtx *ctx, int layer, int c)
{
  int s = ns_objective_layer_stride (ctx->obj, layer);

  return (double) c * (ctx->image_h / s) * (ctx->image_w / s);
}

/* Content loss weight·Σ (s⊙F − P)² / N over the core, and its gradient into grad there:
 * ns_content_sum row by row, scaled rows going through the chunk buffers. */
static double
core_content (const TileCtx *ctx, const NsTensor *act, const NsRect *core, NsTensor *grad)
{
  const NsObjective *obj = ctx->obj;
  const NsTensor *p = ctx->target;
  const float *gain = obj->content_scale;
  int cw = core->x1 - core->x0, ch = core->y1 - core->y0;
  double n = layer_size (ctx, obj->content_index, act->c), sum = 0.0;
  float k = (float) (2.0 * obj->content_weight / n);

  g_return_val_if_fail (p->c == act->c && p->h == ch && p->w == cw, NAN);
  for (int c = 0; c < act->c; c++)
    for (int y = 0; y < ch; y++)
      {
        gsize row = ((gsize) c * act->h + core->y0 + y) * act->w + core->x0;
        const float *f = act->data + row, *t = p->data + ((gsize) c * ch + y) * cw;
        float *g = grad != NULL ? grad->data + row : NULL;

        if (gain == NULL)
          {
            sum += ns_content_sum (f, t, cw, k, g);
            continue;
          }
        for (int x = 0; x < cw; x++)
          ctx->buf[x] = f[x] * gain[c];
        if (g != NULL)
          memset (ctx->buf2, 0, cw * sizeof (float));
        sum += ns_content_sum (ctx->buf, t, cw, k, g != NULL ? ctx->buf2 : NULL);
        /* The chain rule through the gains. */
        for (int x = 0; g != NULL && x < cw; x++)
          g[x] += ctx->buf2[x] * gain[c];
      }
  return obj->content_weight * sum / n;
}

/* Rows [r0, r1) of the core for guided term k, on the pixels its mask covers alone (as
 * loss-style-guided.c does for the whole image): the Gram of F∘T, or the gradient
 * α D (F∘T²). */
static void
guided_rows (TileCtx *ctx, int k, int layer, const NsTensor *act, NsTensor *grad,
             const NsRect *core, const NsRect *global, int r0, int r1)
{
  const NsObjective *obj = ctx->obj;
  const NsLayerMasks *m = ctx->masks[k];
  gsize plane = (gsize) act->h * act->w;
  gsize first = (gsize) (core->y0 + r0) * act->w + core->x0;
  NsMaskedPixels px;
  int c = act->c;

  ns_masked_pixels_init (&px, m->at[layer] + (gsize) (global->y0 + r0) * m->w[layer]
                                + global->x0,
                         m->w[layer], core->x1 - core->x0, r1 - r0, act->w);
  if (px.n > 0 && ctx->job == TILE_GRAM)
    {
      ns_masked_gather (&px, act->data + first, plane, c, 1, NULL, ctx->buf);
      ns_gram_add (ctx->buf, c, px.n, px.n, 1.0 / layer_size (ctx, layer, c), ctx->gram[k]);
    }
  else if (px.n > 0)
    {
      ns_masked_gather (&px, act->data + first, plane, c, 2, NULL, ctx->buf);
      ns_sgemm (FALSE, c, (int) px.n, c, (float) obj->style_alpha[k], obj->style_d[k], c,
                ctx->buf, (int) px.n, 0.0f, ctx->buf2, (int) px.n);
      ns_masked_scatter_add (&px, ctx->buf2, c, 0, NULL, grad->data + first, plane);
    }
  ns_masked_pixels_clear (&px);
}

static void
tile_hook (int layer, const NsTensor *act, NsTensor *grad, gpointer data)
{
  TileCtx *ctx = data;
  NsObjective *obj = ctx->obj;
  NsRect core, global;
  int cw, ch, rows;

  ns_tile_core_at_layer (ctx->tile, ctx->image_w, ctx->image_h, ns_objective_layer_stride (obj, layer), act,
                         &core, &global);
  cw = core.x1 - core.x0;
  ch = core.y1 - core.y0;
  rows = chunk_rows (act->c, cw);

  if (layer == obj->content_index)
    {
      if (ctx->job == TILE_CONTENT_TARGET)
        {
          NsTensor *t = ns_tensor_new (act->c, ch, cw);

          for (int c = 0; c < act->c; c++)
            for (int y = 0; y < ch; y++)
              {
                const float *f = act->data + ((gsize) c * act->h + core.y0 + y) * act->w + core.x0;
                float *d = t->data + ((gsize) c * ch + y) * cw;

                memcpy (d, f, cw * sizeof (float));
                if (ctx->ms)
                  for (int x = 0; x < cw; x++)
                    ctx->ms[c] += (double) d[x] * d[x];
                if (obj->content_scale)
                  for (int x = 0; x < cw; x++)
                    d[x] *= obj->content_scale[c];
              }
          ctx->target_out = t;
        }
      else if (ctx->target != NULL)
        ctx->lc = core_content (ctx, act, &core, grad);
    }
  /* A core can be empty at a deep layer: the last pixels of an image whose size is not a
   * multiple of the pooling stride have no features there. */
  if (ctx->job == TILE_CONTENT_TARGET || cw <= 0 || ch <= 0)
    return;

  for (int k = 0; k < obj->n_style; k++)
    {
      const NsStyleTerm *term = &obj->style[k];
      const NsLayerMasks *mask = ctx->masks ? ctx->masks[k] : NULL;

      if (term->index != layer || (mask && mask->empty[layer]))
        continue;
      if (ctx->job == TILE_GRAD && grad == NULL)
        continue;
      for (int r0 = 0; r0 < ch; r0 += rows)
        {
          int r1 = MIN (ch, r0 + rows);
          int n = (r1 - r0) * cw;

          if (mask)
            guided_rows (ctx, k, layer, act, grad, &core, &global, r0, r1);
          else if (ctx->job == TILE_GRAM)
            {
              rect_rows_copy (act, &core, r0, r1, ctx->buf);
              ns_gram_add (ctx->buf, act->c, n, n, 1.0 / layer_size (ctx, layer, act->c),
                           ctx->gram[k]);
            }
          else
            {
              rect_rows_copy (act, &core, r0, r1, ctx->buf);
              ns_sgemm (FALSE, act->c, n, act->c, (float) obj->style_alpha[k], obj->style_d[k],
                        act->c, ctx->buf, n, 0.0f, ctx->buf2, n);
              rect_rows_add (grad, &core, r0, r1, ctx->buf2);
            }
        }
    }
}

/* Scratch for tile_hook: the largest chunk any hooked layer of a crop needs. */
static gsize
chunk_floats (const NsObjective *obj, int crop_w)
{
  gsize most = 1;

  for (int i = 0; i <= obj->last; i++)
    if (obj->hooked[i])
      {
        int c = ns_network_layer_channels (obj->net, i), w = crop_w / ns_objective_layer_stride (obj, i);

        /* A chunk is at most 2^20 floats, or one row of a core (at most w wide). */
        most = MAX (most, MAX ((gsize) 1 << 20, (gsize) c * MAX (w, 1)));
      }
  return most;
}

/* ---- the passes ----------------------------------------------------------------------------- */

NsTensor *
ns_objective_tile_target (NsObjective *obj, const NsCropSource *content, const NsTile *tile,
                          double *ms)
{
  g_autofree gboolean *hooked = ns_objective_hooked (obj, TRUE, FALSE);
  g_autoptr (NsTensor) in = crop_input (obj->net, content, &tile->crop);
  TileCtx ctx = { obj, TILE_CONTENT_TARGET, tile, content->w, content->h };

  ctx.ms = ms;
  ns_network_pass (obj->net, obj->convs, in, obj->content_index, hooked, tile_hook, &ctx, NULL);
  return ctx.target_out;
}

NsCropSource
ns_objective_content_source (const NsObjective *obj)
{
  NsCropSource src = { NULL, 0, obj->content_image, obj->w, obj->h };

  if (obj->luminance)
    {
      src.planes = obj->content_y->data;
      src.n_planes = 1;
    }
  return src;
}

double
ns_objective_tiled_grams (NsObjective *obj, const NsCropSource *src, const NsTilePlan *plan,
                          gboolean content_value, const NsLayerMasks * const *term_masks,
                          float **gram_out)
{
  g_autofree gboolean *hooked = ns_objective_hooked (obj, content_value, TRUE);
  double **acc = g_new0 (double *, MAX (obj->n_style, 1));
  int crop_w, last = 0;
  float *buf;
  double lc = 0.0;
  NsCropSource content = ns_objective_content_source (obj);

  for (int k = 0; k < obj->n_style; k++)
    {
      gsize cc = (gsize) obj->style[k].c * obj->style[k].c;

      acc[k] = g_new0 (double, cc);
      last = MAX (last, obj->style[k].index);
    }
  if (content_value)
    last = MAX (last, obj->content_index);
  ns_tile_plan_max_crop (plan, &crop_w, NULL);
  buf = ns_floats_new (chunk_floats (obj, crop_w));

  for (int t = 0; t < plan->n && ! ns_objective_cancelled (obj); t++)
    {
      const NsTile *tile = &plan->tiles[t];
      g_autoptr (NsTensor) in = crop_input (obj->net, src, &tile->crop);
      g_autoptr (NsTensor) target = NULL;
      TileCtx ctx = { obj, TILE_GRAM, tile, src->w, src->h };

      if (content_value && obj->tile_targets != NULL)
        ctx.target = obj->tile_targets[t];
      else if (content_value)
        ctx.target = target = ns_objective_tile_target (obj, &content, tile, NULL);
      ctx.gram = acc;
      ctx.buf = buf;
      ctx.masks = term_masks;
      ns_network_pass (obj->net, obj->convs, in, last, hooked, tile_hook, &ctx, NULL);
      lc += ctx.lc;
    }

  for (int k = 0; k < obj->n_style; k++)
    {
      ns_gram_store (acc[k], obj->style[k].c, gram_out[k]);
      g_free (acc[k]);
    }
  g_free (acc);
  ns_floats_free (buf);
  return lc;
}

/* Style loss from the global Grams, and the matrices pass 2 needs: the gradient of term k
 * at the features F is style_alpha[k] · style_d[k] · F (ns_style_loss's formula, with the
 * channel gains folded in). */
static double
style_from_grams (NsObjective *obj, float **grams, const NsLayerMasks * const *masks)
{
  double total = 0.0;

  for (int k = 0; k < obj->n_style; k++)
    {
      const NsStyleTerm *term = &obj->style[k];
      int c = term->c;
      float *d = obj->style_d[k];

      if (masks[k] && masks[k]->empty[term->index])
        {
          /* A region too small to reach this layer: no loss, no gradient. */
          memset (d, 0, (gsize) c * c * sizeof (float));
          continue;
        }

      for (gsize i = 0; i < (gsize) c * c; i++)
        d[i] = term->scale ? grams[k][i] * term->scale[i / c] * term->scale[i % c] : grams[k][i];
      total += ns_style_gram_loss (d, term->gram, c, term->weight, TRUE);
      if (term->scale)
        ns_gram_scale (d, c, term->scale);
    }
  return total;
}

/* The TV pairs whose upper or left pixel lies in rows [y0, y1): returns Σ d² (unweighted)
 * and, when band is set, adds those rows' gradient (from all their pairs, the rows above and
 * below included) to it: ns_tv_loss's arithmetic. */
static double
tv_rows (const float *x, int planes, int w, int h, int y0, int y1, float scale,
         float *band, int band_y0, gsize band_plane)
{
  double sum = 0.0;

  for (int c = 0; c < planes; c++)
    for (int y = y0; y < y1; y++)
      {
        const float *row = x + ((gsize) c * h + y) * w;

        sum = ns_tv_row (row, y > 0 ? row - w : NULL, y + 1 < h ? row + w : NULL, w, scale,
                         band ? band + c * band_plane + (gsize) (y - band_y0) * w : NULL, sum);
      }
  return sum;
}

/* The gradient of one crop's network input, pulled back to x's planes (÷ std, and summed
 * over R, G, B in luminance mode), added into the band. */
static void
add_crop_gradient (const NsObjective *obj, const NsTensor *g_net, const NsRect *crop,
                   float *band, int band_y0, gsize band_plane)
{
  int cw = crop->x1 - crop->x0, ch = crop->y1 - crop->y0, w = obj->w;
  gsize n = (gsize) cw * ch;
  float inv[3];

  for (int c = 0; c < 3; c++)
    inv[c] = 1.0f / obj->net->std[c];
  for (int y = 0; y < ch; y++)
    for (int x = 0; x < cw; x++)
      {
        gsize i = (gsize) y * cw + x;
        gsize o = (gsize) (crop->y0 + y - band_y0) * w + crop->x0 + x;

        if (obj->luminance)
          band[o] += g_net->data[i] * inv[0] + g_net->data[n + i] * inv[1]
                     + g_net->data[2 * n + i] * inv[2];
        else
          for (int c = 0; c < 3; c++)
            band[c * band_plane + o] += g_net->data[c * n + i] * inv[c];
      }
}

double
ns_objective_eval_tiled (NsObjective *obj, const float *x, NsRowsFunc rows_func,
                         gpointer rows_data, double parts[3])
{
  const NsTilePlan *plan = obj->plan;
  int planes = obj->luminance ? 1 : 3;
  NsCropSource src = { x, planes, NULL, obj->w, obj->h };
  NsCropSource content = ns_objective_content_source (obj);
  float **grams = g_new0 (float *, MAX (obj->n_style, 1));
  double lc = 0.0, ls, tv = 0.0, tv_n = (double) planes * obj->w * obj->h, temporal = 0.0;
  float tv_scale = (float) (2.0 * obj->opt->tv_weight / tv_n);
  g_autofree gboolean *hooked = ns_objective_hooked (obj, TRUE, TRUE);
  g_autofree const NsLayerMasks **masks = ns_objective_term_masks (obj);
  int band_cap, band_y0 = 0, crop_w;
  gsize band_plane;
  float *band, *buf, *buf2;

  for (int k = 0; k < obj->n_style; k++)
    grams[k] = ns_floats_new ((gsize) obj->style[k].c * obj->style[k].c);
  /* Pass 1: the global Grams (and, without a gradient, the content loss). */
  lc = ns_objective_tiled_grams (obj, &src, plan, rows_func == NULL, masks, grams);
  ls = style_from_grams (obj, grams, masks);
  for (int k = 0; k < obj->n_style; k++)
    ns_floats_free (grams[k]);
  g_free (grams);
  if (ns_objective_cancelled (obj))
    return NAN;

  if (rows_func == NULL)
    {
      tv = tv_rows (x, planes, obj->w, obj->h, 0, obj->h, 0.0f, NULL, 0, 0);
      return ns_objective_total (lc, ls, obj->opt->tv_weight * tv / tv_n, parts)
             + ns_objective_temporal_rows (obj, x, 0, obj->h, NULL, 0, 0);
    }

  /* Pass 2, tile row by tile row.  The band holds the gradient of rows [band_y0, …): at
   * most a tile and two halos, plus the row above the core that TV reads without a halo. */
  band_cap = MIN (obj->h, plan->tile + 2 * plan->halo + 1);
  band_plane = (gsize) band_cap * obj->w;
  band = ns_floats_new (planes * band_plane);
  ns_tile_plan_max_crop (plan, &crop_w, NULL);
  buf = ns_floats_new (chunk_floats (obj, crop_w));
  buf2 = ns_floats_new (chunk_floats (obj, crop_w));
  for (int r = 0; r < plan->rows; r++)
    {
      const NsTile *first = &plan->tiles[r * plan->cols];
      int done;

      if (ns_objective_cancelled (obj))
        {
          /* The rows not yet handed out keep their x; the caller sees NaN and stops. */
          ns_floats_free (buf2);
          ns_floats_free (buf);
          ns_floats_free (band);
          return NAN;
        }
      for (int col = 0; col < plan->cols; col++)
        {
          int t = r * plan->cols + col;
          const NsTile *tile = &plan->tiles[t];
          g_autoptr (NsTensor) in = crop_input (obj->net, &src, &tile->crop);
          /* ns_network_pass writes every element of it. */
          g_autoptr (NsTensor) g_net = ns_tensor_new_uninit (in->c, in->h, in->w);
          g_autoptr (NsTensor) target = NULL;
          TileCtx ctx = { obj, TILE_GRAD, tile, obj->w, obj->h };

          if (obj->tile_targets == NULL)
            target = ns_objective_tile_target (obj, &content, tile, NULL);
          ctx.target = target ? target : obj->tile_targets[t];
          ctx.buf = buf;
          ctx.buf2 = buf2;
          ctx.masks = masks;
          ns_network_pass (obj->net, obj->convs, in, obj->last, hooked, tile_hook, &ctx, g_net);
          lc += ctx.lc;
          g_assert (tile->crop.y0 >= band_y0 && tile->crop.y1 - band_y0 <= band_cap);
          add_crop_gradient (obj, g_net, &tile->crop, band, band_y0, band_plane);
        }
      /* TV of this tile row's core rows: they and the rows above and below are still
       * unchanged (handed out rows end above the core). */
      tv += tv_rows (x, planes, obj->w, obj->h, first->core.y0, first->core.y1, tv_scale,
                     band, band_y0, band_plane);
      temporal += ns_objective_temporal_rows (obj, x, first->core.y0, first->core.y1, band,
                                              band_y0, band_plane);

      /* Rows above the next tile row's crop get nothing more, and no later tile reads them;
       * nor does TV, which reads the row above the core. */
      done = obj->h;
      if (r + 1 < plan->rows)
        done = MIN (plan->tiles[(r + 1) * plan->cols].crop.y0,
                    plan->tiles[(r + 1) * plan->cols].core.y0 - 1);
      if (done > band_y0)
        {
          int keep = band_cap - (done - band_y0);

          rows_func (band_y0, done, band, band_plane, rows_data);
          for (int c = 0; c < planes; c++)
            {
              float *p = band + c * band_plane;

              memmove (p, p + (gsize) (done - band_y0) * obj->w, (gsize) keep * obj->w * sizeof (float));
              memset (p + (gsize) keep * obj->w, 0, (gsize) (done - band_y0) * obj->w * sizeof (float));
            }
          band_y0 = done;
        }
    }
  ns_floats_free (buf2);
  ns_floats_free (buf);
  ns_floats_free (band);

  return ns_objective_total (lc, ls, obj->opt->tv_weight * tv / tv_n, parts) + temporal;
}
