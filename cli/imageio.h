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
 * JPEG (grey, YCbCr or CMYK), recognised by content, not by name.  An image whose decoding
 * would take more than `budget` bytes is refused from its header, before decoding, with
 * NS_ERROR_MEMORY (as is one for which the memory is not there). */
gboolean cli_image_load (const char *path, guint64 budget, CliImage *image, GError **error);

/* Writes an RGB (or grey) PNG, RGBA when `alpha` is given, 8 or 16 bits per channel.  The
 * data goes to a new temporary file beside PATH (PATH.XXXXXX.tmp, created exclusively, so
 * nothing already there is touched) and is renamed over PATH only when complete, so a
 * failure never leaves a truncated file. */
gboolean cli_image_save_png (const char    *path,
                             const NsImage *color,
                             const NsImage *alpha,
                             int            bit_depth,
                             GError       **error);

/* Whether a file can be created beside `path` (tried with a temporary, removed again). */
gboolean cli_image_check_writable (const char *path, GError **error);

/* Deletes the temporary file being written, if any.  Async-signal-safe: for a handler that
 * is about to _exit. */
void     cli_image_remove_temporary (void);

G_END_DECLS

#endif /* NS_CLI_IMAGEIO_H */
