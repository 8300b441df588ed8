/* harness.h — what the evaluation tools (tools/eval.c, eval-large.c, eval-frames.c) share:
 * reading images as RGB, choosing a network by name, the run options they all take, and
 * contact sheets of fixed-size cells.
 */
#ifndef NS_EVAL_HARNESS_H
#define NS_EVAL_HARNESS_H

#include <neural-style.h>

G_BEGIN_DECLS

/* Reads dir/name (name alone when dir is NULL) as RGB. */
NsImage  *ev_load_rgb (const char *dir, const char *name, GError **error);

/* "auto" (VGG-19 when its weights are found, else the built-in network), "embedded",
 * "vgg19", or "embedded:VARIANT" (a candidate built-in network). */
NsNetwork *ev_load_network (const char *name, GError **error);

/* The options of a run that the tools pass on to the engine; unset fields (NaN, −1, 0 or
 * NULL, as ev_run_options_init leaves them) keep the engine's defaults. */
typedef struct
{
  int     iterations;
  double  content_weight, style_weight, tv_weight, style_scale;
  char   *content_layer, *style_layers, *optimizer, *init;
  int     threads;
  int     scales;
} EvRunOptions;

void      ev_run_options_init        (EvRunOptions *r);
/* Adds --iterations, --content-weight, … --scales to the context's main group, filling r. */
void      ev_run_options_add_entries (EvRunOptions *r, GOptionContext *context);
gboolean  ev_run_options_make        (const EvRunOptions *r, NsOptions **out, GError **error);

/* Whether a --sequences/--methods style list ("a,b,c"; NULL: everything) names `name`. */
gboolean  ev_listed (const char *list, const char *name);

/* Contact sheets: rows × cols cells of EV_CELL_W × EV_CELL_H on a dark grey ground,
 * EV_GAP apart; ev_sheet_paste fits an image into the cell whose top left is (x0, y0). */
#define EV_CELL_W 256
#define EV_CELL_H 200
#define EV_GAP    4

NsImage  *ev_sheet_new   (int rows, int cols);
void      ev_sheet_paste (NsImage *sheet, const NsImage *img, int x0, int y0);

G_END_DECLS

#endif
