/* make-image.c — writes and inspects test images for tests/test-cli.sh, independently of the
 * code under test (plain libpng/libjpeg, no transforms).
 *
 *   make-image png  OUT W H gray|graya|rgb|rgba|palette 8|16 [SHIFT]
 *                                  SHIFT moves the pattern SHIFT px to the right (the frames
 *                                  of an animation)
 *   make-image blank OUT W H gray|rgba DEPTH
 *                                  an all-black PNG (DEPTH 1, 2, 4, 8 or 16 for gray, 8 or
 *                                  16 for rgba) compressed as far as it goes: a few bytes
 *                                  per kilopixel, a decompression bomb in small
 *   make-image jpeg OUT W H gray|rgb|cmyk [ORIENTATION]   (an EXIF orientation tag, 1–8)
 *                                  cmyk is stored the Adobe way (inverted, with an Adobe
 *                                  marker) and decodes to the same colours as rgb
 *   make-image info FILE           prints "W H DEPTH TYPE STDDEV" (PNG only; STDDEV of all
 *                                  colour samples scaled to [0,1])
 *   make-image pixel FILE X Y      prints the samples of pixel (X,Y) scaled to [0,1]
 *   make-image diff A B            prints the mean absolute difference of two PNGs of the
 *                                  same size and layout (samples scaled to [0,1])
 *   make-image sharpness FILE      prints the mean squared difference between the luminance
 *                                  (0.299 R + 0.587 G + 0.114 B, in [0,1]) and its Gaussian
 *                                  blur at σ = 1.5 px (edges clamped): high-frequency energy
 *
 * The pattern is smooth gradients plus a checkerboard, so that it has texture at several
 * scales.  With alpha, the left half is opaque and the right half is 25 % opaque.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

static double
pattern (int x, int y, int w, int h, int c)
{
  double g = c == 0 ? (double) x / w : c == 1 ? (double) y / h : 0.5 * (x + y) / (w + h) * 2;
  int check = ((x / 4) + (y / 4)) % 2;

  return 0.15 + 0.6 * g + (check ? 0.2 : 0.0);
}

static int
die (const char *message)
{
  fprintf (stderr, "make-image: %s\n", message);
  return 1;
}

/* Opens path for writing and starts a PNG of w×h pixels on it (no setjmp: an error while
 * writing aborts, which fails the test loudly enough); NULL if the file cannot be created. */
static FILE *
png_begin (const char *path, int w, int h, int depth, int color_type, png_structp *png,
           png_infop *info)
{
  FILE *fp = fopen (path, "wb");

  if (fp == NULL)
    return NULL;
  *png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  *info = png_create_info_struct (*png);
  png_init_io (*png, fp);
  png_set_IHDR (*png, *info, w, h, depth, color_type, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  return fp;
}

static int
write_png (const char *path, int w, int h, const char *type, int depth, int shift)
{
  int ct, channels, max = depth == 16 ? 65535 : 255;
  png_structp png;
  png_infop info;
  unsigned char *row;
  FILE *fp;

  if (strcmp (type, "gray") == 0)
    ct = PNG_COLOR_TYPE_GRAY, channels = 1;
  else if (strcmp (type, "graya") == 0)
    ct = PNG_COLOR_TYPE_GRAY_ALPHA, channels = 2;
  else if (strcmp (type, "rgb") == 0)
    ct = PNG_COLOR_TYPE_RGB, channels = 3;
  else if (strcmp (type, "rgba") == 0)
    ct = PNG_COLOR_TYPE_RGB_ALPHA, channels = 4;
  else if (strcmp (type, "palette") == 0)
    ct = PNG_COLOR_TYPE_PALETTE, channels = 1, depth = 8, max = 255;
  else
    return die ("unknown PNG type");

  fp = png_begin (path, w, h, depth, ct, &png, &info);
  if (fp == NULL)
    return die ("cannot create the file");
  if (ct == PNG_COLOR_TYPE_PALETTE)
    {
      png_color pal[64];
      for (int i = 0; i < 64; i++)
        {
          pal[i].red = (i & 3) * 80;
          pal[i].green = ((i >> 2) & 3) * 80;
          pal[i].blue = ((i >> 4) & 3) * 80;
        }
      png_set_PLTE (png, info, pal, 64);
    }
  png_write_info (png, info);
  row = malloc ((size_t) w * channels * 2);
  for (int y = 0; y < h; y++)
    {
      for (int x = 0; x < w; x++)
        for (int c = 0; c < channels; c++)
          {
            int i = x * channels + c;
            int v;

            if (ct == PNG_COLOR_TYPE_PALETTE)
              v = (x * 4 / w) + 4 * (y * 4 / h) + 16 * (((x / 4) + (y / 4)) % 4);
            else if ((channels == 2 || channels == 4) && c == channels - 1)
              v = x < w / 2 ? max : (max + 2) / 4;
            else
              v = (int) lround (fmin (pattern (x - shift, y, w, h, c), 1.0) * max);
            if (depth == 16)
              {
                row[2 * i] = v >> 8;
                row[2 * i + 1] = v & 0xff;
              }
            else
              row[i] = v;
          }
      png_write_row (png, row);
    }
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  free (row);
  return fclose (fp) == 0 ? 0 : die ("cannot write the file");
}

static int
write_blank_png (const char *path, int w, int h, const char *type, int depth)
{
  int rgba = strcmp (type, "rgba") == 0;
  png_structp png;
  png_infop info;
  unsigned char *row;
  FILE *fp;

  if (!rgba && strcmp (type, "gray") != 0)
    return die ("unknown blank PNG type");
  fp = png_begin (path, w, h, depth, rgba ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_GRAY,
                  &png, &info);
  if (fp == NULL)
    return die ("cannot create the file");
  png_set_filter (png, 0, PNG_FILTER_NONE);
  png_set_compression_level (png, 9);
  png_write_info (png, info);
  row = calloc ((size_t) w * (rgba ? 4 : 1) * 2 + 1, 1);
  for (int y = 0; y < h; y++)
    png_write_row (png, row);
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  free (row);
  return fclose (fp) == 0 ? 0 : die ("cannot write the file");
}

/* A minimal big-endian EXIF block holding only the orientation tag (0x0112, SHORT). */
static void
write_exif_orientation (struct jpeg_compress_struct *cinfo, int orientation)
{
  unsigned char exif[] = {
    'E', 'x', 'i', 'f', 0, 0,
    'M', 'M', 0, 42, 0, 0, 0, 8,          /* TIFF header, first IFD at offset 8 */
    0, 1,                                 /* one entry */
    0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (unsigned char) orientation, 0, 0,
    0, 0, 0, 0                            /* no next IFD */
  };

  jpeg_write_marker (cinfo, JPEG_APP0 + 1, exif, sizeof exif);
}

static int
write_jpeg (const char *path, int w, int h, const char *type, int orientation)
{
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  int cmyk = strcmp (type, "cmyk") == 0;
  int channels = strcmp (type, "gray") == 0 ? 1 : cmyk ? 4 : 3;
  unsigned char *row = malloc ((size_t) w * channels);
  FILE *fp = fopen (path, "wb");

  if (fp == NULL)
    return die ("cannot create the file");
  cinfo.err = jpeg_std_error (&jerr);
  jpeg_create_compress (&cinfo);
  jpeg_stdio_dest (&cinfo, fp);
  cinfo.image_width = w;
  cinfo.image_height = h;
  cinfo.input_components = channels;
  cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 90, TRUE);
  jpeg_start_compress (&cinfo, TRUE);
  if (orientation > 0)
    write_exif_orientation (&cinfo, orientation);
  while (cinfo.next_scanline < cinfo.image_height)
    {
      int y = cinfo.next_scanline;
      for (int x = 0; x < w; x++)
        for (int c = 0; c < channels; c++)
          /* Inverted CMYK with K = 0 stores C, M, Y as R, G, B and K as 255. */
          row[x * channels + c] = c == 3 ? 255
                                  : (unsigned char) lround (fmin (pattern (x, y, w, h, c), 1.0) * 255);
      jpeg_write_scanlines (&cinfo, &row, 1);
    }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  free (row);
  return fclose (fp) == 0 ? 0 : die ("cannot write the file");
}

typedef struct
{
  png_uint_32     w, h;
  int             depth, ct, channels;
  unsigned char **rows;
} Png;

static int
read_png (const char *path, Png *p)
{
  png_structp png;
  png_infop info;
  FILE *fp = fopen (path, "rb");

  if (fp == NULL)
    return die ("cannot open the file");
  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  info = png_create_info_struct (png);
  if (setjmp (png_jmpbuf (png)))
    return die ("not a readable PNG");
  png_init_io (png, fp);
  png_read_png (png, info, PNG_TRANSFORM_IDENTITY, NULL);
  png_get_IHDR (png, info, &p->w, &p->h, &p->depth, &p->ct, NULL, NULL, NULL);
  p->channels = png_get_channels (png, info);
  p->rows = malloc (sizeof *p->rows * p->h);
  for (png_uint_32 y = 0; y < p->h; y++)
    {
      size_t n = png_get_rowbytes (png, info);
      p->rows[y] = malloc (n);
      memcpy (p->rows[y], png_get_rows (png, info)[y], n);
    }
  png_destroy_read_struct (&png, &info, NULL);
  fclose (fp);
  return 0;
}

static void
free_png (Png *p)
{
  for (png_uint_32 y = 0; y < p->h; y++)
    free (p->rows[y]);
  free (p->rows);
}

static double
sample (const Png *p, int x, int y, int c)
{
  const unsigned char *r = p->rows[y];
  int i = x * p->channels + c;

  if (p->depth == 16)
    return ((r[2 * i] << 8) | r[2 * i + 1]) / 65535.0;
  return r[i] / 255.0;
}

static const char *
type_name (int ct)
{
  switch (ct)
    {
    case PNG_COLOR_TYPE_GRAY: return "gray";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "graya";
    case PNG_COLOR_TYPE_RGB: return "rgb";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "rgba";
    case PNG_COLOR_TYPE_PALETTE: return "palette";
    default: return "unknown";
    }
}

static int
info (const char *path)
{
  Png p;
  int colour;
  double sum = 0, sum2 = 0, n = 0;

  if (read_png (path, &p) != 0)
    return 1;
  colour = p.ct == PNG_COLOR_TYPE_RGB_ALPHA || p.ct == PNG_COLOR_TYPE_GRAY_ALPHA
           ? p.channels - 1 : p.channels;
  for (png_uint_32 y = 0; y < p.h; y++)
    for (png_uint_32 x = 0; x < p.w; x++)
      for (int c = 0; c < colour; c++)
        {
          double v = sample (&p, x, y, c);
          sum += v;
          sum2 += v * v;
          n++;
        }
  printf ("%u %u %d %s %.4f\n", p.w, p.h, p.depth, type_name (p.ct),
          sqrt (fmax (sum2 / n - (sum / n) * (sum / n), 0.0)));
  free_png (&p);
  return 0;
}

static int
pixel (const char *path, int x, int y)
{
  Png p;

  if (read_png (path, &p) != 0)
    return 1;
  if (x < 0 || y < 0 || (png_uint_32) x >= p.w || (png_uint_32) y >= p.h)
    {
      free_png (&p);
      return die ("pixel outside the image");
    }
  for (int c = 0; c < p.channels; c++)
    printf (c ? " %.6f" : "%.6f", sample (&p, x, y, c));
  printf ("\n");
  free_png (&p);
  return 0;
}

static int
diff (const char *path_a, const char *path_b)
{
  Png a, b;
  double sum = 0;

  if (read_png (path_a, &a) != 0 || read_png (path_b, &b) != 0)
    return 1;
  if (a.w != b.w || a.h != b.h || a.channels != b.channels || a.depth != b.depth)
    return die ("the images differ in size or layout");
  for (png_uint_32 y = 0; y < a.h; y++)
    for (png_uint_32 x = 0; x < a.w; x++)
      for (int c = 0; c < a.channels; c++)
        sum += fabs (sample (&a, x, y, c) - sample (&b, x, y, c));
  printf ("%.6f\n", sum / ((double) a.w * a.h * a.channels));
  free_png (&a);
  free_png (&b);
  return 0;
}

static int
sharpness (const char *path)
{
  enum { R = 5 };
  double k[2 * R + 1], ksum = 0, sum = 0;
  double *luma, *tmp;
  int colour, w, h;
  Png p;

  if (read_png (path, &p) != 0)
    return 1;
  w = p.w;
  h = p.h;
  colour = p.ct == PNG_COLOR_TYPE_RGB_ALPHA || p.ct == PNG_COLOR_TYPE_GRAY_ALPHA
           ? p.channels - 1 : p.channels;
  luma = malloc (sizeof (double) * w * h);
  tmp = malloc (sizeof (double) * w * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      luma[y * w + x] = colour >= 3 ? 0.299 * sample (&p, x, y, 0) + 0.587 * sample (&p, x, y, 1)
                                      + 0.114 * sample (&p, x, y, 2)
                                    : sample (&p, x, y, 0);
  for (int i = -R; i <= R; i++)
    ksum += k[i + R] = exp (-i * i / (2 * 1.5 * 1.5));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        double v = 0;
        for (int i = -R; i <= R; i++)
          v += k[i + R] * luma[y * w + (x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i)];
        tmp[y * w + x] = v / ksum;
      }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        double v = 0;
        for (int i = -R; i <= R; i++)
          v += k[i + R] * tmp[(y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i) * w + x];
        v = luma[y * w + x] - v / ksum;
        sum += v * v;
      }
  printf ("%.6g\n", sum / ((double) w * h));
  free (luma);
  free (tmp);
  free_png (&p);
  return 0;
}

int
main (int argc, char **argv)
{
  if ((argc == 7 || argc == 8) && strcmp (argv[1], "png") == 0)
    return write_png (argv[2], atoi (argv[3]), atoi (argv[4]), argv[5], atoi (argv[6]),
                      argc == 8 ? atoi (argv[7]) : 0);
  if (argc == 7 && strcmp (argv[1], "blank") == 0)
    return write_blank_png (argv[2], atoi (argv[3]), atoi (argv[4]), argv[5], atoi (argv[6]));
  if ((argc == 6 || argc == 7) && strcmp (argv[1], "jpeg") == 0)
    return write_jpeg (argv[2], atoi (argv[3]), atoi (argv[4]), argv[5],
                       argc == 7 ? atoi (argv[6]) : 0);
  if (argc == 3 && strcmp (argv[1], "info") == 0)
    return info (argv[2]);
  if (argc == 5 && strcmp (argv[1], "pixel") == 0)
    return pixel (argv[2], atoi (argv[3]), atoi (argv[4]));
  if (argc == 4 && strcmp (argv[1], "diff") == 0)
    return diff (argv[2], argv[3]);
  if (argc == 3 && strcmp (argv[1], "sharpness") == 0)
    return sharpness (argv[2]);
  return die ("usage: make-image png|blank|jpeg|info|pixel|diff|sharpness …");
}
