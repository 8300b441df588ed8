/* ns-internal.h — declarations shared between the engine's source files.  Not installed.
 * One section per source file; each file holds one concept. */
#ifndef NS_INTERNAL_H
#define NS_INTERNAL_H

#include "neural-style.h"

G_BEGIN_DECLS

/* ---- tensor.c: float CHW tensors, 64-byte aligned storage ------------------------------- */

typedef struct
{
  int    c, h, w;
  float *data;            /* c·h·w floats, channel planes of h rows of w */
} NsTensor;

float    *ns_floats_new      (gsize n);          /* zero-filled, 64-byte aligned; aborts on OOM like g_malloc */
float    *ns_floats_alloc    (gsize n);          /* the same, not filled */
void      ns_floats_free     (float *p);
/* Scratch of any type through the same allocation (and buffer cache); ns_scratch_free it. */
gpointer  ns_scratch_alloc   (gsize bytes);
void      ns_scratch_free    (gpointer p);
NsTensor *ns_tensor_new      (int c, int h, int w);   /* zero-filled */
NsTensor *ns_tensor_new_uninit (int c, int h, int w); /* not filled: the caller writes it all */
NsTensor *ns_tensor_new_like (const NsTensor *t);
NsTensor *ns_tensor_copy     (const NsTensor *t);
void      ns_tensor_free     (NsTensor *t);
static inline gsize ns_tensor_len (const NsTensor *t) { return (gsize) t->c * t->h * t->w; }
static inline gboolean ns_tensor_same_shape (const NsTensor *a, const NsTensor *b)
{
  return a->c == b->c && a->h == b->h && a->w == b->w;
}
/* dst = 0, dst = src, dst += src on n floats, over the engine's threads when n is large. */
void      ns_floats_zero     (float *dst, gsize n);
void      ns_floats_copy     (float *dst, const float *src, gsize n);
void      ns_floats_add      (float *dst, const float *src, gsize n);

/* Large buffers kept between evaluations: while `cache` is in use on a thread, buffers of
 * 1 MiB or more that ns_floats_alloc hands out there are kept when freed (on any thread)
 * and handed out again for the same size, never holding more than the most ever handed
 * out at once plus `slack` bytes.  Buffers may outlive their cache. */
typedef struct _NsBufferCache NsBufferCache;

NsBufferCache *ns_buffer_cache_new  (gsize slack);
void           ns_buffer_cache_free (NsBufferCache *cache);
/* Puts cache (may be NULL: none) in use on the calling thread; returns the one before. */
NsBufferCache *ns_buffer_cache_use  (NsBufferCache *cache);
/* How many large buffers it has fetched from the system (kept or not) so far. */
guint          ns_buffer_cache_fresh (NsBufferCache *cache);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsTensor, ns_tensor_free)

/* ---- parallel.c: the engine's threads (OpenBLAS runs single-threaded) ------------------ */

/* Called for item `item` by worker `worker` (0 … n_workers − 1, for per-worker scratch). */
typedef void (*NsParallelFunc) (int item, int worker, gpointer data);

/* Work (in multiply-adds or the like) below which a loop stays on one thread. */
#define NS_PARALLEL_MIN_WORK 2e6

/* Threads for loops started from the calling thread: set by ns_parallel_set_threads (0 or
 * unset: the processors' count); 1 inside a loop's item, so that loops do not nest. */
int  ns_parallel_threads     (void);
int  ns_parallel_set_threads (int threads);        /* returns the previous setting */
/* Workers a loop over n_items with `work` in total should use. */
int  ns_parallel_workers     (int n_items, double work);
/* Runs fn on items 0 … n_items − 1 with up to n_workers threads (the caller's included) and
 * returns when all are done.  Items must not depend on each other or on which worker runs
 * them: then the result is the same at any thread count. */
void ns_parallel_for         (int n_items, int n_workers, NsParallelFunc fn, gpointer data);

/* Elementwise loops: [0, n) is cut into chunks of `chunk` (the last shorter), fixed by the
 * sizes alone, and run on several threads when the loop has at least
 * NS_PARALLEL_MIN_ELEMENTS elements (n · unit: unit is the elements in one of the n).
 * NS_CHUNK elements make a chunk of a flat loop; it is a multiple of 64, so that chunks
 * start on cache lines and on whole bytes of a bit mask. */
#define NS_CHUNK                 32768
#define NS_PARALLEL_MIN_ELEMENTS 65536

typedef void   (*NsRangeFunc)    (gsize from, gsize to, gpointer data);
typedef double (*NsRangeSumFunc) (gsize from, gsize to, gpointer data);

void   ns_parallel_range (gsize n, gsize chunk, gsize unit, NsRangeFunc fn, gpointer data);
/* The sum of fn's results over the chunks, added in chunk order: the same bits at any
 * thread count (and one chunk is the whole loop below `chunk`). */
double ns_parallel_sum   (gsize n, gsize chunk, gsize unit, NsRangeSumFunc fn, gpointer data);
/* Rows of `w` elements per chunk of a loop over rows: about NS_CHUNK elements. */
static inline gsize ns_chunk_rows (gsize w) { return MAX (NS_CHUNK / MAX (w, 1), 1); }

/* ---- gemm.c: sgemm cut into blocks fixed by the shape, run over the engine's threads ------- */

/* C (m × n) = alpha · op(A) · B + beta · C, row-major; op(A) = A (m × k) or Aᵀ (A is k × m). */
void ns_sgemm (gboolean trans_a, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *c, int ldc);

/* ---- simd.c: which of the engine's vector paths runs ------------------------------------- */

typedef enum
{
  NS_SIMD_PORTABLE,
  NS_SIMD_AVX2,
  NS_SIMD_AVX512
} NsSimd;

/* The best path the CPU supports, lowered by $NEURAL_STYLE_SIMD (portable, avx2, avx512). */
NsSimd ns_simd_level (void);
/* For tests: run `level` (clamped to what the CPU supports) from now on; returns the
 * previous level. */
NsSimd ns_simd_override (NsSimd level);

/* ---- conv.c: 3×3 convolution, stride 1, padding 1 (im2col in row bands + sgemm) ---------- */

typedef struct
{
  int    cin, cout;
  float *weight;          /* [cout][cin][3][3], owned */
  float *bias;            /* [cout], owned */
  float *weight_t;        /* [cin][cout][3][3] spatially flipped, for the input gradient; set by ns_conv_prepare */
  NsPadding padding;      /* beyond the edge of its input (zero-initialised: zeros) */
} NsConv;

/* What a network's convolutions keep between calls (conv-cache.c); NULL: nothing. */
typedef struct _NsConvCache NsConvCache;

void ns_conv_prepare (NsConv *conv);            /* (re)computes weight_t from weight */
void ns_conv_clear   (NsConv *conv);            /* frees the three arrays */
/* out (cout×h×w) = conv(in (cin×h×w)) + bias; out is overwritten.  cache (may be NULL) is
 * one for the network conv belongs to; the result is the same bits with or without. */
void ns_conv3x3_forward        (const NsConv *conv, NsConvCache *cache, const NsTensor *in,
                                NsTensor *out);
/* grad_in (cin×h×w) = ∂L/∂in given grad_out = ∂L/∂out; grad_in is overwritten. */
void ns_conv3x3_backward_input (const NsConv *conv, NsConvCache *cache,
                                const NsTensor *grad_out, NsTensor *grad_in);
/* The same with bands of at most max_band_rows output rows (<= 0: the memory budget
 * alone decides), so tests can force many bands.  weight, bias and weight_t are
 * ns_floats_new allocations (ns_conv_clear frees them with ns_floats_free). */
void ns_conv3x3_forward_banded        (const NsConv *conv, NsConvCache *cache,
                                       const NsTensor *in, NsTensor *out, int max_band_rows);
void ns_conv3x3_backward_input_banded (const NsConv *conv, NsConvCache *cache,
                                       const NsTensor *grad_out, NsTensor *grad_in,
                                       int max_band_rows);
/* Whether the convolution runs by Winograd (winograd.c) on an h × w input: forward, or its
 * input gradient (adjoint). */
gboolean ns_conv_uses_winograd (const NsConv *conv, gboolean adjoint, int h, int w);
/* Rows per band when n_rows (> 0) are processed in bands whose workspace is row_bytes a row:
 * as many as budget_bytes allows (at least one; at most max_rows when that is > 0), evened out
 * over the bands so that the last is not a sliver. */
int  ns_band_rows (gsize budget_bytes, gsize row_bytes, int n_rows, int max_rows);

/* ---- winograd.c: the same convolution by Winograd F(4×4, 3×3) (conv.c chooses) ------------- */

/* out = conv(in) (+ bias, when not NULL and not adjoint); weight is [cout][cin][3][3].  With
 * adjoint, the input gradient instead: in is ∂L/∂out (cout channels) and out receives
 * ∂L/∂in (cin channels).  u is ns_winograd_weights (weight, cin, cout, adjoint), or NULL to
 * transform the weights in this call; the result is the same bits.  out is overwritten;
 * max_band_rows > 0 caps the tile rows (of 4 pixels) per band, for tests.  padding is what
 * the input is read with beyond its edge (the adjoint pads with zeros only: conv.c folds
 * other paddings' gradients itself). */
void  ns_winograd_conv3x3 (const float *weight, const float *bias, int cin, int cout,
                           gboolean adjoint, const float *u, NsPadding padding,
                           const NsTensor *in, NsTensor *out, int max_band_rows);
/* Where index i (−1 … n) of a row or column of n pixels reads under non-zero padding. */
static inline int
ns_pad_index (int i, int n, NsPadding padding)
{
  gboolean mirror = padding == NS_PADDING_REFLECT && n > 1;

  if (i < 0)
    return mirror ? 1 : 0;
  if (i >= n)
    return mirror ? n - 2 : n - 1;
  return i;
}
/* The weights transformed for ns_winograd_conv3x3 in that direction (adjoint: for the input
 * gradient): ns_winograd_weights_floats (n_in, n_out) floats, n_in = cin and n_out = cout
 * forward, the other way round for the adjoint; ns_floats_free it. */
float *ns_winograd_weights (const float *weight, int cin, int cout, gboolean adjoint);
gsize  ns_winograd_weights_floats (int n_in, int n_out);
/* Floats of workspace it needs for an n_in → n_out convolution at h × w. */
gsize ns_winograd_workspace_floats (int n_in, int n_out, int h, int w);
/* The workspace is kept per calling thread between calls: at most this many bytes. */
gsize ns_winograd_cached_bytes (void);

/* ---- conv-cache.c: Winograd's transformed weights, kept between calls ----------------------- */

/* Per convolution of `net` and per direction (forward, input gradient), its weights
 * transformed for Winograd, made the first time a call needs them (from any thread) and kept
 * until the cache is freed.  net must outlive the cache, its weights unchanged. */
NsConvCache *ns_conv_cache_new   (const NsNetwork *net);
void         ns_conv_cache_free  (NsConvCache *cache);
/* conv's transformed weights in that direction (ns_winograd_weights), made now if they are
 * not yet; conv must be one of the network's. */
const float *ns_conv_cache_get   (NsConvCache *cache, const NsConv *conv, gboolean adjoint);
/* Bytes the cache holds now. */
guint64      ns_conv_cache_bytes (NsConvCache *cache);
/* Bytes a cache comes to when passes through layers 0 … last run forward and backward on
 * eval_h × eval_w inputs (the evaluations) and forward on setup_h × setup_w ones (the style
 * targets' set-up): what the memory plan counts. */
guint64      ns_conv_cache_plan_bytes (const NsNetwork *net, int last, int eval_h, int eval_w,
                                       int setup_h, int setup_w);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsConvCache, ns_conv_cache_free)

/* ---- activation.c: ReLU ------------------------------------------------------------------- */

void ns_relu_forward  (NsTensor *t);                              /* in place */
/* grad[i] = 0 where out[i] <= 0 (out is the ReLU's output); in place. */
void ns_relu_backward (const NsTensor *out, NsTensor *grad);
/* ReLU in place on n floats and, when mask is not NULL, one bit per element (LSB first,
 * (n + 7) / 8 bytes, overwritten) set where the result is not <= 0, NaN included: what the
 * lean pass (tiling.c) keeps for the backward.  The same bits on every vector path. */
void ns_relu_mask          (float *x, gsize n, guint8 *mask);
/* g[i] = 0 where mask's bit i is clear. */
void ns_relu_mask_backward (const guint8 *mask, float *g, gsize n);

/* ---- pool.c: 2×2 stride-2 pooling (floor size, as torch ceil_mode=False) --------------------- */

typedef enum { NS_POOL_MAX, NS_POOL_AVG } NsPoolKind;

/* out must be c × h/2 × w/2. */
void ns_pool2_forward  (NsPoolKind kind, const NsTensor *in, NsTensor *out);
/* grad_in (shape of in) is overwritten; max routes to the first maximum in scan order;
 * rows/columns dropped by the floor get zero gradient. */
void ns_pool2_backward (NsPoolKind kind, const NsTensor *in, const NsTensor *grad_out, NsTensor *grad_in);
/* The same for the lean pass (tiling.c), which keeps the max's winners instead of its input:
 * argmax (out's element count) gets each window's winner, 0‥3 in row-major order… */
void ns_pool2_max_forward_argmax (const NsTensor *in, NsTensor *out, guint8 *argmax);
/* … and the backward sends the gradient there (argmax is not read for NS_POOL_AVG). */
void ns_pool2_backward_argmax (NsPoolKind kind, const guint8 *argmax, const NsTensor *grad_out,
                               NsTensor *grad_in);

/* ---- gram.c: Gram matrices ------------------------------------------------------------------ */

/* gram (c×c, row-major) = F·Fᵀ / (c·h·w), F being f viewed as c × (h·w). */
void ns_gram (const NsTensor *f, float *gram);
/* acc (c×c doubles, upper triangle) += scale · F·Fᵀ, F being c rows of n floats, ld apart.
 * Tiles add their cores' parts; the sum is the whole image's up to double round-off. */
void ns_gram_add   (const float *f, int c, gsize n, gsize ld, double scale, double *acc);
/* gram (c×c floats, full) from acc's upper triangle. */
void ns_gram_store (const double *acc, int c, float *gram);

/* ---- loss-content.c, loss-style.c, loss-tv.c: the losses, with gradients ------------------- */
/* Each ns_*_loss returns weight · loss and, when grad is not NULL, ADDS weight · ∂loss/∂input
 * to grad.  Normalisations are those documented in neural-style.h.  The other functions are
 * their parts, for callers that cut an image into tiles and normalise by the whole. */

double ns_content_loss (const NsTensor *f, const NsTensor *target, double weight, NsTensor *grad);
/* Σ (F − P)² over n floats (in double, summed in a fixed order); with grad, also
 * grad += scale · (F − P). */
double ns_content_sum  (const float *f, const float *target, gsize n, float scale, float *grad);

/* target_gram is c×c as made by ns_gram (possibly a blend of several). */
double ns_style_loss   (const NsTensor *f, const float *target_gram, double weight, NsTensor *grad);
/* d holds a Gram matrix G (c×c); returns weight · mean (G − A)² over the c² entries and
 * leaves D = G − A in d, or with gradient D + Dᵀ: the gradient is then
 * 2 · weight / (c²·N) · d · F for features F of N = c·h·w values. */
double ns_style_gram_loss (float *d, const float *target_gram, int c, double weight,
                           gboolean gradient);

/* img is the c×h×w image in [0,1] units (before preprocessing). */
double ns_tv_loss      (const NsTensor *img, double weight, NsTensor *grad);
/* One row of a plane, w pixels, with the rows above and below (NULL at the plane's edges):
 * returns sum plus the squares of the pairs it forms with the right and lower neighbours,
 * and with grow (the row's gradient) adds each pixel's ±scale · (a − b) of all four pairs it
 * is in.  ns_tv_loss is this row by row. */
double ns_tv_row       (const float *row, const float *above, const float *below, int w,
                        float scale, float *grow, double sum);

/* ---- loss-temporal.c: temporal consistency with the previous frame (Ruder et al. 2016) ------- */

/* weight · mean over c·h·w of r · (x − ω)², x the image (c×h×w planes), ω the previous
 * result warped onto this frame (same shape), r its reliability (1×h×w, one weight per
 * pixel for every plane; ns_flow_reliability); grad as the other losses. */
double ns_temporal_loss (const NsTensor *x, const NsTensor *warped, const NsTensor *reliability,
                         double weight, NsTensor *grad);
/* One row of w pixels: returns sum + Σ r (x − ω)² and, with grow, adds scale · r · (x − ω). */
double ns_temporal_row  (const float *x, const float *warped, const float *reliability, int w,
                         float scale, float *grow, double sum);
/* Rows [y0, y1) of every plane of planes × h × w images (r is h × w): returns their Σ r (x − ω)²
 * (unweighted, for dividing by the whole image's c·h·w) and, when band is set, adds their
 * gradient scale · r · (x − ω) to it, band holding rows from band_y0 with planes band_plane
 * floats apart.  Tiles covering the image give ns_temporal_loss's gradient bit for bit and its
 * sum up to double round-off. */
double ns_temporal_rows (const float *x, const float *warped, const float *reliability,
                         int planes, int w, int h, int y0, int y1, float scale, float *band,
                         int band_y0, gsize band_plane);

/* ---- flow.c, flow-dis.cc: optical flow, its reliability, and warping by it --------------- */
/* A flow field is a 2 × h × w tensor, plane 0 the x and plane 1 the y displacement in pixels.
 * The flow from A to B takes each pixel p of A to where it is in B: A(p) ≈ B(p + flow(p)). */

typedef enum
{
  NS_FLOW_ULTRAFAST,
  NS_FLOW_FAST,
  NS_FLOW_MEDIUM
} NsFlowPreset;

/* Whether the engine was built with OpenCV (libopencv-video-dev), which ns_flow_compute needs. */
gboolean  ns_flow_available   (void);
/* The flow from `from` to `to` (grey or RGB, same size) by OpenCV's DIS on their 8-bit
 * luminance.  NULL with NS_ERROR_UNSUPPORTED in an engine built without OpenCV. */
NsTensor *ns_flow_compute     (const NsImage *from, const NsImage *to, NsFlowPreset preset,
                               GError **error);
/* flow-dis.cc: DIS on w × h 8-bit grey images; flow_xy receives h × w (x, y) pairs. */
gboolean  ns_flow_dis         (const guint8 *from, const guint8 *to, int w, int h,
                               NsFlowPreset preset, float *flow_xy, GError **error);
/* The flow for the same frames at w × h: resized as ns_image_resize resizes images, its
 * displacements scaled by the change of size (for the coarse-to-fine sizes). */
NsTensor *ns_flow_resize      (const NsTensor *flow, int w, int h);
/* Backward warping: out(p) = img(p + flow(p)), bilinear, reading the nearest edge pixel
 * beyond the image.  With `flow` from frame i to frame i − 1, img frame i − 1's result,
 * out is ω, its guess for frame i. */
NsTensor *ns_flow_warp        (const NsTensor *img, const NsTensor *flow);
/* The same with Catmull-Rom interpolation (exact at whole pixels, sharper between them): for
 * results that are warped again every frame, where bilinear's blur would add up. */
NsTensor *ns_flow_warp_cubic  (const NsTensor *img, const NsTensor *flow);
/* The reliability (1 × h × w, in [0, 1]) of warping frame i − 1 onto frame i, given the
 * flows between the original frames (`forward` i − 1 → i, `backward` i → i − 1): 0 where the
 * two disagree (disocclusions) and where the backward flow leaves the frame (both marked
 * below 0, so that the blur spreads them outwards), 0 at motion boundaries, 1 elsewhere;
 * then a Gaussian blur of σ = 0.8, clipped. */
NsTensor *ns_flow_reliability (const NsTensor *forward, const NsTensor *backward);
/* Lowers `reliability` where the original frame `before`, warped by `backward` (frame →
 * before), does not look like `frame` (colour tensors): there the flow missed the motion. */
void      ns_flow_check_colours (NsTensor *reliability, const NsTensor *before,
                                 const NsTensor *frame, const NsTensor *backward);
/* Eases content that came into view into the reliability: multiplies it by smoothstep (t /
 * frames), t the frames the content at a pixel has been in view (how many steps of the
 * backward flow, from where it takes the pixel, lead out of the frame; no motion: no
 * change).  A result is pinned where content enters (a pan's new strip) only after `frames`
 * frames, and over them smoothly, so that where a pixel enters between two frames' steps
 * does not decide what it keeps: a sharper step leaves a band per frame (docs/animation.md). */
void      ns_flow_ease_in       (NsTensor *reliability, const NsTensor *backward,
                                 double frames);
/* Long-term weights in place: c[0 … n − 1] are the reliabilities of frames i − j for
 * increasing j; each becomes max (c[j] − Σ_{k<j} c[k], 0), so that a pixel follows the
 * nearest frame that sees it. */
void      ns_flow_long_term   (NsTensor * const *c, int n);

/* ---- color.c: colour transforms between the user's image and the network input ----------------- */

/* RGB NsImage (interleaved) → 3×h×w tensor with (x − mean[c]) / std[c]. */
NsTensor *ns_color_to_network  (const NsImage *rgb, const float mean[3], const float std[3]);
/* Pull a gradient on the network input back to image space: grad_img = grad_net / std[c]. */
void      ns_color_to_network_backward (const NsTensor *grad_net, const float std[3], NsTensor *grad_img);
/* Planar float tensors ↔ interleaved images (channel count kept). */
NsTensor *ns_color_image_to_tensor (const NsImage *image);
NsImage  *ns_color_tensor_to_image (const NsTensor *t);
/* Luminance Y = 0.299 R + 0.587 G + 0.114 B (YIQ, as Gatys et al. 2016). 1-channel result. */
NsTensor *ns_color_luminance (const NsTensor *rgb);
/* rgb (3×h×w) = (y, y, y); backward sums the three channel gradients into grad_y (overwritten). */
void      ns_color_expand_luminance          (const NsTensor *y, NsTensor *rgb);
void      ns_color_expand_luminance_backward (const NsTensor *grad_rgb, NsTensor *grad_y);
/* Result with the luminance of `y` and the chrominance (I, Q) of `content` (both same size). */
NsTensor *ns_color_merge_luminance (const NsTensor *y, const NsTensor *content_rgb);
/* Linear colour transfer: returns `style` with its RGB mean and covariance matched to
 * `content`'s (Gatys et al. 2016, "colour histogram matching"). */
NsTensor *ns_color_match_histogram (const NsTensor *style, const NsTensor *content);
/* 1-channel version: mean and standard deviation of `y` matched to `ref`. */
void      ns_color_match_luminance (NsTensor *y, const NsTensor *ref);

/* ---- safetensors.c: validated, memory-mapped safetensors reader and a writer ------------------ */

typedef enum { NS_DTYPE_F32, NS_DTYPE_F16, NS_DTYPE_BF16, NS_DTYPE_OTHER } NsDtype;

typedef struct
{
  const char   *name;
  NsDtype       dtype;
  const char   *dtype_name;       /* as written in the file, e.g. "F32", "I64" */
  int           n_dims;
  gint64        shape[8];
  const guint8 *data;             /* inside the mapping; may be unaligned */
  gsize         n_bytes;
} NsSafetensorsTensor;

typedef struct _NsSafetensors NsSafetensors;

/* Maps and validates the whole file: header length, JSON syntax, every entry's dtype,
 * shape and offsets (inside the data area, begin ≤ end, byte count = product(shape) ×
 * dtype size, no overlaps).  Errors are NS_ERROR_WEIGHTS (or NS_ERROR_IO for open/map
 * failures) and name the file and what is wrong. */
NsSafetensors *ns_safetensors_open  (const char *path, GError **error);
void           ns_safetensors_close (NsSafetensors *st);
const char    *ns_safetensors_get_path (const NsSafetensors *st);
guint          ns_safetensors_get_n_tensors (const NsSafetensors *st);
const NsSafetensorsTensor *ns_safetensors_get_tensor (const NsSafetensors *st, guint index);
const NsSafetensorsTensor *ns_safetensors_find (const NsSafetensors *st, const char *name);
/* Copies tensor `name` into dst as F32 (F16 and BF16 converted), after checking that it
 * exists ("missing tensor") and that its shape equals shape[0..n_dims) ("wrong shape"). */
gboolean ns_safetensors_read_f32 (const NsSafetensors *st, const char *name,
                                  const gint64 *shape, int n_dims, float *dst, GError **error);

typedef struct
{
  const char   *name;
  int           n_dims;
  gint64        shape[8];
  const float  *data;             /* F32, product(shape) values */
} NsSafetensorsEntry;

/* "[a, b, c]": a shape in a header or a message. */
void ns_safetensors_append_shape (GString *s, const gint64 *shape, int n_dims);
/* Writes F32 tensors (sorted by name, 8-byte aligned header) atomically to path
 * (safetensors-write.c). */
gboolean ns_safetensors_write (const char *path, const NsSafetensorsEntry *entries, guint n_entries,
                               GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsSafetensors, ns_safetensors_close)

/* ---- weights.c / download.c: see neural-style.h (ns_weights_find, ns_weights_download) -------- */

/* TRUE for "features.<digits>.weight" and "features.<digits>.bias": what trimming keeps. */
gboolean ns_weights_is_conv_tensor (const char *name);

/* Writes the convolution tensors (features.N.weight|bias) of `src` into a new file `dest`. */
gboolean ns_weights_trim (const char *src, const char *dest, GError **error);

/* ns_weights_find with every place to look passed in (for tests): `env_path` is the value
 * of $NEURAL_STYLE_WEIGHTS, then user_data_dir, each of system_data_dirs (NULL-terminated)
 * and datadir get "/neural-style/vgg19.safetensors" appended.  Any argument may be NULL. */
char *ns_weights_find_in (const char         *explicit_path,
                          const char         *env_path,
                          const char         *user_data_dir,
                          const char * const *system_data_dirs,
                          const char         *datadir,
                          GError            **error);

/* ---- lbfgs.c / adam.c: optimisers over a flat float vector ----------------------------------- */

/* Returns the objective at x and writes its gradient into grad (n floats).  A NaN/Inf
 * return value means the point is unusable. */
typedef double (*NsObjectiveFunc) (const float *x, float *grad, gpointer user_data);
/* Called after every iteration with the accepted iterate; return FALSE to stop. */
typedef gboolean (*NsIterationFunc) (int iteration, const float *x, double f, gpointer user_data);

typedef enum
{
  NS_OPTIM_MAX_ITERATIONS,   /* ran all iterations */
  NS_OPTIM_CONVERGED,        /* gradient or change below tolerance */
  NS_OPTIM_STOPPED,          /* the iteration callback returned FALSE */
  NS_OPTIM_NUMERIC           /* NaN/Inf: x holds the best finite iterate seen */
} NsOptimStatus;

typedef struct
{
  int    max_iterations;
  int    history;             /* L-BFGS memory, e.g. 100 */
  double tolerance_grad;      /* stop when max |g| <= this (1e-7 as torch) */
  double tolerance_change;    /* stop when step or loss change <= this (1e-9 as torch) */
  gint64 max_evaluations;     /* objective calls; 0 = max_iterations·5/4, as torch */
  double first_step;          /* > 0: the first trial step moves no variable by more than
                               * this; 0: torch's unit ℓ1 move, which on a large image already
                               * close to its optimum costs several extrapolations */
} NsLbfgsParams;

/* L-BFGS with the strong-Wolfe line search (cubic interpolation), following
 * torch.optim.LBFGS(line_search_fn="strong_wolfe") iteration by iteration, so that the
 * PyTorch reference test can compare trajectories.  x is updated in place. */
NsOptimStatus ns_lbfgs_minimize (float *x, gsize n, const NsLbfgsParams *params,
                                 NsObjectiveFunc func, NsIterationFunc iter, gpointer user_data,
                                 double *f_out);

typedef struct
{
  int    max_iterations;
  double learning_rate;       /* in image units ([0,1] pixels) */
  double beta1, beta2, epsilon;
} NsAdamParams;

NsOptimStatus ns_adam_minimize (float *x, gsize n, const NsAdamParams *params,
                                NsObjectiveFunc func, NsIterationFunc iter, gpointer user_data,
                                double *f_out);

/* Floats each optimiser allocates besides x, at most (for memory budgets).  L-BFGS
 * allocates history vectors as they fill, so short runs use less. */
gsize ns_lbfgs_workspace_floats (gsize n, int history);
gsize ns_adam_workspace_floats  (gsize n);

/* ---- network.c: the layer graph, forward and backward ------------------------------------------ */

/* NS_LAYER_CONV_KEEP: a 3×3 conv of input channels conv_first … conv_first + conv.cin − 1,
 * followed by input channels keep_first … keep_first + keep_count − 1 passed through
 * unchanged (output: conv.cout + keep_count channels).  Pyramid networks use it to carry
 * responses from layer to layer without mostly-zero dense convolutions. */
typedef enum
{
  NS_LAYER_CONV, NS_LAYER_RELU, NS_LAYER_MAXPOOL, NS_LAYER_AVGPOOL, NS_LAYER_CONV_KEEP
} NsLayerKind;

typedef struct
{
  NsLayerKind kind;
  char        name[16];         /* "conv1_1", "relu1_1", "pool1" */
  NsConv      conv;             /* for NS_LAYER_CONV and NS_LAYER_CONV_KEEP */
  int         conv_first, keep_first, keep_count;   /* for NS_LAYER_CONV_KEEP */
} NsLayer;

struct _NsNetwork
{
  gint           ref_count;
  NsNetworkKind  kind;
  char          *name;
  char          *description;
  char          *content_layer;   /* defaults */
  char          *style_layers;
  /* What α, β and the TV weight are multiplied by on this network, so that the same values
   * give a like balance of content and style on every network (VGG-19: 1). */
  double         content_gain, style_gain, tv_gain;
  /* Divide each loss term by its target's mean square (He et al. 2016), so that layers
   * of very different magnitudes all count; used by generated networks. */
  gboolean       normalize_layers;
  /* Divide each feature channel by its target's RMS before the Gram matrix and the content
   * difference (the scale comes from the style's or the content's own features and stays
   * fixed during a run), so that faint fine-scale channels count as much as bright colour
   * channels; used by the embedded network. */
  gboolean       normalize_channels;
  float          mean[3], std[3];
  /* ns_network_set_padding: the first pad_convs convolutions (−1: all) pad with `padding`. */
  NsPadding      padding;
  int            pad_convs;
  int            n_layers;
  NsLayer       *layers;
};

/* A network with the VGG-19 topology up to conv5_1 and unset weights (all zero). */
NsNetwork *ns_network_new_vgg19_topology (NsNetworkKind kind, const char *name);
/* Sets net's padding to its kind's default (ns_network_default_padding); returns net. */
NsNetwork *ns_network_with_default_padding (NsNetwork *net);
int        ns_network_layer_index (const NsNetwork *net, const char *name);   /* -1 if absent */
/* Number of 2× poolings before layer `index`: the image must be at least 2^that pixels. */
int        ns_network_layer_stride_log2 (const NsNetwork *net, int index);
/* Channels of the output of layer `index` (3, the image's, before the first conv). */
int        ns_network_layer_channels (const NsNetwork *net, int index);

/* Fills the conv weights of a VGG-19 topology from a safetensors file (features.N.*). */
gboolean   ns_network_load_vgg19_weights (NsNetwork *net, const char *path, const gint *cancel,
                                          GError **error);

/* embedded.c: the built-in network, weights generated deterministically in code. */
NsNetwork *ns_network_new_embedded (void);
/* A candidate built-in network by name (see embedded.c), for the quality harness and the
 * tests: "random-vgg19" (VGG-19's topology with random weights, the cost reference), … .
 * NULL with NS_ERROR_INVALID_ARGUMENT listing the names if `name` is unknown. */
NsNetwork *ns_network_new_embedded_variant (const char *name, GError **error);
/* The names ns_network_new_embedded_variant knows, NULL-terminated. */
const char * const *ns_network_embedded_variants (void);

/* Activations kept for one forward pass; act[i] is the output of layer i (ReLUs in place of
 * their conv, so conv and relu share a tensor). */
typedef struct
{
  int        n;                 /* layers run: 0 … n−1 */
  NsTensor  *input;             /* borrowed */
  NsTensor **act;               /* n entries; entries may alias */
} NsActivations;

/* Runs layers 0 … last (inclusive) on input (3×h×w, already preprocessed).  cache (may be
 * NULL) is one made for net: the convolutions keep their transformed weights there. */
NsActivations *ns_network_forward  (const NsNetwork *net, NsConvCache *cache, NsTensor *input,
                                    int last);
/* Back-propagates: grads[i] (may be NULL) is ∂L/∂(output of layer i) to add at layer i.
 * Writes ∂L/∂input into grad_input (overwritten). */
void           ns_network_backward (const NsNetwork *net, NsConvCache *cache,
                                    const NsActivations *acts, NsTensor * const *grads,
                                    NsTensor *grad_input);
void           ns_activations_free (NsActivations *acts);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsActivations, ns_activations_free)


/* ---- tiling.c: tiles with a halo, and a memory-lean pass through the network ----------------- */

/* Halos are multiples of this (and of the network's pooling stride). */
#define NS_TILE_HALO_ALIGN 16
/* Tile sizes the planner uses are multiples of this: GEGL's tile grid. */
#define NS_TILE_GRID 128

/* How far (in input pixels) the output of layer `last` reaches into the input, or −1 if the
 * network has a layer kind tiling does not know. */
int  ns_network_receptive_radius (const NsNetwork *net, int last);
/* 2^(poolings up to and including layer `last`): crops must start on multiples of it. */
int  ns_network_alignment (const NsNetwork *net, int last);
/* The receptive radius rounded up to the alignment and NS_TILE_HALO_ALIGN (−1 as above). */
int  ns_network_halo (const NsNetwork *net, int last);

typedef struct { int x0, y0, x1, y1; } NsRect;      /* [x0, x1) × [y0, y1) */

typedef struct
{
  NsRect core;            /* the pixels whose losses this tile computes */
  NsRect crop;            /* core grown by the halo, clamped to the image */
} NsTile;

typedef struct
{
  int     width, height;  /* the image */
  int     tile, halo;     /* tile: a multiple of the network's alignment */
  int     cols, rows, n;
  NsTile *tiles;          /* row by row */
} NsTilePlan;

NsTilePlan *ns_tile_plan_new  (int width, int height, int tile, int halo);
void        ns_tile_plan_free (NsTilePlan *plan);
/* Pixels of the largest crop (and its width and height, either may be NULL). */
int         ns_tile_plan_max_crop (const NsTilePlan *plan, int *crop_w, int *crop_h);
/* The tile's core in the feature map `act` of its crop at `stride` (2^poolings so far):
 * local is in act's coordinates, global (may be NULL) in the full image's feature map. */
void        ns_tile_core_at_layer (const NsTile *tile, int image_w, int image_h, int stride,
                                   const NsTensor *act, NsRect *local, NsRect *global);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsTilePlan, ns_tile_plan_free)

/* Called with the output of each hooked layer; in a pass with a backward, the hook ADDS
 * ∂L/∂act to grad (the shape of act; it may already hold the gradient from the layers
 * above, when the layer's features are recomputed in the backward pass), else grad is
 * NULL. */
typedef void (*NsLayerHook) (int layer, const NsTensor *act, NsTensor *grad, gpointer data);

/* Runs layers 0 … last on input (not modified), calling hook at each layer with
 * hooked[layer] set.  With grad_input (the shape of input, overwritten) it then writes
 * ∂L/∂input.  Keeps only ReLU bits, pooling winners and the hooks' gradients for the
 * backward; the results equal ns_network_forward/backward's.  cache as theirs. */
void  ns_network_pass (const NsNetwork *net, NsConvCache *cache, NsTensor *input, int last,
                       const gboolean *hooked, NsLayerHook hook, gpointer data,
                       NsTensor *grad_input);
/* Peak bytes ns_network_pass allocates for an h × w input (not counting input and
 * grad_input), with a hook that holds `hook_copies` copies of the hooked layer's output
 * while it runs (the scaled features and their gradient when channel gains are on). */
gsize ns_network_pass_peak_bytes (const NsNetwork *net, int last, const gboolean *hooked,
                                  int h, int w, gboolean backward, int hook_copies);

/* ---- regions.c: regions with their own style (ns_stylizer_set_regions) --------------------- */

/* The caller's regions: copies of the masks. */
typedef struct
{
  int           n_styles;
  NsImage     **content_masks;   /* n_styles entries; NULL = everywhere */
  NsImage     **style_masks;     /* n_styles entries; NULL = the whole style */
  NsRegionRest  rest;
  NsRegionCarry *carries;        /* n_styles + 1: each style's region's, then the rest's */
  double        coverage;        /* ns_regions_coverage */
} NsRegions;

/* NULL without an error when every mask is NULL (no regions); NULL with an error for an
 * unusable mask. */
NsRegions *ns_regions_new   (const NsImage * const *content_masks,
                             const NsImage * const *style_masks, int n_styles,
                             NsRegionRest rest, GError **error);
NsRegions *ns_regions_copy  (const NsRegions *regions);
void       ns_regions_free  (NsRegions *regions);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsRegions, ns_regions_free)
/* The carry of region r of an objective (r = n_styles: the rest's). */
NsRegionCarry ns_regions_carry (const NsRegions *regions, int r);
/* FALSE with an error saying what to do when the masks do not fit these images. */
gboolean   ns_regions_check (const NsRegions *regions, const NsImage *content,
                             const NsImage * const *styles, int n_styles, GError **error);
/* A mask (of any size of its image's shape; NULL = ones) at w × h, in [0,1]: g_free'd
 * floats, h·w. */
float     *ns_region_mask_at   (const NsImage *mask, int w, int h);
/* The masks of the regions at w × h (g_free'd floats, h·w each, ns_region_mask_at): one per
 * style, then the rest's when it applies; *n gets their count.  Everywhere-masks are ones. */
float    **ns_regions_masks_at (const NsRegions *regions, int w, int h, int *n);
/* The most regions an objective makes of them (the rest's may be left out); 0 for NULL. */
int        ns_regions_count    (const NsRegions *regions);
/* Σ over the regions of the share of the image its mask covers: the guided style terms'
 * cost in plain ones (each skips the pixels outside its mask); 1 for NULL. */
double     ns_regions_coverage (const NsRegions *regions);
/* Bytes the regions add to a run whose objectives are at most w × h: the caller's masks, and
 * the masks at an objective's size and at its style layers. */
guint64    ns_regions_bytes (const NsRegions *regions, int w, int h);

/* ---- mask-carry.c: a mask carried down the network --------------------------------------- */

/* A mask at each hooked layer's feature-map size (h/s × w/s), scaled to mean square 1 there
 * (a region that vanishes at a layer is marked empty). */
typedef struct
{
  int       n_layers;
  float   **at;        /* per layer; NULL where not hooked */
  int      *w, *h;
  gboolean *empty;
} NsLayerMasks;

NsLayerMasks *ns_layer_masks_new  (const NsNetwork *net, const float *mask, int w, int h,
                                   int last, const gboolean *hooked, NsRegionCarry carry);
void          ns_layer_masks_free (NsLayerMasks *masks);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsLayerMasks, ns_layer_masks_free)

/* The pixels of a w × h part of a feature map where a mask is not 0, so that a guided term
 * works on those alone (a region's Gram costs its share of the image, not all of it). */
typedef struct
{
  gsize  n;      /* how many */
  gsize *at;     /* their offsets from the part's first pixel in a channel of the features */
  float *t;      /* the mask there */
} NsMaskedPixels;

/* mask: its value at the part's first pixel, rows mask_stride apart; the features' rows
 * are stride apart.  Clear with ns_masked_pixels_clear. */
void ns_masked_pixels_init    (NsMaskedPixels *px, const float *mask, gsize mask_stride,
                               int w, int h, gsize stride);
void ns_masked_pixels_clear   (NsMaskedPixels *px);
/* dst (c × n) = F ∘ T^power at those pixels (times scale[k] in channel k, if not NULL); f
 * points at the part's first pixel of channel 0, channels `plane` floats apart. */
void ns_masked_gather         (const NsMaskedPixels *px, const float *f, gsize plane, int c,
                               int power, const float *scale, float *dst);
/* The reverse: f += src (c × n) ∘ T^power (times scale[k]) at those pixels. */
void ns_masked_scatter_add    (const NsMaskedPixels *px, const float *src, int c, int power,
                               const float *scale, float *f, gsize plane);

/* ---- loss-style-guided.c: the style loss of a region ------------------------------------- */

/* gram (c×c) = (F∘T)(F∘T)ᵀ / (c·h·w); mask (h×w) NULL = plain ns_gram. */
void   ns_gram_guided        (const NsTensor *f, const float *mask, float *gram);
/* The style loss of the features F∘T (ns_style_loss, or with the channel gains `scale`
 * ns_scaled_loss's), its gradient with respect to F added to grad. */
double ns_style_guided_loss  (const NsTensor *f, const float *mask, const float *scale,
                              const float *target_gram, double weight, NsTensor *grad);

/* ---- objective.c: the total loss of an image, as the optimisers see it ----------------------- */

/* Holds the targets (content features, blended style Grams) of one run at one size.  The
 * variable x is the planar image (3×h×w, or 1×h×w in luminance mode) in [0,1] units. */
typedef struct _NsObjective NsObjective;

NsObjective *ns_objective_new  (const NsNetwork *net, const NsOptions *options,
                                const NsImage *content, const NsImage * const *styles,
                                const double *blend, int n_styles, GError **error);
void         ns_objective_free (NsObjective *obj);
gsize        ns_objective_len  (const NsObjective *obj);             /* floats in x */
/* The starting point chosen by the options (content or seeded noise); caller frees. */
float       *ns_objective_initial (const NsObjective *obj);
/* Total loss at x; grad (may be NULL) gets ∂L/∂x.  parts (may be NULL) receives the
 * weighted content, style and tv terms. */
double       ns_objective_eval (NsObjective *obj, const float *x, float *grad, double parts[3]);

/* How an objective evaluates (memory.c chooses). */
typedef struct
{
  int      tile;            /* > 0: tiles of this many pixels (a multiple of the network's
                             * pooling stride, NS_TILE_GRID for runs); 0: the whole image */
  int      halo;            /* 0: ns_network_halo () */
  gboolean cache_content;   /* tiled: keep the content targets (else recomputed per tile) */
  gboolean borrow_content;  /* tiled: read the content image in place; it must outlive
                             * the objective */
  const gint *cancel;       /* when it becomes non-zero (atomically), evaluations return
                             * NaN: at once whole, between tiles tiled; may be NULL */
  gboolean    general;      /* untiled: through the network pass even where the losses all
                             * read the first ReLU (for tests and comparisons) */
  const NsRegions *regions; /* styles guided by masks (regions.c), or NULL; borrowed */
  gboolean    transform_per_call;   /* Winograd's transformed weights are not kept (the
                                     * plan's fallback when the budget is tight, memory.c);
                                     * the same results either way */
  guint64     buffer_slack; /* bytes the evaluations' buffer cache may keep beyond their
                             * own peak (memory.c plans it; tensor.c) */
} NsObjectiveConfig;

/* TRUE when an objective whose deepest loss layer is `last` is evaluated untiled by
 * objective-shallow.c: every loss reads the ReLU of one convolution of the image. */
gboolean ns_objective_shallow_applies (const NsNetwork *net, int last);
/* Peak bytes of such an evaluation of a w × h image with x of `planes` planes and n_regions
 * regions (0: none), besides x, its gradient, the content, the targets and the masks. */
guint64  ns_shallow_eval_bytes        (const NsNetwork *net, int w, int h, int planes,
                                       int n_regions);
/* Its work per pixel, as a share of a pass through the whole network (cost.c); its Gram
 * and style gradient times style_coverage (ns_regions_coverage: 1 without regions). */
double   ns_shallow_cost_share        (const NsNetwork *net, double style_coverage);

NsObjective *ns_objective_new_full (const NsNetwork *net, const NsOptions *options,
                                    const NsImage *content, const NsImage * const *styles,
                                    const double *blend, int n_styles,
                                    const NsObjectiveConfig *config, GError **error);

/* Per style term k of an untiled objective made with NsObjectiveConfig.general: its layer,
 * its region (−1: plain) and the relative distance ‖G − A‖² / ‖A‖² of img's (RGB, the
 * objective's size) Gram, guided by the region's mask, to the term's target (NaN where the
 * region is empty at the layer).  Returns the number of terms.  A diagnostic
 * (tools/eval-regions.c --breakdown). */
int          ns_objective_term_distances (NsObjective *obj, const NsImage *img, int *layer,
                                          int *region, double *dist);

/* Receives the gradient of rows [y0, y1): row y of plane c at band + c·plane + (y − y0)·w.
 * The rows come in order; once handed out, no later part of the evaluation reads x there,
 * so the callee may change x in those rows. */
typedef void (*NsRowsFunc) (int y0, int y1, const float *band, gsize plane, gpointer data);

/* ns_objective_eval with the gradient delivered by rows (in tiled mode without ever
 * holding all of it). */
double       ns_objective_eval_rows (NsObjective *obj, const float *x, NsRowsFunc rows,
                                     gpointer data, double parts[3]);
/* Adds a temporal term weight · mean over x's values of r · (x − ω)² (loss-temporal.c):
 * `warped` (ω, RGB or grey) and `reliability` (r, one channel) have the objective's size.
 * Any number of terms (long-term consistency); the total loss includes them, parts not. */
gboolean     ns_objective_add_temporal (NsObjective *obj, const NsImage *warped,
                                        const NsImage *reliability, double weight,
                                        GError **error);
/* x = c·ω + (1 − c)·x with the first temporal term's ω and c: a frame's start, the previous
 * result warped where the warp is reliable, x (its own start) elsewhere. */
void         ns_objective_start_temporal (const NsObjective *obj, float *x);
/* The image for x: clamped to [0,1], with the content's colours in luminance mode. */
NsImage     *ns_objective_image (const NsObjective *obj, const float *x);
/* The same, taking x (a g_malloc'd ns_objective_len () floats): made in place when the
 * result has x's size, so that no second image-sized buffer is needed. */
NsImage     *ns_objective_take_image (const NsObjective *obj, float *x);
void         ns_objective_size (const NsObjective *obj, int *width, int *height);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsObjective, ns_objective_free)

/* ---- stylize.c: a frame of a sequence (sequence.c) -------------------------------------------- */

/* ---- later-frames.c: the frames of a sequence after the first -------------------------------- */

/* A later frame runs `share` of each optimised size's iterations, and with coarse_sizes
 * FALSE only the last optimised size (then the refinement, if planned). */
typedef struct
{
  double   share;
  gboolean coarse_sizes;
} NsLaterFrames;

/* What holds a frame to the results before it, all at the frame's full size: per term the
 * earlier result warped onto this frame and its reliability (one channel), each with the
 * same weight.  The run resizes them to each of its sizes; its first size starts from the
 * first term (ns_objective_start_temporal). */
typedef struct
{
  int                    n;
  const NsImage * const *warped;
  const NsImage * const *reliability;
  double                 weight;
  guint64                held_bytes;   /* what the caller holds besides the run, and the
                                        * terms' copies the plan does not see: taken off
                                        * the budget */
  const NsLaterFrames   *later;        /* a later frame's iterations and sizes, or NULL:
                                        * the run as planned */
} NsFrameTerms;

/* ns_stylizer_run with temporal terms (terms may be NULL: a plain run). */
NsImage *ns_stylizer_run_frame (NsStylizer *stylizer, const NsImage *content,
                                const NsImage * const *styles, const double *blend,
                                int n_styles, const NsFrameTerms *terms, GError **error);

/* ---- image.c: one axis of ns_image_resize ---------------------------------------------------- */

/* Resampling `in` pixels to `out` along one axis: output index o reads
 * src[first[o] … first[o] + count[o]) with weights weight[offset[o] …], which sum to 1. */
typedef struct
{
  int   *first, *count, *offset;
  float *weight;
} NsAxis;

/* Area averaging when shrinking, linear interpolation otherwise. */
void ns_axis_init  (NsAxis *axis, int in, int out);
/* The same, but the cubic B-spline when enlarging (image.c says why): interpolating on data
 * made ready by ns_spline_prefilter. */
void ns_axis_init_smooth (NsAxis *axis, int in, int out);
/* An interleaved w × h image of `ch` channels, in place, made into the coefficients of the
 * cubic spline through its pixels (mirrored at the edges), along its rows (across) and its
 * columns (down): the axes that are enlarged. */
void ns_spline_prefilter (float *data, int w, int h, int ch, gboolean across, gboolean down);
void ns_axis_clear (NsAxis *axis);
/* Outputs o0 … o1 − 1 of one row of interleaved pixels (`ch` channels): dst gets output o's
 * pixel at (o − o0)·ch. */
void ns_axis_resample_across (const NsAxis *axis, const float *src, int ch, int o0, int o1,
                              float *dst);
/* Output rows o0 … o1 − 1 down rows of `row` floats: src holds the source rows from src_y0 on,
 * dst gets output row o at (o − o0)·row. */
void ns_axis_resample_down   (const NsAxis *axis, const float *src, int src_y0, gsize row,
                              int o0, int o1, float *dst);

/* ---- multires.c: the sizes of a coarse-to-fine run ------------------------------------------- */

/* Longest side of the first size of an automatic coarse-to-fine run. */
#define NS_SCALE_START 256

typedef struct
{
  int width, height;
  int iterations;
} NsScale;

/* The sizes (coarse to fine, the last one width × height) and iterations of a run; sizes
 * whose shorter side would be below min_side are left out.  g_free the result. */
NsScale *ns_scales_plan (const NsOptions *opt, int width, int height, int min_side,
                         int *n_scales);
/* planes × h × w planar floats resized to w2 × h2, exactly as ns_image_resize does, without
 * its intermediate images; g_free. */
float   *ns_planes_resize (const float *x, int planes, int w, int h, int w2, int h2);

/* Style scale: a style image is resized so that its longer side is style_scale × the
 * content's, but never enlarged beyond the larger of its own size and its size beside a
 * NS_STYLE_ENLARGE_LIMIT-px content: at large sizes an enlarged painting only has blurred
 * strokes to give, so its statistics come from its own pixels there. */
#define NS_STYLE_ENLARGE_LIMIT 512
int      ns_style_longest (const NsImage *style, int content_w, int content_h, double style_scale);

/* Any rectangle of ns_image_resize (src, width, height), computed alone with the same
 * arithmetic (equal to the last bit), so that a large resized image need never be held:
 * tiles are read straight from the small original.  src must outlive it. */
typedef struct _NsResampler NsResampler;

NsResampler *ns_resampler_new  (const NsImage *src, int width, int height);
void         ns_resampler_free (NsResampler *resampler);
/* dst: the rect's pixels, rows top to bottom, interleaved with src's channels. */
void         ns_resampler_rect (const NsResampler *resampler, const NsRect *rect, float *dst);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsResampler, ns_resampler_free)
/* planes × n planar floats rearranged in place into n × planes interleaved ones. */
void     ns_planes_interleave (float *x, int planes, gsize n);

/* ---- memory.c: memory estimates, and the plan that fits a budget ----------------------------- */

typedef struct
{
  int         width, height, iterations;
  int         tile;               /* 0: the whole image at once */
  gboolean    cache_content;      /* tiled: content targets kept */
  gboolean    streaming;          /* tiled: gradient by rows into an in-place update */
  NsOptimizer optimizer;          /* when not streaming */
  int         lbfgs_history;
  gboolean    refine;             /* NS_UPSCALE_REFINE's stage at full size */
  gboolean    keep_transforms;    /* the objective keeps Winograd's transformed weights
                                   * (conv-cache.c); else they are made per call */
  guint64     buffer_slack;       /* NsObjectiveConfig's: half of it counted in peak_bytes
                                   * (what the cache was seen to hold), all of it within
                                   * the budget */
  guint64     peak_bytes;         /* estimated peak of the process during this size */
  double      work_setup;         /* pixel evaluations of the set-up (cost.c) */
  double      work_eval;          /* … of one evaluation */
} NsScalePlan;

typedef struct
{
  int          n_scales;
  NsScalePlan *scales;
  guint64      budget;
  gboolean     automatic;         /* the budget came from the memory available */
  guint64      peak_bytes;        /* the largest of the sizes' */
  NsOptimizer  optimizer;         /* what the options asked for */
  int          lbfgs_history;
  double       work;              /* pixel evaluations in all (cost.c) */
  double       seconds;           /* expected time; < 0 when not measured */
  int          width, height;     /* of the result */
  int          n_optimized;       /* scales[0 … n_optimized − 1]: the optimisation's sizes;
                                   * when smaller than the result, it is enlarged by
                                   * `upscale` and scales[n_optimized …] refine it */
  NsUpscale    upscale;
  guint64      enlarge_bytes;     /* peak while enlarging */
} NsRunPlan;

/* TRUE when opt->optimize_size makes the run optimise below width×height, with that size. */
gboolean   ns_run_optimizes_smaller (const NsOptions *opt, int width, int height, int *w, int *h);
/* The options of NS_UPSCALE_REFINE's stage (enlarge.c): the style layers with at most one
 * pooling below them, the deepest of them as the content layer, the image at the start. */
NsOptions *ns_refine_options (const NsNetwork *net, const NsOptions *opt, GError **error);
/* α of the refinement relative to the run's: its content is the enlarged result. */
#define NS_REFINE_CONTENT_GAIN 1.0
/* L-BFGS's first trial step in the refinement moves no pixel by more than this. */
#define NS_REFINE_FIRST_STEP 0.05
/* `result` (made from content_small) at content's size, by `method` (refining is the
 * caller's); a new RGB or grey image as result is. */
NsImage   *ns_enlarge (const NsImage *result, const NsImage *content_small,
                       const NsImage *content, NsUpscale method, int threads, GError **error);

/* Plans a run of `opt` on content and styles (their sizes) with regions (may be NULL),
 * within opt->max_memory (or the default budget).  NS_ERROR_MEMORY if even the leanest
 * arrangement does not fit. */
NsRunPlan *ns_run_plan_new      (const NsNetwork *net, const NsOptions *opt,
                                 const NsImage *content, const NsImage * const *styles,
                                 int n_styles, const NsRegions *regions, GError **error);
void       ns_run_plan_free     (NsRunPlan *plan);
/* One line for the user: sizes, how the largest runs, the estimate and the budget. */
char      *ns_run_plan_describe (const NsRunPlan *plan);
/* Bytes of MemAvailable (/proc/meminfo). */
guint64    ns_memory_available      (void);
/* Bytes of a network's weights (and their transposed copies). */
guint64    ns_network_weight_bytes  (const NsNetwork *net);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsRunPlan, ns_run_plan_free)

/* later-frames.c: share × iterations, rounded, at least 1 (0 stays 0) and at most
 * iterations. */
int ns_later_iterations    (int iterations, double share);
/* Makes plan a later frame's (NsLaterFrames): the skipped sizes' iterations 0, the others'
 * scaled, its work (and seconds, if timed) recomputed.  Returns the first size it runs. */
int ns_run_plan_make_later (NsRunPlan *plan, const NsLaterFrames *later);
/* A later frame's work over plan's (plan unchanged); 0 when plan has no work. */
double ns_run_plan_later_share (const NsRunPlan *plan, const NsLaterFrames *later);

/* ---- cost.c: how long a run takes, in pixel evaluations and seconds -------------------------- */

/* A forward pass against a forward and backward pass of the same layers: measured 0.41–0.47
 * on VGG-19's passes to relu1_2 … relu5_1 at 256–1024 px (CPU time). */
#define NS_FORWARD_SHARE 0.45

/* Sets p->work_setup and p->work_eval from its size, tiles (with the network's halo), the
 * pixels of its style images at this size, an evaluation's share of a whole pass a pixel
 * (ns_objective_cost_share) and its pass's (ns_network_cost_share of its deepest layer):
 * a tiled evaluation's extra forward passes and the set-up's features are passes alone. */
void   ns_scale_plan_set_work            (NsScalePlan *p, int halo, double style_pixels,
                                          double share, double pass_share);
double ns_scale_plan_evals_per_iteration (const NsScalePlan *p);
/* Evaluations a size is expected to take in all. */
double ns_scale_plan_evals               (const NsScalePlan *p);
double ns_scale_plan_work                (const NsScalePlan *p);   /* set-up and iterations */
/* The share of a pass through the whole network that layers 0 … last take (per input pixel:
 * multiply-adds and the convolutions' work on each element, cost.c), so that a pass that
 * stops early is counted as the less work it is. */
double ns_network_cost_share             (const NsNetwork *net, int last);
/* The same for an evaluation of the objective: the pass to `last`, the Gram matrices of the
 * style layers (indices), the element-wise work on the loss layers (content: an index, or -1)
 * and on the image. */
double ns_objective_cost_share           (const NsNetwork *net, int last, int content,
                                          const int *style_layers, int n_style);
/* The part of it the style layers take (their Grams, gradients and passes): with regions,
 * the guided terms cost ns_regions_coverage times it. */
double ns_style_cost_share               (const NsNetwork *net, const int *style_layers,
                                          int n_style);
/* Seconds of one pixel evaluation on this machine, measured (about two evaluations at 256 px). */
double ns_network_seconds_per_unit       (const NsNetwork *net);
/* The most memory that measurement takes. */
guint64 ns_network_calibration_bytes     (const NsNetwork *net);

/* ---- stream.c: optimising an image too large for an optimiser's vectors ------------------------ */

typedef struct
{
  int    max_iterations;
  double learning_rate;       /* in image units, as Adam's */
  double beta2, epsilon;      /* of the running mean square of the gradient, per channel */
} NsStreamParams;

/* Normalised gradient descent with the gradient streamed by rows (ns_objective_eval_rows):
 * x −= rate · g / √(mean g²), the mean square per channel, smoothed over iterations as
 * Adam's second moment.  x is changed row by row during each evaluation; iter sees f at
 * the point before the step.  No image-sized vector besides x. */
NsOptimStatus ns_stream_minimize (NsObjective *obj, float *x, const NsStreamParams *params,
                                  NsIterationFunc iter, gpointer user_data, double *f_out,
                                  double parts[3]);

/* ---- options.c: read access for the engine ------------------------------------------------- */

typedef struct
{
  char   name[16];
  double weight;
} NsStyleLayer;

struct _NsOptions
{
  double       content_weight, style_weight, tv_weight;
  int          iterations;
  NsOptimizer  optimizer;
  int          lbfgs_history;
  double       learning_rate;
  NsInit       init;
  guint64      seed;
  NsColorMode  color_mode;
  double       style_scale;
  char        *content_layer;          /* NULL = network default */
  NsStyleLayer *style_layers;          /* NULL = network default */
  int          n_style_layers;
  int          preview_every;
  int          threads;
  int          scales;                 /* 0 = automatic, 1 = single size */
  int         *scale_iterations;       /* per size, coarse to fine, or NULL */
  int          n_scale_iterations;
  guint64      max_memory;             /* bytes, 0 = automatic */
  int          optimize_size;          /* longest side optimised at, 0 = the content's */
  NsUpscale    upscale;
  int          refine_iterations;
};

/* Parses "relu1_1,relu2_1:0.5" into layers; FALSE with NS_ERROR_INVALID_ARGUMENT if malformed. */
gboolean ns_style_layers_parse (const char *spec, NsStyleLayer **layers, int *n_layers, GError **error);

/* ---- plan-info.c: the public NsPlan --------------------------------------------------------- */

/* A stylizer's plan of a run, timed (stylize.c: its measurement of the machine) or not. */
NsRunPlan *ns_stylizer_estimate_plan (NsStylizer *stylizer, const NsImage *content,
                                      const NsImage * const *styles, int n_styles,
                                      gboolean timed, GError **error);

G_END_DECLS

#endif /* NS_INTERNAL_H */
