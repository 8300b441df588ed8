/* test-temporal.c — the temporal loss (engine/loss-temporal.c): values against a naive double
 * formula, the gradient against finite differences, weighting and accumulation, the row
 * ranges a tiled evaluation calls against the whole, and the same bits at any thread count. */
#include <string.h>

#include "ns-internal.h"
#include "testutil.h"

typedef struct
{
  NsTensor *x, *warped, *r;
} Frame;

static void
frame_init (Frame *f, int c, int h, int w, guint32 seed)
{
  f->x = ns_tensor_new (c, h, w);
  f->warped = ns_tensor_new (c, h, w);
  f->r = ns_tensor_new (1, h, w);
  ns_test_fill (f->x->data, ns_tensor_len (f->x), seed, 0.0f, 1.0f);
  ns_test_fill (f->warped->data, ns_tensor_len (f->x), seed + 1, 0.0f, 1.0f);
  ns_test_fill (f->r->data, ns_tensor_len (f->r), seed + 2, 0.0f, 1.0f);
}

static void
frame_clear (Frame *f)
{
  ns_tensor_free (f->x);
  ns_tensor_free (f->warped);
  ns_tensor_free (f->r);
}

static double
reference (const Frame *f)
{
  gsize hw = (gsize) f->x->h * f->x->w, n = ns_tensor_len (f->x);
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      double d = (double) f->x->data[i] - f->warped->data[i];

      s += f->r->data[i % hw] * d * d;
    }
  return s / (double) n;
}

static void
test_values (void)
{
  static const int shapes[][3] = {
    { 1, 1, 1 }, { 3, 1, 1 }, { 1, 3, 5 }, { 3, 5, 7 }, { 3, 70, 600 },
  };

  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      Frame f;
      double l, ref;

      frame_init (&f, shapes[k][0], shapes[k][1], shapes[k][2], 10 + 3 * k);
      l = ns_temporal_loss (f.x, f.warped, f.r, 1.0, NULL);
      ref = reference (&f);
      g_assert_cmpfloat (ref, >, 0.0);
      g_assert_cmpfloat (fabs (l - ref), <=, 1e-12 * ref);
      frame_clear (&f);
    }
}

/* Where the reliability is 0 the previous frame has no say, whatever the difference. */
static void
test_unreliable (void)
{
  Frame f;
  g_autoptr (NsTensor) g = NULL;

  frame_init (&f, 3, 9, 11, 40);
  g = ns_tensor_new_like (f.x);
  memset (f.r->data, 0, ns_tensor_len (f.r) * sizeof (float));
  g_assert_cmpfloat (ns_temporal_loss (f.x, f.warped, f.r, 5.0, g), ==, 0.0);
  for (gsize i = 0; i < ns_tensor_len (g); i++)
    g_assert_cmpfloat (g->data[i], ==, 0.0f);
  frame_clear (&f);
}

typedef struct
{
  Frame  *f;
  double  weight;
} Probe;

static double
probe_loss (const float *x, float *grad, gpointer data)
{
  const Probe *p = data;
  NsTensor xt = *p->f->x, gt = *p->f->x;

  xt.data = (float *) x;
  gt.data = grad;
  if (grad != NULL)
    memset (grad, 0, ns_tensor_len (&xt) * sizeof (float));
  return ns_temporal_loss (&xt, p->f->warped, p->f->r, p->weight, grad != NULL ? &gt : NULL);
}

static void
test_gradient (void)
{
  Frame f;
  Probe p;
  double worst;

  frame_init (&f, 3, 6, 7, 50);
  p.f = &f;
  p.weight = 3.0;
  worst = ns_test_gradcheck (probe_loss, &p, f.x->data, ns_tensor_len (f.x), 1e-2, 1000, 51);
  g_test_message ("temporal gradient: worst relative error %.2e", worst);
  g_assert_cmpfloat (worst, <, 1e-3);
  frame_clear (&f);
}

/* weight · loss comes back, and weight · gradient is ADDED to what grad holds. */
static void
test_weight_and_accumulate (void)
{
  Frame f;
  g_autoptr (NsTensor) g1 = NULL;
  g_autoptr (NsTensor) gw = NULL;
  double l1, lw;
  gsize n;

  frame_init (&f, 3, 6, 5, 60);
  n = ns_tensor_len (f.x);
  g1 = ns_tensor_new_like (f.x);
  gw = ns_tensor_new_like (f.x);
  for (gsize i = 0; i < n; i++)
    gw->data[i] = 0.25f * (float) i;
  l1 = ns_temporal_loss (f.x, f.warped, f.r, 1.0, g1);
  lw = ns_temporal_loss (f.x, f.warped, f.r, 2.5, gw);
  g_assert_cmpfloat (fabs (lw - 2.5 * l1), <=, 1e-12 * lw);
  g_assert_cmpfloat (ns_temporal_loss (f.x, f.warped, f.r, 2.5, NULL), ==, lw);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (fabs (gw->data[i] - 0.25f * (float) i - 2.5f * g1->data[i]), <=,
                       1e-5 * (1.0 + 0.25 * i));
  frame_clear (&f);
}

/* Row ranges of uneven tiles give the whole's gradient bit for bit and its sum. */
static void
test_rows (void)
{
  static const int cuts[] = { 0, 1, 4, 17, 40 };
  int c = 3, h = 40, w = 33;
  Frame f;
  g_autoptr (NsTensor) g = NULL;
  g_autoptr (NsTensor) g2 = NULL;
  double weight = 7.5, n, sum = 0.0, l;
  float scale;

  frame_init (&f, c, h, w, 70);
  n = (double) ns_tensor_len (f.x);
  scale = (float) (2.0 * weight / n);
  g = ns_tensor_new_like (f.x);
  g2 = ns_tensor_new_like (f.x);
  l = ns_temporal_loss (f.x, f.warped, f.r, weight, g);
  for (guint b = 0; b + 1 < G_N_ELEMENTS (cuts); b++)
    {
      int y0 = cuts[b], y1 = cuts[b + 1];
      gsize plane = (gsize) (y1 - y0) * w;
      g_autofree float *band = g_new0 (float, c * plane);

      sum += ns_temporal_rows (f.x->data, f.warped->data, f.r->data, c, w, h, y0, y1, scale,
                               band, y0, plane);
      for (int k = 0; k < c; k++)
        memcpy (g2->data + ((gsize) k * h + y0) * w, band + k * plane, plane * sizeof (float));
    }
  g_assert_cmpfloat (fabs (weight * sum / n - l), <=, 1e-12 * l);
  g_assert_cmpmem (g2->data, ns_tensor_len (g) * sizeof (float), g->data,
                   ns_tensor_len (g) * sizeof (float));
  /* Without a band, only the sum. */
  sum = ns_temporal_rows (f.x->data, f.warped->data, f.r->data, c, w, h, 0, h, scale, NULL, 0, 0);
  g_assert_cmpfloat (fabs (sum / n - reference (&f)), <=, 1e-12 * reference (&f));
  frame_clear (&f);
}

/* Chunks are fixed by the size, so 1, 2 and 3 threads give the same loss and gradient. */
static void
test_threads (void)
{
  Frame f;
  g_autoptr (NsTensor) g1 = NULL;
  double l1 = 0.0;
  int saved = ns_parallel_threads ();

  frame_init (&f, 3, 257, 511, 80);
  for (int threads = 1; threads <= 3; threads++)
    {
      g_autoptr (NsTensor) g = ns_tensor_new_like (f.x);
      double l;

      ns_parallel_set_threads (threads);
      l = ns_temporal_loss (f.x, f.warped, f.r, 2.0, g);
      if (threads == 1)
        {
          l1 = l;
          g1 = g_steal_pointer (&g);
          continue;
        }
      g_assert_cmpfloat (l, ==, l1);
      g_assert_cmpmem (g->data, ns_tensor_len (g) * sizeof (float), g1->data,
                       ns_tensor_len (g) * sizeof (float));
    }
  ns_parallel_set_threads (saved);
  frame_clear (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/temporal/values", test_values);
  g_test_add_func ("/temporal/unreliable", test_unreliable);
  g_test_add_func ("/temporal/gradient", test_gradient);
  g_test_add_func ("/temporal/weight-and-accumulate", test_weight_and_accumulate);
  g_test_add_func ("/temporal/rows", test_rows);
  g_test_add_func ("/temporal/threads", test_threads);
  return g_test_run ();
}
