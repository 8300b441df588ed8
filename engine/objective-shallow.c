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
 * The results equal the general path's up to float rounding.  Every loop is cut into items
 * fixed by the image's size (groups of rows, segments of rows), and their sums are added in
 * item order, so the bits do not depend on the thread count. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "objective-internal.h"

/* Pixels per segment: a segment's buffers (27 + 2·c floats a pixel, 0.5 MiB for 54
 * channels) stay in a core's L2 cache. */
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

guint64
ns_shallow_eval_bytes (const NsNetwork *net, int w, int h, int planes)
{
  int c = net->layers[0].conv.cout, threads = ns_parallel_threads ();
  guint64 scratch = ((guint64) (TAPS + 2 * c) * MIN (w, SEGMENT_MAX) + (guint64) c * c)
                    * sizeof (float);

  /* Per thread a segment's buffers; per group its Gram sums and two edge rows; the gradient
   * when the caller takes it by rows. */
  return threads * scratch
         + (guint64) n_groups (h) * ((guint64) c * c * sizeof (double)
                                     + 2 * (guint64) planes * w * sizeof (float))
         + (guint64) planes * w * h * sizeof (float);
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
  double          *gram;             /* per group, c × c (upper triangle) */
  double          *content_sum;      /* per group */
  const float     *m;                /* c × c: ∂L_style/∂F = M · F */
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

static void
gram_group (int group, int worker, gpointer data)
{
  const Pass *p = data;
  const NsShallow *s = p->s;
  int c = s->c, y1 = MIN (s->h, (group + 1) * GROUP_ROWS);
  float *col = scratch_of (p, worker), *f = col + (gsize) TAPS * s->segment;
  float *g = f + (gsize) 2 * c * s->segment;
  double *acc = p->gram + (gsize) group * c * c;

  memset (acc, 0, (gsize) c * c * sizeof (double));
  for (int y = group * GROUP_ROWS; y < y1; y++)
    for (int x0 = 0; x0 < s->w; x0 += s->segment)
      {
        int n = MIN (s->segment, s->w - x0);

        gather (s, p->x, y, x0, n, col);
        features (s, col, n, f);
        /* A segment's sums in float (1024 terms), the image's in double. */
        cblas_ssyrk (CblasRowMajor, CblasUpper, CblasNoTrans, c, n, 1.0f, f, n, 0.0f, g, c);
        for (int i = 0; i < c; i++)
          for (int j = i; j < c; j++)
            acc[(gsize) i * c + j] += g[(gsize) i * c + j];
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
        /* d = ∂L/∂F: the style term's M · F added, then the ReLU's mask (F > 0 exactly
         * where its input was); then ∂L/∂col = Wᵀ · d. */
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, c, n, c, 1.0f, p->m, c, f, n,
                     1.0f, d, n);
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

/* The style terms from the Gram sums: their losses, and M = Σ_k ∂L_k/∂F · F⁻¹ (the chain
 * through the channel gains s: M = diag (s) · 2w/(c²N) (D + Dᵀ) · diag (s)). */
static double
style_terms (NsObjective *obj, const double *gram_sum, float *m, gboolean gradient)
{
  const NsShallow *s = obj->shallow;
  int c = s->c;
  gsize cc = (gsize) c * c;
  double n = (double) c * s->w * s->h, ls = 0.0;
  g_autofree double *acc = g_new (double, cc);
  g_autofree float *g = g_new (float, cc);
  g_autofree float *d = g_new (float, cc);

  for (gsize i = 0; i < cc; i++)
    acc[i] = gram_sum[i] / n;
  ns_gram_store (acc, c, g);
  memset (m, 0, cc * sizeof (float));
  for (int k = 0; k < obj->n_style; k++)
    {
      const NsStyleTerm *term = &obj->style[k];
      double alpha = 2.0 * term->weight / ((double) cc * n);

      memcpy (d, g, cc * sizeof (float));
      if (term->scale)
        ns_gram_scale (d, c, term->scale);
      ls += ns_style_gram_loss (d, term->gram, c, term->weight, gradient);
      if (! gradient)
        continue;
      if (term->scale)
        ns_gram_scale (d, c, term->scale);
      for (gsize i = 0; i < cc; i++)
        m[i] += (float) (alpha * d[i]);
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
  p->workers = ns_parallel_workers (s->n_groups, (double) np * s->c * TAPS);
  /* col, F, F_c or ∂L/∂F, and a segment's c × c Gram. */
  p->scratch_floats = (gsize) (TAPS + 2 * s->c) * s->segment + (gsize) s->c * s->c;
  p->scratch = ns_floats_new (p->scratch_floats * p->workers);
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
  g_autofree double *gram_sum = g_new0 (double, cc);
  g_autofree float *m = g_new (float, cc);
  g_autofree float *ones = NULL;
  NsTensor img = { s->planes, s->h, s->w, (float *) x };
  NsTensor g_img = { s->planes, s->h, s->w, grad };
  double lc = 0.0, ls, ltv;
  Pass p;

  pass_init (&p, obj, x, content);
  p.gram = g_new (double, (gsize) s->n_groups * cc);
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
    for (gsize i = 0; i < cc; i++)
      gram_sum[i] += p.gram[g * cc + i];
  ls = style_terms (obj, gram_sum, m, grad != NULL);

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
  return ns_objective_total (lc, ls, ltv, parts);
}
