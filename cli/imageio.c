/* imageio.c — PNG (libpng) and JPEG (libjpeg) reading (writing is in png-write.c).
 *
 * Both libraries report fatal errors by longjmp.  Each decoder therefore keeps everything it
 * allocates in a struct owned by its caller: the function that calls setjmp only returns
 * FALSE after a jump, and the caller frees what the struct holds.  That way no local
 * variable of the setjmp frame is read after the jump (which C leaves undefined).
 */
#include "imageio.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>


/* 2^28 pixels is 3 GiB of float RGB; larger inputs are surely a mistake for this tool. */
#define MAX_PIXELS   ((guint64) 1 << 28)
#define MAX_SIDE     65535

void
cli_image_clear (CliImage *image)
{
  g_clear_pointer (&image->color, ns_image_free);
  g_clear_pointer (&image->alpha, ns_image_free);
  image->bit_depth = 0;
}

static gboolean
check_dimensions (guint64 width, guint64 height, GError **error)
{
  if (width == 0 || height == 0)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "the image has no pixels (%" G_GUINT64_FORMAT
                   "×%" G_GUINT64_FORMAT ")", width, height);
      return FALSE;
    }
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_IO,
                   "the image is too large (%" G_GUINT64_FORMAT "×%" G_GUINT64_FORMAT
                   "); scale it down below %" G_GUINT64_FORMAT " megapixels first",
                   width, height, MAX_PIXELS / 1000000);
      return FALSE;
    }
  return TRUE;
}

/* ---- memory ----------------------------------------------------------------------------- */

static guint64
to_mib (guint64 bytes)
{
  return (bytes + (1 << 20) - 1) >> 20;
}

/* The peak of decoding a width×height image: the decoder's own `decoder_bytes`, plus the
 * `floats` float samples per pixel (colour and alpha planes) made from them. */
static guint64
decode_bytes (guint64 width, guint64 height, guint64 decoder_bytes, int floats)
{
  return decoder_bytes + width * height * floats * sizeof (float);
}

/* Checked before decoding: a small file can hold a huge image (a decompression bomb), and
 * the budget is what the user allowed the whole run. */
static gboolean
fits_budget (guint64 width, guint64 height, guint64 need, guint64 budget, GError **error)
{
  if (need <= budget)
    return TRUE;
  g_set_error (error, NS_ERROR, NS_ERROR_MEMORY,
               "it is %" G_GUINT64_FORMAT "×%" G_GUINT64_FORMAT " pixels; decoding it needs "
               "about %" G_GUINT64_FORMAT " MiB, more than the memory budget of %"
               G_GUINT64_FORMAT " MiB: allow more with --max-memory, or use a smaller image",
               width, height, to_mib (need), budget >> 20);
  return FALSE;
}

static void
set_no_memory (GError **error, guint64 width, guint64 height, guint64 need)
{
  g_set_error (error, NS_ERROR, NS_ERROR_MEMORY,
               "there is not enough memory to decode it (%" G_GUINT64_FORMAT "×%"
               G_GUINT64_FORMAT " pixels need about %" G_GUINT64_FORMAT " MiB); free some "
               "memory or use a smaller image", width, height, to_mib (need));
}

/* Like ns_image_new, but NULL when the memory is not there, instead of aborting. */
static NsImage *
image_try_new (int width, int height, int channels)
{
  NsImage *image = g_new0 (NsImage, 1);

  image->width = width;
  image->height = height;
  image->channels = channels;
  image->data = g_try_new (float, (gsize) width * height * channels);
  if (image->data == NULL)
    g_clear_pointer (&image, g_free);
  return image;
}

/* Splits interleaved 8- or 16-bit (big-endian) samples into colour and optional alpha. */
static void
unpack_samples (const guchar *row, int width, int channels, int depth,
                float *color, int color_channels, float *alpha)
{
  const float scale = depth == 16 ? 1.0f / 65535.0f : 1.0f / 255.0f;

  for (int x = 0; x < width; x++)
    for (int c = 0; c < channels; c++)
      {
        int i = x * channels + c;
        guint v = depth == 16 ? ((guint) row[2 * i] << 8) | row[2 * i + 1] : row[i];
        float f = (float) v * scale;

        if (c < color_channels)
          color[x * color_channels + c] = f;
        else
          alpha[x] = f;
      }
}

static gboolean
fill_image (CliImage *image, const guchar *pixels, gsize rowbytes, int width, int height,
            int channels, int depth, GError **error)
{
  int color_channels = channels == 2 || channels == 4 ? channels - 1 : channels;
  gboolean has_alpha = color_channels != channels;

  if (color_channels != 1 && color_channels != 3)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "unsupported number of channels (%d)", channels);
      return FALSE;
    }
  image->color = image_try_new (width, height, color_channels);
  image->alpha = has_alpha ? image_try_new (width, height, 1) : NULL;
  if (image->color == NULL || (has_alpha && image->alpha == NULL))
    {
      set_no_memory (error, width, height, decode_bytes (width, height, rowbytes * height,
                                                         channels));
      return FALSE;
    }
  image->bit_depth = depth;
  for (int y = 0; y < height; y++)
    unpack_samples (pixels + (gsize) y * rowbytes, width, channels, depth,
                    image->color->data + (gsize) y * width * color_channels, color_channels,
                    has_alpha ? image->alpha->data + (gsize) y * width : NULL);
  return TRUE;
}

/* ---- PNG reading ---------------------------------------------------------------------- */

typedef struct
{
  FILE       *fp;
  png_structp png;
  png_infop   info;
  guchar     *pixels;
  png_bytep  *rows;
  int         width, height, channels, depth;
  gsize       rowbytes;
  guint64     budget;
  GError     *memory_error;     /* over the budget, or out of memory: not a damaged file */
  char        message[256];
} PngReader;

static void
png_error_cb (png_structp png, png_const_charp message)
{
  PngReader *r = png_get_error_ptr (png);

  g_strlcpy (r->message, message, sizeof r->message);
  png_longjmp (png, 1);
}

static void
png_warning_cb (png_structp png, png_const_charp message)
{
  /* Warnings (odd ancillary chunks, sRGB profile quirks) do not affect the pixels. */
}

static gboolean
png_decode (PngReader *r)
{
  png_uint_32 width, height;
  int color_type, depth;
  guint64 need;

  if (setjmp (png_jmpbuf (r->png)))
    return FALSE;

  png_init_io (r->png, r->fp);
  png_set_user_limits (r->png, MAX_SIDE, MAX_SIDE);
  png_read_info (r->png, r->info);
  png_get_IHDR (r->png, r->info, &width, &height, &depth, &color_type, NULL, NULL, NULL);
  if ((guint64) width * height > MAX_PIXELS)
    png_error (r->png, "the image is too large");

  if (color_type == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb (r->png);
  if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8 (r->png);
  if (png_get_valid (r->png, r->info, PNG_INFO_tRNS))
    png_set_tRNS_to_alpha (r->png);
  png_set_interlace_handling (r->png);
  png_read_update_info (r->png, r->info);

  r->width = width;
  r->height = height;
  r->channels = png_get_channels (r->png, r->info);
  r->depth = png_get_bit_depth (r->png, r->info);
  r->rowbytes = png_get_rowbytes (r->png, r->info);
  need = decode_bytes (width, height, (guint64) r->rowbytes * height, r->channels);
  if (!fits_budget (width, height, need, r->budget, &r->memory_error))
    return FALSE;
  r->pixels = g_try_malloc ((gsize) r->rowbytes * height);
  r->rows = g_try_new (png_bytep, height);
  if (r->pixels == NULL || r->rows == NULL)
    {
      set_no_memory (&r->memory_error, width, height, need);
      return FALSE;
    }
  for (png_uint_32 y = 0; y < height; y++)
    r->rows[y] = r->pixels + (gsize) y * r->rowbytes;
  png_read_image (r->png, r->rows);
  return TRUE;
}

static gboolean
load_png (FILE *fp, guint64 budget, CliImage *image, GError **error)
{
  PngReader r = { .fp = fp, .budget = budget };
  gboolean ok = FALSE;

  r.png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &r, png_error_cb, png_warning_cb);
  r.info = r.png ? png_create_info_struct (r.png) : NULL;
  if (r.info == NULL)
    g_set_error (error, NS_ERROR, NS_ERROR_MEMORY, "libpng could not be initialised");
  else if (!png_decode (&r))
    {
      if (r.memory_error != NULL)
        g_propagate_error (error, g_steal_pointer (&r.memory_error));
      else
        g_set_error (error, NS_ERROR, NS_ERROR_IO, "the PNG file is damaged or truncated "
                     "(libpng: %s); export it again", r.message);
    }
  else if (r.depth != 8 && r.depth != 16)
    g_set_error (error, NS_ERROR, NS_ERROR_IO, "unexpected PNG bit depth %d", r.depth);
  else
    ok = fill_image (image, r.pixels, r.rowbytes, r.width, r.height, r.channels, r.depth, error);

  if (r.png)
    png_destroy_read_struct (&r.png, r.info ? &r.info : NULL, NULL);
  g_free (r.rows);
  g_free (r.pixels);
  return ok;
}

/* ---- JPEG reading --------------------------------------------------------------------- */

typedef struct
{
  struct jpeg_error_mgr          pub;
  jmp_buf                        jmp;
  gboolean                       truncated;
} JpegErrors;

typedef struct
{
  FILE                          *fp;
  struct jpeg_decompress_struct  cinfo;
  JpegErrors                     errors;
  gboolean                       created;
  guchar                        *pixels;
  int                            width, height, channels;
  gboolean                       cmyk, adobe;
  int                            orientation;   /* EXIF 1–8 */
  guint64                        budget;
  guint64                        need;          /* bytes, at the peak of decoding */
  GError                        *memory_error;  /* not a damaged file */
  char                           message[JMSG_LENGTH_MAX];
} JpegReader;

static void
jpeg_error_exit_cb (j_common_ptr cinfo)
{
  JpegErrors *e = (JpegErrors *) cinfo->err;

  longjmp (e->jmp, 1);
}

static void
jpeg_emit_message_cb (j_common_ptr cinfo, int level)
{
  JpegErrors *e = (JpegErrors *) cinfo->err;

  /* libjpeg fills a truncated file with grey and only warns; a half-grey content image
   * would be stylized without complaint, so treat it as an error.  Other warnings
   * (extraneous bytes, odd markers) are harmless and stay silent. */
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
    e->truncated = TRUE;
}

static guint
exif_u16 (const guchar *p, gboolean big_endian)
{
  return big_endian ? (guint) p[0] << 8 | p[1] : (guint) p[1] << 8 | p[0];
}

static guint32
exif_u32 (const guchar *p, gboolean big_endian)
{
  return big_endian ? (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3]
                    : (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
}

/* Cameras store portrait photos sideways plus an EXIF orientation tag; every viewer
 * honours it, so the content must too.  Returns 1 (as stored) when absent or unreadable. */
static int
exif_orientation (const guchar *data, guint length)
{
  const guchar *tiff = data + 6;
  guint size, ifd, count;
  gboolean be;

  if (length < 14 || memcmp (data, "Exif\0\0", 6) != 0)
    return 1;
  size = length - 6;
  if (memcmp (tiff, "MM", 2) == 0)
    be = TRUE;
  else if (memcmp (tiff, "II", 2) == 0)
    be = FALSE;
  else
    return 1;
  ifd = exif_u32 (tiff + 4, be);
  if (ifd < 8 || (guint64) ifd + 2 > size)
    return 1;
  count = exif_u16 (tiff + ifd, be);
  for (guint i = 0; i < count; i++)
    {
      guint entry = ifd + 2 + 12 * i;

      if ((guint64) entry + 12 > size)
        break;
      if (exif_u16 (tiff + entry, be) == 0x0112 && exif_u16 (tiff + entry + 2, be) == 3)
        {
          guint v = exif_u16 (tiff + entry + 8, be);
          return v >= 1 && v <= 8 ? (int) v : 1;
        }
    }
  return 1;
}

/* The decoded samples; a progressive file also keeps all its coefficients (2 bytes each);
 * then the float colour, twice when it is turned to its EXIF orientation. */
static guint64
jpeg_decode_bytes (JpegReader *r)
{
  guint64 pixels = (guint64) r->width * r->height;
  guint64 decoder = pixels * r->channels;
  int floats = r->cmyk ? 3 : r->channels;

  if (jpeg_has_multiple_scans (&r->cinfo))
    decoder += pixels * r->cinfo.num_components * 2;
  return decode_bytes (r->width, r->height, decoder, r->orientation != 1 ? 2 * floats : floats);
}

static gboolean
jpeg_decode (JpegReader *r)
{
  struct jpeg_decompress_struct *cinfo = &r->cinfo;

  if (setjmp (r->errors.jmp))
    {
      (*cinfo->err->format_message) ((j_common_ptr) cinfo, r->message);
      return FALSE;
    }
  jpeg_create_decompress (cinfo);
  r->created = TRUE;
  jpeg_stdio_src (cinfo, r->fp);
  jpeg_save_markers (cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header (cinfo, TRUE);

  for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != NULL; m = m->next)
    if (m->marker == JPEG_APP0 + 1)
      r->orientation = exif_orientation (m->data, m->data_length);

  switch (cinfo->jpeg_color_space)
    {
    case JCS_GRAYSCALE:
      cinfo->out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo->out_color_space = JCS_CMYK;
      r->cmyk = TRUE;
      r->adobe = cinfo->saw_Adobe_marker;
      break;
    default:
      cinfo->out_color_space = JCS_RGB;
      break;
    }
  /* The size, before jpeg_start_decompress allocates anything for it. */
  jpeg_calc_output_dimensions (cinfo);
  if ((guint64) cinfo->output_width * cinfo->output_height > MAX_PIXELS
      || cinfo->output_width > MAX_SIDE || cinfo->output_height > MAX_SIDE)
    {
      g_strlcpy (r->message, "the image is too large", sizeof r->message);
      return FALSE;
    }
  r->width = cinfo->output_width;
  r->height = cinfo->output_height;
  r->channels = cinfo->output_components;
  r->need = jpeg_decode_bytes (r);
  if (!fits_budget (r->width, r->height, r->need, r->budget, &r->memory_error))
    return FALSE;
  jpeg_start_decompress (cinfo);
  r->pixels = g_try_malloc ((gsize) r->width * r->height * r->channels);
  if (r->pixels == NULL)
    {
      set_no_memory (&r->memory_error, r->width, r->height, r->need);
      return FALSE;
    }
  while (cinfo->output_scanline < cinfo->output_height)
    {
      JSAMPROW row = r->pixels + (gsize) cinfo->output_scanline * r->width * r->channels;
      jpeg_read_scanlines (cinfo, &row, 1);
    }
  jpeg_finish_decompress (cinfo);
  return TRUE;
}

/* Adobe applications store CMYK inverted; others store it plain. */
static void
cmyk_to_rgb (guchar *pixels, gsize n_pixels, gboolean inverted)
{
  for (gsize i = 0; i < n_pixels; i++)
    {
      guchar *p = pixels + 4 * i;
      guint k = inverted ? p[3] : 255 - p[3];

      for (int c = 0; c < 3; c++)
        {
          guint v = inverted ? p[c] : 255 - p[c];
          pixels[3 * i + c] = (guchar) ((v * k + 127) / 255);
        }
    }
}

/* Applies EXIF orientation `o` (2–8): the result is what a viewer shows. */
static NsImage *
orient (const NsImage *src, int o)
{
  gboolean swap = o >= 5;
  int w = swap ? src->height : src->width;
  int h = swap ? src->width : src->height;
  int ch = src->channels;
  NsImage *dst = image_try_new (w, h, ch);

  if (dst == NULL)
    return NULL;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int sx, sy;

        switch (o)
          {
          case 2: sx = w - 1 - x; sy = y; break;
          case 3: sx = w - 1 - x; sy = h - 1 - y; break;
          case 4: sx = x; sy = h - 1 - y; break;
          case 5: sx = y; sy = x; break;
          case 6: sx = y; sy = w - 1 - x; break;
          case 7: sx = h - 1 - y; sy = w - 1 - x; break;
          case 8: sx = h - 1 - y; sy = x; break;
          default: sx = x; sy = y; break;
          }
        memcpy (dst->data + ((gsize) y * w + x) * ch,
                src->data + ((gsize) sy * src->width + sx) * ch, ch * sizeof (float));
      }
  return dst;
}

static gboolean
load_jpeg (FILE *fp, guint64 budget, CliImage *image, GError **error)
{
  JpegReader r = { .fp = fp, .orientation = 1, .budget = budget };
  gboolean ok = FALSE;

  r.cinfo.err = jpeg_std_error (&r.errors.pub);
  r.errors.pub.error_exit = jpeg_error_exit_cb;
  r.errors.pub.emit_message = jpeg_emit_message_cb;

  if (!jpeg_decode (&r))
    {
      if (r.memory_error != NULL)
        g_propagate_error (error, g_steal_pointer (&r.memory_error));
      else
        g_set_error (error, NS_ERROR, NS_ERROR_IO, "the JPEG file is damaged or truncated "
                     "(libjpeg: %s); export it again", r.message);
    }
  else if (r.errors.truncated)
    g_set_error (error, NS_ERROR, NS_ERROR_IO,
                 "the JPEG file is truncated (its data ends early); copy or export it again");
  else if (r.channels != 1 && r.channels != 3 && !(r.cmyk && r.channels == 4))
    g_set_error (error, NS_ERROR, NS_ERROR_IO, "unsupported JPEG with %d channels", r.channels);
  else
    {
      if (r.cmyk)
        {
          cmyk_to_rgb (r.pixels, (gsize) r.width * r.height, r.adobe);
          r.channels = 3;
        }
      ok = fill_image (image, r.pixels, (gsize) r.width * r.channels, r.width, r.height,
                       r.channels, 8, error);
      if (ok && r.orientation != 1)
        {
          NsImage *turned = orient (image->color, r.orientation);

          if (turned == NULL)
            {
              set_no_memory (error, r.width, r.height, r.need);
              ok = FALSE;
            }
          else
            {
              ns_image_free (image->color);
              image->color = turned;
            }
        }
    }

  if (r.created)
    jpeg_destroy_decompress (&r.cinfo);
  g_free (r.pixels);
  return ok;
}

/* ---- entry points --------------------------------------------------------------------- */

gboolean
cli_image_load (const char *path, guint64 budget, CliImage *image, GError **error)
{
  static const guchar png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  guchar magic[8] = { 0 };
  gsize got;
  gboolean ok;
  FILE *fp;

  memset (image, 0, sizeof *image);
  fp = g_fopen (path, "rb");
  if (fp == NULL)
    {
      int saved = errno;
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "%s", g_strerror (saved));
      return FALSE;
    }
  got = fread (magic, 1, sizeof magic, fp);
  if (ferror (fp))
    {
      int saved = errno;
      fclose (fp);
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "%s", g_strerror (saved));
      return FALSE;
    }
  rewind (fp);

  if (got == sizeof magic && memcmp (magic, png_magic, sizeof magic) == 0)
    ok = load_png (fp, budget, image, error);
  else if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff)
    ok = load_jpeg (fp, budget, image, error);
  else
    {
      g_set_error (error, NS_ERROR, NS_ERROR_IO, got == 0 ? "the file is empty"
                   : "not a PNG or JPEG file; convert it to PNG or JPEG first");
      ok = FALSE;
    }
  fclose (fp);

  if (ok)
    ok = check_dimensions (image->color->width, image->color->height, error);
  if (!ok)
    cli_image_clear (image);
  return ok;
}
