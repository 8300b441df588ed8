/* test-weights.c — the search order of ns_weights_find, trimming a checkpoint, and a load
 * that is cancelled. */
#include <string.h>
#include <glib/gstdio.h>

#include "ns-internal.h"
#include "testutil.h"

#define SUBPATH "neural-style", "vgg19.safetensors"

static char *
make_tmp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("ns-weights-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

/* Creates dir/neural-style/vgg19.safetensors (content irrelevant to the search). */
static char *
put_weights (const char *dir)
{
  char *path = g_build_filename (dir, SUBPATH, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  GError *error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_file_set_contents (path, "x", 1, &error);
  g_assert_no_error (error);
  return path;
}

typedef struct
{
  char *root;
  char *user, *sys1, *sys2, *sys3, *datadir;
  char *env_file;
  const char *sys[4];
} Places;

static void
places_setup (Places *p, gconstpointer data)
{
  GError *error = NULL;

  p->root = make_tmp_dir ();
  p->user = g_build_filename (p->root, "user", NULL);
  p->sys1 = g_build_filename (p->root, "sys1", NULL);
  p->sys2 = g_build_filename (p->root, "sys2", NULL);
  p->sys3 = g_build_filename (p->root, "sys3", NULL);
  p->datadir = g_build_filename (p->root, "prefix-share", NULL);
  p->env_file = g_build_filename (p->root, "env.safetensors", NULL);
  g_file_set_contents (p->env_file, "x", 1, &error);
  g_assert_no_error (error);
  p->sys[0] = p->sys1;
  p->sys[1] = p->sys2;
  p->sys[2] = p->sys3;
  p->sys[3] = NULL;
}

static void
places_teardown (Places *p, gconstpointer data)
{
  ns_test_rm_rf (p->root);
  g_free (p->root);
  g_free (p->user);
  g_free (p->sys1);
  g_free (p->sys2);
  g_free (p->sys3);
  g_free (p->datadir);
  g_free (p->env_file);
}

static char *
find_in (Places *p, const char *explicit_path, const char *env, GError **error)
{
  return ns_weights_find_in (explicit_path, env, p->user, p->sys, p->datadir, error);
}

static void
test_explicit (Places *p, gconstpointer data)
{
  g_autofree char *user_file = put_weights (p->user);
  g_autofree char *missing = g_build_filename (p->root, "no-such.safetensors", NULL);
  g_autofree char *found = NULL;
  GError *error = NULL;

  /* An explicit file wins over everything else. */
  found = find_in (p, p->env_file, p->env_file, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, p->env_file);

  /* A missing explicit file is an error naming it, never a silent fallback. */
  g_assert_null (find_in (p, missing, p->env_file, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, missing));
  g_assert_nonnull (strstr (error->message, "does not exist"));
  g_assert_nonnull (strstr (error->message, "--download-weights"));
  g_clear_error (&error);

  /* So is a directory. */
  g_assert_null (find_in (p, p->root, NULL, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, p->root));
  g_clear_error (&error);
}

static void
test_order (Places *p, gconstpointer data)
{
  g_autofree char *missing_env = g_build_filename (p->root, "gone.safetensors", NULL);
  g_autofree char *in_datadir = put_weights (p->datadir);
  g_autofree char *in_sys3 = NULL, *in_sys2 = NULL, *in_user = NULL;
  GError *error = NULL;
  char *found;

  /* Each step adds a file at a higher-priority place, which must then be chosen. */
  found = find_in (p, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, in_datadir);
  g_free (found);

  in_sys3 = put_weights (p->sys3);
  found = find_in (p, NULL, NULL, &error);
  g_assert_cmpstr (found, ==, in_sys3);
  g_free (found);

  in_sys2 = put_weights (p->sys2);
  found = find_in (p, NULL, NULL, &error);
  g_assert_cmpstr (found, ==, in_sys2);             /* system dirs in their order */
  g_free (found);

  in_user = put_weights (p->user);
  found = find_in (p, NULL, NULL, &error);
  g_assert_cmpstr (found, ==, in_user);
  g_free (found);

  /* $NEURAL_STYLE_WEIGHTS beats the data dirs when the file exists… */
  found = find_in (p, NULL, p->env_file, &error);
  g_assert_cmpstr (found, ==, p->env_file);
  g_free (found);

  /* …and is skipped when it does not (or is empty). */
  found = find_in (p, NULL, missing_env, &error);
  g_assert_cmpstr (found, ==, in_user);
  g_free (found);
  found = find_in (p, NULL, "", &error);
  g_assert_cmpstr (found, ==, in_user);
  g_free (found);
  g_assert_no_error (error);
}

static void
test_not_found (Places *p, gconstpointer data)
{
  g_autofree char *missing_env = g_build_filename (p->root, "gone.safetensors", NULL);
  const char *dirs[] = { p->user, p->sys1, p->sys2, p->sys3, p->datadir };
  GError *error = NULL;

  /* A directory where the file should be is not a weights file. */
  g_autofree char *as_dir = g_build_filename (p->sys1, SUBPATH, NULL);
  g_assert_cmpint (g_mkdir_with_parents (as_dir, 0755), ==, 0);

  g_assert_null (find_in (p, NULL, missing_env, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing_env));
  g_assert_nonnull (strstr (error->message, "NEURAL_STYLE_WEIGHTS"));
  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *expected = g_build_filename (dirs[i], SUBPATH, NULL);
      g_assert_nonnull (strstr (error->message, expected));
    }
  g_assert_nonnull (strstr (error->message, "neural-style --download-weights"));
  g_assert_nonnull (strstr (error->message, "--weights FILE"));
  g_assert_nonnull (strstr (error->message, "built-in network"));
  g_clear_error (&error);

  /* With nothing at all to search, the error still says what to do. */
  g_assert_null (ns_weights_find_in (NULL, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "--download-weights"));
  g_clear_error (&error);
}

/* ---- the public functions, with real environment variables, in subprocesses ------------------ */

/* GLib caches the XDG directories on first use, so each scenario runs in a fresh process
 * whose environment the parent prepared. */
static void
test_public_user_dir (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *expected = g_build_filename (g_getenv ("XDG_DATA_HOME"), SUBPATH, NULL);
      g_autofree char *def = ns_weights_default_path ();
      GError *error = NULL;
      g_autofree char *found = ns_weights_find (NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (found, ==, expected);
      g_assert_cmpstr (def, ==, expected);
      return;
    }
  {
    g_autofree char *root = make_tmp_dir ();
    g_autofree char *home = g_build_filename (root, "home", NULL);
    g_autofree char *sys = g_build_filename (root, "sys", NULL);
    g_autofree char *a = put_weights (home);
    g_autofree char *b = put_weights (sys);

    g_setenv ("XDG_DATA_HOME", home, TRUE);
    g_setenv ("XDG_DATA_DIRS", sys, TRUE);
    g_unsetenv ("NEURAL_STYLE_WEIGHTS");
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed ();
    ns_test_rm_rf (root);
  }
}

static void
test_public_system_dir (void)
{
  if (g_test_subprocess ())
    {
      g_auto (GStrv) dirs = g_strsplit (g_getenv ("XDG_DATA_DIRS"), ":", -1);
      g_autofree char *expected = g_build_filename (dirs[1], SUBPATH, NULL);
      GError *error = NULL;
      g_autofree char *found = ns_weights_find (NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (found, ==, expected);
      return;
    }
  {
    g_autofree char *root = make_tmp_dir ();
    g_autofree char *home = g_build_filename (root, "home", NULL);
    g_autofree char *sys1 = g_build_filename (root, "sys1", NULL);
    g_autofree char *sys2 = g_build_filename (root, "sys2", NULL);
    g_autofree char *dirs = g_strjoin (":", sys1, sys2, NULL);
    g_autofree char *b = put_weights (sys2);

    g_setenv ("XDG_DATA_HOME", home, TRUE);
    g_setenv ("XDG_DATA_DIRS", dirs, TRUE);
    g_unsetenv ("NEURAL_STYLE_WEIGHTS");
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed ();
    ns_test_rm_rf (root);
  }
}

static void
test_public_env (void)
{
  if (g_test_subprocess ())
    {
      GError *error = NULL;
      g_autofree char *found = ns_weights_find (NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (found, ==, g_getenv ("NEURAL_STYLE_WEIGHTS"));
      return;
    }
  {
    g_autofree char *root = make_tmp_dir ();
    g_autofree char *home = g_build_filename (root, "home", NULL);
    g_autofree char *a = put_weights (home);
    g_autofree char *env_file = g_build_filename (root, "mine.safetensors", NULL);

    g_assert_true (g_file_set_contents (env_file, "x", 1, NULL));
    g_setenv ("XDG_DATA_HOME", home, TRUE);
    g_setenv ("NEURAL_STYLE_WEIGHTS", env_file, TRUE);
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed ();
    g_unsetenv ("NEURAL_STYLE_WEIGHTS");
    ns_test_rm_rf (root);
  }
}

static void
test_public_not_found (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *expected = g_build_filename (g_getenv ("XDG_DATA_HOME"), SUBPATH, NULL);
      GError *error = NULL;
      g_autofree char *found = ns_weights_find (NULL, &error);

      if (found != NULL)
        {
          /* Only possible if the weights are installed system-wide under NS_DATADIR. */
          g_assert_true (g_str_has_suffix (found, "/neural-style/vgg19.safetensors"));
          return;
        }
      g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS_NOT_FOUND);
      g_assert_nonnull (strstr (error->message, expected));
      g_assert_nonnull (strstr (error->message, "--download-weights"));
      g_error_free (error);
      return;
    }
  {
    g_autofree char *root = make_tmp_dir ();
    g_autofree char *home = g_build_filename (root, "home", NULL);
    g_autofree char *sys = g_build_filename (root, "sys", NULL);

    g_setenv ("XDG_DATA_HOME", home, TRUE);
    g_setenv ("XDG_DATA_DIRS", sys, TRUE);
    g_unsetenv ("NEURAL_STYLE_WEIGHTS");
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed ();
    ns_test_rm_rf (root);
  }
}

/* ---- trimming ------------------------------------------------------------------------------ */

/* A checkpoint built by hand: F32 and F16 conv tensors, plus tensors trimming must drop
 * (head, pre_logits, an I64 counter, and near-miss names). */
static char *
write_checkpoint (const char *dir)
{
  static const char json[] =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"features.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,1,1,1],\"data_offsets\":[0,8]},"
    "\"features.0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
    "\"features.12.weight\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]},"
    "\"features.1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[22,30]},"
    "\"head.fc.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[30,34]},"
    "\"pre_logits.fc1.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[34,38]},"
    "\"features.x.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[38,42]},"
    "\"features.3.weight.old\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[42,46]},"
    "\"myfeatures.3.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[46,50]}}";
  const float f32[4] = { 0.5f, -1.25f, 3.0f, 1e-20f };
  const guint8 f16[6] = { 0x00, 0x3C, 0x00, 0xC2, 0x01, 0x00 };   /* 1, -3, 2^-24 */
  guint8 data[50] = { 0 };
  GByteArray *bytes = g_byte_array_new ();
  guint64 len = GUINT64_TO_LE ((guint64) strlen (json));
  char *path = g_build_filename (dir, "full.safetensors", NULL);
  GError *error = NULL;

  memcpy (data, f32, 16);
  memcpy (data + 16, f16, 6);
  g_byte_array_append (bytes, (const guint8 *) &len, 8);
  g_byte_array_append (bytes, (const guint8 *) json, strlen (json));
  g_byte_array_append (bytes, data, sizeof data);
  g_file_set_contents (path, (const char *) bytes->data, bytes->len, &error);
  g_assert_no_error (error);
  g_byte_array_unref (bytes);
  return path;
}

static void
test_trim (void)
{
  g_autofree char *root = make_tmp_dir ();
  g_autofree char *src = write_checkpoint (root);
  g_autofree char *dest = g_build_filename (root, "trimmed.safetensors", NULL);
  const char *expected[] = { "features.0.bias", "features.0.weight", "features.12.weight" };
  const gint64 w0[4] = { 2, 1, 1, 1 }, b0[1] = { 2 }, w12[1] = { 3 };
  GError *error = NULL;
  NsSafetensors *st;
  float v[3];

  g_assert_true (ns_weights_trim (src, dest, &error));
  g_assert_no_error (error);

  st = ns_safetensors_open (dest, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ns_safetensors_get_n_tensors (st), ==, G_N_ELEMENTS (expected));
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const NsSafetensorsTensor *t = ns_safetensors_get_tensor (st, (guint) i);
      g_assert_cmpstr (t->name, ==, expected[i]);           /* sorted by name */
      g_assert_cmpint (t->dtype, ==, NS_DTYPE_F32);          /* F16 became F32 */
    }
  g_assert_true (ns_safetensors_read_f32 (st, "features.0.weight", w0, 4, v, &error));
  g_assert_cmpfloat (v[0], ==, 0.5f);
  g_assert_cmpfloat (v[1], ==, -1.25f);
  g_assert_true (ns_safetensors_read_f32 (st, "features.0.bias", b0, 1, v, &error));
  g_assert_cmpfloat (v[0], ==, 3.0f);
  g_assert_cmpfloat (v[1], ==, 1e-20f);
  g_assert_true (ns_safetensors_read_f32 (st, "features.12.weight", w12, 1, v, &error));
  g_assert_cmpfloat (v[0], ==, 1.0f);
  g_assert_cmpfloat (v[1], ==, -3.0f);
  g_assert_cmpfloat (v[2], ==, 5.9604644775390625e-8f);
  g_assert_no_error (error);
  ns_safetensors_close (st);
  ns_test_rm_rf (root);
}

static void
test_trim_errors (void)
{
  g_autofree char *root = make_tmp_dir ();
  g_autofree char *dest = g_build_filename (root, "out.safetensors", NULL);
  g_autofree char *no_conv = g_build_filename (root, "no-conv.safetensors", NULL);
  g_autofree char *int_conv = g_build_filename (root, "int-conv.safetensors", NULL);
  g_autofree char *garbage = g_build_filename (root, "garbage.safetensors", NULL);
  float one = 1.0f;
  NsSafetensorsEntry head = { "head.fc.weight", 1, { 1 }, &one };
  static const char int_json[] =
    "{\"features.0.weight\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  GString *s = g_string_new (NULL);
  guint64 len = GUINT64_TO_LE ((guint64) strlen (int_json));
  GError *error = NULL;

  g_assert_true (ns_safetensors_write (no_conv, &head, 1, &error));
  g_assert_false (ns_weights_trim (no_conv, dest, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, "no convolution tensors"));
  g_clear_error (&error);

  g_string_append_len (s, (const char *) &len, 8);
  g_string_append (s, int_json);
  g_string_append_len (s, "\0\0\0\0", 4);
  g_assert_true (g_file_set_contents (int_conv, s->str, s->len, NULL));
  g_assert_false (ns_weights_trim (int_conv, dest, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, "I32"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (garbage, "this is not safetensors", -1, NULL));
  g_assert_false (ns_weights_trim (garbage, dest, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_clear_error (&error);

  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_string_free (s, TRUE);
  ns_test_rm_rf (root);
}

/* ---- loading ------------------------------------------------------------------------------- */

/* A file with VGG-19's first convolution only: loading it fails at the second one, unless a
 * cancel stops it before the first (the plug-in's Stop while VGG-19 is read). */
static void
test_load_cancel (void)
{
  g_autofree char *root = make_tmp_dir ();
  g_autofree char *path = g_build_filename (root, "first-layer.safetensors", NULL);
  g_autofree float *weight = g_new0 (float, 64 * 3 * 3 * 3);
  g_autofree float *bias = g_new0 (float, 64);
  const NsSafetensorsEntry entries[] = {
    { "features.0.weight", 4, { 64, 3, 3, 3 }, weight },
    { "features.0.bias", 1, { 64 }, bias },
  };
  gint cancel = 0;
  GError *error = NULL;

  g_assert_true (ns_safetensors_write (path, entries, G_N_ELEMENTS (entries), &error));
  g_assert_no_error (error);

  g_assert_null (ns_network_load_cancellable (NS_NETWORK_VGG19, path, &cancel, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, "features.2.weight"));
  g_clear_error (&error);

  g_atomic_int_set (&cancel, 1);
  g_assert_null (ns_network_load_cancellable (NS_NETWORK_VGG19, path, &cancel, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_CANCELLED);
  g_clear_error (&error);
  /* "auto" does not fall back to the built-in network when the user stopped it. */
  g_assert_null (ns_network_load_cancellable (NS_NETWORK_AUTO, path, &cancel, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_CANCELLED);
  g_clear_error (&error);

  ns_test_rm_rf (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/weights/find/explicit", Places, NULL, places_setup, test_explicit, places_teardown);
  g_test_add ("/weights/find/order", Places, NULL, places_setup, test_order, places_teardown);
  g_test_add ("/weights/find/not-found", Places, NULL, places_setup, test_not_found, places_teardown);
  g_test_add_func ("/weights/public/user-dir", test_public_user_dir);
  g_test_add_func ("/weights/public/system-dir", test_public_system_dir);
  g_test_add_func ("/weights/public/env", test_public_env);
  g_test_add_func ("/weights/public/not-found", test_public_not_found);
  g_test_add_func ("/weights/trim", test_trim);
  g_test_add_func ("/weights/trim-errors", test_trim_errors);
  g_test_add_func ("/weights/load-cancel", test_load_cancel);

  return g_test_run ();
}
