/* weights.c — where the VGG-19 weights file lives, and trimming a full checkpoint down to
 * the convolution tensors the engine uses. */
#include <string.h>

#include "ns-internal.h"

#define WEIGHTS_SUBPATH "neural-style", NS_VGG19_FILENAME

#define HOW_TO_GET_WEIGHTS \
  "Run “neural-style --download-weights” to fetch it, pass --weights FILE, " \
  "or use the built-in network."

static gboolean
is_weights_file (const char *path)
{
  return path != NULL && *path != '\0' && g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* Adds dir/neural-style/vgg19.safetensors to `places` unless it is already there. */
static void
add_place (GPtrArray *places, const char *dir)
{
  char *path;

  if (dir == NULL || *dir == '\0')
    return;
  path = g_build_filename (dir, WEIGHTS_SUBPATH, NULL);
  for (guint i = 0; i < places->len; i++)
    if (strcmp (places->pdata[i], path) == 0)
      {
        g_free (path);
        return;
      }
  g_ptr_array_add (places, path);
}

char *
ns_weights_find_in (const char         *explicit_path,
                    const char         *env_path,
                    const char         *user_data_dir,
                    const char * const *system_data_dirs,
                    const char         *datadir,
                    GError            **error)
{
  g_autoptr (GPtrArray) places = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) message = NULL;

  /* A file the user named is never silently replaced by another one. */
  if (explicit_path != NULL)
    {
      g_autofree char *display = g_filename_display_name (explicit_path);

      if (is_weights_file (explicit_path))
        return g_strdup (explicit_path);
      g_set_error (error, NS_ERROR, NS_ERROR_WEIGHTS,
                   g_file_test (explicit_path, G_FILE_TEST_EXISTS)
                   ? "Weights file “%s” is not a regular file. " HOW_TO_GET_WEIGHTS
                   : "Weights file “%s” does not exist. " HOW_TO_GET_WEIGHTS,
                   display);
      return NULL;
    }

  if (is_weights_file (env_path))
    return g_strdup (env_path);

  add_place (places, user_data_dir);
  for (gsize i = 0; system_data_dirs != NULL && system_data_dirs[i] != NULL; i++)
    add_place (places, system_data_dirs[i]);
  add_place (places, datadir);

  for (guint i = 0; i < places->len; i++)
    if (is_weights_file (places->pdata[i]))
      return g_strdup (places->pdata[i]);

  message = g_string_new ("The VGG-19 weights file was not found. Looked in:\n");
  if (env_path != NULL && *env_path != '\0')
    {
      g_autofree char *display = g_filename_display_name (env_path);
      g_string_append_printf (message, "  %s (from $NEURAL_STYLE_WEIGHTS)\n", display);
    }
  for (guint i = 0; i < places->len; i++)
    {
      g_autofree char *display = g_filename_display_name (places->pdata[i]);
      g_string_append_printf (message, "  %s\n", display);
    }
  g_string_append (message, HOW_TO_GET_WEIGHTS);
  g_set_error_literal (error, NS_ERROR, NS_ERROR_WEIGHTS_NOT_FOUND, message->str);
  return NULL;
}

char *
ns_weights_find (const char *explicit_path, GError **error)
{
  return ns_weights_find_in (explicit_path, g_getenv ("NEURAL_STYLE_WEIGHTS"),
                             g_get_user_data_dir (), g_get_system_data_dirs (),
                             NS_DATADIR, error);
}

char *
ns_weights_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), WEIGHTS_SUBPATH, NULL);
}

gboolean
ns_weights_is_conv_tensor (const char *name)
{
  const char *p;

  if (!g_str_has_prefix (name, "features."))
    return FALSE;
  p = name + strlen ("features.");
  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  return strcmp (p, ".weight") == 0 || strcmp (p, ".bias") == 0;
}

gboolean
ns_weights_trim (const char *src, const char *dest, GError **error)
{
  g_autoptr (NsSafetensors) st = NULL;
  g_autoptr (GArray) entries = g_array_new (FALSE, TRUE, sizeof (NsSafetensorsEntry));
  g_autoptr (GPtrArray) buffers = g_ptr_array_new_with_free_func (g_free);
  guint n;

  g_return_val_if_fail (src != NULL && dest != NULL, FALSE);

  st = ns_safetensors_open (src, error);
  if (st == NULL)
    return FALSE;

  n = ns_safetensors_get_n_tensors (st);
  for (guint i = 0; i < n; i++)
    {
      const NsSafetensorsTensor *t = ns_safetensors_get_tensor (st, i);
      NsSafetensorsEntry e = { 0 };
      float *data;

      if (!ns_weights_is_conv_tensor (t->name))
        continue;
      /* t->n_bytes is the validated size, so the element count cannot overflow. */
      data = g_malloc (t->dtype == NS_DTYPE_F32 ? t->n_bytes : t->n_bytes * 2 + 1);
      g_ptr_array_add (buffers, data);
      if (!ns_safetensors_read_f32 (st, t->name, t->shape, t->n_dims, data, error))
        return FALSE;
      e.name = t->name;
      e.n_dims = t->n_dims;
      memcpy (e.shape, t->shape, sizeof e.shape);
      e.data = data;
      g_array_append_val (entries, e);
    }

  if (entries->len == 0)
    {
      g_autofree char *display = g_filename_display_name (src);
      g_set_error (error, NS_ERROR, NS_ERROR_WEIGHTS,
                   "“%s” holds no convolution tensors (features.N.weight or features.N.bias): "
                   "it is not a VGG checkpoint. Re-download it with "
                   "“neural-style --download-weights”.", display);
      return FALSE;
    }
  return ns_safetensors_write (dest, (const NsSafetensorsEntry *) entries->data, entries->len,
                               error);
}
