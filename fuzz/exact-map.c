/* exact-map.c — GMappedFile replaced by an exact-size heap copy, for the fuzz targets only.
 *
 * The safetensors reader maps its file.  A read past the end of a mapping goes unnoticed
 * until the next page boundary, and AddressSanitizer does not watch mappings at all, so the
 * fuzz targets link with -Wl,--wrap=g_mapped_file_… : the reader's calls land here and read
 * the file into a malloc'd block of exactly its size, where one byte too far is reported.
 * Only the calls of the objects linked into the target are redirected (not GLib's own), and
 * the reader uses no other GMappedFile function. */
#include <errno.h>
#include <stdio.h>

#include <glib.h>
#include <glib/gstdio.h>

typedef struct
{
  char  *contents;
  gsize  length;
} ExactMap;

GMappedFile *__wrap_g_mapped_file_new (const gchar *filename, gboolean writable, GError **error);
gchar       *__wrap_g_mapped_file_get_contents (GMappedFile *file);
gsize        __wrap_g_mapped_file_get_length (GMappedFile *file);
void         __wrap_g_mapped_file_unref (GMappedFile *file);

GMappedFile *
__wrap_g_mapped_file_new (const gchar *filename, gboolean writable, GError **error)
{
  ExactMap *map;
  FILE *f;
  long size;

  g_assert (!writable);
  f = g_fopen (filename, "rb");
  if (f == NULL || fseek (f, 0, SEEK_END) != 0 || (size = ftell (f)) < 0 || fseek (f, 0, SEEK_SET) != 0)
    {
      int saved_errno = errno;

      if (f != NULL)
        fclose (f);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Failed to open file “%s”: %s", filename, g_strerror (saved_errno));
      return NULL;
    }
  map = g_new0 (ExactMap, 1);
  map->length = (gsize) size;
  /* Like GLib: an empty file has no contents. */
  if (size > 0)
    {
      map->contents = g_malloc ((gsize) size);
      if (fread (map->contents, 1, (gsize) size, f) != (gsize) size)
        g_error ("exact-map: could not read %s", filename);
    }
  fclose (f);
  return (GMappedFile *) map;
}

gchar *
__wrap_g_mapped_file_get_contents (GMappedFile *file)
{
  return ((ExactMap *) file)->contents;
}

gsize
__wrap_g_mapped_file_get_length (GMappedFile *file)
{
  return ((ExactMap *) file)->length;
}

void
__wrap_g_mapped_file_unref (GMappedFile *file)
{
  ExactMap *map = (ExactMap *) file;

  g_free (map->contents);
  g_free (map);
}
