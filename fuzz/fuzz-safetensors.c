/* fuzz-safetensors.c — libFuzzer target: engine/safetensors.c, the VGG-19 loader (vgg19.c)
 * and ns_weights_trim (weights.c) on arbitrary files.
 *
 * Each input is opened as a weights file.  When it opens, every tensor must be consistent
 * with the file (size, name lookup) and readable as floats when its dtype is a float one;
 * then it is loaded into a small VGG-19 (tiny-vgg19.h) and trimmed, and the trimmed file
 * must reopen holding exactly the convolution tensors, with the same values. */
#include "fuzz-common.h"
#include "tiny-vgg19.h"

static NsNetwork *tiny_net;
static char *in_path, *trim_path;

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  in_path = fuzz_path ("input.safetensors");
  trim_path = fuzz_path ("trimmed.safetensors");
  tiny_net = tiny_vgg19_new ();
  return 0;
}

static gsize
dtype_size (const NsSafetensorsTensor *t)
{
  switch (t->dtype)
    {
    case NS_DTYPE_F32: return 4;
    case NS_DTYPE_F16: case NS_DTYPE_BF16: return 2;
    default: break;
    }
  return 0;
}

/* Reads tensor t of st as floats into an exact-size buffer (NULL when its dtype is not a
 * float one, which must then be refused). */
static float *
read_floats (const NsSafetensors *st, const NsSafetensorsTensor *t, gsize *count)
{
  g_autoptr (GError) error = NULL;
  float *buf;
  gsize n = 1;

  for (int d = 0; d < t->n_dims; d++)
    n *= (gsize) t->shape[d];
  *count = n;
  buf = g_malloc (MAX (n, 1) * sizeof (float));
  if (!ns_safetensors_read_f32 (st, t->name, t->shape, t->n_dims, buf, &error))
    {
      fuzz_check_error (error, "ns_safetensors_read_f32");
      if (t->dtype != NS_DTYPE_OTHER)
        fuzz_fail ("tensor “%s” could not be read: %s", t->name, error->message);
      g_free (buf);
      return NULL;
    }
  if (t->dtype == NS_DTYPE_OTHER)
    fuzz_fail ("tensor “%s” of dtype %s was read as floats", t->name, t->dtype_name);
  if (t->dtype == NS_DTYPE_F32 && n > 0 && memcmp (buf, t->data, n * sizeof (float)) != 0)
    fuzz_fail ("F32 tensor “%s” did not read back bit for bit", t->name);
  return buf;
}

/* Checks every tensor against the file; returns how many are convolution tensors and
 * whether all of those have a float dtype. */
static guint
check_tensors (const NsSafetensors *st, size_t file_size, gboolean *conv_all_float)
{
  guint n = ns_safetensors_get_n_tensors (st), n_conv = 0;

  for (guint i = 0; i < n; i++)
    {
      const NsSafetensorsTensor *t = ns_safetensors_get_tensor (st, i);
      g_autoptr (GError) error = NULL;
      g_autofree float *values = NULL;
      guint64 count = 1;
      gsize n_values;
      gint64 wrong[8];

      if (t->name == NULL || !g_utf8_validate (t->name, -1, NULL))
        fuzz_fail ("tensor %u has no valid UTF-8 name", i);
      if (ns_safetensors_find (st, t->name) != t)
        fuzz_fail ("find(“%s”) is not tensor %u", t->name, i);
      if (t->n_dims < 0 || t->n_dims > 8)
        fuzz_fail ("tensor “%s” has %d dimensions", t->name, t->n_dims);
      for (int d = 0; d < t->n_dims; d++)
        if (t->shape[d] < 0 || !g_uint64_checked_mul (&count, count, (guint64) t->shape[d]))
          fuzz_fail ("tensor “%s” has a bad shape", t->name);
      if (dtype_size (t) != 0 && count * dtype_size (t) != t->n_bytes)
        fuzz_fail ("tensor “%s”: %" G_GSIZE_FORMAT " bytes for its shape", t->name, t->n_bytes);
      if (t->n_bytes > file_size)
        fuzz_fail ("tensor “%s” is larger than the file", t->name);

      values = read_floats (st, t, &n_values);
      if (ns_weights_is_conv_tensor (t->name))
        {
          n_conv++;
          *conv_all_float &= values != NULL;
        }

      /* A wrong shape or rank must be refused before anything is written. */
      memcpy (wrong, t->shape, sizeof wrong);
      if (t->n_dims > 0)
        {
          wrong[0] ^= 1;
          if (ns_safetensors_read_f32 (st, t->name, wrong, t->n_dims, NULL, &error))
            fuzz_fail ("tensor “%s” was read with a wrong shape", t->name);
          fuzz_check_error (error, "ns_safetensors_read_f32 (wrong shape)");
          g_clear_error (&error);
          wrong[0] ^= 1;
        }
      if (t->n_dims < 8)
        {
          wrong[t->n_dims] = 1;
          if (ns_safetensors_read_f32 (st, t->name, wrong, t->n_dims + 1, NULL, &error))
            fuzz_fail ("tensor “%s” was read with one dimension too many", t->name);
          fuzz_check_error (error, "ns_safetensors_read_f32 (extra dimension)");
          g_clear_error (&error);
        }
    }
  return n_conv;
}

/* The trimmed file must hold exactly the convolution tensors of st, bit for bit as read. */
static void
check_trimmed (const NsSafetensors *st)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsSafetensors) out = ns_safetensors_open (trim_path, &error);
  guint n_conv = 0;

  if (out == NULL)
    fuzz_fail ("the trimmed file does not open: %s", error->message);
  for (guint i = 0; i < ns_safetensors_get_n_tensors (st); i++)
    {
      const NsSafetensorsTensor *t = ns_safetensors_get_tensor (st, i);
      const NsSafetensorsTensor *u;
      g_autofree float *a = NULL, *b = NULL;
      gsize na, nb;

      if (!ns_weights_is_conv_tensor (t->name))
        continue;
      n_conv++;
      u = ns_safetensors_find (out, t->name);
      if (u == NULL || u->dtype != NS_DTYPE_F32 || u->n_dims != t->n_dims
          || memcmp (u->shape, t->shape, sizeof (gint64) * t->n_dims) != 0)
        fuzz_fail ("tensor “%s” is missing or changed in the trimmed file", t->name);
      a = read_floats (st, t, &na);
      b = read_floats (out, u, &nb);
      if (a == NULL || b == NULL || na != nb || memcmp (a, b, na * sizeof (float)) != 0)
        fuzz_fail ("tensor “%s” has other values in the trimmed file", t->name);
    }
  if (ns_safetensors_get_n_tensors (out) != n_conv)
    fuzz_fail ("the trimmed file holds %u tensors, not %u", ns_safetensors_get_n_tensors (out),
               n_conv);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NsSafetensors) st = NULL;
  gboolean loaded, trimmed, conv_all_float = TRUE;
  guint n_conv;

  fuzz_write_file (in_path, data, size);
  st = ns_safetensors_open (in_path, &error);
  if (st == NULL)
    {
      fuzz_check_error (error, "ns_safetensors_open");
      fuzz_report ("rejected", error->message);
      return 0;
    }
  n_conv = check_tensors (st, size, &conv_all_float);

  /* The loader opens the file itself. */
  loaded = ns_network_load_vgg19_weights (tiny_net, in_path, NULL, &error);
  if (!loaded)
    {
      fuzz_check_error (error, "ns_network_load_vgg19_weights");
      g_clear_error (&error);
    }

  g_unlink (trim_path);
  trimmed = ns_weights_trim (in_path, trim_path, &error);
  if (trimmed)
    {
      if (n_conv == 0)
        fuzz_fail ("a file without convolution tensors was trimmed");
      check_trimmed (st);
      if (fuzz_count_files () != 2)
        fuzz_fail ("trimming left a temporary file behind");
    }
  else
    {
      fuzz_check_error (error, "ns_weights_trim");
      if (n_conv > 0 && conv_all_float)
        fuzz_fail ("trimming float convolution tensors failed: %s", error->message);
      if (fuzz_count_files () != 1)
        fuzz_fail ("a failed trim left a file behind");
      g_clear_error (&error);
    }
  fuzz_report (loaded ? "loaded" : trimmed ? "trimmed" : "opened", NULL);
  return 0;
}
