/* fuzz-image.c — libFuzzer target: the command line's PNG and JPEG readers (cli/imageio.c).
 *
 * A decoded image must be well formed (1 or 3 colour channels, alpha of the same size or
 * none, 8 or 16 bits, every value in [0, 1]) and come back unchanged through
 * cli_image_save_png and cli_image_load.  libpng and libjpeg themselves are the system's,
 * not instrumented: what is fuzzed is our use of them. */
#include <zlib.h>

#include "fuzz-common.h"
#include "imageio.h"

/* The readers accept 2^28 pixels (3 GiB of floats) by default.  A 30-byte header can claim
 * that much, which would only measure the allocator and the decoders' speed, so the
 * inputs are read with a small memory budget: larger images are refused from their header
 * (and that check is fuzzed too).  The code paths do not depend on the size. */
#define FUZZ_BUDGET ((guint64) 1 << 20)

static char *in_path, *out_path;

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  in_path = fuzz_path ("input");
  out_path = fuzz_path ("output.png");
  return 0;
}

static guint32
be32 (const uint8_t *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

/* libpng refuses a critical chunk whose CRC is wrong, and almost every mutation of IHDR,
 * PLTE or IDAT makes it wrong, so that the reader would hardly see a mutated PNG: the CRCs
 * of the chunks that fit in the input are recomputed first. */
static void
fix_png_crcs (uint8_t *data, size_t size)
{
  size_t pos = 8;

  if (size < 8 || memcmp (data, "\x89PNG\r\n\x1a\n", 8) != 0)
    return;
  while (size - pos >= 12)
    {
      guint32 len = be32 (data + pos), crc;

      if (len > size - pos - 12)
        break;
      crc = (guint32) crc32 (0, data + pos + 4, len + 4);
      for (int i = 0; i < 4; i++)
        data[pos + 8 + len + i] = (uint8_t) (crc >> (24 - 8 * i));
      pos += 12 + (size_t) len;
    }
}

static void
check_plane (const NsImage *image, int width, int height, const char *what)
{
  gsize n;

  if (image->width != width || image->height != height)
    fuzz_fail ("%s is %d×%d, the image %d×%d", what, image->width, image->height, width, height);
  n = (gsize) image->width * image->height * image->channels;
  for (gsize i = 0; i < n; i++)
    if (!(image->data[i] >= 0.0f && image->data[i] <= 1.0f))
      fuzz_fail ("%s sample %" G_GSIZE_FORMAT " is %g, outside [0, 1]", what, i, image->data[i]);
}

static void
check_image (const CliImage *image)
{
  const NsImage *c = image->color;

  if (c == NULL || c->width < 1 || c->height < 1 || (c->channels != 1 && c->channels != 3))
    fuzz_fail ("a loaded image has no colour or a bad shape");
  if (image->bit_depth != 8 && image->bit_depth != 16)
    fuzz_fail ("a loaded image has bit depth %d", image->bit_depth);
  check_plane (c, c->width, c->height, "colour");
  if (image->alpha != NULL)
    {
      if (image->alpha->channels != 1)
        fuzz_fail ("alpha has %d channels", image->alpha->channels);
      check_plane (image->alpha, c->width, c->height, "alpha");
    }
}

static gboolean
same_plane (const NsImage *a, const NsImage *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return a->width == b->width && a->height == b->height && a->channels == b->channels
         && memcmp (a->data, b->data,
                    (gsize) a->width * a->height * a->channels * sizeof (float)) == 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  CliImage image, again;

  g_autofree uint8_t *fixed = g_memdup2 (data, size);

  fix_png_crcs (fixed, size);
  fuzz_write_file (in_path, fixed, size);
  if (!cli_image_load (in_path, FUZZ_BUDGET, &image, &error))
    {
      fuzz_check_error (error, "cli_image_load");
      if (image.color != NULL || image.alpha != NULL)
        fuzz_fail ("a failed load left an image behind");
      fuzz_report ("rejected", error->message);
      return 0;
    }
  check_image (&image);

  /* Samples are k/255 or k/65535, which the writer's rounding maps back to k. */
  if (!cli_image_save_png (out_path, image.color, image.alpha, image.bit_depth, &error))
    fuzz_fail ("a loaded image could not be saved: %s", error->message);
  if (!cli_image_load (out_path, G_MAXUINT64, &again, &error))
    fuzz_fail ("a saved image could not be loaded: %s", error->message);
  if (again.bit_depth != image.bit_depth || !same_plane (image.color, again.color)
      || !same_plane (image.alpha, again.alpha))
    fuzz_fail ("the image changed through save and load");
  if (fuzz_count_files () != 2)
    fuzz_fail ("saving left a temporary file behind");
  fuzz_report ("decoded", NULL);
  cli_image_clear (&image);
  cli_image_clear (&again);
  return 0;
}
