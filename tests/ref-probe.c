/* ref-probe.c — runs the engine on inputs written by tests/reference/reference.py and tools/bench.py,
 * so that PyTorch can check the same computation.
 *
 *   ref-probe eval  WEIGHTS CONTENT.npy STYLE.npy X.npy GRAD_PREFIX ALPHA BETA TV [ALPHA BETA TV…]
 *   ref-probe lbfgs WEIGHTS CONTENT.npy STYLE.npy ALPHA BETA TV ITERATIONS HISTORY X_OUT.npy
 *   ref-probe bench WEIGHTS CONTENT.npy STYLE.npy EVALS THREADS
 *
 * CONTENT and STYLE are H×W×3 float32 .npy images in [0,1]; X and the outputs are 3×H×W
 * (the objective's planar variable); eval writes the gradient for the K-th weight triple (from
 * 0) to GRAD_PREFIX.K.npy.  Results go to stdout as "key value" lines ("key K value" for eval);
 * errors to stderr with exit status 1.  Content layer relu4_2, style layers relu1_1…relu5_1 with weight
 * 1 each, max pooling, colours from the style: the definitions the Python side restates. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "ns-internal.h"

#define STYLE_LAYERS "relu1_1:1,relu2_1:1,relu3_1:1,relu4_1:1,relu5_1:1"

/* ---- .npy float32 arrays ----------------------------------------------------------------- */

typedef struct
{
  int    n_dims;
  int    shape[4];
  gsize  len;
  float *data;
} Array;

static void
array_free (Array *a)
{
  if (a == NULL)
    return;
  g_free (a->data);
  g_free (a);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Array, array_free)

/* Reads a version 1/2/3 .npy file holding little-endian float32 in C order. */
static Array *
npy_read (const char *path, GError **error)
{
  g_autofree char *bytes = NULL;
  gsize size, header_len, start;
  g_autofree char *header = NULL;
  const char *shape;
  g_autoptr (Array) a = g_new0 (Array, 1);

  if (!g_file_get_contents (path, &bytes, &size, error))
    return NULL;
  if (size < 10 || memcmp (bytes, "\x93NUMPY", 6) != 0)
    goto bad;
  if (bytes[6] == 1)
    {
      header_len = (guint8) bytes[8] | ((gsize) (guint8) bytes[9] << 8);
      start = 10;
    }
  else
    {
      if (size < 12)
        goto bad;
      header_len = (guint8) bytes[8] | ((gsize) (guint8) bytes[9] << 8)
                   | ((gsize) (guint8) bytes[10] << 16) | ((gsize) (guint8) bytes[11] << 24);
      start = 12;
    }
  if (start + header_len > size)
    goto bad;
  header = g_strndup (bytes + start, header_len);
  if (strstr (header, "'descr': '<f4'") == NULL || strstr (header, "'fortran_order': False") == NULL)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "%s: expected a little-endian float32 C-order array, header is %s", path, header);
      return NULL;
    }
  shape = strstr (header, "'shape': (");
  if (shape == NULL)
    goto bad;
  shape += strlen ("'shape': (");
  a->len = 1;
  while (*shape != ')')
    {
      char *end;
      gint64 v = g_ascii_strtoll (shape, &end, 10);

      if (end == shape || v < 0 || a->n_dims == 4)
        goto bad;
      a->shape[a->n_dims++] = (int) v;
      a->len *= (gsize) v;
      shape = end;
      while (*shape == ',' || *shape == ' ')
        shape++;
    }
  if (size - start - header_len != a->len * sizeof (float))
    goto bad;
  a->data = g_new (float, a->len);
  memcpy (a->data, bytes + start + header_len, a->len * sizeof (float));
  return g_steal_pointer (&a);

bad:
  g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT, "%s: not a valid .npy float32 array", path);
  return NULL;
}

/* Writes a version 1.0 .npy file (header padded so that the data starts at a multiple of 64). */
static gboolean
npy_write (const char *path, const float *data, const int *shape, int n_dims, GError **error)
{
  g_autoptr (GString) header = g_string_new ("{'descr': '<f4', 'fortran_order': False, 'shape': (");
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gsize len = 1;
  guint8 prefix[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };

  for (int i = 0; i < n_dims; i++)
    {
      g_string_append_printf (header, "%d,%s", shape[i], i + 1 < n_dims ? " " : "");
      len *= (gsize) shape[i];
    }
  g_string_append (header, "), }");
  while ((10 + header->len + 1) % 64 != 0)
    g_string_append_c (header, ' ');
  g_string_append_c (header, '\n');
  prefix[8] = header->len & 0xff;
  prefix[9] = header->len >> 8;
  g_byte_array_append (out, prefix, sizeof prefix);
  g_byte_array_append (out, (const guint8 *) header->str, header->len);
  g_byte_array_append (out, (const guint8 *) data, len * sizeof (float));
  return g_file_set_contents (path, (const char *) out->data, out->len, error);
}

/* An H×W×3 .npy image as an NsImage. */
static NsImage *
image_read (const char *path, GError **error)
{
  g_autoptr (Array) a = npy_read (path, error);
  NsImage *image;

  if (a == NULL)
    return NULL;
  if (a->n_dims != 3 || a->shape[2] != 3)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT, "%s: expected an H×W×3 image", path);
      return NULL;
    }
  image = ns_image_new (a->shape[1], a->shape[0], 3);
  memcpy (image->data, a->data, a->len * sizeof (float));
  return image;
}

/* ---- the run set-up shared by every command ------------------------------------------------- */

typedef struct
{
  NsNetwork   *net;
  NsImage     *content;
  NsImage     *style;
  NsObjective *objective;
} Probe;

static void
probe_clear (Probe *p)
{
  g_clear_pointer (&p->objective, ns_objective_free);
  g_clear_pointer (&p->content, ns_image_free);
  g_clear_pointer (&p->style, ns_image_free);
  g_clear_pointer (&p->net, ns_network_unref);
}

static gboolean
probe_load (Probe *p, const char *weights, const char *content, const char *style, GError **error)
{
  const char *padding = g_getenv ("NS_REF_PADDING");

  p->net = ns_network_load (NS_NETWORK_VGG19, weights, error);
  if (p->net == NULL)
    return FALSE;
  /* reference.py's other paddings (ns_padding_parse's text). */
  if (padding != NULL)
    {
      NsPadding mode;
      int n_convs;

      if (!ns_padding_parse (padding, &mode, &n_convs, error))
        return FALSE;
      ns_network_set_padding (p->net, mode, n_convs);
    }
  p->content = image_read (content, error);
  if (p->content == NULL)
    return FALSE;
  p->style = image_read (style, error);
  return p->style != NULL;
}

/* (Re)creates the objective with loss weights α, β, tv. */
static gboolean
probe_objective (Probe *p, double alpha, double beta, double tv, int threads, gboolean as_run,
                 GError **error)
{
  NsObjectiveConfig config = { 0 };
  g_autoptr (NsOptions) options = ns_options_new ();
  const NsImage *styles[1];

  g_clear_pointer (&p->objective, ns_objective_free);
  ns_options_set_content_weight (options, alpha);
  ns_options_set_style_weight (options, beta);
  ns_options_set_tv_weight (options, tv);
  ns_options_set_content_layer (options, "relu4_2");
  if (!ns_options_set_style_layers (options, STYLE_LAYERS, error))
    return FALSE;
  ns_options_set_style_scale (options, 1.0);
  ns_options_set_color_mode (options, NS_COLOR_STYLE);
  ns_options_set_init (options, NS_INIT_CONTENT);
  ns_options_set_threads (options, threads);
  /* The options' thread count is applied by the stylizer, which the probe bypasses. */
  ns_parallel_set_threads (threads);
  ns_options_apply_network_defaults (options, p->net);
  styles[0] = p->style;
  if (as_run)
    {
      /* The buffers a run at this size keeps between evaluations (memory.c's plan). */
      g_autoptr (NsRunPlan) plan = NULL;

      ns_options_set_scales (options, 1);
      plan = ns_run_plan_new (p->net, options, p->content, styles, 1, NULL, error);
      if (plan == NULL)
        return FALSE;
      config.buffer_slack = plan->scales[plan->n_scales - 1].buffer_slack;
    }
  p->objective = ns_objective_new_full (p->net, options, p->content, styles, NULL, 1, &config,
                                        error);
  return p->objective != NULL;
}

static double
parse_double (const char *s)
{
  char *end;
  double v = g_ascii_strtod (s, &end);

  if (end == s || *end != '\0')
    {
      fprintf (stderr, "ref-probe: '%s' is not a number\n", s);
      exit (1);
    }
  return v;
}

/* ---- eval: loss, its three terms and the gradient at a given x ------------------------------- */

static gboolean
cmd_eval (int argc, char **argv, GError **error)
{
  Probe p = { 0 };
  g_autoptr (Array) x = NULL;
  g_autofree float *grad = NULL;
  gboolean ok = FALSE;

  if (!probe_load (&p, argv[0], argv[1], argv[2], error))
    goto out;
  x = npy_read (argv[3], error);
  if (x == NULL)
    goto out;
  grad = g_new0 (float, x->len);
  for (int k = 0; 5 + 3 * k + 2 < argc; k++)
    {
      const char *const *w = (const char *const *) argv + 5 + 3 * k;
      g_autofree char *path = g_strdup_printf ("%s.%d.npy", argv[4], k);
      int shape[3] = { 3, p.content->height, p.content->width };
      double parts[3], loss;

      if (!probe_objective (&p, parse_double (w[0]), parse_double (w[1]), parse_double (w[2]), 0, FALSE, error))
        goto out;
      if (x->len != ns_objective_len (p.objective))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT, "%s: %zu values, the objective has %zu",
                       argv[3], x->len, ns_objective_len (p.objective));
          goto out;
        }
      loss = ns_objective_eval (p.objective, x->data, grad, parts);
      printf ("loss %d %.17g\ncontent %d %.17g\nstyle %d %.17g\ntv %d %.17g\n",
              k, loss, k, parts[0], k, parts[1], k, parts[2]);
      if (!npy_write (path, grad, shape, 3, error))
        goto out;
    }
  ok = TRUE;
out:
  probe_clear (&p);
  return ok;
}

/* ---- lbfgs: the optimiser's trajectory from the content image --------------------------------- */

typedef struct
{
  NsObjective *objective;
  int          n_evals;
} Trace;

static double
trace_eval (const float *x, float *grad, gpointer user_data)
{
  Trace *t = user_data;
  double f = ns_objective_eval (t->objective, x, grad, NULL);

  printf ("eval %d %.17g\n", ++t->n_evals, f);
  return f;
}

static gboolean
trace_iteration (int iteration, const float *x, double f, gpointer user_data)
{
  printf ("iter %d %.17g\n", iteration, f);
  return TRUE;
}

static gboolean
cmd_lbfgs (char **argv, GError **error)
{
  Probe p = { 0 };
  Trace trace = { 0 };
  g_autofree float *x = NULL;
  NsLbfgsParams params = { 0 };
  NsOptimStatus status;
  double f = 0.0, parts[3];
  int shape[3];
  gboolean ok = FALSE;

  if (!probe_load (&p, argv[0], argv[1], argv[2], error)
      || !probe_objective (&p, parse_double (argv[3]), parse_double (argv[4]), parse_double (argv[5]),
                           0, FALSE, error))
    goto out;
  params.max_iterations = atoi (argv[6]);
  params.history = atoi (argv[7]);
  params.tolerance_grad = 1e-7;       /* torch.optim.LBFGS defaults */
  params.tolerance_change = 1e-9;
  x = ns_objective_initial (p.objective);
  trace.objective = p.objective;
  status = ns_lbfgs_minimize (x, ns_objective_len (p.objective), &params, trace_eval,
                              trace_iteration, &trace, &f);
  printf ("status %d\nf_out %.17g\n", (int) status, f);
  f = ns_objective_eval (p.objective, x, NULL, parts);
  printf ("final %.17g\ncontent %.17g\nstyle %.17g\ntv %.17g\n", f, parts[0], parts[1], parts[2]);
  shape[0] = 3;
  shape[1] = p.content->height;
  shape[2] = p.content->width;
  ok = npy_write (argv[8], x, shape, 3, error);
out:
  probe_clear (&p);
  return ok;
}

/* ---- bench: milliseconds per objective evaluation (loss and gradient) ------------------------- */

/* Peak resident set of this process, from /proc/self/status (kB; 0 if unknown). */
static long
peak_rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmHWM:");
  return line != NULL ? atol (line + strlen ("VmHWM:")) : 0;
}

static gboolean
cmd_bench (char **argv, GError **error)
{
  Probe p = { 0 };
  g_autofree float *x = NULL;
  g_autofree float *grad = NULL;
  int evals = atoi (argv[3]);
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok = FALSE;

  if (!probe_load (&p, argv[0], argv[1], argv[2], error)
      || !probe_objective (&p, 1.0, 1.0, 1.0, atoi (argv[4]), TRUE, error))
    goto out;
  printf ("setup_ms %.3f\n", (g_get_monotonic_time () - t0) / 1e3);
  x = ns_objective_initial (p.objective);
  grad = g_new (float, ns_objective_len (p.objective));
  /* Perturb x so that the content term is not zero (as during a real run). */
  for (gsize i = 0; i < ns_objective_len (p.objective); i++)
    x[i] += 0.01f * (float) ((i * 2654435761u) % 1000) / 1000.0f;
  for (int i = -1; i < evals; i++)      /* i = −1: the warm-up */
    {
      gint64 t = g_get_monotonic_time ();
      double f = ns_objective_eval (p.objective, x, grad, NULL);

      printf ("%s %.3f %.9g\n", i < 0 ? "warmup_ms" : "eval_ms", (g_get_monotonic_time () - t) / 1e3, f);
      fflush (stdout);
    }
  printf ("peak_rss_kb %ld\n", peak_rss_kb ());
  ok = TRUE;
out:
  probe_clear (&p);
  return ok;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (argc >= 10 && (argc - 7) % 3 == 0 && strcmp (argv[1], "eval") == 0)
    ok = cmd_eval (argc - 2, argv + 2, &error);
  else if (argc == 11 && strcmp (argv[1], "lbfgs") == 0)
    ok = cmd_lbfgs (argv + 2, &error);
  else if (argc == 7 && strcmp (argv[1], "bench") == 0)
    ok = cmd_bench (argv + 2, &error);
  else
    {
      fprintf (stderr,
               "usage: ref-probe eval  WEIGHTS CONTENT.npy STYLE.npy X.npy GRAD_PREFIX ALPHA BETA TV [ALPHA BETA TV...]\n"
               "       ref-probe lbfgs WEIGHTS CONTENT.npy STYLE.npy ALPHA BETA TV ITERATIONS HISTORY X_OUT.npy\n"
               "       ref-probe bench WEIGHTS CONTENT.npy STYLE.npy EVALS THREADS\n");
      return 2;
    }
  if (!ok)
    {
      fprintf (stderr, "ref-probe: %s\n", error != NULL ? error->message : "failed");
      return 1;
    }
  return 0;
}
