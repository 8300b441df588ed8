/* seeds-image.c — the seed corpus of fuzz-image (NS_FUZZ_MAKE_SEEDS=DIR).
 *
 * Small PNG files of every colour type and bit depth the reader converts (1–16 bits, grey,
 * grey+alpha, RGB, RGBA, palette, tRNS, Adam7 interlacing) and JPEG files of every kind it
 * handles (grey, YCbCr baseline and progressive, arithmetic coding, Adobe CMYK and YCCK,
 * EXIF orientation in both byte orders), written with plain libpng and libjpeg. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

void fuzz_make_seeds (const char *dir);

#define W 9            /* odd sizes: partial Adam7 passes and partial JPEG blocks */
#define H 7

static int
sample (int x, int y, int c, int max)
{
  return ((x * 37 + y * 11 + c * 53) * (max / 31 + 1) + ((x / 2 + y / 2) % 2) * max / 3) % (max + 1);
}

static FILE *
open_out (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  FILE *fp = fopen (path, "wb");

  if (fp == NULL)
    g_error ("cannot write %s", path);
  return fp;
}

/* type: PNG_COLOR_TYPE_*; trns: add a tRNS chunk (grey, RGB or palette). */
static void
write_png_sized (const char *dir, const char *name, int type, int depth, gboolean interlace,
                 gboolean trns, int width, int height)
{
  FILE *fp = open_out (dir, name);
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  int channels = type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_PALETTE ? 1
                 : type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : type == PNG_COLOR_TYPE_RGB ? 3 : 4;
  int max = (1 << depth) - 1;
  png_bytep *rows = g_new (png_bytep, height);
  int passes;

  if (setjmp (png_jmpbuf (png)))
    g_error ("libpng failed writing %s", name);
  png_init_io (png, fp);
  png_set_IHDR (png, info, width, height, depth, type,
                interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (type == PNG_COLOR_TYPE_PALETTE)
    {
      png_color palette[16];
      png_byte alpha[3] = { 0, 128, 255 };

      for (int i = 0; i <= max && i < 16; i++)
        palette[i] = (png_color) { (png_byte) (i * 16), (png_byte) (255 - i * 8), (png_byte) (i * 5) };
      png_set_PLTE (png, info, palette, MIN (max + 1, 16));
      if (trns)
        png_set_tRNS (png, info, alpha, 3, NULL);
    }
  else if (trns)
    {
      png_color_16 key = { 0, (png_uint_16) sample (1, 0, 0, max), (png_uint_16) sample (1, 0, 1, max),
                           (png_uint_16) sample (1, 0, 2, max), (png_uint_16) sample (1, 0, 0, max) };
      png_set_tRNS (png, info, NULL, 0, &key);
    }
  png_set_gAMA (png, info, 0.45455);
  png_write_info (png, info);
  if (depth < 8)
    png_set_packing (png);
  for (int y = 0; y < height; y++)
    {
      rows[y] = g_malloc0 ((gsize) width * channels * 2);
      for (int x = 0; x < width; x++)
        for (int c = 0; c < channels; c++)
          {
            /* Palette images use the first 16 entries at most. */
            int v = type == PNG_COLOR_TYPE_PALETTE ? sample (x, y, 0, MIN (max, 15))
                                                   : sample (x, y, c, max);
            int i = x * channels + c;

            if (depth == 16)
              {
                rows[y][2 * i] = (png_byte) (v >> 8);
                rows[y][2 * i + 1] = (png_byte) v;
              }
            else
              rows[y][i] = (png_byte) v;
          }
    }
  passes = png_set_interlace_handling (png);
  for (int p = 0; p < passes; p++)
    for (int y = 0; y < height; y++)
      png_write_row (png, rows[y]);
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  for (int y = 0; y < height; y++)
    g_free (rows[y]);
  g_free (rows);
  fclose (fp);
}

static void
write_png (const char *dir, const char *name, int type, int depth, gboolean interlace,
           gboolean trns)
{
  write_png_sized (dir, name, type, depth, interlace, trns, W, H);
}

/* A copy of PNG `from` whose IHDR claims width × height, with its CRC to match. */
static void
write_png_claiming (const char *dir, const char *from, const char *name, guint32 width,
                    guint32 height)
{
  g_autofree char *src = g_build_filename (dir, from, NULL);
  g_autofree char *dst = g_build_filename (dir, name, NULL);
  g_autofree guint8 *data = NULL;
  GError *error = NULL;
  gsize size;
  guint32 crc;

  if (!g_file_get_contents (src, (char **) &data, &size, &error))
    g_error ("%s", error->message);
  /* signature (8), IHDR length (4), "IHDR" (4), width (4), height (4), … 13 bytes, CRC */
  for (int i = 0; i < 4; i++)
    {
      data[16 + i] = (guint8) (width >> (24 - 8 * i));
      data[20 + i] = (guint8) (height >> (24 - 8 * i));
    }
  crc = (guint32) crc32 (0, data + 12, 17);
  for (int i = 0; i < 4; i++)
    data[29 + i] = (guint8) (crc >> (24 - 8 * i));
  if (!g_file_set_contents (dst, (const char *) data, size, &error))
    g_error ("%s", error->message);
}

/* A copy of JPEG `from` whose frame header claims width × height (the data stays small). */
static void
write_jpeg_claiming (const char *dir, const char *from, const char *name, int width, int height)
{
  g_autofree char *src = g_build_filename (dir, from, NULL);
  g_autofree char *dst = g_build_filename (dir, name, NULL);
  g_autofree guint8 *data = NULL;
  GError *error = NULL;
  gsize size;

  if (!g_file_get_contents (src, (char **) &data, &size, &error))
    g_error ("%s", error->message);
  for (gsize i = 2; i + 9 < size; i++)
    if (data[i] == 0xff && (data[i + 1] == 0xc0 || data[i + 1] == 0xc2))
      {
        /* FFCn, length (2), precision (1), height (2), width (2) */
        data[i + 5] = (guint8) (height >> 8);
        data[i + 6] = (guint8) height;
        data[i + 7] = (guint8) (width >> 8);
        data[i + 8] = (guint8) width;
        break;
      }
  if (!g_file_set_contents (dst, (const char *) data, size, &error))
    g_error ("%s", error->message);
}

static void
put (guint8 *p, guint32 v, int bytes, gboolean big_endian)
{
  for (int i = 0; i < bytes; i++)
    p[big_endian ? bytes - 1 - i : i] = (guint8) (v >> (8 * i));
}

/* An APP1 "Exif" segment holding a TIFF header and one IFD with only the orientation tag. */
static void
write_exif (j_compress_ptr cinfo, int orientation, gboolean big_endian)
{
  guint8 e[32] = { 'E', 'x', 'i', 'f', 0, 0 };
  guint8 *t = e + 6;

  t[0] = t[1] = big_endian ? 'M' : 'I';
  put (t + 2, 42, 2, big_endian);
  put (t + 4, 8, 4, big_endian);            /* the IFD's offset */
  put (t + 8, 1, 2, big_endian);            /* one entry: */
  put (t + 10, 0x0112, 2, big_endian);      /*   Orientation, */
  put (t + 12, 3, 2, big_endian);           /*   SHORT, */
  put (t + 14, 1, 4, big_endian);           /*   one value, */
  put (t + 18, orientation, 2, big_endian); /*   left-aligned in the 4-byte field */
  put (t + 22, 0, 4, big_endian);           /* no next IFD */
  jpeg_write_marker (cinfo, JPEG_APP0 + 1, e, sizeof e);
}

/* space: JCS_GRAYSCALE, JCS_RGB (stored as YCbCr), JCS_CMYK or JCS_YCCK. */
static void
write_jpeg (const char *dir, const char *name, J_COLOR_SPACE space, gboolean progressive,
            gboolean arith, int orientation, gboolean exif_big_endian)
{
  FILE *fp = open_out (dir, name);
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr err;
  int channels = space == JCS_GRAYSCALE ? 1 : space == JCS_RGB ? 3 : 4;
  guint8 row[W * 4];

  cinfo.err = jpeg_std_error (&err);
  jpeg_create_compress (&cinfo);
  jpeg_stdio_dest (&cinfo, fp);
  cinfo.image_width = W;
  cinfo.image_height = H;
  cinfo.input_components = channels;
  cinfo.in_color_space = space == JCS_YCCK ? JCS_CMYK : space;
  jpeg_set_defaults (&cinfo);
  jpeg_set_colorspace (&cinfo, space == JCS_RGB ? JCS_YCbCr : space);
  jpeg_set_quality (&cinfo, 90, TRUE);
  if (progressive)
    jpeg_simple_progression (&cinfo);
  cinfo.arith_code = arith;
  cinfo.restart_interval = arith ? 1 : 0;
  jpeg_start_compress (&cinfo, TRUE);
  if (orientation != 0)
    write_exif (&cinfo, orientation, exif_big_endian);
  for (int y = 0; y < H; y++)
    {
      JSAMPROW r = row;

      for (int x = 0; x < W; x++)
        for (int c = 0; c < channels; c++)
          row[x * channels + c] = (guint8) sample (x, y, c, 255);
      jpeg_write_scanlines (&cinfo, &r, 1);
    }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  fclose (fp);
}

void
fuzz_make_seeds (const char *dir)
{
  write_png (dir, "gray1.png", PNG_COLOR_TYPE_GRAY, 1, FALSE, FALSE);
  write_png (dir, "gray2-trns.png", PNG_COLOR_TYPE_GRAY, 2, FALSE, TRUE);
  write_png (dir, "gray4-adam7.png", PNG_COLOR_TYPE_GRAY, 4, TRUE, FALSE);
  write_png (dir, "gray8.png", PNG_COLOR_TYPE_GRAY, 8, FALSE, FALSE);
  write_png (dir, "gray16-adam7.png", PNG_COLOR_TYPE_GRAY, 16, TRUE, FALSE);
  write_png (dir, "graya8.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8, FALSE, FALSE);
  write_png (dir, "graya16.png", PNG_COLOR_TYPE_GRAY_ALPHA, 16, FALSE, FALSE);
  write_png (dir, "rgb8.png", PNG_COLOR_TYPE_RGB, 8, FALSE, FALSE);
  write_png (dir, "rgb8-adam7-trns.png", PNG_COLOR_TYPE_RGB, 8, TRUE, TRUE);
  write_png (dir, "rgb16-trns.png", PNG_COLOR_TYPE_RGB, 16, FALSE, TRUE);
  write_png (dir, "rgba8.png", PNG_COLOR_TYPE_RGB_ALPHA, 8, FALSE, FALSE);
  write_png (dir, "rgba16-adam7.png", PNG_COLOR_TYPE_RGB_ALPHA, 16, TRUE, FALSE);
  write_png (dir, "palette8.png", PNG_COLOR_TYPE_PALETTE, 8, FALSE, FALSE);
  write_png (dir, "palette4-trns.png", PNG_COLOR_TYPE_PALETTE, 4, FALSE, TRUE);
  write_png (dir, "palette1-adam7.png", PNG_COLOR_TYPE_PALETTE, 1, TRUE, FALSE);

  write_jpeg (dir, "gray.jpg", JCS_GRAYSCALE, FALSE, FALSE, 0, FALSE);
  write_jpeg (dir, "gray-progressive.jpg", JCS_GRAYSCALE, TRUE, FALSE, 0, FALSE);
  write_jpeg (dir, "ycbcr.jpg", JCS_RGB, FALSE, FALSE, 0, FALSE);
  write_jpeg (dir, "ycbcr-progressive.jpg", JCS_RGB, TRUE, FALSE, 0, FALSE);
  write_jpeg (dir, "ycbcr-arith.jpg", JCS_RGB, FALSE, TRUE, 0, FALSE);
  write_jpeg (dir, "ycbcr-exif6-le.jpg", JCS_RGB, FALSE, FALSE, 6, FALSE);
  write_jpeg (dir, "ycbcr-exif7-be.jpg", JCS_RGB, TRUE, FALSE, 7, TRUE);
  write_jpeg (dir, "gray-exif3-be.jpg", JCS_GRAYSCALE, FALSE, FALSE, 3, TRUE);
  write_jpeg (dir, "cmyk.jpg", JCS_CMYK, FALSE, FALSE, 0, FALSE);
  write_jpeg (dir, "ycck-exif8-le.jpg", JCS_YCCK, FALSE, FALSE, 8, FALSE);

  /* Refused from their headers: decoding them would take more than the target's budget. */
  write_png_sized (dir, "gray1-2048-bad.png", PNG_COLOR_TYPE_GRAY, 1, FALSE, FALSE, 2048, 2048);
  /* Refused by the readers' own limit (2^28 pixels), whatever the budget. */
  write_png_claiming (dir, "gray1.png", "gray1-65535-bad.png", 65535, 65535);
  write_jpeg_claiming (dir, "ycbcr-progressive.jpg", "ycbcr-progressive-4096-bad.jpg", 4096, 4096);
}
