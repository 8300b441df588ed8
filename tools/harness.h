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
  char   *padding;          /* ns_padding_parse; NULL: the network's default */
} EvRunOptions;

void      ev_run_options_init        (EvRunOptions *r);
/* Adds --iterations, --content-weight, … --scales to the context's main group, filling r. */
void      ev_run_options_add_entries (EvRunOptions *r, GOptionContext *context);
/* The options for a run on net; --padding is set on net itself (before it is used). */
gboolean  ev_run_options_make        (const EvRunOptions *r, NsNetwork *net, NsOptions **out,
                                      GError **error);

/* A copy of the w × h window of img at (x0, y0) (inside img). */
NsImage  *ev_crop (const NsImage *img, int x0, int y0, int w, int h);

/* The frame along the image's border (the artifact of convolutions' padding): over the four
 * sides, cut into segments of 8k pixels along the side, the mean absolute difference of the
 * mean luminance of the outer k pixels and of the next k inward; k = max (2, longest / 128),
 * 4 at 512 px.  *grad_ratio (may be NULL) receives the mean squared luminance gradient of the
 * outer band over that of the next.  Compare with the same for the content image. */
double    ev_edge_frame (const NsImage *img, double *grad_ratio);

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
