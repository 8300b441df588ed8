/* test-loss.c — content, style and total-variation losses: values against naive double
 * formulas, gradients against finite differences, weighting/accumulation, and the size
 * invariance of the normalisation. */
#include <string.h>

#include "ns-internal.h"
#include "testutil.h"

typedef struct { int c, h, w; } Shape;

static const Shape shapes[] = {
  { 1, 1, 1 }, { 3, 1, 1 }, { 1, 3, 5 }, { 3, 5, 7 }, { 3, 7, 1 }, { 16, 4, 3 }, { 16, 1, 1 },
};

static NsTensor
view (const Shape *s, float *data)
{
  NsTensor t = { s->c, s->h, s->w, data };
  return t;
}

static NsTensor *
random_tensor (const Shape *s, guint32 seed, float lo, float hi)
{
  NsTensor *t = ns_tensor_new (s->c, s->h, s->w);
  ns_test_fill (t->data, ns_tensor_len (t), seed, lo, hi);
  return t;
}

/* ---- naive double references ------------------------------------------------------------- */

static double
ref_content (const NsTensor *f, const NsTensor *p)
{
  gsize n = ns_tensor_len (f);
  double s = 0.0;
  for (gsize i = 0; i < n; i++)
    s += ((double) f->data[i] - p->data[i]) * ((double) f->data[i] - p->data[i]);
  return s / n;
}

static double *
ref_gram (const NsTensor *f)
{
  int c = f->c;
  gsize hw = (gsize) f->h * f->w;
  double *g = g_new0 (double, (gsize) c * c);
  for (int i = 0; i < c; i++)
    for (int j = 0; j < c; j++)
      {
        double s = 0.0;
        for (gsize k = 0; k < hw; k++)
          s += (double) f->data[i * hw + k] * f->data[j * hw + k];
        g[i * c + j] = s / ((double) c * hw);
      }
  return g;
}

static double
ref_style (const NsTensor *f, const float *a)
{
  double *g = ref_gram (f);
  double s = 0.0;
  int c = f->c;
  for (int i = 0; i < c * c; i++)
    s += (g[i] - a[i]) * (g[i] - a[i]);
  g_free (g);
  return s / ((double) c * c);
}

static double
ref_tv (const NsTensor *t)
{
  double s = 0.0;
  for (int c = 0; c < t->c; c++)
    for (int y = 0; y < t->h; y++)
      for (int x = 0; x < t->w; x++)
        {
          const float *p = t->data + ((gsize) c * t->h + y) * t->w + x;
          if (x + 1 < t->w)
            s += ((double) p[0] - p[1]) * ((double) p[0] - p[1]);
          if (y + 1 < t->h)
            s += ((double) p[0] - p[t->w]) * ((double) p[0] - p[t->w]);
        }
  return s / ns_tensor_len (t);
}

/* A target Gram: `scale` times the Gram of another random tensor in [lo, hi). */
static float *
target_gram_scaled (const Shape *s, guint32 seed, float lo, float hi, double scale)
{
  g_autoptr (NsTensor) other = random_tensor (s, seed, lo, hi);
  float *a = g_new (float, (gsize) s->c * s->c);
  double *g = ref_gram (other);
  for (int i = 0; i < s->c * s->c; i++)
    a[i] = (float) (scale * g[i]);
  g_free (g);
  return a;
}

static float *
target_gram (const Shape *s, guint32 seed)
{
  return target_gram_scaled (s, seed, -1.0f, 2.0f, 1.0);
}

/* ---- values ------------------------------------------------------------------------------ */

static void
check_close (double got, double want, double rel, const char *what)
{
  if (fabs (got - want) > rel * fabs (want) + 1e-12)
    g_error ("%s: got %.9g, expected %.9g", what, got, want);
}

static void
test_values (void)
{
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      const Shape *s = &shapes[k];
      g_autoptr (NsTensor) f = random_tensor (s, 10 + k, -1.0f, 2.0f);
      g_autoptr (NsTensor) p = random_tensor (s, 20 + k, -1.0f, 2.0f);
      g_autofree float *a = target_gram (s, 30 + k);

      check_close (ns_content_loss (f, p, 1.0, NULL), ref_content (f, p), 1e-12, "content");
      check_close (ns_style_loss (f, a, 1.0, NULL), ref_style (f, a), 1e-4, "style");
      check_close (ns_tv_loss (f, 1.0, NULL), ref_tv (f), 1e-12, "tv");
      g_assert_cmpfloat (ref_content (f, p), >, 0.0);
      g_assert_cmpfloat (ref_style (f, a), >, 0.0);
    }
}

static void
test_zero_cases (void)
{
  Shape s = { 3, 1, 1 };
  g_autoptr (NsTensor) f = random_tensor (&s, 1, 0.0f, 1.0f);
  g_autoptr (NsTensor) g = ns_tensor_new_like (f);
  g_autofree float *a = g_new (float, 9);

  /* a 1×1 image has no neighbour pairs */
  g_assert_cmpfloat (ns_tv_loss (f, 3.0, g), ==, 0.0);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (g->data[i], ==, 0.0f);
  /* the loss against one's own features or Gram is zero */
  g_assert_cmpfloat (ns_content_loss (f, f, 2.0, NULL), ==, 0.0);
  ns_gram (f, a);
  g_assert_cmpfloat (fabs (ns_style_loss (f, a, 2.0, NULL)), <, 1e-12);
}

/* ---- gradients ----------------------------------------------------------------------------- */

typedef enum { LOSS_CONTENT, LOSS_STYLE, LOSS_TV } LossKind;

typedef struct
{
  LossKind       kind;
  Shape          shape;
  const NsTensor *target;
  const float   *gram;
  double         weight;
} GradCase;

static double
loss_func (const float *x, float *grad, gpointer user_data)
{
  GradCase *gc = user_data;
  NsTensor f = view (&gc->shape, (float *) x);
  NsTensor g = view (&gc->shape, grad);
  NsTensor *gp = grad != NULL ? &g : NULL;

  if (grad != NULL)
    memset (grad, 0, ns_tensor_len (&f) * sizeof (float));
  switch (gc->kind)
    {
    case LOSS_CONTENT:
      return ns_content_loss (&f, gc->target, gc->weight, gp);
    case LOSS_STYLE:
      return ns_style_loss (&f, gc->gram, gc->weight, gp);
    case LOSS_TV:
      return ns_tv_loss (&f, gc->weight, gp);
    }
  g_assert_not_reached ();
}

static void
gradcheck_kind (LossKind kind, float lo, float hi, double gram_scale, double eps, double tol)
{
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      const Shape *s = &shapes[k];
      g_autoptr (NsTensor) f = random_tensor (s, 40 + k, lo, hi);
      g_autoptr (NsTensor) p = random_tensor (s, 50 + k, lo, hi);
      g_autofree float *a = target_gram_scaled (s, 60 + k, lo, hi, gram_scale);
      GradCase gc = { kind, *s, p, a, 1.7 };
      double err = ns_test_gradcheck (loss_func, &gc, f->data, ns_tensor_len (f), eps, 400, 7);

      g_test_message ("kind %d shape %dx%dx%d: worst relative error %.2e", kind, s->c, s->h, s->w, err);
      g_assert_cmpfloat (err, <, tol);
    }
}

static void
test_grad_content (void)
{
  gradcheck_kind (LOSS_CONTENT, -1.0f, 2.0f, 1.0, 1e-2, 1e-3);
}

/* ns_gram sums in double but returns floats, so the loss carries ~1e-7·G of round-off, which finite
 * differences turn into noise of order 1e-7·G / eps.  Positive features (as after a
 * ReLU) and a target well away from G (half of it, then 1.5 times it) keep every
 * gradient entry large against that noise, so the tolerance can stay tight. */
static void
test_grad_style (void)
{
  gradcheck_kind (LOSS_STYLE, 0.25f, 1.25f, 0.5, 5e-3, 2e-3);
  gradcheck_kind (LOSS_STYLE, 0.25f, 1.25f, 1.5, 5e-3, 2e-3);
}

static void
test_grad_tv (void)
{
  gradcheck_kind (LOSS_TV, -1.0f, 2.0f, 1.0, 1e-2, 1e-3);
}

/* Each loss returns weight · loss and ADDS weight · gradient to what grad holds. */
static void
test_weight_and_accumulate (void)
{
  Shape s = { 3, 6, 5 };
  g_autoptr (NsTensor) f = random_tensor (&s, 70, -1.0f, 1.0f);
  g_autoptr (NsTensor) p = random_tensor (&s, 71, -1.0f, 1.0f);
  g_autofree float *a = target_gram (&s, 72);
  gsize n = ns_tensor_len (f);

  for (int kind = LOSS_CONTENT; kind <= LOSS_TV; kind++)
    {
      g_autoptr (NsTensor) g1 = ns_tensor_new_like (f);
      g_autoptr (NsTensor) gw = ns_tensor_new_like (f);
      double l1 = 0, lw = 0, lnull = 0;
      double gmax = 0.0;

      for (gsize i = 0; i < n; i++)
        gw->data[i] = 0.25f * (float) i;
      switch (kind)
        {
        case LOSS_CONTENT:
          l1 = ns_content_loss (f, p, 1.0, g1);
          lw = ns_content_loss (f, p, 2.5, gw);
          lnull = ns_content_loss (f, p, 2.5, NULL);
          break;
        case LOSS_STYLE:
          l1 = ns_style_loss (f, a, 1.0, g1);
          lw = ns_style_loss (f, a, 2.5, gw);
          lnull = ns_style_loss (f, a, 2.5, NULL);
          break;
        case LOSS_TV:
          l1 = ns_tv_loss (f, 1.0, g1);
          lw = ns_tv_loss (f, 2.5, gw);
          lnull = ns_tv_loss (f, 2.5, NULL);
          break;
        }
      g_assert_cmpfloat (l1, >, 0.0);
      g_assert_cmpfloat (fabs (lw - 2.5 * l1), <=, 1e-12 * lw);
      g_assert_cmpfloat (lnull, ==, lw);
      for (gsize i = 0; i < n; i++)
        gmax = MAX (gmax, fabs (g1->data[i]));
      g_assert_cmpfloat (gmax, >, 0.0);
      for (gsize i = 0; i < n; i++)
        g_assert_cmpfloat (fabs ((gw->data[i] - 0.25 * i) - 2.5 * g1->data[i]), <=, 1e-5 * (1.0 + 0.25 * i));
    }
}

/* ---- size invariance ------------------------------------------------------------------- */

/* t (c×h×w) repeated 2×2 times: a periodic texture of twice the size with the same
 * statistics, exactly. */
static NsTensor *
tile2 (const NsTensor *t)
{
  NsTensor *out = ns_tensor_new (t->c, 2 * t->h, 2 * t->w);
  for (int c = 0; c < t->c; c++)
    for (int y = 0; y < out->h; y++)
      for (int x = 0; x < out->w; x++)
        out->data[((gsize) c * out->h + y) * out->w + x] =
          t->data[((gsize) c * t->h + y % t->h) * t->w + x % t->w];
  return out;
}

static void
test_size_invariance (void)
{
  Shape s = { 5, 6, 7 };
  g_autoptr (NsTensor) f = random_tensor (&s, 80, 0.0f, 2.0f);
  g_autoptr (NsTensor) p = random_tensor (&s, 81, 0.0f, 2.0f);
  g_autoptr (NsTensor) f2 = tile2 (f);
  g_autoptr (NsTensor) p2 = tile2 (p);
  g_autoptr (NsTensor) g = ns_tensor_new_like (f);
  g_autoptr (NsTensor) g2 = ns_tensor_new_like (f2);
  g_autofree float *a = target_gram (&s, 82);
  float gram[25], gram2[25];
  double l, l2, gmax = 0.0;

  ns_gram (f, gram);
  ns_gram (f2, gram2);
  for (int i = 0; i < 25; i++)
    g_assert_cmpfloat (fabs (gram2[i] - gram[i]), <=, 1e-5 * fabs (gram[i]));

  /* same style loss; each of the four copies gets a quarter of the gradient */
  l = ns_style_loss (f, a, 1.0, g);
  l2 = ns_style_loss (f2, a, 1.0, g2);
  check_close (l2, l, 1e-4, "tiled style loss");
  for (gsize i = 0; i < ns_tensor_len (g); i++)
    gmax = MAX (gmax, fabs (g->data[i]));
  for (int c = 0; c < f2->c; c++)
    for (int y = 0; y < f2->h; y++)
      for (int x = 0; x < f2->w; x++)
        {
          float want = g->data[((gsize) c * s.h + y % s.h) * s.w + x % s.w] / 4.0f;
          float got = g2->data[((gsize) c * f2->h + y) * f2->w + x];
          g_assert_cmpfloat (fabs (got - want), <=, 1e-4 * gmax);
        }

  check_close (ns_content_loss (f2, p2, 1.0, NULL), ns_content_loss (f, p, 1.0, NULL), 1e-12,
               "tiled content loss");
}

/* The tiled objective takes TV band by band with ns_tv_row, each band's gradient in a buffer
 * of its own: the pieces give ns_tv_loss's gradient to the bit, and its value. */
static void
test_tv_bands (void)
{
  Shape s = { 3, 9, 7 };
  static const int cuts[] = { 0, 1, 4, 9 };
  g_autoptr (NsTensor) t = random_tensor (&s, 95, 0.0f, 1.0f);
  g_autoptr (NsTensor) g = ns_tensor_new_like (t);
  g_autoptr (NsTensor) g2 = ns_tensor_new_like (t);
  double weight = 3.5, n = (double) ns_tensor_len (t), sum = 0.0, l;
  float scale = (float) (2.0 * weight / n);

  l = ns_tv_loss (t, weight, g);
  for (guint b = 0; b + 1 < G_N_ELEMENTS (cuts); b++)
    {
      int y0 = cuts[b], y1 = cuts[b + 1];
      g_autofree float *band = g_new0 (float, (gsize) s.c * (y1 - y0) * s.w);

      for (int c = 0; c < s.c; c++)
        for (int y = y0; y < y1; y++)
          {
            const float *row = t->data + ((gsize) c * s.h + y) * s.w;

            sum = ns_tv_row (row, y > 0 ? row - s.w : NULL, y + 1 < s.h ? row + s.w : NULL, s.w,
                             scale, band + ((gsize) c * (y1 - y0) + y - y0) * s.w, sum);
          }
      for (int c = 0; c < s.c; c++)
        memcpy (g2->data + ((gsize) c * s.h + y0) * s.w, band + (gsize) c * (y1 - y0) * s.w,
                (gsize) (y1 - y0) * s.w * sizeof (float));
    }
  check_close (weight * sum / n, l, 1e-12, "TV by bands");
  g_assert_cmpmem (g2->data, n * sizeof (float), g->data, n * sizeof (float));
}

/* A VGG-sized layer (512 channels) exercises the BLAS path; values and a few gradient
 * entries are compared with naive double sums. */
static void
test_style_large (void)
{
  Shape s = { 512, 16, 16 };
  g_autoptr (NsTensor) f = random_tensor (&s, 90, 0.0f, 1.0f);
  g_autoptr (NsTensor) g = ns_tensor_new_like (f);
  g_autofree float *a = target_gram (&s, 91);
  g_autofree double *gram = ref_gram (f);
  gsize hw = (gsize) s.h * s.w;
  double n = (double) s.c * hw, cc = (double) s.c * s.c;
  gint64 t0 = g_get_monotonic_time ();
  double loss = ns_style_loss (f, a, 1.0, g);
  GRand *r = g_rand_new_with_seed (5);

  g_test_message ("style loss + gradient, 512x16x16: %.1f ms", (g_get_monotonic_time () - t0) / 1e3);
  check_close (loss, ref_style (f, a), 1e-4, "style 512");
  for (int probe = 0; probe < 50; probe++)
    {
      int k = g_rand_int_range (r, 0, s.c);
      gsize px = (gsize) g_rand_int_range (r, 0, (gint32) hw);
      double want = 0.0, magnitude = 0.0;
      for (int j = 0; j < s.c; j++)
        {
          double dkj = gram[k * s.c + j] - a[k * s.c + j];
          double djk = gram[j * s.c + k] - a[j * s.c + k];
          want += (dkj + djk) * f->data[j * hw + px];
          magnitude += fabs ((dkj + djk) * f->data[j * hw + px]);
        }
      want *= 2.0 / (cc * n);
      magnitude *= 2.0 / (cc * n);
      /* float sums of 512 terms: error relative to the sum of magnitudes */
      g_assert_cmpfloat (fabs (g->data[k * hw + px] - want), <=, 1e-4 * magnitude);
    }
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/loss/values", test_values);
  g_test_add_func ("/loss/zero-cases", test_zero_cases);
  g_test_add_func ("/loss/grad/content", test_grad_content);
  g_test_add_func ("/loss/grad/style", test_grad_style);
  g_test_add_func ("/loss/grad/tv", test_grad_tv);
  g_test_add_func ("/loss/weight-and-accumulate", test_weight_and_accumulate);
  g_test_add_func ("/loss/size-invariance", test_size_invariance);
  g_test_add_func ("/loss/tv-bands", test_tv_bands);
  g_test_add_func ("/loss/style-large", test_style_large);
  return g_test_run ();
}
