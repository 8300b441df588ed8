/* color.c — colour transforms between the user's image and the network input.
 *
 * Colour preservation follows Gatys et al. 2016, "Preserving colour in neural artistic
 * style transfer": luminance-only transfer optimises Y of YIQ and takes I and Q from the
 * content; histogram matching is their linear transfer x' = A (x − μs) + μc with
 * A = Σc^½ Σs^−½ (symmetric square roots), which gives the style the content's mean and
 * covariance.
 */
#include "ns-internal.h"

#include <math.h>
#include <string.h>

/* Y row of the YIQ transform.  The I and Q rows each sum to zero and this one to one,
 * so adding the same amount to R, G and B changes Y by that amount and leaves I and Q
 * alone: that is what ns_color_merge_luminance relies on. */
#define LUMA_R 0.299f
#define LUMA_G 0.587f
#define LUMA_B 0.114f

static gboolean
same_plane (const NsTensor *a, const NsTensor *b)
{
  return a->h == b->h && a->w == b->w;
}

NsTensor *
ns_color_to_network (const NsImage *rgb, const float mean[3], const float std[3])
{
  NsTensor *t;
  gsize n;

  g_return_val_if_fail (rgb != NULL && rgb->channels == 3, NULL);

  t = ns_tensor_new (3, rgb->height, rgb->width);
  n = (gsize) rgb->width * rgb->height;
  for (int c = 0; c < 3; c++)
    {
      float *plane = t->data + c * n;
      float inv = 1.0f / std[c];

      for (gsize i = 0; i < n; i++)
        plane[i] = (rgb->data[3 * i + c] - mean[c]) * inv;
    }
  return t;
}

void
ns_color_to_network_backward (const NsTensor *grad_net, const float std[3], NsTensor *grad_img)
{
  gsize n;

  g_return_if_fail (grad_net != NULL && grad_img != NULL);
  g_return_if_fail (grad_net->c == 3 && grad_img->c == 3 && same_plane (grad_net, grad_img));

  n = (gsize) grad_net->h * grad_net->w;
  for (int c = 0; c < 3; c++)
    {
      float inv = 1.0f / std[c];

      for (gsize i = 0; i < n; i++)
        grad_img->data[c * n + i] = grad_net->data[c * n + i] * inv;
    }
}

NsTensor *
ns_color_image_to_tensor (const NsImage *image)
{
  NsTensor *t;
  gsize n;
  int ch;

  g_return_val_if_fail (image != NULL, NULL);

  ch = image->channels;
  t = ns_tensor_new (ch, image->height, image->width);
  n = (gsize) image->width * image->height;
  for (int c = 0; c < ch; c++)
    for (gsize i = 0; i < n; i++)
      t->data[c * n + i] = image->data[i * ch + c];
  return t;
}

NsImage *
ns_color_tensor_to_image (const NsTensor *t)
{
  NsImage *image;
  gsize n;

  g_return_val_if_fail (t != NULL && (t->c == 1 || t->c == 3), NULL);

  image = ns_image_new (t->w, t->h, t->c);
  n = (gsize) t->w * t->h;
  for (int c = 0; c < t->c; c++)
    for (gsize i = 0; i < n; i++)
      image->data[i * t->c + c] = t->data[c * n + i];
  return image;
}

NsTensor *
ns_color_luminance (const NsTensor *rgb)
{
  NsTensor *y;
  gsize n;

  g_return_val_if_fail (rgb != NULL && rgb->c == 3, NULL);

  y = ns_tensor_new (1, rgb->h, rgb->w);
  n = (gsize) rgb->h * rgb->w;
  for (gsize i = 0; i < n; i++)
    y->data[i] = LUMA_R * rgb->data[i] + LUMA_G * rgb->data[n + i] + LUMA_B * rgb->data[2 * n + i];
  return y;
}

void
ns_color_expand_luminance (const NsTensor *y, NsTensor *rgb)
{
  gsize n;

  g_return_if_fail (y != NULL && rgb != NULL);
  g_return_if_fail (y->c == 1 && rgb->c == 3 && same_plane (y, rgb));

  n = (gsize) y->h * y->w;
  for (int c = 0; c < 3; c++)
    memcpy (rgb->data + c * n, y->data, n * sizeof (float));
}

void
ns_color_expand_luminance_backward (const NsTensor *grad_rgb, NsTensor *grad_y)
{
  gsize n;

  g_return_if_fail (grad_rgb != NULL && grad_y != NULL);
  g_return_if_fail (grad_rgb->c == 3 && grad_y->c == 1 && same_plane (grad_rgb, grad_y));

  n = (gsize) grad_y->h * grad_y->w;
  for (gsize i = 0; i < n; i++)
    grad_y->data[i] = grad_rgb->data[i] + grad_rgb->data[n + i] + grad_rgb->data[2 * n + i];
}

/* Not clamped: the caller clamps to [0,1] when it makes the final image, and clamping
 * here would change I and Q of saturated pixels. */
NsTensor *
ns_color_merge_luminance (const NsTensor *y, const NsTensor *content_rgb)
{
  NsTensor *out;
  gsize n;

  g_return_val_if_fail (y != NULL && content_rgb != NULL, NULL);
  g_return_val_if_fail (y->c == 1 && content_rgb->c == 3 && same_plane (y, content_rgb), NULL);

  out = ns_tensor_copy (content_rgb);
  n = (gsize) y->h * y->w;
  for (gsize i = 0; i < n; i++)
    {
      const float *p = content_rgb->data;
      float dy = y->data[i] - (LUMA_R * p[i] + LUMA_G * p[n + i] + LUMA_B * p[2 * n + i]);

      out->data[i] += dy;
      out->data[n + i] += dy;
      out->data[2 * n + i] += dy;
    }
  return out;
}

/* ---- linear colour transfer ------------------------------------------------------------- */

static void
rgb_statistics (const NsTensor *t, double mean[3], double cov[3][3])
{
  gsize n = (gsize) t->h * t->w;
  double s[3] = { 0 }, ss[3][3] = { { 0 } };

  for (gsize i = 0; i < n; i++)
    {
      double v[3] = { t->data[i], t->data[n + i], t->data[2 * n + i] };

      for (int a = 0; a < 3; a++)
        {
          s[a] += v[a];
          for (int b = a; b < 3; b++)
            ss[a][b] += v[a] * v[b];
        }
    }
  for (int a = 0; a < 3; a++)
    mean[a] = s[a] / n;
  for (int a = 0; a < 3; a++)
    for (int b = a; b < 3; b++)
      cov[a][b] = cov[b][a] = ss[a][b] / n - mean[a] * mean[b];
}

/* Cyclic Jacobi on a symmetric 3×3: m = V · diag(eig) · Vᵀ, V's columns the eigenvectors. */
static void
jacobi3 (const double m[3][3], double eig[3], double v[3][3])
{
  double a[3][3];

  memcpy (a, m, sizeof a);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      v[i][j] = i == j;

  for (int sweep = 0; sweep < 50; sweep++)
    {
      double off = fabs (a[0][1]) + fabs (a[0][2]) + fabs (a[1][2]);
      double scale = fabs (a[0][0]) + fabs (a[1][1]) + fabs (a[2][2]);

      if (off <= 1e-300 || off <= 1e-15 * scale)
        break;
      for (int p = 0; p < 2; p++)
        for (int q = p + 1; q < 3; q++)
          {
            double theta, t, c, s;

            if (a[p][q] == 0.0)
              continue;
            theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            t = (theta >= 0 ? 1.0 : -1.0) / (fabs (theta) + sqrt (theta * theta + 1.0));
            c = 1.0 / sqrt (t * t + 1.0);
            s = t * c;
            /* a ← Jᵀ a J with the rotation J in the (p, q) plane */
            for (int k = 0; k < 3; k++)
              {
                double akp = a[k][p], akq = a[k][q];
                a[k][p] = c * akp - s * akq;
                a[k][q] = s * akp + c * akq;
              }
            for (int k = 0; k < 3; k++)
              {
                double apk = a[p][k], aqk = a[q][k];
                a[p][k] = c * apk - s * aqk;
                a[q][k] = s * apk + c * aqk;
              }
            for (int k = 0; k < 3; k++)
              {
                double vkp = v[k][p], vkq = v[k][q];
                v[k][p] = c * vkp - s * vkq;
                v[k][q] = s * vkp + c * vkq;
              }
          }
    }
  for (int i = 0; i < 3; i++)
    eig[i] = a[i][i];
}

/* out = V · diag(f(eig)) · Vᵀ */
static void
sym_function (const double v[3][3], const double f[3], double out[3][3])
{
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      {
        double acc = 0.0;
        for (int k = 0; k < 3; k++)
          acc += v[i][k] * f[k] * v[j][k];
        out[i][j] = acc;
      }
}

/* Σ^½ (power = ½) or Σ^−½ (power = −½).  Eigenvalues are floored at a small fraction of
 * the largest: a flat (e.g. grey) style has a singular covariance, and its null directions
 * must not be amplified without bound. */
static void
sym_power (const double m[3][3], double power, double out[3][3])
{
  double eig[3], v[3][3], f[3], top;

  jacobi3 (m, eig, v);
  top = MAX (MAX (eig[0], eig[1]), eig[2]);
  for (int k = 0; k < 3; k++)
    {
      double floor_ = power < 0 ? 1e-5 * MAX (top, 0.0) + 1e-10 : 0.0;
      f[k] = pow (MAX (eig[k], floor_), power);
    }
  sym_function (v, f, out);
}

/* Not clamped to [0,1]: the network takes any values, and clamping would undo the match. */
NsTensor *
ns_color_match_histogram (const NsTensor *style, const NsTensor *content)
{
  double ms[3], mc[3], cs[3][3], cc[3][3], rc[3][3], ris[3][3], a[3][3];
  NsTensor *out;
  gsize n;

  g_return_val_if_fail (style != NULL && content != NULL, NULL);
  g_return_val_if_fail (style->c == 3 && content->c == 3, NULL);

  rgb_statistics (style, ms, cs);
  rgb_statistics (content, mc, cc);
  sym_power (cc, 0.5, rc);
  sym_power (cs, -0.5, ris);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      {
        double acc = 0.0;
        for (int k = 0; k < 3; k++)
          acc += rc[i][k] * ris[k][j];
        a[i][j] = acc;
      }

  out = ns_tensor_new_like (style);
  n = (gsize) style->h * style->w;
  for (gsize i = 0; i < n; i++)
    {
      double d[3];

      for (int c = 0; c < 3; c++)
        d[c] = style->data[c * n + i] - ms[c];
      for (int c = 0; c < 3; c++)
        out->data[c * n + i] = (float) (a[c][0] * d[0] + a[c][1] * d[1] + a[c][2] * d[2] + mc[c]);
    }
  return out;
}

static void
plane_statistics (const NsTensor *t, double *mean, double *sd)
{
  gsize n = ns_tensor_len (t);
  double s = 0.0, ss = 0.0;

  for (gsize i = 0; i < n; i++)
    s += t->data[i];
  *mean = s / n;
  for (gsize i = 0; i < n; i++)
    {
      double d = t->data[i] - *mean;
      ss += d * d;
    }
  *sd = sqrt (ss / n);
}

void
ns_color_match_luminance (NsTensor *y, const NsTensor *ref)
{
  double my, sy, mr, sr, gain;
  gsize n;

  g_return_if_fail (y != NULL && ref != NULL && y->c == 1 && ref->c == 1);

  plane_statistics (y, &my, &sy);
  plane_statistics (ref, &mr, &sr);
  /* A flat y has no contrast to scale: only its mean moves. */
  gain = sy > 1e-8 ? sr / sy : 1.0;
  n = ns_tensor_len (y);
  for (gsize i = 0; i < n; i++)
    y->data[i] = (float) ((y->data[i] - my) * gain + mr);
}
