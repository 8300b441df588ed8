/* objective-shallow.c — the evaluation of an objective whose losses all read the first ReLU,
 * one 3×3 convolution of the image: refinement at full size with the built-in network.
 *
 * The general pass (network.c and the loss hooks) keeps that layer's features for the whole
 * image (54 channels: 5 GB at 24 megapixels) and walks them a dozen times: the channel gains,
 * the Gram matrix converted to double, the content difference, their gradients, the ReLU
 * mask, col2im, and faults in their pages.  Here a segment of one row goes from the image
 * through the convolution to its losses and back while it is in the cache, in two passes:
 * the Gram matrix, then the gradient with the features computed again, and the content's
 * features computed from the content image instead of being kept: 2.1–2.5× less time an
 * evaluation, and no features in memory (docs/performance.md).
 *
 * With regions (objective-regions.c) each region has its Gram sums of the features times its
 * mask T (full size at this layer): Σ T² F Fᵀ; the style gradient is then Σ_r T_r² M_r F.
 *
 * The results equal the general path's up to float rounding.  Every loop is cut into items
 * fixed by the image's size (groups of rows, segments of rows), and their sums are added in
 * item order, so the bits do not depend on the thread count. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "objective-internal.h"

/* Pixels per segment: a segment's buffers (27 + 2·c floats a pixel, 0.5 MiB for 54
 * channels; c more with regions) stay in a core's L2 cache. */
#define SEGMENT_MAX 1024

/* Rows per work item: enough items for the threads; each pass-2 item keeps two rows of
 * gradient at its edges (its neighbours' rows), added at the end. */
#define GROUP_ROWS 16

#define TAPS 27          /* 3 input channels × 3 × 3 */

struct _NsShallow
{
  const NsConv *conv;
  int           c;
  float         mean[3], inv_std[3];
  int           w, h, planes;
  int           segment, n_segments, n_groups;
};

static int
n_groups (int h)
{
  return (h + GROUP_ROWS - 1) / GROUP_ROWS;
}

gboolean
ns_objective_shallow_applies (const NsNetwork *net, int last)
{
  return last == 1 && net->n_layers > 1 && net->layers[0].kind == NS_LAYER_CONV
         && net->layers[0].conv.cin == 3 && net->layers[1].kind == NS_LAYER_RELU;
}

NsShallow *
ns_shallow_new (const NsNetwork *net, int w, int h, int planes)
{
  NsShallow *s = g_new0 (NsShallow, 1);

  s->conv = &net->layers[0].conv;
  s->c = s->conv->cout;
  for (int k = 0; k < 3; k++)
    {
      s->mean[k] = net->mean[k];
      s->inv_std[k] = 1.0f / net->std[k];
    }
  s->w = w;
  s->h = h;
  s->planes = planes;
  s->n_segments = (w + SEGMENT_MAX - 1) / SEGMENT_MAX;
  s->segment = (w + s->n_segments - 1) / s->n_segments;
  s->n_groups = n_groups (h);
  return s;
}

void
ns_shallow_free (NsShallow *s)
{
  g_free (s);
}

/* Floats of a worker's scratch: col, F, F_c or ∂L/∂F, a segment's c × c Gram; with
 * regions also M_r · F. */
static gsize
scratch_floats (int c, int segment, int n_regions)
{
  return (gsize) (TAPS + (n_regions > 0 ? 3 : 2) * c) * segment + (gsize) c * c;
}

guint64
ns_shallow_eval_bytes (const NsNetwork *net, int w, int h, int planes, int n_regions)
{
  int c = net->layers[0].conv.cout, threads = ns_parallel_threads ();
  guint64 scratch = scratch_floats (c, MIN (w, SEGMENT_MAX), n_regions) * sizeof (float);
  int grams = MAX (1, n_regions);

  /* Per thread a segment's buffers; per group its Gram sums (one per region) and two edge
   * rows; the gradient when the caller takes it by rows; the style gradients M_r. */
  return threads * scratch
         + (guint64) n_groups (h) * ((guint64) grams * c * c * sizeof (double)
                                     + 2 * (guint64) planes * w * sizeof (float))
         + (guint64) planes * w * h * sizeof (float)
         + (guint64) grams * c * c * (sizeof (float) + sizeof (double));
}

/* ---- one segment ----------------------------------------------------------------------------- */

/* col (TAPS × n): the network's input (normalised; zero outside the image, the
 * convolution's padding) under the 3×3 taps of row y, columns x0 … x0 + n − 1.  The
 * network's channel k reads plane[k] (the same plane three times in luminance mode). */
static void
gather (const NsShallow *s, const float * const plane[3], int y, int x0, int n, float *col)
{
  for (int k = 0; k < 3; k++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++)
        {
          float *dst = col + (gsize) ((k * 3 + ky) * 3 + kx) * n;
          int yy = y + ky - 1, p0 = MAX (0, 1 - kx - x0), p1 = MIN (n, s->w + 1 - kx - x0);
          const float *src;
          float m = s->mean[k], inv = s->inv_std[k];

          if (yy < 0 || yy >= s->h || p1 <= p0)
            {
              memset (dst, 0, n * sizeof (float));
              continue;
            }
          src = plane[k] + (gsize) yy * s->w + x0 + kx - 1;
          for (int p = 0; p < p0; p++)
            dst[p] = 0.0f;
          for (int p = p0; p < p1; p++)
            dst[p] = (src[p] - m) * inv;
          for (int p = p1; p < n; p++)
            dst[p] = 0.0f;
        }
}

/* f (c × n) = ReLU (W · col + b). */
static void
features (const NsShallow *s, const float *col, int n, float *f)
{
  const NsConv *conv = s->conv;

  for (int i = 0; i < s->c; i++)
    for (int p = 0; p < n; p++)
      f[(gsize) i * n + p] = conv->bias[i];
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, s->c, n, TAPS, 1.0f, conv->weight,
               TAPS, col, n, 1.0f, f, n);
  for (gsize i = 0; i < (gsize) s->c * n; i++)
    f[i] = MAX (f[i], 0.0f);
}

/* ---- the passes ------------------------------------------------------------------------------ */

typedef struct
{
  const NsShallow *s;
  NsObjective     *obj;
  const float     *x[3], *content[3];
  int              workers;
  float           *scratch;          /* per worker */
  gsize            scratch_floats;
  int              n_grams;          /* Gram sums per group: 1, or one per region */
  const float    **t;                /* per region its mask (h × w), NULL where empty; or
                                      * NULL without regions */
  double          *gram;             /* per group, n_grams × c × c (upper triangle) */
  double          *content_sum;      /* per group */
  const float     *m;                /* per Gram, c × c: ∂L_style/∂F = Σ_r T_r² M_r · F */
  const float     *content_gain;     /* per channel: the content term's gains g_i */
  float            content_k;        /* ∂L_content/∂F_i = content_k · g_i² (F − F_c) */
  float           *grad;             /* planes × h × w, or NULL */
  float           *edges;            /* per group: the rows above and below it */
} Pass;

static float *
scratch_of (const Pass *p, int worker)
{
  return p->scratch + (gsize) worker * p->scratch_floats;
}

/* fm (c × n) = f with each pixel multiplied by t's. */
static void
times_mask (const float *f, const float *t, int c, int n, float *fm)
{
  for (int i = 0; i < c; i++)
    for (int q = 0; q < n; q++)
      fm[(gsize) i * n + q] = f[(gsize) i * n + q] * t[q];
}

/* Whether a region's mask is zero on a segment: it adds nothing there. */
static gboolean
outside (const float *t, int n)
{
  for (int q = 0; q < n; q++)
    if (t[q] != 0.0f)
      return FALSE;
  return TRUE;
}

static void
gram_group (int group, int worker, gpointer data)
{
  const Pass *p = data;
  const NsShallow *s = p->s;
  int c = s->c, y1 = MIN (s->h, (group + 1) * GROUP_ROWS);
  gsize cc = (gsize) c * c;
  float *col = scratch_of (p, worker), *f = col + (gsize) TAPS * s->segment;
  float *fm = f + (gsize) c * s->segment, *g = f + (gsize) 2 * c * s->segment;
  double *acc = p->gram + (gsize) group * p->n_grams * cc;

  memset (acc, 0, p->n_grams * cc * sizeof (double));
  for (int y = group * GROUP_ROWS; y < y1; y++)
    for (int x0 = 0; x0 < s->w; x0 += s->segment)
      {
        int n = MIN (s->segment, s->w - x0);

        gather (s, p->x, y, x0, n, col);
        features (s, col, n, f);
        for (int r = 0; r < p->n_grams; r++)
          {
            const float *fr = f;

            if (p->t != NULL)
              {
                const float *t = p->t[r] ? p->t[r] + (gsize) y * s->w + x0 : NULL;

                if (t == NULL || outside (t, n))
                  continue;
                times_mask (f, t, c, n, fm);
                fr = fm;
              }
            /* A segment's sums in float (1024 terms), the image's in double. */
            cblas_ssyrk (CblasRowMajor, CblasUpper, CblasNoTrans, c, n, 1.0f, fr, n, 0.0f, g,
                         c);
            for (int i = 0; i < c; i++)
              for (int j = i; j < c; j++)
                acc[r * cc + (gsize) i * c + j] += g[(gsize) i * c + j];
          }
      }
}

/* d += ∂L_style/∂F: M · F, or with regions Σ_r T_r² ∘ (M_r · F) (tmp: c × n). */
static void
style_gradient (const Pass *p, int y, int x0, int n, const float *f, float *d, float *tmp)
{
  const NsShallow *s = p->s;
  int c = s->c;

  if (p->t == NULL)
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, c, n, c, 1.0f, p->m, c, f, n,
                   1.0f, d, n);
      return;
    }
  for (int r = 0; r < p->n_grams; r++)
    {
      const float *t = p->t[r] ? p->t[r] + (gsize) y * s->w + x0 : NULL;

      if (t == NULL || outside (t, n))
        continue;
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, c, n, c, 1.0f,
                   p->m + (gsize) r * c * c, c, f, n, 0.0f, tmp, n);
      for (int i = 0; i < c; i++)
        for (int q = 0; q < n; q++)
          d[(gsize) i * n + q] += t[q] * t[q] * tmp[(gsize) i * n + q];
    }
}

/* Σ over the segment of (g_i (F − F_c))², and ∂L_content/∂F in place of F_c. */
static double
content_segment (const Pass *p, const float *f, float *fc, int n)
{
  const NsShallow *s = p->s;
  double sum = 0.0;

  for (int i = 0; i < s->c; i++)
    {
      float gi = p->content_gain[i], k = gi * gi * p->content_k;
      const float *fi = f + (gsize) i * n;
      float *di = fc + (gsize) i * n;
      double lane[4] = { 0.0, 0.0, 0.0, 0.0 };
      int q = 0;

      for (; q + 4 <= n; q += 4)
        for (int l = 0; l < 4; l++)
          {
            float d = fi[q + l] - di[q + l];

            lane[l] += (double) (gi * d) * (gi * d);
            di[q + l] = k * d;
          }
      for (; q < n; q++)
        {
          float d = fi[q] - di[q];

          lane[0] += (double) (gi * d) * (gi * d);
          di[q] = k * d;
        }
      sum += (lane[0] + lane[1]) + (lane[2] + lane[3]);
    }
  return sum;
}

/* The gradient row the taps of row y + dy land in: the image's own inside this group,
 * an edge row outside it, NULL outside the image. */
static float *
grad_row (const Pass *p, int group, int y, int plane)
{
  const NsShallow *s = p->s;
  int y0 = group * GROUP_ROWS, y1 = MIN (s->h, y0 + GROUP_ROWS);
  float *edges = p->edges + (gsize) group * 2 * s->planes * s->w;

  if (y < 0 || y >= s->h)
    return NULL;
  if (y < y0)
    return edges + (gsize) plane * s->w;
  if (y >= y1)
    return edges + (gsize) (s->planes + plane) * s->w;
  return p->grad + ((gsize) plane * s->h + y) * s->w;
}

/* col2im of dcol (TAPS × n) into the gradient around row y, with the normalisation's
 * 1 / std. */
static void
scatter (const Pass *p, int group, int y, int x0, int n, const float *dcol)
{
  const NsShallow *s = p->s;

  for (int k = 0; k < 3; k++)
    for (int ky = 0; ky < 3; ky++)
      {
        float *row = grad_row (p, group, y + ky - 1, s->planes == 1 ? 0 : k);

        if (row == NULL)
          continue;
        for (int kx = 0; kx < 3; kx++)
          {
            const float *src = dcol + (gsize) ((k * 3 + ky) * 3 + kx) * n;
            int q0 = MAX (0, 1 - kx - x0), q1 = MIN (n, s->w + 1 - kx - x0);
            float *dst = row + x0 + kx - 1, inv = s->inv_std[k];

            for (int q = q0; q < q1; q++)
              dst[q] += src[q] * inv;
          }
      }
}

static void
gradient_group (int group, int worker, gpointer data)
{
  const Pass *p = data;
  const NsShallow *s = p->s;
  int c = s->c, y0 = group * GROUP_ROWS, y1 = MIN (s->h, y0 + GROUP_ROWS);
  float *col = scratch_of (p, worker), *f = col + (gsize) TAPS * s->segment;
  float *d = f + (gsize) c * s->segment;
  float *tmp = d + (gsize) c * s->segment + (gsize) c * c;
  double sum = 0.0;

  if (p->grad != NULL)
    {
      memset (p->edges + (gsize) group * 2 * s->planes * s->w, 0,
              (gsize) 2 * s->planes * s->w * sizeof (float));
      for (int k = 0; k < s->planes; k++)
        memset (p->grad + ((gsize) k * s->h + y0) * s->w, 0,
                (gsize) (y1 - y0) * s->w * sizeof (float));
    }
  for (int y = y0; y < y1; y++)
    for (int x0 = 0; x0 < s->w; x0 += s->segment)
      {
        int n = MIN (s->segment, s->w - x0);

        gather (s, p->x, y, x0, n, col);
        features (s, col, n, f);
        gather (s, p->content, y, x0, n, col);
        features (s, col, n, d);
        sum += content_segment (p, f, d, n);
        if (p->grad == NULL)
          continue;
        /* d = ∂L/∂F: the style terms' added, then the ReLU's mask (F > 0 exactly where
         * its input was); then ∂L/∂col = Wᵀ · d. */
        style_gradient (p, y, x0, n, f, d, tmp);
        for (gsize i = 0; i < (gsize) c * n; i++)
          d[i] = f[i] > 0.0f ? d[i] : 0.0f;
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, TAPS, n, c, 1.0f,
                     s->conv->weight, TAPS, d, n, 0.0f, col, n);
        scatter (p, group, y, x0, n, col);
      }
  p->content_sum[group] = sum;
}

/* Each group's first and last rows get what its neighbours' edge rows hold for them. */
static void
edges_group (int group, int worker, gpointer data)
{
  const Pass *p = data;
  const NsShallow *s = p->s;
  gsize row = (gsize) s->planes * s->w;
  int y0 = group * GROUP_ROWS, y1 = MIN (s->h, y0 + GROUP_ROWS);

  for (int k = 0; k < s->planes; k++)
    {
      float *first = p->grad + ((gsize) k * s->h + y0) * s->w;
      float *last = p->grad + ((gsize) k * s->h + y1 - 1) * s->w;

      if (group > 0)
        {
          const float *below = p->edges + (gsize) (group - 1) * 2 * row + row + k * s->w;

          for (int i = 0; i < s->w; i++)
            first[i] += below[i];
        }
      if (group + 1 < s->n_groups)
        {
          const float *above = p->edges + (gsize) (group + 1) * 2 * row + k * s->w;

          for (int i = 0; i < s->w; i++)
            last[i] += above[i];
        }
    }
}

/* The style terms from the Gram sums (n_grams of them): their losses, and per Gram
 * M = Σ_k ∂L_k/∂F · F⁻¹ (the chain through the channel gains s: M = diag (s) · 2w/(c²N)
 * (D + Dᵀ) · diag (s)).  A region empty at the layer has no term. */
static double
style_terms (NsObjective *obj, const Pass *p, const double *gram_sum, float *m,
             gboolean gradient)
{
  const NsShallow *s = obj->shallow;
  int c = s->c;
  gsize cc = (gsize) c * c;
  double n = (double) c * s->w * s->h, ls = 0.0;
  g_autofree double *acc = g_new (double, cc);
  g_autofree float *g = g_new (float, p->n_grams * cc);
  g_autofree float *d = g_new (float, cc);

  for (int r = 0; r < p->n_grams; r++)
    {
      for (gsize i = 0; i < cc; i++)
        acc[i] = gram_sum[r * cc + i] / n;
      ns_gram_store (acc, c, g + r * cc);
    }
  memset (m, 0, p->n_grams * cc * sizeof (float));
  for (int k = 0; k < obj->n_style; k++)
    {
      const NsStyleTerm *term = &obj->style[k];
      double alpha = 2.0 * term->weight / ((double) cc * n);
      int r = MAX (term->region, 0);

      if (p->t != NULL && p->t[r] == NULL)
        continue;
      memcpy (d, g + r * cc, cc * sizeof (float));
      if (term->scale)
        ns_gram_scale (d, c, term->scale);
      ls += ns_style_gram_loss (d, term->gram, c, term->weight, gradient);
      if (! gradient)
        continue;
      if (term->scale)
        ns_gram_scale (d, c, term->scale);
      for (gsize i = 0; i < cc; i++)
        m[r * cc + i] += (float) (alpha * d[i]);
    }
  return ls;
}

static void
pass_init (Pass *p, NsObjective *obj, const float *x, const float *content)
{
  const NsShallow *s = obj->shallow;
  gsize np = (gsize) s->w * s->h;

  memset (p, 0, sizeof *p);
  p->s = s;
  p->obj = obj;
  for (int k = 0; k < 3; k++)
    {
      p->x[k] = x + (s->planes == 1 ? 0 : k * np);
      p->content[k] = content + (s->planes == 1 ? 0 : k * np);
    }
  p->n_grams = 1;
  p->workers = ns_parallel_workers (s->n_groups, (double) np * s->c * TAPS);
  p->scratch_floats = scratch_floats (s->c, s->segment, obj->n_regions);
  p->scratch = ns_floats_new (p->scratch_floats * p->workers);
}

/* The regions' masks at the first ReLU: the image's size. */
static void
pass_regions (Pass *p, NsObjective *obj)
{
  const float **t;
  int layer;

  if (obj->n_regions == 0 || obj->n_style == 0)
    return;
  layer = obj->style[0].index;
  t = g_new0 (const float *, obj->n_regions);
  for (int r = 0; r < obj->n_regions; r++)
    {
      const NsLayerMasks *m = obj->region_masks[r];

      g_assert (m->w[layer] == p->s->w && m->h[layer] == p->s->h);
      t[r] = m->empty[layer] ? NULL : m->at[layer];
    }
  p->n_grams = obj->n_regions;
  p->t = t;
}

/* Σ over the image of each channel's squared features (ms, c values, / (h·w)): the
 * content's channel gains and layer normalisation. */
void
ns_shallow_mean_squares (NsObjective *obj, const float *content, double *ms)
{
  const NsShallow *s = obj->shallow;
  int c = s->c;
  Pass p;

  pass_init (&p, obj, content, content);
  p.gram = g_new (double, (gsize) s->n_groups * c * c);
  ns_parallel_for (s->n_groups, p.workers, gram_group, &p);
  for (int i = 0; i < c; i++)
    {
      ms[i] = 0.0;
      for (int g = 0; g < s->n_groups; g++)
        ms[i] += p.gram[((gsize) g * c + i) * c + i];
      ms[i] /= (double) s->w * s->h;
    }
  g_free (p.gram);
  ns_floats_free (p.scratch);
}

double
ns_objective_eval_shallow (NsObjective *obj, const float *x, float *grad, double parts[3])
{
  const NsShallow *s = obj->shallow;
  int c = s->c;
  gsize cc = (gsize) c * c;
  const float *content = s->planes == 1 ? obj->content_y->data : obj->content->data;
  g_autofree double *gram_sum = NULL;
  g_autofree float *m = NULL;
  g_autofree float *ones = NULL;
  NsTensor img = { s->planes, s->h, s->w, (float *) x };
  NsTensor g_img = { s->planes, s->h, s->w, grad };
  double lc = 0.0, ls, ltv;
  Pass p;

  pass_init (&p, obj, x, content);
  pass_regions (&p, obj);
  gram_sum = g_new0 (double, p.n_grams * cc);
  m = g_new (float, p.n_grams * cc);
  p.gram = g_new (double, (gsize) s->n_groups * p.n_grams * cc);
  p.content_sum = g_new (double, s->n_groups);
  if (obj->content_scale == NULL)
    {
      ones = g_new (float, c);
      for (int i = 0; i < c; i++)
        ones[i] = 1.0f;
    }
  p.content_gain = obj->content_scale ? obj->content_scale : ones;

  ns_parallel_for (s->n_groups, p.workers, gram_group, &p);
  for (int g = 0; g < s->n_groups; g++)
    for (gsize i = 0; i < p.n_grams * cc; i++)
      gram_sum[i] += p.gram[g * p.n_grams * cc + i];
  ls = style_terms (obj, &p, gram_sum, m, grad != NULL);

  if (! ns_objective_cancelled (obj))
    {
      p.m = m;
      p.grad = grad;
      /* mean over c·h·w of (g (F − F_c))²: ∂/∂F_i = 2w/(c·h·w) · g_i² (F_i − F_c,i). */
      p.content_k = (float) (2.0 * obj->content_weight / ((double) c * s->w * s->h));
      if (grad != NULL)
        p.edges = ns_floats_new ((gsize) s->n_groups * 2 * s->planes * s->w);
      ns_parallel_for (s->n_groups, p.workers, gradient_group, &p);
      if (grad != NULL)
        ns_parallel_for (s->n_groups, p.workers, edges_group, &p);
      for (int g = 0; g < s->n_groups; g++)
        lc += p.content_sum[g];
      lc *= obj->content_weight / ((double) c * s->w * s->h);
    }
  else
    lc = NAN;
  ltv = ns_tv_loss (&img, obj->opt->tv_weight, grad != NULL ? &g_img : NULL);

  ns_floats_free (p.edges);
  ns_floats_free (p.scratch);
  g_free (p.gram);
  g_free (p.content_sum);
  g_free (p.t);
  return ns_objective_total (lc, ls, ltv, parts);
}
