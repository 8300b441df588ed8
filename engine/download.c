/* download.c — fetching the VGG-19 checkpoint with curl, verifying it, and keeping only the
 * convolution layers.
 *
 * curl runs in a helper thread (g_spawn_sync) while the calling thread watches the size of
 * the partial file and reports progress, so the callback always runs in the caller's thread
 * and no main loop is needed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "ns-internal.h"

#define PROGRESS_INTERVAL_US (200 * G_TIME_SPAN_MILLISECOND)
#define MAX_CURL_MESSAGE     2000

/* VGG-19 ("E"): the feature index and channel counts of each of its 16 convolutions. */
static const struct
{
  int index, cin, cout;
} vgg19_convs[16] = {
  { 0, 3, 64 },     { 2, 64, 64 },
  { 5, 64, 128 },   { 7, 128, 128 },
  { 10, 128, 256 }, { 12, 256, 256 }, { 14, 256, 256 }, { 16, 256, 256 },
  { 19, 256, 512 }, { 21, 512, 512 }, { 23, 512, 512 }, { 25, 512, 512 },
  { 28, 512, 512 }, { 30, 512, 512 }, { 32, 512, 512 }, { 34, 512, 512 },
};

typedef struct
{
  char    **argv;
  GMutex    lock;
  GCond     cond;
  gboolean  done;
  gboolean  spawned;
  char     *err_output;
  int       wait_status;
  GError   *spawn_error;
} CurlJob;

static gpointer
curl_thread (gpointer data)
{
  CurlJob *job = data;
  char *err_output = NULL;
  int status = 0;
  GError *spawn_error = NULL;
  gboolean spawned;

  spawned = g_spawn_sync (NULL, job->argv, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                          NULL, NULL, NULL, &err_output, &status, &spawn_error);
  g_mutex_lock (&job->lock);
  job->spawned = spawned;
  job->err_output = err_output;
  job->wait_status = status;
  job->spawn_error = spawn_error;
  job->done = TRUE;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
  return NULL;
}

static guint64
file_size (const char *path)
{
  GStatBuf st;
  return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

/* Runs curl to fetch url into part, reporting the growing size.  On failure the error
 * carries curl's own message. */
static gboolean
run_curl (const char *url, const char *part, NsDownloadProgressFunc progress,
          gpointer user_data, GError **error)
{
  g_autofree char *curl = g_find_program_in_path ("curl");
  char *argv[] = { NULL, "-fsSL", "--retry", "3", "--proto", "=https,http,file",
                   "-o", (char *) part, "--", (char *) url, NULL };
  CurlJob job = { 0 };
  GThread *thread;
  g_autoptr (GError) wait_error = NULL;
  gboolean ok;

  if (curl == NULL)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_DOWNLOAD,
                   "Cannot download the weights: the “curl” program was not found. Install "
                   "curl (for example “apt install curl”), or download %s yourself and pass "
                   "it with --weights FILE.", url);
      return FALSE;
    }
  argv[0] = curl;
  job.argv = argv;
  g_mutex_init (&job.lock);
  g_cond_init (&job.cond);

  thread = g_thread_new ("ns-curl", curl_thread, &job);
  g_mutex_lock (&job.lock);
  while (!job.done)
    {
      gint64 until = g_get_monotonic_time () + PROGRESS_INTERVAL_US;

      if (!g_cond_wait_until (&job.cond, &job.lock, until) && progress != NULL)
        {
          g_mutex_unlock (&job.lock);
          progress (file_size (part), 0, user_data);
          g_mutex_lock (&job.lock);
        }
    }
  g_mutex_unlock (&job.lock);
  g_thread_join (thread);
  g_mutex_clear (&job.lock);
  g_cond_clear (&job.cond);

  if (!job.spawned)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_DOWNLOAD, "Could not run curl to download %s: %s",
                   url, job.spawn_error->message);
      g_error_free (job.spawn_error);
      g_free (job.err_output);
      return FALSE;
    }

  ok = g_spawn_check_wait_status (job.wait_status, &wait_error);
  if (!ok)
    {
      g_autofree char *msg = g_strstrip (g_strdup (job.err_output ? job.err_output : ""));

      if (strlen (msg) > MAX_CURL_MESSAGE)
        msg[MAX_CURL_MESSAGE] = '\0';
      g_set_error (error, NS_ERROR, NS_ERROR_DOWNLOAD,
                   "Downloading %s failed: %s. Check the address and your network connection "
                   "and try again, or download the file yourself and pass it with --weights FILE.",
                   url, *msg ? msg : wait_error->message);
    }
  g_free (job.err_output);
  return ok;
}

/* The SHA-256 of a file, read in chunks so that 575 MB need not be in memory at once. */
static char *
sha256_file (const char *path, GError **error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buf = g_malloc (1 << 20);
  FILE *f = g_fopen (path, "rb");
  gsize n;
  gboolean failed;

  if (f == NULL)
    {
      int saved_errno = errno;
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not read “%s”: %s",
                   display, g_strerror (saved_errno));
      return NULL;
    }
  while ((n = fread (buf, 1, 1 << 20, f)) > 0)
    g_checksum_update (sum, buf, n);
  failed = ferror (f);
  fclose (f);
  if (failed)
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not read “%s”.", display);
      return NULL;
    }
  return g_strdup (g_checksum_get_string (sum));
}

static gboolean
is_sha256_hex (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

/* Checks that the checkpoint holds all 16 VGG-19 convolutions with the right shapes and a
 * float dtype, so that a wrong file never reaches `dest`. */
static gboolean
check_vgg19 (const char *path, const char *url, GError **error)
{
  g_autoptr (NsSafetensors) st = ns_safetensors_open (path, error);

  if (st == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (vgg19_convs); i++)
    {
      const gint64 wshape[4] = { vgg19_convs[i].cout, vgg19_convs[i].cin, 3, 3 };
      const gint64 bshape[1] = { vgg19_convs[i].cout };
      const char *suffix[2] = { "weight", "bias" };
      const gint64 *shapes[2] = { wshape, bshape };
      const int n_dims[2] = { 4, 1 };

      for (int k = 0; k < 2; k++)
        {
          g_autofree char *name = g_strdup_printf ("features.%d.%s", vgg19_convs[i].index,
                                                   suffix[k]);
          const NsSafetensorsTensor *t = ns_safetensors_find (st, name);
          gboolean good = t != NULL && t->n_dims == n_dims[k] && t->dtype != NS_DTYPE_OTHER;

          for (int d = 0; good && d < n_dims[k]; d++)
            good = t->shape[d] == shapes[k][d];
          if (!good)
            {
              g_set_error (error, NS_ERROR, NS_ERROR_DOWNLOAD,
                           "The file downloaded from %s is not VGG-19: tensor “%s” is %s. "
                           "Use the default address of “neural-style --download-weights”.",
                           url, name, t == NULL ? "missing"
                           : t->dtype == NS_DTYPE_OTHER ? "not floating point" : "of the wrong shape");
              return FALSE;
            }
        }
    }
  return TRUE;
}

static gboolean
make_parent_dir (const char *dest, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (dest);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;
      g_autofree char *display = g_filename_display_name (dir);
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not create the folder “%s”: %s",
                   display, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
ns_weights_download (const char             *url,
                     const char             *sha256_hex,
                     const char             *dest,
                     NsDownloadProgressFunc  progress,
                     gpointer                user_data,
                     GError                **error)
{
  g_autofree char *part = NULL;
  g_autofree char *got = NULL;
  gboolean ok;

  g_return_val_if_fail (url != NULL && dest != NULL, FALSE);

  if (!is_sha256_hex (sha256_hex))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a SHA-256 checksum (64 hexadecimal digits).",
                   sha256_hex ? sha256_hex : "(null)");
      return FALSE;
    }
  if (!make_parent_dir (dest, error))
    return FALSE;

  part = g_strconcat (dest, ".part", NULL);
  if (!run_curl (url, part, progress, user_data, error))
    {
      g_unlink (part);
      return FALSE;
    }
  if (progress != NULL)
    {
      guint64 size = file_size (part);
      progress (size, size, user_data);
    }

  got = sha256_file (part, error);
  if (got == NULL)
    {
      g_unlink (part);
      return FALSE;
    }
  if (g_ascii_strcasecmp (got, sha256_hex) != 0)
    {
      g_unlink (part);
      g_set_error (error, NS_ERROR, NS_ERROR_DOWNLOAD,
                   "The file downloaded from %s is damaged or has changed: its SHA-256 is %s, "
                   "expected %s. It was deleted; try again later.",
                   url, got, sha256_hex);
      return FALSE;
    }

  ok = check_vgg19 (part, url, error) && ns_weights_trim (part, dest, error);
  g_unlink (part);
  return ok;
}
