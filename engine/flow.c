/* flow.c — optical flow between frames, how far it can be trusted, and warping by it.
 *
 * The flow itself comes from OpenCV's DIS (flow-dis.cc) when the engine is built with it;
 * the reliability follows Ruder et al.'s consistencyChecker (artistic-videos). */
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

/* Catmull-Rom weights of the four taps around a point `a` ∈ [0, 1) past the second. */
static inline void
cubic_weights (float a, float k[4])
{
  float a2 = a * a, a3 = a2 * a;

  k[0] = 0.5f * (-a3 + 2.0f * a2 - a);
  k[1] = 0.5f * (3.0f * a3 - 5.0f * a2 + 2.0f);
  k[2] = 0.5f * (-3.0f * a3 + 4.0f * a2 + a);
  k[3] = 0.5f * (a3 - a2);
}

/* plane at (fx, fy), Catmull-Rom, taps clamped to the image.  It keeps more of the fine
 * texture than bilinear at a fractional shift (bilinear halves the finest detail at half a
 * pixel), which matters when a frame's result is warped again every frame. */
static inline float
sample_cubic (const float *plane, int w, int h, float fx, float fy)
{
  float cx = fx >= 0.0f ? MIN (fx, (float) (w - 1)) : 0.0f;
  float cy = fy >= 0.0f ? MIN (fy, (float) (h - 1)) : 0.0f;
  int x0 = MIN ((int) cx, w - 1), y0 = MIN ((int) cy, h - 1);
  float kx[4], ky[4], sum = 0.0f;
  int xs[4];

  cubic_weights (cx - (float) x0, kx);
  cubic_weights (cy - (float) y0, ky);
  for (int i = 0; i < 4; i++)
    xs[i] = CLAMP (x0 - 1 + i, 0, w - 1);
  for (int j = 0; j < 4; j++)
    {
      const float *r = plane + (gsize) CLAMP (y0 - 1 + j, 0, h - 1) * w;

      sum += ky[j] * (kx[0] * r[xs[0]] + kx[1] * r[xs[1]] + kx[2] * r[xs[2]]
                      + kx[3] * r[xs[3]]);
    }
  return sum;
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
  NsTensor       *out;
  gboolean        cubic;
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

        for (int c = 0; c < wp->img->c; c++)
          wp->out->data[c * n + p] = wp->cubic
                                     ? sample_cubic (wp->img->data + c * n, w, h, fx, fy)
                                     : sample (wp->img->data + c * n, w, h, fx, fy);
      }
}

static NsTensor *
warp (const NsTensor *img, const NsTensor *flow, gboolean cubic)
{
  Warp wp;

  g_return_val_if_fail (img != NULL && flow != NULL, NULL);
  g_return_val_if_fail (flow->c == 2 && flow->h == img->h && flow->w == img->w, NULL);

  wp.img = img;
  wp.flow = flow;
  wp.cubic = cubic;
  wp.out = ns_tensor_new_uninit (img->c, img->h, img->w);
  ns_parallel_range (img->h, ns_chunk_rows (img->w), (gsize) img->w * img->c, warp_rows, &wp);
  return wp.out;
}

NsTensor *
ns_flow_warp (const NsTensor *img, const NsTensor *flow)
{
  return warp (img, flow, FALSE);
}

NsTensor *
ns_flow_warp_cubic (const NsTensor *img, const NsTensor *flow)
{
  return warp (img, flow, TRUE);
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
