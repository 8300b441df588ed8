/* test-region-carry.c — how a region's mask is carried down the network (mask-carry.c) and
 * the carry of each region (ns_stylizer_set_region_carry): the four carries at a step edge,
 * the objective's gradient with regions carried inside against finite differences, the
 * setter's bad inputs, and what inside is for: what lies outside a region does not change
 * how its inside is stylized. */
#include <math.h>
#include <string.h>
#include "regions-common.h"
#include "positive-weights.h"

/* ---- masks down the network --------------------------------------------------------------- */

/* conv, relu, pool, conv, relu: the layer kinds are all the masks read. */
static NsNetwork *
kinds_network (void)
{
  static const NsLayerKind kinds[] = { NS_LAYER_CONV, NS_LAYER_RELU, NS_LAYER_MAXPOOL,
                                       NS_LAYER_CONV, NS_LAYER_RELU };
  NsNetwork *net = g_new0 (NsNetwork, 1);

  net->n_layers = G_N_ELEMENTS (kinds);
  net->layers = g_new0 (NsLayer, net->n_layers);
  for (int i = 0; i < net->n_layers; i++)
    net->layers[i].kind = kinds[i];
  return net;
}

static void
kinds_network_free (NsNetwork *net)
{
  g_free (net->layers);
  g_free (net);
}

/* A mask at layer `layer`, row 0, column x, relative to its column 0 (normalisation aside). */
static double
ratio (const NsLayerMasks *m, int layer, int x)
{
  return m->at[layer][x] / m->at[layer][0];
}

static void
test_carry (void)
{
  NsNetwork *net = kinds_network ();
  gboolean hooked[5] = { FALSE, TRUE, FALSE, FALSE, TRUE };
  int w = 12, h = 6;
  g_autofree float *step = g_new (float, w * h);
  g_autofree float *ones = g_new (float, w * h);

  /* Left half 1, right half 0: the edge is between columns 5 and 6. */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        step[y * w + x] = x < 6 ? 1.0f : 0.0f;
        ones[y * w + x] = 1.0f;
      }
  {
    g_autoptr (NsLayerMasks) m = ns_layer_masks_new (net, step, w, h, 4, hooked,
                                                     NS_REGION_CARRY_FEATHERED);

    g_assert_null (m->at[0]);
    g_assert_cmpint (m->w[4], ==, 6);
    g_assert_cmpint (m->h[4], ==, 3);
    /* 3×3 averages: 2/3 and 1/3 beside the edge. */
    g_assert_cmpfloat (fabs (ratio (m, 1, 5) - 2.0 / 3), <, 1e-6);
    g_assert_cmpfloat (fabs (ratio (m, 1, 6) - 1.0 / 3), <, 1e-6);
    g_assert_cmpfloat (m->at[1][7], ==, 0.0f);
    /* Mean square 1. */
    {
      double ms = 0.0;

      for (int i = 0; i < m->w[1] * m->h[1]; i++)
        ms += (double) m->at[1][i] * m->at[1][i];
      g_assert_cmpfloat (fabs (ms / (m->w[1] * m->h[1]) - 1.0), <, 1e-6);
    }
    /* After the pooling (pairs (4,5) = (1 + 2/3)/2, (6,7) = (1/3 + 0)/2) and a 3×3 average:
     * the column of pair (4,5) is the mean of pairs (2,3), (4,5), (6,7): (1 + 5/6 + 1/6)/3. */
    g_assert_cmpfloat (fabs (ratio (m, 4, 2) - (1.0 + 5.0 / 6 + 1.0 / 6) / 3), <, 1e-6);
    g_assert_cmpfloat (fabs (ratio (m, 4, 3) - (5.0 / 6 + 1.0 / 6 + 0.0) / 3), <, 1e-6);
    g_assert_false (m->empty[4]);
  }
  {
    g_autoptr (NsLayerMasks) in = ns_layer_masks_new (net, step, w, h, 4, hooked,
                                                      NS_REGION_CARRY_INSIDE);
    g_autoptr (NsLayerMasks) all = ns_layer_masks_new (net, step, w, h, 4, hooked,
                                                       NS_REGION_CARRY_ALL);
    g_autoptr (NsLayerMasks) simple = ns_layer_masks_new (net, step, w, h, 4, hooked,
                                                          NS_REGION_CARRY_SIMPLE);

    /* Inside: the edge moves in by one pixel per convolution; all: out by one. */
    g_assert_cmpfloat (in->at[1][4], >, 0.0f);
    g_assert_cmpfloat (in->at[1][5], ==, 0.0f);
    g_assert_cmpfloat (all->at[1][6], >, 0.0f);
    g_assert_cmpfloat (all->at[1][7], ==, 0.0f);
    g_assert_cmpfloat (in->at[4][0], >, 0.0f);
    g_assert_cmpfloat (in->at[4][1], ==, 0.0f);
    g_assert_cmpfloat (all->at[4][4], >, 0.0f);
    g_assert_cmpfloat (all->at[4][5], ==, 0.0f);
    /* Simple: the step itself, then its 2×2 averages. */
    g_assert_cmpfloat (simple->at[1][5], ==, simple->at[1][0]);
    g_assert_cmpfloat (simple->at[1][6], ==, 0.0f);
    g_assert_cmpfloat (simple->at[4][2], ==, simple->at[4][0]);
    g_assert_cmpfloat (simple->at[4][3], ==, 0.0f);
  }
  /* A full mask stays exactly ones with every variant. */
  for (int carry = NS_REGION_CARRY_FEATHERED; carry <= NS_REGION_CARRY_ALL; carry++)
    {
      g_autoptr (NsLayerMasks) m = ns_layer_masks_new (net, ones, w, h, 4, hooked, carry);

      for (int i = 0; i < m->w[4] * m->h[4]; i++)
        g_assert_cmpfloat (m->at[4][i], ==, 1.0f);
    }
  /* A region of one pixel vanishes at the pooled layer with INSIDE. */
  {
    g_autofree float *dot = g_new0 (float, w * h);
    g_autoptr (NsLayerMasks) m = NULL;

    dot[2 * w + 3] = 1.0f;
    m = ns_layer_masks_new (net, dot, w, h, 4, hooked, NS_REGION_CARRY_INSIDE);
    g_assert_true (m->empty[4]);
  }
  kinds_network_free (net);
}

/* ---- the carry of a region ---------------------------------------------------------------- */

static double
objective_func (const float *x, float *grad, gpointer data)
{
  return ns_objective_eval (data, x, grad, NULL);
}

/* The built-in network with positive weights and biases: every ReLU stays on, so the
 * objective is smooth and central differences are meaningful (as in test-embedded.c). */
static NsNetwork *
smooth_network (void)
{
  NsNetwork *net = ns_network_new_embedded ();

  for (int i = 0; i < net->n_layers; i++)
    {
      NsLayer *l = &net->layers[i];

      if (l->kind != NS_LAYER_CONV)
        continue;
      ns_test_positive_conv (l, i);
      ns_conv_prepare (&l->conv);
    }
  return net;
}

/* The objective's gradient with regions carried inside, against finite differences
 * (directional: see test-embedded.c's per-channel check for why), at layers before and
 * after a pooling (its maxima are the kinks left: the step is kept small). */
static void
test_inside_gradient (void)
{
  g_autoptr (NsNetwork) net = smooth_network ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsRegions) regions = NULL;
  g_autoptr (NsObjective) inside = NULL;
  g_autoptr (NsObjective) feathered = NULL;
  g_autofree float *x = NULL;
  double err, fi, ff;
  TwoRegions t;

  two_regions_init (&t, 64, 48, 24, 40, 4);
  regions = ns_regions_new ((const NsImage * const *) t.mask, NULL, 2, NS_REGION_REST_STYLES,
                            NULL);
  ns_options_set_style_layers (opt, "relu1_1,relu2_1", NULL);
  ns_options_set_content_layer (opt, "relu2_1");
  ns_options_set_tv_weight (opt, 0.5);
  feathered = objective (net, opt, t.content, (const NsImage * const *) t.style, 2, regions, 0);
  for (int r = 0; r <= 2; r++)
    regions->carries[r] = NS_REGION_CARRY_INSIDE;
  inside = objective (net, opt, t.content, (const NsImage * const *) t.style, 2, regions, 0);
  x = ns_objective_initial (inside);
  for (gsize i = 0; i < ns_objective_len (inside); i++)
    x[i] += 0.1f * sinf ((float) i);
  err = ns_test_gradcheck_directional (objective_func, inside, x, ns_objective_len (inside),
                                       1e-3, 8, 11);
  fi = ns_objective_eval (inside, x, NULL, NULL);
  ff = ns_objective_eval (feathered, x, NULL, NULL);
  g_test_message ("inside: worst directional gradient error %.3g; loss %.6g (feathered %.6g)",
                  err, fi, ff);
  g_assert_cmpfloat (err, <, 1e-2);
  /* The carry is in effect. */
  g_assert_cmpfloat (fabs (fi - ff), >, 1e-4 * ff);
  two_regions_clear (&t);
}

/* A disc in a w × w square; `red`: the pixels outside it saturated red, else grey. */
static NsImage *
disc_content (int w, gboolean red, NsImage **mask)
{
  NsImage *img = ns_test_pattern (w, w, 3, 0.11, 0.07, 0.3f, 0.0f);

  *mask = ns_image_new (w, w, 1);
  for (int y = 0; y < w; y++)
    for (int x = 0; x < w; x++)
      {
        double dx = x + 0.5 - w / 2.0, dy = y + 0.5 - w / 2.0;
        gboolean in = dx * dx + dy * dy <= (w / 2.0 - 2) * (w / 2.0 - 2);
        float *p = img->data + 3 * ((gsize) y * w + x);

        (*mask)->data[(gsize) y * w + x] = in;
        if (! in && red)
          {
            p[0] = 1.0f;
            p[1] = p[2] = 0.0f;
          }
      }
  return img;
}

/* Style term alone, Adam: each pixel moves by its own gradient, so what is outside the
 * region can reach its inside only through the region's statistics. */
static NsImage *
disc_run (NsNetwork *net, gboolean red, NsRegionCarry carry, NsImage **mask)
{
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsStylizer) st = NULL;
  g_autoptr (NsImage) content = disc_content (64, red, mask);
  g_autoptr (NsImage) style = painting (0, 64, 64);
  const NsImage *styles[] = { style };
  const NsImage *masks[] = { *mask };
  g_autoptr (GError) error = NULL;
  NsImage *out;

  ns_options_set_iterations (opt, 8);
  ns_options_set_scales (opt, 1);
  ns_options_set_optimizer (opt, NS_OPTIMIZER_ADAM);
  ns_options_set_content_weight (opt, 0.0);
  ns_options_set_tv_weight (opt, 0.0);
  st = ns_stylizer_new (net, opt);
  g_assert_true (ns_stylizer_set_regions (st, masks, NULL, 1, NS_REGION_REST_CONTENT, NULL));
  g_assert_true (ns_stylizer_set_region_carry (st, 0, carry, &error));
  g_assert_no_error (error);
  out = ns_stylizer_run (st, content, styles, NULL, 1, &error);
  g_assert_no_error (error);
  return out;
}

/* Mean |a − b| over the pixels where mask is 1. */
static double
change_inside (const NsImage *a, const NsImage *b, const NsImage *mask)
{
  double sum = 0.0;
  gsize n = 0;

  for (gsize p = 0; p < (gsize) mask->width * mask->height; p++)
    if (mask->data[p] == 1.0f)
      {
        for (int c = 0; c < 3; c++)
          sum += fabs (a->data[3 * p + c] - b->data[3 * p + c]);
        n += 3;
      }
  return sum / n;
}

/* ns_stylizer_set_region_carry: its bad inputs, and what inside changes: painting the
 * outside of a disc red instead of grey moves the stylized inside when the disc's mask is
 * carried feathered, and leaves it where it was when carried inside. */
static void
test_carry_api (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded ();
  g_autoptr (NsOptions) opt = ns_options_new ();
  g_autoptr (NsStylizer) st = ns_stylizer_new (net, opt);
  g_autoptr (NsImage) good = ramp_mask (64, 48, 20, 4, FALSE);
  const NsImage *masks[] = { good, NULL };
  const NsImage *none[] = { NULL, NULL };
  struct { int style, carry; const char *says; } bad[] = {
    { 2, NS_REGION_CARRY_INSIDE, "no style 2" },
    { -2, NS_REGION_CARRY_INSIDE, "no style -2" },
    { 0, NS_REGION_CARRY_ALL + 1, "Unknown region carry" },
    { 0, -1, "Unknown region carry" },
  };
  GError *error = NULL;
  double feathered, inside, stylized;

  /* No regions yet, none after clearing them, none when every mask is NULL. */
  for (int k = 0; k < 3; k++)
    {
      if (k == 1)
        {
          g_assert_true (ns_stylizer_set_regions (st, masks, NULL, 2, NS_REGION_REST_STYLES,
                                                  NULL));
          ns_stylizer_clear_regions (st);
        }
      if (k == 2)
        g_assert_true (ns_stylizer_set_regions (st, none, NULL, 2, NS_REGION_REST_STYLES,
                                                NULL));
      g_assert_false (ns_stylizer_set_region_carry (st, 0, NS_REGION_CARRY_INSIDE, &error));
      g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "no regions"));
      g_clear_error (&error);
    }
  g_assert_true (ns_stylizer_set_regions (st, masks, NULL, 2, NS_REGION_REST_STYLES, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (ns_stylizer_set_region_carry (st, bad[i].style, bad[i].carry, &error));
      g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, bad[i].says));
      g_clear_error (&error);
    }
  /* Every style's region, one given everywhere, and the rest's. */
  for (int s = NS_REGION_THE_REST; s < 2; s++)
    {
      g_assert_true (ns_stylizer_set_region_carry (st, s, NS_REGION_CARRY_INSIDE, &error));
      g_assert_no_error (error);
    }

  {
    g_autoptr (NsImage) mask = NULL;
    g_autoptr (NsImage) grey = disc_content (64, FALSE, &mask);
    g_autoptr (NsImage) m1 = NULL, m2 = NULL, m3 = NULL, m4 = NULL;
    g_autoptr (NsImage) f_grey = disc_run (net, FALSE, NS_REGION_CARRY_FEATHERED, &m1);
    g_autoptr (NsImage) f_red = disc_run (net, TRUE, NS_REGION_CARRY_FEATHERED, &m2);
    g_autoptr (NsImage) i_grey = disc_run (net, FALSE, NS_REGION_CARRY_INSIDE, &m3);
    g_autoptr (NsImage) i_red = disc_run (net, TRUE, NS_REGION_CARRY_INSIDE, &m4);

    feathered = change_inside (f_grey, f_red, mask);
    inside = change_inside (i_grey, i_red, mask);
    stylized = change_inside (i_grey, grey, mask);
  }
  g_test_message ("red outside moves the inside by %.5f feathered, %.5f inside (the inside "
                  "stylized moved %.4f from the content)", feathered, inside, stylized);
  g_assert_cmpfloat (stylized, >, 0.01);
  g_assert_cmpfloat (feathered, >, 1e-3);
  g_assert_cmpfloat (inside, <, 0.01 * feathered);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/regions/carry", test_carry);
  g_test_add_func ("/regions/inside-gradient", test_inside_gradient);
  g_test_add_func ("/regions/carry-api", test_carry_api);
  return g_test_run ();
}
