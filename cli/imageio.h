/* imageio.h — PNG and JPEG files to and from NsImage for the command-line tool. */
#ifndef NS_CLI_IMAGEIO_H
#define NS_CLI_IMAGEIO_H

#include <neural-style.h>

G_BEGIN_DECLS

/* A decoded file: colour (1 or 3 channels) and, when the file has one, its alpha channel as a
 * separate 1-channel image of the same size.  Values are the file's own non-linear sRGB
 * values scaled to [0,1]. */
typedef struct
{
  NsImage *color;
  NsImage *alpha;       /* NULL when the file has no alpha (or a tRNS chunk) */
  int      bit_depth;   /* 8 or 16: the precision the file carried */
} CliImage;

void     cli_image_clear (CliImage *image);

/* Reads a PNG (any colour type, 1–16 bits; palette becomes RGB, tRNS becomes alpha) or a
 * JPEG (grey, YCbCr or CMYK), recognised by content, not by name. */
gboolean cli_image_load (const char *path, CliImage *image, GError **error);

/* Writes an RGB (or grey) PNG, RGBA when `alpha` is given, 8 or 16 bits per channel.  The
 * data goes to PATH.tmp first and is renamed over PATH only when complete, so a failure
 * never leaves a truncated file. */
gboolean cli_image_save_png (const char    *path,
                             const NsImage *color,
                             const NsImage *alpha,
                             int            bit_depth,
                             GError       **error);

G_END_DECLS

#endif /* NS_CLI_IMAGEIO_H */
