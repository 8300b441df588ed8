/* flow.c — optical flow between frames, how far it can be trusted, and warping by it.
 *
 * The flow itself comes from OpenCV's DIS (flow-dis.cc) when the engine is built with it;
 * the reliability follows Ruder et al.'s consistencyChecker (artistic-videos).  Results are
 * warped by quintic B-spline interpolation (Unser 1999; Thévenaz, Blu & Unser 2000,
 * "Interpolation revisited"), which keeps a result's fine detail over the many warps of a
 * sequence (docs/animation.md). */
#include <math.h>

#include "ns-internal.h"

#define RELIABILITY_SIGMA 0.8
#define RELIABILITY_RADIUS 3            /* ⌈3σ⌉ */
/* Disocclusions, and pixels that come from outside the frame, are marked below zero so that
 * the blur spreads them outwards rather than letting the reliable side bleed into pixels with
 * nothing to warp from; clipping brings them back to 0 (consistencyChecker does so for the
 * disocclusions). */
#define UNRELIABLE (-0.75f)

/* The original frame before, warped, against the frame: a mean difference of its channels
 * up to COLOUR_DIFF_FULL keeps the reliability, from COLOUR_DIFF_NONE on it is 0.  DIS misses
 * small or fast things (a walker a few pixels wide); where it does, the warp shows what was
 * there before, and holding the result to it would leave a ghost behind. */
#define COLOUR_DIFF_FULL 0.1f
#define COLOUR_DIFF_NONE 0.2f

gboolean
ns_flow_available (void)
{
#ifdef NS_HAVE_OPENCV
  return TRUE;
#else
  return FALSE;
#endif
}

#ifdef NS_HAVE_OPENCV
/* Rec. 601 luminance in 8 bits, what DIS works on. */
static guint8 *
grey8 (const NsImage *img)
{
  gsize n = (gsize) img->width * img->height;
  guint8 *g = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    {
      const float *p = img->data + i * img->channels;
      float y = img->channels == 3 ? 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2] : p[0];

      g[i] = (guint8) lrintf (CLAMP (y, 0.0f, 1.0f) * 255.0f);
    }
  return g;
}
#endif

NsTensor *
ns_flow_compute (const NsImage *from, const NsImage *to, NsFlowPreset preset, GError **error)
{
  g_return_val_if_fail (from != NULL && to != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (from->width != to->width || from->height != to->height)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "optical flow between frames of different sizes (%d × %d and %d × %d)",
                   from->width, from->height, to->width, to->height);
      return NULL;
    }
#ifdef NS_HAVE_OPENCV
  {
    int w = from->width, h = from->height;
    gsize n = (gsize) w * h;
    g_autofree guint8 *a = grey8 (from);
    g_autofree guint8 *b = grey8 (to);
    g_autofree float *xy = g_new (float, 2 * n);
    g_autoptr (NsTensor) flow = NULL;

    if (!ns_flow_dis (a, b, w, h, preset, xy, error))
      return NULL;
    flow = ns_tensor_new_uninit (2, h, w);
    for (gsize i = 0; i < n; i++)
      {
        flow->data[i] = xy[2 * i];
        flow->data[n + i] = xy[2 * i + 1];
      }
    return g_steal_pointer (&flow);
  }
#else
  g_set_error_literal (error, NS_ERROR, NS_ERROR_UNSUPPORTED,
                       "optical flow needs OpenCV: this engine was built without it "
                       "(install libopencv-video-dev and rebuild)");
  return NULL;
#endif
}

/* plane at (fx, fy), bilinear, coordinates clamped to the image (NaN to 0: a NaN made into
 * an index would read anywhere). */
static inline float
sample (const float *plane, int w, int h, float fx, float fy)
{
  float cx = fx >= 0.0f ? MIN (fx, (float) (w - 1)) : 0.0f;
  float cy = fy >= 0.0f ? MIN (fy, (float) (h - 1)) : 0.0f;
  int x0 = MIN ((int) cx, w - 1), y0 = MIN ((int) cy, h - 1);
  int x1 = MIN (x0 + 1, w - 1), y1 = MIN (y0 + 1, h - 1);
  float ax = cx - (float) x0, ay = cy - (float) y0;
  const float *r0 = plane + (gsize) y0 * w, *r1 = plane + (gsize) y1 * w;
  float top = r0[x0] + ax * (r0[x1] - r0[x0]);
  float bottom = r1[x0] + ax * (r1[x1] - r1[x0]);

  return top + ay * (bottom - top);
}

/* ---- quintic B-spline interpolation --------------------------------------------------------- */

#define SPLINE_TAPS 6    /* per axis: the quintic B-spline is 6 pixels wide */

/* The poles of the recursive filter that turns samples into quintic B-spline coefficients. */
static const double spline_poles[2] = { -0.430575347099973, -0.043096288203264 };

/* Index i of a line of n mirrored about its ends (… 2 1 | 0 1 2 … n−1 | n−2 …), the boundary
 * the coefficients are computed for. */
static inline int
mirror (int i, int n)
{
  int period = 2 * n - 2;

  if (n == 1)
    return 0;
  i = ABS (i) % period;
  return i < n ? i : period - i;
}

/* The causal filter's first value on a mirrored line: Σ_i z^i c[i] over the mirrored
 * extension, cut where z^i falls below single precision or else in closed form. */
static double
causal_start (const double *c, int n, double z)
{
  int horizon = (int) ceil (log (1e-8) / log (fabs (z)));
  double zi = z, sum = c[0];

  if (horizon < n)
    {
      for (int i = 1; i < horizon; i++, zi *= z)
        sum += zi * c[i];
      return sum;
    }
  {
    double iz = 1.0 / z, z2n = pow (z, n - 1);

    sum = c[0] + z2n * c[n - 1];
    z2n *= z2n * iz;
    for (int i = 1; i <= n - 2; i++, zi *= z, z2n *= iz)
      sum += (zi + z2n) * c[i];
    return sum / (1.0 - zi * zi);
  }
}

/* The samples of a line (n values `step` floats apart) become its spline coefficients, in
 * place, by a causal and an anticausal first-order filter per pole. */
static void
spline_line (float *line, int n, gsize step, double *c)
{
  double gain = 1.0;

  if (n == 1)
    return;
  for (int i = 0; i < n; i++)
    c[i] = line[i * step];
  for (guint k = 0; k < G_N_ELEMENTS (spline_poles); k++)
    gain *= (1.0 - spline_poles[k]) * (1.0 - 1.0 / spline_poles[k]);
  for (int i = 0; i < n; i++)
    c[i] *= gain;
  for (guint k = 0; k < G_N_ELEMENTS (spline_poles); k++)
    {
      double z = spline_poles[k];

      c[0] = causal_start (c, n, z);
      for (int i = 1; i < n; i++)
        c[i] += z * c[i - 1];
      c[n - 1] = z / (z * z - 1.0) * (z * c[n - 2] + c[n - 1]);
      for (int i = n - 2; i >= 0; i--)
        c[i] = z * (c[i + 1] - c[i]);
    }
  for (int i = 0; i < n; i++)
    line[i * step] = (float) c[i];
}

typedef struct
{
  float *planes;
  int    w, h;
} Spline;

static void
spline_rows (gsize from, gsize to, gpointer data)
{
  const Spline *sp = data;
  g_autofree double *c = g_new (double, sp->w);

  for (gsize r = from; r < to; r++)
    spline_line (sp->planes + r * sp->w, sp->w, 1, c);
}

static void
spline_columns (gsize from, gsize to, gpointer data)
{
  const Spline *sp = data;
  g_autofree double *c = g_new (double, sp->h);

  for (gsize k = from; k < to; k++)
    {
      gsize plane = k / sp->w, x = k % sp->w;

      spline_line (sp->planes + plane * sp->w * sp->h + x, sp->h, sp->w, c);
    }
}

/* The quintic B-spline at a ≥ 0 (it is 0 from 3 on). */
static inline float
quintic (float a)
{
  float u3 = 3.0f - a, u2 = 2.0f - a, u1 = 1.0f - a;
  float r = u3 * u3 * u3 * u3 * u3;

  if (a < 2.0f)
    r -= 6.0f * u2 * u2 * u2 * u2 * u2;
  if (a < 1.0f)
    r += 15.0f * u1 * u1 * u1 * u1 * u1;
  return a < 3.0f ? r / 120.0f : 0.0f;
}

/* The taps' weights and mirrored indices along one axis for a position clamped to the
 * image (NaN to 0, as in sample ()). */
static inline void
spline_taps (float f, int n, float k[SPLINE_TAPS], int at[SPLINE_TAPS])
{
  float c = f >= 0.0f ? MIN (f, (float) (n - 1)) : 0.0f;
  int i0 = (int) c;
  float t = c - (float) i0;

  for (int i = 0; i < SPLINE_TAPS; i++)
    {
      k[i] = quintic (fabsf (t - (float) (i - 2)));
      at[i] = mirror (i0 - 2 + i, n);
    }
}

NsTensor *
ns_flow_resize (const NsTensor *flow, int w, int h)
{
  g_autofree float *r = NULL;
  NsTensor *out;
  gsize n = (gsize) w * h;
  float sx, sy;

  g_return_val_if_fail (flow != NULL && flow->c == 2 && w > 0 && h > 0, NULL);

  r = ns_planes_resize (flow->data, 2, flow->w, flow->h, w, h);
  out = ns_tensor_new_uninit (2, h, w);
  /* Displacements are lengths in pixels: they scale with the image. */
  sx = (float) w / (float) flow->w;
  sy = (float) h / (float) flow->h;
  for (gsize i = 0; i < n; i++)
    {
      out->data[i] = sx * r[i];
      out->data[n + i] = sy * r[n + i];
    }
  return out;
}

typedef struct
{
  const NsTensor *img, *flow;
  const float    *coef;     /* the spline coefficients of img, or NULL: bilinear */
  NsTensor       *out;
} Warp;

static void
warp_rows (gsize from, gsize to, gpointer data)
{
  const Warp *wp = data;
  int w = wp->img->w, h = wp->img->h;
  gsize n = (gsize) w * h;

  for (gsize y = from; y < to; y++)
    for (int x = 0; x < w; x++)
      {
        gsize p = y * w + x;
        float fx = (float) x + wp->flow->data[p], fy = (float) y + wp->flow->data[n + p];
        float kx[SPLINE_TAPS], ky[SPLINE_TAPS];
        int ax[SPLINE_TAPS], ay[SPLINE_TAPS];

        if (wp->coef == NULL)
          {
            for (int c = 0; c < wp->img->c; c++)
              wp->out->data[c * n + p] = sample (wp->img->data + c * n, w, h, fx, fy);
            continue;
          }
        spline_taps (fx, w, kx, ax);
        spline_taps (fy, h, ky, ay);
        for (int c = 0; c < wp->img->c; c++)
          {
            float sum = 0.0f;

            for (int j = 0; j < SPLINE_TAPS; j++)
              {
                const float *r = wp->coef + c * n + (gsize) ay[j] * w;
                float row = 0.0f;

                for (int i = 0; i < SPLINE_TAPS; i++)
                  row += kx[i] * r[ax[i]];
                sum += ky[j] * row;
              }
            wp->out->data[c * n + p] = sum;
          }
      }
}

static NsTensor *
warp (const NsTensor *img, const NsTensor *flow, const float *coef)
{
  Warp wp;

  wp.img = img;
  wp.flow = flow;
  wp.coef = coef;
  wp.out = ns_tensor_new_uninit (img->c, img->h, img->w);
  ns_parallel_range (img->h, ns_chunk_rows (img->w),
                     (gsize) img->w * img->c * (coef ? SPLINE_TAPS * SPLINE_TAPS : 4),
                     warp_rows, &wp);
  return wp.out;
}

NsTensor *
ns_flow_warp (const NsTensor *img, const NsTensor *flow)
{
  g_return_val_if_fail (img != NULL && flow != NULL, NULL);
  g_return_val_if_fail (flow->c == 2 && flow->h == img->h && flow->w == img->w, NULL);

  return warp (img, flow, NULL);
}

NsTensor *
ns_flow_warp_spline (const NsTensor *img, const NsTensor *flow)
{
  g_autoptr (NsTensor) coef = NULL;
  Spline sp;

  g_return_val_if_fail (img != NULL && flow != NULL, NULL);
  g_return_val_if_fail (flow->c == 2 && flow->h == img->h && flow->w == img->w, NULL);

  coef = ns_tensor_copy (img);
  sp.planes = coef->data;
  sp.w = img->w;
  sp.h = img->h;
  ns_parallel_range ((gsize) img->c * img->h, ns_chunk_rows (img->w), img->w, spline_rows, &sp);
  ns_parallel_range ((gsize) img->c * img->w, ns_chunk_rows (img->h), img->h, spline_columns,
                     &sp);
  return warp (img, flow, coef->data);
}

typedef struct
{
  const NsTensor *fwd, *bwd;
  float          *c;
} Check;

/* |∇u|² + |∇v|² of the backward flow by central differences (one-sided at the edges). */
static float
motion_edge (const NsTensor *f, int x, int y)
{
  int w = f->w, h = f->h;
  gsize n = (gsize) w * h;
  int xl = MAX (x - 1, 0), xr = MIN (x + 1, w - 1), yu = MAX (y - 1, 0), yd = MIN (y + 1, h - 1);
  float e = 0.0f;

  for (int k = 0; k < 2; k++)
    {
      const float *p = f->data + k * n, *row = p + (gsize) y * w;
      float dx = xr > xl ? (row[xr] - row[xl]) / (float) (xr - xl) : 0.0f;
      float dy = yd > yu ? (p[(gsize) yd * w + x] - p[(gsize) yu * w + x]) / (float) (yd - yu)
                         : 0.0f;

      e += dx * dx + dy * dy;
    }
  return e;
}

static void
check_rows (gsize from, gsize to, gpointer data)
{
  const Check *ck = data;
  int w = ck->bwd->w, h = ck->bwd->h;
  gsize n = (gsize) w * h;
  const float *bu = ck->bwd->data, *bv = bu + n, *fu = ck->fwd->data, *fv = fu + n;

  for (gsize y = from; y < to; y++)
    for (int x = 0; x < w; x++)
      {
        gsize p = y * w + x;
        float u = bu[p], v = bv[p];
        float bx = (float) x + u, by = (float) y + v;
        float tu, tv, du, dv, r = 1.0f;

        if (!(bx >= 0.0f && bx <= (float) (w - 1) && by >= 0.0f && by <= (float) (h - 1)))
          r = UNRELIABLE;
        else
          {
            /* w̃ = forward flow where p came from: w̃ + ŵ ≈ 0 when the two flows agree. */
            tu = sample (fu, w, h, bx, by);
            tv = sample (fv, w, h, bx, by);
            du = tu + u;
            dv = tv + v;
            if (du * du + dv * dv > 0.01f * (tu * tu + tv * tv + u * u + v * v) + 0.5f)
              r = UNRELIABLE;
            else if (motion_edge (ck->bwd, x, (int) y) > 0.01f * (u * u + v * v) + 0.002f)
              r = 0.0f;
          }
        ck->c[p] = r;
      }
}

typedef struct
{
  const float *src;
  float       *dst;
  int          w, h, step;        /* step: 1 blurs along rows, w along columns */
  gboolean     clip;
  float        k[RELIABILITY_RADIUS + 1];
} Blur;

static void
blur_rows (gsize from, gsize to, gpointer data)
{
  const Blur *b = data;
  int len = b->step == 1 ? b->w : b->h;

  for (gsize y = from; y < to; y++)
    for (int x = 0; x < b->w; x++)
      {
        int at = b->step == 1 ? x : (int) y;
        const float *p = b->src + y * b->w + x;
        float s = b->k[0] * p[0];

        for (int i = 1; i <= RELIABILITY_RADIUS; i++)
          {
            int lo = MAX (at - i, 0) - at, hi = MIN (at + i, len - 1) - at;

            s += b->k[i] * (p[lo * b->step] + p[hi * b->step]);
          }
        b->dst[y * b->w + x] = b->clip ? CLAMP (s, 0.0f, 1.0f) : s;
      }
}

NsTensor *
ns_flow_reliability (const NsTensor *forward, const NsTensor *backward)
{
  int w, h;
  Check ck;
  Blur b;
  double total = 0.0;
  g_autoptr (NsTensor) raw = NULL;
  NsTensor *c;

  g_return_val_if_fail (forward != NULL && backward != NULL, NULL);
  g_return_val_if_fail (forward->c == 2 && ns_tensor_same_shape (forward, backward), NULL);

  w = backward->w;
  h = backward->h;
  raw = ns_tensor_new_uninit (1, h, w);
  c = ns_tensor_new_uninit (1, h, w);
  ck.fwd = forward;
  ck.bwd = backward;
  ck.c = raw->data;
  ns_parallel_range (h, ns_chunk_rows (w), w, check_rows, &ck);

  for (int i = 0; i <= RELIABILITY_RADIUS; i++)
    {
      b.k[i] = (float) exp (-0.5 * i * i / (RELIABILITY_SIGMA * RELIABILITY_SIGMA));
      total += i == 0 ? b.k[i] : 2.0 * b.k[i];
    }
  for (int i = 0; i <= RELIABILITY_RADIUS; i++)
    b.k[i] = (float) (b.k[i] / total);
  b.w = w;
  b.h = h;
  /* Along rows into c, then along columns back into raw, clipped; raw is the result. */
  b.src = raw->data;
  b.dst = c->data;
  b.step = 1;
  b.clip = FALSE;
  ns_parallel_range (h, ns_chunk_rows (w), w, blur_rows, &b);
  b.src = c->data;
  b.dst = raw->data;
  b.step = w;
  b.clip = TRUE;
  ns_parallel_range (h, ns_chunk_rows (w), w, blur_rows, &b);
  ns_tensor_free (c);
  return g_steal_pointer (&raw);
}

void
ns_flow_long_term (NsTensor * const *c, int n)
{
  gsize len;
  g_autofree float *seen = NULL;

  g_return_if_fail (n >= 0 && (n == 0 || c != NULL));
  if (n == 0)
    return;
  len = ns_tensor_len (c[0]);
  seen = g_new0 (float, len);
  for (int j = 0; j < n; j++)
    {
      g_return_if_fail (ns_tensor_same_shape (c[j], c[0]));
      for (gsize i = 0; i < len; i++)
        {
          float own = c[j]->data[i];

          c[j]->data[i] = MAX (own - seen[i], 0.0f);
          seen[i] += own;
        }
    }
}

typedef struct
{
  const NsTensor *moved, *frame;
  float          *c;
} Colours;

static void
colour_rows (gsize from, gsize to, gpointer data)
{
  const Colours *cc = data;
  gsize n = (gsize) cc->frame->w * cc->frame->h;
  int planes = cc->frame->c;

  for (gsize p = from * cc->frame->w; p < to * cc->frame->w; p++)
    {
      float d = 0.0f;

      for (int k = 0; k < planes; k++)
        d += fabsf (cc->moved->data[k * n + p] - cc->frame->data[k * n + p]);
      d /= (float) planes;
      cc->c[p] *= CLAMP ((COLOUR_DIFF_NONE - d) / (COLOUR_DIFF_NONE - COLOUR_DIFF_FULL),
                         0.0f, 1.0f);
    }
}

void
ns_flow_check_colours (NsTensor *reliability, const NsTensor *before, const NsTensor *frame,
                       const NsTensor *backward)
{
  g_autoptr (NsTensor) moved = NULL;
  Colours cc;

  g_return_if_fail (reliability != NULL && before != NULL && frame != NULL);
  g_return_if_fail (ns_tensor_same_shape (before, frame) && reliability->w == frame->w
                    && reliability->h == frame->h);

  moved = ns_flow_warp (before, backward);
  cc.moved = moved;
  cc.frame = frame;
  cc.c = reliability->data;
  ns_parallel_range (frame->h, ns_chunk_rows (frame->w), (gsize) frame->w * frame->c,
                     colour_rows, &cc);
}

typedef struct
{
  NsTensor       *reliability;
  const NsTensor *backward;
  float           frames;
} Ease;

/* How many frames the content at (x, y) has been in view: from where the backward flow
 * takes it in the frame before, how many more steps of that flow lead out of the frame. */
static float
frames_in_view (const NsTensor *bwd, int x, int y)
{
  int w = bwd->w, h = bwd->h;
  gsize p = (gsize) y * w + x, n = (gsize) w * h;
  float u = bwd->data[p], v = bwd->data[n + p], qx = (float) x + u, qy = (float) y + v;
  float t = G_MAXFLOAT;

  if (u > 0.0f)
    t = MIN (t, ((float) (w - 1) - qx) / u);
  else if (u < 0.0f)
    t = MIN (t, qx / -u);
  if (v > 0.0f)
    t = MIN (t, ((float) (h - 1) - qy) / v);
  else if (v < 0.0f)
    t = MIN (t, qy / -v);
  return MAX (t, 0.0f);
}

static void
ease_rows (gsize from, gsize to, gpointer data)
{
  const Ease *e = data;
  int w = e->reliability->w;

  for (gsize y = from; y < to; y++)
    for (int x = 0; x < w; x++)
      {
        float r = MIN (frames_in_view (e->backward, x, (int) y) / e->frames, 1.0f);

        e->reliability->data[y * w + x] *= r * r * (3.0f - 2.0f * r);
      }
}

void
ns_flow_ease_in (NsTensor *reliability, const NsTensor *backward, double frames)
{
  Ease e;

  g_return_if_fail (reliability != NULL && backward != NULL && backward->c == 2);
  g_return_if_fail (reliability->w == backward->w && reliability->h == backward->h);
  g_return_if_fail (frames > 0.0);

  e.reliability = reliability;
  e.backward = backward;
  e.frames = (float) frames;
  ns_parallel_range (reliability->h, ns_chunk_rows (reliability->w), reliability->w, ease_rows,
                     &e);
}
