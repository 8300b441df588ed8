/* frames.c — sequences with known camera motion, the warping error and streaks (frames.h). */
#include <math.h>
#include <string.h>

#include "frames.h"
#include "ns-internal.h"

#define SUPERSAMPLE 4

/* ---- sequences ----------------------------------------------------------------------------- */

/* img at (x, y), bilinear, reading the nearest edge pixel beyond the image. */
static void
sample (const NsImage *img, double x, double y, float out[3])
{
  int w = img->width, h = img->height, x0, y0, x1, y1;
  double fx, fy;

  x = CLAMP (x, 0.0, w - 1.0);
  y = CLAMP (y, 0.0, h - 1.0);
  x0 = (int) x;
  y0 = (int) y;
  x1 = MIN (x0 + 1, w - 1);
  y1 = MIN (y0 + 1, h - 1);
  fx = x - x0;
  fy = y - y0;
  for (int c = 0; c < 3; c++)
    {
      const float *d = img->data;
      const float *r0 = d + (gsize) y0 * w * 3, *r1 = d + (gsize) y1 * w * 3;
      double top = (1 - fx) * r0[x0 * 3 + c] + fx * r0[x1 * 3 + c];
      double bot = (1 - fx) * r1[x0 * 3 + c] + fx * r1[x1 * 3 + c];

      out[c] = (float) ((1 - fy) * top + fy * bot);
    }
}

/* Where a camera puts frame pixels in its photo: frame pixel (x, y) shows photo point
 * pc + k · R(θ) · (x − fcx, y − fcy). */
typedef struct
{
  double fcx, fcy, pcx, pcy, k, co, si;
} View;

static View
view_of (const EvCamera *camera, int photo_w, int photo_h, int w, int h)
{
  double th = camera->angle * G_PI / 180.0;

  return (View) { (w - 1) / 2.0, (h - 1) / 2.0, camera->cx * (photo_w - 1),
                  camera->cy * (photo_h - 1), camera->zoom * photo_w / w, cos (th), sin (th) };
}

/* The frame point (dx, dy) from the centre of `from` → the photo point it shows → where
 * `to` shows that point (frame pixels). */
static void
view_map (const View *from, const View *to, double dx, double dy, double *tx, double *ty)
{
  double px = from->pcx + from->k * (from->co * dx - from->si * dy) - to->pcx;
  double py = from->pcy + from->k * (from->si * dx + from->co * dy) - to->pcy;

  *tx = to->fcx + (to->co * px + to->si * py) / to->k;
  *ty = to->fcy + (-to->si * px + to->co * py) / to->k;
}

/* The mean of SUPERSAMPLE² bilinear samples of `src` over frame pixel (x, y)'s square, mapped
 * by `map` (NULL: src is the photo seen through `view`, else src is a frame seen through
 * `map`), as a camera integrates the light over its pixels: a pixel's blur does not depend
 * on where the motion put it between the source's pixels. */
static void
render_pixel (const NsImage *src, const View *view, const View *map, int x, int y,
              float px[3])
{
  px[0] = px[1] = px[2] = 0;
  for (int sy = 0; sy < SUPERSAMPLE; sy++)
    for (int sx = 0; sx < SUPERSAMPLE; sx++)
      {
        double dx = x - view->fcx + (sx + 0.5) / SUPERSAMPLE - 0.5;
        double dy = y - view->fcy + (sy + 0.5) / SUPERSAMPLE - 0.5;
        double u, v;
        float s[3];

        if (map)
          view_map (view, map, dx, dy, &u, &v);
        else
          {
            u = view->pcx + view->k * (view->co * dx - view->si * dy);
            v = view->pcy + view->k * (view->si * dx + view->co * dy);
          }
        sample (src, u, v, s);
        for (int c = 0; c < 3; c++)
          px[c] += s[c] / (SUPERSAMPLE * SUPERSAMPLE);
      }
}

/* Blends the disc centred at (ox, oy) (radius `radius`, anti-aliased edge) into px: src at
 * (sx, sy) + the offset from the centre. */
static void
blend_disc (const NsImage *src, double sx, double sy, double ox, double oy, double radius,
            int x, int y, float px[3])
{
  double d = hypot (x - ox, y - oy), a = CLAMP (radius + 0.5 - d, 0.0, 1.0);
  float o[3];

  if (a <= 0)
    return;
  sample (src, sx + (x - ox), sy + (y - oy), o);
  for (int c = 0; c < 3; c++)
    px[c] = (float) (a * o[c] + (1 - a) * px[c]);
}

NsImage *
ev_frame_render (const NsImage *photo, const EvCamera *camera, int w, int h,
                 const NsImage *overlay_photo, double ox, double oy, double radius)
{
  NsImage *out = ns_image_new (w, h, 3);
  View view = view_of (camera, photo->width, photo->height, w, h);

  g_return_val_if_fail (photo->channels == 3, NULL);
  g_return_val_if_fail (overlay_photo == NULL || overlay_photo->channels == 3, NULL);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float *px = out->data + ((gsize) y * w + x) * 3;

        render_pixel (photo, &view, NULL, x, y, px);
        if (overlay_photo)
          blend_disc (overlay_photo, (overlay_photo->width - 1) / 2.0,
                      (overlay_photo->height - 1) / 2.0, ox, oy, radius, x, y, px);
      }
  return out;
}

/* The camera and the disc's centre (frame pixels) at frame t of n. */
static EvCamera
camera_at (const EvCamera *from, const EvCamera *to, int t, int n)
{
  double u = (double) t / (n - 1);

  return (EvCamera) {
    from->cx + u * (to->cx - from->cx),
    from->cy + u * (to->cy - from->cy),
    from->zoom * pow (to->zoom / from->zoom, u),
    from->angle + u * (to->angle - from->angle),
  };
}

static void
disc_at (const EvOverlay *overlay, int t, int n, int w, int h, double *ox, double *oy)
{
  double u = (double) t / (n - 1);

  *ox = (overlay->x0 + u * (overlay->x1 - overlay->x0)) * (w - 1);
  *oy = (overlay->y0 + u * (overlay->y1 - overlay->y0)) * (h - 1);
}

NsImage **
ev_sequence_render (const NsImage *photo, const EvCamera *from, const EvCamera *to,
                    const NsImage *overlay_photo, const EvOverlay *overlay, int n, int w, int h)
{
  NsImage **frames = g_new0 (NsImage *, n);

  g_return_val_if_fail (n >= 2, NULL);
  for (int t = 0; t < n; t++)
    {
      EvCamera cam = camera_at (from, to, t, n);
      double ox, oy;

      if (overlay_photo && overlay)
        {
          disc_at (overlay, t, n, w, h, &ox, &oy);
          frames[t] = ev_frame_render (photo, &cam, w, h, overlay_photo, ox, oy,
                                       overlay->radius * h);
        }
      else
        frames[t] = ev_frame_render (photo, &cam, w, h, NULL, 0, 0, 0);
    }
  return frames;
}

NsImage **
ev_sequence_oracle (const NsImage *first, int photo_w, int photo_h, const EvCamera *from,
                    const EvCamera *to, const EvOverlay *overlay, int n)
{
  int w = first->width, h = first->height;
  EvCamera cam0 = camera_at (from, to, 0, n);
  View v0 = view_of (&cam0, photo_w, photo_h, w, h);
  NsImage **frames = g_new0 (NsImage *, n);
  g_autoptr (NsImage) rgb = first->channels == 3 ? NULL : ns_image_to_rgb (first);
  double ox0 = 0, oy0 = 0;

  g_return_val_if_fail (n >= 2, NULL);
  if (rgb)
    first = rgb;
  if (overlay)
    disc_at (overlay, 0, n, w, h, &ox0, &oy0);
  for (int t = 0; t < n; t++)
    {
      EvCamera cam = camera_at (from, to, t, n);
      View v = view_of (&cam, photo_w, photo_h, w, h);
      double ox, oy;

      frames[t] = ns_image_new (w, h, 3);
      if (overlay)
        disc_at (overlay, t, n, w, h, &ox, &oy);
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            float *px = frames[t]->data + ((gsize) y * w + x) * 3;

            render_pixel (first, &v, &v0, x, y, px);
            /* The disc's content moves with the disc: its point at (x, y) was at
             * (x, y) − (ox, oy) + (ox0, oy0) in the first frame. */
            if (overlay)
              blend_disc (first, ox0, oy0, ox, oy, overlay->radius * h, x, y, px);
          }
    }
  return frames;
}

NsImage **
ev_sequence_add_noise (NsImage * const *frames, int n, double sigma, guint32 seed)
{
  NsImage **out = g_new0 (NsImage *, n);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);

  for (int t = 0; t < n; t++)
    {
      gsize len = (gsize) frames[t]->width * frames[t]->height * frames[t]->channels;

      out[t] = ns_image_copy (frames[t]);
      for (gsize i = 0; i < len; i++)
        {
          /* Box–Muller */
          double u = g_rand_double_range (rand, 1e-12, 1.0), v = g_rand_double (rand);

          out[t]->data[i] += (float) (sigma * sqrt (-2 * log (u)) * cos (2 * G_PI * v));
        }
    }
  return out;
}

void
ev_sequence_free (NsImage **frames, int n)
{
  if (frames == NULL)
    return;
  for (int t = 0; t < n; t++)
    ns_image_free (frames[t]);
  g_free (frames);
}

/* ---- the warping error --------------------------------------------------------------------- */

struct _EvFlows
{
  int        n, gap, w, h;
  NsTensor **backward;    /* [t]: flow from frame t to frame t − gap (NULL for t < gap) */
  guint8   **mask;        /* [t]: 1 where it is reliable                                 */
  double     coverage;
};

EvFlows *
ev_flows_new (NsImage * const *input, int n, int gap, GError **error)
{
  g_autoptr (EvFlows) f = g_new0 (EvFlows, 1);
  gsize len;
  double kept = 0;

  g_return_val_if_fail (n > gap && gap >= 1, NULL);
  f->n = n;
  f->gap = gap;
  f->w = input[0]->width;
  f->h = input[0]->height;
  f->backward = g_new0 (NsTensor *, n);
  f->mask = g_new0 (guint8 *, n);
  len = (gsize) f->w * f->h;
  for (int t = gap; t < n; t++)
    {
      g_autoptr (NsTensor) fwd = ns_flow_compute (input[t - gap], input[t], NS_FLOW_MEDIUM, error);
      g_autoptr (NsTensor) rel = NULL;
      gsize on = 0;

      if (fwd == NULL)
        return NULL;
      f->backward[t] = ns_flow_compute (input[t], input[t - gap], NS_FLOW_MEDIUM, error);
      if (f->backward[t] == NULL)
        return NULL;
      rel = ns_flow_reliability (fwd, f->backward[t]);
      f->mask[t] = g_new (guint8, len);
      for (gsize i = 0; i < len; i++)
        on += f->mask[t][i] = rel->data[i] > 0.5f;
      kept += (double) on / len;
    }
  f->coverage = kept / (n - gap);
  return g_steal_pointer (&f);
}

void
ev_flows_free (EvFlows *flows)
{
  if (flows == NULL)
    return;
  for (int t = 0; t < flows->n; t++)
    {
      ns_tensor_free (flows->backward[t]);
      g_free (flows->mask[t]);
    }
  g_free (flows->backward);
  g_free (flows->mask);
  g_free (flows);
}

double
ev_flows_coverage (const EvFlows *flows)
{
  return flows->coverage;
}

double
ev_warp_error (const EvFlows *flows, NsImage * const *frames)
{
  gsize len = (gsize) flows->w * flows->h;
  double total = 0;
  int pairs = 0;

  for (int t = flows->gap; t < flows->n; t++)
    {
      const NsImage *cur = frames[t], *prev = frames[t - flows->gap];
      g_autoptr (NsImage) prev_rgb = prev->channels == 3 ? NULL : ns_image_to_rgb (prev);
      g_autoptr (NsImage) cur_rgb = cur->channels == 3 ? NULL : ns_image_to_rgb (cur);
      g_autoptr (NsTensor) p = NULL, warped = NULL;
      double sum = 0;
      gsize on = 0;

      g_return_val_if_fail (cur->width == flows->w && cur->height == flows->h, NAN);
      if (cur_rgb)
        cur = cur_rgb;
      p = ns_color_image_to_tensor (prev_rgb ? prev_rgb : prev);
      warped = ns_flow_warp (p, flows->backward[t]);
      for (gsize i = 0; i < len; i++)
        if (flows->mask[t][i])
          {
            for (int c = 0; c < 3; c++)
              {
                double d = cur->data[i * 3 + c] - warped->data[c * len + i];

                sum += d * d;
              }
            on++;
          }
      if (on == 0)
        continue;
      g_debug ("warping error of frames %d, %d: %.6f over %.1f%% of the pixels", t - flows->gap,
               t, sum / on, 100.0 * on / len);
      total += sum / on;
      pairs++;
    }
  return pairs ? total / pairs : NAN;
}

/* ---- streaks ------------------------------------------------------------------------------- */

/* The second difference of `img` (RGB, interleaved) along one axis at (x, y), channel c:
 * along x when `along_x`, else along y; 0 at the image's ends. */
static double
second_difference (const NsImage *img, int x, int y, int c, gboolean along_x)
{
  int w = img->width, h = img->height;
  int dx = along_x, dy = !along_x;

  if (x - dx < 0 || x + dx >= w || y - dy < 0 || y + dy >= h)
    return 0.0;
  return img->data[((gsize) (y - dy) * w + x - dx) * 3 + c]
         - 2.0 * img->data[((gsize) y * w + x) * 3 + c]
         + img->data[((gsize) (y + dy) * w + x + dx) * 3 + c];
}

/* Adds to *shared the energy of the detail along one axis that blocks of EV_STREAK_ROWS
 * lines across it have in common (their mean, times the block's length), and to *all its
 * whole energy. */
static void
streak_energy (const NsImage *img, gboolean along_x, double *shared, double *all)
{
  int lines = along_x ? img->height : img->width, len = along_x ? img->width : img->height;

  for (int b = 0; b + EV_STREAK_ROWS <= lines; b += EV_STREAK_ROWS)
    for (int i = 0; i < len; i++)
      for (int c = 0; c < 3; c++)
        {
          double sum = 0.0;

          for (int k = b; k < b + EV_STREAK_ROWS; k++)
            {
              double d = along_x ? second_difference (img, i, k, c, TRUE)
                                 : second_difference (img, k, i, c, FALSE);

              sum += d;
              *all += d * d;
            }
          *shared += sum * sum / EV_STREAK_ROWS;
        }
}

double
ev_streaks (NsImage * const *frames, int n, double *horizontal)
{
  double vs = 0.0, va = 0.0, hs = 0.0, ha = 0.0;

  for (int t = 1; t < n; t++)
    {
      g_autoptr (NsImage) rgb = frames[t]->channels == 3 ? NULL : ns_image_to_rgb (frames[t]);
      const NsImage *img = rgb ? rgb : frames[t];

      streak_energy (img, TRUE, &vs, &va);
      streak_energy (img, FALSE, &hs, &ha);
    }
  if (horizontal)
    *horizontal = ha > 0.0 ? hs / ha : NAN;
  return va > 0.0 ? vs / va : NAN;
}
