/* cli.h — what the command's modes share: the parsed arguments, the validated run, messages,
 * and the steps of a run that a single image and a sequence of frames take alike. */
#ifndef NS_CLI_H
#define NS_CLI_H

#include <glib.h>
#include <glib/gstdio.h>

#include <neural-style.h>

#include "imageio.h"
#include "progress.h"

G_BEGIN_DECLS

#define PROGRAM "neural-style"

enum
{
  EXIT_OK = 0,
  EXIT_RUNTIME = 1,
  EXIT_USAGE = 2,
  EXIT_INTERRUPTED = 130,       /* 128 + SIGINT, as a shell reports it */
  EXIT_TERMINATED = 143         /* 128 + SIGTERM */
};

/* Options as typed on the command line.  Numbers stay strings until validate_run(), so that
 * every bad value gets a message naming the option, the value and the valid range. */
typedef struct
{
  char     *output;
  char     *size;
  char     *iterations;
  char     *content_weight;
  char     *style_weight;
  char     *tv_weight;
  char     *style_blend;
  char     *style_scale;
  char     *preserve_colors;      /* "luminance" when given without a value */
  char     *optimizer;
  char     *init;
  char     *seed;
  char     *network;
  char     *padding;
  char     *weights;
  char     *threads;
  char     *content_layer;
  char     *style_layers;
  char     *learning_rate;
  char     *lbfgs_history;
  char     *save_every;
  char     *weights_url;
  char     *weights_sha256;
  char     *max_memory;
  char     *scales;
  char     *scale_iterations;
  char     *optimize_size;
  char     *upscale;
  char     *refine_iterations;
  char     *temporal_weight;
  char     *later_iterations;
  char     *later_sizes;
  char     *style_mask;
  char     *rest;
  char     *region_carry;
  gboolean  quiet;
  gboolean  overwrite_input;
  gboolean  version;
  gboolean  download_weights;
  gboolean  print_weights_path;
  gboolean  frames;
  gboolean  long_term;
  gboolean  resume;
  char    **operands;
} CliArgs;

/* The validated run: what the engine needs beyond NsOptions. */
typedef struct
{
  int            size;
  int            optimize_size;   /* 0 = size */
  int            threads;
  int            save_every;
  NsNetworkKind  network;
  double        *blend;           /* one per style, or NULL = equal */
  NsOptions     *options;
  char         **mask_paths;      /* --style-mask: one per style ("" = everywhere), or NULL */
  NsImage      **masks;           /* read from them (NULL entries = everywhere) */
  NsRegionRest   rest;            /* --rest */
  NsRegionCarry  carry;           /* --region-carry */
} CliRun;

/* What a progress report needs to write --save-every snapshots beside `output`. */
typedef struct
{
  CliProgress   *bar;
  NsStylizer    *stylizer;
  const char    *output;
  const NsImage *alpha;
  const NsImage *alpha_small;     /* at --optimize-size, for its snapshots */
  int            depth;
  int            last_iteration;
  int            scale;
  gboolean       quiet;
  gboolean       save_failed;
} RunContext;

/* "neural-style: MESSAGE" on stderr. */
void     say            (const char *format, ...) G_GNUC_PRINTF (1, 2);
/* Says `message` and how to get help; returns EXIT_USAGE. */
int      usage_error    (const char *message);
/* Sets a usage error (G_OPTION_ERROR_BAD_VALUE); returns FALSE. */
gboolean fail           (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* args.c: GOption's view of argv (a bare --preserve-colors spelled out; a new vector), the
 * parsing into `a` (the vector keeps the operands), and the checks of option combinations
 * that parsing cannot make (-1 to go on, else an exit status).  cli_args_clear frees `a`'s
 * strings. */
char   **expand_optional_args (int argc, char **argv);
gboolean parse_args     (char ***args, CliArgs *a, GError **error);
int      check_mode     (const CliArgs *a);
void     cli_args_clear (CliArgs *a);

gboolean parse_double   (const char *option, const char *text, double min, gboolean above_min,
                         double max, double *out, GError **error);
/* Maps `text` to the index of one of the NULL-terminated `words`. */
gboolean parse_word     (const char *option, const char *text, const char * const *words,
                         int *out, GError **error);
gboolean has_png_suffix (const char *path);

/* Builds run->options from the arguments (everything that needs neither the images nor the
 * network), for `n_styles` style images. */
gboolean validate_run   (const CliArgs *a, int n_styles, CliRun *run, GError **error);
/* The run's memory budget in bytes: --max-memory, or the default share of what is free. */
guint64  memory_budget  (const CliRun *run);
/* Reads the style images (as RGB) and loads the network, checks the layers against it and
 * fills run->options with its defaults.  Returns -1 to go on, else an exit status (the
 * message said). */
int      prepare_styles_and_network (const CliArgs *a, CliRun *run, char **paths,
                                     int n_styles, guint64 budget, CliImage *styles,
                                     NsNetwork **net);
/* Says why `path` cannot be read, naming its `role` ("content", "style", "frame"…). */
gboolean load_image     (const char *role, const char *path, guint64 budget, CliImage *image);
/* Resizes the content (and its alpha, identically) to `size` px on the longer side and
 * makes it RGB. */
void     prepare_content (CliImage *content, int size);
/* "8-bit RGB", "16-bit RGBA"… */
const char *describe_format (const NsImage *alpha, int depth);
/* ", peak memory N MiB", or "" where the system does not tell. */
char    *peak_memory_text (void);
/* Writes the snapshot of --save-every in `state`, if any, beside ctx->output. */
void     save_snapshot  (RunContext *ctx, const NsProgress *state);

G_END_DECLS

#endif /* NS_CLI_H */
