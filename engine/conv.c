/* conv.c — 3×3 convolution, stride 1, padding 1, as im2col + sgemm in row bands.
 *
 * For output rows [y0, y1) the column matrix has one row per (input channel, ky, kx) and
 * one column per output pixel of the band, so out_band (cout × band·w) = weight
 * (cout × cin·9) · col.  Because tensors are CHW, a band of rows is a contiguous run in
 * each output plane: sgemm writes straight into the output with ldc = h·w.  Working in
 * bands bounds the column buffer (9× the input otherwise) and keeps it near the caches.
 *
 * The input gradient of a convolution is the convolution of the output gradient with the
 * weights transposed (in ↔ out) and flipped by 180°, with the same padding, so the
 * backward pass runs the forward code on weight_t — except for inputs with few channels
 * (the RGB image), where col2im of Wᵀ · grad_out makes a far better-shaped sgemm.
 *
 * Layers with enough channels and pixels go to Winograd F(4×4, 3×3) instead (winograd.c),
 * in both directions; im2col stays for the first layer and for small images.  A cache
 * (conv-cache.c), when the caller passes one, keeps Winograd's transformed weights between
 * calls.
 *
 * Padding (NsConv.padding) is zeros, or the edge pixel replicated or reflected.  For the
 * latter the input gradient is no longer a convolution with the same padding: the padded
 * taps' gradients fold back onto the edge pixels they copied.  col2im does that in place;
 * the other paths compute the gradient of the zero-padded (h + 2) × (w + 2) input (the
 * output gradient with a ring of zeros, through the zero-padding code) and fold its ring. */

#include <string.h>

#include "ns-internal.h"

/* Column buffer budget.  Measured with two OpenBLAS threads on VGG-19 shapes (256→256 at
 * 64², 64→64 at 256² and 512², 512→512 at 32²): 8 MiB was as fast as or faster than
 * 0.5–4 MiB and than whole-image im2col.  (Since then the band's product is cut into blocks
 * on the engine's threads, gemm.c; the budget was kept.) */
#define NS_CONV_COL_BUDGET_BYTES (8u << 20)

/* Input channel counts up to this take the col2im path for the input gradient: measured
 * for 64 output channels at 256², col2im ran 3–10× faster for 1–16 input channels, 1.4×
 * for 32 and the same for 64. */
#define NS_CONV_COL2IM_MAX_CIN 16

/* Winograd F(4×4, 3×3) (winograd.c) does 4× fewer multiplications but pays a transform
 * of the weights per call and of the data per pixel.  Measured on VGG-19 layers with
 * OpenBLAS 0.3.29 (SkylakeX, 1 and 2 threads) it ran 1.5–2.5× faster than im2col from 16
 * channels on both sides and 24×24 pixels up; below that the weight transform does not
 * pay for itself.
 *
 * Everything stays in float: bf16 GEMM is not an option.  Debian's OpenBLAS 0.3.29 declares
 * cblas_sbgemm but is built without it (no such symbol in libopenblas), and operands rounded
 * to bf16 put 2.2e-3 relative error into every VGG-19-shaped product (float: 2e-7), 20×
 * the 1e-4 the PyTorch reference check allows for the whole network. */
#define NS_WINOGRAD_MIN_CHANNELS 16
#define NS_WINOGRAD_MIN_PIXELS   (24 * 24)

gboolean
ns_conv_uses_winograd (const NsConv *conv, gboolean adjoint, int h, int w)
{
  if (adjoint && conv->cin <= NS_CONV_COL2IM_MAX_CIN)
    return FALSE;
  return conv->cin >= NS_WINOGRAD_MIN_CHANNELS && conv->cout >= NS_WINOGRAD_MIN_CHANNELS
         && (gsize) h * w >= NS_WINOGRAD_MIN_PIXELS;
}

/* Winograd for this convolution, with its transformed weights from the cache when there is
 * one (conv-cache.c). */
static void
winograd (const NsConv *conv, NsConvCache *cache, gboolean adjoint, const NsTensor *in,
          NsTensor *out, int max_band_rows)
{
  const float *u = cache != NULL ? ns_conv_cache_get (cache, conv, adjoint) : NULL;

  ns_winograd_conv3x3 (conv->weight, adjoint ? NULL : conv->bias, conv->cin, conv->cout,
                       adjoint, u, conv->padding, in, out, max_band_rows);
}

void
ns_conv_prepare (NsConv *conv)
{
  gsize taps = (gsize) conv->cin * conv->cout * 9;

  g_return_if_fail (conv->weight != NULL);

  if (conv->weight_t == NULL)
    conv->weight_t = ns_floats_new (taps);

  for (int co = 0; co < conv->cout; co++)
    for (int ci = 0; ci < conv->cin; ci++)
      {
        const float *src = conv->weight + ((gsize) co * conv->cin + ci) * 9;
        float *dst = conv->weight_t + ((gsize) ci * conv->cout + co) * 9;

        for (int k = 0; k < 9; k++)
          dst[8 - k] = src[k];
      }
}

void
ns_conv_clear (NsConv *conv)
{
  g_clear_pointer (&conv->weight, ns_floats_free);
  g_clear_pointer (&conv->bias, ns_floats_free);
  g_clear_pointer (&conv->weight_t, ns_floats_free);
}

/* im2col_taps for replicate or reflect padding: row by row, each from the input row it
 * reads (ns_pad_index), with the first or last column read from the padded one. */
static void
im2col_taps_padded (const float *plane, int h, int w, int y0, int y1, int ky,
                    NsPadding padding, float *dst3)
{
  gsize n = (gsize) (y1 - y0) * w;
  int xl = ns_pad_index (-1, w, padding), xr = ns_pad_index (w, w, padding);

  for (int y = y0; y < y1; y++)
    {
      const float *src = plane + (gsize) ns_pad_index (y + ky - 1, h, padding) * w;
      float *dst = dst3 + (gsize) (y - y0) * w;

      dst[0] = src[xl];
      memcpy (dst + 1, src, (w - 1) * sizeof (float));
      memcpy (dst + n, src, w * sizeof (float));
      memcpy (dst + 2 * n, src + 1, (w - 1) * sizeof (float));
      dst[2 * n + w - 1] = src[xr];
    }
}

/* Writes the three column-matrix rows (kx = 0, 1, 2) of one input plane and one ky for
 * output rows [y0, y1).  Each row is one shifted memcpy of the valid input rows; the
 * padding (rows above/below the image, the first or last column) is zeroed. */
static void
im2col_taps (const float *plane, int h, int w, int y0, int y1, int ky, NsPadding padding,
             float *dst3)
{
  gsize n = (gsize) (y1 - y0) * w;
  int ya = MAX (y0, 1 - ky);                /* output rows whose input row exists */
  int yb = MIN (y1, h + 1 - ky);
  gsize head, len, rows;
  const float *src;

  if (padding != NS_PADDING_ZERO)
    {
      im2col_taps_padded (plane, h, w, y0, y1, ky, padding, dst3);
      return;
    }
  if (yb <= ya)
    {
      memset (dst3, 0, 3 * n * sizeof (float));
      return;
    }

  head = (gsize) (ya - y0) * w;
  rows = (gsize) (yb - ya);
  len = rows * w;
  src = plane + (gsize) (ya + ky - 1) * w;

  for (int kx = 0; kx < 3; kx++)
    {
      float *dst = dst3 + kx * n;

      memset (dst, 0, head * sizeof (float));
      memset (dst + head + len, 0, (n - head - len) * sizeof (float));
      dst += head;

      switch (kx)
        {
        case 0:       /* input column x − 1: shift right, first column is padding */
          memcpy (dst + 1, src, (len - 1) * sizeof (float));
          for (gsize r = 0; r < rows; r++)
            dst[r * w] = 0.0f;
          break;
        case 1:
          memcpy (dst, src, len * sizeof (float));
          break;
        default:      /* input column x + 1: shift left, last column is padding */
          memcpy (dst, src + 1, (len - 1) * sizeof (float));
          for (gsize r = 0; r < rows; r++)
            dst[r * w + w - 1] = 0.0f;
          break;
        }
    }
}

/* One band of output rows [y0, y1) of an h × w image, for the loops over channels:
 * im2col reads the image and writes the column matrix, col2im the other way round. */
typedef struct
{
  const float *src;
  float       *dst;
  int          h, w, y0, y1;
  NsPadding    padding;
} Band;

static void
im2col_channel (int ci, int worker, gpointer data)
{
  const Band *b = data;
  gsize n = (gsize) (b->y1 - b->y0) * b->w;
  gsize hw = (gsize) b->h * b->w;

  for (int ky = 0; ky < 3; ky++)
    im2col_taps (b->src + ci * hw, b->h, b->w, b->y0, b->y1, ky, b->padding,
                 b->dst + ((gsize) ci * 3 + ky) * 3 * n);
}

/* The column matrix of output rows [y0, y1): one item per input channel. */
static void
im2col_band (const float *in, int cin, int h, int w, int y0, int y1, NsPadding padding,
             float *col)
{
  Band b = { in, col, h, w, y0, y1, padding };
  double work = (double) cin * 9 * (y1 - y0) * w;

  ns_parallel_for (cin, ns_parallel_workers (cin, work), im2col_channel, &b);
}

int
ns_band_rows (gsize budget_bytes, gsize row_bytes, int n_rows, int max_rows)
{
  gsize rows = MAX (budget_bytes / row_bytes, 1);
  gsize n_bands;

  if (max_rows > 0)
    rows = MIN (rows, (gsize) max_rows);
  rows = MIN (rows, (gsize) n_rows);
  n_bands = (n_rows + rows - 1) / rows;
  return (int) ((n_rows + n_bands - 1) / n_bands);
}

/* Rows per band of the im2col matrix, within NS_CONV_COL_BUDGET_BYTES. */
static int
band_rows (int cin, int h, int w, int max_band_rows)
{
  return ns_band_rows (NS_CONV_COL_BUDGET_BYTES, (gsize) cin * 9 * w * sizeof (float), h,
                       max_band_rows);
}

/* out = conv (in, weight) (+ bias when not NULL).  weight is [cout][cin][3][3]. */
static void
conv_run (const float *weight, const float *bias, int cin, int cout, NsPadding padding,
          const NsTensor *in, NsTensor *out, int max_band_rows)
{
  int h = in->h, w = in->w;
  gsize hw = (gsize) h * w;
  int k = cin * 9;
  int rows;
  float *col;

  if (hw == 0 || cout == 0)
    return;
  if (cin == 0)
    {
      for (int co = 0; co < cout; co++)
        for (gsize i = 0; i < hw; i++)
          out->data[co * hw + i] = bias != NULL ? bias[co] : 0.0f;
      return;
    }

  rows = band_rows (cin, h, w, max_band_rows);
  col = ns_floats_alloc ((gsize) k * rows * w);

  for (int y0 = 0; y0 < h; y0 += rows)
    {
      int y1 = MIN (h, y0 + rows);
      int n = (y1 - y0) * w;
      float *c = out->data + (gsize) y0 * w;
      float beta = 0.0f;

      im2col_band (in->data, cin, h, w, y0, y1, padding, col);

      /* Pre-filling the bias and accumulating (beta = 1) costs one pass over the band;
       * OpenBLAS would spend the same pass zeroing it for beta = 0. */
      if (bias != NULL)
        {
          for (int co = 0; co < cout; co++)
            {
              float *dst = c + co * hw;

              for (int i = 0; i < n; i++)
                dst[i] = bias[co];
            }
          beta = 1.0f;
        }

      ns_sgemm (FALSE, cout, n, k, 1.0f, weight, k, col, n, beta, c, (int) hw);
    }

  ns_floats_free (col);
}

/* Adds one row of the column matrix, shifted by kx − 1, into a grad_in row. */
static void
col2im_row_add (float *dst, const float *src, int w, int kx)
{
  switch (kx)
    {
    case 0:       /* tap kx = 0 reads input column x − 1 */
      for (int x = 0; x < w - 1; x++)
        dst[x] += src[x + 1];
      break;
    case 1:
      for (int x = 0; x < w; x++)
        dst[x] += src[x];
      break;
    default:
      for (int x = 1; x < w; x++)
        dst[x] += src[x - 1];
      break;
    }
}

/* col2im_channel for replicate or reflect padding: every tap lands on the pixel it read,
 * the padded ones on the edge pixel they copied. */
static void
col2im_channel_padded (const Band *b, int ci)
{
  int h = b->h, w = b->w;
  gsize n = (gsize) (b->y1 - b->y0) * w;
  float *plane = b->dst + (gsize) ci * h * w;
  int xl = ns_pad_index (-1, w, b->padding), xr = ns_pad_index (w, w, b->padding);

  for (int ky = 0; ky < 3; ky++)
    for (int y = b->y0; y < b->y1; y++)
      {
        float *dst = plane + (gsize) ns_pad_index (y + ky - 1, h, b->padding) * w;

        for (int kx = 0; kx < 3; kx++)
          {
            const float *src = b->src + (((gsize) ci * 3 + ky) * 3 + kx) * n
                               + (gsize) (y - b->y0) * w;

            col2im_row_add (dst, src, w, kx);
            if (kx == 0)
              dst[xl] += src[0];
            else if (kx == 2)
              dst[xr] += src[w - 1];
          }
      }
}

/* Scatters the column gradient of input channel ci (rows ci·9 … ci·9 + 8 of the cin·9 ×
 * band matrix) for output rows [y0, y1) into its grad_in plane: tap (ky, kx) at output
 * (y, x) read input (y + ky − 1, x + kx − 1). */
static void
col2im_channel (int ci, int worker, gpointer data)
{
  const Band *b = data;
  int h = b->h, w = b->w;
  gsize n = (gsize) (b->y1 - b->y0) * w;
  float *plane = b->dst + (gsize) ci * h * w;

  if (b->padding != NS_PADDING_ZERO)
    {
      col2im_channel_padded (b, ci);
      return;
    }

  for (int ky = 0; ky < 3; ky++)
    {
      int ya = MAX (b->y0, 1 - ky);
      int yb = MIN (b->y1, h + 1 - ky);

      for (int kx = 0; kx < 3; kx++)
        {
          const float *src = b->src + (((gsize) ci * 3 + ky) * 3 + kx) * n;

          for (int y = ya; y < yb; y++)
            col2im_row_add (plane + (gsize) (y + ky - 1) * w, src + (gsize) (y - b->y0) * w, w,
                            kx);
        }
    }
}

/* Input gradient as col2im (Wᵀ · grad_out): better than the transposed convolution when
 * the input has few channels (the image layer), where the latter would be an sgemm with
 * M = cin rows (3 for RGB), which runs at a fraction of the machine's speed.  Here
 * M = cin·9 and grad_out is read in place (a band of rows is contiguous per channel). */
static void
backward_col2im (const NsConv *conv, const NsTensor *grad_out, NsTensor *grad_in,
                 int max_band_rows)
{
  int h = grad_out->h, w = grad_out->w, cin = conv->cin, cout = conv->cout;
  gsize hw = (gsize) h * w;
  int m = cin * 9;
  int rows;
  float *col;

  memset (grad_in->data, 0, ns_tensor_len (grad_in) * sizeof (float));
  if (hw == 0 || cin == 0 || cout == 0)
    return;

  rows = band_rows (cin, h, w, max_band_rows);
  col = ns_floats_alloc ((gsize) m * rows * w);

  for (int y0 = 0; y0 < h; y0 += rows)
    {
      int y1 = MIN (h, y0 + rows);
      int n = (y1 - y0) * w;

      Band b = { col, grad_in->data, h, w, y0, y1, conv->padding };

      ns_sgemm (TRUE, m, n, cout, 1.0f, conv->weight, m, grad_out->data + (gsize) y0 * w,
                (int) hw, 0.0f, col, n);
      ns_parallel_for (cin, ns_parallel_workers (cin, (double) m * n), col2im_channel, &b);
    }

  ns_floats_free (col);
}

void
ns_conv3x3_forward_banded (const NsConv *conv, NsConvCache *cache, const NsTensor *in,
                           NsTensor *out, int max_band_rows)
{
  g_return_if_fail (conv != NULL && in != NULL && out != NULL);
  g_return_if_fail (in->c == conv->cin);
  g_return_if_fail (out->c == conv->cout && out->h == in->h && out->w == in->w);

  if (ns_conv_uses_winograd (conv, FALSE, in->h, in->w))
    winograd (conv, cache, FALSE, in, out, max_band_rows);
  else
    conv_run (conv->weight, conv->bias, conv->cin, conv->cout, conv->padding, in, out,
              max_band_rows);
}

void
ns_conv3x3_forward (const NsConv *conv, NsConvCache *cache, const NsTensor *in, NsTensor *out)
{
  ns_conv3x3_forward_banded (conv, cache, in, out, 0);
}

/* The input gradient under zero padding, by Winograd or the transposed convolution. */
static void
backward_zero (const NsConv *conv, NsConvCache *cache, const NsTensor *grad_out,
               NsTensor *grad_in, int max_band_rows)
{
  if (ns_conv_uses_winograd (conv, TRUE, grad_out->h, grad_out->w))
    {
      winograd (conv, cache, TRUE, grad_out, grad_in, max_band_rows);
      return;
    }
  g_return_if_fail (conv->weight_t != NULL);
  conv_run (conv->weight_t, NULL, conv->cout, conv->cin, NS_PADDING_ZERO, grad_out, grad_in,
            max_band_rows);
}

/* The input gradient under replicate or reflect padding, for the paths that only know zero
 * padding: that of the (h + 2) × (w + 2) zero-padded input, given the output gradient with a
 * ring of zeros (exact: the ring's outputs are zero), then its ring folded onto the pixels
 * it copied. */
static void
backward_folded (const NsConv *conv, NsConvCache *cache, const NsTensor *grad_out,
                 NsTensor *grad_in, int max_band_rows)
{
  int h = grad_out->h, w = grad_out->w, hp = h + 2, wp = w + 2;
  g_autoptr (NsTensor) g = ns_tensor_new (grad_out->c, hp, wp);
  g_autoptr (NsTensor) gi = ns_tensor_new_uninit (grad_in->c, hp, wp);

  for (int c = 0; c < g->c; c++)
    for (int y = 0; y < h; y++)
      memcpy (g->data + ((gsize) c * hp + y + 1) * wp + 1,
              grad_out->data + ((gsize) c * h + y) * w, w * sizeof (float));
  backward_zero (conv, cache, g, gi, max_band_rows);
  for (int c = 0; c < gi->c; c++)
    {
      const float *src = gi->data + (gsize) c * hp * wp;
      float *dst = grad_in->data + (gsize) c * h * w;

      for (int y = 0; y < h; y++)
        memcpy (dst + (gsize) y * w, src + (gsize) (y + 1) * wp + 1, w * sizeof (float));
      for (int py = 0; py < hp; py++)
        for (int px = 0; px < wp; px++)
          {
            if (py > 0 && py < hp - 1 && px == 1)
              px = wp - 1;          /* inside rows: only the two ring columns */
            dst[(gsize) ns_pad_index (py - 1, h, conv->padding) * w
                + ns_pad_index (px - 1, w, conv->padding)] += src[(gsize) py * wp + px];
          }
    }
}

void
ns_conv3x3_backward_input_banded (const NsConv *conv, NsConvCache *cache,
                                  const NsTensor *grad_out, NsTensor *grad_in,
                                  int max_band_rows)
{
  g_return_if_fail (conv != NULL && grad_out != NULL && grad_in != NULL);
  g_return_if_fail (grad_out->c == conv->cout);
  g_return_if_fail (grad_in->c == conv->cin && grad_in->h == grad_out->h
                    && grad_in->w == grad_out->w);

  if (conv->cin <= NS_CONV_COL2IM_MAX_CIN)
    {
      backward_col2im (conv, grad_out, grad_in, max_band_rows);
      return;
    }
  if (conv->padding != NS_PADDING_ZERO)
    {
      backward_folded (conv, cache, grad_out, grad_in, max_band_rows);
      return;
    }
  backward_zero (conv, cache, grad_out, grad_in, max_band_rows);
}

void
ns_conv3x3_backward_input (const NsConv *conv, NsConvCache *cache, const NsTensor *grad_out,
                           NsTensor *grad_in)
{
  ns_conv3x3_backward_input_banded (conv, cache, grad_out, grad_in, 0);
}
