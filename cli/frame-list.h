/* frame-list.h — the frames of `neural-style --frames` and their outputs, listed and
 * checked before any work (frame-list.c). */
#ifndef NS_CLI_FRAME_LIST_H
#define NS_CLI_FRAME_LIST_H

#include "cli.h"

G_BEGIN_DECLS

typedef struct
{
  char     *input;
  char     *output;
  gint64    number;     /* from its name or the pattern; else its position, from 1 */
  gboolean  keep;       /* its output is there and --resume keeps it */
} Frame;

#define FRAME(frames, i) ((Frame *) g_ptr_array_index ((frames), (i)))

void     frame_free          (gpointer data);

/* FRAME…: a list of files, one folder or one pattern, into `frames` (of Frame, freed by
 * frame_free).  `typed` is set when the order is the command line's. */
gboolean list_frames         (char **operands, int n, GPtrArray *frames, gboolean *typed,
                              GError **error);
/* -o: a folder (the frames keep their names, as .png) or a pattern (their numbers). */
gboolean name_outputs        (const char *output, GPtrArray *frames, GError **error);
/* No output may be an input or the style; sets *existing to the outputs already there and
 * marks those --resume keeps. */
gboolean check_files         (const CliArgs *a, GPtrArray *frames, gboolean typed,
                              const char *style, int *existing, GError **error);
/* Every frame decoded once, all of one size; the first kept, prepared for `size`.  These
 * two return -1 to go on, else an exit status. */
int      check_frames        (GPtrArray *frames, int size, guint64 budget, CliImage *first,
                              int *width, int *height);
/* The outputs --resume keeps are results at the frames' size. */
int      check_kept          (GPtrArray *frames, int width, int height, guint64 budget);
/* An error of the functions above as the exit status: 2 for what was typed, else 1. */
int      report_frames_error (const GError *error);

G_END_DECLS

#endif /* NS_CLI_FRAME_LIST_H */
