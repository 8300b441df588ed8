/* download.c — the engine's weights download in a worker thread, for the dialog. */
#include "download.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>

struct _NsDownload
{
  /* set before the worker starts */
  char                 *url;
  char                 *sha256;
  char                 *dest;
  GMainContext         *context;
  NsDownloadUpdateFunc  progress_func;
  NsDownloadDoneFunc    done_func;
  gpointer              user_data;
  GThread              *thread;

  gint                  cancelled;        /* atomic */
  gboolean              detached;         /* the context's thread only */

  GMutex                lock;             /* guards what follows */
  guint64               done, total;
  gboolean              update_pending;
  GError               *error;
};

const char *
ns_download_url (void)
{
  const char *url = g_getenv ("NS_PLUGIN_WEIGHTS_URL");

  return url && *url ? url : NS_VGG19_URL;
}

const char *
ns_download_sha256 (void)
{
  const char *sha256 = g_getenv ("NS_PLUGIN_WEIGHTS_SHA256");

  return sha256 && *sha256 ? sha256 : NS_VGG19_SHA256;
}

/* ---- reporting to the context --------------------------------------------------------------- */

static void
download_clear (NsDownload *d)
{
  g_free (d->url);
  g_free (d->sha256);
  g_free (d->dest);
  g_main_context_unref (d->context);
  g_clear_error (&d->error);
  g_mutex_clear (&d->lock);
}

static void
download_release (gpointer d)
{
  g_atomic_rc_box_release_full (d, (GDestroyNotify) download_clear);
}

/* Runs `func` in the thread that iterates the download's context, holding a reference until
 * it has.  Not g_main_context_invoke: from the worker it calls `func` right there whenever
 * the default context happens to be free (between two iterations of the dialog's main
 * loop), that is GTK from the wrong thread, and a loop waiting for the end is never woken. */
static void
invoke (NsDownload  *d,
        GSourceFunc  func)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, g_atomic_rc_box_acquire (d), download_release);
  g_source_attach (source, d->context);
  g_source_unref (source);
}

static gboolean
deliver_update (gpointer data)
{
  NsDownload *d = data;
  guint64 done, total;

  g_mutex_lock (&d->lock);
  done = d->done;
  total = d->total;
  d->update_pending = FALSE;
  g_mutex_unlock (&d->lock);

  if (! d->detached && d->progress_func)
    d->progress_func (d, done, total, d->user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
deliver_done (gpointer data)
{
  NsDownload *d = data;
  g_autoptr (GError) words = NULL;

  if (d->detached)
    return G_SOURCE_REMOVE;

  if (d->error)
    {
      g_autofree char *explanation = ns_download_explain (d->error, d->dest);

      words = g_error_new_literal (d->error->domain, d->error->code, explanation);
    }
  d->done_func (d, words, d->error ? d->error->message : NULL, d->user_data);
  return G_SOURCE_REMOVE;
}

/* ---- the worker ----------------------------------------------------------------------------- */

/* The engine calls this about five times a second; at most one update waits at a time. */
static gboolean
engine_progress (guint64  done,
                 guint64  total,
                 gpointer data)
{
  NsDownload *d = data;
  gboolean post;

  g_mutex_lock (&d->lock);
  d->done = done;
  d->total = total;
  post = ! d->update_pending;
  d->update_pending = TRUE;
  g_mutex_unlock (&d->lock);

  if (post)
    invoke (d, deliver_update);
  return ! g_atomic_int_get (&d->cancelled);
}

static gpointer
worker (gpointer data)
{
  NsDownload *d = data;
  GError *error = NULL;

  ns_weights_download (d->url, d->sha256, d->dest, engine_progress, d, &error);

  g_mutex_lock (&d->lock);
  d->error = error;
  g_mutex_unlock (&d->lock);
  invoke (d, deliver_done);
  download_release (d);
  return NULL;
}

NsDownload *
ns_download_start (const char           *url,
                   const char           *sha256,
                   const char           *dest,
                   GMainContext         *context,
                   NsDownloadUpdateFunc  progress,
                   NsDownloadDoneFunc    done,
                   gpointer              user_data)
{
  NsDownload *d = g_atomic_rc_box_new0 (NsDownload);

  d->url           = g_strdup (url);
  d->sha256        = g_strdup (sha256);
  d->dest          = g_strdup (dest);
  d->context       = g_main_context_ref (context ? context : g_main_context_default ());
  d->progress_func = progress;
  d->done_func     = done;
  d->user_data     = user_data;
  g_mutex_init (&d->lock);
  d->thread        = g_thread_new ("neural-style-download", worker, g_atomic_rc_box_acquire (d));

  return d;
}

void
ns_download_cancel (NsDownload *d)
{
  g_atomic_int_set (&d->cancelled, 1);
}

void
ns_download_free (NsDownload *d)
{
  if (d == NULL)
    return;

  ns_download_cancel (d);
  d->detached = TRUE;
  g_thread_join (d->thread);
  download_release (d);
}

/* ---- errors in words ------------------------------------------------------------------------ */

/* The engine's errors name curl's message and the folder for a terminal user; these say
 * what happened and what to do in the dialog.  They tell the cases apart by the engine's
 * error codes and wording (tests/test-download-job.c checks them against its real errors). */
char *
ns_download_explain (const GError *error,
                     const char   *dest)
{
  g_autofree char *dir = g_path_get_dirname (dest);
  g_autofree char *folder = g_filename_display_name (dir);

  if (g_error_matches (error, NS_ERROR, NS_ERROR_CANCELLED))
    return g_strdup (_("The download was cancelled."));

  if (g_error_matches (error, NS_ERROR, NS_ERROR_IO))
    {
      if (strstr (error->message, g_strerror (ENOSPC)) || strstr (error->message, g_strerror (EDQUOT)))
        return g_strdup_printf (_("The disk is full: the download needs about 600 MB while it "
                                  "runs and keeps 80 MB.  Free some space in “%s” and try "
                                  "again."), folder);
      return g_strdup_printf (_("The weights could not be saved in “%s”: check that you may "
                                "write there."), folder);
    }

  if (strstr (error->message, "SHA-256"))
    return g_strdup (_("The downloaded file is damaged or has changed (its checksum does not "
                       "match), so it was deleted.  Try again later."));
  if (strstr (error->message, "is not VGG-19"))
    return g_strdup (_("The downloaded file is not VGG-19, so it was deleted."));
  if (strstr (error->message, "“curl”"))
    return g_strdup (_("Downloading needs the program curl: install it (for example with "
                       "“apt install curl”) and try again."));

  return g_strdup (_("The weights could not be downloaded: check the network connection and "
                     "try again."));
}
