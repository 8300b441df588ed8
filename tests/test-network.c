/* test-network.c — the feature network's forward pass against a direct composition of the
 * kernels, and its backward pass against finite differences through every layer kind. */
#include <math.h>
#include <string.h>
#include "ns-internal.h"
#include "testutil.h"

typedef struct
{
  NsNetwork *net;
  int        h, w, last;
  int        taps[3];
  float     *r[3];        /* random weights of a linear loss at each tap */
  guint64    signature;   /* of the last forward pass: which linear piece x is on */
} NetCase;

/* FNV-1a over every ReLU's on/off state and every max-pool's winner: equal signatures
 * mean the same linear piece of the network. */
static guint64
piece_signature (const NsNetwork *net, const NsActivations *acts)
{
  guint64 h = G_GUINT64_CONSTANT (1469598103934665603);

  for (int i = 0; i < acts->n; i++)
    {
      const NsTensor *a = acts->act[i];

      if (net->layers[i].kind == NS_LAYER_RELU)
        for (gsize k = 0; k < ns_tensor_len (a); k++)
          h = (h ^ (a->data[k] > 0.0f)) * G_GUINT64_CONSTANT (1099511628211);
      else if (net->layers[i].kind == NS_LAYER_MAXPOOL)
        {
          const NsTensor *in = acts->act[i - 1];

          for (int ch = 0; ch < a->c; ch++)
            for (int y = 0; y < a->h; y++)
              for (int x = 0; x < a->w; x++)
                {
                  const float *p = in->data + ((gsize) ch * in->h + 2 * y) * in->w + 2 * x;
                  float v = a->data[((gsize) ch * a->h + y) * a->w + x];
                  int win = v == p[0] ? 0 : v == p[1] ? 1 : v == p[in->w] ? 2 : 3;

                  h = (h ^ win) * G_GUINT64_CONSTANT (1099511628211);
                }
        }
    }
  return h;
}

/* L = Σ_taps Σ r·act, in double. */
static double
net_loss (const float *x, float *grad, gpointer data)
{
  NetCase *c = data;
  NsTensor in = { 3, c->h, c->w, g_memdup2 (x, sizeof (float) * 3 * c->h * c->w) };
  NsActivations *acts = ns_network_forward (c->net, NULL, &in, c->last);
  NsTensor *grads[64] = { NULL };
  double L = 0.0;

  for (int k = 0; k < 3; k++)
    {
      const NsTensor *a = acts->act[c->taps[k]];

      for (gsize i = 0; i < ns_tensor_len (a); i++)
        L += (double) c->r[k][i] * a->data[i];
      if (grad)
        {
          grads[c->taps[k]] = ns_tensor_new_like (a);
          memcpy (grads[c->taps[k]]->data, c->r[k], ns_tensor_len (a) * sizeof (float));
        }
    }
  if (grad)
    {
      NsTensor gi = { 3, c->h, c->w, grad };

      ns_network_backward (c->net, NULL, acts, grads, &gi);
      for (int i = 0; i < 64; i++)
        ns_tensor_free (grads[i]);
    }
  c->signature = piece_signature (c->net, acts);
  ns_activations_free (acts);
  g_free (in.data);
  return L;
}

/* Returns ‖analytic − numeric‖ / ‖numeric‖ over the coordinates checked; *worst gets
 * the largest single relative error (with a floor of 1% of the largest gradient). */
static double
check_on_pieces (NetCase *c, float *x, gsize n, double eps, gsize want, gsize *checked,
                 double *worst_out)
{
  g_autofree float *g = g_new0 (float, n);
  g_autoptr (GRand) r = g_rand_new_with_seed (3);
  double gmax = 0.0, worst = 0.0, diff2 = 0.0, num2 = 0.0;
  guint64 sig0;

  net_loss (x, g, c);
  sig0 = c->signature;
  for (gsize i = 0; i < n; i++)
    gmax = MAX (gmax, fabs (g[i]));
  *checked = 0;
  for (gsize tries = 0; tries < 40 * want && *checked < want; tries++)
    {
      gsize i = (gsize) g_rand_int_range (r, 0, (gint32) n);
      float saved = x[i];
      double fp, fm, num, den;
      gboolean same;

      x[i] = saved + (float) eps;
      fp = net_loss (x, NULL, c);
      same = c->signature == sig0;
      x[i] = saved - (float) eps;
      fm = net_loss (x, NULL, c);
      same = same && c->signature == sig0;
      num = (fp - fm) / ((double) (saved + (float) eps) - (double) (saved - (float) eps));
      x[i] = saved;
      if (! same)
        continue;
      den = MAX (MAX (fabs (g[i]), fabs (num)), 1e-2 * gmax);
      worst = MAX (worst, fabs (g[i] - num) / den);
      diff2 += (g[i] - num) * (g[i] - num);
      num2 += num * num;
      (*checked)++;
    }
  *worst_out = worst;
  return sqrt (diff2 / MAX (num2, 1e-300));
}

static void
test_backward_whole_network (void)
{
  NetCase c = { 0 };
  g_autofree float *x = NULL;
  double err, worst;
  gsize checked;

  c.net = ns_network_new_embedded_variant ("random-vgg19", NULL);
  c.h = 21;   /* odd: pooling drops rows */
  c.w = 18;
  c.taps[0] = ns_network_layer_index (c.net, "relu1_2");
  c.taps[1] = ns_network_layer_index (c.net, "pool2");
  c.taps[2] = ns_network_layer_index (c.net, "relu5_1");
  c.last = c.taps[2];
  {
    NsTensor probe = { 3, c.h, c.w, ns_floats_new (3 * c.h * c.w) };
    NsActivations *acts = ns_network_forward (c.net, NULL, &probe, c.last);

    for (int k = 0; k < 3; k++)
      {
        gsize n = ns_tensor_len (acts->act[c.taps[k]]);

        c.r[k] = g_new (float, n);
        ns_test_fill (c.r[k], n, 10 + k, -1.0f, 1.0f);
      }
    ns_activations_free (acts);
    ns_floats_free (probe.data);
  }
  x = g_new (float, 3 * c.h * c.w);
  ns_test_fill (x, 3 * c.h * c.w, 7, -1.0f, 1.0f);
  /* Under a linear loss the network is piecewise linear in its input.  Central differences
   * are compared only where x − eps, x and x + eps lie on the same linear piece (no ReLU
   * or max-pool switches), where they are exact up to float round-off. */
  err = check_on_pieces (&c, x, 3 * c.h * c.w, 2e-3, 25, &checked, &worst);
  g_test_message ("whole network: relative gradient error %.3g (worst coordinate %.3g) over "
                  "%zu coordinates", err, worst, checked);
  g_assert_cmpuint (checked, ==, 25);
  /* float round-off through 13 layers is ~1e-3; a wrong term would be off by O(1) */
  g_assert_cmpfloat (err, <, 1e-2);
  g_assert_cmpfloat (worst, <, 0.1);
  for (int k = 0; k < 3; k++)
    g_free (c.r[k]);
  ns_network_unref (c.net);
}

/* The forward pass equals the kernels composed by hand. */
static void
test_forward_composition (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("random-vgg19", NULL);
  int h = 16, w = 20;
  g_autoptr (NsTensor) x = ns_tensor_new (3, h, w);
  g_autoptr (NsTensor) in = NULL;
  g_autoptr (NsTensor) a = ns_tensor_new (64, h, w);
  g_autoptr (NsTensor) b = ns_tensor_new (64, h, w);
  g_autoptr (NsTensor) p = ns_tensor_new (64, h / 2, w / 2);
  NsActivations *acts;
  int pool1 = ns_network_layer_index (net, "pool1");

  ns_test_fill (x->data, ns_tensor_len (x), 5, -1.0f, 1.0f);
  in = ns_tensor_copy (x);
  acts = ns_network_forward (net, NULL, in, pool1);
  ns_conv3x3_forward (&net->layers[0].conv, NULL, x, a);
  ns_relu_forward (a);
  ns_conv3x3_forward (&net->layers[2].conv, NULL, a, b);
  ns_relu_forward (b);
  ns_pool2_forward (NS_POOL_MAX, b, p);
  g_assert_cmpint (acts->act[pool1]->c, ==, 64);
  g_assert_cmpint (acts->act[pool1]->h, ==, h / 2);
  for (gsize i = 0; i < ns_tensor_len (p); i++)
    g_assert_cmpfloat (acts->act[pool1]->data[i], ==, p->data[i]);
  ns_activations_free (acts);
}

static void
test_topology (void)
{
  g_autoptr (NsNetwork) net = ns_network_new_embedded_variant ("random-vgg19", NULL);
  /* torchvision indices, which the weights' tensor names use */
  g_assert_cmpint (ns_network_layer_index (net, "conv1_1"), ==, 0);
  g_assert_cmpint (ns_network_layer_index (net, "conv2_1"), ==, 5);
  g_assert_cmpint (ns_network_layer_index (net, "conv3_1"), ==, 10);
  g_assert_cmpint (ns_network_layer_index (net, "conv4_2"), ==, 21);
  g_assert_cmpint (ns_network_layer_index (net, "conv5_1"), ==, 28);
  g_assert_cmpint (ns_network_layer_index (net, "relu5_1"), ==, 29);
  g_assert_cmpint (ns_network_layer_index (net, "nope"), ==, -1);
  g_assert_cmpint (ns_network_layer_stride_log2 (net, 29), ==, 4);
  g_assert_true (ns_network_has_layer (net, "relu4_2"));
  g_assert_cmpstr (ns_network_get_name (net), ==, "embedded");
}

/* The generated weights are the same on every run (they are the network's identity). */
static void
test_embedded_deterministic (void)
{
  g_autoptr (NsNetwork) a = ns_network_new_embedded_variant ("random-vgg19", NULL);
  g_autoptr (NsNetwork) b = ns_network_new_embedded_variant ("random-vgg19", NULL);

  for (int i = 0; i < a->n_layers; i++)
    if (a->layers[i].kind == NS_LAYER_CONV)
      g_assert_cmpmem (a->layers[i].conv.weight,
                       (gsize) a->layers[i].conv.cout * a->layers[i].conv.cin * 9 * sizeof (float),
                       b->layers[i].conv.weight,
                       (gsize) b->layers[i].conv.cout * b->layers[i].conv.cin * 9 * sizeof (float));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/network/topology", test_topology);
  g_test_add_func ("/network/embedded-deterministic", test_embedded_deterministic);
  g_test_add_func ("/network/forward-composition", test_forward_composition);
  g_test_add_func ("/network/backward-finite-differences", test_backward_whole_network);
  return g_test_run ();
}
