/* download.h — getting the VGG-19 weights from the dialog: the engine's ns_weights_download
 * in a worker thread, its progress and end reported in a GMainContext, its errors said in
 * words for a GIMP user.  GLib only (no GIMP), so that the tests can run it. */
#ifndef NS_PLUGIN_DOWNLOAD_H
#define NS_PLUGIN_DOWNLOAD_H

#include <glib.h>

#include "neural-style.h"

G_BEGIN_DECLS

/* The download's size before trimming, for progress while the server does not say it. */
#define NS_VGG19_DOWNLOAD_BYTES G_GUINT64_CONSTANT (574700000)

typedef struct _NsDownload NsDownload;

/* `total` is 0 while unknown; done == total > 0 once the file is in and being checked. */
typedef void (*NsDownloadUpdateFunc) (NsDownload *download,
                                      guint64     done,
                                      guint64     total,
                                      gpointer    user_data);
/* `error` is NULL on success (the weights are at `dest`); its message is in words for the
 * user (ns_download_explain), the engine's own in `detail`. */
typedef void (*NsDownloadDoneFunc)   (NsDownload   *download,
                                      const GError *error,
                                      const char   *detail,
                                      gpointer      user_data);

/* Where the weights come from: NS_VGG19_URL and NS_VGG19_SHA256, unless the tests set
 * $NS_PLUGIN_WEIGHTS_URL and $NS_PLUGIN_WEIGHTS_SHA256. */
const char *ns_download_url    (void);
const char *ns_download_sha256 (void);

/* Starts downloading `url` (checked against `sha256`) to `dest` in a worker thread; the
 * callbacks run in `context` (NULL = the default one) until the download ends or is freed. */
NsDownload *ns_download_start  (const char            *url,
                                const char            *sha256,
                                const char            *dest,
                                GMainContext          *context,
                                NsDownloadUpdateFunc   progress,
                                NsDownloadDoneFunc     done,
                                gpointer               user_data);
/* Thread-safe: curl is stopped; `done` then reports NS_ERROR_CANCELLED. */
void        ns_download_cancel (NsDownload *download);
/* Cancels, waits for the worker, and makes sure no callback runs any more (call it from the
 * context's thread). */
void        ns_download_free   (NsDownload *download);

/* One or two sentences for a GIMP user on why `error` (from ns_weights_download, into the
 * folder of `dest`) happened and what to do: no network, a full disk, a damaged download. */
char       *ns_download_explain (const GError *error,
                                 const char   *dest);

G_END_DECLS

#endif /* NS_PLUGIN_DOWNLOAD_H */
