/* job.c — the engine in a worker thread, reporting back through idle callbacks. */
#include "job.h"

#include <math.h>
#include <glib/gi18n.h>

/* ---- network cache ------------------------------------------------------------------------- */

struct _NsNetworkCache
{
  GMutex     lock;
  NsNetwork *networks[NS_NETWORK_EMBEDDED + 1];   /* indexed by NsNetworkKind */
};

NsNetworkCache *
ns_network_cache_new (void)
{
  NsNetworkCache *cache = g_new0 (NsNetworkCache, 1);

  g_mutex_init (&cache->lock);
  return cache;
}

void
ns_network_cache_free (NsNetworkCache *cache)
{
  if (cache == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cache->networks); i++)
    g_clear_pointer (&cache->networks[i], ns_network_unref);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

static void
cache_store (NsNetworkCache *cache,
             NsNetworkKind   kind,
             NsNetwork      *network)
{
  NsNetworkKind real = ns_network_get_kind (network);

  g_clear_pointer (&cache->networks[kind], ns_network_unref);
  cache->networks[kind] = ns_network_ref (network);
  /* "auto" resolved to a concrete network: asking for that one later is a hit too. */
  if (real != kind && real <= NS_NETWORK_EMBEDDED)
    {
      g_clear_pointer (&cache->networks[real], ns_network_unref);
      cache->networks[real] = ns_network_ref (network);
    }
}

/* `padding` on the convolutions the network's kind pads by default (every one when that
 * default is zeros), so that the default choice is exactly the engine's default. */
static void
set_padding (NsNetwork *network,
             NsPadding  padding)
{
  NsPadding default_padding;
  int n_convs;

  ns_network_default_padding (ns_network_get_kind (network), &default_padding, &n_convs);
  ns_network_set_padding (network, padding,
                          default_padding == NS_PADDING_ZERO ? -1 : n_convs);
}

static gboolean
has_padding (const NsNetwork *network,
             NsPadding        padding)
{
  NsPadding current;
  int n_convs;

  ns_network_get_padding (network, &current, &n_convs);
  return current == padding;
}

NsNetwork *
ns_network_cache_get (NsNetworkCache *cache,
                      NsNetworkKind   kind,
                      NsPadding       padding,
                      const gint     *cancel,
                      GError        **error)
{
  NsNetwork *network;

  g_return_val_if_fail (kind <= NS_NETWORK_EMBEDDED, NULL);

  /* Loading holds the lock so that two runs never load the same network twice. */
  g_mutex_lock (&cache->lock);
  network = cache->networks[kind];
  if (network && has_padding (network, padding))
    ns_network_ref (network);
  else
    {
      /* Another padding: a network of its own (the padding may only change before a
       * network is shared), which replaces the cached one; runs still using that keep it. */
      network = ns_network_load_cancellable (kind, NULL, cancel, error);
      if (network)
        {
          set_padding (network, padding);
          cache_store (cache, kind, network);
        }
    }
  g_mutex_unlock (&cache->lock);

  return network;
}

void
ns_network_cache_add (NsNetworkCache *cache,
                      NsNetworkKind   kind,
                      NsNetwork      *network)
{
  g_mutex_lock (&cache->lock);
  cache_store (cache, kind, network);
  g_mutex_unlock (&cache->lock);
}

char *
ns_network_sentence (const NsNetwork *network)
{
  g_autofree char *weights = NULL;

  if (ns_network_get_kind (network) == NS_NETWORK_VGG19)
    return g_strdup (_("Network: VGG-19 (trained on ImageNet; Simonyan & Zisserman 2014)."));
  weights = ns_weights_find (NULL, NULL);
  if (weights)
    return g_strdup (_("Network: the built-in one, which needs no download."));
  return g_strdup (_("Network: the built-in one, which needs no download.  VGG-19 gives "
                     "better results: “Get VGG-19…” below downloads it once."));
}

/* ---- the styles of a run -------------------------------------------------------------------- */

NsStyles *
ns_styles_new (int n)
{
  NsStyles *styles = g_new0 (NsStyles, 1);

  g_return_val_if_fail (n >= 1, NULL);

  styles->n       = n;
  styles->images  = g_new0 (NsImage *, n);
  styles->blend   = g_new (double, n);
  styles->masks   = g_new0 (NsImage *, n);
  styles->carries = g_new0 (NsRegionCarry, n);
  styles->rest    = NS_REGION_REST_CONTENT;
  for (int i = 0; i < n; i++)
    styles->blend[i] = 1.0;
  return styles;
}

NsStyles *
ns_styles_new_single (NsImage *style)
{
  NsStyles *styles = ns_styles_new (1);

  styles->images[0] = style;
  return styles;
}

gboolean
ns_styles_have_regions (const NsStyles *styles)
{
  for (int i = 0; i < styles->n; i++)
    if (styles->masks[i])
      return TRUE;
  return FALSE;
}

void
ns_styles_free (NsStyles *styles)
{
  if (styles == NULL)
    return;
  for (int i = 0; i < styles->n; i++)
    {
      ns_image_free (styles->images[i]);
      ns_image_free (styles->masks[i]);
    }
  g_free (styles->images);
  g_free (styles->blend);
  g_free (styles->masks);
  g_free (styles->carries);
  g_free (styles);
}

/* ---- jobs ----------------------------------------------------------------------------------- */

struct _NsJob
{
  gint              ref_count;       /* atomic */

  /* inputs, owned; read by the worker only once it started */
  NsNetworkCache   *cache;
  NsNetworkKind     kind;
  NsPadding         padding;
  NsOptions        *options;
  NsImage          *content;
  NsStyles         *styles;          /* for an estimate: images without pixels */
  int               run_side;
  /* an estimate (ns_job_new_estimate): sizes instead of pixels, and what it found */
  gboolean          estimate;
  int               width, height;
  double            seconds;
  double            full_seconds;

  /* the context's thread only */
  GMainContext     *context;
  NsJobProgressFunc progress_func;
  NsJobDoneFunc     done_func;
  gpointer          user_data;
  NsJobPlanFunc     plan_func;       /* set before the worker starts */
  gpointer          plan_data;
  gboolean          detached;
  gboolean          running;
  GThread          *thread;

  gint              cancelled;       /* atomic */

  GMutex            lock;            /* guards what follows */
  NsStylizer       *stylizer;
  gboolean          progress_pending;
  NsProgress        last;
  NsImage          *last_preview;
  char             *network_description;
  NsPlan           *plan;
  NsImage          *result;
  GError           *error;
};

NsJob *
ns_job_new (NsNetworkCache *cache,
            NsNetworkKind   kind,
            NsPadding       padding,
            NsOptions      *options,
            NsImage        *content,
            NsStyles       *styles,
            int             run_side)
{
  NsJob *job = g_new0 (NsJob, 1);

  job->ref_count = 1;
  job->cache     = cache;
  job->kind      = kind;
  job->padding   = padding;
  job->options   = options;
  job->content   = content;
  job->styles    = styles;
  job->run_side  = run_side;
  g_mutex_init (&job->lock);

  return job;
}

NsJob *
ns_job_new_estimate (NsNetworkCache *cache,
                     NsNetworkKind   kind,
                     NsPadding       padding,
                     NsOptions      *options,
                     int             width,
                     int             height,
                     NsStyles       *styles,
                     int             run_side)
{
  NsJob *job = ns_job_new (cache, kind, padding, options, NULL, styles, run_side);

  job->estimate     = TRUE;
  job->width        = width;
  job->height       = height;
  job->seconds      = -1.0;
  job->full_seconds = -1.0;
  return job;
}

NsJob *
ns_job_ref (NsJob *job)
{
  g_atomic_int_inc (&job->ref_count);
  return job;
}

void
ns_job_unref (NsJob *job)
{
  if (job == NULL || ! g_atomic_int_dec_and_test (&job->ref_count))
    return;

  /* The worker holds a reference while it runs, so it has ended (or this is its last
   * act); dropping our handle detaches it. */
  if (job->thread)
    g_thread_unref (job->thread);
  if (job->context)
    g_main_context_unref (job->context);
  ns_options_free (job->options);
  ns_image_free (job->content);
  ns_styles_free (job->styles);
  ns_image_free (job->last_preview);
  ns_image_free (job->result);
  g_clear_error (&job->error);
  g_free (job->network_description);
  ns_plan_free (job->plan);
  g_mutex_clear (&job->lock);
  g_free (job);
}

static void
post (NsJob       *job,
      GSourceFunc  func)
{
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, func, ns_job_ref (job), (GDestroyNotify) ns_job_unref);
  g_source_attach (source, job->context);
  g_source_unref (source);
}

static gboolean
deliver_progress (gpointer data)
{
  NsJob *job = data;
  g_autoptr (NsImage) preview = NULL;
  NsProgress progress;

  g_mutex_lock (&job->lock);
  progress = job->last;
  preview = g_steal_pointer (&job->last_preview);
  job->progress_pending = FALSE;
  g_mutex_unlock (&job->lock);

  progress.preview = preview;
  if (! job->detached && job->running && job->progress_func)
    job->progress_func (job, &progress, job->user_data);

  return G_SOURCE_REMOVE;
}

static gboolean
deliver_plan (gpointer data)
{
  NsJob *job = data;
  g_autoptr (NsPlan) plan = NULL;

  g_mutex_lock (&job->lock);
  plan = g_steal_pointer (&job->plan);
  g_mutex_unlock (&job->lock);

  if (! job->detached && job->running)
    job->plan_func (job, plan, job->plan_data);

  return G_SOURCE_REMOVE;
}

static gboolean
deliver_done (gpointer data)
{
  NsJob *job = data;
  NsImage *result;
  GError *error;

  g_mutex_lock (&job->lock);
  result = g_steal_pointer (&job->result);
  error = g_steal_pointer (&job->error);
  g_mutex_unlock (&job->lock);

  job->running = FALSE;
  if (! job->detached && job->done_func)
    job->done_func (job, result, error, job->user_data);
  else
    ns_image_free (result);
  g_clear_error (&error);

  return G_SOURCE_REMOVE;
}

/* Engine thread.  Keeps only the newest state and posts at most one idle at a time, so a
 * fast run cannot flood the main loop. */
static void
engine_progress (const NsProgress *progress,
                 gpointer          data)
{
  NsJob *job = data;

  g_mutex_lock (&job->lock);
  job->last = *progress;
  job->last.preview = NULL;
  if (progress->preview)
    {
      ns_image_free (job->last_preview);
      job->last_preview = ns_image_copy (progress->preview);
    }
  if (! job->progress_pending)
    {
      job->progress_pending = TRUE;
      post (job, deliver_progress);
    }

  g_mutex_unlock (&job->lock);
}

/* Worker thread.  The idle goes out before any progress, so the plan is shown first. */
static gboolean
report_plan (NsJob                 *job,
             NsStylizer            *stylizer,
             const NsImage         *content,
             const NsImage * const *styles,
             int                    n_styles,
             GError               **error)
{
  /* Untimed: measuring the machine would delay the run by a second. */
  NsPlan *plan = ns_stylizer_plan (stylizer, content, styles, n_styles, FALSE, error);

  if (plan == NULL)
    return FALSE;

  g_mutex_lock (&job->lock);
  job->plan = plan;
  g_mutex_unlock (&job->lock);
  post (job, deliver_plan);

  return TRUE;
}

void
ns_engine_size (NsOptions *options,
                int        run_side,
                int        width,
                int        height,
                int       *w,
                int       *h)
{
  int longest = MAX (width, height);

  *w = width;
  *h = height;
  ns_options_set_optimize_size (options, run_side > 0 && run_side < longest ? run_side : 0);
  if (run_side > longest)
    {
      /* As ns_image_resize_longest. */
      double scale = (double) run_side / longest;

      *w = width >= height ? run_side : (int) MAX (1.0, floor (width * scale + 0.5));
      *h = width >= height ? (int) MAX (1.0, floor (height * scale + 0.5)) : run_side;
    }
}

static NsStylizer *
attach_stylizer (NsJob      *job,
                 NsNetwork  *network,
                 NsOptions  *options)
{
  NsStylizer *stylizer = ns_stylizer_new (network, options);

  ns_stylizer_set_progress (stylizer, engine_progress, job);
  g_mutex_lock (&job->lock);
  job->stylizer = stylizer;
  g_mutex_unlock (&job->lock);
  return stylizer;
}

static void
detach_stylizer (NsJob      *job,
                 NsStylizer *stylizer)
{
  g_mutex_lock (&job->lock);
  job->stylizer = NULL;
  g_mutex_unlock (&job->lock);
  ns_stylizer_free (stylizer);
}

/* The styles' regions, if any, on the stylizer: their masks are over the content as given
 * (of its shape), and the engine resizes them to the size it runs at; each carried down the
 * network as the styles say. */
static gboolean
set_regions (NsStylizer     *stylizer,
             const NsStyles *styles,
             GError        **error)
{
  if (! ns_styles_have_regions (styles))
    return TRUE;
  if (! ns_stylizer_set_regions (stylizer, (const NsImage * const *) styles->masks, NULL,
                                 styles->n, styles->rest, error))
    return FALSE;
  for (int i = 0; i < styles->n; i++)
    if (styles->masks[i] && styles->carries[i] != NS_REGION_CARRY_FEATHERED &&
        ! ns_stylizer_set_region_carry (stylizer, i, styles->carries[i], error))
      return FALSE;
  return TRUE;
}

static NsImage *
stylize (NsJob      *job,
         NsNetwork  *network,
         GError    **error)
{
  const NsImage * const *styles = (const NsImage * const *) job->styles->images;
  g_autoptr (NsImage) scaled = NULL;
  const NsImage *content = job->content;
  NsStylizer *stylizer;
  NsImage *result;
  int w, h;

  ns_options_apply_network_defaults (job->options, network);

  ns_engine_size (job->options, job->run_side, content->width, content->height, &w, &h);
  if (w != content->width || h != content->height)
    content = scaled = ns_image_resize (content, w, h);

  stylizer = attach_stylizer (job, network, job->options);

  if (g_atomic_int_get (&job->cancelled))
    {
      g_set_error_literal (error, NS_ERROR, NS_ERROR_CANCELLED, "The run was cancelled");
      result = NULL;
    }
  else if (! set_regions (stylizer, job->styles, error))
    result = NULL;
  else if (job->plan_func && ! report_plan (job, stylizer, content, styles, job->styles->n,
                                            error))
    result = NULL;
  else
    result = ns_stylizer_run (stylizer, content, styles, job->styles->blend, job->styles->n,
                              error);

  detach_stylizer (job, stylizer);

  /* Only a thin region that was enlarged for the run comes back at another size. */
  if (result && (result->width != job->content->width || result->height != job->content->height))
    {
      NsImage *full = ns_image_resize (result, job->content->width, job->content->height);

      ns_image_free (result);
      result = full;
    }

  return result;
}

/* The plan of the run that ns_job_new would make of these sizes, and the expected time of
 * the same run at full size (no optimisation size), which may not fit the budget. */
static gboolean
estimate (NsJob      *job,
          NsNetwork  *network,
          GError    **error)
{
  const NsImage * const *styles = (const NsImage * const *) job->styles->images;
  int n_styles = job->styles->n;
  NsImage content = { 0, 0, 3, NULL };
  g_autoptr (NsOptions) full = NULL;
  NsStylizer *stylizer;
  NsPlan *plan = NULL;
  double full_seconds = -1.0;

  ns_options_apply_network_defaults (job->options, network);
  ns_engine_size (job->options, job->run_side, job->width, job->height,
                  &content.width, &content.height);

  stylizer = attach_stylizer (job, network, job->options);
  if (set_regions (stylizer, job->styles, error))
    plan = ns_stylizer_plan (stylizer, &content, styles, n_styles, TRUE, error);
  detach_stylizer (job, stylizer);
  if (plan == NULL)
    return FALSE;

  if (ns_options_get_optimize_size (job->options) > 0)
    {
      full = ns_options_copy (job->options);
      ns_options_set_optimize_size (full, 0);
      stylizer = attach_stylizer (job, network, full);
      if (set_regions (stylizer, job->styles, NULL))
        full_seconds = ns_stylizer_estimate_seconds (stylizer, &content, styles, n_styles,
                                                     NULL, NULL);
      detach_stylizer (job, stylizer);
    }

  g_mutex_lock (&job->lock);
  job->plan = plan;
  job->seconds = ns_plan_get_seconds (plan);
  job->full_seconds = full_seconds;
  g_mutex_unlock (&job->lock);
  if (job->plan_func)
    post (job, deliver_plan);

  return TRUE;
}

static gpointer
job_thread (gpointer data)
{
  NsJob *job = data;
  g_autoptr (NsNetwork) network = NULL;
  GError *error = NULL;
  NsImage *result = NULL;

  network = ns_network_cache_get (job->cache, job->kind, job->padding, &job->cancelled,
                                  &error);
  if (network)
    {
      g_mutex_lock (&job->lock);
      job->network_description = ns_network_sentence (network);
      g_mutex_unlock (&job->lock);

      if (job->estimate)
        estimate (job, network, &error);
      else
        result = stylize (job, network, &error);
    }

  g_mutex_lock (&job->lock);
  job->result = result;
  job->error = error;
  g_mutex_unlock (&job->lock);

  post (job, deliver_done);
  ns_job_unref (job);

  return NULL;
}

void
ns_job_set_plan_func (NsJob        *job,
                      NsJobPlanFunc plan_func,
                      gpointer      user_data)
{
  g_return_if_fail (job->thread == NULL);

  job->plan_func = plan_func;
  job->plan_data = user_data;
}

void
ns_job_start (NsJob            *job,
              GMainContext     *context,
              NsJobProgressFunc progress,
              NsJobDoneFunc     done,
              gpointer          user_data)
{
  g_return_if_fail (job->thread == NULL);

  job->context       = g_main_context_ref (context ? context : g_main_context_default ());
  job->progress_func = progress;
  job->done_func     = done;
  job->user_data     = user_data;
  job->running       = TRUE;
  job->thread        = g_thread_new ("neural-style", job_thread, ns_job_ref (job));
}

void
ns_job_cancel (NsJob *job)
{
  g_atomic_int_set (&job->cancelled, 1);

  g_mutex_lock (&job->lock);
  if (job->stylizer)
    ns_stylizer_cancel (job->stylizer);
  g_mutex_unlock (&job->lock);
}

void
ns_job_detach (NsJob *job)
{
  job->detached = TRUE;
}

void
ns_job_join (NsJob *job)
{
  if (job->thread)
    {
      g_thread_join (job->thread);
      job->thread = NULL;
    }
}

gboolean
ns_job_is_running (NsJob *job)
{
  return job->running;
}

void
ns_job_get_estimate (NsJob  *job,
                     double *seconds,
                     double *full_seconds)
{
  g_mutex_lock (&job->lock);
  *seconds = job->seconds;
  *full_seconds = job->full_seconds;
  g_mutex_unlock (&job->lock);
}

const char *
ns_job_get_network_description (NsJob *job)
{
  const char *description;

  g_mutex_lock (&job->lock);
  description = job->network_description;
  g_mutex_unlock (&job->lock);

  return description;
}

typedef struct
{
  gboolean          done;
  NsImage          *result;
  GError           *error;
  NsJobProgressFunc progress;
  gpointer          user_data;
} SyncRun;

static void
sync_progress (NsJob            *job,
               const NsProgress *progress,
               gpointer          data)
{
  SyncRun *run = data;

  if (run->progress)
    run->progress (job, progress, run->user_data);
}

static void
sync_done (NsJob        *job,
           NsImage      *result,
           const GError *error,
           gpointer      data)
{
  SyncRun *run = data;

  run->done = TRUE;
  run->result = result;
  if (error)
    run->error = g_error_copy (error);
}

NsImage *
ns_job_run_sync (NsJob            *job,
                 NsJobProgressFunc progress,
                 gpointer          user_data,
                 GError          **error)
{
  GMainContext *context = g_main_context_new ();
  SyncRun run = { FALSE, NULL, NULL, progress, user_data };

  g_main_context_push_thread_default (context);
  ns_job_start (job, context, sync_progress, sync_done, &run);
  while (! run.done)
    g_main_context_iteration (context, TRUE);
  ns_job_join (job);
  /* A progress idle may still hold the job; let it go before the context does. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  if (run.error)
    g_propagate_error (error, run.error);
  return run.result;
}
