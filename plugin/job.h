/* job.h — one engine run in a worker thread, reporting to a GMainContext.
 *
 * libgimp talks to GIMP over a pipe that only the main thread may use, so the pixels are
 * copied on the main thread first, the engine runs in a GThread, and progress, previews
 * and the result come back as idle callbacks in the context given to ns_job_start (the
 * default context for the dialog, a private one for the final run). */
#ifndef NS_PLUGIN_JOB_H
#define NS_PLUGIN_JOB_H

#include <glib.h>

#include "neural-style.h"

G_BEGIN_DECLS

/* ---- networks, loaded once per process and shared between runs -------------------------- */

typedef struct _NsNetworkCache NsNetworkCache;

NsNetworkCache *ns_network_cache_new   (void);
void            ns_network_cache_free  (NsNetworkCache *cache);
/* Thread-safe.  Returns a new reference to the `kind` network padded with `padding` (on
 * the convolutions its kind pads by default, every one when that is zeros), or NULL with
 * the engine's error (a load stops with NS_ERROR_CANCELLED once *cancel is set; `cancel`
 * may be NULL).  The cache keeps one padding per kind: asking for another loads anew. */
NsNetwork      *ns_network_cache_get   (NsNetworkCache *cache,
                                        NsNetworkKind   kind,
                                        NsPadding       padding,
                                        const gint     *cancel,
                                        GError        **error);
/* Hands a network that is already loaded (as `kind`) to the cache. */
void            ns_network_cache_add   (NsNetworkCache *cache,
                                        NsNetworkKind   kind,
                                        NsNetwork      *network);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsNetworkCache, ns_network_cache_free)

/* For the dialog: which network `network` is, in a translated sentence (the engine's own
 * description is English and written for the command line). */
char           *ns_network_sentence    (const NsNetwork *network);

/* ---- sizes ---------------------------------------------------------------------------------- */

/* The size the engine is given for a content of width × height, in *w × *h, with `options`
 * set to match: a region thinner than the network needs is enlarged to run_side (and the
 * result is to be shrunk back); a larger one is given whole, with run_side as the
 * optimisation size, so that the engine enlarges its result guided by the full-size content
 * (and refines it) rather than the plug-in scaling it up blurred.  run_side as
 * ns_plugin_run_side gives it (0 = the content's own size). */
void      ns_engine_size (NsOptions *options,
                          int        run_side,
                          int        width,
                          int        height,
                          int       *w,
                          int       *h);

/* ---- the styles of a run -------------------------------------------------------------------- */

/* One or more styles, blended by weight, each everywhere or in a region of the content
 * (ns_stylizer_set_regions). */
typedef struct
{
  int            n;        /* at least 1 */
  NsImage      **images;   /* n style images, owned */
  double        *blend;    /* n blend weights (> 0; ns_stylizer_run normalises them) */
  NsImage      **masks;    /* n masks over the content as given to ns_job_new, of its shape
                            * (any size), owned (NULL entry = everywhere); the engine makes
                            * them the size it runs at */
  NsRegionCarry *carries;  /* n: how each mask is carried down the network
                            * (ns_stylizer_set_region_carry; ns_styles_new: feathered) */
  NsRegionRest   rest;     /* what the pixels no mask covers get */
} NsStyles;

/* n styles with no images yet, weights 1, everywhere, the rest content only. */
NsStyles *ns_styles_new        (int n);
/* One style everywhere (takes `style`). */
NsStyles *ns_styles_new_single (NsImage *style);
/* Whether any style has a region. */
gboolean  ns_styles_have_regions (const NsStyles *styles);
void      ns_styles_free       (NsStyles *styles);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsStyles, ns_styles_free)

/* ---- jobs ----------------------------------------------------------------------------------- */

typedef struct _NsJob NsJob;

/* `progress->preview` (may be NULL) is only valid during the call. */
typedef void (*NsJobProgressFunc) (NsJob            *job,
                                   const NsProgress *progress,
                                   gpointer          user_data);
/* `result` (transfer full) is NULL on failure; `error` is then set (NS_ERROR_CANCELLED after
 * ns_job_cancel). */
typedef void (*NsJobDoneFunc)     (NsJob            *job,
                                   NsImage          *result,
                                   const GError     *error,
                                   gpointer          user_data);

/* The run's plan, before its first iteration: its sizes, tiles, optimiser and estimated
 * peak memory (ns_stylizer_plan), for the caller to say in the user's language; valid
 * only during the call. */
typedef void (*NsJobPlanFunc)     (NsJob            *job,
                                   const NsPlan     *plan,
                                   gpointer          user_data);

/* Takes ownership of `options`, `content` and `styles`.  The optimisation runs at `run_side`
 * pixels on the longest side (0 = the content's own size): a smaller run_side becomes the
 * engine's optimisation size (ns_options_set_optimize_size), so that the engine enlarges
 * the result by the options' upscale method; a larger one (a thin region) enlarges the
 * content for the run and shrinks the result back.  The result has the content's size.
 * The network is `kind` with `padding`, as ns_network_cache_get gives it. */
NsJob    *ns_job_new     (NsNetworkCache *cache,
                          NsNetworkKind   kind,
                          NsPadding       padding,
                          NsOptions      *options,
                          NsImage        *content,
                          NsStyles       *styles,
                          int             run_side);
/* A job that only plans: the run ns_job_new would make of a width × height content and
 * `styles` (taken): their images' sizes (no pixels needed), their regions' masks (of the
 * content's shape, at any size: a small one does).  The plan function gets its plan, with
 * the expected time, then `done` gets no result and no error (or the error why it cannot
 * run); ns_job_get_estimate then tells the expected times. */
NsJob    *ns_job_new_estimate (NsNetworkCache *cache,
                               NsNetworkKind   kind,
                               NsPadding       padding,
                               NsOptions      *options,
                               int             width,
                               int             height,
                               NsStyles       *styles,
                               int             run_side);
/* After an estimate job is done: the run's expected seconds, and those of the same run
 * without an optimisation size (all at full size); < 0 when unknown, when the run is at
 * full size anyway, or when that would not fit the memory budget. */
void      ns_job_get_estimate (NsJob  *job,
                               double *seconds,
                               double *full_seconds);
NsJob    *ns_job_ref     (NsJob *job);
void      ns_job_unref   (NsJob *job);

/* Asks for the plan (call before ns_job_start); it comes in the job's context.  A run that
 * does not fit the memory budget then fails before it starts, with NS_ERROR_MEMORY. */
void      ns_job_set_plan_func (NsJob        *job,
                                NsJobPlanFunc plan,
                                gpointer      user_data);

/* Starts the worker.  The callbacks run in `context` (NULL = the default one) until the job
 * is done or ns_job_detach is called. */
void      ns_job_start   (NsJob            *job,
                          GMainContext     *context,
                          NsJobProgressFunc progress,
                          NsJobDoneFunc     done,
                          gpointer          user_data);
/* Thread-safe; the engine stops at its next iteration. */
void      ns_job_cancel  (NsJob *job);
/* No more callbacks after this returns (call it from the context's thread). */
void      ns_job_detach  (NsJob *job);
/* Waits for the worker thread to end. */
void      ns_job_join    (NsJob *job);
gboolean  ns_job_is_running (NsJob *job);
/* The network the job ran with (after it loaded), as ns_network_sentence says it, or NULL. */
const char *ns_job_get_network_description (NsJob *job);

/* Runs a job to the end in a private main context on the calling thread: the callbacks are
 * called on this thread.  Returns the result or NULL with `error` set. */
NsImage  *ns_job_run_sync (NsJob            *job,
                           NsJobProgressFunc progress,
                           gpointer          user_data,
                           GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsJob, ns_job_unref)

G_END_DECLS

#endif /* NS_PLUGIN_JOB_H */
