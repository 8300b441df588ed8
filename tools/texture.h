/* texture.h — the quality harness's image measures, independent of every feature network.
 *
 * A classical texture descriptor in the spirit of Portilla & Simoncelli (2000): complex Gabor
 * filters at 4 orientations on 4 octaves of a luminance pyramid, summarised by the energy,
 * sparsity, cross-orientation, cross-scale and spatial correlations of their magnitudes, plus
 * the CIELAB colour distribution.  Nothing here is learned or shared with the engine's
 * networks: the filters, the statistics and the distance are fixed.  Also: SSIM of blurred
 * luminance (content preservation) and per-channel histogram specification in CIELAB (the
 * colour-only baseline).
 */
#ifndef NS_EVAL_TEXTURE_H
#define NS_EVAL_TEXTURE_H

#include <neural-style.h>

G_BEGIN_DECLS

#define EV_SCALES     4
#define EV_ORIENTS    4
#define EV_QUANTILES  32

typedef struct
{
  double energy[EV_SCALES][EV_ORIENTS];       /* log RMS magnitude                           */
  double sparsity[EV_SCALES][EV_ORIENTS];     /* mean |z| / RMS |z|, in (0, 1]              */
  double orient[EV_SCALES][EV_ORIENTS * (EV_ORIENTS - 1) / 2];  /* corr(|z_o|, |z_o'|)   */
  double scale[EV_SCALES - 1][EV_ORIENTS][EV_ORIENTS];  /* corr(|z_s,o| pooled, |z_s+1,o'|) */
  double spatial[EV_SCALES][EV_ORIENTS][2];   /* corr(|z|(x), |z|(x + step)) across, along   */
  double quantile[3][EV_QUANTILES];           /* L*, a*, b* quantiles                        */
  double lab_corr[3];                         /* corr(L,a), corr(L,b), corr(a,b)             */
} EvStats;

typedef enum
{
  EV_GROUP_ENERGY,
  EV_GROUP_SPARSITY,
  EV_GROUP_ORIENT,
  EV_GROUP_SCALE,
  EV_GROUP_SPATIAL,
  EV_GROUP_COLOUR,
  EV_GROUP_COLOUR_CORR,
  EV_N_GROUPS
} EvGroup;

extern const char * const ev_group_names[EV_N_GROUPS];

/* Statistics of an RGB (or grey) image, values in [0,1] sRGB. */
void     ev_stats_compute (const NsImage *image, EvStats *stats);
/* The same of the part of the image a grey mask of its size weighs (texture.c). */
void     ev_stats_compute_masked (const NsImage *image, const NsImage *mask, EvStats *stats);

/* Raw distance of each group (RMS difference of its statistics; for the colour quantiles
 * the mean absolute difference in CIELAB units, i.e. the Wasserstein-1 distance). */
void     ev_group_distances (const EvStats *a, const EvStats *b, double d[EV_N_GROUPS]);

/* The texture-statistics distance: sqrt (mean over groups of (d_g / scale_g)²), with each
 * scale_g the RMS of d_g over all pairs of distinct sample images (ev_group_scale).  So 0
 * means identical statistics and about 1 the typical difference of two unrelated images.
 * `groups` (may be NULL) receives the normalised d_g / scale_g. */
double   ev_distance (const EvStats *a, const EvStats *b, double groups[EV_N_GROUPS]);
extern const double ev_group_scale[EV_N_GROUPS];

/* Mean SSIM (Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03) of the Rec. 601 luma of two
 * images of the same size, each first blurred with a Gaussian of σ = longest side / 256
 * pixels, so that brush-stroke texture does not count and the layout does. */
double   ev_ssim_blurred (const NsImage *a, const NsImage *b);
/* The same, its map averaged with the weights of a grey mask (a region's SSIM). */
double   ev_ssim_blurred_masked (const NsImage *a, const NsImage *b, const NsImage *mask);

/* The same SSIM without the blur: how alike two images are at the pixel scale. */
double   ev_ssim         (const NsImage *a, const NsImage *b);

/* High-frequency energy: (Y − G_σ * Y)² per pixel of the Rec. 601 luma Y (borders reflected),
 * a new array of width × height; *mean (may be NULL) receives its mean.  The ratio of a
 * result's mean to its content's says how much fine detail it has kept or made: a blurred
 * enlargement scores low. */
float   *ev_highpass_energy (const NsImage *image, double sigma, double *mean);

/* A grey image blurred with a Gaussian of σ pixels (borders reflected). */
NsImage *ev_blur_grey (const NsImage *grey, double sigma);

/* `content` with each CIELAB channel's histogram specified to `style`'s (exact quantile
 * mapping), back in sRGB, clipped to [0,1]. */
NsImage *ev_match_histogram_lab (const NsImage *content, const NsImage *style);

/* sRGB [0,1] ↔ CIELAB (D65), one pixel. */
void     ev_rgb_to_lab (const float rgb[3], double lab[3]);
void     ev_lab_to_rgb (const double lab[3], float rgb[3]);

G_END_DECLS

#endif
