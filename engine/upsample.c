/* upsample.c — enlarging a stylization with the full-size photo as the guide.
 *
 * A stylization made at a moderate size and enlarged bilinearly is soft: every edge of
 * the photo is as blurred as the small image had it.  Here, at the small size, each window
 * of (2r+1)² pixels gets a local affine colour model result ≈ A·content + b, fitted by
 * least squares with A regularised by eps (the colour guided filter, He, Sun & Tang 2013:
 * A = (Σ + eps·I)⁻¹·cov(content, result), Σ the content's 3×3 covariance in the window).
 * The models of all windows covering a pixel are averaged, the coefficients enlarged
 * (bilinearly, or by the cubic B-spline: `smooth`, the default) and applied to the full-size
 * content (the fast guided filter, He & Sun 2015), so edges and fine structure come from
 * the photo at full size.
 *
 * With `residual` (the default), b is replaced by result − Ā·content at the small size, so
 * that what the model does not explain (brush strokes where the photo is flat, which the
 * plain filter would average away over the windows) is enlarged as it was:
 *   out = up (result_lo) + A_up · (content_hi − up (content_lo))  (nearly)
 * i.e. the enlargement plus the photo's detail finer than a small pixel, carried through
 * the local colour mapping.  Where the photo has no structure at the small size A ≈ 0 and
 * the result is the plain enlargement.
 *
 * Window sums are taken in double (the covariance is a difference of two means).  Memory:
 * the coefficients at the small size (k·(g+1) floats a pixel, at most 12) and a few rows;
 * nothing full-size besides the output, which may be the full-size content itself. */

#include <math.h>
#include <string.h>

#include "ns-internal.h"

/* Rows of the small image per item of the fitting loop, and output rows per item of the
 * full-size loop: fixed, so that the result does not depend on the thread count. */
#define FIT_BAND_ROWS   32
#define APPLY_BAND_ROWS 16
/* Columns per item of the vertical averaging of the coefficients. */
#define AVERAGE_BAND_COLS 64

/* Why these defaults (measured on two 8-MP photos stylized at 384 px, docs in README): A is the
 * local colour mapping from photo to stylization, which changes slowly, so it is fitted over
 * 9×9 small pixels: a 5×5 window too often sees no contrast at the small size just where the
 * photo's sub-pixel detail is (fur, whiskers, window frames), and brought back less of it
 * (high-frequency energy 0.69 → 0.78 of the photo's, and 0.13 → 0.17 on a second photo); the
 * stylization's own texture is kept by the residual, not by the windows.  eps = 1e-3 (a
 * contrast of about 0.03, 8 levels of 255) counts flat what is flat at the small size: 1e-4
 * amplified the photo's grain in flat backgrounds into visible speckle, 1e-2 halved the detail. */
#define DEFAULT_RADIUS 4
#define DEFAULT_EPS    1e-3
/* The coefficients (and with them the small result's own texture) are enlarged by the cubic
 * spline through them (ns_spline_prefilter, then ns_axis_init_smooth).  Linearly, a small
 * pixel became a tent with creases along its edges, and at 12× (a 512-px run made 6000 px)
 * the full-size refinement drew them out into a lattice of lines and crosses over flat areas
 * (docs/large-images.md).  The plain B-spline has no creases either but smooths: the result
 * shrunk back to 512 px moved from the preview's look (texture distance +15% where linear had
 * +8%, Casa Milà with Dürer's lion); the spline through the samples keeps it (+1%). */

void
ns_upsample_params_init (NsUpsampleParams *params)
{
  g_return_if_fail (params != NULL);

  params->radius = DEFAULT_RADIUS;
  params->eps = DEFAULT_EPS;
  params->residual = TRUE;
  params->smooth = TRUE;
  params->threads = 0;
}

typedef struct
{
  const NsImage *r_lo, *c_lo, *c_hi;
  NsImage       *out;
  int            radius;
  double         eps;
  int            g, k, nc, n_stats;   /* guide and result channels, coefficients, statistics */
  float         *coef;                /* small size, nc a pixel: per result channel A row, b */
  NsAxis         ax, ay;              /* small → full size */
} Upsample;

/* ---- fitting the local models at the small size ------------------------------------------ */

/* The statistics of one pixel: content (g), result (k), content products (g(g+1)/2, upper
 * triangle), content × result (g·k). */
static void
pixel_stats (const Upsample *u, gsize i, double *s)
{
  const float *c = u->c_lo->data + i * u->g;
  const float *p = u->r_lo->data + i * u->k;
  int n = 0;

  for (int j = 0; j < u->g; j++)
    s[n++] = c[j];
  for (int j = 0; j < u->k; j++)
    s[n++] = p[j];
  for (int j = 0; j < u->g; j++)
    for (int l = j; l < u->g; l++)
      s[n++] = (double) c[j] * c[l];
  for (int m = 0; m < u->k; m++)
    for (int j = 0; j < u->g; j++)
      s[n++] = (double) c[j] * p[m];
}

/* Adds sign × the statistics of small row y to the column sums. */
static void
add_row (const Upsample *u, int y, double sign, double *colsum, double *s)
{
  int w = u->c_lo->width;

  for (int x = 0; x < w; x++)
    {
      double *col = colsum + (gsize) x * u->n_stats;

      pixel_stats (u, (gsize) y * w + x, s);
      for (int n = 0; n < u->n_stats; n++)
        col[n] += sign * s[n];
    }
}

/* A (k × g) and b (k) from the window means m (laid out as pixel_stats). */
static void
solve_model (const Upsample *u, const double *m, float *coef)
{
  int g = u->g, k = u->k;
  const double *mi = m, *mp = m + g, *mii = m + g + k, *mip = mii + g * (g + 1) / 2;

  if (g == 1)
    {
      double var = mii[0] - mi[0] * mi[0];

      for (int c = 0; c < k; c++)
        {
          double a = (mip[c] - mi[0] * mp[c]) / (MAX (var, 0.0) + u->eps);

          coef[2 * c] = (float) a;
          coef[2 * c + 1] = (float) (mp[c] - a * mi[0]);
        }
      return;
    }

  /* Σ + eps·I is symmetric positive definite (Σ is a covariance): invert by cofactors. */
  {
    double s00 = mii[0] - mi[0] * mi[0] + u->eps, s01 = mii[1] - mi[0] * mi[1];
    double s02 = mii[2] - mi[0] * mi[2], s11 = mii[3] - mi[1] * mi[1] + u->eps;
    double s12 = mii[4] - mi[1] * mi[2], s22 = mii[5] - mi[2] * mi[2] + u->eps;
    double i00 = s11 * s22 - s12 * s12, i01 = s02 * s12 - s01 * s22;
    double i02 = s01 * s12 - s02 * s11, i11 = s00 * s22 - s02 * s02;
    double i12 = s01 * s02 - s00 * s12, i22 = s00 * s11 - s01 * s01;
    double det = s00 * i00 + s01 * i01 + s02 * i02;

    for (int c = 0; c < k; c++)
      {
        const double *xy = mip + 3 * c;
        double v0 = xy[0] - mi[0] * mp[c], v1 = xy[1] - mi[1] * mp[c];
        double v2 = xy[2] - mi[2] * mp[c];
        double a0 = (i00 * v0 + i01 * v1 + i02 * v2) / det;
        double a1 = (i01 * v0 + i11 * v1 + i12 * v2) / det;
        double a2 = (i02 * v0 + i12 * v1 + i22 * v2) / det;
        float *out = coef + 4 * c;

        out[0] = (float) a0;
        out[1] = (float) a1;
        out[2] = (float) a2;
        out[3] = (float) (mp[c] - a0 * mi[0] - a1 * mi[1] - a2 * mi[2]);
      }
  }
}

/* Small rows of one band: window sums as column sums over the window's rows (slid down
 * the band, started afresh at its first row) and prefix sums across. */
static void
fit_band (int item, int worker, gpointer data)
{
  const Upsample *u = data;
  int w = u->c_lo->width, h = u->c_lo->height, r = u->radius, ns = u->n_stats;
  int y0 = item * FIT_BAND_ROWS, y1 = MIN (h, y0 + FIT_BAND_ROWS);
  double *colsum = g_new0 (double, (gsize) w * ns);
  double *prefix = g_new (double, (gsize) (w + 1) * ns);
  double s[32], m[32];

  for (int y = MAX (0, y0 - r); y <= MIN (h - 1, y0 + r); y++)
    add_row (u, y, 1.0, colsum, s);

  for (int y = y0; y < y1; y++)
    {
      int rows = MIN (h - 1, y + r) - MAX (0, y - r) + 1;

      memset (prefix, 0, ns * sizeof (double));
      for (int x = 0; x < w; x++)
        for (int n = 0; n < ns; n++)
          prefix[(gsize) (x + 1) * ns + n] = prefix[(gsize) x * ns + n]
                                             + colsum[(gsize) x * ns + n];
      for (int x = 0; x < w; x++)
        {
          int xa = MAX (0, x - r), xb = MIN (w - 1, x + r);
          double count = (double) rows * (xb - xa + 1);

          for (int n = 0; n < ns; n++)
            m[n] = (prefix[(gsize) (xb + 1) * ns + n] - prefix[(gsize) xa * ns + n]) / count;
          solve_model (u, m, u->coef + ((gsize) y * w + x) * u->nc);
        }
      if (y + 1 < y1)
        {
          if (y - r >= 0)
            add_row (u, y - r, -1.0, colsum, s);
          if (y + r + 1 < h)
            add_row (u, y + r + 1, 1.0, colsum, s);
        }
    }
  g_free (colsum);
  g_free (prefix);
}

/* ---- averaging the models of the windows that cover each pixel ----------------------------- */

/* Box mean of n values `stride` floats apart (windows of radius r clamped to the image, so
 * the 2-D mean is this across, then down), in place; the running sum is in double.  tmp
 * holds n floats. */
static void
box_mean_1d (float *v, int n, gsize stride, int r, float *tmp)
{
  double sum = 0.0;

  for (int i = 0; i < n; i++)
    tmp[i] = v[i * stride];
  for (int i = 0; i <= MIN (n - 1, r); i++)
    sum += tmp[i];
  for (int i = 0; i < n; i++)
    {
      int a = MAX (0, i - r), b = MIN (n - 1, i + r);

      v[i * stride] = (float) (sum / (b - a + 1));
      if (i - r >= 0)
        sum -= tmp[i - r];
      if (i + r + 1 < n)
        sum += tmp[i + r + 1];
    }
}

static void
average_row (int y, int worker, gpointer data)
{
  const Upsample *u = data;
  int w = u->c_lo->width;
  float *row = u->coef + (gsize) y * w * u->nc;
  float *tmp = g_new (float, w);

  for (int j = 0; j < u->nc; j++)
    box_mean_1d (row + j, w, u->nc, u->radius, tmp);
  g_free (tmp);
}

/* A band of columns down the rows, all its coefficients at once (rows are contiguous). */
static void
average_cols (int item, int worker, gpointer data)
{
  const Upsample *u = data;
  int w = u->c_lo->width, h = u->c_lo->height, r = u->radius;
  int x0 = item * AVERAGE_BAND_COLS, x1 = MIN (w, x0 + AVERAGE_BAND_COLS);
  gsize row = (gsize) w * u->nc, j0 = (gsize) x0 * u->nc, n = (gsize) (x1 - x0) * u->nc;
  float *tmp = g_new (float, (gsize) h * n);
  double *sum = g_new0 (double, n);

  for (int y = 0; y < h; y++)
    memcpy (tmp + (gsize) y * n, u->coef + (gsize) y * row + j0, n * sizeof (float));
  for (int y = 0; y <= MIN (h - 1, r); y++)
    for (gsize j = 0; j < n; j++)
      sum[j] += tmp[(gsize) y * n + j];
  for (int y = 0; y < h; y++)
    {
      int count = MIN (h - 1, y + r) - MAX (0, y - r) + 1;
      float *dst = u->coef + (gsize) y * row + j0;

      for (gsize j = 0; j < n; j++)
        dst[j] = (float) (sum[j] / count);
      if (y - r >= 0)
        for (gsize j = 0; j < n; j++)
          sum[j] -= tmp[(gsize) (y - r) * n + j];
      if (y + r + 1 < h)
        for (gsize j = 0; j < n; j++)
          sum[j] += tmp[(gsize) (y + r + 1) * n + j];
    }
  g_free (tmp);
  g_free (sum);
}

/* b := result − Ā·content: the model's residual goes along with b. */
static void
residual_row (int y, int worker, gpointer data)
{
  const Upsample *u = data;
  int w = u->c_lo->width, g = u->g;

  for (int x = 0; x < w; x++)
    {
      gsize i = (gsize) y * w + x;
      const float *c = u->c_lo->data + i * g;
      const float *p = u->r_lo->data + i * u->k;
      float *coef = u->coef + i * u->nc;

      for (int m = 0; m < u->k; m++)
        {
          float *a = coef + m * (g + 1);
          double v = p[m];

          for (int j = 0; j < g; j++)
            v -= (double) a[j] * c[j];
          a[g] = (float) v;
        }
    }
}

/* ---- applying them at full size ------------------------------------------------------------- */

static void
apply_band (int item, int worker, gpointer data)
{
  const Upsample *u = data;
  int W = u->out->width, H = u->out->height, w = u->c_lo->width;
  int g = u->g, k = u->k, nc = u->nc;
  int o0 = item * APPLY_BAND_ROWS, o1 = MIN (H, o0 + APPLY_BAND_ROWS);
  gsize lo_row = (gsize) w * nc;
  float *lo = g_new (float, (gsize) (o1 - o0) * lo_row);
  float *hi = g_new (float, (gsize) W * nc);

  ns_axis_resample_down (&u->ay, u->coef, 0, lo_row, o0, o1, lo);
  for (int y = o0; y < o1; y++)
    {
      const float *guide = u->c_hi->data + (gsize) y * W * g;
      float *dst = u->out->data + (gsize) y * W * k;

      ns_axis_resample_across (&u->ax, lo + (gsize) (y - o0) * lo_row, nc, 0, W, hi);
      for (int x = 0; x < W; x++)
        {
          const float *a = hi + (gsize) x * nc;
          float c[3], v[3];

          /* Read the whole guide pixel first: dst may be the guide itself. */
          for (int j = 0; j < g; j++)
            c[j] = guide[(gsize) x * g + j];
          for (int m = 0; m < k; m++, a += g + 1)
            {
              float s = a[g];

              for (int j = 0; j < g; j++)
                s += a[j] * c[j];
              v[m] = CLAMP (s, 0.0f, 1.0f);
            }
          for (int m = 0; m < k; m++)
            dst[(gsize) x * k + m] = v[m];
        }
    }
  g_free (lo);
  g_free (hi);
}

/* ---- the public functions --------------------------------------------------------------------- */

static gboolean
check_image (const NsImage *image, const char *what, GError **error)
{
  if (image == NULL || image->data == NULL || image->width < 1 || image->height < 1
      || (image->channels != 1 && image->channels != 3))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "Guided upsampling: the %s is empty or not grey/RGB", what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_args (const NsImage *r_lo, const NsImage *c_lo, const NsImage *c_hi,
            const NsUpsampleParams *p, const NsImage *out, GError **error)
{
  if (! check_image (r_lo, "small result", error) || ! check_image (c_lo, "small content", error)
      || ! check_image (c_hi, "full-size content", error)
      || ! check_image (out, "output image", error))
    return FALSE;
  if (r_lo->width != c_lo->width || r_lo->height != c_lo->height)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "Guided upsampling: the small result (%d×%d) and content (%d×%d) differ "
                   "in size", r_lo->width, r_lo->height, c_lo->width, c_lo->height);
      return FALSE;
    }
  if (c_lo->channels != c_hi->channels)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "Guided upsampling: the small and full-size content have %d and %d "
                   "channels", c_lo->channels, c_hi->channels);
      return FALSE;
    }
  if (out->width != c_hi->width || out->height != c_hi->height
      || out->channels != r_lo->channels)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "Guided upsampling: the output must be %d×%d with %d channel%s",
                   c_hi->width, c_hi->height, r_lo->channels, r_lo->channels == 1 ? "" : "s");
      return FALSE;
    }
  if (out->data == c_hi->data && out->channels != c_hi->channels)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "Guided upsampling: the output can replace the full-size content only "
                   "when both have the same channels");
      return FALSE;
    }
  if (p->radius < 0 || p->radius > 1000 || ! (p->eps > 0.0) || ! isfinite (p->eps))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "Guided upsampling: the radius (%d) must be 0 to 1000 and eps (%g) a "
                   "positive number", p->radius, p->eps);
      return FALSE;
    }
  return TRUE;
}

gboolean
ns_upsample_guided_into (const NsImage          *result_lo,
                         const NsImage          *content_lo,
                         const NsImage          *content_hi,
                         const NsUpsampleParams *params,
                         NsImage                *out,
                         GError                **error)
{
  NsUpsampleParams defaults;
  Upsample u = { 0 };
  void (*axis_init) (NsAxis *axis, int in, int out);
  int w, h, previous, items;
  double work;

  if (params == NULL)
    {
      ns_upsample_params_init (&defaults);
      params = &defaults;
    }
  if (! check_args (result_lo, content_lo, content_hi, params, out, error))
    return FALSE;

  w = content_lo->width;
  h = content_lo->height;
  u.r_lo = result_lo;
  u.c_lo = content_lo;
  u.c_hi = content_hi;
  u.out = out;
  u.radius = params->radius;
  u.eps = params->eps;
  u.g = content_lo->channels;
  u.k = result_lo->channels;
  u.nc = u.k * (u.g + 1);
  u.n_stats = u.g + u.k + u.g * (u.g + 1) / 2 + u.g * u.k;
  u.coef = g_new (float, (gsize) w * h * u.nc);

  previous = ns_parallel_set_threads (params->threads);

  items = (h + FIT_BAND_ROWS - 1) / FIT_BAND_ROWS;
  work = (double) w * h * u.n_stats * 4;
  ns_parallel_for (items, ns_parallel_workers (items, work), fit_band, &u);
  work = (double) w * h * u.nc * 4;
  ns_parallel_for (h, ns_parallel_workers (h, work), average_row, &u);
  items = (w + AVERAGE_BAND_COLS - 1) / AVERAGE_BAND_COLS;
  ns_parallel_for (items, ns_parallel_workers (items, work), average_cols, &u);
  if (params->residual)
    ns_parallel_for (h, ns_parallel_workers (h, work), residual_row, &u);

  /* With `smooth`, the cubic spline through the small coefficients: what was fitted at a
   * small pixel is what the full size has at its centre, as with linear interpolation. */
  if (params->smooth)
    ns_spline_prefilter (u.coef, w, h, u.nc, out->width > w, out->height > h);
  axis_init = params->smooth ? ns_axis_init_smooth : ns_axis_init;
  axis_init (&u.ax, w, out->width);
  axis_init (&u.ay, h, out->height);
  items = (out->height + APPLY_BAND_ROWS - 1) / APPLY_BAND_ROWS;
  work = (double) out->width * out->height * u.nc * 4;
  ns_parallel_for (items, ns_parallel_workers (items, work), apply_band, &u);

  ns_parallel_set_threads (previous);
  ns_axis_clear (&u.ax);
  ns_axis_clear (&u.ay);
  g_free (u.coef);
  return TRUE;
}

NsImage *
ns_upsample_guided (const NsImage          *result_lo,
                    const NsImage          *content_lo,
                    const NsImage          *content_hi,
                    const NsUpsampleParams *params,
                    GError                **error)
{
  NsImage *out;

  if (! check_image (result_lo, "small result", error)
      || ! check_image (content_hi, "full-size content", error))
    return NULL;
  out = ns_image_new (content_hi->width, content_hi->height, result_lo->channels);
  if (! ns_upsample_guided_into (result_lo, content_lo, content_hi, params, out, error))
    g_clear_pointer (&out, ns_image_free);
  return out;
}
