/* png-write.c — writing a result as PNG (libpng), through a temporary file beside it that
 * replaces the destination only when everything is written.
 *
 * libpng reports fatal errors by longjmp: as in imageio.c, everything the encoder allocates
 * is kept in a struct owned by its caller, and the function that calls setjmp only returns
 * FALSE after a jump. */
#include "imageio.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <png.h>

static void
png_write_warning_cb (png_structp png, png_const_charp message)
{
  /* Warnings do not affect the file written. */
}

/* ---- PNG writing ---------------------------------------------------------------------- */

typedef struct
{
  FILE          *fp;
  png_structp    png;
  png_infop      info;
  guchar        *row;
  const NsImage *color;
  const NsImage *alpha;
  int            depth;
  int            write_errno;   /* why writing failed, when the system said */
  char           message[256];
} PngWriter;

static guint
quantize (float v, guint max)
{
  if (!(v > 0.0f))          /* also catches NaN */
    return 0;
  if (v >= 1.0f)
    return max;
  return (guint) (v * (float) max + 0.5f);
}

static void
pack_row (PngWriter *w, int y)
{
  const NsImage *c = w->color;
  int channels = c->channels + (w->alpha ? 1 : 0);
  guint max = w->depth == 16 ? 65535 : 255;

  for (int x = 0; x < c->width; x++)
    for (int k = 0; k < channels; k++)
      {
        float f = k < c->channels ? c->data[((gsize) y * c->width + x) * c->channels + k]
                                  : w->alpha->data[(gsize) y * c->width + x];
        guint v = quantize (f, max);
        gsize i = (gsize) x * channels + k;

        if (w->depth == 16)
          {
            w->row[2 * i] = v >> 8;
            w->row[2 * i + 1] = v & 0xff;
          }
        else
          w->row[i] = v;
      }
}

/* libpng's own writer says only "Write Error"; keep errno to say what happened. */
static void
png_write_cb (png_structp png, png_bytep data, png_size_t length)
{
  PngWriter *w = png_get_io_ptr (png);

  if (fwrite (data, 1, length, w->fp) != length)
    {
      w->write_errno = errno;
      png_error (png, g_strerror (w->write_errno));
    }
}

static void
png_flush_cb (png_structp png)
{
  PngWriter *w = png_get_io_ptr (png);

  if (fflush (w->fp) != 0)
    {
      w->write_errno = errno;
      png_error (png, g_strerror (w->write_errno));
    }
}

static gboolean
png_encode (PngWriter *w)
{
  const NsImage *c = w->color;
  int type;

  if (setjmp (png_jmpbuf (w->png)))
    return FALSE;

  if (c->channels == 1)
    type = w->alpha ? PNG_COLOR_TYPE_GRAY_ALPHA : PNG_COLOR_TYPE_GRAY;
  else
    type = w->alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB;

  png_set_write_fn (w->png, w, png_write_cb, png_flush_cb);
  png_set_IHDR (w->png, w->info, c->width, c->height, w->depth, type, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  /* The values are sRGB-encoded; say so, so viewers do not guess. */
  png_set_sRGB_gAMA_and_cHRM (w->png, w->info, PNG_sRGB_INTENT_PERCEPTUAL);
  png_write_info (w->png, w->info);
  w->row = g_malloc ((gsize) c->width * (c->channels + 1) * (w->depth / 8));
  for (int y = 0; y < c->height; y++)
    {
      pack_row (w, y);
      png_write_row (w->png, w->row);
    }
  png_write_end (w->png, w->info);
  return TRUE;
}

static void
png_write_error_cb (png_structp png, png_const_charp message)
{
  PngWriter *w = png_get_error_ptr (png);

  g_strlcpy (w->message, message, sizeof w->message);
  png_longjmp (png, 1);
}

/* ---- temporary files ----------------------------------------------------------------- */

/* The temporary being written, for cli_image_remove_temporary() in a signal handler, which
 * may run in any thread at any moment: so a fixed buffer and an atomic flag. */
static char temporary[4096];
static gint temporary_set;

/* A new file beside `path`, created exclusively (ns_file_create_temp), so that neither a
 * file nor a link already there is touched.  Returns its stream, or NULL. */
static FILE *
temporary_open (const char *path, char **tmp, GError **error)
{
  int fd = ns_file_create_temp (path, ".tmp", tmp);
  FILE *fp = fd < 0 ? NULL : fdopen (fd, "wb");
  int saved = errno;

  if (fp == NULL)
    {
      g_autofree char *dir = g_path_get_dirname (path);

      if (fd >= 0)
        {
          close (fd);
          g_unlink (*tmp);
          g_clear_pointer (tmp, g_free);
        }
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "cannot write to the folder “%s”: %s", dir,
                   g_strerror (saved));
      return NULL;
    }
  if (strlen (*tmp) < sizeof temporary)
    {
      strcpy (temporary, *tmp);
      g_atomic_int_set (&temporary_set, 1);
    }
  return fp;
}

/* Deletes the temporary, or renames it to `path` when `keep`. */
static gboolean
temporary_close (const char *tmp, const char *path, gboolean keep, GError **error)
{
  g_atomic_int_set (&temporary_set, 0);
  if (keep && g_rename (tmp, path) != 0)
    {
      int saved = errno;
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "cannot rename “%s” to “%s”: %s", tmp, path,
                   g_strerror (saved));
      keep = FALSE;
    }
  if (!keep)
    g_unlink (tmp);
  return keep;
}

void
cli_image_remove_temporary (void)
{
  if (g_atomic_int_get (&temporary_set))
    unlink (temporary);
}

gboolean
cli_image_check_writable (const char *path, GError **error)
{
  g_autofree char *tmp = NULL;
  FILE *fp = temporary_open (path, &tmp, error);

  if (fp == NULL)
    return FALSE;
  fclose (fp);
  temporary_close (tmp, path, FALSE, NULL);
  return TRUE;
}

/* ---- PNG writing, the file -------------------------------------------------------------- */

/* Flushes to the disk, so that the rename cannot expose an empty file after a crash. */
static gboolean
close_file (FILE *fp, int *write_errno)
{
  gboolean ok = fflush (fp) == 0 && fsync (fileno (fp)) == 0;
  int saved = errno;

  if (fclose (fp) != 0 && ok)
    {
      ok = FALSE;
      saved = errno;
    }
  if (!ok)
    *write_errno = saved;
  return ok;
}

gboolean
cli_image_save_png (const char    *path,
                    const NsImage *color,
                    const NsImage *alpha,
                    int            bit_depth,
                    GError       **error)
{
  g_autofree char *tmp = NULL;
  PngWriter w = { .color = color, .alpha = alpha, .depth = bit_depth == 16 ? 16 : 8 };
  gboolean ok = FALSE;

  g_return_val_if_fail (color->channels == 1 || color->channels == 3, FALSE);
  g_return_val_if_fail (alpha == NULL || (alpha->width == color->width
                                          && alpha->height == color->height
                                          && alpha->channels == 1), FALSE);

  w.fp = temporary_open (path, &tmp, error);
  if (w.fp == NULL)
    return FALSE;

  w.png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &w, png_write_error_cb,
                                   png_write_warning_cb);
  w.info = w.png ? png_create_info_struct (w.png) : NULL;
  if (w.info == NULL)
    g_set_error (error, NS_ERROR, NS_ERROR_MEMORY, "libpng could not be initialised");
  else if (!(ok = png_encode (&w)) && w.write_errno == 0)
    g_set_error (error, NS_ERROR, NS_ERROR_IO, "cannot write “%s”: %s", path, w.message);
  if (w.png)
    png_destroy_write_struct (&w.png, w.info ? &w.info : NULL);
  g_free (w.row);

  if (ok)
    ok = close_file (w.fp, &w.write_errno);
  else
    fclose (w.fp);
  /* "No space left on device while writing “out.png”" */
  if (!ok && w.write_errno != 0)
    g_set_error (error, NS_ERROR, NS_ERROR_IO, "%s while writing “%s”",
                 g_strerror (w.write_errno), path);
  return temporary_close (tmp, path, ok, ok ? error : NULL);
}
