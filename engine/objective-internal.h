/* objective-internal.h — what the objective's files share.  Not installed.
 *
 *   objective.c              set-up, the public calls, the whole image at once
 *   objective-tiled.c        the evaluation in tiles
 *   objective-tiled-setup.c  the targets of a tiled objective, made in tiles
 *   objective-shallow.c      the evaluation when every loss reads the first ReLU
 *   objective-regions.c      style terms per region, guided by masks (regions.c)
 *   channel-gains.c          per-channel gains of the features (normalize_channels)
 *
 * The loss terms themselves are loss-content.c, loss-style.c and loss-tv.c (ns-internal.h). */
#ifndef NS_OBJECTIVE_INTERNAL_H
#define NS_OBJECTIVE_INTERNAL_H

#include "ns-internal.h"

G_BEGIN_DECLS

typedef struct _NsShallow NsShallow;

typedef struct
{
  int     index;          /* layer */
  double  weight;         /* β · w_l, with the layer's normalisation */
  float  *gram;           /* blended target, c×c (of the scaled features, see scale) */
  int     c;
  float  *scale;          /* per-channel gains applied before the Gram, or NULL */
  int     region;         /* −1: the plain term; else the region whose mask guides it */
} NsStyleTerm;

struct _NsObjective
{
  NsNetwork   *net;
  NsOptions   *opt;
  int          w, h;
  gboolean     luminance;         /* x is 1×h×w luminance */
  NsTensor    *content;           /* 3×h×w, [0,1] */
  NsTensor    *content_y;         /* 1×h×w, luminance mode only */
  int          content_index;
  double       content_weight;
  NsTensor    *content_target;   /* scaled by content_scale when that is set */
  float       *content_scale;    /* per-channel gains, or NULL */
  int          n_style;
  NsStyleTerm *style;
  int          last;              /* deepest layer any loss needs */

  /* Tiled mode (plan != NULL).  The content is then read from content_image (not copied
   * when borrowed) and content targets are kept per tile or recomputed per evaluation. */
  NsTilePlan    *plan;
  gboolean      *hooked;           /* per layer: a loss reads it */
  const NsImage *content_image;
  NsImage       *content_owned;
  NsTensor     **tile_targets;     /* per tile: content-layer core features, or NULL */
  const gint    *cancel;           /* see NsObjectiveConfig */
  float        **style_d;          /* per style term: the scaled (D + Dᵀ) of pass 1 */
  double        *style_alpha;      /* per style term: 2·weight / (c²·C·H·W) */
  NsBufferCache *buffers;          /* evaluations' large buffers, kept between them */
  guint64        buffer_slack;     /* NsObjectiveConfig's */
  NsConvCache   *convs;            /* Winograd's transformed weights, or NULL (per call) */

  /* Regions (objective-regions.c): per region its mask carried down the network at this
   * size; the styles' own masks are read from `regions` while the targets are made. */
  const NsRegions *regions;
  int            n_regions;
  NsLayerMasks **region_masks;

  /* Every loss at the first ReLU (objective-shallow.c): content_target is not kept. */
  NsShallow     *shallow;

  /* Temporal terms (ns_objective_add_temporal): per term the previous result warped onto this
   * frame, in x's planes, and its reliability (1 × h × w). */
  int            n_temporal;
  NsTensor     **temporal_warped;
  NsTensor     **temporal_reliability;
  double        *temporal_weight;
};

/* 2^(poolings up to and including `layer`): its feature map's pixels per image pixel. */
static inline int
ns_objective_layer_stride (const NsObjective *obj, int layer)
{
  return ns_network_alignment (obj->net, layer);
}

/* ---- objective.c ------------------------------------------------------------------------- */

/* Per layer 0 … last: TRUE where the content loss (content) or a style loss (style) reads it. */
gboolean *ns_objective_hooked (const NsObjective *obj, gboolean content, gboolean style);
/* FALSE with an error naming the cause when a style image is too small to enlarge into any
 * texture, or its scaled size w × h is smaller than the deepest layer needs. */
gboolean  ns_objective_check_style_size (const NsObjective *obj, const NsImage *style, int w,
                                         int h, GError **error);
/* The style image as the run sees it: scaled, and in the colour mode's space (3×h×w). */
NsTensor *ns_objective_prepare_style    (const NsObjective *obj, const NsImage *style,
                                         GError **error);
/* The per-channel gains and the layer normalisation, once the style targets are known. */
void      ns_objective_finish_style     (NsObjective *obj);
/* The sum of the weighted content, style and TV terms; parts (may be NULL) gets them. */
double    ns_objective_total            (double lc, double ls, double tv, double parts[3]);

/* ---- objective-regions.c ---------------------------------------------------------------- */

/* One style term per layer and region, weighted by the regions' blend (the rest by their
 * mean), and the regions' masks at the objective's size. */
void          ns_objective_setup_regions (NsObjective *obj, const NsRegions *regions,
                                          const double *blend, int n_styles);
/* The share of style s's Gram in term's target (b: its blend weight, of sum 1): b for the
 * plain term and the rest's, 1 for style s's own region, 0 for another's. */
double        ns_objective_style_share   (const NsObjective *obj, const NsStyleTerm *term,
                                          int s, double b);
/* Style s's own mask carried down the network for its image at w × h, or NULL (the whole
 * style image). */
NsLayerMasks *ns_objective_style_masks   (const NsObjective *obj, int s, int w, int h);
/* Per term, the masks guiding it in an evaluation of x: its region's, or NULL (plain);
 * g_free the array. */
const NsLayerMasks **ns_objective_term_masks (const NsObjective *obj);

/* ---- objective-tiled.c ------------------------------------------------------------------- */

/* Where crops come from: planar planes (1 plane = luminance, seen as grey RGB) or an
 * interleaved image of 1 or 3 channels. */
typedef struct
{
  const float       *planes;
  int                n_planes;
  const NsImage     *image;        /* when planes is NULL */
  int                w, h;
  const NsResampler *resampled;    /* when set: image is this resize of its source */
} NsCropSource;

/* The content as crops read it. */
NsCropSource ns_objective_content_source (const NsObjective *obj);
/* A cancelled run stops: whole, at its next evaluation or style pass; tiled, between tiles. */
gboolean     ns_objective_cancelled      (const NsObjective *obj);
/* The content target of one tile: its core at the content layer (scaled by the channel
 * gains when those are known).  ms, if not NULL, gets Σ f² per channel added. */
NsTensor    *ns_objective_tile_target    (NsObjective *obj, const NsCropSource *content,
                                          const NsTile *tile, double *ms);
/* Pass 1 over src (tiled by plan): style Grams (c×c, full, / (C·H·W)) in gram_out, each
 * term's guided by term_masks[k] (src's masks; NULL, or the array NULL: unguided); with
 * content_value also the content loss, returned. */
double       ns_objective_tiled_grams    (NsObjective *obj, const NsCropSource *src,
                                          const NsTilePlan *plan, gboolean content_value,
                                          const NsLayerMasks * const *term_masks,
                                          float **gram_out);
/* The weighted temporal terms of rows [y0, y1) of x; with band (laid out as NsRowsFunc's,
 * from band_y0) their gradient added to it. */
double       ns_objective_temporal_rows  (const NsObjective *obj, const float *x, int y0, int y1,
                                          float *band, int band_y0, gsize band_plane);
/* The total loss at x; with rows_func, the gradient by rows (see NsRowsFunc). */
double       ns_objective_eval_tiled     (NsObjective *obj, const float *x, NsRowsFunc rows_func,
                                          gpointer rows_data, double parts[3]);

/* ---- objective-tiled-setup.c ------------------------------------------------------------- */

/* The tile plan, the content targets and the style Grams of a tiled objective. */
gboolean     ns_objective_setup_tiled    (NsObjective *obj, const NsImage *content,
                                          const NsImage * const *styles, const double *blend,
                                          int n_styles, const NsObjectiveConfig *config,
                                          GError **error);

/* ---- objective-shallow.c ---------------------------------------------------------------- */

/* For a w × h image with x of `planes` planes (1: luminance); freed by ns_shallow_free. */
NsShallow   *ns_shallow_new              (const NsNetwork *net, int w, int h, int planes);
void         ns_shallow_free             (NsShallow *shallow);
/* ms (c values) = mean over the image of each channel's squared features of `content` (the
 * objective's planes). */
void         ns_shallow_mean_squares     (NsObjective *obj, const float *content, double *ms);
/* ns_objective_eval of an objective with obj->shallow set. */
double       ns_objective_eval_shallow   (NsObjective *obj, const float *x, float *grad,
                                          double parts[3]);

/* ---- channel-gains.c: features scaled per channel (NsNetwork.normalize_channels) --------- */

double    ns_mean_square     (const float *v, gsize n);
/* Gains 1 / RMS per channel, from each channel's mean square (ms, c values); g_free. */
float    *ns_channel_gains   (const double *ms, int c);
/* Gains for a Gram target (c×c), which becomes the target of the scaled features. */
float    *ns_gram_gains      (float *gram, int c);
/* m_ij ·= s_i s_j: a c×c matrix of the features moved to the scaled features' (or back). */
void      ns_gram_scale      (float *m, int c, const float *scale);
/* t's channel i multiplied by scale[i], in place. */
void      ns_channel_scale   (NsTensor *t, const float *scale);
/* Gains for a content target, which is scaled in place. */
float    *ns_content_gains   (NsTensor *target);
/* The content loss (target != NULL) or style loss (gram != NULL) of the channel-scaled
 * features; adds the gradient with respect to the unscaled features to grad. */
double    ns_scaled_loss     (const NsTensor *f, const float *scale, const NsTensor *target,
                              const float *gram, double weight, NsTensor *grad);

G_END_DECLS

#endif /* NS_OBJECTIVE_INTERNAL_H */
