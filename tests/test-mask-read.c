/* test-mask-read.c — plugin/scaled-read.c: a mask placed elsewhere in the image than the
 * layer (other offsets), read over part of the layer at a preview's scale, has each pixel
 * where the layer's own scaled read has it.  The layer and the mask hold the same shapes
 * at the same place in the image, so the two reads must agree; reading the mask through a
 * shifted rectangle (as the plug-in did) moves it by up to a pixel of the read. */
#include <math.h>

#include "scaled-read.h"
#include "testutil.h"

/* A sharp-edged disc and bar at image coordinates, in a buffer whose (0,0) is at `ox, oy`
 * in the image. */
static GeglBuffer *
shapes (gint ox, gint oy, gint w, gint h)
{
  GeglBuffer *b = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h), babl_format ("Y float"));
  g_autofree float *px = g_new (float, (gsize) w * h);

  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++)
      {
        double ix = x + ox + 0.5, iy = y + oy + 0.5;
        gboolean disc = (ix - 70) * (ix - 70) + (iy - 50) * (iy - 50) < 23.0 * 23.0;
        gboolean bar = ix >= 101 && ix < 104 && iy >= 20 && iy < 90;

        px[(gsize) y * w + x] = disc || bar ? 1.0f : 0.0f;
      }
  gegl_buffer_set (b, NULL, 0, babl_format ("Y float"), px, GEGL_AUTO_ROWSTRIDE);
  return b;
}

/* The largest |a − b| over the pixels. */
static double
max_diff (const float *a, const float *b, gsize n)
{
  double worst = 0.0;

  for (gsize i = 0; i < n; i++)
    worst = MAX (worst, fabs (a[i] - b[i]));
  return worst;
}

static void
test_placed (void)
{
  /* The layer at (13, 7) in the image, 120×96; the mask a channel at (0, 0) (or a layer
   * mask of another layer at (-5, 2)); the area read a part of the layer. */
  const gint layer_x = 13, layer_y = 7;
  const gint masks[][2] = { { 0, 0 }, { -5, 2 }, { 13, 7 } };
  const double scales[] = { 1.0, 0.5, 0.37, 0.23 };
  const GeglRectangle rect = { 9, 5, 101, 83 };
  g_autoptr (GeglBuffer) layer = shapes (layer_x, layer_y, 120, 96);
  double worst_old = 0.0;

  for (guint m = 0; m < G_N_ELEMENTS (masks); m++)
    {
      g_autoptr (GeglBuffer) mask = shapes (masks[m][0], masks[m][1], 150, 120);
      gint sx = layer_x - masks[m][0], sy = layer_y - masks[m][1];

      for (guint k = 0; k < G_N_ELEMENTS (scales); k++)
        {
          double s = scales[k];
          GeglRectangle at = ns_rect_scaled (&rect, s);
          GeglRectangle shifted = ns_rect_scaled (GEGL_RECTANGLE (rect.x + sx, rect.y + sy,
                                                                  rect.width, rect.height), s);
          gsize n = (gsize) at.width * at.height;
          g_autofree float *want = g_new (float, n);
          g_autofree float *old = g_new0 (float, n);
          g_autoptr (NsImage) got = ns_mask_read_scaled (mask, sx, sy, &rect, s);
          double err, err_old;

          gegl_buffer_get (layer, &at, s, babl_format ("Y float"), want, GEGL_AUTO_ROWSTRIDE,
                           GEGL_ABYSS_NONE);
          g_assert_cmpint (got->width, ==, at.width);
          g_assert_cmpint (got->height, ==, at.height);
          err = max_diff (got->data, want, n);
          if (shifted.width == at.width && shifted.height == at.height)
            {
              gegl_buffer_get (mask, &shifted, s, babl_format ("Y float"), old,
                               GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
              err_old = max_diff (old, want, n);
              worst_old = MAX (worst_old, err_old);
            }
          else
            err_old = NAN;
          g_test_message ("mask at (%d, %d), scale %.2f: %d×%d, largest difference %.2g "
                          "(through a shifted rectangle %.2g)", masks[m][0], masks[m][1], s,
                          at.width, at.height, err, err_old);
          g_assert_cmpfloat (err, <, 1e-4);
        }
    }
  /* The test can tell: the shifted rectangle's reads were off somewhere. */
  g_assert_cmpfloat (worst_old, >, 0.2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gegl_init (NULL, NULL);
  g_test_add_func ("/mask-read/placed", test_placed);
  return g_test_run ();
}
