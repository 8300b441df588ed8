/* neural-style.h — the one public header of the Neural Style engine.
 *
 * Gatys et al. neural style transfer on the CPU: a feature network (VGG-19 or a built-in
 * generated one), Gram-matrix style loss, content loss, total variation, L-BFGS or Adam on
 * the image.  Depends on GLib and OpenBLAS only.  Nothing here prints; progress goes
 * through a callback.  All functions are thread-safe on distinct objects; an NsNetwork is
 * immutable after loading and may be shared by several runs at once.
 *
 * Loss normalisation (so that the weights mean the same at every image size):
 *   content  = mean over C·H·W of (F − P)²                         at the content layer
 *   style    = Σ_l w_l · mean over C² of (G_l − A_l)²,  G = F·Fᵀ / (C·H·W)
 *   tv       = Σ over neighbouring pixels of squared differences / (C·H·W), image in [0,1]
 *   total    = α·content + β·style + tv_weight·tv
 * Every term is a mean, so doubling the image size leaves typical values unchanged.  The
 * weights are on VGG-19's scale for every network: another network multiplies them by gains
 * of its own, so that the same α, β and TV weight give a like balance on each.
 */
#ifndef NEURAL_STYLE_H
#define NEURAL_STYLE_H

#include <glib.h>

G_BEGIN_DECLS

#define NS_VERSION_STRING "0.1.0"

/* ---- errors ---------------------------------------------------------------------------- */

#define NS_ERROR (ns_error_quark ())
GQuark ns_error_quark (void);

typedef enum
{
  NS_ERROR_INVALID_ARGUMENT,   /* a parameter or image the engine cannot use          */
  NS_ERROR_WEIGHTS,            /* weights file missing, corrupt, or of the wrong shape */
  NS_ERROR_IO,                 /* a file could not be read or written                  */
  NS_ERROR_DOWNLOAD,           /* fetching or verifying a weights file failed          */
  NS_ERROR_CANCELLED,          /* ns_stylizer_cancel() was called                      */
  NS_ERROR_NUMERIC,            /* the loss became NaN/Inf before a usable iterate      */
  NS_ERROR_MEMORY,             /* the run does not fit the memory budget               */
  NS_ERROR_WEIGHTS_NOT_FOUND,  /* no weights file in any of the places searched        */
  NS_ERROR_UNSUPPORTED         /* the engine was built without what the call needs     */
} NsError;

/* ---- images ------------------------------------------------------------------------------ */

/* An interleaved float image, values nominally in [0,1], non-linear (gamma) sRGB, rows top
 * to bottom.  channels is 1 (grey) or 3 (RGB).  Alpha is the caller's business. */
typedef struct
{
  int    width;
  int    height;
  int    channels;
  float *data;          /* width · height · channels floats */
} NsImage;

NsImage *ns_image_new        (int width, int height, int channels);   /* zero-filled */
NsImage *ns_image_copy       (const NsImage *image);
void     ns_image_free       (NsImage *image);
/* Area-average when shrinking, bilinear when enlarging. */
NsImage *ns_image_resize     (const NsImage *image, int width, int height);
/* Scales so that the longer side is `longest` pixels (at least 1×1). */
NsImage *ns_image_resize_longest (const NsImage *image, int longest);
NsImage *ns_image_to_rgb     (const NsImage *image);                  /* grey → RGB copy */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsImage, ns_image_free)

/* ---- guided upsampling ------------------------------------------------------------------ */

/* Enlarging a result made at a smaller size, with the full-size content as the guide: a
 * local affine colour model result ≈ A·content + b is fitted in each (2·radius+1)² window
 * at the small size (the guided filter of He, Sun & Tang), and its coefficients are
 * enlarged bilinearly and applied to the full-size content (He & Sun's fast guided
 * filter), so that edges and fine detail come from the photo. */
typedef struct
{
  int      radius;     /* window radius in small pixels (default 4)                          */
  double   eps;        /* regularisation of A, in squared [0,1] units (default 1e-3): edges
                        * of less contrast than about √eps count as flat                    */
  gboolean residual;   /* keep what the model does not explain (texture where the content is
                        * flat) as its bilinear enlargement (default TRUE); FALSE is the
                        * plain fast guided filter, which smooths it over the windows        */
  gboolean smooth;     /* enlarge by the cubic B-spline instead of linearly (no creases)      */
  int      threads;    /* 0 = one per processor; the result is the same at any count          */
} NsUpsampleParams;

void     ns_upsample_params_init (NsUpsampleParams *params);     /* the defaults */
/* result_lo (w×h, 1 or 3 channels) made from content_lo (w×h) enlarged to content_hi's size
 * (any size; content_hi has content_lo's channels), with result_lo's channels, clamped to
 * [0,1].  params NULL = the defaults.  NULL with NS_ERROR_INVALID_ARGUMENT on mismatched
 * sizes or channels. */
NsImage *ns_upsample_guided      (const NsImage          *result_lo,
                                  const NsImage          *content_lo,
                                  const NsImage          *content_hi,
                                  const NsUpsampleParams *params,
                                  GError                **error);
/* The same into `out` (content_hi's size, result_lo's channels), which may be content_hi
 * itself when the channels agree (each pixel is read before it is written), so that a huge
 * image needs no second full-size buffer; else it must not overlap content_hi. */
gboolean ns_upsample_guided_into (const NsImage          *result_lo,
                                  const NsImage          *content_lo,
                                  const NsImage          *content_hi,
                                  const NsUpsampleParams *params,
                                  NsImage                *out,
                                  GError                **error);

/* ---- weights ------------------------------------------------------------------------------ */

#define NS_VGG19_URL    "https://huggingface.co/timm/vgg19.tv_in1k/resolve/main/model.safetensors"
#define NS_VGG19_SHA256 "11aea017b543ff59233749d8f1cf544cda749378f5790d2fedab841fb86b7669"
#define NS_VGG19_FILENAME "vgg19.safetensors"

/* Finds the VGG-19 weights: `explicit_path` if not NULL, then $NEURAL_STYLE_WEIGHTS, then
 * $XDG_DATA_HOME/neural-style/vgg19.safetensors, then each system data dir.  Returns a newly
 * allocated path, or NULL with an error that lists the places searched and how to get the
 * file. */
char *ns_weights_find (const char *explicit_path, GError **error);

/* Where --download-weights puts the file: $XDG_DATA_HOME/neural-style/vgg19.safetensors. */
char *ns_weights_default_path (void);

/* Returns FALSE to cancel the download. */
typedef gboolean (*NsDownloadProgressFunc) (guint64 done, guint64 total, gpointer user_data);

/* Downloads `url` with curl, checks the full SHA-256 against `sha256_hex` (64 hex digits),
 * keeps only the convolution tensors (features.N.weight|bias) and writes them atomically
 * to `dest` as safetensors.  The partial download is a new file beside `dest`, deleted on
 * any failure.  `progress` may be NULL; it is called about five times a second, and when
 * it returns FALSE curl is stopped and the call fails with NS_ERROR_CANCELLED. */
gboolean ns_weights_download (const char             *url,
                              const char             *sha256_hex,
                              const char             *dest,
                              NsDownloadProgressFunc  progress,
                              gpointer                user_data,
                              GError                **error);

/* ---- networks ------------------------------------------------------------------------------ */

typedef enum
{
  NS_NETWORK_AUTO,      /* VGG-19 when its weights are found, else the embedded network */
  NS_NETWORK_VGG19,     /* pretrained VGG-19 from a safetensors file                    */
  NS_NETWORK_EMBEDDED   /* generated in code, no download                               */
} NsNetworkKind;

typedef struct _NsNetwork NsNetwork;

/* For NS_NETWORK_VGG19 and AUTO, `weights_path` may be NULL (ns_weights_find is used). */
NsNetwork  *ns_network_load            (NsNetworkKind  kind,
                                        const char    *weights_path,
                                        GError       **error);
/* As ns_network_load, but once *cancel is non-zero (set with g_atomic_int_set from any
 * thread) the loading stops at its next layer and fails with NS_ERROR_CANCELLED: VGG-19's
 * file is 80 MB or more to read and prepare, seconds on a slow disk.  `cancel` may be NULL. */
NsNetwork  *ns_network_load_cancellable (NsNetworkKind  kind,
                                         const char    *weights_path,
                                         const gint    *cancel,
                                         GError       **error);
NsNetwork  *ns_network_ref             (NsNetwork     *network);
void        ns_network_unref           (NsNetwork     *network);
NsNetworkKind ns_network_get_kind      (const NsNetwork *network);
/* "vgg19" or "embedded". */
const char *ns_network_get_name        (const NsNetwork *network);
/* One sentence for the user: which network, from where. */
const char *ns_network_get_description (const NsNetwork *network);
/* TRUE if `layer` (e.g. "relu4_2") exists in this network. */
gboolean    ns_network_has_layer       (const NsNetwork *network, const char *layer);
/* The layers a run should default to for this network. */
const char *ns_network_default_content_layer (const NsNetwork *network);
const char *ns_network_default_style_layers  (const NsNetwork *network);

/* What a 3×3 convolution sees beyond the image's edge. */
typedef enum
{
  NS_PADDING_ZERO,       /* zeros (how the networks were trained or made) */
  NS_PADDING_REPLICATE,  /* the edge pixel repeated */
  NS_PADDING_REFLECT     /* mirrored about the edge pixel */
} NsPadding;

/* Pads the first n_convs convolutions (−1: every one) with `padding`, the others with zeros.
 * Only the image's own border is affected: tiles and regions see their real neighbours.  A
 * loaded network starts with ns_network_default_padding; call this before the network is
 * shared or used (it is the one exception to "immutable after loading"). */
void        ns_network_set_padding     (NsNetwork *network, NsPadding padding, int n_convs);
void        ns_network_get_padding     (const NsNetwork *network, NsPadding *padding,
                                        int *n_convs);
/* What ns_network_load gives a network of this kind. */
void        ns_network_default_padding (NsNetworkKind kind, NsPadding *padding, int *n_convs);
/* Parses "zero", "replicate", "reflect", optionally followed by ":N" (the first N
 * convolutions only; "replicate:1" is the first one); "replicate" alone means every one. */
gboolean    ns_padding_parse           (const char *text, NsPadding *padding, int *n_convs,
                                        GError **error);
/* The inverse of ns_padding_parse; g_free the result. */
char       *ns_padding_to_string       (NsPadding padding, int n_convs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsNetwork, ns_network_unref)

/* ---- options ------------------------------------------------------------------------------ */

typedef enum { NS_OPTIMIZER_LBFGS, NS_OPTIMIZER_ADAM } NsOptimizer;
typedef enum { NS_INIT_CONTENT, NS_INIT_NOISE } NsInit;
typedef enum
{
  NS_COLOR_STYLE,       /* take colours from the style image (plain Gatys)                   */
  NS_COLOR_LUMINANCE,   /* luminance-only transfer; the result keeps the content's colours   */
  NS_COLOR_HISTOGRAM    /* match the style's colour statistics to the content's before a run */
} NsColorMode;
/* How a result optimised below the content's size (ns_options_set_optimize_size) becomes
 * full size. */
typedef enum
{
  NS_UPSCALE_REFINE,    /* guided, then a few iterations at full size with the shallow style
                         * layers only, so that the style's fine texture is drawn at full
                         * size in its own pixels' size (the default)                     */
  NS_UPSCALE_GUIDED,    /* guided upsampling with the full-size content (ns_upsample_guided) */
  NS_UPSCALE_BILINEAR   /* a bilinear enlargement: soft at 100% zoom                       */
} NsUpscale;

typedef struct _NsOptions NsOptions;

/* Defaults: α = 1, β = 1e6, TV weight 1, the network's layers, L-BFGS with history 100,
 * 500 iterations (at the first size of a coarse-to-fine run), init from content, seed 0,
 * colours from the style, style scale 1, automatic sizes and memory budget. */
NsOptions  *ns_options_new  (void);
NsOptions  *ns_options_copy (const NsOptions *options);
void        ns_options_free (NsOptions *options);
/* Fills the layers that were not set explicitly with `network`'s defaults.  The weights need
 * nothing: they mean the same on every network (defaults α = 1, β = 1e6, TV = 1). */
void        ns_options_apply_network_defaults (NsOptions *options, const NsNetwork *network);

void   ns_options_set_content_weight (NsOptions *o, double alpha);
double ns_options_get_content_weight (const NsOptions *o);
void   ns_options_set_style_weight   (NsOptions *o, double beta);
double ns_options_get_style_weight   (const NsOptions *o);
void   ns_options_set_tv_weight      (NsOptions *o, double weight);
double ns_options_get_tv_weight      (const NsOptions *o);
void   ns_options_set_iterations     (NsOptions *o, int iterations);
int    ns_options_get_iterations     (const NsOptions *o);
void   ns_options_set_optimizer      (NsOptions *o, NsOptimizer optimizer);
NsOptimizer ns_options_get_optimizer (const NsOptions *o);
void   ns_options_set_lbfgs_history  (NsOptions *o, int history);
void   ns_options_set_learning_rate  (NsOptions *o, double rate);          /* Adam */
void   ns_options_set_init           (NsOptions *o, NsInit init);
void   ns_options_set_seed           (NsOptions *o, guint64 seed);
void   ns_options_set_color_mode     (NsOptions *o, NsColorMode mode);
NsColorMode ns_options_get_color_mode (const NsOptions *o);
/* Style images are resized so that their longer side is style_scale × the content's, but
 * never enlarged beyond the larger of their own size and their size beside a 512-px content:
 * at photo sizes their statistics come from their own pixels, not from blurred strokes. */
void   ns_options_set_style_scale    (NsOptions *o, double scale);
/* "relu4_2"; validated against the network when the run starts. */
void   ns_options_set_content_layer  (NsOptions *o, const char *layer);
/* "relu1_1,relu2_1:0.5,…": a comma-separated list, each with an optional ":weight". */
gboolean ns_options_set_style_layers (NsOptions *o, const char *spec, GError **error);
/* Call the progress callback with a preview image every `every` iterations (0 = never). */
void   ns_options_set_preview_every  (NsOptions *o, int every);
/* Threads for the run (0 = one per processor).  The result is the same at any count.  The
 * engine splits its work itself and sets OpenBLAS to one thread for the whole process. */
void   ns_options_set_threads        (NsOptions *o, int threads);
/* Coarse to fine: the run optimises at several sizes, each starting from the previous
 * result enlarged.  The number of sizes: 0 = automatic (default: 256 px on the longer side,
 * doubling up to the image's size, so a large result passes through the states of a small
 * preview), 1 = the image's size only, n = the image's size halved n − 1 times and up.
 * The `iterations` run at the first size, half as many at each next one. */
void   ns_options_set_scales         (NsOptions *o, int n_scales);
int    ns_options_get_scales         (const NsOptions *o);
/* Iterations per size, coarse to fine; n > 0 also sets the number of sizes (overriding
 * ns_options_set_scales); n = 0 returns to the automatic halving. */
void   ns_options_set_scale_iterations (NsOptions *o, const int *iterations, int n);
/* Large images: optimise at most at `longest` pixels on the longer side (0 = the content's
 * own size, the default); a larger content is then enlarged to full size by the upscale
 * method, as one run (its plan, progress and ETA include the enlargement and the
 * refinement).  The result looks like a run at `longest` px, at full resolution. */
void      ns_options_set_optimize_size (NsOptions *o, int longest);
int       ns_options_get_optimize_size (const NsOptions *o);
void      ns_options_set_upscale       (NsOptions *o, NsUpscale method);
NsUpscale ns_options_get_upscale       (const NsOptions *o);
/* Iterations of NS_UPSCALE_REFINE at full size (default NS_REFINE_ITERATIONS). */
#define NS_REFINE_ITERATIONS 8
void   ns_options_set_refine_iterations (NsOptions *o, int iterations);
int    ns_options_get_refine_iterations (const NsOptions *o);
/* A style image smaller than this on a side has no texture to give, enlarged or not: runs
 * refuse it (NS_ERROR_INVALID_ARGUMENT). */
#define NS_STYLE_MIN_SIDE 16
/* The most memory the run may take, in bytes (0 = automatic: 80% of the memory available
 * when it starts).  To stay within it the engine works in tiles, shortens the L-BFGS
 * history, or switches optimiser at the sizes that need it; see
 * ns_stylizer_estimate_memory. */
void    ns_options_set_max_memory    (NsOptions *o, guint64 bytes);
guint64 ns_options_get_max_memory    (const NsOptions *o);
/* The budget a run takes when none is set: 80% of the memory available now. */
guint64 ns_memory_default_budget     (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsOptions, ns_options_free)

/* ---- running ------------------------------------------------------------------------------ */

typedef enum
{
  NS_STAGE_OPTIMIZE,   /* optimising at one of the coarse-to-fine sizes                    */
  NS_STAGE_ENLARGE,    /* enlarging the optimised result to full size (one report, no
                        * iteration of its own)                                           */
  NS_STAGE_REFINE      /* refining at full size (NS_UPSCALE_REFINE): the last size         */
} NsStage;

typedef struct
{
  int            iteration;       /* 1-based, counted over the whole run      */
  int            iterations;      /* total planned                            */
  double         loss;            /* total loss of the current iterate        */
  double         content_loss;    /* α-weighted terms                         */
  double         style_loss;
  double         tv_loss;
  double         relative_loss;   /* loss / loss at iteration 0               */
  double         elapsed;         /* seconds since the run began              */
  double         eta;             /* seconds left, estimated; < 0 = unknown   */
  const NsImage *preview;         /* the current image, or NULL (current size) */
  int            scale;           /* 1-based: the size being optimised        */
  int            n_scales;        /* sizes in the run (coarse to fine)        */
  int            width, height;   /* of the current size                      */
  guint64        memory_estimate; /* the run's estimated peak memory, bytes   */
  NsStage        stage;           /* what the current size does               */
  int            scale_iteration; /* 1-based, counted at the current size     */
  int            scale_iterations;/* planned at the current size (the first
                                   * size: the iterations the user set)       */
} NsProgress;

typedef void (*NsProgressFunc) (const NsProgress *progress, gpointer user_data);

typedef enum
{
  NS_STOP_DONE,        /* all iterations ran                               */
  NS_STOP_CONVERGED,   /* the optimiser could make no further progress     */
  NS_STOP_NUMERIC      /* NaN/Inf appeared; the best iterate was returned  */
} NsStopReason;

typedef struct _NsStylizer NsStylizer;

NsStylizer *ns_stylizer_new  (NsNetwork *network, const NsOptions *options);
void        ns_stylizer_free (NsStylizer *stylizer);
/* Safe to call from any thread, while ns_stylizer_run runs in another: the run stops at its
 * next evaluation (or tile) and fails with NS_ERROR_CANCELLED.  A cancel made before the run
 * starts stops it during its set-up; after a run the stylizer can run again. */
void        ns_stylizer_cancel (NsStylizer *stylizer);
void        ns_stylizer_set_progress (NsStylizer *stylizer, NsProgressFunc func, gpointer user_data);

/* Stylizes `content` (the result has its size and channel count) with one or more style
 * images; `blend` holds a weight per style (NULL = equal; normalised to sum 1).  Returns a
 * new image, or NULL with an error (NS_ERROR_CANCELLED after ns_stylizer_cancel). */
NsImage    *ns_stylizer_run  (NsStylizer     *stylizer,
                              const NsImage  *content,
                              const NsImage * const *styles,
                              const double   *blend,
                              int             n_styles,
                              GError        **error);
NsStopReason ns_stylizer_get_stop_reason (const NsStylizer *stylizer);

/* Regions with their own style (guided Gram matrices, Gatys et al. 2017).  Each style may
 * carry a mask over the content, saying where it applies, and a mask over its own image,
 * saying which part of the painting its statistics come from.  The masks are 1-channel
 * images with values in [0,1] (1 = the style applies; feathered edges are fine):
 *
 *   content_masks  n_styles entries, each of the content's shape, or NULL = everywhere;
 *                  the array itself may be NULL (every style everywhere)
 *   style_masks    NULL, or n_styles entries, each of its style image's shape, or NULL =
 *                  the whole style image
 *   rest           what pixels no mask covers (1 − Σ content masks, clipped to [0,1]) get:
 *                  the content alone, or the styles' blend as in a run without regions
 *
 * The style term is then Σ_r λ_r · Σ_l w_l · mean over C² of (G_r,l − A_r,l)² with
 * G_r = (F∘T_r)(F∘T_r)ᵀ / (C·H·W), T_r the region's mask carried down to the layer and
 * scaled so that its mean square is 1 (a small region counts as much as a large one),
 * A_r the same of the style (with its own mask, if any), λ_r the blend weights (the rest
 * region: their mean).  A mask of ones everywhere gives the plain style loss.
 *
 * A mask of its image's shape may have any size (ns_region_mask_fits): the engine resizes
 * it to each size it optimises at (area average when shrinking, bilinear when enlarging)
 * and clips what the resampling gives to [0,1], so a mask need not be made the size the
 * content is stylized at.
 *
 * The masks are copied and apply to every following ns_stylizer_run and estimate on this
 * stylizer until ns_stylizer_clear_regions (or set_regions again); all entries NULL is the
 * same as no regions.  FALSE with NS_ERROR_INVALID_ARGUMENT for a mask that is not one
 * channel, holds values outside [0,1] or non-finite ones, or is empty (all 0).  Shapes are
 * checked when the run (or an estimate) starts: a content mask not of the content's shape,
 * a style mask not of its style's, or a run with another number of styles fails there,
 * before any work, with NS_ERROR_INVALID_ARGUMENT naming the sizes.  The plans and
 * estimates count the masks' memory (a float per pixel and region at each style layer's
 * size) and the guided terms' time (each region's Gram over the pixels its mask covers). */
typedef enum
{
  NS_REGION_REST_CONTENT,   /* uncovered pixels: content (and TV) only, no style            */
  NS_REGION_REST_STYLES     /* uncovered pixels: the blend of all the styles, guided by the
                             * rest mask, as a region of its own                            */
} NsRegionRest;

gboolean    ns_stylizer_set_regions  (NsStylizer             *stylizer,
                                      const NsImage * const  *content_masks,
                                      const NsImage * const  *style_masks,
                                      int                     n_styles,
                                      NsRegionRest            rest,
                                      GError                **error);
void        ns_stylizer_clear_regions (NsStylizer *stylizer);

/* How a region's mask is carried down the network to each style layer (docs/regions.md).
 * A pixel of a deep layer sees a window of the image, its receptive footprint (a 3×3
 * convolution widens it by a pixel each side, a 2×2 pooling doubles it); the carry says how
 * much of the mask that pixel takes, and so how much its features count toward the
 * region's statistics:
 *
 *   FEATHERED  the mean of the mask over each convolution's 3×3 window and each pooling's
 *              2×2: a pixel counts by the share of its footprint in the region, so that
 *              neighbouring regions' styles meet smoothly.  The default, and the best for
 *              regions of one picture: each region takes its own painting's texture best.
 *   INSIDE     the minimum instead: a pixel counts only if its whole footprint is inside
 *              the region (and then by the least of the mask there), so nothing outside
 *              the mask reaches the region's statistics.  For a region whose outside must
 *              not count, such as a selection stylized on its own; the deep layers see the
 *              region shrunk by their footprint, and none of a region narrower than it.
 *   SIMPLE     unchanged by convolutions, the 2×2 mean at each pooling.
 *   ALL        the maximum: a pixel counts fully if any of its footprint is in the region
 *              (the regions overlap at the deep layers; for comparison).
 *
 * A mask of ones stays ones with every carry (the plain style loss).  A style's mask over
 * its own image (style_masks) is carried as its region's is. */
typedef enum
{
  NS_REGION_CARRY_FEATHERED,
  NS_REGION_CARRY_INSIDE,
  NS_REGION_CARRY_SIMPLE,
  NS_REGION_CARRY_ALL
} NsRegionCarry;

/* ns_stylizer_set_region_carry's `style` for the rest region (NS_REGION_REST_STYLES). */
#define NS_REGION_THE_REST (-1)

/* Sets how the region of style `style` (0 … n_styles − 1 of ns_stylizer_set_regions, or
 * NS_REGION_THE_REST) carries its mask, for the following runs and estimates, until
 * set_regions or clear_regions (which make every region NS_REGION_CARRY_FEATHERED again).
 * FALSE with NS_ERROR_INVALID_ARGUMENT when the stylizer has no regions (none set, or all
 * the masks given were NULL), for a style outside the regions' styles, or a carry that is
 * not one of the above. */
gboolean    ns_stylizer_set_region_carry (NsStylizer    *stylizer,
                                          int            style,
                                          NsRegionCarry  carry,
                                          GError       **error);

/* Whether a mask of mask_width × mask_height is of the shape of a width × height image, so
 * that it can guide it (ns_stylizer_set_regions): the one resized to the other's width or
 * height is within a pixel of it (what rounding a size leaves).  For a program that checks
 * its masks before it loads a network. */
gboolean    ns_region_mask_fits (int mask_width, int mask_height, int width, int height);

/* What a run of ns_stylizer_run on these images would take: the estimated peak memory of
 * the process in bytes, and (if description is not NULL) one line for the user saying how
 * it will run ("3 sizes (…); at 4096×4096 in tiles of 512 px, L-BFGS with a history of 5;
 * estimated peak memory 1840 MiB of a 2048 MiB budget").  0 with NS_ERROR_MEMORY when no
 * arrangement fits the budget (ns_options_set_max_memory), the message saying how much
 * it would need. */
guint64     ns_stylizer_estimate_memory (NsStylizer           *stylizer,
                                         const NsImage        *content,
                                         const NsImage * const *styles,
                                         int                   n_styles,
                                         char                **description,
                                         GError              **error);

/* The time such a run is expected to take, in seconds (the plan's "expected time"; the
 * first call on a stylizer measures the machine, about a second), and (if description is
 * not NULL) the plan's line as above.  Only the images' sizes and channels are read: their
 * data may be NULL, so a large photo can be planned without loading it.  < 0 with the
 * error of ns_stylizer_estimate_memory when the run cannot be planned. */
double      ns_stylizer_estimate_seconds (NsStylizer           *stylizer,
                                          const NsImage        *content,
                                          const NsImage * const *styles,
                                          int                   n_styles,
                                          char                **description,
                                          GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsStylizer, ns_stylizer_free)

/* ---- plans ------------------------------------------------------------------------------- */

/* The plan of a run as data: what ns_stylizer_estimate_memory's line says, for a program
 * that says it in its own words (a dialog in the user's language).  The line stays the
 * command line's. */

/* How one size of the run goes. */
typedef struct
{
  int         width, height;      /* the image optimised at this size                      */
  int         iterations;         /* planned at this size                                  */
  int         tile;               /* 0: the whole image at once; else in tiles of this many
                                   * pixels a side (the budget allows no more)              */
  gboolean    recompute_content;  /* tiled: the content's features are computed again in
                                   * each evaluation, there being no room to keep them     */
  gboolean    streaming;          /* tiled: the image is updated row by row with normalised
                                   * gradient steps, there being no room for an optimiser's
                                   * vectors; `optimizer` does not apply                    */
  NsOptimizer optimizer;          /* the optimiser at this size                            */
  int         lbfgs_history;      /* L-BFGS: the steps it remembers                        */
  gboolean    as_asked;           /* the whole image with the optimiser and history the
                                   * options ask for: nothing the budget changed            */
  guint64     peak_bytes;         /* the process's estimated peak at this size              */
  guint64     reuse_bytes;        /* buffers kept between evaluations beyond what one needs,
                                   * so that they need not be fetched fresh from the system:
                                   * at most this much, half of it counted in peak_bytes (what
                                   * they were seen to hold), all of it within the budget; the
                                   * first thing a tight budget gives up                    */
} NsPlanSize;

typedef struct _NsPlan NsPlan;

/* The plan of a run of ns_stylizer_run on these images, as ns_stylizer_estimate_memory
 * makes it (only the images' sizes and channels are read).  `timed` also measures the
 * machine (about a second, on a stylizer's first call) for ns_plan_get_seconds.  NULL
 * with that function's error when the run cannot be planned. */
NsPlan     *ns_stylizer_plan           (NsStylizer            *stylizer,
                                        const NsImage         *content,
                                        const NsImage * const *styles,
                                        int                    n_styles,
                                        gboolean               timed,
                                        GError               **error);
void        ns_plan_free               (NsPlan *plan);
/* The optimisation's sizes, coarse to fine (at least one), and one of them (0-based). */
int         ns_plan_get_n_sizes        (const NsPlan *plan);
const NsPlanSize *ns_plan_get_size     (const NsPlan *plan, int index);
/* The iterations of all the optimisation's sizes (not the refinement's). */
int         ns_plan_get_iterations     (const NsPlan *plan);
/* The result's size: the content's. */
void        ns_plan_get_result_size    (const NsPlan *plan, int *width, int *height);
/* TRUE when the last size is smaller than the result (ns_options_set_optimize_size) and
 * its result is enlarged by `*upscale` (may be NULL). */
gboolean    ns_plan_get_enlarged       (const NsPlan *plan, NsUpscale *upscale);
/* NS_UPSCALE_REFINE's size: the result's size, with the shallow style layers only; NULL
 * when the run does not refine. */
const NsPlanSize *ns_plan_get_refinement (const NsPlan *plan);
/* The run's estimated peak memory (the largest of its sizes' and the enlargement's), and
 * the budget it was planned for; *automatic (may be NULL) is TRUE when that budget is the
 * default share of the memory available (ns_options_set_max_memory 0). */
guint64     ns_plan_get_peak_bytes     (const NsPlan *plan);
guint64     ns_plan_get_budget         (const NsPlan *plan, gboolean *automatic);
/* The expected time in seconds (as ns_stylizer_estimate_seconds); < 0 when not timed. */
double      ns_plan_get_seconds        (const NsPlan *plan);
/* The expected time of a sequence's later frame of this size (ns_sequence_set_later_frames:
 * `share` of the iterations, the coarse sizes or not); < 0 when not timed. */
double      ns_plan_get_later_seconds  (const NsPlan *plan, double share, gboolean coarse_sizes);
/* A sequence of n_frames such frames, the first a full run: first + (n − 1) × later. */
double      ns_plan_get_sequence_seconds (const NsPlan *plan, int n_frames, double share,
                                          gboolean coarse_sizes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsPlan, ns_plan_free)

/* ---- sequences: animation frames with temporal consistency (Ruder et al. 2016) ---------- */

/* Frames of one animation stylized in order, each held to the previous ones' results where
 * the optical flow between the original frames says the same thing is seen: frame i > 1
 * starts from frame i − 1's result warped onto it (the frame's own start where the warp is
 * unreliable), and its objective gets γ · mean over pixels of c · (x − warped)² (with long-term
 * consistency also for frames i − 2 and i − 4).  Needs an engine built with OpenCV
 * (ns_sequence_available). */

/* The temporal weight γ when none is set (chosen by measurement, docs/animation.md). */
#define NS_TEMPORAL_WEIGHT_DEFAULT 1e3

typedef struct _NsSequence NsSequence;

typedef struct
{
  int               frame;      /* 1-based: the frame being stylized                     */
  int               n_frames;   /* frames in the sequence (ns_sequence_set_n_frames), or 0 */
  double            elapsed;    /* seconds since this sequence object stylized its first
                                 * frame                                                  */
  double            eta;        /* seconds left for the whole sequence; < 0 = unknown      */
  const NsProgress *run;        /* the frame's own run: iteration, its ETA, preview …      */
} NsSequenceProgress;

typedef void (*NsSequenceProgressFunc) (const NsSequenceProgress *progress, gpointer user_data);

/* Whether this engine can stylize sequences (it was built with OpenCV's optical flow). */
gboolean    ns_sequence_available       (void);
/* A sequence stylized with these options and style images (copied).  NULL with
 * NS_ERROR_UNSUPPORTED when the engine has no optical flow, NS_ERROR_INVALID_ARGUMENT for
 * unusable options or styles. */
NsSequence *ns_sequence_new             (NsNetwork             *network,
                                         const NsOptions       *options,
                                         const NsImage * const *styles,
                                         const double          *blend,
                                         int                    n_styles,
                                         GError               **error);
void        ns_sequence_free            (NsSequence *sequence);
/* γ ≥ 0 (0: frames stylized independently, each from its own start). */
void        ns_sequence_set_temporal_weight (NsSequence *sequence, double weight);
double      ns_sequence_get_temporal_weight (const NsSequence *sequence);
/* Also hold frame i to frames i − 2 and i − 4 where i − 1 does not see a pixel. */
void        ns_sequence_set_long_term   (NsSequence *sequence, gboolean long_term);
/* A frame held to an earlier result (γ > 0, not the first) starts from that result warped
 * onto it, which has the style already, so it needs less work than the first frame: it runs
 * `share` (0 < share ≤ 1) of the iterations the first frame runs at each size (rounded, at
 * least one), and with coarse_sizes FALSE only the last of its sizes (a refinement,
 * ns_options_set_optimize_size, runs as planned).  Defaults below: measured,
 * docs/animation.md. */
#define NS_LATER_ITERATIONS_DEFAULT   0.5
#define NS_LATER_COARSE_SIZES_DEFAULT FALSE
void        ns_sequence_set_later_frames (NsSequence *sequence, double share,
                                          gboolean coarse_sizes);
double      ns_sequence_get_later_iterations   (const NsSequence *sequence);
gboolean    ns_sequence_get_later_coarse_sizes (const NsSequence *sequence);
/* The number of frames in all (resumed ones included), for the progress; 0 = unknown. */
void        ns_sequence_set_n_frames    (NsSequence *sequence, int n_frames);
void        ns_sequence_set_progress    (NsSequence             *sequence,
                                         NsSequenceProgressFunc  func,
                                         gpointer                user_data);
/* Safe from any thread: the frame being stylized fails with NS_ERROR_CANCELLED; the
 * sequence stays where it was (the cancelled frame can be given again). */
void        ns_sequence_cancel          (NsSequence *sequence);
/* Stylizes the next frame (the first one's size and channels for all).  A new image, or
 * NULL with an error; after an error the sequence is where it was before the call. */
NsImage    *ns_sequence_next            (NsSequence     *sequence,
                                         const NsImage  *frame,
                                         GError        **error);
/* Takes `stylized`, a result of an earlier run, as the next frame's result without
 * stylizing it (resuming an interrupted sequence): the frames after it are held to it. */
gboolean    ns_sequence_resume          (NsSequence     *sequence,
                                         const NsImage  *frame,
                                         const NsImage  *stylized,
                                         GError        **error);
/* Frames given so far (stylized or resumed). */
int         ns_sequence_get_position    (const NsSequence *sequence);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsSequence, ns_sequence_free)

/* Creates a new, empty file "PATH.XXXXXX<suffix>" beside `path` (same folder, so that a
 * rename can replace path atomically), exclusively and without following links.  Returns
 * its descriptor (write-only, close-on-exec) and the new name in *tmp_path, or -1 with
 * errno set. */
int     ns_file_create_temp          (const char *path, const char *suffix, char **tmp_path);

G_END_DECLS

#endif /* NEURAL_STYLE_H */
