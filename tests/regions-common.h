/* regions-common.h — what test-regions.c and test-region-carry.c share: images, feathered
 * masks, two regions of a content, and objectives with regions. */
#ifndef NS_TEST_REGIONS_COMMON_H
#define NS_TEST_REGIONS_COMMON_H

#include "objective-internal.h"
#include "testutil.h"

/* Images of different seeds differ in structure too. */
static inline NsImage *
make_image (int w, int h, guint32 seed)
{
  return ns_test_image (w, h, seed, 0.05f * seed);
}

/* A feathered mask: 1 left of column `edge`, 0 right of it, a linear ramp `feather` wide. */
static inline NsImage *
ramp_mask (int w, int h, int edge, int feather, gboolean invert)
{
  NsImage *m = ns_image_new (w, h, 1);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float v = CLAMP (0.5f + (float) (edge - x) / feather, 0.0f, 1.0f);

        m->data[(gsize) y * w + x] = invert ? 1.0f - v : v;
      }
  return m;
}

/* `general`: untiled through the network pass even where objective-shallow.c applies. */
static inline NsObjective *
objective_by (NsNetwork *net, NsOptions *opt, const NsImage *content,
              const NsImage * const *styles, int n_styles, const NsRegions *regions, int tile,
              gboolean general)
{
  NsObjectiveConfig config = { tile, 0, TRUE, TRUE, NULL, general, regions };
  g_autoptr (GError) error = NULL;
  NsObjective *obj = ns_objective_new_full (net, opt, content, styles, NULL, n_styles, &config,
                                            &error);

  g_assert_no_error (error);
  return obj;
}

static inline NsObjective *
objective (NsNetwork *net, NsOptions *opt, const NsImage *content, const NsImage * const *styles,
           int n_styles, const NsRegions *regions, int tile)
{
  return objective_by (net, opt, content, styles, n_styles, regions, tile, TRUE);
}

/* A content, two styles and two feathered regions: left of edge_l and right of edge_r, the
 * rest between them. */
typedef struct
{
  NsImage *content, *style[2], *mask[2];
} TwoRegions;

static inline void
two_regions_init (TwoRegions *t, int w, int h, int edge_l, int edge_r, int feather)
{
  t->content = make_image (w, h, 1);
  t->style[0] = make_image (60, 70, 2);
  t->style[1] = make_image (80, 50, 3);
  t->mask[0] = ramp_mask (w, h, edge_l, feather, FALSE);
  t->mask[1] = ramp_mask (w, h, edge_r, feather, TRUE);
}

static inline void
two_regions_clear (TwoRegions *t)
{
  ns_image_free (t->content);
  for (int i = 0; i < 2; i++)
    {
      ns_image_free (t->style[i]);
      ns_image_free (t->mask[i]);
    }
}

/* Diagonal dark-red strokes on yellow (kind 0), or soft blue dots on pale green (kind 1). */
static inline NsImage *
painting (int kind, int w, int h)
{
  NsImage *img = ns_image_new (w, h, 3);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float *p = img->data + 3 * ((gsize) y * w + x);

        if (kind == 0)
          {
            float s = ((x + y) / 4) % 2 ? 1.0f : 0.0f;

            p[0] = 0.95f - 0.4f * s;
            p[1] = 0.85f - 0.7f * s;
            p[2] = 0.2f;
          }
        else
          {
            float dx = (x % 12) - 5.5f, dy = (y % 12) - 5.5f;
            float d = expf (-(dx * dx + dy * dy) / 12.0f);

            p[0] = 0.7f - 0.6f * d;
            p[1] = 0.9f - 0.4f * d;
            p[2] = 0.6f + 0.4f * d;
          }
      }
  return img;
}

#endif /* NS_TEST_REGIONS_COMMON_H */
