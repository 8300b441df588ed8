/* frames.h — frame sequences with known camera motion made from a photo, and the warping
 * error of Lai et al. (ECCV 2018, "Learning Blind Video Temporal Consistency") that measures
 * how much a sequence flickers (tools/eval-frames.c, docs/animation.md).
 */
#ifndef NS_EVAL_FRAMES_H
#define NS_EVAL_FRAMES_H

#include <neural-style.h>

G_BEGIN_DECLS

/* What a frame shows of a photo: the window centred at (cx, cy) (fractions of the photo's
 * width and height), `zoom` photo widths wide, turned by `angle` degrees (clockwise on the
 * screen, so the content turns the other way); the frame's aspect ratio is kept. */
typedef struct
{
  double cx, cy, zoom, angle;
} EvCamera;

/* A disc cut from another photo moving over the frames: centre (x, y) in fractions of the
 * frame's width and height from the first to the last frame, radius a fraction of the
 * frame's height; the disc shows the photo's centre at the frame's scale. */
typedef struct
{
  double x0, y0, x1, y1, radius;
} EvOverlay;

/* One w × h frame: the photo seen through `camera`, bilinear (edge pixels repeated), with
 * the disc of `overlay_photo` centred at (ox, oy) frame pixels of radius `radius` pixels
 * (anti-aliased edge) when overlay_photo is not NULL. */
NsImage *ev_frame_render (const NsImage *photo, const EvCamera *camera, int w, int h,
                          const NsImage *overlay_photo, double ox, double oy, double radius);

/* n frames (n ≥ 2) with the camera moving linearly from `from` to `to` (the zoom
 * geometrically) and the overlay (may be NULL) linearly along its path. */
NsImage **ev_sequence_render (const NsImage *photo, const EvCamera *from, const EvCamera *to,
                              const NsImage *overlay_photo, const EvOverlay *overlay,
                              int n, int w, int h);
/* The oracle of a sequence made by ev_sequence_render from a photo of photo_w × photo_h
 * with the same cameras and disc path (overlay may be NULL): `first` (its first frame,
 * stylized) moved by the sequence's known motion with the same resampling, so a perfectly
 * consistent sequence.  Content that was not in the first frame shows its edge pixels (or,
 * where the disc uncovers it, the disc). */
NsImage **ev_sequence_oracle (const NsImage *first, int photo_w, int photo_h,
                              const EvCamera *from, const EvCamera *to,
                              const EvOverlay *overlay, int n);
/* A copy with independent Gaussian noise of deviation sigma added to every value (not
 * clipped): flicker that the warping error must see. */
NsImage **ev_sequence_add_noise (NsImage * const *frames, int n, double sigma, guint32 seed);
void      ev_sequence_free   (NsImage **frames, int n);

/* The flows of the INPUT frames that the warping error uses, for frame pairs `gap` apart:
 * for each t ≥ gap, the backward flow from frame t to frame t − gap (DIS, the engine's
 * NS_FLOW_MEDIUM) and the mask of pixels it carries reliably (the engine's forward–backward
 * check, ns_flow_reliability, > 0.5). */
typedef struct _EvFlows EvFlows;

EvFlows  *ev_flows_new      (NsImage * const *input, int n, int gap, GError **error);
void      ev_flows_free     (EvFlows *flows);
/* The mean fraction of the pixels the mask keeps, over the pairs. */
double    ev_flows_coverage (const EvFlows *flows);

/* Lai et al.'s warping error of `frames` (the same n and size as the input of `flows`):
 * the mean over the pairs (t − gap, t) of Σ_p M(p) ‖O_t(p) − ω(p)‖² / Σ_p M(p), ω frame
 * t − gap warped onto frame t by the input's flow, ‖·‖² summed over the RGB values in
 * [0, 1]. */
double    ev_warp_error     (const EvFlows *flows, NsImage * const *frames);

/* Streaks: the share of the finest horizontal detail (the second difference along x, RGB)
 * that is the same down EV_STREAK_ROWS rows, i.e. thin vertical lines, over frames 1 … n − 1
 * (frame 0 is skipped: in the evaluation it is the same for every temporal weight); and in
 * *horizontal the same turned by 90° (the detail along y that the rows' blocks share).
 * 1/EV_STREAK_ROWS for detail without direction, 1 for nothing but lines. */
#define EV_STREAK_ROWS 16

double    ev_streaks        (NsImage * const *frames, int n, double *horizontal);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EvFlows, ev_flows_free)

G_END_DECLS

#endif
