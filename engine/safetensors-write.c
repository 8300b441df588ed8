/* safetensors-write.c — F32 tensors written as a safetensors file (weights trimmed from a
 * checkpoint, test fixtures): sorted by name, the header padded to 8 bytes, written to a
 * temporary file and renamed, so that no reader sees half a file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#ifdef G_OS_UNIX
#include <unistd.h>
#endif

#include "ns-internal.h"

static int
compare_entries (gconstpointer a, gconstpointer b)
{
  const NsSafetensorsEntry *x = *(const NsSafetensorsEntry * const *) a;
  const NsSafetensorsEntry *y = *(const NsSafetensorsEntry * const *) b;
  return strcmp (x->name, y->name);
}

static void
append_json_string (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const char *p = str; *p; p++)
    {
      guchar c = (guchar) *p;
      if (c == '"' || c == '\\')
        g_string_append_printf (s, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (s, "\\u%04x", c);
      else
        g_string_append_c (s, (char) c);
    }
  g_string_append_c (s, '"');
}

static gsize
entry_count (const NsSafetensorsEntry *e)
{
  gsize n = 1;
  for (int i = 0; i < e->n_dims; i++)
    n *= (gsize) e->shape[i];
  return n;
}

/* Checks the entries and returns them sorted by name, or NULL with an error. */
static GPtrArray *
sorted_entries (const NsSafetensorsEntry *entries, guint n_entries, GError **error)
{
  g_autoptr (GPtrArray) sorted = g_ptr_array_sized_new (n_entries);

  for (guint i = 0; i < n_entries; i++)
    {
      const NsSafetensorsEntry *e = &entries[i];
      guint64 count = 1;

      if (e->name == NULL || strcmp (e->name, "__metadata__") == 0
          || !g_utf8_validate (e->name, -1, NULL))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "Cannot write a tensor named “%s”.", e->name ? e->name : "(null)");
          return NULL;
        }
      if (e->n_dims < 0 || e->n_dims > (int) G_N_ELEMENTS (e->shape))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "Tensor “%s” has %d dimensions; at most %d can be written.",
                       e->name, e->n_dims, (int) G_N_ELEMENTS (e->shape));
          return NULL;
        }
      for (int d = 0; d < e->n_dims; d++)
        if (e->shape[d] < 0 || !g_uint64_checked_mul (&count, count, (guint64) e->shape[d])
            || count > G_MAXSIZE / sizeof (float))
          {
            g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                         "Tensor “%s” has an invalid shape.", e->name);
            return NULL;
          }
      if (count > 0 && e->data == NULL)
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "Tensor “%s” has no data.", e->name);
          return NULL;
        }
      g_ptr_array_add (sorted, (gpointer) e);
    }
  g_ptr_array_sort (sorted, compare_entries);
  for (guint i = 1; i < sorted->len; i++)
    if (compare_entries (&sorted->pdata[i - 1], &sorted->pdata[i]) == 0)
      {
        g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                     "Tensor “%s” is given twice.",
                     ((const NsSafetensorsEntry *) sorted->pdata[i])->name);
        return NULL;
      }
  return g_steal_pointer (&sorted);
}

/* The header JSON, padded with spaces so that the data area starts 8-byte aligned. */
static GString *
build_header (GPtrArray *sorted)
{
  GString *s = g_string_new ("{");
  guint64 offset = 0;

  for (guint i = 0; i < sorted->len; i++)
    {
      const NsSafetensorsEntry *e = sorted->pdata[i];
      guint64 n_bytes = (guint64) entry_count (e) * sizeof (float);

      if (i > 0)
        g_string_append_c (s, ',');
      append_json_string (s, e->name);
      g_string_append (s, ":{\"dtype\":\"F32\",\"shape\":");
      ns_safetensors_append_shape (s, e->shape, e->n_dims);
      g_string_append_printf (s, ",\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                              offset, offset + n_bytes);
      offset += n_bytes;
    }
  g_string_append_c (s, '}');
  while (s->len % 8 != 0)
    g_string_append_c (s, ' ');
  return s;
}

static gboolean
write_floats (FILE *f, const float *data, gsize count)
{
#if G_BYTE_ORDER == G_BIG_ENDIAN
  guint32 buf[4096];
  while (count > 0)
    {
      gsize n = MIN (count, G_N_ELEMENTS (buf));
      memcpy (buf, data, n * 4);
      for (gsize i = 0; i < n; i++)
        buf[i] = GUINT32_TO_LE (buf[i]);
      if (fwrite (buf, 4, n, f) != n)
        return FALSE;
      data += n;
      count -= n;
    }
  return TRUE;
#else
  return count == 0 || fwrite (data, sizeof (float), count, f) == count;
#endif
}

static gboolean
write_file (FILE *f, GString *header, GPtrArray *sorted)
{
  guint64 len_le = GUINT64_TO_LE ((guint64) header->len);

  if (fwrite (&len_le, 8, 1, f) != 1 || fwrite (header->str, 1, header->len, f) != header->len)
    return FALSE;
  for (guint i = 0; i < sorted->len; i++)
    {
      const NsSafetensorsEntry *e = sorted->pdata[i];
      if (!write_floats (f, e->data, entry_count (e)))
        return FALSE;
    }
  if (fflush (f) != 0)
    return FALSE;
#ifdef G_OS_UNIX
  /* The rename below must not publish a file whose data is still only in the page cache. */
  if (fsync (fileno (f)) != 0)
    return FALSE;
#endif
  return TRUE;
}

gboolean
ns_safetensors_write (const char *path, const NsSafetensorsEntry *entries, guint n_entries,
                      GError **error)
{
  g_autoptr (GPtrArray) sorted = NULL;
  g_autoptr (GString) header = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *display = NULL;
  FILE *f;
  gboolean ok;
  int fd, saved_errno;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (entries != NULL || n_entries == 0, FALSE);

  sorted = sorted_entries (entries, n_entries, error);
  if (sorted == NULL)
    return FALSE;
  header = build_header (sorted);

  display = g_filename_display_name (path);
  fd = ns_file_create_temp (path, ".tmp", &tmp);
  f = fd < 0 ? NULL : fdopen (fd, "wb");
  if (f == NULL)
    {
      saved_errno = errno;
      if (fd >= 0)
        {
          close (fd);
          g_unlink (tmp);
        }
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not write weights file “%s”: %s",
                   display, g_strerror (saved_errno));
      return FALSE;
    }
  errno = 0;
  ok = write_file (f, header, sorted);
  saved_errno = errno;
  if (fclose (f) != 0 && ok)
    {
      ok = FALSE;
      saved_errno = errno;
    }
  if (ok && g_rename (tmp, path) != 0)
    {
      ok = FALSE;
      saved_errno = errno;
    }
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not write weights file “%s”: %s",
                   display, saved_errno ? g_strerror (saved_errno) : "write error");
      return FALSE;
    }
  return TRUE;
}
